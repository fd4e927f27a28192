import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { hash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';

/**
 * Once-only markers, one per threshold per budget per period: `claim` succeeds for exactly one
 * caller across every process that shares the store, until `release` gives the marker back (its
 * event could not be sent) or it expires.
 */
export interface AlertMarkers {
  /**
   * Claims the marker `id` atomically.
   * @param expiresAt when the marker may be forgotten (after its period ended)
   * @returns true for the one caller that claimed it; false when it is already claimed
   */
  claim(tenantId: string, id: string, expiresAt: Date): Promise<boolean>;
  /** Gives the marker back, so that a later request claims it again (its event was not sent). */
  release(tenantId: string, id: string): Promise<void>;
}

/**
 * Markers as items of the gateway's usage table (partition key `id`, TTL attribute `expiresAt`),
 * written with the tenant's document client (in the Lambdas: a session of the tenant-data role,
 * whose `UsageOwnCounters` statement admits GetItem and UpdateItem of `usage#<tenant>#…` items, so
 * markers need no new grant).
 *
 * `claim` is one UpdateItem `SET claimedAt, expiresAt` under the condition
 * `attribute_not_exists(claimedAt)`: DynamoDB applies conditional writes to one item one at a
 * time, so of any number of concurrent claims exactly one succeeds (the others get
 * ConditionalCheckFailedException; a failed conditional write costs one write unit).
 * `release` is an UpdateItem `REMOVE claimedAt` (conditioned on the claim being this one), which
 * makes the marker claimable again; UpdateItem rather than PutItem/DeleteItem because that is what
 * the tenant-data role grants on the usage table.
 */
export class DynamoDbAlertMarkers implements AlertMarkers {
  private readonly mine = new Map<string, string>();

  constructor(private readonly usageTable: string, private readonly docFor: TenantDocumentClient) {}

  async claim(tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    const claimedAt = new Date().toISOString();
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new UpdateCommand({
        TableName: this.usageTable, Key: { id },
        UpdateExpression: 'SET claimedAt = :at, expiresAt = :ttl',
        ConditionExpression: 'attribute_not_exists(claimedAt)',
        ExpressionAttributeValues: { ':at': claimedAt, ':ttl': Math.floor(expiresAt.getTime() / 1000) },
      }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
    // Kept for `release` (right after a failed send); bounded, the oldest forgotten first.
    if (this.mine.size >= 1000) this.mine.delete(this.mine.keys().next().value!);
    this.mine.set(id, claimedAt);
    return true;
  }

  async release(tenantId: string, id: string): Promise<void> {
    const claimedAt = this.mine.get(id);
    this.mine.delete(id);
    if (claimedAt === undefined) return;
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new UpdateCommand({
        TableName: this.usageTable, Key: { id }, UpdateExpression: 'REMOVE claimedAt',
        ConditionExpression: 'claimedAt = :at', ExpressionAttributeValues: { ':at': claimedAt },
      }));
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException')) throw e;
    }
  }
}

/** Markers in this process's memory: `tessera serve` with one event loop (its counters are in memory too). Expired markers are dropped on the next claim. */
export class MemoryAlertMarkers implements AlertMarkers {
  private readonly claimed = new Map<string, number>();

  async claim(_tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claimed) if (until <= now) this.claimed.delete(k);
    if (this.claimed.has(id)) return false;
    this.claimed.set(id, expiresAt.getTime());
    return true;
  }

  async release(_tenantId: string, id: string): Promise<void> {
    this.claimed.delete(id);
  }
}

/**
 * Markers as files `<dir>/<id>` created with `O_CREAT | O_EXCL` (`wx`): the file system creates a
 * name once, so claims are exact across the worker threads of `tessera serve --workers N` (and
 * across processes sharing the directory). Names are the marker id made file-safe
 * (encodeURIComponent; over 200 characters, `~` + its SHA-256). Markers stay until the directory is removed (serve's state directory).
 */
export class FileAlertMarkers implements AlertMarkers {
  private ready?: Promise<unknown>;

  constructor(private readonly dir: string) {}

  private file(id: string) {
    const name = encodeURIComponent(id);
    // File names stop at 255 bytes: a long one (a long subject id) by its SHA-256.
    return join(this.dir, name.length <= 200 ? name : `~${hash('sha256', id, 'hex')}`);
  }

  async claim(_tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    await (this.ready ??= mkdir(this.dir, { recursive: true }));
    try {
      const f = await open(this.file(id), 'wx');
      await f.writeFile(JSON.stringify({ claimedAt: new Date().toISOString(), expiresAt: expiresAt.toISOString() }));
      await f.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  async release(_tenantId: string, id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }
}
