import { IAMClient, IAMServiceException, ListOrganizationsFeaturesCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, ListAWSServiceAccessForOrganizationCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { beforeEach, describe, expect, it } from 'vitest';
import { accountQuotaChecks } from '../../../lib/cli/doctor/account-quota-checks.js';
import { rootAccessChecks } from '../../../lib/cli/doctor/root-access-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { mockStrict } from '../../support/strict-mock.js';
import { awsError, MANAGEMENT, testConfig, testContext } from './support.js';

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const sq = mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException);

beforeEach(() => {
  orgs.reset();
  iam.reset();
  sq.reset();
});

const vpcOnly = () => testConfig({ tiers: { enterprise: null } });
const accounts = (states: string[]) => ({ Accounts: states.map((State, i) => ({ Id: String(100000000000 + i), Name: `a${i}`, State: State as 'ACTIVE' })) });
const quota = (Value: number) => ({ Quotas: [{ QuotaName: 'Service control policies in an organization', QuotaCode: 'L-AAAAAAAA', Value: 10000 }, { QuotaName: 'Default maximum number of accounts', QuotaCode: 'L-E619E033', Value }] });

describe('organization accounts quota (doctor)', () => {
  it('runs with centralized root access after the organization\'s other lines, before the accounts\' Regions', () => {
    const names = CHECK_GROUPS.map((g) => g.name);
    expect(names.slice(names.indexOf('quarantine-scp-arn'), names.indexOf('quarantine-scp-arn') + 5)).toEqual(['quarantine-scp-arn', 'organization-trail', 'centralized-root-access', 'organization-accounts', 'region-enabled']);
  });

  it('counts every account but a CLOSED one, SUSPENDED included, against the applied quota read in us-east-1', async () => {
    // GIVEN 8 listed accounts: 5 ACTIVE, 2 SUSPENDED (offboarded tenants' in their 90 days), 1 CLOSED; the quota raised to 20
    orgs.on(ListAccountsCommand).resolves(accounts(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'SUSPENDED', 'SUSPENDED', 'CLOSED']));
    sq.on(ListServiceQuotasCommand, { ServiceCode: 'organizations' }).resolves(quota(20));
    // WHEN
    const [line] = await accountQuotaChecks(testContext());
    // THEN
    expect(line).toMatchObject({
      id: 'organization-accounts', status: 'pass', region: 'us-east-1',
      detail: '7 accounts (5 ACTIVE, 2 SUSPENDED) of a quota of 20 (applied, L-E619E033): 13 free for tier enterprise; SUSPENDED accounts (offboarded tenants\') count until 90 days after their closure',
    });
    expect(await sq.commandCalls(ListServiceQuotasCommand)[0].thisValue.config.region()).toBe('us-east-1');
  });

  it('fails a full organization, naming ACCOUNT_LIMIT_EXCEEDED and the increase to request with the code Service Quotas gave', async () => {
    orgs.on(ListAccountsCommand).resolves(accounts([...Array(8).fill('ACTIVE'), 'SUSPENDED', 'PENDING_CLOSURE']));
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] }).on(ListAWSDefaultServiceQuotasCommand).resolves(quota(10));
    const [line] = await accountQuotaChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe('10 accounts (8 ACTIVE, 1 PENDING_CLOSURE, 1 SUSPENDED) of a quota of 10 (AWS default, L-E619E033): 0 free for tier enterprise; SUSPENDED accounts (offboarded tenants\') count until 90 days after their closure: the next account tenant\'s CreateAccount fails ACCOUNT_LIMIT_EXCEEDED');
    expect(line.fix).toBe(`in the management account ${MANAGEMENT}: aws service-quotas request-service-quota-increase --service-code organizations --quota-code L-E619E033 --desired-value 20 --region us-east-1`);
  });

  it('warns with two free slots or fewer, and uses the documented default 10 when Service Quotas lists no such quota', async () => {
    orgs.on(ListAccountsCommand).resolves(accounts(Array(8).fill('ACTIVE')));
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] }).on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    const [line] = await accountQuotaChecks(testContext());
    expect(line).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^8 accounts \(8 ACTIVE\) of a quota of 10 \(Service Quotas lists none: the documented default\): 2 free/) });
    expect(line.fix).toContain('--quota-code <the code `aws service-quotas list-service-quotas --service-code organizations` shows>');
  });

  it('fails a refused ListAccounts with the management account to use, and is not needed without an account tier', async () => {
    orgs.on(ListAccountsCommand).rejects(awsError('AccessDeniedException', 'no', 403));
    const [refused] = await accountQuotaChecks(testContext());
    expect(refused).toMatchObject({ status: 'fail', fix: `run doctor with credentials of the management account ${MANAGEMENT} (--profile)` });
    expect(refused.detail).toMatch(/^organizations:ListAccounts failed: AccessDeniedException/);
    orgs.reset();
    expect(await accountQuotaChecks(testContext(vpcOnly()))).toEqual([expect.objectContaining({ status: 'pass', detail: expect.stringMatching(/^not needed/) })]);
    expect(orgs.calls()).toHaveLength(0);
  });
});

describe('centralized root access (doctor)', () => {
  it('passes with IAM\'s trusted access and both features on', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }, { ServicePrincipal: 'iam.amazonaws.com' }] });
    iam.on(ListOrganizationsFeaturesCommand).resolves({ OrganizationId: 'o-abcdefghij', EnabledFeatures: ['RootCredentialsManagement', 'RootSessions'] });
    const [line] = await rootAccessChecks(testContext());
    expect(line).toMatchObject({ id: 'centralized-root-access', status: 'pass', detail: 'enabled (RootCredentialsManagement, RootSessions): the management account can remove tenant accounts\' root credentials' });
  });

  it('warns with the commands that enable what is off, trusted access first', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [] });
    const [off] = await rootAccessChecks(testContext());
    expect(off).toMatchObject({
      status: 'warn',
      detail: 'trusted access for iam.amazonaws.com is not enabled; RootCredentialsManagement and RootSessions are off: each account tenant\'s account has root credentials, whose password the root email\'s mailbox (organization.accountEmail) can reset',
      fix: `in the management account ${MANAGEMENT}: aws organizations enable-aws-service-access --service-principal iam.amazonaws.com; then aws iam enable-organizations-root-credentials-management; then aws iam enable-organizations-root-sessions`,
    });
    // IAM is not asked before its trusted access exists
    expect(iam.calls()).toHaveLength(0);
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'iam.amazonaws.com' }] });
    iam.on(ListOrganizationsFeaturesCommand).resolves({ EnabledFeatures: ['RootCredentialsManagement'] });
    const [half] = await rootAccessChecks(testContext());
    expect(half).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^RootSessions is off:/), fix: `in the management account ${MANAGEMENT}: aws iam enable-organizations-root-sessions` });
  });

  it('warns, not fails, when IAM refuses the read; not needed without an account tier', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'iam.amazonaws.com' }] });
    iam.on(ListOrganizationsFeaturesCommand).rejects(awsError('AccessDenied', 'no', 403));
    const [line] = await rootAccessChecks(testContext());
    expect(line).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^not checked: iam:ListOrganizationsFeatures failed: AccessDenied/) });
    expect(await rootAccessChecks(testContext(vpcOnly()))).toEqual([expect.objectContaining({ status: 'pass', detail: expect.stringMatching(/^not needed/) })]);
  });
});
