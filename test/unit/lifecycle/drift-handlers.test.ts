import { CloudFormationClient, DescribeStackDriftDetectionStatusCommand, DescribeStackResourceDriftsCommand, DetectStackDriftCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DisasterRecoveryRecord } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, setLifecycleEnv, tenant } from './support.js';
import { resetProcessEnv } from '../../support/process-env.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler: detect } = await import('../../../lambdas/lifecycle/detect-drift.js');
const { handler: check } = await import('../../../lambdas/lifecycle/check-drift.js');
const { failedDetectionResources } = await import('../../../lambdas/lifecycle/drift.js');
const { tenantDriftLines } = await import('../../../lib/cli/tenants-drift-command.js');

/** professional (on the shared cluster: a namespace stack in the platform account) with disaster recovery in us-west-2. */
const drConfig = configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } } as never);
const drStack = (status: DisasterRecoveryRecord['status'] = 'ACTIVE'): DisasterRecoveryRecord => ({ region: 'us-west-2', stackName: 'tessera-acme-dr', status, updatedAt: '2026-11-23T00:00:00.000Z' });
const gone = (stack: string) => Object.assign(new Error(`Stack with id ${stack} does not exist`), { name: 'ValidationError' });
/** The region of the client a command was sent with. */
const regionOf = async (call: { thisValue: unknown }) => (call.thisValue as CloudFormationClient).config.region();
const eventTypes = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType);
const run = async (tenantId = 'acme') => {
  const d = await detect({ tenantId }, {} as never);
  return { detections: d.detections, out: await check({ tenantId, detections: d.detections }, {} as never) };
};

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.config] = JSON.stringify(drConfig);
  records.clear();
  for (const m of [cfn, sts, bus]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DetectStackDriftCommand).callsFake((i) => ({ StackDriftDetectionId: `det-${i.StackName}` }));
  cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'IN_SYNC' });
  cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [] });
});

describe('drift of a deleted tenant stack', () => {
  it('records an ACTIVE tenant whose stack was deleted by hand DRIFTED, the stack named DELETED, and announces it', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional' }));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(gone('tessera-acme'));
    const { detections, out } = await run();
    expect(detections).toEqual([
      { stack: 'tessera-acme', kind: 'tenant', error: 'Stack with id tessera-acme does not exist', deleted: true, startedAt: expect.any(String) },
      { stack: 'tessera-acme-namespace', kind: 'namespace', detectionId: 'det-tessera-acme-namespace', startedAt: expect.any(String) },
    ]);
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'DRIFTED' });
    expect(records.get('acme')!.drift).toEqual({
      status: 'DRIFTED', checkedAt: expect.any(String),
      stacks: [
        { stack: 'tessera-acme', status: 'DELETED', reason: 'the stack does not exist (deleted outside Tessera): Stack with id tessera-acme does not exist' },
        { stack: 'tessera-acme-namespace', status: 'IN_SYNC', detectionId: 'det-tessera-acme-namespace' },
      ],
      resources: [{ stack: 'tessera-acme', logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', status: 'DELETED', differences: [] }],
    });
    expect(cfn.commandCalls(DescribeStackDriftDetectionStatusCommand).map((c) => c.args[0].input.StackDriftDetectionId)).toEqual(['det-tessera-acme-namespace']);
    expect(eventTypes()).toEqual(['Tenant Drift Detected']);
    expect(JSON.parse(bus.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!)).toMatchObject({ tenantId: 'acme', driftedCount: 1, stacks: [{ stack: 'tessera-acme', status: 'DELETED' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }] });
  });

  it('still records a stack CloudFormation will not check now (busy) UNKNOWN, announcing nothing', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional' }));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('Stack tessera-acme is in UPDATE_IN_PROGRESS state'), { name: 'ValidationError' }));
    const { out } = await run();
    expect(out.status).toBe('UNKNOWN');
    expect(records.get('acme')!.drift).toMatchObject({ status: 'UNKNOWN', stacks: [{ stack: 'tessera-acme', status: 'UNKNOWN' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }], resources: [] });
    expect(eventTypes()).toEqual([]);
  });
});

