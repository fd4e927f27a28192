import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantStatus } from '../../lib/tenant-record.js';
import { ApiKeyService } from '../../lambdas/identity/api-keys.js';
import { IdentityError } from '../../lambdas/identity/identity-error.js';
import { DynamoDbApiKeyStore } from '../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { UnknownAfterKeyError } from '../../lambdas/identity/stores/api-key-store-common.js';
import type { ApiKeyRecord } from '../../lib/identity/api-key-record.js';
import { KEYS_BY_CREATION_INDEX } from '../../lib/identity/api-key.js';
import { DynamoDbUserTokenRevocations } from '../../lambdas/identity/stores/user-token-revocations.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { apiKeyStoreBehaviour, apiKeyStoreFenceBehaviour, keyRecord } from '../unit/identity/keys-store-behaviour.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { KEYS_TABLE_SCHEMA } from './support/keys-table.js';

// DynamoDbApiKeyStore against moto's DynamoDB: the same behaviour table as the memory and file
// stores, each test on a fresh table with the keys table's key schema (partition `tenantId` S,
// sort `keyHash` S, on demand). What moto does not show: the tenant-data role's
// dynamodb:LeadingKeys condition (moto evaluates no IAM policy; test/isolation covers it with the
// policy simulator's rules), throttling (UnprocessedItems; the unit test covers the retry), and
// KMS encryption of the table.

let moto: MotoServer;
let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  moto = await startMoto({ serial: true }); // DynamoDB applies each conditional write atomically; threaded moto can interleave two claimRotation updates between check and write
  const client = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  ddb = new DynamoDBClient(client);
  doc = DynamoDBDocumentClient.from(ddb);
}, 90_000);
afterAll(async () => moto?.stop());

/** A new, empty keys table, as constructs will declare it. */
async function keysTable(): Promise<string> {
  const name = `tessera-api-keys-${++tables}`;
  await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  return name;
}

/** A new, empty tenant registry (partition key `tenantId`), as constructs/tenant-registry.ts declares it. */
async function registryTable(): Promise<string> {
  const name = `tessera-tenants-${++tables}`;
  await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }],
  }));
  return name;
}

/** Sets the tenant's status in `registry` (undefined: deletes its item). */
const setStatus = (registry: string) => async (tenantId: string, status: TenantStatus | undefined) => {
  if (status) await doc.send(new PutCommand({ TableName: registry, Item: { tenantId, status } }));
  else await doc.send(new DeleteCommand({ TableName: registry, Key: { tenantId } }));
};

apiKeyStoreFenceBehaviour('DynamoDbApiKeyStore (moto, registryTable)', async () => {
  const registry = await registryTable();
  return { store: new DynamoDbApiKeyStore(await keysTable(), async () => doc, { registryTable: registry }), setStatus: setStatus(registry), serialWrites: true };
});

