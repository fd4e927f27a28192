import { CloudTrailClient, CloudTrailServiceException, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { ListDelegatedAdministratorsCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { beforeEach, describe, expect, it } from 'vitest';
import { logsManagementEvents, organizationTrailChecks } from '../../../lib/cli/doctor/organization-trail-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { mockStrict } from '../../support/strict-mock.js';
import { awsError, MANAGEMENT, PLATFORM, REGION, testConfig, testContext } from './support.js';

const trail = mockStrict(CloudTrailClient, 'cloudtrail', CloudTrailServiceException);
const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
beforeEach(() => {
  trail.reset();
  orgs.reset();
});

const arn = (account: string, name: string) => `arn:aws:cloudtrail:${REGION}:${account}:trail/${name}`;
const controlTower = { Name: 'aws-controltower-BaselineCloudTrail', TrailARN: arn(MANAGEMENT, 'aws-controltower-BaselineCloudTrail'), HomeRegion: REGION, IsOrganizationTrail: true, IsMultiRegionTrail: true, HasCustomEventSelectors: false };
const platformTrail = { Name: 'TesseraPlatform-AuditTrail', TrailARN: arn(PLATFORM, 'TesseraPlatform-AuditTrail'), HomeRegion: REGION, IsOrganizationTrail: false, IsMultiRegionTrail: true, HasCustomEventSelectors: false };
const line = async (config = testConfig(), id = 'organization-trail') => (await organizationTrailChecks(testContext(config))).find((l) => l.id === id)!;

describe('organization-trail', () => {
  it('is one of the doctor groups, after the landing zone\'s lines (Control Tower, LZA) and the quarantine SCP\'s', () => {
    const names = CHECK_GROUPS.map((g) => g.name);
    expect(names.indexOf('organization-trail')).toBe(names.indexOf('quarantine-scp-arn') + 1);
  });

  it('passes on Control Tower\'s organization trail (multi-region, logging, default selectors), asked by its ARN', async () => {
    trail.on(DescribeTrailsCommand).resolves({ trailList: [platformTrail, controlTower] }).on(GetTrailStatusCommand).resolves({ IsLogging: true });
    const l = await line();
    expect(l).toMatchObject({ status: 'pass', detail: `aws-controltower-BaselineCloudTrail (${controlTower.TrailARN}): organization trail, every Region, logging management events`, account: MANAGEMENT });
    expect(trail.commandCalls(DescribeTrailsCommand)[0].args[0].input).toEqual({ includeShadowTrails: true });
    // the platform's account trail is not an organization trail: never asked about
    expect(trail.commandCalls(GetTrailStatusCommand).map((c) => c.args[0].input.Name)).toEqual([controlTower.TrailARN]);
  });

  it('warns when only the platform account\'s trail exists and a tier uses account isolation, naming the config key and the registration', async () => {
    trail.on(DescribeTrailsCommand).resolves({ trailList: [platformTrail] });
    const l = await line();
    expect(l.status).toBe('warn');
    expect(l.detail).toBe('no organization trail logs management events in every Region (none found), and tier enterprise uses account isolation: what is done in those tenants\' accounts, break-glass sessions included, stays in each account\'s 90-day CloudTrail event history and reaches no audit bucket');
    expect(l.fix).toBe(`set audit.organizationTrail: true, register the platform account as CloudTrail's delegated administrator (aws cloudtrail register-organization-delegated-admin --member-account-id ${PLATFORM}, management account) and redeploy TesseraPlatform; or turn on Control Tower's or LZA's organization trail`);
  });

  it('does not count an organization trail that stopped logging, is single-Region or leaves out management events, and names why', async () => {
    const stopped = { ...controlTower };
    const single = { ...controlTower, Name: 'org-us-east-1', TrailARN: arn(MANAGEMENT, 'org-us-east-1'), IsMultiRegionTrail: false };
    const dataOnly = { ...controlTower, Name: 'org-data', TrailARN: arn(MANAGEMENT, 'org-data'), HasCustomEventSelectors: true };
    trail.on(DescribeTrailsCommand).resolves({ trailList: [stopped, single, dataOnly] })
      .on(GetTrailStatusCommand, { Name: stopped.TrailARN }).resolves({ IsLogging: false })
      .on(GetTrailStatusCommand, { Name: dataOnly.TrailARN }).resolves({ IsLogging: true })
      .on(GetEventSelectorsCommand, { TrailName: dataOnly.TrailARN }).resolves({ EventSelectors: [{ IncludeManagementEvents: false, DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }] }] });
    const l = await line();
    expect(l.status).toBe('warn');
    expect(l.detail).toContain('(organization trails: aws-controltower-BaselineCloudTrail: not logging; org-us-east-1: its home Region us-east-1 only; org-data: its event selectors leave out management events, their reads or writes, or some of their sources)');
    expect(l.fix).toBe(`aws cloudtrail start-logging --name ${stopped.TrailARN} (from the account that manages it: the management account ${MANAGEMENT} or CloudTrail's delegated administrator)`);
  });

  it('with audit.organizationTrail but no trail yet: the fix is to deploy TesseraPlatform, after the delegated administrator', async () => {
    trail.on(DescribeTrailsCommand).resolves({ trailList: [] });
    orgs.on(ListDelegatedAdministratorsCommand).resolves({ DelegatedAdministrators: [] });
    expect((await line(testConfig({ audit: { organizationTrail: true } }))).fix)
      .toBe('npx cdk deploy TesseraPlatform (audit.organizationTrail makes its trail tessera-organization-audit an organization trail; see the cloudtrail-delegated-admin line first)');
  });

  it('passes without an organization trail when no tier uses account isolation', async () => {
    trail.on(DescribeTrailsCommand).resolves({ trailList: [platformTrail] });
    expect(await line(testConfig({ tiers: { enterprise: null } }))).toMatchObject({ status: 'pass', detail: 'not needed (no tier uses account isolation); no organization trail' });
  });

  it('warns (doctor could not tell) when DescribeTrails is refused, naming the grant', async () => {
    trail.on(DescribeTrailsCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: cloudtrail:DescribeTrails'));
    const l = await line();
    expect(l.status).toBe('warn');
    expect(l.detail).toMatch(/^not checked: cloudtrail:DescribeTrails failed: AccessDeniedException/);
    expect(l.fix).toBe('grant cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus and cloudtrail:GetEventSelectors to your credentials (ReadOnlyAccess has them)');
  });

  it('reads advanced selectors: management events only when eventCategory = Management is their only field', () => {
    const management = { FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] };
    expect(logsManagementEvents({ AdvancedEventSelectors: [management] })).toBe(true);
    expect(logsManagementEvents({ AdvancedEventSelectors: [{ FieldSelectors: [...management.FieldSelectors, { Field: 'readOnly', Equals: ['true'] }] }] })).toBe(false);
    expect(logsManagementEvents({ EventSelectors: [{ ReadWriteType: 'WriteOnly' }] })).toBe(false);
    expect(logsManagementEvents({ EventSelectors: [{}] })).toBe(true);
  });

  it('reads a trail\'s selectors together: reads in one and writes in another log every management event; a source left out does not', () => {
    const management = { Field: 'eventCategory', Equals: ['Management'] };
    const readOnly = (value: string) => ({ FieldSelectors: [management, { Field: 'readOnly', Equals: [value] }] });
    // CloudTrail logs what any selector selects: ReadOnly beside WriteOnly is every management event (before: a warning).
    expect(logsManagementEvents({ EventSelectors: [{ ReadWriteType: 'ReadOnly' }, { ReadWriteType: 'WriteOnly' }] })).toBe(true);
    expect(logsManagementEvents({ AdvancedEventSelectors: [readOnly('true'), readOnly('false')] })).toBe(true);
    expect(logsManagementEvents({ EventSelectors: [{ ReadWriteType: 'ReadOnly' }], AdvancedEventSelectors: [readOnly('false')] })).toBe(true);
    expect(logsManagementEvents({ AdvancedEventSelectors: [readOnly('true'), readOnly('true')] })).toBe(false);
    // AWS KMS events left out of a basic selector narrow it as an eventSource field narrows an advanced one (before: passed).
    expect(logsManagementEvents({ EventSelectors: [{ ExcludeManagementEventSources: ['kms.amazonaws.com'] }] })).toBe(false);
    expect(logsManagementEvents({ AdvancedEventSelectors: [{ FieldSelectors: [management, { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }] }] })).toBe(false);
  });
});

