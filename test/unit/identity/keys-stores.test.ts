import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type QueryCommandInput, type TransactWriteCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '../../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { FileApiKeyStore } from '../../../lambdas/identity/stores/file-api-key-store.js';
import { MemoryApiKeyStore } from '../../../lambdas/identity/stores/memory-api-key-store.js';
import type { TenantStatus } from '../../../lib/tenant-record.js';
import { TenantNotServedError, TooManyKeysError, UnknownAfterKeyError } from '../../../lambdas/identity/stores/api-key-store-common.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { KEYS_BY_CREATION_INDEX } from '../../../lib/identity/api-key.js';
import { tempDir } from '../../support/temp-dirs.js';
import { apiKeyStoreBehaviour, apiKeyStoreFenceBehaviour, keyRecord } from './keys-store-behaviour.js';

const ddb = mockClient(DynamoDBDocumentClient);
afterAll(() => ddb.restore());
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/**
 * The keys table behind the mocked SDK, with DynamoDB's semantics for the calls the store makes:
 * keys (tenantId, keyHash), condition expressions attribute_(not_)exists(keyHash), Query on a
 * partition (begins_with on the sort key, sorted by it, pages of 10 with LastEvaluatedKey,
 * ProjectionExpression), UpdateItem SET, BatchWriteItem deletes (the first call of each
 * deleteAll leaves its last 2 requests unprocessed, as a throttled table does).
 */
