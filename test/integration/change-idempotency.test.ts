import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { GATEWAY_POLICY_ENTRIES } from '../../lib/tenant-record.js';
import { configWith } from '../support/config-with.js';
import { LocalPlatform } from './support/local-platform.js';
import { adminCall } from './support/admin-calls.js';

/**
 * PATCH /admin/tenants/{id} with an Idempotency-Key, end to end (the admin API, the registry on
 * moto, the change workflow). Found by the hostile lc (s12): two PATCHes with the same key at once
 * answered 202 and 409 operation_in_progress; after the first had finished, the same key with
 * another body was accepted (202) and ran as a second change, two history entries with one request id.
 */
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
});
afterAll(async () => {
  await platform?.settle();
  await platform?.stop();
});

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => adminCall(platform, method, path, body, headers);

describe('PATCH with an Idempotency-Key', () => {
  it('the same key at once: one change, the other request answered with it; after it ended, the same key with another body is refused and the same body answers with its result', async () => {
    const onboard = await api('POST', '/admin/tenants', { tenantId: 'oscorp', name: 'Oscorp', tier: 'starter', adminEmail: 'admin@oscorp.example.com', requestId: 'req-oscorp-0001' });
    expect((await platform.awaitExecution(onboard.body.executionArn)).status).toBe('SUCCEEDED');
    const version = (await getTenant('oscorp'))!.blueprintVersion!;
    const key = { 'idempotency-key': 'oscorp-change-1' };
    // WHEN two PATCHes with the same key and body arrive at once (a repair: the default tiers' networks differ)
    const [p1, p2] = await Promise.all([api('PATCH', '/admin/tenants/oscorp', { repair: true }, key), api('PATCH', '/admin/tenants/oscorp', { repair: true }, key)]);
    // THEN one started it (202), the other answers with the same execution (200)
    expect([p1.status, p2.status].sort()).toEqual([200, 202]);
    const [first, second] = p1.status === 202 ? [p1, p2] : [p2, p1];
    expect(second.body).toMatchObject({ requestId: 'oscorp-change-1', executionArn: first.body.executionArn, note: 'change already running' });
    expect((await platform.awaitExecution(first.body.executionArn)).status).toBe('SUCCEEDED');
    // AND after it ended, the same key with another body is refused, naming the key
    const other = await api('PATCH', '/admin/tenants/oscorp', { blueprintVersion: version }, key);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key', message: expect.stringContaining('Idempotency-Key "oscorp-change-1" was used for another change of tenant "oscorp": {"repair":true}') });
    // AND the same body answers with the earlier result, starting nothing
    const again = await api('PATCH', '/admin/tenants/oscorp', { repair: true }, key);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ executionArn: first.body.executionArn, outcome: 'SUCCEEDED', status: 'ACTIVE' });
    const record = (await getTenant('oscorp'))!;
    expect(record.executions.filter((e) => e.requestId === 'oscorp-change-1')).toEqual([expect.objectContaining({ kind: 'change', status: 'SUCCEEDED', change: { repair: true } })]);
  }, 180_000);
});

