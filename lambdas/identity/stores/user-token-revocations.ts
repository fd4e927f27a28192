import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId, type TenantDocumentClient } from '../../shared/tenant-credentials.js';

/**
 * When a user's tokens stop counting: disabling, removing or re-roling a user records the instant,
 * and the authorizer refuses a JWT of that user issued (`iat`) in an earlier second. Cognito
 * cannot revoke an ID token (it stays valid for its hour), so without this a disabled user's
 * token would keep working until it expires; with it, the user is refused within the
 * authorizer's cache window (60 s). A user signing in again (after a role change, or after being
 * enabled again) gets tokens issued later, which count.
 */
export interface UserTokenRevocations {
  /** Refuse `userSub`'s tokens issued before `at` (`iat` is in whole seconds: a token of `at`'s own second is refused too). */
  revoke(tenantId: string, userSub: string, at: Date): Promise<void>;
  /** The instant before which the user's tokens are refused (epoch milliseconds), if any. */
  notBefore(tenantId: string, userSub: string): Promise<number | undefined>;
}

/** The keys table's sort key of a user's revocation item: never a key hash (64 hex characters). */
export const revocationSortKey = (userSub: string) => `user#${userSub}`;

/** Whether a keys-table item is a user's revocation item rather than a key record. */
export const isRevocationItem = (item: Record<string, unknown>) => String(item.keyHash).startsWith('user#');

/** Revocations in this process's memory (tests; `tessera serve`, which has no user directory). */
export class MemoryUserTokenRevocations implements UserTokenRevocations {
  private readonly at = new Map<string, number>();
  async revoke(tenantId: string, userSub: string, at: Date): Promise<void> {
    this.at.set(`${tenantId}/${userSub}`, at.getTime());
  }
  async notBefore(tenantId: string, userSub: string): Promise<number | undefined> {
    return this.at.get(`${tenantId}/${userSub}`);
  }
}

/**
 * Revocations as items of the keys table, beside the tenant's key records: partition key
 * `tenantId`, sort key `user#<sub>`, attribute `tokensNotBefore` (ISO 8601). Same tenant-scoped
 * client as the keys (the tenant-data role's LeadingKeys condition admits only the tenant's
 * partition); offboarding's deletion of the tenant's key items removes them too.
 */
export class DynamoDbUserTokenRevocations implements UserTokenRevocations {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async revoke(tenantId: string, userSub: string, at: Date): Promise<void> {
    if (!isTenantId(tenantId)) throw new Error(`"${tenantId}" is not a tenant id`);
    const doc = await this.docFor(tenantId);
    await doc.send(new PutCommand({ TableName: this.table, Item: { tenantId, keyHash: revocationSortKey(userSub), tokensNotBefore: at.toISOString() } }));
  }

  /** GetItem, strongly consistent (a disable must count at the next cache miss, not after replication). */
  async notBefore(tenantId: string, userSub: string): Promise<number | undefined> {
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, keyHash: revocationSortKey(userSub) }, ConsistentRead: true }));
    const at = out.Item?.tokensNotBefore;
    return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? Date.parse(at) : undefined;
  }
}