describe('cloudtrail-delegated-admin', () => {
  const delegated = testConfig({ audit: { organizationTrail: true } });
  const noTrailCalls = () => trail.on(DescribeTrailsCommand).resolves({ trailList: [] });

  it('fails when audit.organizationTrail comes from a member platform account that is not CloudTrail\'s delegated administrator', async () => {
    noTrailCalls();
    orgs.on(ListDelegatedAdministratorsCommand).resolves({ DelegatedAdministrators: [{ Id: '777777777777' }] });
    const l = await line(delegated, 'cloudtrail-delegated-admin');
    expect(l).toMatchObject({ status: 'fail', fix: `aws cloudtrail register-organization-delegated-admin --member-account-id ${PLATFORM} (with credentials of the management account ${MANAGEMENT}; CloudTrail allows 3 delegated administrators)` });
    expect(l.detail).toContain('(registered: 777777777777)');
    expect(orgs.commandCalls(ListDelegatedAdministratorsCommand)[0].args[0].input).toEqual({ ServicePrincipal: 'cloudtrail.amazonaws.com' });
  });

  it('passes when the platform account is registered (across pages)', async () => {
    noTrailCalls();
    orgs.on(ListDelegatedAdministratorsCommand)
      .resolvesOnce({ DelegatedAdministrators: [{ Id: '777777777777' }], NextToken: 'p2' })
      .resolves({ DelegatedAdministrators: [{ Id: PLATFORM }] });
    expect((await line(delegated, 'cloudtrail-delegated-admin')).status).toBe('pass');
  });

  it('is not needed (no call) for the platform account\'s own trail or an organization trail of the management account', async () => {
    noTrailCalls();
    expect((await line(testConfig(), 'cloudtrail-delegated-admin')).detail).toBe('not needed (the audit trail is the platform account\'s: audit.organizationTrail is not true)');
    expect((await line(testConfig({ platformAccountId: MANAGEMENT }), 'cloudtrail-delegated-admin')).detail)
      .toBe('not needed (the platform account is the management account, which creates the organization trail itself)');
    expect(orgs.commandCalls(ListDelegatedAdministratorsCommand)).toHaveLength(0);
  });
});
