import { CloudFormationClient, DescribeStackDriftDetectionStatusCommand, DescribeStackResourceDriftsCommand, DescribeStacksCommand, DetectStackDriftCommand, type Stack, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { APIGatewayClient, CreateUsagePlanKeyCommand, DeleteUsagePlanKeyCommand, GetUsagePlansCommand, APIGatewayServiceException } from '@aws-sdk/client-api-gateway';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, setLifecycleEnv, state, tenant, useConfig } from './support.js';
import { configWith } from '../../support/config-with.js';

// A change stopped seconds after ExecuteChangeSet, its stack still UPDATE_IN_PROGRESS (real AWS): the update ends later,
// and the drift workflow (Check drift) is what makes the registry catch up with the stack (stack-standing.ts driftStanding).
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const gw = mockStrict(APIGatewayClient, 'apigateway', APIGatewayServiceException);
/** Step Functions, asked by the status-change rule whether the stopped execution runs again (a redrive). */
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const { handler: endStopped } = await import('../../../lambdas/lifecycle/end-stopped-execution.js');
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: detect } = await import('../../../lambdas/lifecycle/detect-drift.js');
const { handler: check } = await import('../../../lambdas/lifecycle/check-drift.js');
const { tenantDriftLines } = await import('../../../lib/cli/tenants-drift-command.js');
const { namespaceNotDeployed } = await import('../../../lambdas/lifecycle/stack-standing.js');
const { tenantDetails } = await import('../../../lib/cli/format.js');

const CHANGE = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:chg-1';
const OUTPUTS_A = { ApiUrl: 'https://a.example.com' };
/** The tenant stack as DescribeStacks answers it: this tenant's tags, the tier and version it runs, its outputs. */
const stack = (status: string, tier: string, version = '1.0.0', outputs: Record<string, string> = { ApiUrl: `https://${tier}.example.com` }): Stack => ({
  StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: status as Stack['StackStatus'], CreationTime: new Date(),
  Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:tier', Value: tier }, { Key: 'tessera:blueprint-version', Value: version }],
  Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
});
const stackIs = (s: Stack) => cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [s] });
const events = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
/** acme on starter 1.0.0, held by a change to professional that ExecuteChangeSet started. */
const changing = (): TenantRecord => tenant({
  usageKey: { id: 'key-1', value: 'v', plan: 'plan-s' },
  status: 'UPDATING', tier: 'starter', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A, currentStep: 'Check blueprint',
  lease: { kind: 'change', executionArn: CHANGE, requestId: 'chg-1', acquiredAt: '2026-11-30T00:00:00.000Z', previousStatus: 'ACTIVE' },
  executions: [{ kind: 'change', requestId: 'chg-1', executionArn: CHANGE, startedAt: '2026-11-30T00:00:00.000Z', status: 'RUNNING' }],
});
/** The operator stops the change while its stack is still UPDATE_IN_PROGRESS to professional. */
const stopWhileUpdating = async () => {
  records.set('acme', changing());
  stackIs(stack('UPDATE_IN_PROGRESS', 'professional'));
  await endStopped({ detail: { executionArn: CHANGE, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'chg-1' } }) } } as never, {} as never);
  // The drift run comes hours later (a detection started before the stop's end would be discarded as superseded).
  const r = records.get('acme')!;
  records.set('acme', { ...r, executions: r.executions.map((e) => ({ ...e, endedAt: '2026-11-30T00:05:00.000Z' })) });
};
const driftRun = async () => {
  const d = await detect({ tenantId: 'acme' }, {} as never);
  return check({ tenantId: 'acme', detections: d.detections }, {} as never);
};

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  for (const m of [cfn, sts, bus, gw, sfn]) m.reset();
  sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', executionArn: CHANGE, stateMachineArn: 'sm', startDate: new Date() });
  // The tiers' usage plans; acme's key (key-1) in starter's until a move (CreateUsagePlanKey) puts it elsewhere.
  gw.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }, { id: 'plan-p', name: 'tessera-professional' }] });
  gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-s', name: 'tessera-starter' }] });
  gw.on(CreateUsagePlanKeyCommand).resolves({});
  gw.on(DeleteUsagePlanKeyCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DetectStackDriftCommand).callsFake((i) => ({ StackDriftDetectionId: `det-${i.StackName}` }));
  cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'IN_SYNC' });
  cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [] });
});

