import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import { boundedFailure, failOperation } from '../../lambdas/lifecycle/lease.js';
import { catchReason, MAX_REASON_BYTES } from '../../lambdas/lifecycle/catch-reason.js';
import { MAX_LEFT_BEHIND } from '../../lambdas/lifecycle/failure-bounds.js';
import { HISTORY_ENTRIES, TenantRecord, type LeftBehindResource } from '../../lib/tenant-record.js';
import { rewrite } from './support/faults.js';

/**
 * A failure's record within DynamoDB's 400 KB item (lambdas/lifecycle/failure-bounds.ts, lease.ts boundedFailure). Moto
 * refuses an UpdateItem that makes the item larger than that, as DynamoDB does (ValidationException "Item size to update has
 * exceeded the maximum allowed size"; moto's limit is 405,000 bytes by its own count): until 2026-12-07 a failure that named
 * hundreds of left-behind resources, or carried a reason of hundreds of KB, was refused so, and the registry kept saying the
 * status before the failure (PROVISIONING with the dead execution's lease).
 */
const local = useLocalLifecycle();

/** `count` log groups a rolled-back stack skipped at deletion, each with a reason of about 1,000 characters. */
const skipped = (stack: string, count: number) => Array.from({ length: count }, (_, i) => ({
  StackName: stack, StackId: stack, EventId: `skip-${i}`, Timestamp: new Date(),
  LogicalResourceId: `Logs${String(i).padStart(4, '0')}`, ResourceType: 'AWS::Logs::LogGroup', ResourceStatus: 'DELETE_SKIPPED',
  PhysicalResourceId: `/tessera/${stack}/function-${i}/${'p'.repeat(200)}`, ResourceStatusReason: `retained by its DeletionPolicy: ${'r'.repeat(1_000)}`,
}));

