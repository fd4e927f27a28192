import { CloudFormationClient, DescribeStacksCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { inject, throttle } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * Faults on the DR paths of the lifecycle (aws-local-stepfunctions + moto, professional with a DR
 * region): the DR stack's create failing, its DescribeStacks throttled, a replayed onboarding, and an
 * offboarding stopped after the primary is gone but before the DR stack is deleted. Each ends with
 * nothing unrecorded: one DR stack at most, the registry naming what failed, and a re-run finishing.
 */
const DR_REGION = 'us-west-2';
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } } } }));

async function cfnIn(tenantId: string, region: string): Promise<CloudFormationClient> {
  return new CloudFormationClient({ credentials: await local.fixture.as((await getTenant(tenantId))!.accountId!), region });
}

/** The stacks named `name` in `region` that are not deleted (ListStacks: every stack, by id). */
async function liveStacks(tenantId: string, name: string, region: string): Promise<string[]> {
  const all = (await (await cfnIn(tenantId, region)).send(new ListStacksCommand({}))).StackSummaries ?? [];
  return all.filter((s) => s.StackName === name && s.StackStatus !== 'DELETE_COMPLETE').map((s) => s.StackStatus!);
}

describe('DR faults', () => {
  it('a DR stack whose create fails: the failure names the DR stack and its region, the stack is removed, and a re-run creates exactly one', async () => {
    // GIVEN the DR key's create fails in the DR region (the stack rolls back)
    const dr = local.fixture.catalog.find((b) => b.file === 'professional-dr.template.json' && b.version === '1.0.0')!;
    const key = Object.entries(dr.derived.Resources as Record<string, { Type: string }>).find(([, r]) => r.Type === 'AWS::KMS::Key')![0];
    local.fixture.cloudFormation.failCreate('tessera-drfail-dr', key, 'Resource handler returned message: "LimitExceededException" (HandlerErrorCode: ServiceLimitExceeded)');
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('drfail', 'professional'));
    // THEN
    expect(run.error?.message).toMatch(/StackFailed/);
    const failed = (await getTenant('drfail'))!;
    expect(failed.status).toBe('FAILED');
    expect(failed.failure).toMatchObject({ step: 'Check DR blueprint', reason: expect.stringContaining(`stack tessera-drfail-dr in ${DR_REGION} is ROLLBACK_COMPLETE`) });
    expect(failed.disasterRecovery).toMatchObject({ region: DR_REGION, status: 'REMOVED' });
    expect(await liveStacks('drfail', 'tessera-drfail-dr', DR_REGION)).toEqual([]);
    // WHEN the onboarding runs again (tessera tenants retry)
    const rerun = await local.workflows.run('onboard', onboardRequest('drfail', 'professional'));
    // THEN it finishes with one DR stack, recorded ACTIVE
    expect(rerun.error).toBeUndefined();
    expect(await liveStacks('drfail', 'tessera-drfail-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
    expect(await getTenant('drfail')).toMatchObject({ status: 'ACTIVE', disasterRecovery: { region: DR_REGION, status: 'ACTIVE' } });
  });

  it('a throttled DescribeStacks of the DR stack is retried; the same onboarding request replayed does nothing more', async () => {
    const throttled = throttle('DescribeStacksCommand', 3, 'Throttling', (i) => i.StackName === 'tessera-drthrot-dr');
    local.cleanups.push(throttled.removed);
    const run = await local.workflows.run('onboard', onboardRequest('drthrot', 'professional'));
    expect(run.error).toBeUndefined();
    expect(throttled.thrown()).toBe(3);
    const replay = await local.workflows.run('onboard', onboardRequest('drthrot', 'professional'));
    expect(replay.error).toBeUndefined();
    expect(replay.states).toContain('Nothing to do');
    expect(replay.states).not.toContain('Deploy DR blueprint');
    expect(await liveStacks('drthrot', 'tessera-drthrot-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
    expect(await getTenant('drthrot')).toMatchObject({ status: 'ACTIVE', disasterRecovery: { status: 'ACTIVE' } });
  });

  it('a DR stack is recorded before it is created: a registry write that keeps failing at Deploy DR blueprint orphans no DR stack, and the offboarding leaves none', async () => {
    // GIVEN every registry write that records the DR stack DEPLOYING fails (an item over DynamoDB's 400 KB: not retried)
    const undo = inject('dr-record-fails', (next, context) => async (args) => {
      if (/^Update(Item)?Command$/.test(context.commandName ?? '') && JSON.stringify(args.input).includes('"DEPLOYING"')) {
        throw Object.assign(new Error('injected: Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    });
    const run = await local.workflows.run('onboard', onboardRequest('drorph', 'professional'));
    undo();
    // THEN the onboarding failed at the DR step, and any DR stack standing in the DR region is one the registry records
    expect(run.error?.message).toMatch(/ValidationException/);
    const failed = (await getTenant('drorph'))!;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Deploy DR blueprint' } });
    const standing = await liveStacks('drorph', 'tessera-drorph-dr', DR_REGION);
    if (standing.length) expect(failed.disasterRecovery).toMatchObject({ region: DR_REGION, stackName: 'tessera-drorph-dr' });
    // WHEN the tenant is offboarded instead of retried
    const off = await local.workflows.run('offboard', { request: { tenantId: 'drorph', requestId: 'req-drorph-offboard' } });
    // THEN no DR stack is left behind in the DR region
    expect(off.error).toBeUndefined();
    expect(await liveStacks('drorph', 'tessera-drorph-dr', DR_REGION)).toEqual([]);
  });

  it('an offboarding stopped after the primary is gone, before the DR stack is deleted: recorded, and a re-run deletes the DR stack and inventories its stores', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('droff', 'professional'))).error).toBeUndefined();
    // GIVEN the DR stack's DeleteStack is refused (a hand-edited role, an SCP)
    const undo = inject('deny-dr-delete', (next, context) => async (args) => {
      if (context.commandName === 'DeleteStackCommand' && args.input.StackName === 'tessera-droff-dr') {
        throw Object.assign(new Error('injected: not authorized to perform cloudformation:DeleteStack'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    });
    const stopped = await local.workflows.run('offboard', { request: { tenantId: 'droff', requestId: 'req-droff-offboard' } });
    undo();
    // THEN the primary is gone, the DR stack stands, and the registry says where the offboarding stopped
    expect(stopped.error).toBeDefined();
    const cfnHome = await cfnIn('droff', 'us-east-1');
    await expect(cfnHome.send(new DescribeStacksCommand({ StackName: 'tessera-droff' }))).rejects.toThrow(/does not exist/);
    expect(await liveStacks('droff', 'tessera-droff-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
    const mid = (await getTenant('droff'))!;
    expect(mid).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Delete tenant stacks', reason: expect.stringContaining(`stack tessera-droff-dr in ${DR_REGION}: `) } });
    expect(mid.disasterRecovery).toMatchObject({ status: 'ACTIVE', stackId: expect.stringContaining(`:${DR_REGION}:`) });
    // WHEN the offboarding runs again (DELETE again)
    const again = await local.workflows.run('offboard', { request: { tenantId: 'droff', requestId: 'req-droff-offboard-2' } });
    // THEN
    expect(again.error).toBeUndefined();
    expect(await liveStacks('droff', 'tessera-droff-dr', DR_REGION)).toEqual([]);
    const done = (await getTenant('droff'))!;
    expect(done).toMatchObject({ status: 'OFFBOARDED', disasterRecovery: { status: 'REMOVED' } });
    expect(done.offboarding!.retainedStores).toEqual(expect.arrayContaining([
      expect.objectContaining({ store: 'bucket', disposition: 'archived', note: expect.stringContaining(`DR region ${DR_REGION}`) }),
    ]));
  });
});