function fakeKeysTable(hooks: { afterQuery?: (input: QueryCommandInput) => void; indexHas?: (item: Record<string, unknown>) => boolean } = {}): { asked: string[]; registry: Map<string, TenantStatus>; items: Map<string, Record<string, unknown>> } {
  const items = new Map<string, Record<string, unknown>>();
  const registry = new Map<string, TenantStatus>();
  const id = (k: { tenantId: unknown; keyHash: unknown }) => `${String(k.tenantId)}\n${String(k.keyHash)}`;
  const asked: string[] = [];
  let batches = 0;
  ddb.reset();
  ddb.on(GetCommand).callsFake((input) => ({ Item: structuredClone(items.get(id(input.Key))) }));
  ddb.on(PutCommand).callsFake((input) => {
    if (input.ConditionExpression === 'attribute_not_exists(keyHash)' && items.has(id(input.Item))) throw conditionFailed();
    for (const v of Object.values(input.Item)) if (v === undefined) throw new Error('Pass options.removeUndefinedValues=true to remove undefined values');
    items.set(id(input.Item), structuredClone(input.Item));
    return {};
  });
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues!;
    // The table: `tenantId = :t`, with `begins_with(keyHash, :p)` or `keyHash < :g`, sorted by keyHash. The creation index
    // (IndexName): `tenantId = :t`, only items with createdAtKeyId (a sparse GSI), sorted by it. ScanIndexForward false: descending.
    const sortKey = input.IndexName === undefined ? 'keyHash' : (expect(input.IndexName).toBe(KEYS_BY_CREATION_INDEX.name), KEYS_BY_CREATION_INDEX.sortKey);
    expect(input.IndexName !== undefined && input.ConsistentRead === true).toBe(false); // DynamoDB refuses ConsistentRead on a global secondary index
    const forward = input.ScanIndexForward !== false;
    const all = [...items.values()].filter((i) => i.tenantId === values[':t'] && i[sortKey] !== undefined && (input.IndexName === undefined || (hooks.indexHas?.(i) ?? true)) && (values[':p'] === undefined || String(i.keyHash).startsWith(String(values[':p']))) && (values[':g'] === undefined || String(i.keyHash) < String(values[':g'])))
      .sort((a, b) => (String(a[sortKey]) < String(b[sortKey]) ? -1 : 1) * (forward ? 1 : -1));
    // ExclusiveStartKey is a position (the item need not exist), as DynamoDB reads it.
    const start = input.ExclusiveStartKey?.[sortKey] as string | undefined;
    if (input.IndexName !== undefined && input.ExclusiveStartKey) expect(Object.keys(input.ExclusiveStartKey).sort()).toEqual(['createdAtKeyId', 'keyHash', 'tenantId']); // an index's start key: the table's keys and the index's
    const from = start === undefined ? 0 : all.filter((i) => (forward ? String(i[sortKey]) <= start : String(i[sortKey]) >= start)).length;
    const size = Math.min(10, input.Limit ?? 10);
    const read = all.slice(from, from + size);
    // FilterExpression `attribute_not_exists(#order)` (the backfill): applied to the page read, as DynamoDB does.
    const page = input.FilterExpression === 'attribute_not_exists(#order)' ? read.filter((i) => i[KEYS_BY_CREATION_INDEX.sortKey] === undefined) : read;
    const fields = input.ProjectionExpression?.split(',').map((f) => f.trim());
    hooks.afterQuery?.(input); // after the page was read: an item written now is not in it
    const last = read.at(-1);
    return {
      Items: page.map((i) => structuredClone(fields ? Object.fromEntries(fields.map((f) => [f, i[f]])) : i)), ScannedCount: read.length, Count: page.length,
      LastEvaluatedKey: from + size < all.length || (input.Limit !== undefined && read.length === input.Limit)
        ? { tenantId: last!.tenantId, keyHash: last!.keyHash, ...(input.IndexName ? { [sortKey]: last![sortKey] } : {}) } : undefined,
    };
  });
  ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    const item = items.get(id(input.Key as never));
    if (!item) throw conditionFailed();
    // claimRotation's condition: attribute_not_exists(rotatedTo) AND attribute_not_exists(revokedAt); the backfill's: attribute_not_exists(#order)
    for (const attr of ['rotatedTo', 'revokedAt']) if (input.ConditionExpression?.includes(`attribute_not_exists(${attr})`) && item[attr] !== undefined) throw conditionFailed();
    if (input.ConditionExpression?.includes('attribute_not_exists(#order)') && item[KEYS_BY_CREATION_INDEX.sortKey] !== undefined) throw conditionFailed();
    for (const [name, attr] of Object.entries(input.ExpressionAttributeNames!)) item[attr] = input.ExpressionAttributeValues![`:${name.slice(1)}`];
    return {};
  });
  ddb.on(BatchWriteCommand).callsFake((input) => {
    const [table, requests] = Object.entries(input.RequestItems!)[0]! as [string, Array<{ DeleteRequest?: { Key?: Record<string, unknown> } }>];
    const keep = batches++ === 0 ? requests.slice(-2) : [];
    for (const r of requests.slice(0, requests.length - keep.length)) items.delete(id(r.DeleteRequest!.Key as never));
    return { UnprocessedItems: keep.length ? { [table]: keep } : {} };
  });
  // The fenced put (registryTable 'tessera-tenants'): ConditionCheck `#status IN (:s0, :s1)` on the registry, then the Put, both or neither.
  ddb.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    const [check, put] = input.TransactItems! as unknown as [{ ConditionCheck: { Key: { tenantId: string }; ExpressionAttributeValues: Record<string, string> } }, { Put: { Item: Record<string, unknown> } }];
    const status = registry.get(check.ConditionCheck.Key.tenantId);
    const reasons = [
      status !== undefined && Object.values(check.ConditionCheck.ExpressionAttributeValues).includes(status) ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Item: status && { tenantId: { S: check.ConditionCheck.Key.tenantId }, status: { S: status } } },
      items.has(id(put.Put.Item as never)) ? { Code: 'ConditionalCheckFailed' } : { Code: 'None' },
    ];
    if (reasons.some((r) => r.Code !== 'None')) throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons as never });
    items.set(id(put.Put.Item as never), structuredClone(put.Put.Item));
    return {};
  });
  return { asked, registry, items };
}

apiKeyStoreBehaviour('MemoryApiKeyStore', () => new MemoryApiKeyStore());
apiKeyStoreBehaviour('FileApiKeyStore', () => new FileApiKeyStore(tempDir('tessera-keys-')));
apiKeyStoreBehaviour('DynamoDbApiKeyStore (SDK mocked)', () => {
  const { asked } = fakeKeysTable();
  return new DynamoDbApiKeyStore('tessera-api-keys', async (tenantId) => (asked.push(tenantId), doc), { sleep: async () => undefined });
});

const statuses = () => {
  const registry = new Map<string, TenantStatus>();
  return { registry, read: async (tenantId: string) => registry.get(tenantId), setStatus: async (tenantId: string, status: TenantStatus | undefined) => void (status ? registry.set(tenantId, status) : registry.delete(tenantId)) };
};
apiKeyStoreFenceBehaviour('MemoryApiKeyStore', async () => {
  const { read, setStatus } = statuses();
  return { store: new MemoryApiKeyStore(read), setStatus };
});
apiKeyStoreFenceBehaviour('FileApiKeyStore', async () => {
  const { read, setStatus } = statuses();
  return { store: new FileApiKeyStore(tempDir('tessera-keys-'), read), setStatus };
});
apiKeyStoreFenceBehaviour('DynamoDbApiKeyStore (SDK mocked)', async () => {
  const { registry } = fakeKeysTable();
  const store = new DynamoDbApiKeyStore('tessera-api-keys', async () => doc, { sleep: async () => undefined, registryTable: 'tessera-tenants' });
  return { store, setStatus: async (tenantId, status) => void (status ? registry.set(tenantId, status) : registry.delete(tenantId)) };
});

