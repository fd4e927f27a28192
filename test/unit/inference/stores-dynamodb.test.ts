import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStore, usageIds } from '../../../lambdas/inference/stores/dynamodb-store.js';
import { BudgetExhaustedError, type Subject } from '../../../lambdas/inference/stores/gateway-store.js';
import { CONFLICT_RETRIES } from '../../../lambdas/shared/transactions.js';

// The DynamoDB store's requests for per-user and per-key limits (issue 15, item 4): what goes in
// the one transaction. Its behaviour against a DynamoDB (moto) is test/integration/identity-limits-dynamodb.test.ts.
const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const store = new DynamoDbStore('tenants', 'usage', async () => doc);
const now = new Date('2026-11-23T10:15:30Z');
const key: Subject = { kind: 'key', id: 'key_00000000000000aa', limits: { requestsPerMinute: 10, tokensPerDay: 100, monthlyCostUsd: 1 } };
const cancelled = (...codes: Array<string | [string, string]>) => new TransactionCanceledException({
  message: 'Transaction cancelled', $metadata: {},
  CancellationReasons: codes.map((c) => (Array.isArray(c) ? { Code: c[0], Message: c[1] } : { Code: c })),
});
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!.map((i) => i.Update!));

beforeEach(() => ddb.reset());

describe('DynamoDbStore: the tenant and the subject in one transaction', () => {
  it('reserves the tenant\'s day and month and the key\'s day and month in one TransactWriteItems, with the key\'s conditions', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 10, 0.25, { dayTokens: 1000, monthCostUsd: 5 }, now, key);
    expect(r).toEqual({ tenantId: 'acme', subject: { kind: 'key', id: key.id }, day: '2026-11-23', month: '2026-11', tokens: 10, costUsd: 0.25 });
    const [items] = transactions();
    expect(items.map((i) => i.Key!.id)).toEqual(['usage#acme#2026-11-23', 'usage#acme#2026-11', `usage#acme#key#${key.id}#2026-11-23`, `usage#acme#key#${key.id}#2026-11`]);
    expect(items[1]).toMatchObject({ UpdateExpression: 'ADD tokens :t, costNanos :c, requests :one, heldTokens :t, heldNanos :c, subjects :s', ExpressionAttributeValues: { ':s': new Set([`key#${key.id}`]), ':maxCost': 5_000_000_000 - 250_000_000 } });
    expect(items[2]).toMatchObject({ ConditionExpression: '(attribute_not_exists(tokens) OR tokens <= :maxTokens)', ExpressionAttributeValues: { ':t': 10, ':c': 250_000_000, ':one': 1, ':maxTokens': 90 } });
    // Nano-dollars, and no micro-dollars of before on the item (a cost condition cannot add them in: see the legacy test).
    expect(items[3]).toMatchObject({ ConditionExpression: 'attribute_not_exists(costMicros) AND (attribute_not_exists(costNanos) OR costNanos <= :maxCost)', ExpressionAttributeValues: { ':maxCost': 750_000_000 } });
    for (const i of items) expect(i.Key!.id).toMatch(/^usage#acme#/); // the tenant-data role's LeadingKeys pattern
  });

  it('counts a subject without limits unconditionally (attribution), and a request without a subject on the tenant\'s items only', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.reserve('acme', 10, 0, {}, now, { kind: 'user', id: 'u-1' });
    await store.reserve('acme', 10, 0, {}, now);
    const [withUser, alone] = transactions();
    expect(withUser).toHaveLength(4);
    expect(withUser.slice(2).map((i) => [i.Key!.id, i.ConditionExpression])).toEqual([['usage#acme#user#u-1#2026-11-23', undefined], ['usage#acme#user#u-1#2026-11', undefined]]);
    expect(alone.map((i) => i.Key!.id)).toEqual(['usage#acme#2026-11-23', 'usage#acme#2026-11']);
  });

  it('names the key\'s budget when the key\'s item refused the transaction (read after the refusal)', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand, { Key: { id: `usage#acme#key#${key.id}#2026-11-23` } }).resolves({ Item: { tokens: 95 } });
    await expect(store.reserve('acme', 10, 0, {}, now, key)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100, 'key'));
    ddb.reset();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({ Item: { costNanos: 990_000_000 } });
    await expect(store.reserve('acme', 10, 0.02, {}, now, key)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 1, 'key'));
    expect(transactions()).toHaveLength(1); // no micro-dollars of before on the item: refused for the budget, not sent again
  });

  it('counts the micro-dollars of before (costMicros) on a budgeted item: refused without them, read, sent again with their value, which it remembers', async () => {
    const fresh = new DynamoDbStore('tenants', 'usage', async () => doc); // nothing remembered yet
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed')).resolves({});
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_999_000, tokens: 1000 } });
    await fresh.reserve('acme', 10, 0.0006, { monthCostUsd: 2 }, now);
    const [first, second] = transactions();
    expect(first[1].ConditionExpression).toBe('attribute_not_exists(costMicros) AND (attribute_not_exists(costNanos) OR costNanos <= :maxCost)');
    expect(second[1]).toMatchObject({
      ConditionExpression: 'costMicros = :legacyMicros AND (attribute_not_exists(costNanos) OR costNanos <= :maxCost)',
      ExpressionAttributeValues: { ':legacyMicros': 1_999_000, ':maxCost': 2_000_000_000 - 600_000 - 1_999_000_000, ':c': 600_000 },
    });
    await fresh.reserve('acme', 10, 0.0004, { monthCostUsd: 2 }, now);
    expect(transactions()).toHaveLength(3); // remembered: sent once
    expect(transactions()[2]![1]!.ExpressionAttributeValues).toMatchObject({ ':legacyMicros': 1_999_000, ':maxCost': 1_000_000 - 400_000 });
    // What is left beside the micro-dollars of before is too little: refused after one read that finds the value remembered, nothing sent.
    const reads = ddb.commandCalls(GetCommand).length;
    await expect(fresh.reserve('acme', 10, 0.0011, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(transactions()).toHaveLength(3);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(reads + 1);
    // A refusal for the budget itself (the item read has the value the condition named) is not sent again.
    ddb.reset();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_999_000, costNanos: 900_000 } });
    await expect(fresh.reserve('acme', 10, 0.0002, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(transactions()).toHaveLength(1);
  });

  it('reads the item again before refusing at once on a remembered costMicros: a reclaim that lowered it since does not refuse the month', async () => {
    const fresh = new DynamoDbStore('tenants', 'usage', async () => doc);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed')).resolves({});
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_999_000 } });
    await fresh.reserve('acme', 10, 0.0006, { monthCostUsd: 2 }, now); // remembers 1_999_000 (USD 1.999)
    // The reclaim releases USD 1 that dead reservations of an upgrade's day held (ADD costMicros -1_000_000).
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: { costMicros: 999_000, costNanos: 600_000 } });
    // USD 0.999 + 0.0006 used of 2: a USD 0.5 request fits. Refused from memory before (USD 1.999 + 0.5 > 2), every time, with no call.
    await expect(fresh.reserve('acme', 10, 0.5, { monthCostUsd: 2 }, now)).resolves.toMatchObject({ costUsd: 0.5 });
    expect(transactions()[0]![1]).toMatchObject({ ConditionExpression: 'costMicros = :legacyMicros AND (attribute_not_exists(costNanos) OR costNanos <= :maxCost)', ExpressionAttributeValues: { ':legacyMicros': 999_000, ':maxCost': 2_000_000_000 - 500_000_000 - 999_000_000 } });
    // The value read confirmed: refused after that one read, nothing sent.
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: { costMicros: 999_000, costNanos: 500_600_000 } });
    await expect(fresh.reserve('acme', 10, 1.2, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(transactions()).toHaveLength(0);
  });

  it('reads an item once per reservation: the value just read (after a refusal, or before one) is not read again before the next attempt refuses', async () => {
    // Nothing remembered (a new Lambda), USD 1.999 of before on the item, of a USD 2 budget: the first transaction is refused
    // (attribute_not_exists(costMicros)), the item read; with that value a USD 0.002 request no longer fits: refused.
    const fresh = new DynamoDbStore('tenants', 'usage', async () => doc);
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_999_000 } });
    await expect(fresh.reserve('acme', 10, 0.002, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(transactions()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1); // was 2: the same item read again before the refusal
    // Remembered USD 1.999; a reclaim lowered it to USD 1.998 since: read before the refusal, and the retry with that value
    // still does not fit a USD 0.003 request: refused after that one read (was 2), nothing sent.
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_998_000 } });
    await expect(fresh.reserve('acme', 10, 0.003, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(transactions()).toHaveLength(0);
    // The next reservation reads it again (a reclaim may lower it between requests), once.
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: { costMicros: 1_998_000 } });
    await expect(fresh.reserve('acme', 10, 0.003, { monthCostUsd: 2 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2));
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('a costMicros that changes at every read (a router of the version before writing during the deployment) ends in the refusal as it is, not a budget the item is far from', async () => {
    const fresh = new DynamoDbStore('tenants', 'usage', async () => doc);
    const refusal = cancelled('None', 'ConditionalCheckFailed');
    ddb.on(TransactWriteCommand).rejects(refusal);
    let micros = 0;
    ddb.on(GetCommand).callsFake(async () => ({ Item: { costMicros: (micros += 1000), costNanos: 0 } })); // USD 0.001 more each time, of a USD 2 budget
    const e = await fresh.reserve('acme', 10, 0.0006, { monthCostUsd: 2 }, now).catch((x: unknown) => x);
    expect(transactions()).toHaveLength(4); // RESERVE_ATTEMPTS
    expect(e).not.toBeInstanceOf(BudgetExhaustedError);
    expect(e).toBe(refusal);
  });

  it('sends a budget stored before the USD 9M cap (past 2^53 nano-dollars) as 2^53 - 1 nano-dollars: the SDK refuses a larger number', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.reserve('acme', 10, 0.25, { monthCostUsd: 50_000_000 }, now);
    expect(transactions()[0]![1]!.ExpressionAttributeValues).toMatchObject({ ':maxCost': Number.MAX_SAFE_INTEGER - 250_000_000 });
  });

  it('refuses at once, with no call, a reservation larger than the key\'s whole budget', async () => {
    await expect(store.reserve('acme', 101, 0, {}, now, key)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100, 'key'));
    expect(ddb.calls()).toHaveLength(0);
  });

  it('counts the key\'s requests per minute as a fourth item of the rate transaction and names the key when it is full', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'ConditionalCheckFailed'));
    expect(await store.countRequest('acme', { minute: 30, hour: 100, day: 1000 }, now, key)).toEqual({ ok: false, window: 'minute', limit: 10, scope: 'key' });
    const [items] = transactions();
    expect(items.map((i) => i.Key!.id)).toEqual(['rate#acme#2026-11-23T10:15', 'rate#acme#2026-11-23T10', 'rate#acme#2026-11-23', `rate#acme#key#${key.id}#2026-11-23T10:15`]);
    expect(items[3].ExpressionAttributeValues).toMatchObject({ ':limit': 10 });
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.countRequest('acme', { minute: 30, hour: 100, day: 1000 }, now, { kind: 'user', id: 'u-1' });
    expect(transactions()[0]).toHaveLength(3); // no requestsPerMinute: no subject rate item
  });

  it('sends a transaction again when DynamoDB cancelled it for a conflict with a concurrent one (nothing was written)', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict', 'None', 'None')).resolves({});
    await store.reserve('acme', 10, 0, {}, now, key);
    expect(transactions()).toHaveLength(2);
    ddb.reset();
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));
    await expect(store.countRequest('acme', { minute: 30, hour: 100, day: 1000 }, now)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(transactions()).toHaveLength(5); // the first attempt and four retries
  });

  it('past the month item\'s 400 KB, reserves the same without listing the subject and marks the month unlisted', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', ['ValidationError', 'Item size has exceeded the maximum allowed size'], 'None', 'None')).resolves({});
    await store.reserve('acme', 10, 0, { dayTokens: 1000 }, now, key);
    const [, retry] = transactions();
    expect(retry.map((i) => i.Key!.id)).toEqual(['usage#acme#2026-11-23', 'usage#acme#2026-11', `usage#acme#key#${key.id}#2026-11-23`, `usage#acme#key#${key.id}#2026-11`, 'usage#acme#unlisted#2026-11']);
    expect(retry[1].UpdateExpression).toBe('ADD tokens :t, costNanos :c, requests :one, heldTokens :t, heldNanos :c');
    expect(retry[2].ConditionExpression).toContain(':maxTokens'); // the limits hold all the same
  });

  it('settles the subject\'s day and month with the tenant\'s in one transaction, releasing what the reservation held; a right estimate releases only that', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = { tenantId: 'acme', subject: { kind: 'key' as const, id: key.id }, day: '2026-11-23', month: '2026-11', tokens: 50, costUsd: 0.5 };
    await store.settle(r, 20, 0.1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const [updates] = transactions();
    expect(updates.map((u) => u.Key!.id).sort()).toEqual(['usage#acme#2026-11', 'usage#acme#2026-11-23', `usage#acme#key#${key.id}#2026-11`, `usage#acme#key#${key.id}#2026-11-23`]);
    for (const u of updates) expect(u.ExpressionAttributeValues).toEqual({ ':t': -30, ':c': -400_000_000, ':ht': -50, ':hc': -500_000_000 });
    for (const u of updates) expect(u.UpdateExpression).toBe('ADD tokens :t, costNanos :c, heldTokens :ht, heldNanos :hc');
    for (const u of updates) expect(u.ConditionExpression).toBeUndefined();
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(r, 50, 0.5);
    // No correction: the four items only stop holding the reservation (UsageSummary.held, for budget alerts).
    const [exact] = transactions();
    expect(exact).toHaveLength(4);
    for (const u of exact) expect(u.ExpressionAttributeValues).toEqual({ ':t': 0, ':c': 0, ':ht': -50, ':hc': -500_000_000 });
  });

  it('sends a settle again when DynamoDB cancelled it for a conflict (a reservation or the reclaim in flight on one of its items: nothing was written), so the correction is not lost', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict', 'None', 'None')).resolves({});
    const r = { tenantId: 'acme', subject: { kind: 'key' as const, id: key.id }, day: '2026-11-23', month: '2026-11', tokens: 50, costUsd: 0.5 };
    await store.settle(r, 20, 0.1);
    const [first, again] = transactions();
    expect(again).toEqual(first);
    // Still in conflict after the retries: the settle fails, after CONFLICT_RETRIES + 1 sends.
    ddb.reset();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict', 'None', 'None'));
    await expect(store.settle(r, 20, 0.1)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(transactions()).toHaveLength(CONFLICT_RETRIES + 1);
  });

  it('lists the month\'s keys from the month item\'s subjects set and reads each one\'s day and month (no Scan)', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { id: 'usage#acme#2026-11' } }).resolves({ Item: { subjects: new Set(['key#key_b', 'user#u-1', 'key#key_a']) } });
    ddb.on(GetCommand, { Key: { id: 'usage#acme#key#key_a#2026-11-23' } }).resolves({ Item: { tokens: 5, costNanos: 1_500_000, requests: 1 } });
    ddb.on(GetCommand, { Key: { id: 'usage#acme#key#key_a#2026-11' } }).resolves({ Item: { tokens: 12, costNanos: 2_000_000, costMicros: 1_000, requests: 2 } });
    const listed = await store.usageBy('acme', now, 'key');
    expect(listed).toEqual({
      incomplete: false,
      subjects: [
        { kind: 'key', id: 'key_a', day: { tokens: 5, costUsd: 0.0015, requests: 1 }, month: { tokens: 12, costUsd: 0.003, requests: 2 } },
        { kind: 'key', id: 'key_b', day: { tokens: 0, costUsd: 0, requests: 0 }, month: { tokens: 0, costUsd: 0, requests: 0 } },
      ],
    });
    expect(ddb.commandCalls(GetCommand).every((c) => c.args[0].input.ConsistentRead === true)).toBe(true);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key!.id)).not.toContain('usage#acme#user#u-1#2026-11');
    ddb.on(GetCommand, { Key: { id: usageIds.unlisted('acme', '2026-11') } }).resolves({ Item: { requests: 3 } });
    expect((await store.usageBy('acme', now, 'user')).incomplete).toBe(true);
  });

  it('keeps subject ids apart from the tenant\'s own ids', () => {
    const tenantIds = [usageIds.tenantUsage('acme', '2026-11-23'), usageIds.tenantUsage('acme', '2026-11'), usageIds.tenantRate('acme', '2026-11-23T10:15')];
    // A user id built to look like a period still gives an id with its kind after the tenant.
    for (const id of ['2026-11-23', '2026-11', '#2026-11']) {
      expect(tenantIds).not.toContain(usageIds.subjectUsage('acme', { kind: 'user', id }, '2026-11'));
      expect(usageIds.subjectUsage('acme', { kind: 'user', id }, '2026-11')).toMatch(/^usage#acme#user#/);
    }
    expect(usageIds.subjectUsage('acme', { kind: 'user', id: 'a#2026-11-23' }, '2026-11')).not.toBe(usageIds.subjectUsage('acme', { kind: 'user', id: 'a' }, '2026-11-23'));
  });

  it('keeps an id longer than 256 characters by its SHA-256, within DynamoDB\'s key size', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const long = `https://idp.example.com/${'u'.repeat(3000)}`;
    await store.reserve('acme', 1, 0, {}, now, { kind: 'user', id: long });
    const [items] = transactions();
    expect(items[2].Key!.id).toMatch(/^usage#acme#user#~[A-Za-z0-9_-]{43}#2026-11-23$/);
    expect([...(items[1].ExpressionAttributeValues![':s'] as Set<string>)][0]).toMatch(/^user#~[A-Za-z0-9_-]{43}$/);
  });
});