describe('a failure too large for the tenant item', () => {
  it('an onboarding whose rolled-back stack left 800 resources behind: recorded FAILED, the first 25 named, the count of the rest', async () => {
    // GIVEN the tenant blueprint's create fails and rolls back, its events naming 800 log groups skipped at deletion
    const database = Object.keys(local.fixture.catalog.find((b) => b.name === 'enterprise' && b.version === '1.0.0')!.derived.Resources).find((id) => id.startsWith('DatabaseInstance'))!;
    local.fixture.cloudFormation.failCreate('tessera-biggap', database, 'Resource handler returned message: "DB instance quota exceeded" (HandlerErrorCode: ServiceLimitExceeded)');
    local.cleanups.push(rewrite('many-left-behind', 'DescribeStackEventsCommand', (out, input) => {
      if (String(input.StackName).includes('tessera-biggap') && !String(input.StackName).includes('-namespace') && !input.NextToken) out.StackEvents = [...skipped('tessera-biggap', 800), ...(out.StackEvents ?? [])];
    }));
    // WHEN it is onboarded
    const run = await local.workflows.run('onboard', onboardRequest('biggap', 'enterprise'));
    // THEN the failure is on record (before: moto refused the write, and the record said PROVISIONING under a dead lease)
    expect(run.error?.message).toMatch(/StackFailed: stack tessera-biggap is ROLLBACK_COMPLETE/);
    const record = (await getTenant('biggap'))!;
    expect(record.status).toBe('FAILED');
    expect(record.lease).toBeUndefined();
    expect(record.failure!.leftBehind!.map((r) => r.logicalId)).toEqual(Array.from({ length: 25 }, (_, i) => `Logs${String(i).padStart(4, '0')}`));
    expect(record.failure!.leftBehindOmitted).toBe(775);
    expect(Buffer.byteLength(record.failure!.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    const failed = (await local.fixture.events()).filter((e) => e.detailType === 'Tenant Lifecycle Failed' && e.detail.tenantId === 'biggap');
    expect(failed).toEqual([expect.objectContaining({ detail: expect.objectContaining({ leftBehindOmitted: 775, leftBehind: record.failure!.leftBehind }) })]);
  }, 240_000);

  it('failOperation with a 600 KB reason and 2,000 left-behind resources (a stopped execution\'s end, a request ending a dead lease): written, bounded', async () => {
    // GIVEN a tenant onboarding under a lease
    const executionArn = 'arn:aws:states:us-east-1:111111111111:execution:tessera-onboard:hugefail-1';
    const at = '2026-12-07T10:00:00.000Z';
    const lease = { kind: 'onboard' as const, executionArn, requestId: 'req-hugefail-0001', acquiredAt: at, previousStatus: 'PROVISIONING' as const };
    await putNewTenant(TenantRecord.parse({
      tenantId: 'hugefail', name: 'Huge', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@hugefail.example.com', status: 'PROVISIONING',
      requestId: 'req-hugefail-0001', createdAt: at, updatedAt: at, lease, currentStep: 'Deploy blueprint',
      executions: [{ kind: 'onboard', requestId: 'req-hugefail-0001', executionArn, startedAt: at, status: 'RUNNING' }],
    }));
    const leftBehind: LeftBehindResource[] = Array.from({ length: 2_000 }, (_, i) => ({
      stack: 'tessera-hugefail', logicalId: `Logs${i}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/hugefail/${i}`, status: 'DELETE_SKIPPED', reason: 'x'.repeat(2_000),
    }));
    // WHEN its failure is recorded with a CloudFormation reason chain of 600,000 characters
    const reason = `StackFailed: ${'caused by: '.repeat(60_000)}`;
    await failOperation((await getTenant('hugefail'))!, lease, { step: 'Deploy blueprint', reason, details: { leftBehind } });
    // THEN the failure is on record, bounded, its length named
    const record = (await getTenant('hugefail'))!;
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'Deploy blueprint', leftBehindOmitted: 1_975 } });
    expect(record.lease).toBeUndefined();
    expect(record.failure!.reason).toMatch(new RegExp(`^StackFailed: caused by: .* … \\(${reason.length} characters; the rest is in the execution's history\\)$`));
    expect(Buffer.byteLength(record.failure!.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(record.failure!.leftBehind).toHaveLength(25);
    expect(record.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Deploy blueprint', reason: record.failure!.reason });
  });

  it('a full history of CJK (3-byte) and emoji (4-byte) failures, then one more with the longest left-behind resources: written, each reason within MAX_REASON_BYTES UTF-8 bytes', async () => {
    // DynamoDB counts an item in UTF-8 bytes of attribute names and values ("Item sizes and formats"), moto too. The bounds
    // counted UTF-16 code units: a reason of 2,000 CJK characters is about 6,000 bytes, and 50 history entries of them
    // (HISTORY_ENTRIES), the failure's own, a refusal's, two deploying customizations' (the failure's reason recorded on each)
    // and 25 left-behind resources (a logical id of CloudFormation's 255 characters, a 2,048-character physical id and a
    // 500-character CJK reason: about 3,800 bytes each) passed moto's 405,000 bytes: it refused the write (ValidationException
    // "Item size to update has exceeded the maximum allowed size") and the registry kept the status before the failure.
    // Counted in bytes (MAX_REASON_BYTES, MAX_LEFT_BEHIND_REASON_BYTES), the same item is about 195,000 bytes as JSON.
    const executionArn = 'arn:aws:states:us-east-1:111111111111:execution:tessera-change:cjkfail-50';
    const at = '2026-12-07T10:00:00.000Z';
    const cjk = (n: number) => '変更セットの実行に失敗しました'.repeat(Math.ceil(n / 15)).slice(0, n);
    // CJK with an emoji (a surrogate pair, 4 bytes) every 40 characters, so that clips fall next to both
    const mixed = (n: number) => Array.from({ length: Math.ceil(n / 40) }, () => `${cjk(39)}🔥`).join('');
    // each earlier failure's history entry as the bound wrote it
    const earlier = Array.from({ length: HISTORY_ENTRIES - 1 }, (_, i) => {
      const long = mixed(10_000 + i);
      const reason = boundedFailure({ step: 'Deploy blueprint', reason: long, entry: { reason: long } }).entry!.reason!;
      return { kind: 'change' as const, requestId: `req-cjkfail-${String(i).padStart(4, '0')}`, executionArn: `${executionArn.slice(0, -3)}-${i}`, startedAt: at, endedAt: at, status: 'FAILED' as const, failedStep: 'Deploy blueprint', reason };
    });
    const lease = { kind: 'change' as const, executionArn, requestId: 'req-cjkfail-0050', acquiredAt: at, previousStatus: 'ACTIVE' as const };
    await putNewTenant(TenantRecord.parse({
      tenantId: 'cjkfail', name: 'CJK', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@cjkfail.example.com', status: 'UPDATING',
      requestId: 'req-cjkfail-0000', createdAt: at, updatedAt: at, lease, currentStep: 'Deploy blueprint',
      // a refused request's reason, bounded as a Catch's reason is (catchReason)
      lastRefusal: { kind: 'change', requestId: 'req-cjkfail-0049', step: 'Begin change', reason: catchReason({ Error: 'TenantConflict', Cause: mixed(10_000) }), at },
      // two customization stacks deploying: the failure records its reason on each (customization-failure.ts)
      customizations: Object.fromEntries(['audit', 'search'].map((n) => [n, { stackName: `tessera-cjkfail-${n}`, status: 'DEPLOYING', tier: 'starter', updatedAt: at }])),
      executions: [...earlier, { kind: 'change', requestId: 'req-cjkfail-0050', executionArn, startedAt: at, status: 'RUNNING' }],
    }));
    const leftBehind: LeftBehindResource[] = Array.from({ length: 40 }, (_, i) => ({
      stack: 'tessera-cjkfail', logicalId: `Logs${String(i).padStart(4, '0')}${'L'.repeat(251)}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/cjkfail/${String(i).padStart(4, '0')}/${'p'.repeat(2_048 - 22)}`,
      status: 'DELETE_SKIPPED', reason: mixed(2_000),
    }));
    // WHEN the change fails with a CJK reason and those resources left behind
    await failOperation((await getTenant('cjkfail'))!, lease, { step: 'Deploy blueprint', reason: `StackFailed: ${mixed(50_000)}`, details: { leftBehind } });
    // THEN it is on record (before: ValidationException "Item size to update has exceeded the maximum allowed size")
    const record = (await getTenant('cjkfail'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy blueprint', leftBehindOmitted: 40 - MAX_LEFT_BEHIND } });
    expect(record.lease).toBeUndefined();
    expect(record.executions).toHaveLength(HISTORY_ENTRIES);
    for (const e of record.executions) {
      expect(Buffer.byteLength(e.reason!)).toBeLessThanOrEqual(MAX_REASON_BYTES);
      expect(e.reason).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|\ufffd/);
    }
    expect(Buffer.byteLength(record.failure!.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(record.customizations?.audit).toMatchObject({ status: 'FAILED', reason: expect.stringContaining(record.failure!.reason) });
    // the whole item, as JSON (which counts more than DynamoDB: quotes, commas), well under 400 KB
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(250_000);
  });
});