describe('drift of a tenant an operation took after the run listed it', () => {
  it('an offboarding holds it (its stack already deleted): nothing detected, recorded or announced', async () => {
    const before = tenant({ status: 'OFFBOARDING', blueprintVersion: '1.0.0', tier: 'professional', lease: { kind: 'offboard', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:o', requestId: 'off-1', acquiredAt: '2026-11-30T00:00:00.000Z', previousStatus: 'ACTIVE' } });
    records.set('acme', before);
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(gone('tessera-acme'));
    const { detections, out } = await run();
    expect(detections).toEqual([]);
    expect(out).toMatchObject({ state: 'COMPLETE', skipped: 'tenant is OFFBOARDING: drift not checked' });
    expect(records.get('acme')).toEqual(before);
    expect(cfn.calls()).toHaveLength(0);
    expect(eventTypes()).toEqual([]);
  });

  it('an operation takes it between Detect drift and Check drift: what was detected is not recorded (the write is conditional on the record as read)', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional' }));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(gone('tessera-acme'));
    const d = await detect({ tenantId: 'acme' }, {} as never);
    // a change takes the lease before Check drift reads the record
    const leased = { ...records.get('acme')!, status: 'UPDATING' as const, lease: { kind: 'change' as const, executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:c', requestId: 'chg-1', acquiredAt: '2026-11-30T00:00:00.000Z', previousStatus: 'ACTIVE' as const } };
    records.set('acme', leased);
    const out = await check({ tenantId: 'acme', detections: d.detections }, {} as never);
    expect(out).toMatchObject({ skipped: 'tenant is UPDATING: drift not checked' });
    expect(records.get('acme')!.drift).toBeUndefined();
    // and one taken while Check drift reads the stacks: its conditional write fails, nothing recorded or announced
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).callsFake(() => {
      records.set('acme', { ...records.get('acme')!, ...leased, updatedAt: '2026-12-01T00:00:00.000Z' });
      return { DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'IN_SYNC' };
    });
    const raced = await check({ tenantId: 'acme', detections: d.detections }, {} as never);
    expect(raced).toMatchObject({ state: 'COMPLETE', skipped: expect.stringMatching(/UPDATING|held by/) });
    expect(records.get('acme')!.drift).toBeUndefined();
    expect(eventTypes()).toEqual([]);
  });
});

describe('drift of a tenant\'s DR stack', () => {
  it('checks tessera-<id>-dr in its recorded region through the tenant account\'s role, and records its drifted resources', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional', disasterRecovery: drStack() }));
    cfn.on(DescribeStackDriftDetectionStatusCommand, { StackDriftDetectionId: 'det-tessera-acme-dr' }).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED' });
    cfn.on(DescribeStackResourceDriftsCommand, { StackName: 'tessera-acme-dr' }).resolves({ StackResourceDrifts: [{
      StackId: 's', LogicalResourceId: 'DrKey', ResourceType: 'AWS::KMS::Key', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(),
      PropertyDifferences: [{ PropertyPath: '/EnableKeyRotation', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' }],
    }] });
    const { detections, out } = await run();
    expect(detections).toEqual([
      { stack: 'tessera-acme', kind: 'tenant', detectionId: 'det-tessera-acme', startedAt: expect.any(String) },
      { stack: 'tessera-acme-namespace', kind: 'namespace', detectionId: 'det-tessera-acme-namespace', startedAt: expect.any(String) },
      { stack: 'tessera-acme-dr', kind: 'dr', region: 'us-west-2', detectionId: 'det-tessera-acme-dr', startedAt: expect.any(String) },
    ]);
    const detectCalls = cfn.commandCalls(DetectStackDriftCommand);
    expect(await Promise.all(detectCalls.map(regionOf))).toEqual(['us-east-1', 'us-east-1', 'us-west-2']);
    const statusCalls = cfn.commandCalls(DescribeStackDriftDetectionStatusCommand);
    expect(await Promise.all(statusCalls.map(regionOf))).toEqual(['us-east-1', 'us-east-1', 'us-west-2']);
    expect(await regionOf(cfn.commandCalls(DescribeStackResourceDriftsCommand, { StackName: 'tessera-acme-dr' })[0])).toBe('us-west-2');
    expect(out.status).toBe('DRIFTED');
    expect(records.get('acme')!.drift).toMatchObject({
      status: 'DRIFTED',
      stacks: [{ stack: 'tessera-acme', status: 'IN_SYNC' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }, { stack: 'tessera-acme-dr', status: 'DRIFTED', detectionId: 'det-tessera-acme-dr' }],
      resources: [{ stack: 'tessera-acme-dr', logicalId: 'DrKey', status: 'MODIFIED', differences: [{ path: '/EnableKeyRotation', type: 'NOT_EQUAL' }] }],
    });
    expect(eventTypes()).toEqual(['Tenant Drift Detected']);
  });

  it('checks a RETAINED DR stack (tenant moved to a tier without DR) and names a deleted one DELETED', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional', disasterRecovery: drStack('RETAINED') }));
    process.env[ENV.config] = JSON.stringify(configWith({ tiers: { professional: { disasterRecovery: 'none' } } } as never));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme-dr' }).rejects(gone('tessera-acme-dr'));
    const { out } = await run();
    expect(out.status).toBe('DRIFTED');
    expect(records.get('acme')!.drift).toMatchObject({
      stacks: [{ stack: 'tessera-acme', status: 'IN_SYNC' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }, { stack: 'tessera-acme-dr', status: 'DELETED', reason: expect.stringMatching(/^the stack does not exist in us-west-2/) }],
      resources: [{ stack: 'tessera-acme-dr', type: 'AWS::CloudFormation::Stack', status: 'DELETED' }],
    });
  });

  it('does not check a DR stack offboarding removed, nor one never recorded', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional', disasterRecovery: drStack('REMOVED') }));
    expect((await run()).detections.map((d) => d.stack)).toEqual(['tessera-acme', 'tessera-acme-namespace']);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional' }));
    expect((await run()).detections.map((d) => d.stack)).toEqual(['tessera-acme', 'tessera-acme-namespace']);
    expect(records.get('acme')!.drift!.status).toBe('IN_SYNC');
  });
});

/**
 * Found by the hostile lc (s12): the daily run's *Detect drift* starts DetectStackDrift; an
 * operator's `tessera tenants update acme --repair` (or any change or upgrade) takes the lease and
 * completes during the 30 s wait; *Check drift* then read the record (ACTIVE, no lease: checkable)
 * and wrote the pre-repair detection, DRIFTED, with a checkedAt after the repair.
 */
describe('drift of a tenant an operation changed while its detection ran', () => {
  const drifted = () => {
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED' });
    cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [{
      StackId: 'tessera-acme', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(),
      PropertyDifferences: [{ PropertyPath: '/BackupRetentionPeriod', ExpectedValue: '7', ActualValue: '1', DifferenceType: 'NOT_EQUAL' }],
    }] });
  };
  const repair = (startedAt: string, endedAt: string) => ({ kind: 'change' as const, requestId: 'repair-1', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-r', startedAt, endedAt, status: 'SUCCEEDED' as const });

  it('a repair that completed between Detect drift and Check drift: the detection is discarded as superseded, the tenant not recorded DRIFTED, no Tenant Drift Detected', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    drifted();
    // GIVEN the drift run started its detection
    const d = await detect({ tenantId: 'acme' }, {} as never);
    expect(d.detections.map((x) => x.detectionId)).toContain('det-tessera-acme');
    // WHEN a repair takes the lease, reverts the drift and completes before Check drift runs
    const endedAt = new Date(Date.now() + 5000).toISOString();
    records.set('acme', { ...records.get('acme')!, updatedAt: endedAt, executions: [repair(new Date(Date.now() + 1000).toISOString(), endedAt)] });
    const out = await check({ tenantId: 'acme', detections: d.detections }, {} as never);
    // THEN what the registry says is what is true after the repair: nothing recorded from the stale detection
    expect(out).toMatchObject({ state: 'COMPLETE', superseded: true, skipped: expect.stringMatching(/^superseded: change repair-1 ended SUCCEEDED at .*, after this detection started/) });
    expect(records.get('acme')!.drift).toBeUndefined();
    expect(eventTypes()).not.toContain('Tenant Drift Detected');
  });

  it('an operation that ended before the detection started does not supersede it: the drift is recorded and announced', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter', executions: [repair('2026-11-30T00:00:00.000Z', '2026-11-30T00:05:00.000Z')] }));
    drifted();
    const { out } = await run();
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'DRIFTED' });
    expect(records.get('acme')!.drift).toMatchObject({ status: 'DRIFTED', resources: expect.arrayContaining([expect.objectContaining({ stack: 'tessera-acme', logicalId: 'Database' })]) });
    expect(eventTypes()).toEqual(['Tenant Drift Detected']);
  });

  it('CloudFormation\'s own detection start (Timestamp) counts when the detection carries none (a run started before this field)', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter', executions: [repair('2026-12-01T00:00:10.000Z', '2026-12-01T00:00:40.000Z')] }));
    drifted();
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED', Timestamp: new Date('2026-12-01T00:00:00.000Z') });
    const out = await check({ tenantId: 'acme', detections: [{ stack: 'tessera-acme', kind: 'tenant', detectionId: 'det-tessera-acme' }] }, {} as never);
    expect(out).toMatchObject({ superseded: true });
    expect(records.get('acme')!.drift).toBeUndefined();
    expect(eventTypes()).toEqual([]);
  });
});

