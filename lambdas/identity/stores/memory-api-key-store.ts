import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { ApiKeyStore } from './api-key-store.js';
import { ApiKeyExistsError, hashPrefixOf, newestFirst, withoutUndefined } from './api-key-store-common.js';

/**
 * Key records in this process's memory, for tests. The same behaviour as the DynamoDB and file
 * stores (one test table runs against all three): records are copied in and out, so a caller
 * that changes a returned record changes nothing stored.
 */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly tenants = new Map<string, Map<string, ApiKeyRecord>>();

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

  /** @throws ApiKeyExistsError when the tenant has a record with this hash */
  async put(record: ApiKeyRecord): Promise<void> {
    let keys = this.of(record.tenantId);
    if (!keys) this.tenants.set(record.tenantId, (keys = new Map()));
    if (keys.has(record.keyHash)) throw new ApiKeyExistsError(record.tenantId, record.keyHash);
    keys.set(record.keyHash, structuredClone(withoutUndefined(record)));
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
