import { AccountClient, AccountServiceException, PutAlternateContactCommand } from '@aws-sdk/client-account';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { putAlternateContacts } from '../../../lambdas/lifecycle/alternate-contacts.js';
import { configuredAlternateContactTypes } from '../../../lib/config/alternate-contacts.js';
import { tenantDetails } from '../../../lib/cli/format.js';
import { deployedLifecycleHandlers } from '../../../lib/lifecycle-handlers.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { configWith } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const account = mockStrict(AccountClient, 'account', AccountServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ACCOUNT = '444444444444';
const accountError = (name: string, message: string, status = 400) => new AccountServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

const SECURITY = { name: 'Platform security', title: 'Security team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 (206) 555-0100' };
const OPERATIONS = { name: 'Platform operations', title: 'On call', emailAddress: 'ops+aws@platform.example.com', phoneNumber: '+1-206-555-0101' };
const BILLING = { name: 'Finance', title: 'Accounts payable', emailAddress: 'billing@platform.example.com', phoneNumber: '206 555 0102' };

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  records.clear();
  account.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
});

describe('putAlternateContacts (Account Management PutAlternateContact, from the management account)', () => {
  it('puts each configured contact with the member account\'s AccountId, BILLING, OPERATIONS, SECURITY in that order, the fields as configured', async () => {
    account.on(PutAlternateContactCommand).resolves({});
    const set = await putAlternateContacts(new AccountClient({}), ACCOUNT, { security: SECURITY, billing: BILLING });
    expect(set).toEqual(['BILLING', 'SECURITY']);
    expect(account.commandCalls(PutAlternateContactCommand).map((c) => c.args[0].input)).toEqual([
      { AccountId: ACCOUNT, AlternateContactType: 'BILLING', Name: 'Finance', Title: 'Accounts payable', EmailAddress: 'billing@platform.example.com', PhoneNumber: '206 555 0102' },
      { AccountId: ACCOUNT, AlternateContactType: 'SECURITY', Name: 'Platform security', Title: 'Security team', EmailAddress: 'security@platform.example.com', PhoneNumber: '+1 (206) 555-0100' },
    ]);
  });

  it('names trusted access and the grant when Account Management refuses (AccessDeniedException)', async () => {
    account.on(PutAlternateContactCommand).rejects(accountError('AccessDeniedException', 'The request failed because your organization does not have trusted access enabled', 403));
    await expect(putAlternateContacts(new AccountClient({}), ACCOUNT, { operations: OPERATIONS })).rejects.toMatchObject({
      name: 'AlternateContactsDenied',
      message: expect.stringMatching(/^account:PutAlternateContact \(OPERATIONS\) for account 444444444444 was denied \(.*trusted access enabled\): .*enable-aws-service-access --service-principal account\.amazonaws\.com.*account:AlternateContactTypes OPERATIONS/),
    });
  });

  it('throws any other error as it is (the step fails; a retry puts them again)', async () => {
    account.on(PutAlternateContactCommand).rejects(accountError('InternalServerException', 'internal error', 500));
    await expect(putAlternateContacts(new AccountClient({}), ACCOUNT, { security: SECURITY })).rejects.toMatchObject({ name: 'InternalServerException' });
  });
});

describe('Set alternate contacts (the onboarding step)', () => {
  const run = async () => (await import('../../../lambdas/lifecycle/set-alternate-contacts.js')).handler(state('ent') as never);
  const enterprise = () => records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: ACCOUNT, vpcCidr: undefined }));

  it('makes no call for a tier without alternateContacts', async () => {
    useConfig(configWith());
    enterprise();
    expect(await run()).toEqual({ skipped: true });
    expect(sts.calls()).toHaveLength(0);
    expect(account.calls()).toHaveLength(0);
    expect(records.get('ent')!.alternateContacts).toBeUndefined();
  });

  it('puts the tier\'s contacts in the tenant\'s account from the management account session, and records their types', async () => {
    useConfig(configWith({ tiers: { enterprise: { alternateContacts: { security: SECURITY, operations: OPERATIONS, billing: BILLING } } } }));
    enterprise();
    account.on(PutAlternateContactCommand).resolves({});
    expect(await run()).toEqual({ set: ['BILLING', 'OPERATIONS', 'SECURITY'] });
    // the management account's session (TesseraOrganizationAccess), never the tenant account's provisioning role
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toEqual(['tessera-lifecycle']);
    expect(account.commandCalls(PutAlternateContactCommand).every((c) => c.args[0].input.AccountId === ACCOUNT)).toBe(true);
    const recorded = records.get('ent')!.alternateContacts!;
    expect(recorded.types).toEqual(['BILLING', 'OPERATIONS', 'SECURITY']);
    expect(Date.parse(recorded.setAt)).not.toBeNaN();
  });
});

