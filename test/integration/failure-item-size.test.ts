import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant, putNewTenant, updateTenant } from '../../lambdas/shared/registry.js';
import { acquireLease, boundedFailure, failOperation } from '../../lambdas/lifecycle/lease.js';
import { catchReason, MAX_REASON_BYTES } from '../../lambdas/lifecycle/catch-reason.js';
import { MAX_LEFT_BEHIND, MAX_LEFT_BEHIND_BYTES, MAX_LEFT_BEHIND_ID_BYTES } from '../../lambdas/lifecycle/failure-bounds.js';
import { MAX_CUSTOMIZATION_FAILURE_REASON_BYTES } from '../../lambdas/lifecycle/customization-failure.js';
import { MAX_OWED_BYTES, MIN_OWED_DETAIL_BYTES, owe, oweOnRecord, sendOwed } from '../../lambdas/lifecycle/announcements.js';
import { GATEWAY_POLICY_ENTRIES, HISTORY_ENTRIES, TenantRecord, type LeftBehindResource, type LifecycleExecution } from '../../lib/tenant-record.js';
import { rewrite } from './support/faults.js';
import { canonicalJson, digestChange, MAX_FULL_CHANGES_BYTES, withChangesBounded } from '../../lib/change-digest.js';
import { MAX_TENANT_TAGS } from '../../lib/tenant-tags.js';
import { driftRecord, MAX_DRIFT_RESOURCES_BYTES, MAX_PATHS_PER_RESOURCE, MAX_RECORDED_DRIFTS } from '../../lambdas/lifecycle/drift.js';

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
    // each earlier failure's history entry as the bound wrote it, each a change at its largest: 40 tags at their limits in CJK
    // (about 46 KB), an allowReplacement reason of 500 CJK characters, a tier of 31 characters and a version of 64; the
    // newest 9 smaller (about 900 bytes), so that their requests are kept in full up to MAX_FULL_CHANGES_BYTES, the
    // others as their digests (withChangesBounded, as registry.ts withExecution writes the history). Until 2026-12-07 each
    // kept its whole request: 50 of them were about 2.4 MB.
    const largest = (i: number) => ({
      tier: `t${'x'.repeat(29)}${i % 10}`, blueprintVersion: `${i}.0.0-${'r'.repeat(58)}`.slice(0, 64), allowReplacement: { reason: cjk(500) },
      tags: Object.fromEntries(Array.from({ length: MAX_TENANT_TAGS }, (_, j) => [`${String(j).padStart(2, '0')}${'鍵'.repeat(126)}`, `${String(i).padStart(3, '0')}${'値'.repeat(253)}`])),
    });
    const small = (i: number) => ({ tier: 'starter', blueprintVersion: `${i}.0.0`, tags: { [`鍵${i}`]: cjk(260) } });
    const earlier = Array.from({ length: HISTORY_ENTRIES - 1 }, (_, i) => {
      const long = mixed(10_000 + i);
      const reason = boundedFailure({ step: 'Deploy blueprint', reason: long, entry: { reason: long } }).entry!.reason!;
      return { kind: 'change' as const, requestId: `req-cjkfail-${String(i).padStart(4, '0')}`, executionArn: `${executionArn.slice(0, -3)}-${i}`, startedAt: at, endedAt: at, status: 'FAILED' as const, failedStep: 'Deploy blueprint', reason,
        change: i < HISTORY_ENTRIES - 10 ? largest(i) : small(i) };
    });
    // and GATEWAY_POLICY_ENTRIES policy writes at their longest, bounded apart from the operations' entries: an IAM user's ARN
    // with a 512-character path, a reason of 500 CJK characters (1,500 bytes), 60 changed key paths
    const policyWrites = Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => ({
      kind: 'gateway-policy' as const, requestId: `gateway-policy-v${i + 1}`, startedAt: at, endedAt: at, status: 'SUCCEEDED' as const,
      actor: `admin:arn:aws:iam::111111111111:user/${'p'.repeat(510)}/${'u'.repeat(64)}`, requestReason: cjk(500),
      policyChange: { version: i + 1, method: 'PATCH' as const, paths: Array.from({ length: 60 }, (_, j) => `guardrails.someLongPolicyKeyName${String(j).padStart(2, '0')}`) },
    }));
    // and the last drift check's record at its largest (lambdas/lifecycle/drift.ts): more than MAX_RECORDED_DRIFTS drifted
    // and unchecked resources at CloudFormation's limits (255-character logical ids, 2,048-character CJK physical ids and
    // property paths), and a failed detection's reason naming each; until 2026-12-07 bounded in count only (about 1.3 MB)
    const drifted = Array.from({ length: MAX_RECORDED_DRIFTS + 20 }, (_, i) => ({
      stack: 'tessera-cjkfail', logicalId: `R${String(i).padStart(4, '0')}${'L'.repeat(251)}`, type: 'AWS::IAM::Role', physicalId: cjk(2_048), status: 'MODIFIED' as const,
      differences: Array.from({ length: MAX_PATHS_PER_RESOURCE }, (_, j) => ({ path: `/Policies/${j}/${cjk(2_048)}`, type: 'NOT_EQUAL' })),
    }));
    const notChecked = Array.from({ length: MAX_RECORDED_DRIFTS + 20 }, (_, i) => ({ stack: 'tessera-cjkfail', logicalId: `U${String(i).padStart(4, '0')}${'L'.repeat(251)}`, type: 'AWS::SQS::Queue', reason: mixed(500) }));
    const drift = driftRecord([{ stack: 'tessera-cjkfail', status: 'DRIFTED', reason: `Stack (arn) failed with message: ${mixed(100_000)}`, resources: drifted, unchecked: notChecked }], at);
    // and owed announcements past their bound (owed-bound.ts: the operation whose announcement filled them was the last to
    // start), each a Tenant Changed with the 40 CJK tags, as owe() cuts them
    let owed: Pick<TenantRecord, 'owedAnnouncements'> = { owedAnnouncements: [] };
    for (let i = 0; Buffer.byteLength(JSON.stringify(owed.owedAnnouncements)) < MAX_OWED_BYTES; i += 1) {
      owed = owe({ tenantId: 'cjkfail', ...owed } as TenantRecord, 'Tenant Changed', { tenantId: 'cjkfail', tier: 'starter', executionArn: `${executionArn}-o${i}`, tags: largest(i).tags }, `${executionArn}-o${i}`);
    }
    const lease = { kind: 'change' as const, executionArn, requestId: 'req-cjkfail-0050', acquiredAt: at, previousStatus: 'ACTIVE' as const };
    await putNewTenant(TenantRecord.parse({
      drift, ...owed,
      tenantId: 'cjkfail', name: 'CJK', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@cjkfail.example.com', status: 'UPDATING',
      requestId: 'req-cjkfail-0000', createdAt: at, updatedAt: at, lease, currentStep: 'Deploy blueprint',
      // a refused request's reason, bounded as a Catch's reason is (catchReason)
      lastRefusal: { kind: 'change', requestId: 'req-cjkfail-0049', step: 'Begin change', reason: catchReason({ Error: 'TenantConflict', Cause: mixed(10_000) }), at },
      // two customization stacks deploying: the failure records its reason on each (customization-failure.ts)
      customizations: Object.fromEntries(['audit', 'search'].map((n) => [n, { stackName: `tessera-cjkfail-${n}`, status: 'DEPLOYING', tier: 'starter', updatedAt: at }])),
      // the tenant's own tags at their largest too, and the running change's request (digested at once: too large to keep)
      tags: largest(99).tags,
      executions: withChangesBounded<LifecycleExecution>([...earlier, ...policyWrites, { kind: 'change', requestId: 'req-cjkfail-0050', executionArn, startedAt: at, status: 'RUNNING', change: largest(50) }]),
    }));
    const leftBehind: LeftBehindResource[] = Array.from({ length: 40 }, (_, i) => ({
      stack: 'tessera-cjkfail', logicalId: `Logs${String(i).padStart(4, '0')}${'L'.repeat(251)}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/cjkfail/${String(i).padStart(4, '0')}/${'p'.repeat(2_048 - 22)}`,
      status: 'DELETE_SKIPPED', reason: mixed(2_000),
    }));
    // WHEN the change fails with a CJK reason and those resources left behind
    await failOperation((await getTenant('cjkfail'))!, lease, { step: 'Deploy blueprint', reason: `StackFailed: ${mixed(50_000)}`, details: { leftBehind } });
    // and its Tenant Lifecycle Failed is owed too (record-failure.ts), the tenant's tags in it
    await oweOnRecord('cjkfail', 'Tenant Lifecycle Failed', { tenantId: 'cjkfail', executionArn, step: 'Deploy blueprint', reason: mixed(50_000), tags: largest(98).tags }, executionArn);
    // THEN it is on record (before: ValidationException "Item size to update has exceeded the maximum allowed size")
    const record = (await getTenant('cjkfail'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy blueprint' } });
    // at most MAX_LEFT_BEHIND resources and MAX_LEFT_BEHIND_BYTES of them (these are about 3.8 KB each): the rest counted
    expect(record.failure!.leftBehind!.length).toBeLessThanOrEqual(MAX_LEFT_BEHIND);
    expect(record.failure!.leftBehind!.length + record.failure!.leftBehindOmitted!).toBe(40);
    expect(Buffer.byteLength(JSON.stringify(record.failure!.leftBehind))).toBeLessThanOrEqual(MAX_LEFT_BEHIND_BYTES);
    expect(record.lease).toBeUndefined();
    expect(record.executions).toHaveLength(HISTORY_ENTRIES + GATEWAY_POLICY_ENTRIES);
    // the newest requests kept in full within MAX_FULL_CHANGES_BYTES, every other one as its digest (the failed change's too)
    const full = record.executions.filter((e) => e.change);
    expect(full.map((e) => e.requestId)).toEqual(earlier.slice(-9).map((e) => e.requestId));
    expect(full.reduce((n, e) => n + Buffer.byteLength(canonicalJson(e.change)), 0)).toBeLessThanOrEqual(MAX_FULL_CHANGES_BYTES);
    expect(record.executions.filter((e) => e.changeDigest)).toHaveLength(HISTORY_ENTRIES - 9);
    expect(record.executions.at(-1)).toMatchObject({ requestId: 'req-cjkfail-0050', status: 'FAILED', changeDigest: digestChange(largest(50)) });
    for (const e of record.executions.filter((x) => x.kind !== 'gateway-policy')) {
      expect(Buffer.byteLength(e.reason!)).toBeLessThanOrEqual(MAX_REASON_BYTES);
      expect(e.reason).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|\ufffd/);
    }
    expect(Buffer.byteLength(record.failure!.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    // each deploying customization keeps the head of the failure's reason (customization-failure.ts)
    expect(record.customizations?.audit).toMatchObject({ status: 'FAILED', reason: expect.stringContaining(record.failure!.reason.slice(0, 100)) });
    // the drift record within its bound, the owed announcements past theirs by the last ones only
    expect(Buffer.byteLength(JSON.stringify({ resources: record.drift!.resources, unchecked: record.drift!.unchecked }))).toBeLessThanOrEqual(MAX_DRIFT_RESOURCES_BYTES);
    expect(record.drift!.resources.length + record.drift!.truncated!).toBe(MAX_RECORDED_DRIFTS + 20);
    expect(Buffer.byteLength(JSON.stringify(record.owedAnnouncements))).toBeLessThan(MAX_OWED_BYTES + 2 * (MIN_OWED_DETAIL_BYTES + 1_024));
    // the whole item, as JSON (which counts more than DynamoDB: quotes, commas), under moto's 405,000 bytes and DynamoDB's
    // 400 KB (409,600): about 393 KB with the 20 policy writes at their longest (about 3.4 KB each, 224 KB of history in
    // all), the tenant's 46 KB of tags, 8 KB of requests in full and 41 digests (about 230 bytes each), the failure's 34
    // KB, the drift record's 17 KB and the owed announcements' 68 KB. About 12 KB are left: each further customization
    // stack the catalog deploys takes about 700 bytes of it (two here)
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(400_000);
  });
});

