import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { migrationRefusal, networkDifferences } from '../../../lambdas/lifecycle/tier-migration.js';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { sameNetworkConfig, setLifecycleEnv, state, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));

const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
// Begin change asks the blueprint catalog whether the target tier is published at the version (HeadObject): it is.
mockStrict(S3Client, 's3', S3ServiceException).on(HeadObjectCommand).resolves({});

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

/**
 * The recorded zones (availabilityZones / availabilityZoneIds): their count is the tenant's maxAzs, and a
 * dedicated-cluster tier in a zone EKS does not support is refused up front. `enterprise` is the dedicated
 * tier; `lite` an account-isolated tier without a cluster (compute none) with enterprise's network.
 */
const zoneConfig = configWith({ tiers: { lite: { ...structuredClone(configWith().tiers.enterprise), compute: { mode: 'none' }, network: { ...configWith().tiers.enterprise.network, tenantCidrPool: '10.112.0.0/12' } } } });
/** acme on enterprise (or `tier`), its VPC in us-east-1a, us-east-1b (use1-az3: EKS refuses it), us-east-1c. */
const zonedTenant = (tier = 'enterprise', extra = {}) => tenant({
  status: 'ACTIVE', blueprintVersion: '1.0.0', tier, isolation: 'account', accountId: '333333333333', vpcCidr: '10.96.0.0/18',
  availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az3', 'use1-az2'], ...extra,
});
const EKS_REFUSAL = /^account 333333333333, region us-east-1: tenant acme's VPC is in us-east-1b \(zone ID use1-az3\) \(as recorded\), where Amazon EKS does not support clusters/;

