import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, CloudTrailServiceException, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { beforeEach, describe, expect, it } from 'vitest';
import { auditDataEventsChecks } from '../../../lib/cli/doctor/audit-data-events-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { mockStrict } from '../../support/strict-mock.js';
import { accessKeyOf, awsError, MANAGEMENT, mockSts, PLATFORM, REGION, testConfig, testContext } from './support.js';

// doctor's audit-data-events: the deployed audit trail's advanced event selectors against audit.dataEvents.

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const trail = mockStrict(CloudTrailClient, 'cloudtrail', CloudTrailServiceException);
const BUCKET = 'tesseraplatform-auditbucket0123abcd-1a2b3c4d5e6f';
const ORG_ARN = `arn:aws:cloudtrail:${REGION}:${MANAGEMENT}:trail/tessera-organization-audit`;
const ACCOUNT_ARN = `arn:aws:cloudtrail:${REGION}:${PLATFORM}:trail/TesseraPlatform-AuditTrail1234ABCD-Xy12`;
const management = { Name: 'Tessera: management events, read and write', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] };
const tenantData = { Name: 'Tessera: S3 object events of tenant data buckets', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] }, { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::tessera-'] }] };
const lambda = { Name: 'Tessera: Lambda Invoke events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] }] };
const STACKS = { Stacks: [{ StackName: 'TesseraPlatform', StackStatus: 'UPDATE_COMPLETE' as const, CreationTime: new Date(), Outputs: [{ OutputKey: 'AuditBucketName', OutputValue: BUCKET }] }] };
const withDataEvents = (dataEvents: Record<string, unknown>, audit: Record<string, unknown> = {}) => testConfig({ audit: { ...audit, dataEvents } });

beforeEach(() => {
  cfn.reset();
  trail.reset();
  mockSts();
  cfn.on(DescribeStacksCommand).resolves(STACKS);
  trail.on(DescribeTrailsCommand).resolves({ trailList: [
    { Name: 'aws-controltower-BaselineCloudTrail', TrailARN: `arn:aws:cloudtrail:${REGION}:${MANAGEMENT}:trail/aws-controltower-BaselineCloudTrail`, S3BucketName: 'aws-controltower-logs-999999999999-us-east-1', HomeRegion: REGION, IsOrganizationTrail: true, IsMultiRegionTrail: true },
    { Name: 'tessera-organization-audit', TrailARN: ORG_ARN, S3BucketName: BUCKET, HomeRegion: REGION, IsOrganizationTrail: true, IsMultiRegionTrail: true },
  ] });
});

describe('audit-data-events', () => {
  it('is in the organization-trail group, after its lines', async () => {
    trail.on(GetTrailStatusCommand).resolves({ IsLogging: true }).on(GetEventSelectorsCommand).resolves({ AdvancedEventSelectors: [management, lambda] });
    const group = CHECK_GROUPS.find((g) => g.name === 'organization-trail')!;
    const lines = await group.run(testContext(withDataEvents({ lambdaInvoke: true })));
    expect(lines.map((l) => [l.id, l.status])).toEqual([['cloudtrail-delegated-admin', 'pass'], ['organization-trail', 'pass'], ['audit-data-events', 'pass']]);
  });

  it('without audit.dataEvents: no line and no call', async () => {
    expect(await auditDataEventsChecks(testContext())).toEqual([]);
    expect(cfn.calls()).toHaveLength(0);
    expect(trail.calls()).toHaveLength(0);
  });

  it('passes when Tessera\'s trail (the one delivering to the audit bucket) has the config\'s selectors, read in the platform account by the trail\'s ARN', async () => {
    trail.on(GetEventSelectorsCommand, { TrailName: ORG_ARN }).resolves({ TrailARN: ORG_ARN, AdvancedEventSelectors: [management, tenantData, lambda] });
    const lines = await auditDataEventsChecks(testContext(withDataEvents({ s3Objects: 'tenant-data', lambdaInvoke: true }, { organizationTrail: true })));
    expect(lines).toEqual([{
      id: 'audit-data-events', title: 'Audit trail data events, deployed', status: 'pass', account: PLATFORM, region: REGION,
      detail: `${ORG_ARN} records what audit.dataEvents asks: Tessera: management events, read and write; Tessera: S3 object events of tenant data buckets; Tessera: Lambda Invoke events`,
    }]);
    expect(trail.commandCalls(DescribeTrailsCommand)[0].args[0].input).toEqual({ includeShadowTrails: true });
    expect(await accessKeyOf(trail.commandCalls(GetEventSelectorsCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('warns when the deployed account trail still has CloudTrail\'s default selectors (the deploy pending), naming both sides and the deploy', async () => {
    trail.on(DescribeTrailsCommand).resolves({ trailList: [{ Name: 'TesseraPlatform-AuditTrail1234ABCD-Xy12', TrailARN: ACCOUNT_ARN, S3BucketName: BUCKET, HomeRegion: REGION }] });
    trail.on(GetEventSelectorsCommand, { TrailName: ACCOUNT_ARN }).resolves({ TrailARN: ACCOUNT_ARN, EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }] });
    const [l] = await auditDataEventsChecks(testContext(withDataEvents({ s3Objects: 'all' })));
    expect(l).toMatchObject({ status: 'warn', fix: 'npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file> (selectors changed by hand are put back)' });
    expect(l.detail).toBe(`${ACCOUNT_ARN} records no advanced event selectors (CloudTrail's default: management events, no data event); audit.dataEvents asks Tessera: management events, read and write; Tessera: S3 object events of every bucket but the audit bucket: data events are billed per event, and what the trail misses is not recorded`);
  });

  it('warns when the trail still records Lambda Invoke the config no longer asks for (billed), or leaves out management events', async () => {
    trail.on(GetEventSelectorsCommand).resolves({ AdvancedEventSelectors: [management, tenantData, lambda] });
    expect((await auditDataEventsChecks(testContext(withDataEvents({ s3Objects: 'tenant-data' }))))[0].status).toBe('warn');
    trail.on(GetEventSelectorsCommand).resolves({ AdvancedEventSelectors: [{ ...management, FieldSelectors: [...management.FieldSelectors, { Field: 'readOnly', Equals: ['false'] }] }, tenantData] });
    const [l] = await auditDataEventsChecks(testContext(withDataEvents({ s3Objects: 'tenant-data' })));
    expect(l.status).toBe('warn');
    expect(l.detail).toContain('Tessera: S3 object events of tenant data buckets, which leave out management events;');
  });

  it('passes `s3Objects: none` on a trail back to the default selectors (the data events turned off)', async () => {
    trail.on(GetEventSelectorsCommand).resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
    expect((await auditDataEventsChecks(testContext(withDataEvents({ s3Objects: 'none' }))))[0].status).toBe('pass');
  });

  it('warns (not compared) when TesseraPlatform is not deployed, no trail delivers to the audit bucket, or a call is refused', async () => {
    const config = withDataEvents({ lambdaInvoke: true });
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id TesseraPlatform does not exist'));
    expect((await auditDataEventsChecks(testContext(config)))[0].detail).toBe(`not compared: stack TesseraPlatform is not deployed in account ${PLATFORM} (${REGION}); the trail gets audit.dataEvents at its first deploy`);
    cfn.on(DescribeStacksCommand).resolves(STACKS);
    trail.on(DescribeTrailsCommand).resolves({ trailList: [] });
    expect((await auditDataEventsChecks(testContext(config)))[0]).toMatchObject({ status: 'warn', detail: `not compared: no trail with home Region ${REGION} delivers to the audit bucket ${BUCKET}` });
    trail.on(DescribeTrailsCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: cloudtrail:DescribeTrails'));
    const [l] = await auditDataEventsChecks(testContext(config));
    expect(l.status).toBe('warn');
    expect(l.detail).toMatch(/^not compared: cloudtrail:DescribeTrails failed: AccessDeniedException/);
    expect(l.fix).toMatch(/^grant cloudtrail:DescribeTrails and cloudtrail:GetEventSelectors to /);
  });
});
