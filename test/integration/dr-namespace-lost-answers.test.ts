import { CloudFormationClient, DescribeStacksCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { upgradeItems } from '../../lambdas/lifecycle/list-tier-tenants.js';
import { clientWith, platformClient } from '../../lambdas/shared/aws-clients.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { throttle } from './support/faults.js';
import { dieAfter } from './lost-answers.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import type { Definition } from './support/workflow-runner.js';

/**
 * Hostile pass s40f: lost answers on the two stack paths with the fewest fault tests, the DR stack (its own region) and
 * the namespace stack (the shared cluster's compute quota, platform account). A Lambda dies right after CloudFormation
 * took the call (CreateStack, ExecuteChangeSet: the answer is lost, as a Lambda timeout loses it), and Step Functions
 * retries the step; DescribeChangeSet is throttled while Check DR blueprint waits on the executed change set. Each run
 * must end with one stack of each, updated once, and the registry saying what they run. professional (shared compute)
 * with a DR region, on aws-local-stepfunctions + moto.
 */
const DR_REGION = 'us-west-2';
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } } } }));

/** The live stacks named `name` (ListStacks, every stack by id) in `region` of the tenant's account, or the platform's. */
async function liveStacks(tenantId: string, name: string, where: { region?: string; platform?: boolean } = {}): Promise<string[]> {
  const cfn = where.platform ? platformClient(CloudFormationClient) : clientWith(CloudFormationClient, await local.fixture.as((await getTenant(tenantId))!.accountId!), where.region ? { region: where.region } : {});
  const all = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
  return all.filter((s) => s.StackName === name && s.StackStatus !== 'DELETE_COMPLETE').map((s) => s.StackStatus!);
}

/** The `tessera:blueprint-version` tag of stack `name` (the DR stack in its region, the namespace stack in the platform account). */
async function versionTag(tenantId: string, name: string, where: { region?: string; platform?: boolean }): Promise<string | undefined> {
  const cfn = where.platform ? platformClient(CloudFormationClient) : clientWith(CloudFormationClient, await local.fixture.as((await getTenant(tenantId))!.accountId!), { region: where.region });
  return (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].Tags?.find((t) => t.Key === 'tessera:blueprint-version')?.Value;
}

/** Runs the rolling upgrade's per-tenant workflow for `tenantId` to `version`, as dr-faults.test.ts does; `upgradeId` names the upgrade (a new one: a new execution). */
async function upgrade(tenantId: string, version: string, upgradeId = `upgrade-${tenantId}`) {
  const before = (await getTenant(tenantId))!;
  const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
  const [listed] = upgradeItems([before], { tier: 'professional', blueprintVersion: version, requestId: upgradeId });
  return local.workflows.run(item, listed, { executionArn: `arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/${upgradeId}:${tenantId}` });
}

const offboard = async (tenantId: string) => expect((await local.workflows.run('offboard', { request: { tenantId, requestId: `req-${tenantId}-offboard` } })).error).toBeUndefined();

describe('lost answers on the DR and namespace stacks', () => {
  it('an upgrade whose ExecuteChangeSet answer on the DR stack is lost: the failure records the DR stack on the version its update completed to (was: ACTIVE on the version before, nothing pending); a re-run, its DescribeChangeSet throttled, finishes', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('lostex', 'professional'))).error).toBeUndefined();
    const before = (await getTenant('lostex'))!;
    const target = before.blueprintVersion === '2.0.0' ? '1.0.0' : '2.0.0';
    // GIVEN the DR stack's change set is executed and the Lambda then times out
    const dr = dieAfter({ command: 'ExecuteChangeSetCommand', stackName: 'tessera-lostex-dr', cleanups: local.cleanups });
    // WHEN
    const run = await upgrade('lostex', target);
    // THEN the upgrade failed at Deploy DR blueprint, the primary untouched, and the DR record says what its stack runs
    expect(run.error?.message).toMatch(/Sandbox\.Timedout/);
    expect(dr.died()).toBe(true);
    expect(await versionTag('lostex', 'tessera-lostex-dr', { region: DR_REGION })).toBe(target);
    const failed = (await getTenant('lostex'))!;
    expect(failed).toMatchObject({
      status: 'ACTIVE', blueprintVersion: before.blueprintVersion,
      disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: target } },
      failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining(`DR stack tessera-lostex-dr (${DR_REGION}) completed its update to tier professional, version ${target}`) },
    });
    expect(failed.lease).toBeUndefined();
    // WHEN the upgrade runs again, Check DR blueprint's reads of the executed change set throttled twice
    const throttled = throttle('DescribeChangeSetCommand', 2, 'ThrottlingException', (i) => i.StackName === 'tessera-lostex-dr');
    local.cleanups.push(throttled.removed);
    const again = await upgrade('lostex', target, 'upgrade-lostex-again');
    // THEN every stack on the target, recorded so
    expect(again.error).toBeUndefined();
    expect(throttled.thrown()).toBe(2);
    expect(await versionTag('lostex', 'tessera-lostex-namespace', { platform: true })).toBe(target);
    const after = (await getTenant('lostex'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: target, disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: target } } });
    expect(after.lease).toBeUndefined();
    expect(await liveStacks('lostex', 'tessera-lostex-dr', { region: DR_REGION })).toEqual(['UPDATE_COMPLETE']);
    await offboard('lostex');
  });
});
