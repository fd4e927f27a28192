import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';

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
  /**
   * @param table the keys table (TESSERA_API_KEYS_TABLE)
   * @param docFor the document client for a tenant (tenant-scoped in the Lambdas)
   * @param registryTable the tenant registry (TESSERA_REGISTRY_TABLE), same account and Region: a revocation is then
   *   written only while the tenant is not OFFBOARDING or OFFBOARDED (see revoke). @default - none: always written
   */
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient, private readonly registryTable?: string) {}

  /**
   * PutItem of the user's item. With `registryTable`: one TransactWriteItems of a ConditionCheck
   * that the tenant's registry item exists and is neither OFFBOARDING nor OFFBOARDED, and that
   * Put; a failed check writes nothing and is no error. An offboarding tenant is never served
   * again (its tokens are refused with it), and its *Revoke tenant identities* deletes the
   * partition after the status moved: a revocation written after that deletion (a user disabled,
   * removed or re-roled by an admin during or after the offboarding) would outlive the tenant in
   * the keys table. A SUSPENDED tenant's revocations are written: a resume serves it again. A
   * transaction cancelled only for conflicts (a key write's check of the same registry item in
   * flight) is sent again (sendTransaction).
   * @throws the AWS error of anything but that failed check
   */
  async revoke(tenantId: string, userSub: string, at: Date): Promise<void> {
    if (!isTenantId(tenantId)) throw new Error(`"${tenantId}" is not a tenant id`);
    const doc = await this.docFor(tenantId);
    const put = { TableName: this.table, Item: { tenantId, keyHash: revocationSortKey(userSub), tokensNotBefore: at.toISOString() } };
    if (!this.registryTable) {
      await doc.send(new PutCommand(put));
      return;
    }
    try {
      // Again when cancelled only for a conflict (another key write's or revocation's check of the same registry item in flight).
      await sendTransaction(doc, new TransactWriteCommand({ TransactItems: [
        { ConditionCheck: {
          TableName: this.registryTable, Key: { tenantId }, ConditionExpression: 'attribute_exists(tenantId) AND NOT (#status IN (:gone, :going))',
          ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':gone': 'OFFBOARDED', ':going': 'OFFBOARDING' },
        } },
        { Put: put },
      ] }));
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException || (e as Error).name === 'TransactionCanceledException' ? (e as TransactionCanceledException).CancellationReasons : undefined;
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') return;
      throw e;
    }
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
