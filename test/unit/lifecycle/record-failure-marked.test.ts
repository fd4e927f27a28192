import { DescribeStacksCommand, type DescribeStacksCommandInput } from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { lease, leased, ownedTags, state } from './support.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const mocks = drLifecycleMocks();
const { cfn } = mocks;
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');

/**
 * Hostile pass s40f: an upgrade's Lambda that dies right after ExecuteChangeSet on the DR stack (its answer lost: a Lambda
 * timeout) fails into Record failure with the DR stack's change set marked on the lease (stack-operation-lease.ts), and
 * neither Deploy DR blueprint nor Check DR blueprint recorded it. Record failure read only the tenant stack: the failure
 * was recorded without the DR update, the mark went with the lease, and the DR record stayed ACTIVE on the version before.
 */
const MARK = { stack: 'tessera-acme-dr', changeSetName: 'tessera-cs-0123', tier: 'professional', blueprintVersion: '2.0.0', at: '2026-12-06T10:00:00.000Z' };
const CAUSE = { Error: 'Sandbox.Timedout', Cause: JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 900.00 seconds' }) };

/** acme upgrading professional 1.0.0 → 2.0.0, its DR stack recorded ACTIVE on 1.0.0, the DR change set marked on the lease. */
const upgrading = () => leased('upgrade', {
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', currentStep: 'Deploy DR blueprint',
  lease: lease('upgrade', undefined, { stackUpdate: MARK }),
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } },
});

/** The tenant stack on 1.0.0 (home region), the DR stack in `drStatus` tagged `drVersion` (us-west-2). */
function stacks(drStatus: string, drVersion: string) {
  cfn.on(DescribeStacksCommand).callsFake(async (input: DescribeStacksCommandInput, getClient: () => { config: { region: () => Promise<string> } }) => {
    const region = await getClient().config.region();
    const dr = region === 'us-west-2' && input.StackName === 'tessera-acme-dr';
    if (!dr && input.StackName !== 'tessera-acme') throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    const [status, version] = dr ? [drStatus, drVersion] : ['UPDATE_COMPLETE', '1.0.0'];
    return { Stacks: [{
      StackName: input.StackName, StackId: dr ? DR_STACK_ID : 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: status, CreationTime: new Date(),
      Tags: [...ownedTags(), { Key: 'tessera:tier', Value: 'professional' }, { Key: 'tessera:blueprint-version', Value: version }],
    }] };
  });
}

const failAt = (step: string) => recordFailure({ ...state('acme'), kind: 'upgrade', failedStep: step, error: CAUSE });

beforeEach(() => resetDrLifecycle(mocks));

describe('Record failure after a lost answer to the DR stack\'s ExecuteChangeSet', () => {
  it('a DR stack whose update completed: the DR record on the version it runs now, the failure saying so, the tenant on its version', async () => {
    records.set('acme', upgrading());
    stacks('UPDATE_COMPLETE', '2.0.0');
    await failAt('Deploy DR blueprint');
    const after = records.get('acme')!;
    expect(after).toMatchObject({
      status: 'ACTIVE', blueprintVersion: '1.0.0',
      disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: upgrading().lease!.executionArn } },
      failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining('DR stack tessera-acme-dr (us-west-2) completed its update to tier professional, version 2.0.0 (change set tessera-cs-0123, UPDATE_COMPLETE)') },
    });
    expect(after.failure?.stackUpdating).toBeUndefined();
    expect(after.lease).toBeUndefined();
  });

  it('a DR stack still updating (as in AWS right after the call): the update recorded pending on the DR stack, the DR record as it was', async () => {
    records.set('acme', upgrading());
    stacks('UPDATE_IN_PROGRESS', '2.0.0');
    await failAt('Deploy DR blueprint');
    const after = records.get('acme')!;
    expect(after.failure).toMatchObject({ step: 'Deploy DR blueprint', stackUpdating: { stack: 'tessera-acme-dr', status: 'CHANGE_SET_EXECUTING', tier: 'professional', blueprintVersion: '2.0.0' } });
    expect(after.failure!.reason).toContain('was about to execute change set tessera-cs-0123 on stack tessera-acme-dr');
    expect(after.disasterRecovery).toEqual(upgrading().disasterRecovery);
    expect(after.lease).toBeUndefined();
  });
});

/**
 * s42b: an onboarding re-run marks no update on its lease (deploy-blueprint.ts: only a change's or upgrade's), so its lost
 * answer to ExecuteChangeSet on the standing DR stack left the DR record on the version before (test/integration
 * dr-create-lost-answer.test.ts reproduces it on moto). Record failure reads the DR stack back for an onboarding.
 */
describe('Record failure after a lost answer to an onboarding re-run\'s ExecuteChangeSet on the DR stack', () => {
  /** acme FAILED once, onboarding again onto 2.0.0; its DR stack recorded ACTIVE on 1.0.0; nothing marked on the lease. */
  const onboarding = () => leased('onboard', {
    tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', currentStep: 'Deploy DR blueprint',
    disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } },
  });
  const failOnboarding = () => recordFailure({ ...state('acme'), kind: 'onboard', failedStep: 'Deploy DR blueprint', error: CAUSE });

  it('a DR stack whose update completed: the DR record on the tier and version its tags say, the failure saying so', async () => {
    records.set('acme', onboarding());
    stacks('UPDATE_COMPLETE', '2.0.0');
    await failOnboarding();
    const after = records.get('acme')!;
    expect(after).toMatchObject({
      status: 'FAILED',
      disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0' } },
      failure: { step: 'Deploy DR blueprint', reason: expect.stringContaining('DR stack tessera-acme-dr (us-west-2) completed an update to tier professional, version 2.0.0 (UPDATE_COMPLETE) before the execution ended: recorded on it (was tier professional, version 1.0.0)') },
    });
    expect(after.disasterRecovery!.deployedWith).not.toHaveProperty('executionArn');
  });

  it('a DR stack still updating, or on the recorded version: the DR record as it was', async () => {
    records.set('acme', onboarding());
    stacks('UPDATE_IN_PROGRESS', '2.0.0');
    await failOnboarding();
    expect(records.get('acme')!.disasterRecovery).toEqual(onboarding().disasterRecovery);
    expect(records.get('acme')!.failure!.reason).toContain('DR stack tessera-acme-dr (us-west-2) is being updated (UPDATE_IN_PROGRESS): kept recorded ACTIVE on tier professional, version 1.0.0');
    records.set('acme', onboarding());
    stacks('UPDATE_COMPLETE', '1.0.0');
    await failOnboarding();
    expect(records.get('acme')!.disasterRecovery).toEqual(onboarding().disasterRecovery);
  });
});