describe('a change whose history entry 50 gateway policy writes came after', () => {
  it('keeps what its Idempotency-Key stands for and who asked: after it ended, the same key with other tags is refused, and the same body answers with its result', async () => {
    const onboard = await api('POST', '/admin/tenants', { tenantId: 'stark', name: 'Stark', tier: 'starter', adminEmail: 'admin@stark.example.com', requestId: 'req-stark-0001' });
    expect((await platform.awaitExecution(onboard.body.executionArn)).status).toBe('SUCCEEDED');
    // GIVEN a tags change under a key, held before Finish change (its entry RUNNING, written when it started)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reachedIt!: () => void;
    const reached = new Promise<void>((r) => (reachedIt = r));
    platform.workflows.wrap = (name, handler) => async (event: any) => {
      if (name === 'finish-change' && event.request?.tenantId === 'stark') {
        reachedIt();
        await gate;
      }
      return handler(event);
    };
    try {
      const key = { 'idempotency-key': 'stark-tags-1' };
      const change = await api('PATCH', '/admin/tenants/stark', { tags: { CostCenter: '4711' } }, key);
      expect(change.status, JSON.stringify(change.body)).toBe(202);
      await reached;
      const running = (await getTenant('stark'))!.executions.find((e) => e.executionArn === change.body.executionArn)!;
      expect(running).toMatchObject({ status: 'RUNNING', change: { tags: { CostCenter: '4711' } }, actor: expect.any(String) });
      // WHEN 50 gateway policy writes land meanwhile (each a history entry: the cap is 50)
      for (let i = 1; i <= 50; i++) {
        const put = await api('PUT', '/admin/tenants/stark/gateway', { maxTokens: 100 + i });
        expect(put.status, JSON.stringify(put.body)).toBe(200);
      }
      release();
      expect((await platform.awaitExecution(change.body.executionArn)).status).toBe('SUCCEEDED');
      // THEN its entry kept what was asked and by whom (before: dropped, and written again by its ending without them)
      const record = (await getTenant('stark'))!;
      // (the onboarding's and the change's entries, and the last 20 policy writes: bounded apart, GATEWAY_POLICY_ENTRIES)
      expect(record.executions.filter((e) => e.kind === 'gateway-policy')).toHaveLength(GATEWAY_POLICY_ENTRIES);
      expect(record.executions.filter((e) => e.kind !== 'gateway-policy').map((e) => e.kind)).toEqual(['onboard', 'change']);
      expect(record.executions.find((e) => e.executionArn === change.body.executionArn)).toMatchObject({ status: 'SUCCEEDED', actor: running.actor, change: { tags: { CostCenter: '4711' } } });
      // AND the same key with other tags is refused, naming the change it was used for (before: 200 "this request already ran")
      const other = await api('PATCH', '/admin/tenants/stark', { tags: { CostCenter: '9999' } }, key);
      expect(other.status, JSON.stringify(other.body)).toBe(409);
      expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key', message: expect.stringContaining('{"tags":{"CostCenter":"4711"}}') });
      expect((await getTenant('stark'))!.tags).toEqual({ CostCenter: '4711' });
      // AND the same body answers with its result, starting nothing
      const again = await api('PATCH', '/admin/tenants/stark', { tags: { CostCenter: '4711' } }, key);
      expect(again).toMatchObject({ status: 200, body: { executionArn: change.body.executionArn, outcome: 'SUCCEEDED' } });
    } finally {
      release();
      platform.workflows.wrap = undefined;
    }
  }, 180_000);
});

describe('a finished change, then 50 gateway policy writes', () => {
  it('keeps the change\'s entry (policy writes have their own bound): the same key with another change is refused, the same body answers with its result; no second change starts', async () => {
    const onboard = await api('POST', '/admin/tenants', { tenantId: 'wayne', name: 'Wayne', tier: 'starter', adminEmail: 'admin@wayne.example.com', requestId: 'req-wayne-0001' });
    expect((await platform.awaitExecution(onboard.body.executionArn)).status).toBe('SUCCEEDED');
    // GIVEN a tags change under a key, finished
    const key = { 'idempotency-key': 'wayne-tags-1' };
    const change = await api('PATCH', '/admin/tenants/wayne', { tags: { CostCenter: '4711' } }, key);
    expect(change.status, JSON.stringify(change.body)).toBe(202);
    expect((await platform.awaitExecution(change.body.executionArn)).status).toBe('SUCCEEDED');
    // WHEN 50 gateway policy writes land after it (before: each an entry under one cap of 50 with the operations')
    for (let i = 1; i <= 50; i++) {
      const put = await api('PUT', '/admin/tenants/wayne/gateway', { maxTokens: 100 + i });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    // THEN the change's entry is still there, and the last 20 policy writes
    const record = (await getTenant('wayne'))!;
    expect(record.executions.find((e) => e.executionArn === change.body.executionArn)).toMatchObject({ status: 'SUCCEEDED', change: { tags: { CostCenter: '4711' } }, actor: expect.any(String) });
    expect(record.executions.filter((e) => e.kind === 'gateway-policy').map((e) => e.policyChange?.version)).toEqual(Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => 50 - GATEWAY_POLICY_ENTRIES + 1 + i));
    // AND the same key with other tags is refused (before: the key was forgotten, and a second change started, 202)
    const other = await api('PATCH', '/admin/tenants/wayne', { tags: { CostCenter: '9999' } }, key);
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
    // AND the same body answers with its result, starting nothing
    const again = await api('PATCH', '/admin/tenants/wayne', { tags: { CostCenter: '4711' } }, key);
    expect(again).toMatchObject({ status: 200, body: { executionArn: change.body.executionArn, outcome: 'SUCCEEDED', change: { tags: { CostCenter: '4711' } } } });
    expect((await getTenant('wayne'))!.executions.filter((e) => e.kind === 'change')).toHaveLength(1);
  }, 180_000);
});
