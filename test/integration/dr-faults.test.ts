import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand, ListStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { upgradeItems } from '../../lambdas/lifecycle/list-tier-tenants.js';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { inject, rewrite, throttle } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import type { Definition } from './support/workflow-runner.js';

/** A DeleteStack's StackName names the stack `name`: the name, or its StackId (Tessera deletes by the StackId it read). */
const namesStack = (stackName: unknown, name: string) => typeof stackName === 'string' && (stackName === name || stackName.includes(`:stack/${name}/`));

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

/** The professional tier's DR blueprint (1.0.0) resources, as the harness's catalog derived them. */
const drResources = () => local.fixture.catalog.find((b) => b.file === 'professional-dr.template.json' && b.version === '1.0.0')!.derived.Resources as Record<string, { Type: string; DeletionPolicy?: string }>;
/** The logical id of the DR blueprint's (only) resource of `type`. */
const drLogicalId = (type: string) => Object.entries(drResources()).find(([, r]) => r.Type === type)![0];

describe('DR faults', () => {
  it('a DR stack whose create fails: the failure names the DR stack and its region, the stack is removed, and a re-run creates exactly one', async () => {
    // GIVEN the DR key's create fails in the DR region (the stack rolls back)
    const key = drLogicalId('AWS::KMS::Key');
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

  it('a tenant offboarded after its DR stack\'s create failed (recorded REMOVED, nothing of it left): the inventory lists no DR store', async () => {
    const key = drLogicalId('AWS::KMS::Key');
    local.fixture.cloudFormation.failCreate('tessera-drgone-dr', key, 'Resource handler returned message: "LimitExceededException" (HandlerErrorCode: ServiceLimitExceeded)');
    expect((await local.workflows.run('onboard', onboardRequest('drgone', 'professional'))).error?.message).toMatch(/StackFailed/);
    expect((await getTenant('drgone'))!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
    // WHEN it is offboarded instead of retried
    const off = await local.workflows.run('offboard', { request: { tenantId: 'drgone', requestId: 'req-drgone-offboard' } });
    // THEN nothing of a DR stack is inventoried as retained: there is none, and its stores were checked absent
    expect(off.error).toBeUndefined();
    const stores = (await getTenant('drgone'))!.offboarding!.retainedStores ?? [];
    expect(stores.filter((s) => s.id.includes('-dr') || (s.note ?? '').includes(DR_REGION))).toEqual([]);
  });

  it('a tenant offboarded after its DR stack was deleted outside Tessera: the DR stores it retained are found by name and listed for review', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('drhand', 'professional'))).error).toBeUndefined();
    const accountId = (await getTenant('drhand'))!.accountId!;
    // GIVEN someone deleted the DR stack by hand (its key, alias and buckets are retained)
    // (a client of the Lambdas' kind: the CloudFormation emulation deletes what moto's DeleteStack would leave)
    const cfn = clientWith(CloudFormationClient, await local.fixture.as(accountId), { region: DR_REGION });
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: 'tessera-drhand-dr', EnableTerminationProtection: false }));
    await cfn.send(new DeleteStackCommand({ StackName: 'tessera-drhand-dr' }));
    // WHEN the tenant is offboarded
    const off = await local.workflows.run('offboard', { request: { tenantId: 'drhand', requestId: 'req-drhand-offboard' } });
    // THEN its DR bucket and key are inventoried for review, by name, in the DR region (the key's alias went with the stack: the key is RETAIN)
    expect(off.error).toBeUndefined();
    const stores = (await getTenant('drhand'))!.offboarding!.retainedStores!;
    expect(stores).toEqual(expect.arrayContaining([
      expect.objectContaining({ store: 'bucket', id: `tessera-drhand-dr-${accountId}-${DR_REGION}`, disposition: 'review', note: expect.stringContaining(`DR region ${DR_REGION}: DR stack tessera-drhand-dr could not be listed; its DR replica bucket`) }),
      expect.objectContaining({ store: 'key', id: 'alias/tessera-drhand-dr', disposition: 'review', note: expect.stringContaining('the DR key is RETAIN') }),
    ]));
    // AND the DR key, known by its alias only, is held (the bucket under it holds it), not scheduled, and the record says so
    expect(stores.find((s) => s.store === 'bucket' && s.drRegion)).toMatchObject({ holdsKey: true });
    expect(stores.find((s) => s.store === 'key' && s.drRegion)!.note).toContain('its deletion is not scheduled');
    expect((await getTenant('drhand'))!.offboarding!.drKeyDeletion).toEqual({ state: 'HELD', region: DR_REGION, key: 'alias/tessera-drhand-dr' });
  });

  it('a throttled DescribeStacks of the DR stack is retried; the same onboarding request replayed does nothing more; suspend and resume leave the DR stack as it is', async () => {
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
    const active = (await getTenant('drthrot'))!;
    expect(active).toMatchObject({ status: 'ACTIVE', disasterRecovery: { status: 'ACTIVE' } });
    // suspended and resumed: its DR stack and record as they were
    for (const action of ['suspend', 'resume'] as const) {
      expect((await local.workflows.run('status', { request: { tenantId: 'drthrot', requestId: `req-drthrot-${action}` }, action })).error).toBeUndefined();
    }
    expect(await getTenant('drthrot')).toMatchObject({ status: 'ACTIVE', disasterRecovery: active.disasterRecovery });
    expect(await liveStacks('drthrot', 'tessera-drthrot-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
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
      if (context.commandName === 'DeleteStackCommand' && namesStack(args.input.StackName, 'tessera-droff-dr')) {
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
    // AND its DR key, which nothing under it holds (the replica archived, no DR vault in moto), is scheduled in the DR region
    expect(done.offboarding!.drKeyDeletion).toMatchObject({ state: 'SCHEDULED', region: DR_REGION, keyArn: expect.stringContaining(`:kms:${DR_REGION}:`) });
  });

  it('a rolling upgrade whose DR stack change set would replace the DR bucket is refused at the DR stack: neither stack changes, the refusal is recorded', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('drupg', 'professional'))).error).toBeUndefined();
    const before = (await getTenant('drupg'))!;
    const target = before.blueprintVersion === '2.0.0' ? '1.0.0' : '2.0.0';
    // GIVEN the DR stack's change set would replace its bucket (a renamed DR bucket in the new version)
    local.cleanups.push(rewrite('replace-dr-bucket', 'DescribeChangeSetCommand', (out, input) => {
      if (input.StackName !== 'tessera-drupg-dr') return;
      out.Changes = [...(out.Changes ?? []), { Type: 'Resource', ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'StorageBucket', PhysicalResourceId: `tessera-drupg-dr-${before.accountId}-${DR_REGION}`, ResourceType: 'AWS::S3::Bucket', Replacement: 'True',
        Details: [{ Target: { Attribute: 'Properties', Name: 'BucketName', RequiresRecreation: 'Always' } }],
      } }];
    }));
    // WHEN the rolling upgrade's run for this tenant runs (the distributed Map's ItemProcessor, as one child execution)
    const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    const [listed] = upgradeItems([before], { tier: 'professional', blueprintVersion: target, requestId: 'upgrade-drupg' });
    const child = await local.workflows.run(item, listed, { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/upgrade-drupg:drupg' });
    // THEN refused (not failed: the map's tolerance is not spent), before the primary was touched
    expect(child.status).toBe('SUCCEEDED');
    expect(child.output).toMatchObject({ tenantId: 'drupg', refused: true });
    expect(child.states).not.toContain('Deploy blueprint');
    const after = (await getTenant('drupg'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: before.blueprintVersion, disasterRecovery: { status: 'ACTIVE' },
      changeSetRefusal: { stack: 'tessera-drupg-dr', kind: 'upgrade', resources: [expect.objectContaining({ logicalId: 'StorageBucket' })] } });
    const version = async (name: string, region: string) => (await (await cfnIn('drupg', region)).send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].Tags!.find((t) => t.Key === 'tessera:blueprint-version')!.Value;
    expect(await version('tessera-drupg-dr', DR_REGION)).toBe(before.blueprintVersion);
    expect(await version('tessera-drupg', 'us-east-1')).toBe(before.blueprintVersion);
  });
});

