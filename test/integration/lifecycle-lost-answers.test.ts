import { CloudFormationClient, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { inject } from './support/faults.js';
import { dieAfter } from './lost-answers.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';
import { onboardingRequest } from './support/admin-calls.js';

/**
 * Hostile pass: a fault once right after the AWS side did the work and before the registry recorded it (a lost
 * answer: SDK middleware that throws a Lambda timeout once the call went through). One platform for the file.
 */
const config = configWithBusinessTier();
const lifecycle = useLifecyclePlatform({ config });
const { cleanups, api, settled } = lifecycle;

/** Every stack of the workload account named for `tenantId` (deleted ones included: ListStacks keeps them 90 days). */
async function stacksOf(tenantId: string) {
  const cfn = new CloudFormationClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
  const out: Array<{ name: string; id: string; status: string }> = [];
  let token: string | undefined;
  do {
    const page = await cfn.send(new ListStacksCommand({ NextToken: token }));
    for (const s of page.StackSummaries ?? []) if (s.StackName === `tessera-${tenantId}` || s.StackName === `tessera-${tenantId}-namespace`) out.push({ name: s.StackName!, id: s.StackId!, status: s.StackStatus! });
    token = page.NextToken;
  } while (token);
  return out;
}

const eventsOf = async (tenantId: string) => (await lifecycle.platform.fixture.events()).filter((e) => e.detail.tenantId === tenantId).map((e) => e.detailType);

describe('an onboarding whose CreateStack answer was lost', () => {
  it('then DELETE: the offboarding records the stack\'s outputs first, exports and snapshots its stores, and queues the tenant key (it was never scheduled nor queued: orphaned)', async () => {
    // GIVEN Deploy blueprint's CreateStack of the tenant stack went through and its Lambda then timed out
    const fault = dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-kramerica', cleanups });
    const start = await api('POST', '/admin/tenants', onboardingRequest('kramerica', 'professional'));
    expect(start.status).toBe(202);
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    expect(fault.died()).toBe(true);
    const [standing] = await stacksOf('kramerica');
    expect(standing).toMatchObject({ name: 'tessera-kramerica', status: 'CREATE_COMPLETE' });
    // THEN Record failure says the stack stands, with its outputs (before: no stack name, no outputs, the reason silent)
    const failed = (await getTenant('kramerica'))!;
    expect(failed).toMatchObject({ status: 'FAILED', stackName: 'tessera-kramerica', failure: {
      step: 'Deploy blueprint', reason: expect.stringMatching(/^Sandbox\.Timedout: .*; stack tessera-kramerica was created \(CREATE_COMPLETE\) before the onboarding ended: its outputs are recorded/),
    } });
    expect(failed.stackOutputs.KeyArn).toMatch(/^arn:aws:kms:/);
    expect(failed.lease).toBeUndefined();
    // WHEN the operator gives up: DELETE
    const off = await api('DELETE', '/admin/tenants/kramerica');
    expect(off.status).toBe(202);
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the stack is gone, and the registry knows what it held
    expect(await stacksOf('kramerica')).toEqual([{ ...standing, status: 'DELETE_COMPLETE' }]);
    const end = (await getTenant('kramerica'))!;
    const keyArn = end.stackOutputs.KeyArn;
    expect(keyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    expect(end).toMatchObject({ status: 'OFFBOARDED', stackName: 'tessera-kramerica', stackOutputs: { BucketName: expect.any(String), DatabaseInstanceId: 'tessera-kramerica' } });
    expect(end.lease).toBeUndefined();
    // AND the tenant key is queued for deletion after the last store under it expires, as any offboarded VPC tenant's
    const stores = end.offboarding!.retainedStores!;
    const logGroups = stores.filter((s) => s.store === 'log-group');
    expect(logGroups.length).toBeGreaterThan(0);
    for (const g of logGroups) expect(g, g.id).toMatchObject({ keyArn, holdsKey: true, disposition: 'expires' });
    expect(stores.find((s) => s.store === 'key')).toMatchObject({ keyArn, disposition: 'queued' });
    expect(stores.find((s) => s.id === end.stackOutputs.BucketName)?.note ?? '').not.toMatch(/not under the tenant key/);
    expect(end.offboarding?.keyDeletion).toMatchObject({ state: 'QUEUED', keyArn, dueAt: logGroups.map((g) => g.keptUntil!).sort().at(-1) });
    const tenantCreds = await lifecycle.platform.fixture.as(config.workloadAccountId);
    expect((await new KMSClient({ credentials: tenantCreds }).send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    // AND the bucket was exported and the database snapshot archived before the stack went
    expect(end.offboarding?.export).toMatchObject({ prefix: expect.stringMatching(/^kramerica\//) });
    expect(end.offboarding?.databaseSnapshot).toMatchObject({ instance: 'tessera-kramerica', archiveSnapshotId: expect.any(String) });
    expect(await eventsOf('kramerica')).toEqual(['Tenant Lifecycle Failed', 'Tenant Protection Lifted', 'Tenant Offboarded']);
  }, 240_000);

  it('the stack not readable when Record failure ran: the record keeps no outputs, and DELETE records them before the export; the key is queued', async () => {
    dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-pennypacker', cleanups });
    // AND Record failure's DescribeStacks of the tenant stack is refused (its best-effort read leaves the record as it is)
    let recording = false;
    cleanups.push(inject('deny-describe-pennypacker', (next, context) => async (args) => {
      if (recording && context.commandName === 'DescribeStacksCommand' && args.input.StackName === 'tessera-pennypacker') {
        throw Object.assign(new Error('injected: not authorized to perform cloudformation:DescribeStacks'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    }));
    lifecycle.platform.workflows.wrap = (name, handler) => async (event) => {
      if (name !== 'record-failure' || !JSON.stringify(event).includes('pennypacker')) return handler(event);
      recording = true;
      try {
        return await handler(event);
      } finally {
        recording = false;
      }
    };
    const start = await api('POST', '/admin/tenants', onboardingRequest('pennypacker', 'professional'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    lifecycle.platform.workflows.wrap = undefined;
    expect(await getTenant('pennypacker')).toMatchObject({ status: 'FAILED', stackOutputs: {}, failure: { step: 'Deploy blueprint' } });
    // WHEN DELETE
    const off = await api('DELETE', '/admin/tenants/pennypacker');
    expect(off.status).toBe(202);
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the outputs were recorded before the export, and the key is queued
    const end = (await getTenant('pennypacker'))!;
    const keyArn = end.stackOutputs.KeyArn;
    expect(keyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    expect(end).toMatchObject({ status: 'OFFBOARDED', stackName: 'tessera-pennypacker', offboarding: { keyDeletion: { state: 'QUEUED', keyArn }, databaseSnapshot: { instance: 'tessera-pennypacker' } } });
    expect((await stacksOf('pennypacker')).map((x) => x.status)).toEqual(['DELETE_COMPLETE']);
  }, 240_000);
});

/**
 * Hostile pass: in AWS an onboarding can end (a failure, a stop) while its tenant stack is still CREATE_IN_PROGRESS,
 * and the create goes on after; moto creates at once, so the stack's DescribeStacks answer is rewritten to
 * CREATE_IN_PROGRESS without outputs (as CloudFormation answers before the create completes) while `creating`.
 */
describe('an onboarding that ended while its tenant stack was still CREATE_IN_PROGRESS', () => {
  it('then DELETE: Export tenant data waits for the create to end (StackBusy), records the outputs, and the key is queued; before, the stack was deleted and the key left orphaned', async () => {
    dieAfter({ command: 'CreateStackCommand', stackName: 'tessera-vandelay', cleanups });
    let creating = true;
    cleanups.push(inject('create-in-progress-vandelay', (next, context) => async (args) => {
      const out = await next(args);
      if (creating && context.commandName === 'DescribeStacksCommand' && args.input.StackName === 'tessera-vandelay' && out.output?.Stacks?.[0]) {
        const { Outputs: _outputs, ...stack } = out.output.Stacks[0];
        return { ...out, output: { ...out.output, Stacks: [{ ...stack, StackStatus: 'CREATE_IN_PROGRESS' }] } };
      }
      return out;
    }));
    // The create ends once the offboarding's Export tenant data found it still running (and did not go on without it)
    const busy: string[] = [];
    lifecycle.platform.workflows.wrap = (name, handler) => async (event) => {
      if (name !== 'export-tenant-data' || !JSON.stringify(event).includes('vandelay')) return handler(event);
      try {
        return await handler(event);
      } catch (e) {
        if (creating) busy.push(`${(e as Error).name}: ${(e as Error).message}`);
        creating = false;
        throw e;
      }
    };
    const start = await api('POST', '/admin/tenants', onboardingRequest('vandelay', 'professional'));
    expect((await settled(start.body.executionArn)).status).toBe('FAILED');
    // The failure recorded no outputs: the stack had none yet
    expect(await getTenant('vandelay')).toMatchObject({ status: 'FAILED', stackOutputs: {}, failure: { step: 'Deploy blueprint' } });
    expect(creating).toBe(true);
    // WHEN DELETE while the create still runs
    const off = await api('DELETE', '/admin/tenants/vandelay');
    expect(off.status).toBe(202);
    expect((await settled(off.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the export waited, naming the stack and its status
    expect(busy).toEqual([expect.stringMatching(/^StackBusy: stack tessera-vandelay is CREATE_IN_PROGRESS/)]);
    // AND the outputs were recorded before the export: the bucket exported, the database archived, the key queued
    const end = (await getTenant('vandelay'))!;
    const keyArn = end.stackOutputs.KeyArn;
    expect(keyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    expect(end).toMatchObject({ status: 'OFFBOARDED', stackName: 'tessera-vandelay', offboarding: {
      keyDeletion: { state: 'QUEUED', keyArn }, databaseSnapshot: { instance: 'tessera-vandelay' }, export: { prefix: expect.stringMatching(/^vandelay\//) },
    } });
    expect(end.lease).toBeUndefined();
    expect(end.offboarding!.retainedStores!.find((s) => s.id === end.stackOutputs.BucketName)?.note ?? '').not.toMatch(/not under the tenant key/);
    expect((await stacksOf('vandelay')).map((x) => x.status)).toEqual(['DELETE_COMPLETE']);
  }, 240_000);
});

/** The manual DB snapshots of the workload account named for `tenantId` (`tessera-<tenant>-…`), by name. */
async function snapshotsOf(tenantId: string): Promise<string[]> {
  const rds = new RDSClient({ credentials: await lifecycle.platform.fixture.as(config.workloadAccountId) });
  const out = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
  return (out.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!).filter((id) => id.startsWith(`tessera-${tenantId}-final-`)).sort();
}

describe('an offboarding whose CreateDBSnapshot answer was lost (Snapshot database died after the call)', () => {
  it('fails OFFBOARDING at Snapshot database; DELETE again archives that final snapshot (not a second one) and deletes it: no final snapshot under the tenant key is left behind', async () => {
    await lifecycle.onboarded('bania', 'starter');
    const fault = dieAfter({ command: 'CreateDBSnapshotCommand', where: (input) => input.DBInstanceIdentifier === 'tessera-bania', cleanups });
    const first = await api('DELETE', '/admin/tenants/bania');
    expect((await settled(first.body.executionArn)).status).toBe('FAILED');
    expect(fault.died()).toBe(true);
    expect(await getTenant('bania')).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'offboard', step: 'Snapshot database', reason: expect.stringMatching(/^Sandbox\.Timedout/) } });
    // the snapshot the lost call made stands, under the tenant key
    const [made, ...others] = await snapshotsOf('bania');
    expect(others).toEqual([]);
    expect(made).toMatch(/^tessera-bania-final-\d+$/);
    // WHEN DELETE again
    const again = await api('DELETE', '/admin/tenants/bania');
    expect((await settled(again.body.executionArn)).status).toBe('SUCCEEDED');
    // THEN the archive is the copy of that snapshot, which is deleted; before, a second was made and the first left behind
    expect(await getTenant('bania')).toMatchObject({ status: 'OFFBOARDED', offboarding: { databaseSnapshot: { instance: 'tessera-bania', snapshotId: made, archiveSnapshotId: `${made}-archive`, sourceDeletedAt: expect.any(String) } } });
    expect(await snapshotsOf('bania')).toEqual([`${made}-archive`]);
  }, 240_000);
});
