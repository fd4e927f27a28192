import { APIGatewayClient, CreateUsagePlanKeyCommand, DeleteUsagePlanKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { tenantDetails } from '../../lib/cli/format.js';
import { platformClient } from '../../lambdas/shared/aws-clients.js';
import { getTenant, updateTenant } from '../../lambdas/shared/registry.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { inject } from './support/faults.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';

/**
 * Hostile pass: a change whose stack update went through in CloudFormation (ExecuteChangeSet answered) and whose
 * execution then ended before *Check blueprint* recorded it: stopped (end-stopped-execution ends it) or failed (Record
 * failure). Before, the registry kept the tier before the change while the stack ran the new one: a PATCH back to the
 * recorded tier was refused `nothing_to_change`. One platform for the file (professional, and business: the same network).
 */
const config = configWithBusinessTier();
const lifecycle = useLifecyclePlatform({ config });
const { cleanups, api, settled, onboarded } = lifecycle;

/** Hangs the Lambda that sends `command` for `stackName` once the call returned (the AWS side did the work); resolves then. */
function hangAfter(command: string, stackName: string): Promise<void> {
  let done = false;
  return new Promise<void>((sent) => {
    cleanups.push(inject(`hang-after-${command}-${stackName}`, (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === command && args.input.StackName === stackName && !done) {
        done = true;
        sent();
        await new Promise(() => undefined); // the Lambda never returns
      }
      return out;
    }));
  });
}

/** The tenant stack's status and the tier and version its tags say. */
async function stackOf(tenantId: string) {
  const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: `tessera-${tenantId}` }))).Stacks![0];
  const tag = (key: string) => stack.Tags?.find((t) => t.Key === key)?.Value;
  return { status: stack.StackStatus, tier: tag('tessera:tier'), version: tag('tessera:blueprint-version') };
}

/**
 * Where the edge has the tenant's usage key: the names of the usage plans API Gateway has it in (GetUsagePlans' keyId
 * filter), and whether the registry's `usageKey.plan` names the one plan it is in (no move left pending).
 */
async function keyPlansOf(tenantId: string): Promise<{ plans: string[]; recorded: boolean; pending?: unknown }> {
  const key = (await getTenant(tenantId))!.usageKey!;
  const plans = (await platformClient(APIGatewayClient).send(new GetUsagePlansCommand({ keyId: key.id }))).items ?? [];
  return { plans: plans.map((p) => p.name!).sort(), recorded: plans.length === 1 && plans[0].id === key.plan, ...(key.movePending ? { pending: key.movePending } : {}) };
}

/** The tier the tenant's namespace stack (the shared cluster's compute quota, platform account) is tagged with. */
async function namespaceTierOf(tenantId: string): Promise<string | undefined> {
  const stack = (await platformClient(CloudFormationClient).send(new DescribeStacksCommand({ StackName: `tessera-${tenantId}-namespace` }))).Stacks![0];
  return stack.Tags?.find((t) => t.Key === 'tessera:tier')?.Value;
}

