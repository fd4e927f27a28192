import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { KeyPageRequest } from '../key-list-query.js';
import { ApiKeyExistsError, hashPrefixOf, isLive, mayHoldKeys, newestFirst, pageOf, TenantNotServedError, TooManyKeysError, withoutUndefined, type KeyPage, type LiveKeyCap, type TenantStatusReader } from './api-key-store-common.js';

/**
 * Key records in this process's memory, for tests. The same behaviour as the DynamoDB and file
 * stores (one test table runs against all three): records are copied in and out, so a caller
 * that changes a returned record changes nothing stored.
 */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly tenants = new Map<string, Map<string, ApiKeyRecord>>();

  /** @param tenantStatus where put reads the tenant's status after storing (TenantStatusReader). @default - none: put checks no status */
  constructor(private readonly tenantStatus?: TenantStatusReader) {}

  private of(tenantId: string): Map<string, ApiKeyRecord> | undefined {
    return this.tenants.get(tenantId);
  }

  async get(tenantId: string, keyHash: string): Promise<ApiKeyRecord | undefined> {
    const found = this.of(tenantId)?.get(keyHash);
    return found && structuredClone(found);
  }

  async findById(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const prefix = hashPrefixOf(keyId);
    if (!prefix) return undefined;
    for (const record of this.of(tenantId)?.values() ?? []) if (record.keyId === keyId) return structuredClone(record);
    return undefined;
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    return newestFirst([...(this.of(tenantId)?.values() ?? [])].map((r) => structuredClone(r)));
  }

  async listPage(tenantId: string, page: KeyPageRequest): Promise<KeyPage> {
    return pageOf(tenantId, [...(this.of(tenantId)?.values() ?? [])].map((r) => structuredClone(r)), page);
  }

  /**
   * Stores the record, then (with `tenantStatus`) reads the tenant's status and removes the record
   * again when the tenant may not hold keys.
   * With `cap`, the live keys are counted and the record set with no await between: atomic in this process.
   * @throws ApiKeyExistsError when the tenant has a record with this hash
   * @throws TooManyKeysError when `cap` is given and the tenant has `cap.max` live keys
   * @throws TenantNotServedError when the status read after the write is not ACTIVE or UPDATING
   * @throws the status read's error, the record removed again
   */
  async put(record: ApiKeyRecord, cap?: LiveKeyCap): Promise<void> {
    let keys = this.of(record.tenantId);
    if (!keys) this.tenants.set(record.tenantId, (keys = new Map()));
    if (keys.has(record.keyHash)) throw new ApiKeyExistsError(record.tenantId, record.keyHash);
    const live = cap && [...keys.values()].filter((r) => isLive(r, cap.now)).length;
    if (cap && live! >= cap.max) throw new TooManyKeysError(record.tenantId, live!);
    keys.set(record.keyHash, structuredClone(withoutUndefined(record)));
    if (!this.tenantStatus) return;
    const status = await this.tenantStatus(record.tenantId).catch((e: unknown) => {
      this.of(record.tenantId)?.delete(record.keyHash); // the status unknown: not kept
      throw e;
    });
    if (mayHoldKeys(status)) return;
    this.of(record.tenantId)?.delete(record.keyHash);
    throw new TenantNotServedError(record.tenantId, status);
  }

  async update(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'rotatedTo'>>): Promise<void> {
    const record = this.of(tenantId)?.get(keyHash);
    if (record) Object.assign(record, withoutUndefined(changes));
  }

  async claimRotation(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'rotatedTo'>>): Promise<boolean> {
    const record = this.of(tenantId)?.get(keyHash);
    if (!record || record.rotatedTo !== undefined || record.revokedAt !== undefined) return false;
    Object.assign(record, withoutUndefined(changes));
    return true;
  }

  async deleteAll(tenantId: string): Promise<number> {
    const count = this.of(tenantId)?.size ?? 0;
    this.tenants.delete(tenantId);
    return count;
  }
}
