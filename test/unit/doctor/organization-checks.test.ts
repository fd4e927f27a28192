import { DescribeOrganizationCommand, ListAWSServiceAccessForOrganizationCommand, ListRootsCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { organizationChecks, trustedAccessChecks } from '../../../lib/cli/doctor/organization-checks.js';
import { awsError, MANAGEMENT, testConfig, testContext } from './support.js';

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const healthyOrg = { Organization: { Id: 'o-abcdefghij', MasterAccountId: MANAGEMENT, FeatureSet: 'ALL' as const } };
const root = (status?: 'ENABLED' | 'PENDING_DISABLE') => ({ Roots: [{ Id: 'r-abcd', Name: 'Root', PolicyTypes: status ? [{ Type: 'SERVICE_CONTROL_POLICY' as const, Status: status }] : [] }] });

beforeEach(() => orgs.reset());

describe('organization and root', () => {
  it('passes when the organization has all features, matches the config and SCPs are enabled', async () => {
    // GIVEN
    orgs.on(DescribeOrganizationCommand).resolves(healthyOrg).on(ListRootsCommand).resolves(root('ENABLED'));
    // WHEN
    const lines = await organizationChecks(testContext());
    // THEN
    expect(lines.map((l) => [l.id, l.status])).toEqual([['organization', 'pass'], ['organization-root', 'pass']]);
    expect(lines[0].detail).toBe(`o-abcdefghij, management account ${MANAGEMENT}, all features`);
    expect(lines[0].fix).toBeUndefined();
  });

  it('fails a consolidated-billing organization with enable-all-features', async () => {
    orgs.on(DescribeOrganizationCommand).resolves({ Organization: { ...healthyOrg.Organization, FeatureSet: 'CONSOLIDATED_BILLING' } }).on(ListRootsCommand).resolves(root('ENABLED'));
    const [org] = await organizationChecks(testContext());
    expect(org).toMatchObject({ status: 'fail', detail: 'feature set is CONSOLIDATED_BILLING, not ALL' });
    expect(org.fix).toMatch(/^aws organizations enable-all-features/);
  });

  it('fails another organization than the config names, with the ids to set', async () => {
    orgs.on(DescribeOrganizationCommand).resolves({ Organization: { Id: 'o-zzzzzzzzzz', MasterAccountId: '999999999999', FeatureSet: 'ALL' } }).on(ListRootsCommand).resolves(root('ENABLED'));
    const [org] = await organizationChecks(testContext());
    expect(org.status).toBe('fail');
    expect(org.detail).toBe(`management account is 999999999999, config says ${MANAGEMENT}; organization id is o-zzzzzzzzzz, config says o-abcdefghij`);
    expect(org.fix).toContain('set organization.organizationId: o-zzzzzzzzzz');
  });

  it('fails with create-organization when the account is in no organization', async () => {
    orgs.on(DescribeOrganizationCommand).rejects(awsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.')).on(ListRootsCommand).rejects(awsError('AWSOrganizationsNotInUseException'));
    const [org] = await organizationChecks(testContext());
    expect(org).toMatchObject({ status: 'fail', detail: `account ${MANAGEMENT} is in no organization`, fix: 'aws organizations create-organization --feature-set ALL (in the management account)' });
  });

  it('translates AccessDenied into the call, the meaning and the fix', async () => {
    orgs.on(DescribeOrganizationCommand).rejects(awsError('AccessDeniedException', 'You don\'t have permissions to access this resource.')).on(ListRootsCommand).resolves(root('ENABLED'));
    const [org] = await organizationChecks(testContext());
    expect(org.status).toBe('fail');
    expect(org.detail).toBe('organizations:DescribeOrganization failed: AccessDeniedException: You don\'t have permissions to access this resource. (your credentials may not make this call: grant organizations:DescribeOrganization or use ReadOnlyAccess)');
    expect(org.fix).toBe(`run doctor with credentials of the management account ${MANAGEMENT} (--profile)`);
  });

  it('fails when SCPs are not enabled on the root, with enable-policy-type and the root id', async () => {
    orgs.on(DescribeOrganizationCommand).resolves(healthyOrg).on(ListRootsCommand).resolves(root());
    const [, r] = await organizationChecks(testContext());
    expect(r).toMatchObject({ id: 'organization-root', status: 'fail', fix: 'aws organizations enable-policy-type --root-id r-abcd --policy-type SERVICE_CONTROL_POLICY' });
    expect(r.detail).toContain('SERVICE_CONTROL_POLICY is not enabled');
  });

  it('fails when the config names another root', async () => {
    orgs.on(DescribeOrganizationCommand).resolves(healthyOrg).on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-wxyz' }] });
    const [, r] = await organizationChecks(testContext());
    expect(r).toMatchObject({ status: 'fail', detail: 'root r-abcd not found (roots: r-wxyz)', fix: 'set organization.rootId: r-wxyz in the config' });
  });
});

describe('trusted access', () => {
  const orgTrail = testConfig({ platformAccountId: MANAGEMENT });

  it('is not needed when the trail is in the platform account (no call made)', async () => {
    const lines = await trustedAccessChecks(testContext());
    expect(lines).toEqual([
      expect.objectContaining({ id: 'trusted-access:cloudtrail.amazonaws.com', status: 'pass', detail: 'not needed (trail in the platform account)' }),
      expect.objectContaining({ id: 'trusted-access:account.amazonaws.com', status: 'pass', detail: 'not needed (no account tier uses an opt-in region or sets alternateContacts)' }),
    ]);
    expect(orgs.commandCalls(ListAWSServiceAccessForOrganizationCommand)).toHaveLength(0);
  });

  // *Enable regions* calls account:EnableRegion for each account-tier tenant's account, which needs trusted access for account.amazonaws.com.
  it('needs trusted access for account.amazonaws.com when an account tier uses an opt-in region, naming the regions', async () => {
    const optIn = testConfig({ allowedRegions: ['us-east-1', 'us-west-2', 'me-central-1'], tiers: { enterprise: { disasterRecovery: { region: 'me-central-1', rpoHours: 4, rtoHours: 12 } } } });
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }] });
    const line = (await trustedAccessChecks(testContext(optIn))).find((l) => l.id === 'trusted-access:account.amazonaws.com');
    expect(line).toMatchObject({
      status: 'fail', fix: 'aws organizations enable-aws-service-access --service-principal account.amazonaws.com',
      detail: 'not enabled, and the onboarding enables opt-in region me-central-1 in each account-tier tenant\'s account (account:EnableRegion from the management account)',
    });
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'account.amazonaws.com' }] });
    expect((await trustedAccessChecks(testContext(optIn))).find((l) => l.id === 'trusted-access:account.amazonaws.com')?.status).toBe('pass');
  });

  // *Set alternate contacts* calls account:PutAlternateContact with the tenant's AccountId, which needs the same trusted access.
  it('needs trusted access for account.amazonaws.com when a tier sets alternateContacts, naming the contact types', async () => {
    const contacts = testConfig({ tiers: { enterprise: { alternateContacts: { security: { name: 'Security', title: 'Team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 206 555 0100' } } } } });
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }] });
    const line = (await trustedAccessChecks(testContext(contacts))).find((l) => l.id === 'trusted-access:account.amazonaws.com');
    expect(line).toMatchObject({
      status: 'fail', fix: 'aws organizations enable-aws-service-access --service-principal account.amazonaws.com',
      detail: 'not enabled, and the onboarding sets alternate contacts SECURITY in each tenant account of a tier with alternateContacts (account:PutAlternateContact from the management account)',
    });
  });

  it('passes an organization trail when CloudTrail has trusted access (across pages)', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand)
      .resolvesOnce({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }], NextToken: 'p2' })
      .resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'cloudtrail.amazonaws.com' }] });
    const [line] = await trustedAccessChecks(testContext(orgTrail));
    expect(line).toMatchObject({ status: 'pass' });
    expect(line.detail).toMatch(/^enabled \(the audit trail is an organization trail/);
  });

  // A delegated administrator's organization trail needs CloudTrail's trusted access as the management account's does.
  it('needs trusted access for cloudtrail.amazonaws.com when audit.organizationTrail makes the member platform account\'s trail an organization trail', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }] });
    const [line] = await trustedAccessChecks(testContext(testConfig({ audit: { organizationTrail: true } })));
    expect(line).toMatchObject({
      id: 'trusted-access:cloudtrail.amazonaws.com', status: 'fail', fix: 'aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com',
      detail: 'not enabled, and the audit trail is an organization trail (audit.organizationTrail), created by the platform account as CloudTrail\'s delegated administrator',
    });
    // false in the management account: the management account's own trail, no trusted access needed
    expect((await trustedAccessChecks(testContext(testConfig({ platformAccountId: MANAGEMENT, audit: { organizationTrail: false } }))))[0].detail).toBe('not needed (trail in the platform account)');
  });

  it('fails an organization trail without trusted access, with enable-aws-service-access', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).resolves({ EnabledServicePrincipals: [{ ServicePrincipal: 'sso.amazonaws.com' }] });
    const [line] = await trustedAccessChecks(testContext(orgTrail));
    expect(line).toMatchObject({ status: 'fail', fix: 'aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com' });
  });

  it('fails politely when the list is refused', async () => {
    orgs.on(ListAWSServiceAccessForOrganizationCommand).rejects(awsError('AccessDeniedException', 'denied'));
    const [line] = await trustedAccessChecks(testContext(orgTrail));
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^organizations:ListAWSServiceAccessForOrganization failed: AccessDeniedException: denied/);
  });
});