/** Waits until the tenant's lease is released (end-stopped-execution runs on the status change, in this process). */
async function released(tenantId: string): Promise<TenantRecord> {
  for (let i = 0; i < 200; i++) {
    const record = (await getTenant(tenantId))!;
    if (!record.lease) return record;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tenant ${tenantId} still holds its lease`);
}

const failedEvents = async (tenantId: string) => (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === tenantId && e.detailType === 'Tenant Lifecycle Failed');

/** A change back to professional converges: stack and registry agree, ACTIVE, no lease. */
async function changesBack(tenantId: string): Promise<void> {
  const back = await api('PATCH', `/admin/tenants/${tenantId}`, { tier: 'professional' });
  expect(back.status, JSON.stringify(back.body)).toBe(202);
  expect((await settled(back.body.executionArn)).status).toBe('SUCCEEDED');
  expect(await stackOf(tenantId)).toMatchObject({ status: 'UPDATE_COMPLETE', tier: 'professional' });
  const record = (await getTenant(tenantId))!;
  expect(record).toMatchObject({ status: 'ACTIVE', tier: 'professional' });
  expect(record.lease).toBeUndefined();
  expect(await keyPlansOf(tenantId)).toEqual({ plans: ['tessera-professional'], recorded: true });
}

describe('a change that ends after CloudFormation did its work', () => {
  it('stopped after ExecuteChangeSet: end-stopped-execution records the tier the stack completed its update to, the lease released, the failure announced; a change back runs', async () => {
    const before = await onboarded('hooli', 'professional');
    const sent = hangAfter('ExecuteChangeSetCommand', 'tessera-hooli');
    const change = await api('PATCH', '/admin/tenants/hooli', { tier: 'business' });
    expect(change.status).toBe(202);
    await sent;
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: change.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await settled(change.body.executionArn)).status).toBe('ABORTED');
    const record = await released('hooli');
    // THEN the stack runs business, and so says the registry (it said professional: PATCH professional was nothing_to_change)
    expect(await stackOf('hooli')).toEqual({ status: 'UPDATE_COMPLETE', tier: 'business', version: before.blueprintVersion });
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'business', blueprintVersion: before.blueprintVersion, failure: {
      kind: 'change', executionArn: change.body.executionArn, step: 'Deploy blueprint',
      reason: expect.stringMatching(/ABORTED.*stack tessera-hooli completed its update to tier business, version .* before the execution ended: recorded \(it was tier professional/),
    } });
    expect(record.executions.at(-1)).toMatchObject({ kind: 'change', executionArn: change.body.executionArn, status: 'FAILED' });
    expect((await failedEvents('hooli')).map((e) => e.detail.executionArn)).toEqual([change.body.executionArn]);
    // AND the usage key is in business's plan: the edge enforces the tier the registry says (before: professional's, for good)
    expect(await keyPlansOf('hooli')).toEqual({ plans: ['tessera-business'], recorded: true });
    expect((await failedEvents('hooli'))[0].detail.usageKey).toMatchObject({ outcome: 'moved' });
    // AND the namespace stack (business's compute quota) was not deployed: the reason says so and what deploys it
    expect(await namespaceTierOf('hooli')).toBe('professional');
    expect(record.failure!.reason).toContain('namespace stack tessera-hooli-namespace (the tier\'s compute quota) is not deployed for it; tessera tenants update hooli --repair deploys it');
    const repair = await api('PATCH', '/admin/tenants/hooli', { repair: true });
    expect(repair.status, JSON.stringify(repair.body)).toBe(202);
    expect((await settled(repair.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await namespaceTierOf('hooli')).toBe('business');
    expect(await keyPlansOf('hooli')).toEqual({ plans: ['tessera-business'], recorded: true });
    // AND the same tier again is nothing to change; the way back runs
    expect((await api('PATCH', '/admin/tenants/hooli', { tier: 'business' })).body.error).toMatchObject({ code: 'nothing_to_change' });
    await changesBack('hooli');
  }, 180_000);

  it('stopped after ExecuteChangeSet, the move of the usage key refused: the move is recorded pending (the key back in professional\'s plan, show says it); the drift run moves it', async () => {
    await onboarded('bachmanity', 'professional');
    const keyId = (await getTenant('bachmanity'))!.usageKey!.id;
    // GIVEN API Gateway refuses the key into business's plan once (throttled), after the stop
    let refuse = false;
    let refused = 0;
    cleanups.push(inject('refuse-plan-key-bachmanity', (next, context) => async (args) => {
      if (refuse && refused === 0 && context.commandName === 'CreateUsagePlanKeyCommand' && args.input.keyId === keyId) {
        refused += 1;
        throw Object.assign(new Error('injected: Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client', $metadata: { httpStatusCode: 429 } });
      }
      return next(args);
    }));
    const sent = hangAfter('ExecuteChangeSetCommand', 'tessera-bachmanity');
    const change = await api('PATCH', '/admin/tenants/bachmanity', { tier: 'business' });
    expect(change.status).toBe(202);
    await sent;
    refuse = true;
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: change.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await settled(change.body.executionArn)).status).toBe('ABORTED');
    const record = await released('bachmanity');
    expect(refused).toBe(1);
    refuse = false;
    // THEN the registry says business, and that the key's move into business's plan is owed; the key is back in professional's
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'business' });
    expect(await keyPlansOf('bachmanity')).toEqual({ plans: ['tessera-professional'], recorded: true, pending: { tier: 'business', at: expect.any(String), error: 'TooManyRequestsException: injected: Rate exceeded' } });
    const shown = await api('GET', '/admin/tenants/bachmanity');
    expect(tenantDetails(shown.body)).toMatch(/\nusage key {3}NOT in the usage plan of tier business: the move is pending since .* \(TooManyRequestsException: injected: Rate exceeded\); until it is made the edge enforces the plan the key is in/);
    expect((await failedEvents('bachmanity'))[0].detail.usageKey).toMatchObject({ outcome: 'pending' });
    // WHEN the drift workflow checks the tenant (no standing left to record: the registry already says business)
    const run = await api('POST', '/admin/drift', { tenantId: 'bachmanity' });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect((await settled(run.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the key is in business's plan, nothing pending, and show says nothing of it
    expect(await keyPlansOf('bachmanity')).toEqual({ plans: ['tessera-business'], recorded: true });
    expect(tenantDetails((await api('GET', '/admin/tenants/bachmanity')).body)).not.toContain('\nusage key');
    await changesBack('bachmanity');
  }, 180_000);

  it('Check blueprint failing after the update completed: Record failure records the tier the stack runs; a change back runs', async () => {
    const before = await onboarded('raviga', 'professional');
    let executed = false;
    cleanups.push(inject('mark-execute-raviga', (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'ExecuteChangeSetCommand' && args.input.StackName === 'tessera-raviga') executed = true;
      return out;
    }));
    let thrown = 0;
    lifecycle.platform.workflows.wrap = (name, handler) => async (event) => {
      if (name === 'check-stack' && executed && thrown === 0 && JSON.stringify(event).includes('raviga')) {
        thrown += 1;
        throw Object.assign(new Error('injected: DescribeStacks refused'), { name: 'AccessDeniedException' });
      }
      return handler(event);
    };
    const change = await api('PATCH', '/admin/tenants/raviga', { tier: 'business' });
    expect(change.status).toBe(202);
    expect((await settled(change.body.executionArn)).status).toBe('FAILED');
    expect(thrown).toBe(1);
    const record = (await getTenant('raviga'))!;
    expect(await stackOf('raviga')).toEqual({ status: 'UPDATE_COMPLETE', tier: 'business', version: before.blueprintVersion });
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'business', failure: {
      kind: 'change', step: 'Check blueprint', reason: expect.stringMatching(/stack tessera-raviga completed its update to tier business/),
    } });
    expect(record.lease).toBeUndefined();
    expect((await failedEvents('raviga')).map((e) => e.detail.executionArn)).toEqual([change.body.executionArn]);
    // AND Record failure moved the usage key into business's plan
    expect(await keyPlansOf('raviga')).toEqual({ plans: ['tessera-business'], recorded: true });
    lifecycle.platform.workflows.wrap = undefined;
    await changesBack('raviga');
  }, 180_000);
});

/**
 * Hostile pass (s38b): the lease of a running change removed from the registry by hand (or lost some other way) while its
 * stack update runs. The tenant stays UPDATING with no lease; every write of the change is refused without it. Before,
 * every request was refused `invalid_status` for that status and nothing ever ended it, the status-change rule included
 * (it ended only a lease): the tenant was UPDATING for good.
 */
describe('a change whose lease was removed by hand while it ran', () => {
  it('a request meets it as the running change (409 naming it); once stopped, the status-change rule records it with the tier its stack completed (ACTIVE, the failure, its entry FAILED); the lease removed with the change going on, Record failure does; a change back runs each time', async () => {
    const before = await onboarded('initech', 'professional');
    // The Lambda is held after ExecuteChangeSet until the end (released then: a Lambda held for good takes the platform's
    // concurrency from the tests after this one, and their onboardings failed).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sentOnce!: () => void;
    const sent = new Promise<void>((r) => (sentOnce = r));
    cleanups.push(() => release());
    cleanups.push(inject('hold-after-execute-initech', (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'ExecuteChangeSetCommand' && args.input.StackName === 'tessera-initech') {
        sentOnce();
        await held;
      }
      return out;
    }));
    const change = await api('PATCH', '/admin/tenants/initech', { tier: 'business' });
    expect(change.status).toBe(202);
    await sent;
    // WHEN the lease is removed by hand (the change still runs, its stack update went through)
    await updateTenant('initech', { lease: undefined }, { holder: null });
    // THEN a repair is refused while that change's execution runs, naming it (not invalid_status for good)
    const meanwhile = await api('PATCH', '/admin/tenants/initech', { repair: true });
    expect([meanwhile.status, meanwhile.body.error?.code], JSON.stringify(meanwhile.body)).toEqual([409, 'operation_in_progress']);
    expect(meanwhile.body.error.message).toContain(`the execution of its running change (execution ${change.body.executionArn}`);
    // WHEN it is stopped
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: change.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await settled(change.body.executionArn)).status).toBe('ABORTED');
    let record = (await getTenant('initech'))!;
    for (let i = 0; i < 200 && record.status === 'UPDATING'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      record = (await getTenant('initech'))!;
    }
    // THEN the registry says what the stack runs (business), ACTIVE, the failure naming why the change could not record it
    expect(await stackOf('initech')).toEqual({ status: 'UPDATE_COMPLETE', tier: 'business', version: before.blueprintVersion });
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'business', failure: {
      kind: 'change', executionArn: change.body.executionArn,
      reason: expect.stringMatching(/^execution ABORTED.*; tenant "initech" was left UPDATING with no lease \(removed outside Tessera, or lost\), so its own registry writes were refused; stack tessera-initech completed its update to tier business/),
    } });
    expect(record.lease).toBeUndefined();
    expect(record.executions.at(-1)).toMatchObject({ executionArn: change.body.executionArn, status: 'FAILED' });
    expect((await failedEvents('initech')).map((e) => e.detail.executionArn)).toEqual([change.body.executionArn]);
    expect(await keyPlansOf('initech')).toEqual({ plans: ['tessera-business'], recorded: true });
    release();
    await changesBack('initech');
    // AND (the same tenant: the workload account's NAT gateways per AZ allow five VPC tenants in this file) the lease removed
    // right after ExecuteChangeSet with the change going on: its next guarded write fails, and Record failure records it
    let removed = false;
    cleanups.push(inject('remove-lease-initech', (next, context) => async (args) => {
      const out = await next(args);
      if (!removed && context.commandName === 'ExecuteChangeSetCommand' && args.input.StackName === 'tessera-initech') {
        removed = true;
        await updateTenant('initech', { lease: undefined }, { holder: null });
      }
      return out;
    }));
    const again = await api('PATCH', '/admin/tenants/initech', { tier: 'business' });
    expect(again.status).toBe(202);
    expect((await settled(again.body.executionArn)).status).toBe('FAILED');
    expect(removed).toBe(true);
    record = (await getTenant('initech'))!;
    expect(await stackOf('initech')).toEqual({ status: 'UPDATE_COMPLETE', tier: 'business', version: before.blueprintVersion });
    // THEN (before: the history entry alone corrected FAILED, the tenant UPDATING with no lease and no failure, for good)
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'business', failure: {
      kind: 'change', executionArn: again.body.executionArn,
      reason: expect.stringMatching(/^TenantBusy: .*; tenant "initech" was left UPDATING with no lease \(removed outside Tessera, or lost\), so its own registry writes were refused; stack tessera-initech completed its update to tier business/),
    } });
    expect(record.lease).toBeUndefined();
    expect(record.executions.at(-1)).toMatchObject({ executionArn: again.body.executionArn, status: 'FAILED' });
    expect((await failedEvents('initech')).map((e) => [e.detail.executionArn, e.detail.refused])).toEqual([[change.body.executionArn, undefined], [again.body.executionArn, undefined]]);
    expect(await keyPlansOf('initech')).toEqual({ plans: ['tessera-business'], recorded: true });
    await changesBack('initech');
    // (offboarded: its NAT gateways back, for the tests after this one's tenants)
    const gone = await api('DELETE', '/admin/tenants/initech', { reason: 'hostile test done' });
    expect(gone.status, JSON.stringify(gone.body)).toBe(202);
    expect((await settled(gone.body.executionArn)).status).toBe('SUCCEEDED');
  }, 240_000);
});

/**
 * Hostile pass: in AWS an execution stopped seconds after ExecuteChangeSet finds the stack still UPDATE_IN_PROGRESS,
 * and the update completes after. moto's stack updates complete at once: the stopped execution's DescribeStacks is
 * answered UPDATE_IN_PROGRESS (an SDK middleware rewriting the status of tessera-<id> while `updating`), then moto's
 * answer as it is (UPDATE_COMPLETE on business). moto has no DetectStackDrift: the drift run's check fails on it and goes
 * through *Record drift error*, which reads the tenant stack's standing too.
 */
describe('a change stopped while its stack was still updating', () => {
  it('keeps the tier with the pending update on the failure; PATCH to it is 409 stack_update_pending; the drift run records the tier the stack completed its update to, and announces it', async () => {
    const before = await onboarded('piedpiper', 'professional');
    let updating = false;
    cleanups.push(inject('in-progress-piedpiper', (next, context) => async (args) => {
      const out = await next(args);
      if (updating && context.commandName === 'DescribeStacksCommand' && args.input.StackName === 'tessera-piedpiper' && out.output?.Stacks?.[0]) {
        return { ...out, output: { ...out.output, Stacks: [{ ...out.output.Stacks[0], StackStatus: 'UPDATE_IN_PROGRESS' }] } };
      }
      return out;
    }));
    const sent = hangAfter('ExecuteChangeSetCommand', 'tessera-piedpiper');
    const change = await api('PATCH', '/admin/tenants/piedpiper', { tier: 'business' });
    expect(change.status).toBe(202);
    await sent;
    updating = true;
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: change.body.executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await settled(change.body.executionArn)).status).toBe('ABORTED');
    const stopped = await released('piedpiper');
    updating = false;
    // THEN the record keeps professional, naming the update still running
    expect(stopped).toMatchObject({ status: 'ACTIVE', tier: 'professional', failure: {
      kind: 'change', executionArn: change.body.executionArn,
      stackUpdating: { stack: 'tessera-piedpiper', status: 'UPDATE_IN_PROGRESS', tier: 'business', blueprintVersion: before.blueprintVersion },
    } });
    // AND the update has completed (moto): the stack runs business; PATCH professional is not nothing_to_change
    expect(await stackOf('piedpiper')).toEqual({ status: 'UPDATE_COMPLETE', tier: 'business', version: before.blueprintVersion });
    const refused = await api('PATCH', '/admin/tenants/piedpiper', { tier: 'professional' });
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'stack_update_pending']);
    expect(refused.body.error.message).toContain('tessera tenants drift --detect piedpiper');
    // AND the usage key stays in professional's plan, the tier the registry still says
    expect(await keyPlansOf('piedpiper')).toEqual({ plans: ['tessera-professional'], recorded: true });
    // WHEN the drift workflow checks the tenant
    const run = await api('POST', '/admin/drift', { tenantId: 'piedpiper' });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect((await settled(run.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the registry says business, the drift record and Tenant Drift Detected say why
    const caughtUp = (await getTenant('piedpiper'))!;
    const standing = {
      stack: 'tessera-piedpiper', stackStatus: 'UPDATE_COMPLETE', from: { tier: 'professional', blueprintVersion: before.blueprintVersion }, to: { tier: 'business', blueprintVersion: before.blueprintVersion }, executionArn: change.body.executionArn,
      namespace: expect.stringContaining('namespace stack tessera-piedpiper-namespace (the tier\'s compute quota) is not deployed for it; tessera tenants update piedpiper --repair deploys it'),
    };
    expect(caughtUp).toMatchObject({ status: 'ACTIVE', tier: 'business', drift: { standing }, failure: { stackUpdating: { resolved: { stackStatus: 'UPDATE_COMPLETE', recorded: true } } } });
    expect(caughtUp.lease).toBeUndefined();
    const drifts = (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === 'piedpiper' && e.detailType === 'Tenant Drift Detected');
    expect(drifts.map((e) => e.detail.standing)).toEqual([expect.objectContaining(standing)]);
    // AND the drift check moved the usage key into business's plan with the tier it recorded
    expect(await keyPlansOf('piedpiper')).toEqual({ plans: ['tessera-business'], recorded: true });
    // AND business again is nothing to change; the way back runs
    expect((await api('PATCH', '/admin/tenants/piedpiper', { tier: 'business' })).body.error).toMatchObject({ code: 'nothing_to_change' });
    await changesBack('piedpiper');
  }, 240_000);
});


/**
 * Hostile pass: the registry's `currentStep` (tessera tenants show and list) and the failure of a stopped execution
 * (end-stopped-execution reads `currentStep`) name the workflow's state, not the handler serving it: manage-usage-key runs
 * as *Issue usage key* in an onboarding (before: "Manage usage key", a step no workflow has).
 */
describe('the step a shared handler runs as', () => {
  /**
   * Onboards `tenantId` on `tier` and stops its execution with `cause` while *Issue usage key* runs; the record once its
   * lease is released. `unmarked`: held before the handler runs, so its markStep never writes currentStep (which still
   * names the step before, completed); `before` is that step.
   */
  async function stoppedAtIssueUsageKey(tenantId: string, tier: string, cause: string, unmarked = false) {
    let entered!: () => void;
    const inStep = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    cleanups.push(release);
    lifecycle.platform.workflows.wrap = (name, handler) => async (event) => {
      if (name !== 'manage-usage-key' || !JSON.stringify(event).includes(`"${tenantId}"`)) return handler(event);
      if (unmarked) {
        entered();
        await held;
        return {};
      }
      // Held once the handler's first write (markStep: the step it runs as) is made
      const out = handler(event);
      for (let i = 0; i < 200 && !/usage key/i.test((await getTenant(tenantId))?.currentStep ?? ''); i++) await new Promise((r) => setTimeout(r, 10));
      entered();
      await held;
      return out;
    };
    const start = await api('POST', '/admin/tenants', { tenantId, name: `${tenantId} Inc.`, tier, adminEmail: `admin@${tenantId}.example.com`, requestId: `req-${tenantId}-0001` });
    expect(start.status).toBe(202);
    // (an onboarding that ends before the step, e.g. out of the account's capacity, fails here instead of at the timeout)
    await Promise.race([inStep, settled(start.body.executionArn).then((r) => { throw new Error(`onboarding of ${tenantId} ended ${r.status} before Issue usage key`); })]);
    const during = (await api('GET', `/admin/tenants/${tenantId}`)).body;
    expect(during.status).toBe('PROVISIONING');
    if (unmarked) expect(during.currentStep).not.toBe('Issue usage key');
    else expect(during.currentStep).toBe('Issue usage key');
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: start.body.executionArn, error: 'Operator', cause }));
    release();
    expect((await settled(start.body.executionArn)).status).toBe('ABORTED');
    return { executionArn: start.body.executionArn as string, before: during.currentStep as string, stopped: await released(tenantId) };
  }

  it('an onboarding at Issue usage key: GET says currentStep "Issue usage key"; stopped there, the failure names it', async () => {
    const { executionArn, stopped } = await stoppedAtIssueUsageKey('globex', 'professional', 'stopped by hand');
    expect(stopped).toMatchObject({ status: 'FAILED', failure: { kind: 'onboard', step: 'Issue usage key', executionArn, reason: 'execution ABORTED: Operator (stopped by hand) at "Issue usage key" without recording its outcome' } });
    expect(stopped.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Issue usage key' });
  }, 180_000);

  it('s42: stopped once the step before Issue usage key completed, Issue usage key\'s Lambda invoked but not yet recording itself: the failure names Issue usage key (Step Functions\' history), not the completed step before', async () => {
    // (starter: the file's account has no NAT gateway left in its zones for another professional tenant)
    const { executionArn, before, stopped } = await stoppedAtIssueUsageKey('bream-hall', 'starter', 'stopped by hand', true);
    expect(before).toBeTruthy();
    // Before: step "${before}", the step that had completed
    const reason = `execution ABORTED: Operator (stopped by hand) at "Issue usage key" without recording its outcome; stopped in "Issue usage key" after "${before}" completed (Step Functions' history; the registry's currentStep said "${before}")`;
    expect(stopped).toMatchObject({ status: 'FAILED', currentStep: 'Issue usage key', failure: { kind: 'onboard', step: 'Issue usage key', executionArn, reason } });
    expect(stopped.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Issue usage key', reason });
    expect((await failedEvents('bream-hall')).map((e) => [e.detail.step, e.detail.reason])).toEqual([['Issue usage key', reason]]);
  }, 180_000);

  it('stopped with a cause of StopExecution\'s 32,768 characters: the failure, the history entry and Tenant Lifecycle Failed keep its first 1,000, marked', async () => {
    const cause = `INC-4711 stopped by the on-call operator: ${'the runbook says '.repeat(2_000)}`.slice(0, 32_768);
    // (starter: the file's account has no NAT gateway left in its zones for another professional tenant)
    const { executionArn, stopped } = await stoppedAtIssueUsageKey('yao-net', 'starter', cause);
    const reason = stopped.failure!.reason;
    // Before: all 32,768 characters, in the failure and again in the history entry (50 kept in the one DynamoDB item of 400 KB)
    expect(reason.length).toBeLessThan(1_100);
    expect(reason).toMatch(/^execution ABORTED: Operator \(INC-4711 stopped by the on-call operator: the runbook says .*… \(32768 characters; the rest is in the execution's history\)\) at "Issue usage key" without recording its outcome$/);
    expect(stopped).toMatchObject({ status: 'FAILED', failure: { kind: 'onboard', step: 'Issue usage key', executionArn } });
    expect(stopped.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Issue usage key', reason });
    expect((await failedEvents('yao-net')).map((e) => e.detail.reason)).toEqual([reason]);
  }, 180_000);
});

/**
 * (starter tenants: no NAT gateway, the file's account has 5 a zone): tenants left inconsistent before the usage key followed a recorded tier (its key in another tier's plan, in
 * none): the daily drift run asks API Gateway where each ACTIVE tenant's key is (GetUsagePlans with keyId; moto filters
 * by it) and puts it in its recorded tier's plan. Before, it moved the key only for a standing it recorded or a move owed.
 */
describe('the drift run puts each ACTIVE tenant\'s usage key in its recorded tier\'s plan', () => {
  const gateway = () => platformClient(APIGatewayClient);
  async function planIdOf(name: string): Promise<string> {
    return (await gateway().send(new GetUsagePlansCommand({ limit: 500 }))).items!.find((p) => p.name === name)!.id!;
  }
  /** The drift workflow for the tenant; the API Gateway calls its run made (every client of this process, by command). */
  async function driftRun(tenantId: string): Promise<string[]> {
    const calls: string[] = [];
    let counting = true;
    cleanups.push(inject(`count-apigateway-${tenantId}`, (next, context) => async (args) => {
      if (counting && (context as { clientName?: string }).clientName === 'APIGatewayClient') calls.push(`${context.commandName}${args.input.keyId ? ` keyId` : ''}`);
      return next(args);
    }));
    const run = await api('POST', '/admin/drift', { tenantId });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect((await settled(run.body.executionArn)).status).toBe('SUCCEEDED');
    counting = false;
    return calls;
  }

  it('a key put in professional\'s plan by hand, and one in no plan: moved into starter\'s (the tier recorded), the correction recorded, announced and shown; one already right costs one call', async () => {
    await onboarded('endframe', 'starter');
    await onboarded('nucleus', 'starter');
    await onboarded('aviato', 'starter');
    const starter = await planIdOf('tessera-starter');
    const professional = await planIdOf('tessera-professional');
    // GIVEN endframe's key moved into professional's plan by hand, nucleus's taken out of every plan (the registry unchanged)
    const endframe = (await getTenant('endframe'))!.usageKey!.id;
    await gateway().send(new DeleteUsagePlanKeyCommand({ usagePlanId: starter, keyId: endframe }));
    await gateway().send(new CreateUsagePlanKeyCommand({ usagePlanId: professional, keyId: endframe, keyType: 'API_KEY' }));
    await gateway().send(new DeleteUsagePlanKeyCommand({ usagePlanId: starter, keyId: (await getTenant('nucleus'))!.usageKey!.id }));
    expect(await keyPlansOf('endframe')).toEqual({ plans: ['tessera-professional'], recorded: false });
    expect(await keyPlansOf('nucleus')).toEqual({ plans: [], recorded: false });
    // WHEN the drift workflow checks each
    await driftRun('endframe');
    await driftRun('nucleus');
    // THEN each key is in starter's plan alone, recorded there
    expect(await keyPlansOf('endframe')).toEqual({ plans: ['tessera-starter'], recorded: true });
    expect(await keyPlansOf('nucleus')).toEqual({ plans: ['tessera-starter'], recorded: true });
    // AND the drift record, Tenant Drift Detected and show say what was corrected
    const fixed = (await getTenant('endframe'))!;
    expect(fixed.drift!.usageKey).toEqual({ at: fixed.drift!.checkedAt, outcome: 'moved', note: `usage key ${endframe} moved into usage plan tessera-starter (${starter}) of tier starter (it was in tessera-professional)` });
    expect((await getTenant('nucleus'))!.drift!.usageKey).toMatchObject({ outcome: 'moved', note: expect.stringContaining('(it was in no usage plan)') });
    const announced = (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === 'endframe' && e.detailType === 'Tenant Drift Detected');
    expect(announced.map((e) => e.detail.usageKey)).toEqual([fixed.drift!.usageKey]);
    expect(tenantDetails((await api('GET', '/admin/tenants/endframe')).body)).toContain(`\nkey fixed   ${fixed.drift!.checkedAt}: the key was not in its tier's usage plan alone: usage key ${endframe} moved`);
    // AND a tenant already right: its drift run makes one API Gateway call (GetUsagePlans keyId) and changes nothing
    const before = (await getTenant('aviato'))!;
    expect(await driftRun('aviato')).toEqual(['GetUsagePlansCommand keyId']);
    const after = (await getTenant('aviato'))!;
    expect(after.usageKey).toEqual(before.usageKey);
    expect(after.drift!.usageKey).toBeUndefined();
    expect(await keyPlansOf('aviato')).toEqual({ plans: ['tessera-starter'], recorded: true });
    expect((await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === 'aviato' && e.detailType === 'Tenant Drift Detected')).toEqual([]);
  }, 240_000);
});