describe('an offboarding\'s deleteAll and a key write landing between its Query and its deletes (moto)', () => {
  it('create and rotate by a caller that read the tenant ACTIVE before Begin offboarding: 409 invalid_status naming OFFBOARDING; the keys table is empty after deleteAll', async () => {
    const [registry, keys] = [await registryTable(), await keysTable()];
    await setStatus(registry)('acme', 'ACTIVE');
    const service = new ApiKeyService(new DynamoDbApiKeyStore(keys, async () => doc, { registryTable: registry }), gatewayConfig());
    const stale = localTenant('acme', 'enterprise'); // ACTIVE: the admin API or gateway read it before the offboarding began
    const existing = await service.create(stale, { name: 'ci' }, 'admin:test');
    await setStatus(registry)('acme', 'OFFBOARDING'); // Begin offboarding (the lease write)
    // Revoke tenant identities: an unfenced store on its own client; the racing writes land after its first Query has read the partition.
    const offboarding = DynamoDBDocumentClient.from(ddb);
    const raced: Array<Promise<unknown>> = [];
    offboarding.middlewareStack.add((next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'QueryCommand' && !raced.length) {
        // One after the other, both before the deletes: moto applies a cancelled transaction's Put and then restores a
        // copy of the table taken at its start, so two transactions at once can restore each other's writes (not AWS's behaviour).
        raced.push(service.create(stale, { name: 'late' }, 'admin:test').then((r) => r, (e: unknown) => e));
        await raced[0];
        raced.push(service.rotate(stale, existing.record.keyId, { gracePeriodHours: 1 }, 'admin:test').then((r) => r, (e: unknown) => e));
        await raced[1];
      }
      return out;
    }, { step: 'initialize' });
    expect(await new DynamoDbApiKeyStore(keys, async () => offboarding).deleteAll('acme')).toBe(1);
    const outcomes = await Promise.all(raced);
    expect(outcomes).toHaveLength(2);
    for (const [o, what] of [[outcomes[0], 'create a key'], [outcomes[1], 'rotate a key']] as const) {
      expect(o).toBeInstanceOf(IdentityError);
      expect(o).toMatchObject({ status: 409, code: 'invalid_status', message: expect.stringContaining(`tenant acme is OFFBOARDING: cannot ${what}`) });
    }
    expect(await new DynamoDbApiKeyStore(keys, async () => doc).list('acme')).toEqual([]);
    // Nothing else of the tenant either: its live-key index (live#keys, which list does not read) went with the records.
    expect((await doc.send(new QueryCommand({ TableName: keys, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': 'acme' }, ConsistentRead: true }))).Items).toEqual([]);
  });

  it('a key written before the status moved is there for the deletion: nothing left either way', async () => {
    const [registry, keys] = [await registryTable(), await keysTable()];
    await setStatus(registry)('acme', 'ACTIVE');
    const store = new DynamoDbApiKeyStore(keys, async () => doc, { registryTable: registry });
    await store.put(keyRecord('acme'));
    await setStatus(registry)('acme', 'OFFBOARDING');
    expect(await new DynamoDbApiKeyStore(keys, async () => doc).deleteAll('acme')).toBe(1);
    expect(await store.list('acme')).toEqual([]);
  });
});

describe('users\' token revocations beside the keys, fenced on the registry (moto)', () => {
  it('written for an ACTIVE, UPDATING or SUSPENDED tenant (a resume serves it again); not for an OFFBOARDING or OFFBOARDED one, or none: no error, nothing left after deleteAll', async () => {
    const [registry, keys] = [await registryTable(), await keysTable()];
    const revocations = new DynamoDbUserTokenRevocations(keys, async () => doc, registry);
    const at = new Date('2026-12-01T10:00:00.000Z');
    for (const status of ['ACTIVE', 'UPDATING', 'SUSPENDED'] as const) {
      await setStatus(registry)('acme', status);
      await revocations.revoke('acme', `sub-${status}`, at);
      expect(await revocations.notBefore('acme', `sub-${status}`)).toBe(at.getTime());
    }
    await setStatus(registry)('acme', 'OFFBOARDING'); // Begin offboarding
    expect(await new DynamoDbApiKeyStore(keys, async () => doc).deleteAll('acme')).toBe(3); // Revoke tenant identities
    // An admin disabling (removing, re-roling) a user during or after the offboarding: no item outlives the tenant.
    await revocations.revoke('acme', 'sub-late', at);
    await setStatus(registry)('acme', 'OFFBOARDED');
    await revocations.revoke('acme', 'sub-later', at);
    await revocations.revoke('globex', 'sub-nobody', at); // no registry record
    expect(await new DynamoDbApiKeyStore(keys, async () => doc).deleteAll('acme')).toBe(0);
    expect(await revocations.notBefore('globex', 'sub-nobody')).toBeUndefined();
  });
});

apiKeyStoreBehaviour('DynamoDbApiKeyStore (moto)', async () => {
  const asked: string[] = [];
  return new DynamoDbApiKeyStore(await keysTable(), async (tenantId) => (asked.push(tenantId), doc));
});

describe('DynamoDbApiKeyStore on moto: paging and items', () => {
  it('lists and deletes a tenant\'s keys across Query pages (items of ~1 MB in all)', async () => {
    const paged = DynamoDBDocumentClient.from(ddb);
    const queries: Array<{ ExclusiveStartKey?: unknown; IndexName?: string; Limit?: number }> = [];
    paged.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') queries.push(args.input as never);
      return next(args);
    }, { step: 'initialize' });
    const store = new DynamoDbApiKeyStore(await keysTable(), async () => paged);
    // ~4 KB records: 300 of them pass Query's 1 MB page limit, so list and deleteAll must follow LastEvaluatedKey.
    const name = 'n'.repeat(128);
    const models = Array.from({ length: 100 }, (_, i) => `openai/model-${i}-${'x'.repeat(24)}`);
    for (let i = 0; i < 300; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), { name, models }));
    const listed = await store.list('acme');
    expect(listed).toHaveLength(300);
    expect(listed[0]!.createdAt).toBe('2026-12-01T00:04:59.000Z');
    expect(queries.length).toBeGreaterThan(1); // moto pages at 1 MB, as DynamoDB does
    expect(queries.slice(1).every((q) => q.ExclusiveStartKey)).toBe(true);
    // A page is one Query of Limit limit + 1 from the cursor's position, however many keys the tenant has; users'
    // token revocations (user#…) in the partition are no keys and take no place on a page.
    await doc.send(new PutCommand({ TableName: (store as unknown as { table: string }).table, Item: { tenantId: 'acme', keyHash: 'user#sub-1', tokensNotBefore: '2026-12-01T00:00:00.000Z' } }));
    queries.length = 0;
    const first = await store.listPage('acme', { limit: 20, order: 'desc' });
    const second = await store.listPage('acme', { limit: 20, order: 'desc', after: first.records.at(-1)!.keyId });
    // The first list fills in no key (all written with their place in the creation index) and marks the tenant; each page is then one Query of the index.
    expect(queries.filter((q) => q.IndexName !== undefined).map((q) => [q.IndexName, q.Limit])).toEqual([[KEYS_BY_CREATION_INDEX.name, 21], [KEYS_BY_CREATION_INDEX.name, 21]]);
    const newest = [...listed]; // list: newest first, which is desc creation order
    expect([...first.records, ...second.records]).toEqual(newest.slice(0, 40));
    expect(first.hasMore && second.hasMore).toBe(true);
    const oldest = [...newest].reverse();
    expect(await store.listPage('acme', { limit: 20, order: 'asc', after: oldest[5]!.keyId })).toEqual({ records: oldest.slice(6, 26), hasMore: true });
    expect(await store.deleteAll('acme')).toBe(301);
    expect(await store.list('acme')).toEqual([]);
  }, 120_000);
});