describe('recorded zones: their count is the tenant\'s maxAzs; EKS-unsupported zone IDs refuse a dedicated-cluster tier', () => {
  // defect 4 of the first attempt (ce46d6e): the tenant's maxAzs came from its tier's config only
  it('takes the tenant\'s maxAzs from its recorded zones, not its tier\'s config, and refuses another count up front for a tier change only, naming where its count comes from', () => {
    const three = starterTenant({ availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] });
    expect(networkDifferences(three, tiers, 'starter')).toEqual([{ field: 'maxAzs', tenant: 3, target: 2 }]);
    // a tier change: refused up front, saying where the tenant's count comes from (its recorded zones, named)
    expect(migrationRefusal(three, 'professional', sameNetworkConfig.tiers)).toMatchObject({
      code: 'network_change', message: expect.stringContaining('network.maxAzs is 2, tenant acme\'s 3 (its recorded zones us-east-1a, us-east-1b, us-east-1c, where its subnets are)'),
    });
    // its own tier (a repair, a version change, an upgrade): left to Deploy blueprint, which compares the zones with the
    // template it deploys (a pinned older version may have been published with 3)
    expect(migrationRefusal(three, 'starter', tiers)).toBeUndefined();
    // no zones recorded: the count is its tier's config, which its stack was deployed with
    const threeAzs = configWith({ tiers: { professional: { network: { tenantVpcPrefixLength: 22, internetEgress: false, maxAzs: 3 } } } }).tiers;
    expect(migrationRefusal(starterTenant(), 'professional', threeAzs)?.message).toContain('network.maxAzs is 3, tenant acme\'s 2 (no zones recorded: its tier starter\'s network.maxAzs, which its stack was deployed with');
    // recorded as many as the tier has: nothing
    expect(networkDifferences(starterTenant({ availabilityZones: ['us-east-1c', 'us-east-1d'] }), tiers, 'starter')).toEqual([]);
  });

  // defect 3 of the first attempt (ce46d6e): no up-front refusal; Deploy blueprint checked a tier change only
  it('refuses a dedicated-cluster tier (change into it, upgrade, repair) whose recorded zones include one EKS does not support, naming zone, zone ID, account and region', () => {
    expect(migrationRefusal(zonedTenant('lite'), 'enterprise', zoneConfig.tiers, 'us-east-1')).toMatchObject({ code: 'unsupported_zone', message: expect.stringMatching(EKS_REFUSAL) });
    expect(migrationRefusal(zonedTenant(), 'enterprise', zoneConfig.tiers, 'us-east-1')).toMatchObject({ code: 'unsupported_zone' });
    // a tier without a cluster: the zone is fine
    expect(migrationRefusal(zonedTenant(), 'lite', zoneConfig.tiers, 'us-east-1')).toBeUndefined();
    // zones EKS supports, or no zone IDs recorded (Deploy blueprint looks them up and checks): nothing up front
    expect(migrationRefusal(zonedTenant('lite', { availabilityZoneIds: ['use1-az1', 'use1-az4', 'use1-az2'] }), 'enterprise', zoneConfig.tiers, 'us-east-1')).toBeUndefined();
    expect(migrationRefusal(zonedTenant('lite', { availabilityZoneIds: undefined }), 'enterprise', zoneConfig.tiers, 'us-east-1')).toBeUndefined();
  });

  it('Begin change refuses it with InvalidRequest before the lease (a StartExecution from elsewhere, a rolling upgrade\'s run)', async () => {
    const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
    useConfig(zoneConfig);
    for (const [record, change, kind] of [[zonedTenant('lite'), { tier: 'enterprise' }, 'change'], [zonedTenant(), { blueprintVersion: '2.0.0' }, 'upgrade'], [zonedTenant(), { repair: true }, 'change']] as const) {
      records.set('acme', record);
      await expect(begin({ ...state(), kind, change })).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(EKS_REFUSAL) });
      expect(records.get('acme')).toEqual(record);
    }
  });

  it('the admin API answers 400 unsupported_zone where the request enters: a tier change into the dedicated tier, an upgrade, a repair; nothing starts', async () => {
    const { handler } = await import('../../../lambdas/admin/admin-api.js');
    process.env[ENV.changeStateMachineArn] = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-change';
    const patch = (change: object) => handler({ httpMethod: 'PATCH', resource: '/admin/tenants/{id}', headers: {}, requestContext: { requestId: 'api-req-1' }, pathParameters: { id: 'acme' }, body: JSON.stringify(change) } as unknown as APIGatewayProxyEvent);
    useConfig(zoneConfig);
    for (const [record, change] of [[zonedTenant('lite'), { tier: 'enterprise' }], [zonedTenant(), { blueprintVersion: '2.0.0' }], [zonedTenant(), { repair: true }]] as const) {
      records.set('acme', record);
      const res = await patch(change);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_zone', param: 'tier', message: expect.stringMatching(EKS_REFUSAL) });
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    // the same tenant to the tier without a cluster: accepted
    records.set('acme', zonedTenant());
    expect((await patch({ tier: 'lite' })).statusCode).toBe(202);
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

/**
 * Versions AWS cannot reach in place (version-change.ts) are judged by *Deploy blueprint* on the templates
 * (version-change.test.ts), not here on the tiers' config, which says nothing certain about the stack (hostile
 * lc2: a stack left on 1.33 while its tier's config moved to 1.35 was refused the move to a tier on 1.34, the
 * one step its refusal recommended). `gold` is an account-isolated tier with enterprise's network and its own versions.
 */
const goldConfig = (compute: { kubernetesVersion: string }, database: { engineMajorVersion: string }, enterprise: { kubernetesVersion?: string; engineMajorVersion?: string } = {}) => {
  const ent = structuredClone(configWith().tiers.enterprise);
  return configWith({ tiers: {
    enterprise: { compute: { ...ent.compute, ...(enterprise.kubernetesVersion ? { kubernetesVersion: enterprise.kubernetesVersion } : {}) }, database: { ...ent.database, ...(enterprise.engineMajorVersion ? { engineMajorVersion: enterprise.engineMajorVersion } : {}) } },
    gold: { ...ent, compute: { ...ent.compute, ...compute }, database: { ...ent.database, ...database }, network: { ...ent.network, tenantCidrPool: '10.112.0.0/12' } },
  } });
};
const enterpriseTenant = () => zonedTenant('enterprise', { availabilityZoneIds: ['use1-az1', 'use1-az4', 'use1-az2'] });

describe('version changes AWS cannot make in place', () => {
  it('a tier change is not refused on the two tiers\' config: the stack may not be where its tier\'s config is (judged at Deploy blueprint on the templates)', () => {
    // enterprise's config on 1.35, the tenant's stack left on 1.33 (skipped by upgrades while suspended): gold on 1.34 is its next step
    expect(migrationRefusal(enterpriseTenant(), 'gold', goldConfig({ kubernetesVersion: '1.34' }, { engineMajorVersion: '17' }, { kubernetesVersion: '1.35' }).tiers, 'us-east-1')).toBeUndefined();
    expect(migrationRefusal(enterpriseTenant(), 'gold', goldConfig({ kubernetesVersion: '1.33' }, { engineMajorVersion: '16' }, { kubernetesVersion: '1.34' }).tiers, 'us-east-1')).toBeUndefined();
  });

  it('versionRefusals: a downgrade, a jump of two minors, a PostgreSQL major downgrade, less allocated storage refused; one minor up, a major upgrade and more storage through', async () => {
    const { versionRefusals } = await import('../../../lambdas/lifecycle/version-change.js');
    expect(versionRefusals({ kubernetesVersion: '1.32' }, { kubernetesVersion: '1.34' })).toEqual([
      { field: 'compute.kubernetesVersion', from: '1.32', to: '1.34', why: expect.stringMatching(/one minor version at a time: go through 1\.33 first/) },
    ]);
    expect(versionRefusals({ kubernetesVersion: '1.34' }, { kubernetesVersion: '1.33' })).toMatchObject([{ field: 'compute.kubernetesVersion', from: '1.34', to: '1.33', why: expect.stringMatching(/EKS cannot downgrade/) }]);
    expect(versionRefusals({ kubernetesVersion: '1.33', engineVersion: '16' }, { kubernetesVersion: '1.34', engineVersion: '17.2' })).toEqual([]);
    expect(versionRefusals({ engineVersion: '17.4' }, { engineVersion: '16' })).toMatchObject([{ field: 'database.engineMajorVersion', from: '17', to: '16' }]);
    // nothing to compare (no dedicated cluster on one side): nothing refused
    expect(versionRefusals({}, { kubernetesVersion: '1.33' })).toEqual([]);
    // RDS storage only grows: less is refused, the same or more goes through
    expect(versionRefusals({ allocatedStorageGiB: 200 }, { allocatedStorageGiB: 100 })).toMatchObject([{ field: 'database.allocatedStorageGiB', from: '200', to: '100', why: expect.stringMatching(/RDS cannot reduce/) }]);
    expect(versionRefusals({ allocatedStorageGiB: 100 }, { allocatedStorageGiB: 100 })).toEqual([]);
    expect(versionRefusals({ allocatedStorageGiB: 20 }, { allocatedStorageGiB: 100 })).toEqual([]);
  });

  it('versionRefusals: more allocated storage by less than 10% is refused (RDS: "When you increase the allocated storage, it must be by at least 10 percent"); 10% or more goes through', async () => {
    const { versionRefusals } = await import('../../../lambdas/lifecycle/version-change.js');
    // a tier's allocatedStorageGiB raised 100 -> 105: ModifyDBInstance would refuse the rolling upgrade's update
    expect(versionRefusals({ allocatedStorageGiB: 100 }, { allocatedStorageGiB: 105 })).toEqual([{
      field: 'database.allocatedStorageGiB', from: '100', to: '105',
      why: expect.stringMatching(/RDS refuses a storage increase of less than 10%.*from 100 GiB go to at least 110 GiB, or keep 100$/),
    }]);
    expect(versionRefusals({ allocatedStorageGiB: 100 }, { allocatedStorageGiB: 109 })).toMatchObject([{ from: '100', to: '109' }]);
    // whole GiB, rounded up: 25 -> 27 is 8%, 28 is the least increase
    expect(versionRefusals({ allocatedStorageGiB: 25 }, { allocatedStorageGiB: 27 })).toMatchObject([{ why: expect.stringMatching(/at least 28 GiB/) }]);
    expect(versionRefusals({ allocatedStorageGiB: 25 }, { allocatedStorageGiB: 28 })).toEqual([]);
    // exactly 10% is enough (no floating-point 110.00000000000001)
    expect(versionRefusals({ allocatedStorageGiB: 100 }, { allocatedStorageGiB: 110 })).toEqual([]);
    expect(versionRefusals({ allocatedStorageGiB: 20 }, { allocatedStorageGiB: 22 })).toEqual([]);
  });

  it('versionRefusals: the cache\'s failover turned on in the update that gives a single-node group its first replica is not refused (Deploy blueprint makes it two updates: cache-failover-interim.ts)', async () => {
    const { versionRefusals } = await import('../../../lambdas/lifecycle/version-change.js');
    // starter's cache (replicasPerShard 0, multiAz false) to professional's (1, true)
    expect(versionRefusals({ cacheNodes: 1, cacheAutomaticFailover: false }, { cacheNodes: 2, cacheAutomaticFailover: true })).toEqual([]);
    expect(versionRefusals({ cacheNodes: 1, cacheAutomaticFailover: false }, { cacheNodes: 3, cacheAutomaticFailover: true })).toEqual([]);
  });

  it('versionRefusals: the cache\'s engine version going down is refused (ElastiCache: "you can\'t downgrade to an older engine version"); the same or up goes through', async () => {
    const { versionRefusals } = await import('../../../lambdas/lifecycle/version-change.js');
    // a release that moved Valkey 8.0 -> 8.1, then --blueprint-version back to the release before it
    expect(versionRefusals({ cacheEngineVersion: '8.1' }, { cacheEngineVersion: '8.0' })).toEqual([{
      field: 'cache.engineVersion', from: '8.1', to: '8.0', why: expect.stringMatching(/^ElastiCache cannot downgrade a cache's engine \("You can upgrade to a newer engine version, but you can't downgrade/),
    }]);
    expect(versionRefusals({ cacheEngineVersion: '8.0' }, { cacheEngineVersion: '7.2' })).toMatchObject([{ field: 'cache.engineVersion' }]);
    expect(versionRefusals({ cacheEngineVersion: '8.0' }, { cacheEngineVersion: '8.0' })).toEqual([]);
    expect(versionRefusals({ cacheEngineVersion: '7.2' }, { cacheEngineVersion: '8.1' })).toEqual([]);
  });
});