describe('DynamoDbStore: the usage ledger by model and day', () => {
  const r = { tenantId: 'acme', subject: { kind: 'key' as const, id: key.id }, day: '2026-11-23', month: '2026-11', tokens: 50, costUsd: 0.5 };
  const ledger = (input: { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }) => {
    // The ADDs by attribute name, as the UpdateItem states them.
    const adds = input.UpdateExpression!.replace(/^ADD (.*) SET .*$/, '$1').split(', ').map((a) => a.split(' '));
    return Object.fromEntries(adds.map(([n, v]) => [input.ExpressionAttributeNames![n], input.ExpressionAttributeValues![v]]));
  };

  it('ADDs a settle with usage to its tenant/day/model item beside the corrections, and creates it with the index keys', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(r, 20, 0.1, { model: 'openai/gpt-4o-mini', promptTokens: 15, completionTokens: 5, reported: true, estimatedTokens: 19 });
    const [updates] = transactions(); // the ledger's ADD in the settle's transaction
    expect(updates).toHaveLength(5);
    const item = updates.find((u) => u.Key!.id === 'usage#acme#model#2026-11-23#openai/gpt-4o-mini')!;
    expect(ledger(item)).toEqual({ requests: 1, promptTokens: 15, completionTokens: 5, costNanos: 100_000_000, reportedRequests: 1, reportedTokens: 20, estimatedTokens: 19 });
    expect(item.UpdateExpression).toMatch(/ SET #day = :day, #model = :model, #pk = :pk, #sk = :sk$/);
    expect(item.ExpressionAttributeNames).toMatchObject({ '#pk': 'ledgerMonth', '#sk': 'ledgerDay' });
    expect(item.ExpressionAttributeValues).toMatchObject({ ':day': '2026-11-23', ':model': 'openai/gpt-4o-mini', ':pk': 'usage#acme#model#2026-11', ':sk': '2026-11-23#openai/gpt-4o-mini' });
    expect(item.ConditionExpression).toBeUndefined();
    for (const u of updates) expect(u.Key!.id).toMatch(/^usage#acme#/); // the tenant-data role's LeadingKeys pattern
  });

  it('ADDs the prompt-cache reads and writes when the request had some, and reads them back (absent on an item without them)', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(r, 1000, 0.0001425, { model: 'openai/gpt-5.4-mini', promptTokens: 1000, completionTokens: 0, reported: true, estimatedTokens: 1000, cachedTokens: 900, cacheWriteTokens: 0 });
    const item = transactions()[0].find((u) => String(u.Key!.id).includes('#model#'))!;
    expect(ledger(item)).toEqual({ requests: 1, promptTokens: 1000, completionTokens: 0, costNanos: 142_500, reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1000, cachedTokens: 900 });
    ddb.on(QueryCommand).resolves({ Items: [
      { id: 'usage#acme#model#2026-11-23#openai/gpt-5.4-mini', day: '2026-11-23', model: 'openai/gpt-5.4-mini', requests: 1, promptTokens: 1000, completionTokens: 0, costNanos: 142_500, reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1000, cachedTokens: 900, cacheWriteTokens: 0 },
      { id: 'usage#acme#model#2026-11-23#openai/gpt-4o-mini', day: '2026-11-23', model: 'openai/gpt-4o-mini', requests: 1, promptTokens: 3, completionTokens: 1, costNanos: 1_500_000, reportedRequests: 1, reportedTokens: 4, estimatedTokens: 5 },
    ] });
    const rows = await store.modelUsage('acme', '2026-11');
    expect(rows[1]).toEqual({ day: '2026-11-23', model: 'openai/gpt-5.4-mini', requests: 1, promptTokens: 1000, completionTokens: 0, costUsd: 0.0001425, reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1000, cachedTokens: 900 });
    expect(Object.keys(rows[0])).not.toContain('cachedTokens');
  });

  it('writes the ledger item beside the release of what the reservation held when it was right, keeps an estimate out of the reconciliation, and a release out of the ledger', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(r, 50, 0.5, { model: 'bedrock/amazon.nova-lite', promptTokens: 40, completionTokens: 10, reported: false, estimatedTokens: 50 });
    const [written] = transactions();
    const only = written.find((u) => String(u.Key!.id).includes('#model#'))!;
    // Besides the ledger item: the tenant's (and subject's) items, with no correction, only releasing what was held.
    for (const u of written.filter((w) => w !== only)) expect(u.ExpressionAttributeValues).toMatchObject({ ':t': 0, ':c': 0 });
    expect(only.Key!.id).toBe('usage#acme#model#2026-11-23#bedrock/amazon.nova-lite');
    expect(ledger(only)).toMatchObject({ requests: 1, reportedRequests: 0, reportedTokens: 0, estimatedTokens: 0 });
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(r, 0, 0);
    expect(transactions()[0].map((u) => u.Key!.id)).not.toContainEqual(expect.stringContaining('#model#'));
  });

  it('reads a month with one Query of the model-usage index, following its pages, sorted by day then model', async () => {
    const row = (day: string, model: string, requests: number) => ({ id: `usage#acme#model#${day}#${model}`, day, model, requests, promptTokens: 3, completionTokens: 1, costNanos: 1_500_000, reportedRequests: 1, reportedTokens: 4, estimatedTokens: 5 });
    ddb.on(QueryCommand).resolvesOnce({ Items: [row('2026-11-24', 'openai/gpt-4o-mini', 1)], LastEvaluatedKey: { id: 'page-1' } })
      .resolvesOnce({ Items: [row('2026-11-23', 'openai/gpt-4o-mini', 2), row('2026-11-23', 'bedrock/amazon.nova-lite', 3)] });
    const rows = await store.modelUsage('acme', '2026-11');
    expect(rows.map((x) => [x.day, x.model, x.requests])).toEqual([['2026-11-23', 'bedrock/amazon.nova-lite', 3], ['2026-11-23', 'openai/gpt-4o-mini', 2], ['2026-11-24', 'openai/gpt-4o-mini', 1]]);
    expect(rows[0]).toEqual({ day: '2026-11-23', model: 'bedrock/amazon.nova-lite', requests: 3, promptTokens: 3, completionTokens: 1, costUsd: 0.0015, reportedRequests: 1, reportedTokens: 4, estimatedTokens: 5 });
    const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({ TableName: 'usage', IndexName: 'model-usage', KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'ledgerMonth' }, ExpressionAttributeValues: { ':pk': 'usage#acme#model#2026-11' } });
    expect(queries[1].ExclusiveStartKey).toEqual({ id: 'page-1' });
    await expect(store.modelUsage('acme', '2026-1')).rejects.toThrow('month must be YYYY-MM (e.g. 2026-11), got "2026-1"');
  });
});

