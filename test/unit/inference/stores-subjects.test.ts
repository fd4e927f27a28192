import { describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { BudgetExhaustedError, SubjectCapacityError, type GatewayStore, type Subject } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';

// Limits per user and per key (issue 15, item 4) and attribution (item 5) on the two embedded
// stores: one table of cases, the same answers from both (and from DynamoDB: stores-dynamodb.test.ts).
const now = new Date('2026-11-23T10:15:30Z');
const tenants = [localTenant('other', 'enterprise'), localTenant('t', 'enterprise')];
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants)],
];
const rate = { minute: 30, hour: 1000, day: 1000 };
const keyA: Subject = { kind: 'key', id: 'key_00000000000000aa', limits: { requestsPerMinute: 10, tokensPerDay: 100, monthlyCostUsd: 1 } };
const keyB: Subject = { kind: 'key', id: 'key_00000000000000bb' };
const user: Subject = { kind: 'user', id: '3f1c9a6e-0000-4000-8000-000000000001', limits: { tokensPerDay: 50 } };

describe.each(stores)('%s: limits and usage per user and per key', (_name, make) => {
  it('counts a key\'s requests per minute with the tenant\'s, all or nothing, and names the scope that ran out', async () => {
    const s = make();
    const results = await Promise.all(Array.from({ length: 50 }, () => s.countRequest('t', rate, now, keyA)));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, window: 'minute', limit: 10, scope: 'key' });
    // Another key without a limit of its own stops at the tenant's 30, which counted only the 10 admitted.
    const others = await Promise.all(Array.from({ length: 50 }, () => s.countRequest('t', rate, now, keyB)));
    expect(others.filter((r) => r.ok)).toHaveLength(20);
    expect(others.find((r) => !r.ok)).toEqual({ ok: false, window: 'minute', limit: 30, scope: 'tenant' });
    // A new minute: both counters start again.
    expect(await s.countRequest('t', rate, new Date('2026-11-23T10:16:00Z'), keyA)).toEqual({ ok: true, counts: { minute: 1, hour: 31, day: 31, subjectMinute: 1 } });
  });

  it('reserves a key\'s tokens per day and monthly cost with the tenant\'s budgets, naming the scope', async () => {
    const s = make();
    expect((await s.reserve('t', 90, 0.5, { dayTokens: 1000 }, now, keyA)).committed).toEqual({ day: 90, month: 90, subjectDay: 90 });
    await expect(s.reserve('t', 20, 0.1, { dayTokens: 1000 }, now, keyA)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100, 'key'));
    await expect(s.reserve('t', 5, 0.6, { dayTokens: 1000 }, now, keyA)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 1, 'key'));
    await expect(s.reserve('t', 950, 0, { dayTokens: 1000 }, now, keyB)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 1000, 'tenant'));
    await expect(s.reserve('t', 60, 0, {}, now, user)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 50, 'user'));
    // Nothing of a refused reservation was counted anywhere.
    expect(await s.usage('t', now)).toMatchObject({ day: { tokens: 90, requests: 1 }, month: { tokens: 90, costUsd: 0.5 } });
    expect(await s.usage('t', now, keyA)).toMatchObject({ day: { tokens: 90, costUsd: 0.5, requests: 1 } });
    expect(await s.usage('t', now, keyB)).toMatchObject({ day: { tokens: 0, requests: 0 } });
  });

  it('settles the subject\'s day and month with the tenant\'s, and the usage by key and by user adds up to the tenant\'s', async () => {
    const s = make();
    const r = await s.reserve('t', 80, 0.4, {}, now, keyA);
    expect(r.subject).toEqual({ kind: 'key', id: keyA.id });
    await s.settle(r, 30, 0.1);
    await s.reserve('t', 7, 0.01, {}, now, keyB);
    await s.reserve('t', 3, 0.02, {}, now, user);
    expect(await s.usage('t', now, keyA)).toMatchObject({ day: { tokens: 30, requests: 1 }, month: { tokens: 30 } });
    expect((await s.usage('t', now, keyA)).month.costUsd).toBeCloseTo(0.1, 9);
    const keys = await s.usageBy('t', now, 'key');
    expect(keys.incomplete).toBe(false);
    expect(keys.subjects.map((k) => [k.id, k.day.tokens, k.month.requests])).toEqual([[keyA.id, 30, 1], [keyB.id, 7, 1]]);
    const users = await s.usageBy('t', now, 'user');
    expect(users.subjects.map((u) => [u.kind, u.id, u.month.tokens])).toEqual([['user', user.id, 3]]);
    const sum = [...keys.subjects, ...users.subjects].reduce((a, x) => a + x.month.tokens, 0);
    expect(sum).toBe((await s.usage('t', now)).month.tokens);
    expect((await s.usageBy('other', now, 'key')).subjects).toEqual([]);
  });

  it('counts a subject\'s usage only for its own tenant, and a user id that looks like a key id apart from that key', async () => {
    const s = make();
    await s.reserve('other', 5, 0, {}, now, keyA);
    await s.reserve('t', 9, 0, {}, now, { kind: 'user', id: keyA.id });
    expect((await s.usage('t', now, keyA)).month.tokens).toBe(0);
    expect((await s.usage('other', now, keyA)).month.tokens).toBe(5);
    expect((await s.usageBy('t', now, 'user')).subjects.map((u) => u.id)).toEqual([keyA.id]);
  });

  it('starts a subject\'s new day and settles a reservation of the day before into that day', async () => {
    const s = make();
    const r = await s.reserve('t', 50, 0, {}, now, user);
    const tomorrow = new Date('2026-11-24T00:00:01Z');
    await s.reserve('t', 40, 0, {}, tomorrow, user);
    await s.settle(r, 20, 0);
    expect((await s.usage('t', now, user)).day.tokens).toBe(20);
    expect((await s.usage('t', tomorrow, user)).day.tokens).toBe(40);
    expect((await s.usage('t', tomorrow, user)).month.tokens).toBe(60);
  });
});