describe('DynamoDbApiKeyStore on moto: hostile cursors', () => {
  it('after must be a key of the caller\'s tenant (another tenant\'s or a deleted key is refused); a revoked key is a cursor; keys made during a walk repeat none and skip none of those before it; 100 and 101 keys at limit 100; keys of one millisecond by id', async () => {
    const table = await keysTable();
    const store = new DynamoDbApiKeyStore(table, async () => doc);
    // Ten keys to a millisecond: a page boundary falls inside a millisecond's keys, which sort by key id.
    const acmeKeys = Array.from({ length: 100 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, 0, 0, Math.floor(i / 10))).toISOString()));
    for (const r of acmeKeys) await store.put(r);
    const globex = keyRecord('globex');
    await store.put(globex);
    const byCreation = (a: ApiKeyRecord, b: ApiKeyRecord) => (a.createdAt === b.createdAt ? (a.keyId < b.keyId ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1);
    const sorted = [...acmeKeys].sort(byCreation);
    // Exactly 100 keys, limit 100: one page, has_more false; the 101st makes has_more true and a page of 1 after it.
    expect(await store.listPage('acme', { limit: 100, order: 'asc' })).toEqual({ records: sorted, hasMore: false });
    const extra = keyRecord('acme', '2026-12-01T00:00:01.000Z');
    await store.put(extra);
    const all = [...acmeKeys, extra].sort(byCreation);
    const full = await store.listPage('acme', { limit: 100, order: 'asc' });
    expect([full.records.length, full.hasMore]).toEqual([100, true]);
    expect(await store.listPage('acme', { limit: 100, order: 'asc', after: full.records.at(-1)!.keyId })).toEqual({ records: [all[100]], hasMore: false });
    const pagesOf7 = [];
    for (let after: string | undefined; ;) {
      const page = await store.listPage('acme', { limit: 7, order: 'asc', ...(after ? { after } : {}) });
      pagesOf7.push(...page.records);
      if (!page.hasMore) break;
      after = page.records.at(-1)!.keyId;
    }
    expect(pagesOf7).toEqual(all);
    // Another tenant's key id is no cursor of acme's list: refused, never a position among acme's keys.
    await expect(store.listPage('acme', { limit: 100, order: 'asc', after: globex.keyId })).rejects.toBeInstanceOf(UnknownAfterKeyError);
    // A revoked key is listed and a cursor; a deleted one (only offboarding deletes keys) is no longer one.
    await store.update('acme', all[10]!.keyHash, { revokedAt: '2026-12-01T00:00:00.000Z' });
    expect((await store.listPage('acme', { limit: 2, order: 'asc', after: all[9]!.keyId })).records.map((r) => r.keyId)).toEqual([all[10]!.keyId, all[11]!.keyId]);
    await doc.send(new DeleteCommand({ TableName: table, Key: { tenantId: 'acme', keyHash: all[20]!.keyHash } }));
    await expect(store.listPage('acme', { limit: 1, order: 'asc', after: all[20]!.keyId })).rejects.toBeInstanceOf(UnknownAfterKeyError);
    expect((await store.listPage('acme', { limit: 1, order: 'desc', after: all[21]!.keyId })).records).toEqual([all[19]]);
    // A desc walk of limit 7 during which a key is made after each page: every key that existed at its start, once, newest first.
    const before = new Set((await store.list('acme')).map((r) => r.keyId));
    const seen: ApiKeyRecord[] = [];
    for (let after: string | undefined; ;) {
      const page = await store.listPage('acme', { limit: 7, order: 'desc', ...(after ? { after } : {}) });
      seen.push(...page.records);
      await store.put(keyRecord('acme', new Date().toISOString()));
      if (!page.hasMore) break;
      after = page.records.at(-1)!.keyId;
    }
    expect(seen).toHaveLength(new Set(seen.map((r) => r.keyId)).size);
    expect(seen).toEqual([...seen].sort(byCreation).reverse());
    expect([...before].filter((id) => !seen.some((r) => r.keyId === id))).toEqual([]);
  }, 120_000);
});

