import { CloudFormationClient, DescribeStacksCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { VERSION_TAG } from '../../lambdas/lifecycle/blueprints.js';
import { configWith } from '../support/config-with.js';
import { dieAfter } from './lost-answers.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * An onboarding whose DR-region CreateStack answer is lost: CloudFormation took the call and the DR stack stands, but the
 * Lambda that sent it died right after (a Lambda timeout), so *Deploy DR blueprint* failed and *Check DR blueprint* never
 * ran. The registry must end saying what stands in the DR region, read back by name. professional with a DR region, on
 * aws-local-stepfunctions + moto.
 */
const DR_REGION = 'us-west-2';
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } } } }));

/** The live stacks named `name` in the DR region of the tenant's account (ListStacks, every stack by id). */
async function liveDrStacks(tenantId: string, name: string): Promise<string[]> {
  const cfn = clientWith(CloudFormationClient, await local.fixture.as((await getTenant(tenantId))!.accountId!), { region: DR_REGION });
  const all = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
  return all.filter((s) => s.StackName === name && s.StackStatus !== 'DELETE_COMPLETE').map((s) => s.StackStatus!);
}

describe('an onboarding whose DR-region CreateStack answer is lost', () => {
  it('records the DR stack as CloudFormation has it (read back by name: CREATE_COMPLETE is ACTIVE on the tier and version it was created with), and a re-run finishes with one DR stack', async () => {
    // GIVEN Deploy DR blueprint's CreateStack went through and its Lambda then timed out
    const fault = dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-lostdr-dr', cleanups: local.cleanups });
    // WHEN
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:lostdr-first';
    const run = await local.workflows.run('onboard', onboardRequest('lostdr', 'professional'), { executionArn });
    // THEN the onboarding failed at Deploy DR blueprint, the DR stack stands, and the registry says so
    expect(run.error?.message).toMatch(/Sandbox\.Timedout/);
    expect(fault.died()).toBe(true);
    expect(await liveDrStacks('lostdr', 'tessera-lostdr-dr')).toEqual(['CREATE_COMPLETE']);
    const failed = (await getTenant('lostdr'))!;
    expect(failed).toMatchObject({
      status: 'FAILED',
      disasterRecovery: { status: 'ACTIVE', region: DR_REGION, stackName: 'tessera-lostdr-dr', deployedWith: { tier: 'professional', blueprintVersion: process.env[ENV.blueprintVersion], executionArn } },
      failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining(`DR stack tessera-lostdr-dr (${DR_REGION}) was created (CREATE_COMPLETE) before the execution ended: recorded ACTIVE on tier professional, version ${process.env[ENV.blueprintVersion]}`) },
    });
    expect(failed.lease).toBeUndefined();
    // WHEN the onboarding runs again
    const again = await local.workflows.run('onboard', onboardRequest('lostdr', 'professional'));
    // THEN it finishes on the one DR stack, recorded ACTIVE
    expect(again.error).toBeUndefined();
    expect(await liveDrStacks('lostdr', 'tessera-lostdr-dr')).toHaveLength(1);
    expect((await getTenant('lostdr'))!).toMatchObject({ status: 'ACTIVE', disasterRecovery: { status: 'ACTIVE', stackName: 'tessera-lostdr-dr' } });
    expect((await local.workflows.run('offboard', { request: { tenantId: 'lostdr', requestId: 'req-lostdr-offboard' } })).error).toBeUndefined();
  });
});

describe('an onboarding re-run whose ExecuteChangeSet answer on the standing DR stack is lost', () => {
  it('records the DR stack on the tier and version its completed update runs (deployedWith), not the version before', async () => {
    // GIVEN a tenant FAILED with its DR stack standing, recorded ACTIVE on version 1.0.0 (the CreateStack answer lost, above)
    const first = dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-lostcs-dr', cleanups: local.cleanups });
    const run = await local.workflows.run('onboard', onboardRequest('lostcs', 'professional'));
    expect(run.error?.message).toMatch(/Sandbox\.Timedout/);
    expect(first.died()).toBe(true);
    const before = process.env[ENV.blueprintVersion]!;
    expect((await getTenant('lostcs'))!).toMatchObject({ status: 'FAILED', disasterRecovery: { status: 'ACTIVE', deployedWith: { blueprintVersion: before } } });
    // AND the platform now on 2.0.0 (a release deployed since): the re-run updates the DR stack through a change set,
    // and the Lambda that sent ExecuteChangeSet dies right after CloudFormation took it
    process.env[ENV.blueprintVersion] = '2.0.0';
    local.cleanups.push(() => void (process.env[ENV.blueprintVersion] = before));
    const lost = dieAfter({ command: 'ExecuteChangeSetCommand', stackName: 'tessera-lostcs-dr', cleanups: local.cleanups });
    // WHEN the onboarding runs again
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:lostcs-again';
    const again = await local.workflows.run('onboard', onboardRequest('lostcs', 'professional'), { executionArn });
    // THEN it failed at Deploy DR blueprint after the DR stack's update went through to 2.0.0
    expect(again.error?.message).toMatch(/Sandbox\.Timedout/);
    expect(lost.died()).toBe(true);
    const cfn = clientWith(CloudFormationClient, await local.fixture.as((await getTenant('lostcs'))!.accountId!), { region: DR_REGION });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-lostcs-dr' }))).Stacks![0];
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(stack.Tags).toContainEqual({ Key: VERSION_TAG, Value: '2.0.0' });
    // AND the registry says what the DR stack runs
    const failed = (await getTenant('lostcs'))!;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining(`DR stack tessera-lostcs-dr (${DR_REGION}) completed an update to tier professional, version 2.0.0 (UPDATE_COMPLETE) before the execution ended: recorded on it (was tier professional, version ${before})`) } });
    expect(failed.disasterRecovery).toMatchObject({ status: 'ACTIVE', stackName: 'tessera-lostcs-dr', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0' } });
    // AND a third run finishes on it
    const third = await local.workflows.run('onboard', onboardRequest('lostcs', 'professional'));
    expect(third.error).toBeUndefined();
    expect((await getTenant('lostcs'))!).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0', disasterRecovery: { status: 'ACTIVE', deployedWith: { blueprintVersion: '2.0.0' } } });
    expect((await local.workflows.run('offboard', { request: { tenantId: 'lostcs', requestId: 'req-lostcs-offboard' } })).error).toBeUndefined();
  });
});