describe('a change stopped while its stack was UPDATE_IN_PROGRESS', () => {
  it('records the pending update on the failure, keeping the tier', async () => {
    await stopWhileUpdating();
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0', stackOutputs: OUTPUTS_A });
    expect(after.lease).toBeUndefined();
    expect(after.failure).toMatchObject({
      kind: 'change', executionArn: CHANGE,
      reason: expect.stringContaining('still UPDATE_IN_PROGRESS (to tier professional, version 1.0.0)'),
      stackUpdating: { stack: 'tessera-acme', status: 'UPDATE_IN_PROGRESS', tier: 'professional', blueprintVersion: '1.0.0' },
    });
    expect(after.failure!.stackUpdating!.resolved).toBeUndefined();
  });

  it('the update completes: the next drift run records the stack on professional, resolves the failure\'s pending update and announces it', async () => {
    await stopWhileUpdating();
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', { ApiUrl: 'https://b.example.com' }));
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await driftRun();
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', stackOutputs: { ApiUrl: 'https://b.example.com' } });
    const standing = { at: expect.any(String), stack: 'tessera-acme', stackStatus: 'UPDATE_COMPLETE', from: { tier: 'starter', blueprintVersion: '1.0.0' }, to: { tier: 'professional', blueprintVersion: '1.0.0' }, executionArn: CHANGE };
    expect(after.drift).toMatchObject({ status: 'IN_SYNC', standing });
    expect(after.failure!.stackUpdating!.resolved).toEqual({ at: after.drift!.checkedAt, stackStatus: 'UPDATE_COMPLETE', recorded: true });
    expect(out).toMatchObject({ state: 'COMPLETE', status: 'IN_SYNC', standing });
    expect(events().map((e) => e.DetailType)).toEqual(['Tenant Drift Detected']);
    expect(JSON.parse(events()[0].Detail!)).toMatchObject({ tenantId: 'acme', status: 'IN_SYNC', driftedCount: 0, standing });
    expect(tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: after.drift })).toContain(`registry caught up ${after.drift!.checkedAt}: stack tessera-acme was UPDATE_COMPLETE on tier professional, version 1.0.0 while the record said tier starter, version 1.0.0 (its update completed after ${CHANGE} ended): recorded`);
    // AND the usage key left starter's plan for professional's (the change's Move usage key never ran), recorded there
    expect(gw.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-s', keyId: 'key-1' }]);
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-p', keyId: 'key-1', keyType: 'API_KEY' }]);
    expect(after.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(out).toMatchObject({ usageKey: { outcome: 'moved' } });
    // AND professional runs on the shared cluster: the standing says its namespace stack was not deployed, and what deploys it
    expect(after.drift!.standing!.namespace).toBe('tier professional runs on the shared cluster and the operation ended before Deploy namespace: namespace stack tessera-acme-namespace (the tier\'s compute quota) is not deployed for it; tessera tenants update acme --repair deploys it');
    // the next run finds the record and the stack agreeing: nothing more written about it, nothing announced; the catch-up stays visible
    bus.resetHistory();
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    await driftRun();
    expect(records.get('acme')).toMatchObject({ tier: 'professional', drift: { standing } });
    expect(events()).toEqual([]);
  });

  it('its Tenant Drift Detected refused by the bus (throttled): the catch-up stays owed on the record, and the step\'s retry (a run that finds the registry caught up) sends it; before, it was lost', async () => {
    await stopWhileUpdating();
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', { ApiUrl: 'https://b.example.com' }));
    bus.reset();
    // PutEvents answers 200 with the entry refused (FailedEntryCount), as EventBridge throttles an entry
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    await expect(driftRun()).rejects.toMatchObject({ name: 'ThrottlingException' });
    const refused = records.get('acme')!;
    expect(refused).toMatchObject({ tier: 'professional', drift: { standing: { to: { tier: 'professional' } } } });
    expect(refused.owedAnnouncements).toEqual([expect.objectContaining({ detailType: 'Tenant Drift Detected', error: expect.stringContaining('ThrottlingException'), detail: expect.objectContaining({ standing: expect.objectContaining({ from: { tier: 'starter', blueprintVersion: '1.0.0' } }) }) })]);
    // WHEN the bus takes it again and Step Functions runs the step again (the registry is caught up: nothing new to record)
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    await driftRun();
    // THEN the catch-up is announced once, and nothing is owed
    expect(events().map((e) => e.DetailType)).toEqual(['Tenant Drift Detected']);
    expect(JSON.parse(events()[0].Detail!)).toMatchObject({ tenantId: 'acme', standing: { from: { tier: 'starter', blueprintVersion: '1.0.0' }, to: { tier: 'professional', blueprintVersion: '1.0.0' } } });
    expect(records.get('acme')!.owedAnnouncements).toBeUndefined();
  });

  it('a bus refusing for days: the owed drift announcements do not pile up (the latest correction and the latest check kept)', async () => {
    await stopWhileUpdating();
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', { ApiUrl: 'https://b.example.com' }));
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    await expect(driftRun()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // three more daily runs, each finding a resource drifted (each owes its announcement)
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED' });
    cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [{ StackId: 's', LogicalResourceId: 'Bucket', ResourceType: 'AWS::S3::Bucket', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(), PropertyDifferences: [] }] });
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    for (let day = 0; day < 3; day++) await expect(driftRun()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const owed = records.get('acme')!.owedAnnouncements!;
    expect(owed.map((a) => [a.detailType, a.detail.standing !== undefined, a.detail.status])).toEqual([['Tenant Drift Detected', true, 'IN_SYNC'], ['Tenant Drift Detected', false, 'DRIFTED']]);
  });

  it('the update rolls back: the drift run changes neither tier, version nor outputs and announces nothing (only the pending update is resolved)', async () => {
    await stopWhileUpdating();
    stackIs(stack('UPDATE_ROLLBACK_COMPLETE', 'starter', '1.0.0', OUTPUTS_A));
    bus.resetHistory();
    const out = await driftRun();
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0', stackOutputs: OUTPUTS_A });
    expect(after.drift!.standing).toBeUndefined();
    expect(after.failure!.stackUpdating!.resolved).toEqual({ at: after.drift!.checkedAt, stackStatus: 'UPDATE_ROLLBACK_COMPLETE', recorded: false });
    expect(out).toMatchObject({ status: 'IN_SYNC' });
    expect(out.standing).toBeUndefined();
    expect(events()).toEqual([]);
    // the key stays in starter's plan: the tier did not change
    expect(gw.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(after.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-s' });
  });

  it('stopped once its update had completed: End stopped execution records professional and moves the usage key into professional\'s plan', async () => {
    records.set('acme', changing());
    stackIs(stack('UPDATE_COMPLETE', 'professional'));
    const out = await endStopped({ detail: { executionArn: CHANGE, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'chg-1' } }) } } as never, {} as never);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' } });
    expect(records.get('acme')!.failure!.reason).toContain('the usage key is moved into that tier\'s usage plan next');
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-p']);
    expect(out).toMatchObject({ ended: true, usageKey: { outcome: 'moved' } });
    expect(JSON.parse(events().find((e) => e.DetailType === 'Tenant Lifecycle Failed')!.Detail!)).toMatchObject({ usageKey: { outcome: 'moved' } });
  });

  // Check blueprint records the new tier (its outputs, its version) as soon as the tenant stack completes; a later step
  // failing (the customizations, the namespace, Move usage key) or a stop then leaves no standing to record: the record
  // already says professional. Before, only a standing moved the key, so it stayed in starter's plan until the drift run.
  const pastCheckBlueprint = (): TenantRecord => ({ ...changing(), tier: 'professional', stackOutputs: { ApiUrl: 'https://professional.example.com' }, currentStep: 'Check customizations' });

  it('a change that fails after Check blueprint recorded its new tier: Record failure moves the usage key into that tier\'s plan and says so', async () => {
    records.set('acme', pastCheckBlueprint());
    stackIs(stack('UPDATE_COMPLETE', 'professional'));
    const out = await recordFailure({
      request: { ...state().request, requestId: 'chg-1' }, executionArn: CHANGE, kind: 'change', failedStep: 'Check customizations',
      error: { Error: 'StackFailed', Cause: JSON.stringify({ errorType: 'StackFailed', errorMessage: 'customization audit: stack tessera-acme-custom-audit is UPDATE_ROLLBACK_COMPLETE' }) },
    }, {} as never);
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', failure: { step: 'Check customizations', kind: 'change' } });
    expect(after.lease).toBeUndefined();
    expect(gw.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-s', keyId: 'key-1' }]);
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-p', keyId: 'key-1', keyType: 'API_KEY' }]);
    expect(after.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(out).toMatchObject({ usageKey: { outcome: 'moved', note: expect.stringContaining('usage plan tessera-professional (plan-p) of tier professional') } });
    expect(JSON.parse(events().find((e) => e.DetailType === 'Tenant Lifecycle Failed')!.Detail!)).toMatchObject({ usageKey: { outcome: 'moved' } });
  });

  it('a change stopped after Check blueprint recorded its new tier: End stopped execution moves the usage key into that tier\'s plan', async () => {
    records.set('acme', pastCheckBlueprint());
    stackIs(stack('UPDATE_COMPLETE', 'professional'));
    const out = await endStopped({ detail: { executionArn: CHANGE, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'chg-1' } }) } } as never, {} as never);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' } });
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-p']);
    expect(out).toMatchObject({ ended: true, usageKey: { outcome: 'moved' } });
  });

  it('a failed change that kept the tier (its key in that tier\'s plan): nothing moved, nothing said about the key', async () => {
    records.set('acme', { ...changing(), currentStep: 'Check customizations' });
    stackIs(stack('UPDATE_COMPLETE', 'starter'));
    const out = await recordFailure({
      request: { ...state().request, requestId: 'chg-1' }, executionArn: CHANGE, kind: 'change', failedStep: 'Check customizations',
      error: { Error: 'StackFailed', Cause: JSON.stringify({ errorType: 'StackFailed', errorMessage: 'customization audit failed' }) },
    }, {} as never);
    expect(gw.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(gw.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
    expect(records.get('acme')!.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-s' });
    expect(out).not.toHaveProperty('usageKey');
  });

  it('a move the drift run owes (usageKey.movePending) is made even when there is no standing to record', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A, usageKey: { id: 'key-1', value: 'v', plan: 'plan-s', movePending: { tier: 'professional', at: '2026-12-05T03:00:00.000Z', error: 'TooManyRequestsException: Rate exceeded' } } }));
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', OUTPUTS_A));
    const out = await driftRun();
    expect(out.standing).toBeUndefined();
    expect(records.get('acme')!.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-p']);
  });

  it('the stack is gone (deleted outside Tessera) or no longer this tenant\'s: the drift run resolves the pending update (nothing to wait for), keeping tier and version', async () => {
    // Before, the pending update stayed unresolved for good and PATCH to the recorded tier answered 409
    // stack_update_pending pointing to a drift check that could never resolve it.
    for (const gone of [
      () => cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' })),
      () => stackIs({ ...stack('UPDATE_COMPLETE', 'professional'), Tags: [{ Key: 'tessera:tenant-id', Value: 'other' }] }),
    ]) {
      await stopWhileUpdating();
      gone();
      await driftRun();
      const after = records.get('acme')!;
      expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0', stackOutputs: OUTPUTS_A });
      expect(after.failure!.stackUpdating!.resolved).toEqual({ at: after.drift!.checkedAt, stackStatus: 'NO_TENANT_STACK', recorded: false });
    }
  });

  it('still updating at the drift run: nothing recorded about it, the pending update stays', async () => {
    await stopWhileUpdating();
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('Stack tessera-acme is in UPDATE_IN_PROGRESS state'), { name: 'ValidationError' }));
    bus.resetHistory();
    await driftRun();
    expect(records.get('acme')).toMatchObject({ tier: 'starter', failure: { stackUpdating: { status: 'UPDATE_IN_PROGRESS' } } });
    expect(records.get('acme')!.failure!.stackUpdating!.resolved).toBeUndefined();
    expect(events()).toEqual([]);
  });

  it('an operation holds the tenant: the drift run records nothing, also when it takes the lease while the stack is read', async () => {
    await stopWhileUpdating();
    stackIs(stack('UPDATE_COMPLETE', 'professional'));
    const repair = { kind: 'change' as const, executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:chg-2', requestId: 'chg-2', acquiredAt: '2026-12-01T00:00:00.000Z', previousStatus: 'ACTIVE' as const };
    // held when the run reads it
    const held = { ...records.get('acme')!, status: 'UPDATING' as const, lease: repair };
    records.set('acme', held);
    bus.resetHistory();
    expect(await driftRun()).toMatchObject({ skipped: 'tenant is UPDATING: drift not checked' });
    expect(records.get('acme')).toEqual(held);
    // taken (a suspend keeps the status ACTIVE) between Check drift's read of the record and its write
    const free = { ...held, status: 'ACTIVE' as const, lease: undefined };
    records.set('acme', free);
    const d = await detect({ tenantId: 'acme' }, {} as never);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).callsFake(() => {
      records.set('acme', { ...records.get('acme')!, lease: { ...repair, kind: 'suspend' }, updatedAt: '2026-12-01T00:00:01.000Z' });
      return { Stacks: [stack('UPDATE_COMPLETE', 'professional')] };
    });
    const raced = await check({ tenantId: 'acme', detections: d.detections }, {} as never);
    expect(raced).toMatchObject({ state: 'COMPLETE', skipped: expect.stringContaining('held by suspend') });
    expect(records.get('acme')).toMatchObject({ tier: 'starter', stackOutputs: OUTPUTS_A });
    expect(records.get('acme')!.drift).toBeUndefined();
    expect(records.get('acme')!.failure!.stackUpdating!.resolved).toBeUndefined();
    expect(events()).toEqual([]);
  });

  it('without a recorded pending update (a dead lease ended by a request that cannot read the stack), a stack UPDATE_COMPLETE on another tier is recorded too', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A }));
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.1.0'));
    const out = await driftRun();
    expect(records.get('acme')).toMatchObject({ tier: 'professional', blueprintVersion: '1.1.0', drift: { standing: { from: { tier: 'starter', blueprintVersion: '1.0.0' }, to: { tier: 'professional', blueprintVersion: '1.1.0' } } } });
    expect(records.get('acme')!.drift!.standing!.executionArn).toBeUndefined();
    expect(out.standing).toBeDefined();
    expect(events().map((e) => e.DetailType)).toEqual(['Tenant Drift Detected']);
  });

  it('a stack that is not this tenant\'s (another request tag) is never taken for its standing', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A }));
    const foreign = stack('UPDATE_COMPLETE', 'professional');
    stackIs({ ...foreign, Tags: foreign.Tags!.map((t) => (t.Key === 'tessera:request-id' ? { ...t, Value: 'someone-else' } : t)) });
    await driftRun();
    expect(records.get('acme')).toMatchObject({ tier: 'starter', stackOutputs: OUTPUTS_A });
    expect(events()).toEqual([]);
  });
});