describe('the parts of a tenant item bounded since the failure was (left-behind names, customizations, owed announcements)', () => {
  const executionArn = (id: string) => `arn:aws:states:us-east-1:111111111111:execution:tessera-change:${id}-1`;
  const at = '2026-12-07T10:00:00.000Z';
  /** A tenant changing under a lease, with `extra` (customizations, tags, history). */
  async function changing(tenantId: string, extra: Partial<TenantRecord> = {}) {
    const lease = { kind: 'change' as const, executionArn: executionArn(tenantId), requestId: `req-${tenantId}-0001`, acquiredAt: at, previousStatus: 'ACTIVE' as const };
    await putNewTenant(TenantRecord.parse({
      tenantId, name: tenantId, tier: 'starter', isolation: 'account', adminEmail: `ops@${tenantId}.example.com`, status: 'UPDATING',
      requestId: `req-${tenantId}-0000`, createdAt: at, updatedAt: at, lease, currentStep: 'Deploy customizations',
      executions: [{ kind: 'change', requestId: `req-${tenantId}-0001`, executionArn: executionArn(tenantId), startedAt: at, status: 'RUNNING' }],
      ...extra,
    }));
    return lease;
  }
  const cjk = (n: number) => '変更セットの実行に失敗しました'.repeat(Math.ceil(n / 15)).slice(0, n);

  it('30 left-behind resources whose physical ids are 16 KB each (a resource type handler\'s compound identifier): written, each name clipped, the list within its bound', async () => {
    // GIVEN a change under a lease whose stack left 30 resources behind, each physical id 5,500 CJK characters (16.5 KB)
    const lease = await changing('longids');
    const leftBehind: LeftBehindResource[] = Array.from({ length: 30 }, (_, i) => ({
      stack: 'tessera-longids', logicalId: `Custom${String(i).padStart(2, '0')}`, type: 'Example::Vendor::Thing', physicalId: `${String(i).padStart(2, '0')}|${cjk(5_500)}`, status: 'DELETE_FAILED', reason: 'handler failed',
    }));
    // WHEN the failure is recorded
    await failOperation((await getTenant('longids'))!, lease, { step: 'Deploy blueprint', reason: 'StackFailed: stack tessera-longids is UPDATE_ROLLBACK_COMPLETE', details: { leftBehind } });
    // THEN it is on record (before: 25 ids of 16.5 KB, 412 KB; ValidationException "Item size to update has exceeded the maximum allowed size")
    const record = (await getTenant('longids'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy blueprint' } });
    expect(record.lease).toBeUndefined();
    const kept = record.failure!.leftBehind!;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + record.failure!.leftBehindOmitted!).toBe(30);
    expect(kept.map((r) => r.logicalId)).toEqual(leftBehind.slice(0, kept.length).map((r) => r.logicalId));
    for (const r of kept) {
      expect(Buffer.byteLength(r.physicalId!)).toBeLessThanOrEqual(MAX_LEFT_BEHIND_ID_BYTES);
      expect(r.physicalId).toMatch(/^\d\d\|変更セット.* … \(5503 characters; the rest is in the stack's events\)$/);
    }
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(MAX_LEFT_BEHIND_BYTES);
  });

  it('a change failing while 150 customizations deploy, beside a full history: written, each customization keeping the head of the reason', async () => {
    // GIVEN 49 earlier failures in the history (2,000 bytes of reason each) and 150 customization stacks deploying
    const earlier = Array.from({ length: HISTORY_ENTRIES - 1 }, (_, i) => ({
      kind: 'change' as const, requestId: `req-manycust-${String(i + 100).padStart(4, '0')}`, executionArn: `${executionArn('manycust')}-${i}`, startedAt: at, endedAt: at, status: 'FAILED' as const, failedStep: 'Deploy blueprint',
      reason: boundedFailure({ step: 'Deploy blueprint', reason: cjk(5_000), entry: { reason: cjk(5_000) } }).entry!.reason!,
    }));
    const names = Array.from({ length: 150 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const lease = await changing('manycust', {
      customizations: Object.fromEntries(names.map((n) => [n, { stackName: `tessera-manycust-custom-${n}`, status: 'DEPLOYING' as const, tier: 'starter', blueprintVersion: '0.11.0', updatedAt: at }])),
    });
    const record0 = (await getTenant('manycust'))!;
    await updateTenant('manycust', { executions: [...earlier, ...record0.executions] }, { holder: lease.executionArn });
    // WHEN the change fails with a CJK reason of 2,000 bytes (MAX_REASON_BYTES)
    await failOperation((await getTenant('manycust'))!, lease, { step: 'Deploy customizations', reason: `StackFailed: ${cjk(20_000)}` });
    // THEN it is on record (before: 150 copies of the 2,000-byte reason, 330 KB beside the history's 100 KB: ValidationException)
    const record = (await getTenant('manycust'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy customizations' } });
    expect(Buffer.byteLength(record.failure!.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    for (const n of names) {
      const c = record.customizations![n];
      expect(c.status).toBe('FAILED');
      const head = c.reason!.slice(c.reason!.indexOf(': StackFailed: ') + 2);
      expect(Buffer.byteLength(head)).toBeLessThanOrEqual(MAX_CUSTOMIZATION_FAILURE_REASON_BYTES);
      expect(record.failure!.reason.startsWith(head.slice(0, head.indexOf(' … (')))).toBe(true);
      expect(head).toMatch(/ … \(\d+ characters; the rest is in the failure's reason and the execution's history entry\)$/);
    }
  });

  it('eight operations completed while the bus refuses their announcements, each carrying the tenant\'s 40 CJK tags: every completing write made, the owed list within its bound', async () => {
    // GIVEN a tenant whose 40 tags are at their longest, in CJK (about 46 KB)
    const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, '値'.repeat(256)]));
    await putNewTenant(TenantRecord.parse({
      tenantId: 'owedtags', name: 'Owed', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@owedtags.example.com', status: 'ACTIVE',
      requestId: 'req-owedtags-0000', createdAt: at, updatedAt: at, tags,
    }));
    // WHEN eight operations complete, each owing its Tenant Changed with the tags (the bus refusing each: nothing sent or cleared)
    for (let i = 1; i <= 8; i += 1) {
      const now = (await getTenant('owedtags'))!;
      const arn = `${executionArn('owedtags')}${i}`;
      // the completing write (lease.ts completeOperation) with what owe adds
      await updateTenant('owedtags', owe(now, 'Tenant Changed', { tenantId: 'owedtags', previousTier: 'starter', tier: 'starter', executionArn: arn, tags }, arn), { holder: null, expectUpdatedAt: now.updatedAt });
    }
    // THEN all eight are owed (before: a later write passed 400 KB, ValidationException "Item size to update has exceeded
    // the maximum allowed size", and an operation that took effect was recorded as never completed)
    const record = (await getTenant('owedtags'))!;
    const owed = record.owedAnnouncements!;
    expect(owed).toHaveLength(8);
    expect(owed[0].detail).toMatchObject({ tags });
    for (const a of owed.slice(1)) expect(a.detail).toMatchObject({ tenantId: 'owedtags', tier: 'starter', executionArn: a.executionArn, tagsOmitted: 40 - Object.keys(a.detail.tags as object).length });
    expect(Buffer.byteLength(JSON.stringify(owed))).toBeLessThan(MAX_OWED_BYTES + 7 * 2_500);
  });

  it('operations go on completing while the bus refuses: once the owed announcements fill MAX_OWED_BYTES the next operation is refused before it starts, the list bounded', async () => {
    // GIVEN a tenant whose 40 tags are at their longest, in CJK (about 46 KB each announcement carries)
    const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, '値'.repeat(256)]));
    await putNewTenant(TenantRecord.parse({
      tenantId: 'owedmany', name: 'Owed', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@owedmany.example.com', status: 'ACTIVE',
      requestId: 'req-owedmany-0000', createdAt: at, updatedAt: at, tags,
    }));
    // WHEN changes keep being asked, each taking the lease and completing with its Tenant Changed owed (the bus refusing all)
    let refused: Error | undefined;
    for (let i = 1; i <= 60 && !refused; i += 1) {
      const arn = `${executionArn('owedmany')}${i}`;
      try {
        await acquireLease('owedmany', { kind: 'change', executionArn: arn, requestId: `req-owedmany-${String(i).padStart(4, '0')}` });
      } catch (e) {
        refused = e as Error;
        break;
      }
      const now = (await getTenant('owedmany'))!;
      // the completing write (lease.ts completeOperation) with what owe adds (before: none was refused, and past 200 the item passed 400 KB)
      await updateTenant('owedmany', { status: 'ACTIVE', lease: undefined, ...owe(now, 'Tenant Changed', { tenantId: 'owedmany', previousTier: 'starter', tier: 'starter', executionArn: arn, tags }, arn) }, { holder: arn });
    }
    // THEN a later one is refused, changing nothing, naming the owed announcements and how to send them
    expect(refused?.name).toBe('TenantConflict');
    expect(refused?.message).toMatch(/owes \d+ announcements .*owedAnnouncements.*tessera tenants retry owedmany/);
    const record = (await getTenant('owedmany'))!;
    expect(record).toMatchObject({ status: 'ACTIVE' });
    expect(record.lease).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(record.owedAnnouncements))).toBeLessThan(MAX_OWED_BYTES + MIN_OWED_DETAIL_BYTES + 1_024);
    // WHEN the bus takes them again and they are sent (what tessera tenants retry does for an ACTIVE tenant: admin-api.ts)
    const announced = await sendOwed(record);
    // THEN none is owed any more, and the next operation starts
    expect(announced.length).toBe(record.owedAnnouncements!.length);
    expect((await getTenant('owedmany'))!.owedAnnouncements ?? []).toEqual([]);
    await acquireLease('owedmany', { kind: 'change', executionArn: `${executionArn('owedmany')}after`, requestId: 'req-owedmany-after' });
    expect((await getTenant('owedmany'))!.lease).toMatchObject({ kind: 'change', requestId: 'req-owedmany-after' });
  });
});