/**
 * hdr2 (s19): a DR stack left ROLLBACK_FAILED or DELETE_FAILED when an onboarding is retried, and a DR update that
 * rolls back, with the emulation's failDelete and failUpdate.
 */
describe('DR faults: dead DR stacks and a DR update that rolls back', () => {
  /** The DR stack's status as the Lambdas' clients see it (through the CloudFormation emulation, which moto's own answers bypass). */
  const drStatus = async (tenantId: string) => {
    const cfn = clientWith(CloudFormationClient, await local.fixture.as((await getTenant(tenantId))!.accountId!), { region: DR_REGION });
    return (await cfn.send(new DescribeStacksCommand({ StackName: `tessera-${tenantId}-dr` }))).Stacks![0].StackStatus;
  };
  const offboard = async (tenantId: string) => expect((await local.workflows.run('offboard', { request: { tenantId, requestId: `req-${tenantId}-offboard` } })).error).toBeUndefined();

  it('a DR create whose rollback fails and whose deletion by Record failure fails too (DELETE_FAILED): one retry deletes it and creates it afresh', async () => {
    const key = drLogicalId('AWS::KMS::Key');
    const bucket = drLogicalId('AWS::S3::Bucket');
    // GIVEN the DR key's create fails, and the bucket refuses its deletion twice (the rollback, then Record failure's DeleteStack)
    local.fixture.cloudFormation.failCreate('tessera-drdel-dr', key, 'Resource handler returned message: "LimitExceededException" (HandlerErrorCode: ServiceLimitExceeded)');
    local.fixture.cloudFormation.failDelete('tessera-drdel-dr', bucket, 'Resource handler returned message: "The bucket you tried to delete is not empty" (HandlerErrorCode: GeneralServiceException)', 2);
    const run = await local.workflows.run('onboard', onboardRequest('drdel', 'professional'));
    expect(run.error?.message).toMatch(/StackFailed/);
    expect((await getTenant('drdel'))!.status).toBe('FAILED');
    expect(await drStatus('drdel')).toBe('DELETE_FAILED');
    // WHEN the onboarding runs again (tessera tenants retry)
    const rerun = await local.workflows.run('onboard', onboardRequest('drdel', 'professional'));
    // THEN it finishes: the dead DR stack deleted, one created, recorded ACTIVE
    expect(rerun.error).toBeUndefined();
    expect(await liveStacks('drdel', 'tessera-drdel-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
    expect(await drStatus('drdel')).toBe('CREATE_COMPLETE');
    expect(await getTenant('drdel')).toMatchObject({ status: 'ACTIVE', disasterRecovery: { region: DR_REGION, status: 'ACTIVE' } });
    await offboard('drdel'); // its VPC freed: the shared workload account holds 5 per region (moto's quota)
  });

  it('a DR create whose rollback fails (ROLLBACK_FAILED) and whose cleanup by Record failure was denied: one retry deletes it and creates it afresh', async () => {
    const key = drLogicalId('AWS::KMS::Key');
    const bucket = drLogicalId('AWS::S3::Bucket');
    local.fixture.cloudFormation.failCreate('tessera-drrbf-dr', key, 'Resource handler returned message: "LimitExceededException" (HandlerErrorCode: ServiceLimitExceeded)');
    local.fixture.cloudFormation.failDelete('tessera-drrbf-dr', bucket, 'Resource handler returned message: "The bucket you tried to delete is not empty" (HandlerErrorCode: GeneralServiceException)');
    // GIVEN Record failure's DeleteStack of the DR stack is refused (throttled for good, an SCP for a while)
    const undo = inject('deny-drrbf-delete', (next, context) => async (args) => {
      if (context.commandName === 'DeleteStackCommand' && namesStack(args.input.StackName, 'tessera-drrbf-dr')) {
        throw Object.assign(new Error('injected: not authorized to perform cloudformation:DeleteStack'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    });
    const run = await local.workflows.run('onboard', onboardRequest('drrbf', 'professional'));
    undo();
    expect(run.error?.message).toMatch(/StackFailed/);
    expect(await drStatus('drrbf')).toBe('ROLLBACK_FAILED');
    const rerun = await local.workflows.run('onboard', onboardRequest('drrbf', 'professional'));
    expect(rerun.error).toBeUndefined();
    expect(await liveStacks('drrbf', 'tessera-drrbf-dr', DR_REGION)).toEqual(['CREATE_COMPLETE']);
    expect(await drStatus('drrbf')).toBe('CREATE_COMPLETE');
    expect(await getTenant('drrbf')).toMatchObject({ status: 'ACTIVE', disasterRecovery: { region: DR_REGION, status: 'ACTIVE' } });
    await offboard('drrbf'); // its VPC freed: the shared workload account holds 5 per region (moto's quota)
  });

  it('an upgrade whose DR stack update rolls back (UPDATE_ROLLBACK_COMPLETE): the DR record is ACTIVE again with the version it still runs, the failure saying it rolled back', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('drupr', 'professional'))).error).toBeUndefined();
    const before = (await getTenant('drupr'))!;
    const target = before.blueprintVersion === '2.0.0' ? '1.0.0' : '2.0.0';
    const bucket = drLogicalId('AWS::S3::Bucket');
    local.fixture.cloudFormation.failUpdate('tessera-drupr-dr', bucket, 'Resource handler returned message: "Rate exceeded" (HandlerErrorCode: Throttling)');
    const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    const [listed] = upgradeItems([before], { tier: 'professional', blueprintVersion: target, requestId: 'upgrade-drupr' });
    await local.workflows.run(item, listed, { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/upgrade-drupr:drupr' });
    const after = (await getTenant('drupr'))!;
    expect(await drStatus('drupr')).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(after).toMatchObject({
      status: 'ACTIVE', blueprintVersion: before.blueprintVersion,
      disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: before.blueprintVersion } },
      failure: { step: 'Check DR blueprint', reason: expect.stringContaining(`DR stack tessera-drupr-dr (${DR_REGION}) rolled back its update (UPDATE_ROLLBACK_COMPLETE`) },
    });
    await offboard('drupr');
  });

  it('an upgrade whose PRIMARY update rolls back (after the DR stack was updated): the tenant stays ACTIVE on its version, the DR record says the version its stack is on', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('prupr', 'professional'))).error).toBeUndefined();
    const before = (await getTenant('prupr'))!;
    const target = before.blueprintVersion === '2.0.0' ? '1.0.0' : '2.0.0';
    const primary = local.fixture.catalog.find((b) => b.file === 'professional.template.json' && b.version === target)!.derived.Resources as Record<string, { Type: string }>;
    const bucket = Object.entries(primary).find(([, r]) => r.Type === 'AWS::S3::Bucket')![0];
    local.fixture.cloudFormation.failUpdate('tessera-prupr', bucket, 'Resource handler returned message: "Rate exceeded" (HandlerErrorCode: Throttling)');
    const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    const [listed] = upgradeItems([before], { tier: 'professional', blueprintVersion: target, requestId: 'upgrade-prupr' });
    await local.workflows.run(item, listed, { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/upgrade-prupr:prupr' });
    const after = (await getTenant('prupr'))!;
    expect(after).toMatchObject({
      status: 'ACTIVE', tier: 'professional', blueprintVersion: before.blueprintVersion, stackOutputs: before.stackOutputs,
      failure: { step: 'Check blueprint', reason: expect.stringContaining('stack tessera-prupr is UPDATE_ROLLBACK_COMPLETE') },
      disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: target } },
    });
    await offboard('prupr');
  });
});
