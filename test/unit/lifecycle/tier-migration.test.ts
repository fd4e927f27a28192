import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { migrationRefusal, networkDifferences } from '../../../lambdas/lifecycle/tier-migration.js';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { sameNetworkConfig, setLifecycleEnv, state, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));

const events = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);

/**
 * A tenant keeps its VPC range across a tier change; a target tier whose network cuts the VPC
 * otherwise (prefix length, AZs, egress) would be refused by CloudFormation (the VpcCidr
 * parameter's AllowedPattern) or replace every subnet: a migration, refused up front by *Begin
 * change* and the admin API alike. Default config: starter /22, 2 AZs, no egress; professional
 * /20, 2 AZs, egress; enterprise (account isolation) /18, 3 AZs, egress.
 */
const tiers = configWith().tiers;
/** acme on starter, onboarded with a /22 of starter's pool. */
const starterTenant = (extra = {}) => tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', ...extra });

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  for (const m of [events, sfn]) m.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
});

describe('networkDifferences / migrationRefusal', () => {
  it('names each field the subnets are cut from that differs, with the tenant\'s and the target\'s value', () => {
    expect(networkDifferences(starterTenant(), tiers, 'professional')).toEqual([
      { field: 'tenantVpcPrefixLength', tenant: 22, target: 20 },
      { field: 'internetEgress', tenant: false, target: true },
    ]);
    const threeAzs = configWith({ tiers: { professional: { network: { tenantVpcPrefixLength: 22, internetEgress: false, maxAzs: 3 } } } }).tiers;
    expect(networkDifferences(starterTenant(), threeAzs, 'professional')).toEqual([{ field: 'maxAzs', tenant: 2, target: 3 }]);
    // the same layout (another pool: the template does not read it), and the tenant's own tier
    expect(networkDifferences(starterTenant(), sameNetworkConfig.tiers, 'professional')).toEqual([]);
    expect(networkDifferences(starterTenant(), tiers, 'starter')).toEqual([]);
  });

  it('takes the prefix from the range the tenant has, not from its tier\'s config (an upgrade after the tier\'s prefix changed)', () => {
    expect(networkDifferences(starterTenant({ vpcCidr: '10.64.0.0/21' }), tiers, 'starter')).toEqual([{ field: 'tenantVpcPrefixLength', tenant: 21, target: 22 }]);
    // no range recorded: the tier's own
    expect(networkDifferences(starterTenant({ vpcCidr: undefined }), tiers, 'starter')).toEqual([]);
  });

  it('refuses another isolation mode first, then another network; lets the rest through', () => {
    expect(migrationRefusal(starterTenant(), 'enterprise', tiers)).toMatchObject({ code: 'isolation_change', message: expect.stringMatching(/^tier = "enterprise": isolates by account, tenant acme by vpc; changing isolation is a migration \(offboard and onboard\)/) });
    const refusal = migrationRefusal(starterTenant(), 'professional', tiers);
    expect(refusal?.code).toBe('network_change');
    expect(refusal?.message).toMatch(/^tier = "professional": its tenant network differs from the tenant's/);
    expect(refusal?.message).toContain('network.tenantVpcPrefixLength is 20, tenant acme\'s 22 (its VPC 10.64.0.0/22); network.internetEgress is true, tenant acme\'s false');
    expect(refusal?.message).toContain('the blueprint\'s VpcCidr parameter allows a /20 only');
    expect(refusal?.message).toContain('this is a network migration (offboard and onboard), not a tier change');
    expect(migrationRefusal(starterTenant(), 'professional', sameNetworkConfig.tiers)).toBeUndefined();
    expect(migrationRefusal(starterTenant(), 'gold', tiers)).toBeUndefined(); // unknown: the caller's UnknownTier / 400 unknown_tier
  });
});

describe('Begin change: another tenant network', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;

  it('is refused with InvalidRequest before the lease (the record untouched), for a change and for an upgrade', async () => {
    const before = starterTenant();
    records.set('acme', before);
    await expect(begin({ ...state(), change: { tier: 'professional' } })).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/^tier = "professional": its tenant network differs.*tenantVpcPrefixLength is 20, tenant acme's 22.*network migration \(offboard and onboard\)/),
    });
    expect(records.get('acme')).toEqual(before);
    // an upgrade (its own tier) of a tenant whose range no longer has the tier's prefix
    const older = starterTenant({ vpcCidr: '10.64.0.0/21' });
    records.set('acme', older);
    await expect(begin({ ...state(), kind: 'upgrade', change: { tier: 'starter', blueprintVersion: '2.0.0' } })).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('tenantVpcPrefixLength is 22, tenant acme\'s 21') });
    expect(records.get('acme')).toEqual(older);
  });

  it('lets a change through between tiers whose networks match', async () => {
    useConfig(sameNetworkConfig);
    records.set('acme', starterTenant());
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toMatchObject({ tier: 'professional', previousTier: 'starter' });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change' } });
  });
});

describe('admin API PATCH: another tenant network', async () => {
  const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';
  const { handler } = await import('../../../lambdas/admin/admin-api.js');
  const patch = (change: object) => handler({ httpMethod: 'PATCH', resource: '/admin/tenants/{id}', headers: {}, requestContext: { requestId: 'api-req-1' }, pathParameters: { id: 'acme' }, body: JSON.stringify(change) } as unknown as APIGatewayProxyEvent);
  beforeEach(() => {
    process.env[ENV.changeStateMachineArn] = `${MACHINE}change`;
  });

  it('is a 400 network_change with the same reason as Begin change; nothing starts, the record is untouched', async () => {
    const before = starterTenant();
    records.set('acme', before);
    const res = await patch({ tier: 'professional' });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toEqual({
      type: 'invalid_request_error', code: 'network_change', param: 'tier', message: migrationRefusal(before, 'professional', tiers)!.message,
    });
    // a version change of a tenant whose range is no longer its tier's prefix, and a repair of it, the same
    records.set('acme', starterTenant({ vpcCidr: '10.64.0.0/21' }));
    for (const change of [{ blueprintVersion: '2.0.0' }, { repair: true }]) {
      const refused = await patch(change);
      expect(refused.statusCode).toBe(400);
      expect(JSON.parse(refused.body).error).toMatchObject({ code: 'network_change', message: expect.stringContaining('tenant acme\'s 21 (its VPC 10.64.0.0/21)') });
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(starterTenant({ vpcCidr: '10.64.0.0/21' }));
  });

  it('starts a change between tiers whose networks match', async () => {
    useConfig(sameNetworkConfig);
    records.set('acme', starterTenant());
    expect((await patch({ tier: 'professional' })).statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});