describe('file and memory stores: the status read after the write failing (serve --dynamodb: the registry unreachable)', () => {
  it.each([
    ['MemoryApiKeyStore', (read: () => Promise<TenantStatus | undefined>) => new MemoryApiKeyStore(read)],
    ['FileApiKeyStore', (read: () => Promise<TenantStatus | undefined>) => new FileApiKeyStore(tempDir('tessera-keys-'), read)],
  ] as const)('%s: the put fails with the read\'s error and keeps no record (unfenced, of a create that failed)', async (_, make) => {
    const unreachable = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    const store = make(async () => { throw unreachable; });
    await expect(store.put(keyRecord('acme'))).rejects.toBe(unreachable);
    expect(await store.list('acme')).toEqual([]);
  });
});

describe('FileApiKeyStore files', () => {
  it('keeps one JSON file per key at <dir>/<tenantId>/<keyHash>.json, readable by its owner only, with no temp or lock file left', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    await store.update('acme', r.keyHash, { lastUsedAt: '2026-12-01T12:00:00.000Z' });
    const file = join(dir, 'acme', `${r.keyHash}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...r, lastUsedAt: '2026-12-01T12:00:00.000Z' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'acme'))).toEqual([`${r.keyHash}.json`]);
  });

  it('two stores on one directory (two worker threads) see each other\'s writes at once: no cache', async () => {
    const dir = tempDir('tessera-keys-');
    const [one, two] = [new FileApiKeyStore(dir), new FileApiKeyStore(dir)];
    const r = keyRecord('acme');
    await one.put(r);
    expect(await two.get('acme', r.keyHash)).toEqual(r);
    await two.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect((await one.get('acme', r.keyHash))?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
  });

  it('concurrent updates of one record from two stores lose no field (the per-record lock)', async () => {
    const dir = tempDir('tessera-keys-');
    const [one, two] = [new FileApiKeyStore(dir), new FileApiKeyStore(dir)];
    const r = keyRecord('acme');
    await one.put(r);
    const uses = Array.from({ length: 20 }, (_, i) => one.update('acme', r.keyHash, { lastUsedAt: new Date(Date.UTC(2026, 11, 1, 12, i)).toISOString() }));
    await Promise.all([...uses, two.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' })]);
    const after = await one.get('acme', r.keyHash);
    expect(after?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
    expect(after?.lastUsedAt).toBeDefined();
    expect(readdirSync(join(dir, 'acme'))).toEqual([`${r.keyHash}.json`]);
  });

  it('deleteAll and puts racing on one tenant folder: neither fails (the folder removed under a put, a put writing into a folder being removed)', async () => {
    // Before: rm of the folder failed ENOTEMPTY when a put wrote its temp file meanwhile, and a put failed ENOENT when the
    // folder went between its mkdir and its link (58 and 25 of 200 rounds of this, measured).
    for (let round = 0; round < 40; round++) {
      const store = new FileApiKeyStore(tempDir('tessera-keys-'));
      await store.put(keyRecord('acme'));
      const late = Array.from({ length: 6 }, () => keyRecord('acme'));
      const results = await Promise.allSettled([store.deleteAll('acme'), ...late.map((r) => store.put(r))]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      // Unfenced (no status reader): a put that landed after the deletion stays, whole.
      for (const r of await store.list('acme')) expect(late.map((l) => l.keyHash)).toContain(r.keyHash);
    }
  });

  it('breaks a lock left by a worker that died holding it', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    const lock = join(dir, 'acme', `${r.keyHash}.json.lock`);
    writeFileSync(lock, '');
    const { utimesSync } = await import('node:fs');
    utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect((await store.get('acme', r.keyHash))?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
    expect(existsSync(lock)).toBe(false);
  });

  it('a file that is not a record is named in the error, not returned', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    writeFileSync(join(dir, 'acme', `${r.keyHash}.json`), JSON.stringify({ ...r, role: 'root' }));
    await expect(store.get('acme', r.keyHash)).rejects.toThrow(new RegExp(`${r.keyHash}\\.json is not a valid record \\(fields: role\\)`));
  });

  it('a tenant id that is not one names no file: put refuses, reads find nothing', async () => {
    const store = new FileApiKeyStore(tempDir('tessera-keys-'));
    await expect(store.put({ ...keyRecord('acme'), tenantId: '..' })).rejects.toThrow(/not a tenant id and key hash/);
    expect(await store.list('..')).toEqual([]);
    expect(await store.deleteAll('../..')).toBe(0);
  });
});

describe('DynamoDbApiKeyStore calls (SDK mocked)', () => {
  let asked: string[];
  const store = new DynamoDbApiKeyStore('tessera-api-keys', async (tenantId) => (asked.push(tenantId), doc), { sleep: async () => undefined });
  beforeEach(() => {
    ({ asked } = fakeKeysTable());
  });

  it('get is one consistent GetItem by {tenantId, keyHash} with the tenant\'s client', async () => {
    const r = keyRecord('acme');
    await store.put(r);
    asked.length = 0;
    ddb.resetHistory();
    await store.get('acme', r.keyHash);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: r.keyHash }, ConsistentRead: true }]);
    expect(asked).toEqual(['acme']);
  });

  it('an id no tenant can have, or a hash that is not one, asks for no session and sends nothing', async () => {
    expect(await store.get('../acme', 'a'.repeat(64))).toBeUndefined();
    expect(await store.get('acme', 'not-a-hash')).toBeUndefined();
    expect(await store.findById('acme', 'key_zz')).toBeUndefined();
    expect(await store.list('ACME')).toEqual([]);
    expect(asked).toEqual([]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('put is a PutItem conditioned on attribute_not_exists(keyHash), without undefined attributes', async () => {
    const r = { ...keyRecord('acme'), expiresAt: undefined, limits: { tokensPerDay: 5, requestsPerMinute: undefined } };
    await store.put(r);
    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(keyHash)');
    expect(Object.keys(input.Item!)).not.toContain('expiresAt');
    expect(input.Item!.limits).toStrictEqual({ tokensPerDay: 5 }); // toStrictEqual: an undefined key counts
  });

  it('findById queries the partition with begins_with on the id\'s 16 hex', async () => {
    const r = keyRecord('acme');
    await store.put(r);
    expect(await store.findById('acme', r.keyId)).toEqual(r);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: 'tessera-api-keys', ConsistentRead: true, KeyConditionExpression: 'tenantId = :t AND begins_with(keyHash, :p)',
      ExpressionAttributeValues: { ':t': 'acme', ':p': r.keyId.slice(4) }, ExclusiveStartKey: undefined,
    });
  });

  it('list follows LastEvaluatedKey through every page', async () => {
    for (let i = 0; i < 23; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    expect(await store.list('acme')).toHaveLength(23);
    const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(3);
    expect(queries[1]!.ExclusiveStartKey).toMatchObject({ tenantId: 'acme' });
  });

  it('listPage continues a Query of the creation index that stopped short of limit + 1 records (DynamoDB\'s 1 MB, here pages of 10) from its LastEvaluatedKey', async () => {
    // Created a minute apart, written in random (key-hash) order.
    const records = Array.from({ length: 25 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    for (const r of [...records].sort((a, b) => (a.keyHash < b.keyHash ? -1 : 1))) await store.put(r);
    const position = (r: ApiKeyRecord) => `${r.createdAt}#${r.keyId}`;
    const page = await store.listPage('acme', { limit: 20, order: 'asc' });
    expect(page.records).toEqual(records.slice(0, 20));
    expect(page.hasMore).toBe(true);
    const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input).filter((q) => q.IndexName !== undefined);
    // 10 + 10 records, then the one past the page that says more follow: no record read twice, none skipped.
    expect(queries.map((q) => [q.IndexName, q.Limit, q.ExclusiveStartKey?.createdAtKeyId])).toEqual([
      [KEYS_BY_CREATION_INDEX.name, 21, undefined], [KEYS_BY_CREATION_INDEX.name, 11, position(records[9]!)], [KEYS_BY_CREATION_INDEX.name, 1, position(records[19]!)]]);
    ddb.resetHistory();
    const rest = await store.listPage('acme', { limit: 20, order: 'asc', after: page.records.at(-1)!.keyId });
    expect(rest).toEqual({ records: records.slice(20), hasMore: false });
    // The next page: the mark (the tenant's keys are all in the index), the `after` key's record for its position, one Query of the index.
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([{ tenantId: 'acme', keyHash: 'order#keys' }]);
    const [find, index] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(find).toMatchObject({ KeyConditionExpression: 'tenantId = :t AND begins_with(keyHash, :p)', ExpressionAttributeValues: { ':p': records[19]!.keyId.slice(4) } });
    expect(index).toMatchObject({ IndexName: KEYS_BY_CREATION_INDEX.name, Limit: 21, ScanIndexForward: true, ExclusiveStartKey: { tenantId: 'acme', keyHash: records[19]!.keyHash, createdAtKeyId: position(records[19]!) } });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('listPage fills in the creation order of keys written before the index (no createdAtKeyId) on the tenant\'s first list, once, and lists them with the new ones', async () => {
    const old = Array.from({ length: 12 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 10, 1, i)).toISOString()));
    const { items } = fakeKeysTable();
    for (const r of old) items.set(`acme\n${r.keyHash}`, structuredClone(r)); // as an older platform wrote them
    const fresh = keyRecord('acme', '2026-12-01T10:00:00.000Z');
    await store.put(fresh);
    const first = await store.listPage('acme', { limit: 100, order: 'desc' });
    expect(first).toEqual({ records: [fresh, ...[...old].reverse()], hasMore: false });
    // The fill: a Query of the records without the attribute, one conditional UpdateItem each, then the mark.
    const fills = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(fills).toHaveLength(12);
    expect(fills[0]).toMatchObject({ UpdateExpression: 'SET #order = :order', ConditionExpression: 'attribute_exists(keyHash) AND attribute_not_exists(#order)', ExpressionAttributeNames: { '#order': 'createdAtKeyId' } });
    expect(new Set(fills.map((f) => f.ExpressionAttributeValues![':order']))).toEqual(new Set(old.map((r) => `${r.createdAt}#${r.keyId}`)));
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!.keyHash)).toEqual([fresh.keyHash, 'order#keys']);
    ddb.resetHistory();
    expect(await store.listPage('acme', { limit: 5, order: 'asc' })).toEqual({ records: old.slice(0, 5), hasMore: true });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0); // marked: no second fill
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.IndexName)).toEqual([KEYS_BY_CREATION_INDEX.name]);
    // The mark is neither a key nor counted as one by deleteAll.
    expect(await store.list('acme')).toHaveLength(13);
    expect(await store.deleteAll('acme')).toBe(13);
    expect(items.size).toBe(0);
  });

  it('the list that fills in old keys answers from the records, not from the index the fill has not reached yet (a GSI is updated asynchronously)', async () => {
    const old = Array.from({ length: 3 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 10, 1, i)).toISOString()));
    // The index has what was written with createdAtKeyId, not yet what the fill's UpdateItems just set.
    let propagated = false;
    const { items } = fakeKeysTable({ indexHas: (i) => propagated || !old.some((r) => r.keyHash === i.keyHash) });
    for (const r of old) items.set(`acme\n${r.keyHash}`, structuredClone(r));
    const fresh = keyRecord('acme', '2026-12-01T10:00:00.000Z');
    await store.put(fresh);
    expect(await store.listPage('acme', { limit: 2, order: 'asc' })).toEqual({ records: old.slice(0, 2), hasMore: true });
    propagated = true; // a moment later; the tenant is marked, its next pages are Queries of the index
    ddb.resetHistory();
    expect(await store.listPage('acme', { limit: 2, order: 'desc', after: old[2]!.keyId })).toEqual({ records: [old[1]!, old[0]!], hasMore: false });
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.IndexName)).toEqual([undefined, KEYS_BY_CREATION_INDEX.name]); // the after key's findById, the page
  });

  it('a fill write that meets a revocation\'s transaction of the record in flight (TransactionConflictException) is made again, not a failed list', async () => {
    const old = keyRecord('acme', '2026-11-01T00:00:00.000Z');
    const { items } = fakeKeysTable();
    items.set(`acme\n${old.keyHash}`, structuredClone(old));
    let refused = 0;
    ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
      if (refused++ === 0) throw Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });
      items.get(`acme\n${old.keyHash}`)![KEYS_BY_CREATION_INDEX.sortKey] = input.ExpressionAttributeValues![':order'];
      return {};
    });
    expect(await store.listPage('acme', { limit: 20, order: 'asc' })).toEqual({ records: [old], hasMore: false });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2); // refused, then made again
    expect(items.get(`acme\n${old.keyHash}`)!.createdAtKeyId).toBe(`${old.createdAt}#${old.keyId}`);
  });

  it('listPage writes no `order#keys` mark for a tenant without key records (an offboarded tenant\'s emptied partition stays empty)', async () => {
    const { items } = fakeKeysTable();
    expect(await store.listPage('acme', { limit: 20, order: 'asc' })).toEqual({ records: [], hasMore: false });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(items.size).toBe(0);
    await store.put(keyRecord('acme'));
    await store.listPage('acme', { limit: 20, order: 'asc' });
    expect(items.has('acme\norder#keys')).toBe(true); // a tenant with keys is marked, all of them in the index
  });

  it('an old record without a createdAt is named in the list\'s error, and no mark is written', async () => {
    const { items } = fakeKeysTable();
    const { createdAt: _, ...broken } = keyRecord('acme');
    items.set(`acme\n${broken.keyHash}`, structuredClone(broken));
    await expect(store.listPage('acme', { limit: 20, order: 'asc' })).rejects.toThrow(`the stored API key record acme/${broken.keyId} is not a valid record (fields: createdAt)`);
    expect(items.has('acme\norder#keys')).toBe(false);
  });

  it('listPage refuses an `after` that is no key of the tenant (UnknownAfterKeyError) before it reads a page', async () => {
    await store.put(keyRecord('acme'));
    await expect(store.listPage('acme', { limit: 20, order: 'asc', after: 'key_0123456789abcdef' })).rejects.toBeInstanceOf(UnknownAfterKeyError);
    expect(ddb.commandCalls(QueryCommand).filter((c) => c.args[0].input.IndexName !== undefined)).toHaveLength(0);
  });

  it('update is an UpdateItem SET conditioned on the item existing; a failed condition is no error', async () => {
    const r = keyRecord('acme');
    await store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: r.keyHash }, UpdateExpression: 'SET #revokedAt = :revokedAt',
      ConditionExpression: 'attribute_exists(keyHash)', ExpressionAttributeNames: { '#revokedAt': 'revokedAt' }, ExpressionAttributeValues: { ':revokedAt': '2026-12-01T13:00:00.000Z' },
    });
    await store.update('acme', r.keyHash, {});
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('deleteAll queries key attributes only, deletes 25 a batch, and sends unprocessed items again', async () => {
    for (let i = 0; i < 30; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    expect(await store.deleteAll('acme')).toBe(30);
    expect(ddb.commandCalls(QueryCommand).every((c) => c.args[0].input.ProjectionExpression === 'tenantId, keyHash')).toBe(true);
    const batches = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!['tessera-api-keys']!.length);
    expect(batches).toEqual([25, 2, 5]);
    expect(await store.list('acme')).toEqual([]);
  });

  it('deleteAll gives up after 8 attempts of a batch that stays unprocessed, saying how many are left', async () => {
    await store.put(keyRecord('acme'));
    ddb.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    await expect(store.deleteAll('acme')).rejects.toThrow(/BatchWriteItem on tessera-api-keys left 1 of tenant acme's key records undeleted after 8 attempts/);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(8);
  });

  it('deleteAll queries again after its deletes and deletes what the first Query did not see, until a Query finds nothing', async () => {
    // A fenced put whose transaction passed its status check before the tenant left ACTIVE, visible only after deleteAll's
    // first Query (a Query is read-committed, not serializable with transactions): a single pass leaves it behind.
    let queries = 0;
    const late = keyRecord('acme', '2026-12-01T01:00:00.000Z');
    const { items } = fakeKeysTable({ afterQuery: (input) => {
      if (input.ProjectionExpression && ++queries === 1) items.set(`acme\n${late.keyHash}`, structuredClone(late) as never);
    } });
    for (let i = 0; i < 3; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    expect(await store.deleteAll('acme')).toBe(4);
    expect(await store.list('acme')).toEqual([]);
    expect(ddb.commandCalls(QueryCommand).filter((c) => c.args[0].input.ProjectionExpression)).toHaveLength(3); // 3 keys, the late one, none
  });

  it('deleteAll gives up, naming the count, when the partition still has items after 5 passes (an unfenced writer)', async () => {
    let n = 0;
    const { items } = fakeKeysTable({ afterQuery: (input) => {
      if (input.ProjectionExpression) { const r = keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, n++)).toISOString()); items.set(`acme\n${r.keyHash}`, r as never); }
    } });
    await store.put(keyRecord('acme'));
    await expect(store.deleteAll('acme')).rejects.toThrow(/tessera-api-keys still held 1 items of tenant acme after 5 passes of deletes \(5 deleted\)/);
  });

  it('with registryTable, put is one TransactWriteItems: a ConditionCheck of the tenant\'s registry status (ACTIVE, UPDATING), then the conditional Put', async () => {
    const { registry } = fakeKeysTable();
    registry.set('acme', 'ACTIVE');
    const fenced = new DynamoDbApiKeyStore('tessera-api-keys', async () => doc, { sleep: async () => undefined, registryTable: 'tessera-tenants' });
    const r = keyRecord('acme');
    await fenced.put(r);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input)).toEqual([{ TransactItems: [
      { ConditionCheck: {
        TableName: 'tessera-tenants', Key: { tenantId: 'acme' }, ConditionExpression: '#status IN (:s0, :s1)',
        ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':s0': 'ACTIVE', ':s1': 'UPDATING' }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      } },
      { Put: { TableName: 'tessera-api-keys', Item: { ...r, createdAtKeyId: `${r.createdAt}#${r.keyId}` }, ConditionExpression: 'attribute_not_exists(keyHash)' } },
    ] }]);
    await expect(fenced.put(r)).rejects.toThrow(/already exists for tenant acme/);
  });

  it('a fenced put that meets a concurrent registry write (TransactionConflict) is tried again, 8 attempts in all', async () => {
    const conflict = () => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
    const fenced = new DynamoDbApiKeyStore('tessera-api-keys', async () => doc, { sleep: async () => undefined, registryTable: 'tessera-tenants' });
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).resolves({});
    await fenced.put(keyRecord('acme'));
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    ddb.on(TransactWriteCommand).rejects(conflict());
    await expect(fenced.put(keyRecord('acme'))).rejects.toThrow(/Transaction cancelled/);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(10);
    const e = await fenced.put(keyRecord('acme')).catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(TenantNotServedError);
  });

  it('a capped put (a create) reads the live-key index and writes it back in the key\'s transaction, conditioned on the version read', async () => {
    const capped = new DynamoDbApiKeyStore('tessera-api-keys', async () => doc, { sleep: async () => undefined });
    const now = new Date('2026-12-01T10:00:00.000Z');
    const index = { tenantId: 'acme', keyHash: 'live#keys', version: 7, live: { key_aaaaaaaaaaaaaaaa: '', key_bbbbbbbbbbbbbbbb: '2026-11-30T00:00:00.000Z', key_cccccccccccccccc: '2027-01-01T00:00:00.000Z' } };
    ddb.on(GetCommand, { Key: { tenantId: 'acme', keyHash: 'live#keys' } }).resolves({ Item: index });
    const indexMoved = new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] });
    ddb.on(TransactWriteCommand).rejectsOnce(indexMoved).resolves({});
    const r = keyRecord('acme', now.toISOString(), { expiresAt: '2026-12-31T00:00:00.000Z' });
    await capped.put(r, { max: 3, now });
    // The expired entry (key_bbbb…) is dropped; the index that moved under the first try is read again and the write tried again.
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([{ tenantId: 'acme', keyHash: 'live#keys' }, { tenantId: 'acme', keyHash: 'live#keys' }]);
    expect(ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems)[1]).toEqual([
      { Put: { TableName: 'tessera-api-keys', Item: { ...r, createdAtKeyId: `${r.createdAt}#${r.keyId}` }, ConditionExpression: 'attribute_not_exists(keyHash)' } },
      { Put: {
        TableName: 'tessera-api-keys', Item: { tenantId: 'acme', keyHash: 'live#keys', version: 8, live: { key_aaaaaaaaaaaaaaaa: '', key_cccccccccccccccc: '2027-01-01T00:00:00.000Z', [r.keyId]: '2026-12-31T00:00:00.000Z' } },
        ConditionExpression: '#version = :read', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':read': 7 },
      } },
    ]);
    expect(ddb.commandCalls(QueryCommand)).toEqual([]); // no read of the tenant's keys
  });

  it('a capped put at the cap by the index counts again from the records: refused with TooManyKeysError and nothing written, or written when the index counted a revoked key', async () => {
    const capped = new DynamoDbApiKeyStore('tessera-api-keys', async () => doc, { sleep: async () => undefined });
    const now = new Date('2026-12-01T10:00:00.000Z');
    const [a, b] = [keyRecord('acme'), keyRecord('acme')];
    const { items } = fakeKeysTable();
    for (const k of [a, b]) items.set(`acme\n${k.keyHash}`, k);
    ddb.on(GetCommand, { Key: { tenantId: 'acme', keyHash: 'live#keys' } }).resolves({ Item: { tenantId: 'acme', keyHash: 'live#keys', version: 2, live: { [a.keyId]: '', [b.keyId]: '' } } });
    const refused = await capped.put(keyRecord('acme'), { max: 2, now }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyKeysError);
    expect(refused).toMatchObject({ tenantId: 'acme', live: 2 });
    expect(ddb.commandCalls(TransactWriteCommand)).toEqual([]);
    items.set(`acme\n${b.keyHash}`, { ...b, revokedAt: '2026-11-30T00:00:00.000Z' }); // revoked, its index entry not yet removed
    ddb.on(TransactWriteCommand).resolves({});
    const c = keyRecord('acme');
    await capped.put(c, { max: 2, now });
    const [, written] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems! as Array<{ Put: { Item: Record<string, unknown> } }>;
    expect(written!.Put.Item).toMatchObject({ version: 3, live: { [a.keyId]: '', [c.keyId]: '' } });
    expect(Object.keys(written!.Put.Item.live as object)).toHaveLength(2);
  });

  it('a revocation (update, claimRotation) of a tenant with a live-key index is one TransactWriteItems of the record and its index entry: both or neither', async () => {
    const r = keyRecord('acme');
    const { items } = fakeKeysTable();
    items.set(`acme\n${r.keyHash}`, structuredClone(r));
    ddb.on(GetCommand, { Key: { tenantId: 'acme', keyHash: 'live#keys' } }).resolves({ Item: { tenantId: 'acme', keyHash: 'live#keys', version: 4, live: { [r.keyId]: '' } } });
    // The index item deleted under the first try (offboarding): read again and tried again; then the write cancelled for good.
    const indexGone = new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] });
    const throttled = new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }] });
    ddb.on(TransactWriteCommand).rejectsOnce(indexGone).rejects(throttled);
    await expect(store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' })).rejects.toBe(throttled);
    expect(ddb.commandCalls(UpdateCommand)).toEqual([]); // no UpdateItem of the record alone: it stays unrevoked with its entry
    expect(items.get(`acme\n${r.keyHash}`)!.revokedAt).toBeUndefined();
    const [first] = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(first).toEqual([
      { Update: {
        TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: r.keyHash }, UpdateExpression: 'SET #revokedAt = :revokedAt', ConditionExpression: 'attribute_exists(keyHash)',
        ExpressionAttributeNames: { '#revokedAt': 'revokedAt' }, ExpressionAttributeValues: { ':revokedAt': '2026-12-01T13:00:00.000Z' },
      } },
      { Update: {
        TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: 'live#keys' }, UpdateExpression: 'REMOVE live.#key ADD #version :one', ConditionExpression: 'attribute_exists(live)',
        ExpressionAttributeNames: { '#key': r.keyId, '#version': 'version' }, ExpressionAttributeValues: { ':one': 1 },
      } },
    ]);
    // A rotation's claim with a grace period: the entry set to the new expiry in the same transaction; a claim whose condition fails is false.
    ddb.on(TransactWriteCommand).resolvesOnce({}).rejects(new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }));
    ddb.resetHistory();
    expect(await store.claimRotation('acme', r.keyHash, { rotatedTo: 'key_00000000000000aa', expiresAt: '2026-12-02T00:00:00.000Z' })).toBe(true);
    expect(ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![1]).toMatchObject({ Update: { UpdateExpression: 'SET live.#key = :expiresAt ADD #version :one', ExpressionAttributeValues: { ':expiresAt': '2026-12-02T00:00:00.000Z' } } });
    expect(await store.claimRotation('acme', r.keyHash, { rotatedTo: 'key_00000000000000bb', expiresAt: '2026-12-02T00:00:00.000Z' })).toBe(false);
    // A lastUsedAt write touches no index: one UpdateItem, no read of it.
    ddb.resetHistory();
    await store.update('acme', r.keyHash, { lastUsedAt: '2026-12-01T14:00:00.000Z' });
    expect([ddb.commandCalls(GetCommand).length, ddb.commandCalls(UpdateCommand).length, ddb.commandCalls(TransactWriteCommand).length]).toEqual([0, 1, 0]);
  });

  it('AWS errors other than a failed condition reach the caller', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException' }));
    await expect(store.put(keyRecord('acme'))).rejects.toThrow(/not authorized/);
  });
});