describe('SharedMemoryStore: the bounded subject table', () => {
  it('refuses a new subject when every slot holds one of this or last month, and reuses the slot of one older than that', async () => {
    const s = new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length, 2), tenants);
    const october = new Date('2026-10-05T00:00:00Z');
    await s.reserve('t', 1, 0, {}, new Date('2026-09-30T00:00:00Z'), { kind: 'user', id: 'september' });
    await s.reserve('t', 1, 0, {}, october, { kind: 'user', id: 'october' });
    // November: september's subject was last seen two months ago, so its slot is taken over.
    await s.reserve('t', 1, 0, {}, now, { kind: 'key', id: 'key_000000000000000c' });
    expect((await s.usage('t', now, { kind: 'user', id: 'september' })).month.tokens).toBe(0);
    await expect(s.reserve('t', 1, 0, {}, now, { kind: 'key', id: 'key_000000000000000d' })).rejects.toEqual(new SubjectCapacityError('t', 2));
    await expect(s.countRequest('t', rate, now, { kind: 'key', id: 'key_000000000000000d', limits: { requestsPerMinute: 1 } })).rejects.toBeInstanceOf(SubjectCapacityError);
    // The refused requests counted nothing for the tenant either; the other tenant's table is its own.
    expect((await s.usage('t', now)).month.requests).toBe(1);
    await s.reserve('other', 1, 0, {}, now, { kind: 'key', id: 'key_000000000000000d' });
  });

  it('keeps an id longer than a slot holds by its SHA-256, counted exactly', async () => {
    const s = new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants);
    const long = { kind: 'user' as const, id: `https://idp.example.com/users/${'x'.repeat(80)}`, limits: { tokensPerDay: 10 } };
    await s.reserve('t', 6, 0, {}, now, long);
    await expect(s.reserve('t', 6, 0, {}, now, long)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 10, 'user'));
    expect((await s.usage('t', now, long)).day.tokens).toBe(6);
    expect((await s.usageBy('t', now, 'user')).subjects[0].id).toMatch(/^~[A-Za-z0-9_-]{43}$/);
  });

  it('shares the subject counters between stores made on the same buffer (the worker threads)', async () => {
    const buffer = SharedMemoryStore.allocate(tenants.length);
    const a = new SharedMemoryStore(buffer, tenants);
    const b = new SharedMemoryStore(buffer, tenants);
    await a.reserve('t', 60, 0, {}, now, keyA);
    await expect(b.reserve('t', 60, 0, {}, now, keyA)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100, 'key'));
    expect((await b.usageBy('t', now, 'key')).subjects).toMatchObject([{ id: keyA.id, day: { tokens: 60 } }]);
  });
});
