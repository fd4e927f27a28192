import { describe, expect, it } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { TenantStatus } from '../../../lib/tenant-record.js';
import type { ApiKeyStore } from '../../../lambdas/identity/stores/api-key-store.js';
import { ApiKeyExistsError, TenantNotServedError, UnknownAfterKeyError } from '../../../lambdas/identity/stores/api-key-store-common.js';

/** A fresh record of `tenantId` (a real minted key's hash and id), created at `createdAt`. */
export function keyRecord(tenantId: string, createdAt = '2026-12-01T10:00:00.000Z', extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const minted = mintApiKey(tenantId);
  return {
    tenantId, keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: `key ${minted.keyId}`, role: 'member',
    createdBy: 'admin:arn:aws:iam::111111111111:user/ops', createdAt, ...extra,
  };
}

/**
 * The behaviour every ApiKeyStore has (lambdas/identity/stores/api-key-store.ts), one table run
 * against each implementation: the memory, file and DynamoDB stores (SDK mocked in unit tests,
 * moto in test/integration/keys-dynamodb-moto.test.ts).
 */
export function apiKeyStoreBehaviour(name: string, make: () => ApiKeyStore | Promise<ApiKeyStore>): void {
  describe(`${name}: the ApiKeyStore behaviour`, () => {
    it('get returns the stored record by hash, never another tenant\'s, and nothing for a malformed hash', async () => {
      const store = await make();
      const mine = keyRecord('acme', '2026-12-01T10:00:00.000Z', { models: ['openai/gpt-4o-mini'], limits: { requestsPerMinute: 10, tokensPerDay: 1000, monthlyCostUsd: 2.5 }, expiresAt: '2027-01-01T00:00:00.000Z' });
      await store.put(mine);
      expect(await store.get('acme', mine.keyHash)).toEqual(mine);
      expect(await store.get('globex', mine.keyHash)).toBeUndefined();
      expect(await store.get('acme', mine.keyHash.slice(0, 63))).toBeUndefined();
      expect(await store.get('acme', '../../etc/passwd')).toBeUndefined();
      expect(await store.get('../acme', mine.keyHash)).toBeUndefined();
    });

    it('put refuses a second record with the same hash and keeps the first', async () => {
      const store = await make();
      const first = keyRecord('acme');
      await store.put(first);
      await expect(store.put({ ...first, name: 'impostor', role: 'admin' })).rejects.toBeInstanceOf(ApiKeyExistsError);
      expect(await store.get('acme', first.keyHash)).toEqual(first);
    });

    it('findById finds the tenant\'s key by its public id, revoked or not; not another tenant\'s; not a malformed id', async () => {
      const store = await make();
      const [a, b] = [keyRecord('acme'), keyRecord('acme', '2026-12-01T11:00:00.000Z', { revokedAt: '2026-12-02T00:00:00.000Z' })];
      await store.put(a);
      await store.put(b);
      expect(await store.findById('acme', a.keyId)).toEqual(a);
      expect(await store.findById('acme', b.keyId)).toEqual(b);
      expect(await store.findById('globex', a.keyId)).toBeUndefined();
      expect(await store.findById('acme', 'key_0000000000000000')).toBeUndefined();
      expect(await store.findById('acme', a.keyId.toUpperCase())).toBeUndefined();
      expect(await store.findById('acme', a.keyHash)).toBeUndefined();
      expect(await store.findById('acme', 'key_')).toBeUndefined();
    });

    it('list gives every record of the tenant, newest first, and none of another tenant', async () => {
      const store = await make();
      const times = ['2026-12-01T09:00:00.000Z', '2026-12-03T09:00:00.000Z', '2026-12-02T09:00:00.000Z', '2026-11-30T09:00:00.000Z', '2026-12-04T09:00:00.000Z'];
      const mine = times.map((t) => keyRecord('acme', t));
      for (const r of mine) await store.put(r);
      await store.put(keyRecord('globex', '2026-12-05T00:00:00.000Z'));
      const listed = await store.list('acme');
      expect(listed.map((r) => r.createdAt)).toEqual([...times].sort().reverse());
      expect(new Set(listed.map((r) => r.tenantId))).toEqual(new Set(['acme']));
      expect(await store.list('initech')).toEqual([]);
    });

    it('listPage pages the tenant\'s records in creation order (ties by key id): limit, after (a key of the tenant), order, hasMore; none of another tenant', async () => {
      const store = await make();
      // Written out of order; three made in the same millisecond (ordered by key id), one with a createdAt without milliseconds.
      const times = ['2026-12-05T09:00:00.000Z', '2026-12-01T09:00:00Z', '2026-12-03T09:00:00.000Z', '2026-12-03T09:00:00.000Z', '2026-12-02T09:00:00.000Z', '2026-12-03T09:00:00.000Z', '2026-12-04T09:00:00.000Z'];
      const mine = times.map((t, i) => keyRecord('acme', t, i === 2 ? { revokedAt: '2026-12-05T00:00:00.000Z' } : i === 4 ? { expiresAt: '2026-12-06T00:00:00.000Z' } : {}));
      for (const r of mine) await store.put(r);
      const theirs = keyRecord('globex', '2026-12-02T12:00:00.000Z');
      await store.put(theirs);
      const asc = [...mine].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.keyId < b.keyId ? -1 : 1));
      expect(asc.map((r) => r.createdAt.slice(0, 10))).toEqual(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-03', '2026-12-03', '2026-12-04', '2026-12-05']);
      const walk = async (order: 'asc' | 'desc', limit: number) => {
        const pages: ApiKeyRecord[][] = [];
        for (let after: string | undefined; ;) {
          const page = await store.listPage('acme', { limit, order, ...(after ? { after } : {}) });
          pages.push(page.records);
          if (!page.hasMore) return pages;
          after = page.records.at(-1)!.keyId;
        }
      };
      expect(await walk('asc', 3)).toEqual([asc.slice(0, 3), asc.slice(3, 6), asc.slice(6)]);
      const desc = [...asc].reverse();
      expect(await walk('desc', 3)).toEqual([desc.slice(0, 3), desc.slice(3, 6), desc.slice(6)]);
      // A page boundary inside the three keys of one millisecond: none is skipped or shown twice.
      expect(await walk('asc', 2)).toEqual([asc.slice(0, 2), asc.slice(2, 4), asc.slice(4, 6), asc.slice(6)]);
      // Exactly one page: no has_more, no empty page after it.
      expect(await walk('asc', 7)).toEqual([asc]);
      expect(await store.listPage('acme', { limit: 100, order: 'asc' })).toEqual({ records: asc, hasMore: false });
      expect(await store.listPage('acme', { limit: 100, order: 'asc', after: asc.at(-1)!.keyId })).toEqual({ records: [], hasMore: false });
      // `after` must be a key of the tenant: an id it never had, or another tenant's key, is refused (not read as a position).
      for (const after of ['key_0000000000000000', theirs.keyId]) {
        await expect(store.listPage('acme', { limit: 100, order: 'asc', after })).rejects.toBeInstanceOf(UnknownAfterKeyError);
      }
      expect(await store.listPage('initech', { limit: 20, order: 'asc' })).toEqual({ records: [], hasMore: false });
    });

    it('update sets the given fields and keeps the others; a missing record stays missing', async () => {
      const store = await make();
      const r = keyRecord('acme', '2026-12-01T10:00:00.000Z', { expiresAt: '2027-06-01T00:00:00.000Z' });
      await store.put(r);
      await store.update('acme', r.keyHash, { lastUsedAt: '2026-12-01T12:00:00.000Z' });
      await store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z', expiresAt: '2026-12-02T00:00:00.000Z' });
      expect(await store.get('acme', r.keyHash)).toEqual({ ...r, lastUsedAt: '2026-12-01T12:00:00.000Z', revokedAt: '2026-12-01T13:00:00.000Z', expiresAt: '2026-12-02T00:00:00.000Z' });
      const ghost = keyRecord('acme');
      await store.update('acme', ghost.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
      expect(await store.get('acme', ghost.keyHash)).toBeUndefined();
      await store.update('globex', r.keyHash, { revokedAt: '2026-12-09T00:00:00.000Z' }); // another tenant's partition: nothing
      expect((await store.get('acme', r.keyHash))?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
      expect(await store.list('acme')).toHaveLength(1);
    });

    it('claimRotation sets the changes once: not on a rotated, revoked or missing record', async () => {
      const store = await make();
      const r = keyRecord('acme');
      await store.put(r);
      const grace = { rotatedTo: 'key_00000000000000aa', expiresAt: '2026-12-02T00:00:00.000Z' };
      const results = await Promise.all([grace, { ...grace, rotatedTo: 'key_00000000000000bb' }, { ...grace, rotatedTo: 'key_00000000000000cc' }]
        .map((changes) => store.claimRotation('acme', r.keyHash, changes)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const won = (await store.get('acme', r.keyHash))!.rotatedTo;
      expect(['key_00000000000000aa', 'key_00000000000000bb', 'key_00000000000000cc'][results.indexOf(true)]).toBe(won);
      const revoked = keyRecord('acme', '2026-12-01T10:00:00.000Z', { revokedAt: '2026-12-01T11:00:00.000Z' });
      await store.put(revoked);
      expect(await store.claimRotation('acme', revoked.keyHash, grace)).toBe(false);
      expect((await store.get('acme', revoked.keyHash))!.rotatedTo).toBeUndefined();
      expect(await store.claimRotation('acme', keyRecord('acme').keyHash, grace)).toBe(false);
      expect(await store.list('acme')).toHaveLength(2);
    });

    it('a returned record is a copy: changing it changes nothing stored', async () => {
      const store = await make();
      const r = keyRecord('acme', '2026-12-01T10:00:00.000Z', { models: ['openai/gpt-4o-mini'] });
      await store.put(r);
      const got = (await store.get('acme', r.keyHash))!;
      got.models!.push('openai/gpt-4o');
      got.role = 'admin';
      expect(await store.get('acme', r.keyHash)).toEqual(r);
    });

    it('deleteAll deletes every record of the tenant (more than one batch) and counts them; other tenants keep theirs', async () => {
      const store = await make();
      const mine = Array.from({ length: 27 }, (_, i) => keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
      for (const r of mine) await store.put(r);
      const theirs = keyRecord('globex');
      await store.put(theirs);
      expect(await store.deleteAll('acme')).toBe(27);
      expect(await store.list('acme')).toEqual([]);
      expect(await store.get('acme', mine[0]!.keyHash)).toBeUndefined();
      expect(await store.get('globex', theirs.keyHash)).toEqual(theirs);
      expect(await store.deleteAll('acme')).toBe(0);
    });
  });
}

/** A store that checks the tenant's status at a key write, and the registry it reads (a test sets a tenant's status there). */
export interface FencedKeyStore {
  store: ApiKeyStore;
  /** Sets the tenant's status in the registry the store checks (undefined: the tenant has no record). */
  setStatus(tenantId: string, status: TenantStatus | undefined): Promise<void>;
  /**
   * Late writes one after another (still beside the deletion) rather than all at once: moto applies a cancelled
   * transaction's Put, then restores a copy of the table taken at its start, so cancelled transactions at once can
   * restore each other's writes, which DynamoDB never does. @default false
   */
  serialWrites?: boolean;
}

/**
 * The fence every store given a registry has (ApiKeyStore.put): a key is kept only for a tenant
 * ACTIVE or UPDATING at the write, so a write racing an offboarding's deleteAll cannot outlive it.
 * The offboarding moves the tenant to OFFBOARDING before deleteAll (Begin offboarding, then
 * Revoke tenant identities); a writer that read the tenant ACTIVE before that writes afterwards.
 */
export function apiKeyStoreFenceBehaviour(name: string, make: () => Promise<FencedKeyStore>): void {
  describe(`${name}: key writes fenced on the tenant's status`, () => {
    it('stores a key for an ACTIVE or UPDATING tenant; refuses one for any other status, or no record, naming it, and keeps nothing', async () => {
      const { store, setStatus } = await make();
      for (const status of ['ACTIVE', 'UPDATING'] as const) {
        await setStatus('acme', status);
        await store.put(keyRecord('acme'));
      }
      expect(await store.list('acme')).toHaveLength(2);
      for (const status of ['REQUESTED', 'PROVISIONING', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED', 'FAILED', undefined] as const) {
        await setStatus('globex', status);
        const e = await store.put(keyRecord('globex')).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(TenantNotServedError);
        expect(e).toMatchObject({ tenantId: 'globex', status });
        expect((e as Error).message).toContain(`tenant globex is ${status ?? 'not in the registry'}`);
      }
      expect(await store.list('globex')).toEqual([]);
    });

    it('a key written after the offboarding began (a writer that read the tenant ACTIVE) is refused and nothing survives deleteAll', async () => {
      const { store, setStatus, serialWrites } = await make();
      await setStatus('acme', 'ACTIVE');
      const before = keyRecord('acme');
      await store.put(before);
      await setStatus('acme', 'OFFBOARDING'); // Begin offboarding
      const late = Array.from({ length: 6 }, () => keyRecord('acme'));
      // deleteAll and the late writes interleave at every await of both.
      const settle = (p: Promise<unknown>) => p.then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const);
      const deleting = settle(store.deleteAll('acme'));
      const writes = [];
      if (serialWrites) for (const r of late) writes.push(await settle(store.put(r)));
      else writes.push(...await Promise.all(late.map((r) => settle(store.put(r)))));
      const deleted = await deleting;
      // At least the key written before; the file and memory stores may also count a late record they deleted before its own put removed it.
      expect(deleted.status).toBe('fulfilled');
      expect((deleted as { value: number }).value).toBeGreaterThanOrEqual(1);
      expect(writes.every((w) => w.status === 'rejected' && w.reason instanceof TenantNotServedError)).toBe(true);
      expect(writes).toHaveLength(late.length);
      await expect(store.put(keyRecord('acme'))).rejects.toBeInstanceOf(TenantNotServedError); // and after it
      expect(await store.list('acme')).toEqual([]);
      expect(await store.deleteAll('acme')).toBe(0);
    });
  });
}