// Tenants left inconsistent before the key followed a recorded tier (or a plan key changed by hand): the daily Check drift
// asks API Gateway where each ACTIVE tenant's key is (GetUsagePlans keyId: one call) and puts it in its tier's plan.
describe('the daily drift run checks the usage key against the recorded tier', () => {
  const active = (plan: string) => records.set('acme', tenant({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A, usageKey: { id: 'key-1', value: 'v', plan } }));
  const keyCalls = () => gw.commandCalls(GetUsagePlansCommand).filter((c) => c.args[0].input.keyId === 'key-1').length;
  beforeEach(() => stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', OUTPUTS_A)));

  it('a key put in another tier\'s plan by hand (the record says professional\'s): moved, recorded on the drift record, announced, shown', async () => {
    active('plan-p');
    const out = await driftRun();
    expect(gw.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-s', keyId: 'key-1' }]);
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input)).toEqual([{ usagePlanId: 'plan-p', keyId: 'key-1', keyType: 'API_KEY' }]);
    // the plans the key is in asked once (not again by the move); the tier's plan, which the key is not in, listed once
    expect(gw.commandCalls(GetUsagePlansCommand).map((c) => c.args[0].input.keyId)).toEqual(['key-1', undefined]);
    const after = records.get('acme')!;
    expect(after.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    const note = 'usage key key-1 moved into usage plan tessera-professional (plan-p) of tier professional (it was in tessera-starter)';
    expect(out).toMatchObject({ usageKey: { outcome: 'moved', note } });
    expect(after.drift!.usageKey).toEqual({ at: after.drift!.checkedAt, outcome: 'moved', note });
    expect(JSON.parse(events().find((e) => e.DetailType === 'Tenant Drift Detected')!.Detail!)).toMatchObject({ driftedCount: 0, usageKey: { outcome: 'moved', note } });
    expect(tenantDetails(after)).toContain(`\nkey fixed   ${after.drift!.checkedAt}: the key was not in its tier's usage plan alone: ${note}`);
    expect(tenantDriftLines({ tenantId: 'acme', status: 'ACTIVE', drift: after.drift })).toContain(`usage key corrected ${after.drift!.checkedAt}`);
    // AND the next run finds it right: one call, nothing written, the correction kept, nothing announced
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    const before = events().length;
    const again = await driftRun();
    expect(again).toMatchObject({ usageKey: { outcome: 'in-plan' } });
    expect(records.get('acme')!.drift!.usageKey).toEqual(after.drift!.usageKey);
    expect(events().length).toBe(before);
  });

  it('a key in no plan (cut off at the edge): put in its tier\'s plan (GetUsagePlans listing the plans to find it)', async () => {
    active('plan-p');
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [] });
    const out = await driftRun();
    expect(gw.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['plan-p']);
    expect(gw.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
    expect(out).toMatchObject({ usageKey: { outcome: 'moved', note: expect.stringContaining('(it was in no usage plan)') } });
    expect(records.get('acme')!.drift!.usageKey).toMatchObject({ outcome: 'moved' });
  });

  it('a key already in its tier\'s plan alone, recorded so: one GetUsagePlans, nothing moved, written or announced', async () => {
    active('plan-p');
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    const out = await driftRun();
    expect(out).toMatchObject({ status: 'IN_SYNC', usageKey: { outcome: 'in-plan' } });
    expect(gw.calls()).toHaveLength(1);
    expect(keyCalls()).toBe(1);
    expect(records.get('acme')!.drift!.usageKey).toBeUndefined();
    expect(records.get('acme')!.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(events()).toHaveLength(0);
  });

  it('API Gateway not answering where the key is: unchecked, nothing written nor recorded pending', async () => {
    active('plan-p');
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const out = await driftRun();
    expect(out).toMatchObject({ usageKey: { outcome: 'unchecked', note: expect.stringContaining('GetUsagePlans keyId=key-1: TooManyRequestsException: Rate exceeded') } });
    expect(records.get('acme')!.usageKey).toEqual({ id: 'key-1', value: 'v', plan: 'plan-p' });
    expect(records.get('acme')!.drift!.usageKey).toBeUndefined();
  });

  it('a tenant an operation holds: the key is neither read nor moved', async () => {
    records.set('acme', { ...changing(), usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' } });
    await driftRun();
    expect(gw.calls()).toHaveLength(0);
  });
});

describe('namespaceNotDeployed', () => {
  it('names the namespace stack and the repair for a shared-compute tier; nothing for a dedicated one or a tier the config lacks', () => {
    expect(namespaceNotDeployed('acme', 'starter')).toMatch(/^tier starter runs on the shared cluster .*namespace stack tessera-acme-namespace .*tessera tenants update acme --repair deploys it$/);
    expect(namespaceNotDeployed('acme', 'enterprise')).toBeUndefined();
    expect(namespaceNotDeployed('acme', 'gone')).toBeUndefined();
  });
});

// s39k: a DR tier's change stopped while its DR stack's change set ran records the DR stack as updating (its change set
// marked on the lease). The drift check resolved every pending update on the tenant stack: agreeing with the record, it
// resolved the DR stack's at once, while that stack still updated (PATCH back then met nothing_to_change mid-update).
describe('a pending update of the DR stack', async () => {
  const { driftStanding } = await import('../../../lambdas/lifecycle/stack-standing.js');
  const AT = '2026-12-06T03:00:00.000Z';
  const drStackIs = (status: string) => cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{ ...stack(status, 'professional', '2.0.0'), StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1' }] });
  const pendingDr = (): TenantRecord => tenant({
    status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', stackName: 'tessera-acme', stackOutputs: OUTPUTS_A,
    disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-11-30T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } },
    failure: { step: 'Check DR blueprint', reason: 'execution ABORTED …', at: '2026-11-30T00:05:00.000Z', kind: 'change', executionArn: CHANGE,
      stackUpdating: { stack: 'tessera-acme-dr', status: 'CHANGE_SET_EXECUTING', tier: 'professional', blueprintVersion: '2.0.0' } },
  });

  it('stays pending while the DR stack updates (the tenant stack agreeing with the record), and is resolved on the DR stack once it is stable', async () => {
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', OUTPUTS_A));
    drStackIs('UPDATE_IN_PROGRESS');
    expect(await driftStanding(pendingDr(), AT)).toEqual({ changes: {} });
    drStackIs('UPDATE_COMPLETE');
    const out = await driftStanding(pendingDr(), AT);
    expect(out.changes.failure!.stackUpdating!.resolved).toEqual({ at: AT, stackStatus: 'UPDATE_COMPLETE', recorded: false });
  });

  it('is resolved NO_DR_STACK when the DR stack is gone', async () => {
    stackIs(stack('UPDATE_COMPLETE', 'professional', '1.0.0', OUTPUTS_A));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).rejects(Object.assign(new Error('Stack with id tessera-acme-dr does not exist'), { name: 'ValidationError' }));
    const out = await driftStanding(pendingDr(), AT);
    expect(out.changes.failure!.stackUpdating!.resolved).toEqual({ at: AT, stackStatus: 'NO_DR_STACK', recorded: false });
  });
});

// A move off a tier with DR (professional, DR in us-west-2 here) to one without (starter), ended after its primary's update
// went through and before Check blueprint recorded it: the standing records starter, and the DR stack with it as Check
// blueprint would (dr-tier-standing.ts): RETAINED, its bucket no longer a replica from then on. Before, the DR record
// stayed ACTIVE with no replicationStoppedAt on a tier without DR (the offboarding archived the DR bucket as a replica).
describe('a move off a DR tier recorded from its stack\'s tags (a standing)', () => {
  const drConfig = configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 12 } } } });
  const DR = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE' as const, updatedAt: '2026-11-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } };
  const leavingDr = (): TenantRecord => ({ ...changing(), tier: 'professional', usageKey: { id: 'key-1', value: 'v', plan: 'plan-p' }, disasterRecovery: DR });
  const drStack: Stack = { ...stack('CREATE_COMPLETE', 'professional'), StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1' };
  beforeEach(() => {
    useConfig(drConfig);
    gw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-p', name: 'tessera-professional' }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [drStack] });
  });

  it('End stopped execution, the update complete: starter recorded, the DR stack RETAINED with replicationStoppedAt', async () => {
    records.set('acme', leavingDr());
    stackIs(stack('UPDATE_COMPLETE', 'starter'));
    await endStopped({ detail: { executionArn: CHANGE, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'chg-1' } }) } } as never, {} as never);
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starter', disasterRecovery: { ...DR, status: 'RETAINED', updatedAt: expect.any(String), replicationStoppedAt: expect.any(String) } });
    expect(after.lease).toBeUndefined();
  });

  it('stopped while updating, the drift run records starter once complete: the DR stack RETAINED with replicationStoppedAt', async () => {
    records.set('acme', leavingDr());
    stackIs(stack('UPDATE_IN_PROGRESS', 'starter'));
    await endStopped({ detail: { executionArn: CHANGE, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'chg-1' } }) } } as never, {} as never);
    expect(records.get('acme')).toMatchObject({ tier: 'professional', disasterRecovery: DR });
    const r = records.get('acme')!;
    records.set('acme', { ...r, executions: r.executions.map((e) => ({ ...e, endedAt: '2026-11-30T00:05:00.000Z' })) });
    stackIs(stack('UPDATE_COMPLETE', 'starter'));
    await driftRun();
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'starter', disasterRecovery: { ...DR, status: 'RETAINED', updatedAt: expect.any(String), replicationStoppedAt: expect.any(String) } });
  });
});