describe('DynamoDbApiKeyStore on moto: keys written before the creation index (no createdAtKeyId)', () => {
  it('the tenant\'s first list fills them in and marks it: every key listed in creation order (paged, asc and desc), old and new together; the next list fills nothing', async () => {
    const table = await keysTable();
    const counted = DynamoDBDocumentClient.from(ddb);
    const calls: string[] = [];
    counted.middlewareStack.add((next, context) => async (args) => (calls.push(context.commandName!), next(args)), { step: 'initialize' });
    const store = new DynamoDbApiKeyStore(table, async () => counted);
    // 30 keys as an older platform wrote them: the record's fields only, so the sparse index does not hold them.
    const old = Array.from({ length: 30 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString()));
    for (const r of old) await doc.send(new PutCommand({ TableName: table, Item: r }));
    const globexOld = keyRecord('globex', '2026-11-01T00:00:00.000Z');
    await doc.send(new PutCommand({ TableName: table, Item: globexOld }));
    await doc.send(new PutCommand({ TableName: table, Item: { tenantId: 'acme', keyHash: 'user#sub-1', tokensNotBefore: '2026-12-01T00:00:00.000Z' } }));
    const fresh = [keyRecord('acme', '2026-12-01T00:00:00.000Z'), keyRecord('acme', '2026-12-02T00:00:00.000Z')];
    for (const r of fresh) await store.put(r);
    const all = [...old, ...fresh];
    const walk = async (order: 'asc' | 'desc') => {
      const seen: ApiKeyRecord[] = [];
      for (let after: string | undefined; ;) {
        const page = await store.listPage('acme', { limit: 8, order, ...(after ? { after } : {}) });
        seen.push(...page.records);
        if (!page.hasMore) return seen;
        after = page.records.at(-1)!.keyId;
      }
    };
    calls.length = 0;
    expect(await walk('asc')).toEqual(all);
    expect(calls.filter((c) => c === 'UpdateItemCommand')).toHaveLength(30); // each old key once
    calls.length = 0;
    expect(await walk('desc')).toEqual([...all].reverse());
    expect(calls.filter((c) => c === 'UpdateItemCommand')).toEqual([]);
    // The mark is in acme's partition only: globex's old key is filled on globex's own first list.
    expect(await store.listPage('globex', { limit: 20, order: 'asc' })).toEqual({ records: [globexOld], hasMore: false });
    // Offboarding deletes the mark with the keys, and counts only the keys and the token revocation.
    expect(await store.deleteAll('acme')).toBe(33);
    expect((await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': 'acme' } }))).Items).toEqual([]);
  }, 120_000);
});

describe('the live-key cap on DynamoDB (moto): one index item per tenant, written in each create\'s transaction', () => {
  /** A service on a fresh keys table fenced on a fresh registry where acme is ACTIVE, with its client's calls counted by command. */
  async function capped() {
    const [registry, keys] = [await registryTable(), await keysTable()];
    await setStatus(registry)('acme', 'ACTIVE');
    const counted = DynamoDBDocumentClient.from(ddb);
    const calls: string[] = [];
    counted.middlewareStack.add((next, context) => async (args) => (calls.push(context.commandName!), next(args)), { step: 'initialize' });
    const store = new DynamoDbApiKeyStore(keys, async () => counted, { registryTable: registry });
    return { keys, calls, store, service: new ApiKeyService(store, gatewayConfig()) };
  }
  const acme = localTenant('acme', 'enterprise');

  it('of 10 creates racing at 98 live keys exactly 2 succeed, the others 409 too_many_keys; revoked and expired keys do not count', async () => {
    const { service, store } = await capped();
    const now = new Date();
    for (let i = 0; i < 98; i++) await service.create(acme, { name: `k${i}` }, 'admin:test', now);
    // Beside them: 3 revoked keys and 2 that expired (they never count).
    for (let i = 0; i < 3; i++) await service.revoke('acme', (await service.create(acme, { name: `gone${i}` }, 'admin:test', now)).record.keyId, now);
    for (let i = 0; i < 2; i++) await service.create(acme, { name: `short${i}`, expiresInDays: 1 }, 'admin:test', now);
    const later = new Date(now.getTime() + 2 * 86_400_000);
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => service.create(acme, { name: `race${i}` }, 'admin:test', later).then(() => 'created', (e: unknown) => (e as IdentityError).code)));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'too_many_keys')).toHaveLength(8);
    expect((await store.list('acme')).filter((r) => r.revokedAt === undefined && (r.expiresAt === undefined || Date.parse(r.expiresAt) > later.getTime()))).toHaveLength(100);
  }, 120_000);

  it('a revocation at the cap removes the key from the index in its own transaction: the create after it reads the index only (no recount of the records) and fits exactly one', async () => {
    const { service, calls, keys } = await capped();
    const made = [];
    for (let i = 0; i < 100; i++) made.push((await service.create(acme, { name: `k${i}` }, 'admin:test')).record);
    calls.length = 0;
    await service.revoke('acme', made[42]!.keyId);
    // The key's record (found by id), the index read, and one transaction of the record and its index entry.
    expect(calls).toEqual(['QueryCommand', 'GetItemCommand', 'TransactWriteItemsCommand']);
    const index = (await doc.send(new QueryCommand({ TableName: keys, KeyConditionExpression: 'tenantId = :t AND keyHash = :k', ExpressionAttributeValues: { ':t': 'acme', ':k': 'live#keys' }, ConsistentRead: true }))).Items![0]!;
    expect(Object.keys(index.live as object)).toHaveLength(99);
    expect(made[42]!.keyId in (index.live as object)).toBe(false);
    calls.length = 0;
    await service.create(acme, { name: 'in its place' }, 'admin:test');
    expect(calls).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
    await expect(service.create(acme, { name: 'the 101st' }, 'admin:test')).rejects.toMatchObject({ status: 409, code: 'too_many_keys', message: expect.stringContaining('has 100 live API keys') });
    // A rotation with no grace revokes the old key in the claim's transaction too: one create fits after it, then none.
    const rotated = await service.rotate(acme, made[7]!.keyId, { gracePeriodHours: 0 }, 'admin:test');
    expect(rotated.previous.revokedAt).toBeDefined();
    await expect(service.create(acme, { name: 'still full' }, 'admin:test')).rejects.toMatchObject({ code: 'too_many_keys', message: expect.stringContaining('has 100 live API keys') });
  }, 120_000);

  it('a create reads the index item, not the tenant\'s keys: one GetItem and no Query, however many revoked keys the tenant has', async () => {
    const { service, calls } = await capped();
    for (let i = 0; i < 30; i++) await service.revoke('acme', (await service.create(acme, { name: `old${i}` }, 'admin:test')).record.keyId);
    calls.length = 0;
    await service.create(acme, { name: 'new' }, 'admin:test');
    expect(calls).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
  }, 60_000);

  it('a revocation frees its place at the cap; a rotation is never refused by it; a tenant with keys but no index gets one from its records', async () => {
    const { service, keys, calls } = await capped();
    // 100 keys written before the index existed (an older platform): the first create counts them from the records.
    const store = new DynamoDbApiKeyStore(keys, async () => doc);
    const old = Array.from({ length: 100 }, () => keyRecord('acme'));
    for (const r of old) await store.put(r);
    calls.length = 0;
    await expect(service.create(acme, { name: 'one more' }, 'admin:test')).rejects.toMatchObject({ status: 409, code: 'too_many_keys', message: expect.stringContaining('has 100 live API keys') });
    expect(calls).toContain('QueryCommand');
    await service.revoke('acme', old[0]!.keyId);
    const created = await service.create(acme, { name: 'in its place' }, 'admin:test');
    calls.length = 0;
    await expect(service.create(acme, { name: 'one more' }, 'admin:test')).rejects.toMatchObject({ code: 'too_many_keys' });
    const rotated = await service.rotate(acme, created.record.keyId, { gracePeriodHours: 1 }, 'admin:test');
    expect(rotated.record.rotatedFrom).toBe(created.record.keyId);
    await service.rotate(acme, rotated.record.keyId, { gracePeriodHours: 0 }, 'admin:test'); // grace 0: the rotated key is revoked at once
    await expect(service.create(acme, { name: 'still full' }, 'admin:test')).rejects.toMatchObject({ code: 'too_many_keys', message: expect.stringContaining('has 101 live API keys') });
  }, 60_000);

  it('creates, revocations and rotations interleaved at 99 live keys: never more than 100 live, and the index misses no live key', async () => {
    const { service, store, keys } = await capped();
    const made = [];
    for (let i = 0; i < 99; i++) made.push((await service.create(acme, { name: `k${i}` }, 'admin:test')).record);
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e as IdentityError).code ?? String(e));
    const outcomes = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => outcome(service.create(acme, { name: `race${i}` }, 'admin:test'))),
      outcome(service.revoke('acme', made[0]!.keyId)), outcome(service.revoke('acme', made[1]!.keyId)),
      outcome(service.rotate(acme, made[2]!.keyId, { gracePeriodHours: 0 }, 'admin:test')),
    ]);
    expect(outcomes.slice(4)).toEqual(['ok', 'ok', 'ok']);
    expect(outcomes.slice(0, 4).every((o) => o === 'ok' || o === 'too_many_keys')).toBe(true);
    const now = new Date();
    const live = (await store.list('acme')).filter((r) => r.revokedAt === undefined && (r.expiresAt === undefined || Date.parse(r.expiresAt) > now.getTime()));
    expect(live.length).toBeLessThanOrEqual(100);
    expect(outcomes.slice(0, 4)).toContain('ok');
    const index = (await doc.send(new QueryCommand({ TableName: keys, KeyConditionExpression: 'tenantId = :t AND keyHash = :k', ExpressionAttributeValues: { ':t': 'acme', ':k': 'live#keys' }, ConsistentRead: true }))).Items![0]!;
    expect(live.map((r) => r.keyId).filter((id) => !(id in (index.live as object)))).toEqual([]);
  }, 120_000);

  it('a rotation whose successor is written while a create first builds the index from the records is counted: at 98 live keys, the create and the rotation make 100, and the next create is refused', async () => {
    const [registry, keys] = [await registryTable(), await keysTable()];
    await setStatus(registry)('acme', 'ACTIVE');
    // 98 keys written before the index existed (an older platform): no index item.
    const old = Array.from({ length: 98 }, () => keyRecord('acme'));
    for (const r of old) await new DynamoDbApiKeyStore(keys, async () => doc).put(r);
    const rotator = new ApiKeyService(new DynamoDbApiKeyStore(keys, async () => doc, { registryTable: registry }), gatewayConfig());
    // The create's client: its first transaction waits for a whole rotation, after the create has read the records (98 live).
    const racing = DynamoDBDocumentClient.from(ddb);
    let planted = false;
    racing.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && !planted) {
        planted = true;
        await rotator.rotate(acme, old[0]!.keyId, { gracePeriodHours: 1 }, 'admin:test');
      }
      return next(args);
    }, { step: 'initialize' });
    const service = new ApiKeyService(new DynamoDbApiKeyStore(keys, async () => racing, { registryTable: registry }), gatewayConfig());
    await service.create(acme, { name: 'during the rotation' }, 'admin:test');
    expect(planted).toBe(true);
    const now = new Date();
    expect((await rotator.list('acme')).filter((r) => r.revokedAt === undefined && (r.expiresAt === undefined || Date.parse(r.expiresAt) > now.getTime()))).toHaveLength(100);
    await expect(service.create(acme, { name: 'the 101st' }, 'admin:test')).rejects.toMatchObject({ status: 409, code: 'too_many_keys', message: expect.stringContaining('has 100 live API keys') });
  }, 60_000);
});
