import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import type { DisasterRecoveryRecord, TenantRecord } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { drRegionConflict } from '../../../lambdas/lifecycle/dr-region-change.js';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, EXECUTION_ARN, setLifecycleEnv, state, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
// Begin change asks the blueprint catalog whether the target tier is published at the version (HeadObject): it is.
mockStrict(S3Client, 's3', S3ServiceException).on(HeadObjectCommand).resolves({});

/**
 * A tier change between two DR tiers whose DR regions differ would leave the first DR stack out of
 * the registry (and of offboarding): refused by the admin API (400) and by *Begin change* (a
 * StartExecution from elsewhere), recorded by *Record failure*. professional has DR in us-west-2;
 * `residency` is professional with its own pool and DR in eu-west-1; starter has no DR, and here
 * professional's tenant network (a /20 with egress), so that a move to it is no network migration
 * (tier-migration.ts).
 */
function residencyTier() {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.professional) as any;
  tier.network.tenantCidrPool = '10.112.0.0/12';
  tier.disasterRecovery = { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 };
  return tier;
}
const drConfig = configWith({
  allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'],
  tiers: {
    professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } }, residency: residencyTier(),
    starter: { network: { tenantVpcPrefixLength: 20, internetEgress: true } },
  },
} as never);
const drStack = (status: DisasterRecoveryRecord['status'] = 'ACTIVE', region = 'us-west-2'): DisasterRecoveryRecord => ({ region, stackName: 'tessera-acme-dr', status, updatedAt: '2026-11-23T00:00:00.000Z' });
/** acme on professional (a /20 of its pool) with its DR stack in us-west-2. */
const drTenant = (extra: Partial<TenantRecord> = {}) => tenant({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', vpcCidr: '10.80.0.0/20', disasterRecovery: drStack(), ...extra });

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.config] = JSON.stringify(drConfig);
  records.clear();
  for (const m of [cfn, events, sfn, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
});

describe('drRegionConflict', () => {
  const tiers = drConfig.tiers;
  it('is a conflict only for a recorded, not removed DR stack and a target tier with DR in another region', () => {
    expect(drRegionConflict({ disasterRecovery: drStack() }, tiers.residency)).toEqual({ stackName: 'tessera-acme-dr', recordedRegion: 'us-west-2', status: 'ACTIVE', targetRegion: 'eu-west-1' });
    for (const status of ['DEPLOYING', 'RETAINED'] as const) expect(drRegionConflict({ disasterRecovery: drStack(status) }, tiers.residency)).toMatchObject({ status });
    // the same DR region, a tier without DR (the stack stays RETAINED), an offboarded DR stack, no DR stack at all
    expect(drRegionConflict({ disasterRecovery: drStack() }, tiers.professional)).toBeUndefined();
    expect(drRegionConflict({ disasterRecovery: drStack() }, tiers.starter)).toBeUndefined();
    expect(drRegionConflict({ disasterRecovery: drStack('REMOVED') }, tiers.residency)).toBeUndefined();
    expect(drRegionConflict({}, tiers.residency)).toBeUndefined();
  });
});

describe('Begin change: a DR region change', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
  const recordFailure = (await import('../../../lambdas/lifecycle/record-failure.js')).handler;

  it('is refused (ChangeRefused, terminal) under the lease, and Record failure records it: tenant ACTIVE, DR stack untouched', async () => {
    records.set('acme', drTenant());
    const refused = await begin({ ...state(), change: { tier: 'residency' } }).catch((e: Error) => e);
    expect(refused).toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/tier = "residency": its DR region is eu-west-1, but tenant acme's DR stack tessera-acme-dr is in us-west-2 \(ACTIVE\).*offboard the tenant.*a tier whose DR region is us-west-2/) });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change', executionArn: EXECUTION_ARN } });
    // WHEN the workflow's Catch runs Record failure (no stack is dead: nothing is cleaned up)
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }] });
    const out = await recordFailure({ ...state(), kind: 'change', failedStep: 'Begin change', error: { Error: 'ChangeRefused', Cause: JSON.stringify({ errorMessage: (refused as Error).message, errorType: 'ChangeRefused' }) } });
    // THEN the refusal is in the registry and on the bus; the tenant keeps its tier and DR stack
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Begin change', reason: expect.stringContaining('ChangeRefused: tier = "residency"') });
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', disasterRecovery: drStack(), failure: { step: 'Begin change', reason: expect.stringContaining('DR region is eu-west-1') } });
    expect(after.lease).toBeUndefined();
    expect(after.executions.at(-1)).toMatchObject({ kind: 'change', executionArn: EXECUTION_ARN, status: 'FAILED' });
    expect(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).toEqual(['Tenant Lifecycle Failed']);
  });

  it('lets through a move to a tier without DR (the DR stack stays, RETAINED later), to the same DR region, and after the DR stack was removed', async () => {
    records.set('acme', drTenant());
    await expect(begin({ ...state(), change: { tier: 'starter' } })).resolves.toMatchObject({ tier: 'starter', previousTier: 'professional' });
    expect(records.get('acme')!.disasterRecovery).toEqual(drStack());
    records.set('acme', drTenant({ tier: 'residency', disasterRecovery: drStack('RETAINED') }));
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toMatchObject({ tier: 'professional', drRegion: 'us-west-2' });
    records.set('acme', drTenant({ tier: 'starter', disasterRecovery: drStack('REMOVED') }));
    await expect(begin({ ...state(), change: { tier: 'residency' } })).resolves.toMatchObject({ tier: 'residency', drRegion: 'eu-west-1' });
  });
});

describe('admin API PATCH: a DR region change', async () => {
  const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';
  const { handler } = await import('../../../lambdas/admin/admin-api.js');
  const patch = (change: object) => handler({ httpMethod: 'PATCH', resource: '/admin/tenants/{id}', headers: {}, requestContext: { requestId: 'api-req-1' }, pathParameters: { id: 'acme' }, body: JSON.stringify(change) } as unknown as APIGatewayProxyEvent);
  beforeEach(() => {
    process.env[ENV.changeStateMachineArn] = `${MACHINE}change`;
  });

  it('is a 400 naming tier, both regions and what to do; nothing starts, the record is untouched', async () => {
    const before = drTenant();
    records.set('acme', before);
    const res = await patch({ tier: 'residency' });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toEqual({
      type: 'invalid_request_error', code: 'dr_region_change', param: 'tier',
      message: expect.stringMatching(/^tier = "residency": its DR region is eu-west-1, but tenant acme's DR stack tessera-acme-dr is in us-west-2 \(ACTIVE\);.*offboard the tenant.*or move it to a tier whose DR region is us-west-2/),
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('starts a move to a tier without DR or with the same DR region', async () => {
    records.set('acme', drTenant());
    expect((await patch({ tier: 'starter' })).statusCode).toBe(202);
    records.set('acme', drTenant({ tier: 'residency', disasterRecovery: drStack('RETAINED') }));
    expect((await patch({ tier: 'professional' })).statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
  });
});