// Usage by request tag. A settle with usage and tags adds, in its one transaction, the month's tag registry (its
// condition bounds the month's distinct tags) and one item per tag and day carrying the ledger index's keys.
describe('DynamoDbStore: a tagged settle', () => {
  const usage = { model: 'openai/gpt-4o-mini', promptTokens: 100, completionTokens: 20, reported: true, estimatedTokens: 118 };
  const reservation = { tenantId: 'acme', day: '2026-11-23', month: '2026-11', tokens: 500, costUsd: 0.01, tags: ['checkout', 'env=prod'] };

  it('sends the registry with room for every tag (or all of them known) and each tag\'s day item in the settle\'s transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle(reservation, 120, 0.0012, usage);
    const [items] = transactions();
    expect(items).toHaveLength(6); // the tenant's day and month, the ledger by model, the registry, two tags
    expect(items[3]).toMatchObject({
      Key: { id: 'usage#acme#tags#2026-11' }, UpdateExpression: 'ADD #tags :added',
      ConditionExpression: 'attribute_not_exists(#tags) OR size(#tags) <= :room OR (contains(#tags, :t0) AND contains(#tags, :t1))',
      ExpressionAttributeValues: { ':added': new Set(['checkout', 'env=prod']), ':room': 254, ':t0': 'checkout', ':t1': 'env=prod' },
    });
    expect(items[4]).toMatchObject({
      Key: { id: 'usage#acme#tag#2026-11-23#checkout' },
      ExpressionAttributeValues: { ':t': 120, ':c': 1_200_000, ':one': 1, ':day': '2026-11-23', ':tag': 'checkout', ':pk': 'usage#acme#tag#2026-11', ':sk': '2026-11-23#checkout' },
    });
    expect(items[5].Key).toEqual({ id: 'usage#acme#tag#2026-11-23#env=prod' });
  });

  it('refused at the registry (the month full), reads it and counts the request under its known tag and once as unrecorded', async () => {
    const full = new Set(['checkout', ...Array.from({ length: 255 }, (_, i) => `job:${i}`)]);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'None', 'None', 'ConditionalCheckFailed', 'None', 'None')).resolves({});
    ddb.on(GetCommand, { Key: { id: 'usage#acme#tags#2026-11' } }).resolves({ Item: { id: 'usage#acme#tags#2026-11', tags: full } });
    await store.settle(reservation, 120, 0.0012, usage);
    const [, again] = transactions();
    expect(again).toHaveLength(5);
    expect(again[3]).toMatchObject({ UpdateExpression: 'ADD #u :one', ConditionExpression: 'size(#tags) = :known', ExpressionAttributeValues: { ':one': 1, ':known': 256 } });
    expect(again[4].Key).toEqual({ id: 'usage#acme#tag#2026-11-23#checkout' });
  });

  it('an untagged settle, or one without usage, writes no tag item', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store.settle({ ...reservation, tags: [] }, 120, 0.0012, usage);
    await store.settle(reservation, 0, 0);
    expect(transactions().map((t) => t.length)).toEqual([3, 2]);
  });
});