describe('a detection that failed for some resources (hops)', () => {
  it('DETECTION_FAILED with StackDriftStatus IN_SYNC is no verdict: the stack and the tenant are UNKNOWN with the reason, not IN_SYNC', async () => {
    // GIVEN a detection CloudFormation could not finish for one resource (the role cannot read it), nothing drifted among the rest
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({
      DetectionStatus: 'DETECTION_FAILED', StackDriftStatus: 'IN_SYNC', DetectionStatusReason: 'Failed to detect drift on resource [CacheReplicationGroup]: AccessDenied',
    });
    const { out } = await run();
    // THEN the registry does not say IN_SYNC: `tessera tenants drift --status IN_SYNC` must not list a tenant whose check did not cover every resource
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'UNKNOWN' });
    expect(records.get('acme')!.drift).toMatchObject({
      status: 'UNKNOWN',
      stacks: expect.arrayContaining([{ stack: 'tessera-acme', status: 'UNKNOWN', detectionId: 'det-tessera-acme', reason: expect.stringMatching(/^detection failed for some resources \(CloudFormation's StackDriftStatus IN_SYNC covers only those it could check\): Failed to detect drift on resource \[CacheReplicationGroup\]: AccessDenied$/) }]),
    });
    expect(eventTypes()).toEqual([]);
  });

  it('DETECTION_FAILED with a drifted resource found is still DRIFTED (what it found is drift), with the reason', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_FAILED', StackDriftStatus: 'DRIFTED', DetectionStatusReason: 'Failed to detect drift on resource [X]' });
    cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [{ StackId: 's', LogicalResourceId: 'Key', ResourceType: 'AWS::KMS::Key', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(), PropertyDifferences: [{ PropertyPath: '/EnableKeyRotation', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' }] }] });
    const { out } = await run();
    expect(out.status).toBe('DRIFTED');
    expect(records.get('acme')!.drift!.stacks).toContainEqual({ stack: 'tessera-acme', status: 'DRIFTED', detectionId: 'det-tessera-acme', reason: 'Failed to detect drift on resource [X]' });
  });
});

describe('a detection that never ends (hops)', () => {
  it('is waited for 30 minutes, then the stack is recorded UNKNOWN with the reason instead of holding a Map slot until the run times out', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_IN_PROGRESS' });
    const detection = (minutesAgo: number) => [{ stack: 'tessera-acme', kind: 'tenant' as const, detectionId: 'det-1', startedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString() }];
    // a detection 5 minutes old: still waited for
    expect(await check({ tenantId: 'acme', detections: detection(5) }, {} as never)).toMatchObject({ state: 'IN_PROGRESS' });
    // 31 minutes old: recorded UNKNOWN, the loop ends
    const out = await check({ tenantId: 'acme', detections: detection(31) }, {} as never);
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'UNKNOWN' });
    expect(records.get('acme')!.drift!.stacks).toEqual([{ stack: 'tessera-acme', status: 'UNKNOWN', detectionId: 'det-1', reason: expect.stringMatching(/^detection still in progress 31 min after it started \(.*\): not waited for longer \(30 min\); the next run checks again$/) }]);
  });
});

/**
 * Found by the drift review (s16): a Detect drift retried after throttling started DetectStackDrift again on the stacks
 * it had already started (the state machine's retry runs the step on its first input). The detections started so far
 * now ride in the state: a throttled attempt returns them with the stacks still pending, the next starts only those.
 */
describe('Detect drift while the account throttles', () => {
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  const starts = () => cfn.commandCalls(DetectStackDriftCommand).map((c) => c.args[0].input.StackName);

  it('returns what it started with the throttled stack and those after it pending; the next attempt starts only those', async () => {
    // GIVEN professional with a DR stack: three stacks; the namespace stack's DetectStackDrift is throttled once
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional', disasterRecovery: drStack() }));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme-namespace' }).rejectsOnce(throttled()).resolves({ StackDriftDetectionId: 'det-ns' });
    // WHEN
    const first = await detect({ tenantId: 'acme' }, {} as never);
    // THEN no more calls after the throttled one: the tenant stack's detection is kept, the rest pending
    expect(first).toMatchObject({ attempt: 1, pending: ['tessera-acme-namespace', 'tessera-acme-dr'], detections: [{ stack: 'tessera-acme', detectionId: 'det-tessera-acme' }] });
    expect(first.waitSeconds).toBeGreaterThanOrEqual(2);
    expect(first.waitSeconds).toBeLessThanOrEqual(4);
    expect(starts()).toEqual(['tessera-acme', 'tessera-acme-namespace']);
    // AND WHEN the workflow calls it again with the state (detections, attempt)
    const second = await detect({ tenantId: 'acme', detections: first.detections, attempt: first.attempt }, {} as never);
    // THEN the tenant stack is not started again; its detection (and its startedAt) is reused
    expect(starts()).toEqual(['tessera-acme', 'tessera-acme-namespace', 'tessera-acme-namespace', 'tessera-acme-dr']);
    expect(second).toEqual({ tenantId: 'acme', attempt: 2, detections: [
      first.detections[0],
      { stack: 'tessera-acme-namespace', kind: 'namespace', detectionId: 'det-ns', startedAt: expect.any(String) },
      { stack: 'tessera-acme-dr', kind: 'dr', region: 'us-west-2', detectionId: 'det-tessera-acme-dr', startedAt: expect.any(String) },
    ] });
    // AND Check drift reads the three
    await check({ tenantId: 'acme', detections: second.detections }, {} as never);
    expect(records.get('acme')!.drift!.stacks.map((s) => s.detectionId)).toEqual(['det-tessera-acme', 'det-ns', 'det-tessera-acme-dr']);
  });

  it('keeps a later stack it had started when an earlier one is throttled on a later attempt, and fails the step after the last attempt', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'professional', disasterRecovery: drStack() }));
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme-namespace' }).rejects(throttled());
    const earlier = [{ stack: 'tessera-acme', kind: 'tenant' as const, detectionId: 'det-1', startedAt: '2026-12-03T03:00:00.000Z' }, { stack: 'tessera-acme-dr', kind: 'dr' as const, region: 'us-west-2', detectionId: 'det-3', startedAt: '2026-12-03T03:00:01.000Z' }];
    const out = await detect({ tenantId: 'acme', detections: earlier, attempt: 2 }, {} as never);
    expect(out).toMatchObject({ attempt: 3, pending: ['tessera-acme-namespace'], detections: earlier });
    expect(out.waitSeconds).toBeGreaterThanOrEqual(8);
    expect(out.waitSeconds).toBeLessThanOrEqual(16);
    expect(starts()).toEqual(['tessera-acme-namespace']);
    // the sixth attempt gives up: the step fails (the workflow's Catch records the failure beside the last verdict)
    await expect(detect({ tenantId: 'acme', detections: earlier, attempt: 5 }, {} as never)).rejects.toMatchObject({ name: 'Throttling' });
  });
});