describe('alternateContacts in the config and the platform', () => {
  const parse = (tier: string, alternateContacts: unknown) => {
    const config = structuredClone(DEFAULT_CONFIG) as Record<string, any>;
    config.tiers[tier].alternateContacts = alternateContacts;
    if (tier === 'enterprise') config.organization.accountEmail = 'aws+{tenantId}@platform.example.com';
    return PlatformConfigSchema.safeParse(config);
  };
  const issues = (tier: string, alternateContacts: unknown) => {
    const parsed = parse(tier, alternateContacts);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes each type with the four fields at PutAlternateContact\'s limits (Name 64, Title 50, EmailAddress 254, PhoneNumber 25)', () => {
    const atLimits = { name: 'n'.repeat(64), title: 't'.repeat(50), emailAddress: `${'a'.repeat(240)}@example.com`, phoneNumber: '+'.padEnd(25, '0') };
    expect(issues('enterprise', { billing: atLimits, operations: OPERATIONS, security: SECURITY })).toEqual([]);
  });

  it('refuses what PutAlternateContact refuses, naming the key path and the rule', () => {
    expect(issues('enterprise', { security: { ...SECURITY, name: 'n'.repeat(65) } })).toEqual(['tiers.enterprise.alternateContacts.security.name: has more than 64 characters; PutAlternateContact takes 1-64']);
    expect(issues('enterprise', { security: { ...SECURITY, title: 't'.repeat(51) } })).toEqual(['tiers.enterprise.alternateContacts.security.title: has more than 50 characters; PutAlternateContact takes 1-50']);
    expect(issues('enterprise', { billing: { ...BILLING, phoneNumber: '+1 206 555 0102 ext. 7' } })).toEqual([expect.stringMatching(/^tiers\.enterprise\.alternateContacts\.billing\.phoneNumber: has a character PutAlternateContact refuses: only digits, spaces and \( \) \+ -/)]);
    expect(issues('enterprise', { billing: { ...BILLING, phoneNumber: '0'.repeat(26) } })).toEqual(['tiers.enterprise.alternateContacts.billing.phoneNumber: has more than 25 characters; PutAlternateContact takes 1-25']);
    expect(issues('enterprise', { operations: { ...OPERATIONS, emailAddress: 'ops@localhost' } })).toEqual([expect.stringMatching(/^tiers\.enterprise\.alternateContacts\.operations\.emailAddress: is not an address PutAlternateContact takes/)]);
    expect(issues('enterprise', { operations: { ...OPERATIONS, emailAddress: `${'a'.repeat(243)}@example.com` } })).toEqual(['tiers.enterprise.alternateContacts.operations.emailAddress: has more than 254 characters; PutAlternateContact takes 1-254']);
    // AWS reads its patterns' \s and \w as ASCII (Java): a no-break space (copied from a web page) or a letter outside ASCII is refused.
    expect(issues('enterprise', { billing: { ...BILLING, phoneNumber: '+1\u00a0206\u00a0555\u00a00102' } })).toEqual([expect.stringMatching(/^tiers\.enterprise\.alternateContacts\.billing\.phoneNumber: has a character PutAlternateContact refuses/)]);
    expect(issues('enterprise', { billing: { ...BILLING, phoneNumber: '+1\u202f206 555 0102' } })).toHaveLength(1);
    expect(issues('enterprise', { operations: { ...OPERATIONS, emailAddress: 'ops@platform.example.com\u00a0' } })).toEqual([expect.stringMatching(/^tiers\.enterprise\.alternateContacts\.operations\.emailAddress: is not an address PutAlternateContact takes/)]);
    expect(issues('enterprise', { operations: { ...OPERATIONS, emailAddress: 'opé@platform.example.com' } })).toHaveLength(1);
    expect(issues('enterprise', { operations: { ...OPERATIONS, emailAddress: ' ops@platform.example.com\t' }, billing: { ...BILLING, phoneNumber: '\t206 555 0102 ' } })).toEqual([]);
    const { title: _omitted, ...noTitle } = SECURITY;
    expect(issues('enterprise', { security: noTitle })).toEqual([expect.stringMatching(/^tiers\.enterprise\.alternateContacts\.security\.title: /)]);
    expect(issues('enterprise', { legal: SECURITY })).toContainEqual(expect.stringMatching(/^tiers\.enterprise\.alternateContacts: .*"legal"/));
    expect(issues('enterprise', {})).toEqual(['tiers.enterprise.alternateContacts: names no contact: give at least one of billing, operations, security, or remove the key']);
  });

  it('is refused on a vpc isolation tier, naming the key', () => {
    expect(issues('starter', { security: SECURITY })).toEqual([expect.stringMatching(/^tiers\.starter\.alternateContacts: applies only to an "account" isolation tier/)]);
  });

  it('tenants show names the types set and when', () => {
    const alternateContacts = { setAt: '2026-12-07T00:00:00.000Z', types: ['OPERATIONS' as const, 'SECURITY' as const] };
    expect(tenantDetails({ ...leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: ACCOUNT }), alternateContacts } as never).split('\n'))
      .toContain('alternate contacts  OPERATIONS, SECURITY set (2026-12-07T00:00:00.000Z)');
  });

  it('deploys the step only when a tier asks for it, and grants only the types the tiers set', () => {
    expect(deployedLifecycleHandlers(configWith())).not.toContain('set-alternate-contacts');
    const config = configWith({ tiers: { enterprise: { alternateContacts: { security: SECURITY } } } });
    expect(deployedLifecycleHandlers(config)).toContain('set-alternate-contacts');
    expect(configuredAlternateContactTypes(config.tiers)).toEqual(['SECURITY']);
    expect(configuredAlternateContactTypes(configWith().tiers)).toEqual([]);
  });
});