/**
 * Found by s23: a resource CloudFormation could not check (DescribeStackResourceDrifts' UNKNOWN, or one a
 * DETECTION_FAILED detection names in DetectionStatusReason) was never read (the filter asked for MODIFIED
 * and DELETED only): the registry said UNKNOWN without naming what was not checked.
 */
describe('resources a detection could not check', () => {
  /** DescribeStackResourceDrifts of the tenant stack as AWS answers it: only the statuses the filter names (the namespace stack: none). */
  const resourceDrifts = (all: Array<{ id: string; type: string; status: 'MODIFIED' | 'DELETED' | 'UNKNOWN' | 'IN_SYNC'; reason?: string }>) =>
    cfn.on(DescribeStackResourceDriftsCommand).callsFake((i) => ({
      StackResourceDrifts: all
        .filter(() => i.StackName === 'tessera-acme')
        .filter((r) => !i.StackResourceDriftStatusFilters || i.StackResourceDriftStatusFilters.includes(r.status))
        .map((r) => ({ StackId: 's', LogicalResourceId: r.id, ResourceType: r.type, StackResourceDriftStatus: r.status, Timestamp: new Date(), ...(r.reason ? { DriftStatusReason: r.reason } : {}) })),
    }));

  it('records UNKNOWN resources with their type and DriftStatusReason, and those a failed detection names with their FailureReason; the CLI prints them', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    const reason = 'Stack (arn:aws:cloudformation:us-east-1:111111111111:stack/tessera-acme/1) failed with message: {"Summary":"Failed to detect drift on resources [CacheReplicationGroup,DataBucketPolicy]","Failures":[{"Resource":"CacheReplicationGroup","FailureReason":"Rate exceeded"},{"Resource":"DataBucketPolicy","FailureReason":"Access Denied"}]}';
    cfn.on(DescribeStackDriftDetectionStatusCommand, { StackDriftDetectionId: 'det-tessera-acme' }).resolves({ DetectionStatus: 'DETECTION_FAILED', StackDriftStatus: 'IN_SYNC', DetectionStatusReason: reason });
    resourceDrifts([
      { id: 'Database', type: 'AWS::RDS::DBInstance', status: 'IN_SYNC' },
      { id: 'CacheReplicationGroup', type: 'AWS::ElastiCache::ReplicationGroup', status: 'UNKNOWN', reason: 'Rate exceeded' },
    ]);
    const { out } = await run();
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', status: 'UNKNOWN' });
    const drift = records.get('acme')!.drift!;
    expect(drift.unchecked).toEqual([
      { stack: 'tessera-acme', logicalId: 'CacheReplicationGroup', type: 'AWS::ElastiCache::ReplicationGroup', reason: 'Rate exceeded' },
      { stack: 'tessera-acme', logicalId: 'DataBucketPolicy', reason: 'Access Denied' },
    ]);
    expect(drift.resources).toEqual([]);
    const text = tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift });
    expect(text).toContain('not checked (2 resources CloudFormation could not check: their drift is unknown):');
    expect(text).toMatch(/CacheReplicationGroup\s+AWS::ElastiCache::ReplicationGroup\s+tessera-acme\s+Rate exceeded/);
    expect(text).toMatch(/DataBucketPolicy\s+-\s+tessera-acme\s+Access Denied/);
  });

  it('a completed detection with an UNKNOWN resource is no IN_SYNC verdict; drifted resources stay beside it', async () => {
    process.env[ENV.config] = JSON.stringify(configWith());
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'IN_SYNC' });
    resourceDrifts([{ id: 'Key', type: 'AWS::KMS::Key', status: 'UNKNOWN', reason: 'Internal Failure' }]);
    const { out } = await run();
    expect(out.status).toBe('UNKNOWN');
    expect(records.get('acme')!.drift!.unchecked).toEqual([{ stack: 'tessera-acme', logicalId: 'Key', type: 'AWS::KMS::Key', reason: 'Internal Failure' }]);
    // with a drifted one too: DRIFTED, both kept
    resourceDrifts([{ id: 'Key', type: 'AWS::KMS::Key', status: 'UNKNOWN', reason: 'Internal Failure' }, { id: 'Database', type: 'AWS::RDS::DBInstance', status: 'MODIFIED' }]);
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED' });
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    expect((await run()).out.status).toBe('DRIFTED');
    expect(records.get('acme')!.drift).toMatchObject({ resources: [{ logicalId: 'Database', status: 'MODIFIED' }], unchecked: [{ logicalId: 'Key' }] });
  });

  it('names the resources of a failed detection whose reason has no JSON (the bracketed list), and none for a reason naming none', async () => {
    expect(failedDetectionResources('Failed to detect drift on resources [A, B]')).toEqual([{ logicalId: 'A' }, { logicalId: 'B' }]);
    expect(failedDetectionResources('Failed to detect drift on resource [CacheReplicationGroup]: AccessDenied')).toEqual([{ logicalId: 'CacheReplicationGroup' }]);
    expect(failedDetectionResources('Internal failure')).toEqual([]);
    expect(failedDetectionResources(undefined)).toEqual([]);
  });
});

/**
 * Found by s23: moto has no DetectStackDrift; the SDK's parse error of its answer ("@aws-sdk XML parse error: unexpected
 * content. Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.")
 * went as it was into the registry and `tessera tenants drift acme`. Now the call, CloudFormation's endpoint and the HTTP
 * status (lambdas/shared/unparsed-answer.ts, as Bedrock's sdk-errors.ts says it); the SDK's words in the log only.
 */
describe('an answer that is not CloudFormation\'s (moto, a proxy)', () => {
  const unparsed = () => Object.assign(new Error('@aws-sdk XML parse error: unexpected content.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { $metadata: { httpStatusCode: 404 } });
  const saved = { ...process.env };
  beforeEach(() => {
    resetProcessEnv(saved, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' });
    delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  });
  afterEach(() => resetProcessEnv(saved));

  it('DetectStackDrift: the step fails naming the call, the endpoint and the status; the recorded error has no SDK hint', async () => {
    const { logger } = await import('../../../lambdas/shared/handler.js');
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => {});
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DetectStackDriftCommand).rejects(unparsed());
    const failure = await detect({ tenantId: 'acme' }, {} as never).then(() => new Error('no failure'), (e: unknown) => e as Error);
    const said = "DetectStackDrift of tessera-acme: CloudFormation's endpoint 127.0.0.1:5000 (AWS_ENDPOINT_URL) answered HTTP 404 with a body that is not a CloudFormation answer (an emulator without this call, such as moto, or a proxy)";
    expect(failure.message).toBe(said);
    expect(warn).toHaveBeenCalledWith('CloudFormation answer not parsed by the AWS SDK', expect.objectContaining({ call: 'DetectStackDrift of tessera-acme', httpStatus: 404, detail: expect.stringContaining('inspect the hidden field {error}.$response') }));
    // The workflow's Catch hands the Lambda's error to Check drift, which records it (no earlier verdict: UNKNOWN with it):
    // the message alone, not `Error: <message>` (the CLI printed `error: Error: DetectStackDrift of …`).
    await check({ tenantId: 'acme', error: { Error: failure.name, Cause: JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [] }) } }, {} as never);
    expect(records.get('acme')!.drift).toMatchObject({ status: 'UNKNOWN', error: said });
    expect(JSON.stringify(records.get('acme')!.drift)).not.toMatch(/\$response|hidden field|Deserialization/);
    warn.mockRestore();
  });

  it('Check drift\'s calls too; without an override no host is named; another error stays as it is', async () => {
    const { logger } = await import('../../../lambdas/shared/handler.js');
    vi.spyOn(logger, 'warn').mockImplementation(() => {});
    delete process.env.AWS_ENDPOINT_URL;
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', tier: 'starter' }));
    cfn.on(DescribeStackDriftDetectionStatusCommand).rejects(unparsed());
    await expect(run()).rejects.toThrow(/^DescribeStackDriftDetectionStatus of tessera-acme: CloudFormation's endpoint answered HTTP 404 with a body that is not a CloudFormation answer \(a proxy between the platform and AWS\?\)$/);
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    cfn.on(DescribeStackDriftDetectionStatusCommand).rejects(denied);
    await expect(run()).rejects.toBe(denied);
    vi.restoreAllMocks();
  });
});
