import { BackupClient, DescribeBackupVaultCommand, paginateListRecoveryPointsByBackupVault } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@smithy/types';
import { pages } from '../../lib/aws-pages.js';
import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { DLQ_RETENTION_DAYS } from '../../lib/dead-letters.js';
import { drBucketName } from '../../lib/tenant-naming.js';
import type { RetainedStore, TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, numberEnv, partition, requireEnv, tierConfig } from '../shared/environment.js';
import { RETRYABLE_ERRORS } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { cloudFormationFor, stackName } from './blueprints.js';
import { stackResources } from './offboarding-support.js';
import { checkDrStores } from './dr-stores.js';
import type { LifecycleState } from './state.js';

/*
 * What offboarding keeps under the tenant key, and for how long — the decisions:
 *
 * 1. Log groups the blueprint created (flow logs, EKS control plane, cache engine/slow logs) are
 *    retained by the stack. Their events stay readable until the last one expires: retention days
 *    after the stack deletion (the last event was written before it). Encrypted with the tenant
 *    key, they HOLD THE KEY until then (`expires`). A log group without retention holds it until an
 *    operator decides (`review`).
 * 2. AWS Backup recovery points in the tenant's vault are deleted by AWS Backup at their DeleteAt
 *    (the plan's lifecycle). Under the tenant key, each HOLDS THE KEY until its DeleteAt; one
 *    without DeleteAt holds it until an operator decides. The vault itself holds no data of its own.
 * 3. The final DB snapshot CloudFormation takes (DeletionPolicy Snapshot) is under the tenant key;
 *    the archived copy offboarding made first (*Snapshot database*, under the archive key, shared
 *    with the platform account) is the record of the data, so the tenant-key snapshots are
 *    `archived` and do NOT hold the key: they become unreadable with it.
 * 4. The final cache snapshot is of derived data (a cache): `transient`, does not hold the key.
 * 5. The tenant bucket was exported to the archive (*Export tenant data*): `archived`, does not hold
 *    the key. Retained buckets not under the tenant key (the access-log bucket, SSE-S3) are kept
 *    for review and do not hold it; any other retained bucket under the tenant key holds it.
 * 6. VPC mode: *Schedule key deletion* schedules the key only once the last store that holds it
 *    has expired (queued in the control table until then; the daily job schedules it when due).
 *    Account mode: the key goes with the account closure (nothing scheduled separately).
 *    The key's own entry says which, as that step will do it (keyDeletionPlanOf): `scheduled` (at
 *    once, KMS deleting it after the pending window), `queued` (scheduled by the daily job once the
 *    last store expires), `with-account`, or `review` while a store without expiry holds it.
 * 7. A store that cannot be read is recorded for review and holds the key: the inventory never
 *    under-reports what the key still protects.
 *
 * 8. A tenant with a DR stack (`disasterRecovery`): its DR bucket, vault with recovery points, and
 *    DR key, retained in the DR region, are inventoried too (drStores), each with its `drRegion`;
 *    they are under the DR key, a key of its own (not a multi-Region replica of the tenant key),
 *    and the same rule decides the DR key's fate on them (keyDeletionPlanOf(..., 'dr')): their
 *    `holdsKey` is about the DR key. The DR bucket, a replica of the exported tenant bucket, is
 *    `archived` and does not hold it (as the tenant bucket, the tenant key); one the primary stopped
 *    replicating into is `review` and holds it; the DR recovery points hold it until their DeleteAt.
 *    The DR key was left `review` whatever held it, and nothing ever scheduled its deletion.
 *
 * The inventory lands in the registry (`offboarding.retainedStores`) and beside the export's
 * manifest in the archive (`<prefix>retained-stores.json`).
 */

const DAY_MS = 24 * 3600 * 1000;

/** `arn:…:key/<id>`, `<id>` and alias-free ARNs of one key compare equal. */
export function sameKey(a: string | undefined, b: string | undefined): boolean {
  const id = (k?: string) => k?.split('key/').at(-1);
  return Boolean(a && b && id(a) === id(b));
}

/** A log group's store: readable until `retentionInDays` after `now` (undefined retention: never expires). */
export function logGroupStore(name: string, retentionInDays: number | undefined, kmsKeyId: string | undefined, tenantKey: string | undefined, now: Date): RetainedStore {
  const underKey = sameKey(kmsKeyId, tenantKey);
  return retentionInDays
    ? { store: 'log-group', id: name, keyArn: kmsKeyId, keptUntil: new Date(now.getTime() + retentionInDays * DAY_MS).toISOString(), disposition: 'expires', holdsKey: underKey, note: `events expire ${retentionInDays} days after they were written` }
    : { store: 'log-group', id: name, keyArn: kmsKeyId, disposition: 'review', holdsKey: underKey, note: 'no retention set: kept until an operator deletes it' };
}

/** Which key a plan is about: the tenant key (stores of the home region) or the tenant's DR key (stores with `drRegion`). */
export type WhichKey = 'tenant' | 'dr';

/**
 * The last moment the tenant key (or, `dr`, the DR key) must stay readable: the latest `keptUntil` of the stores that
 * hold it. `held` when one of them has no expiry (the key waits for an operator).
 */
export function keyNeededUntil(stores: readonly RetainedStore[], key: WhichKey = 'tenant'): { until?: string; held: boolean; holders: string[] } {
  const holders = stores.filter((s) => s.holdsKey && (key === 'dr') === Boolean(s.drRegion));
  const held = holders.some((s) => !s.keptUntil);
  const until = holders.map((s) => s.keptUntil).filter((d): d is string => Boolean(d)).sort().at(-1);
  return { until, held, holders: holders.map((s) => `${s.store} ${s.id}`) };
}

/**
 * What *Schedule key deletion* does with the tenant key after this inventory (decision 6; schedule-key-deletion.ts
 * keyDeletionPlan): account mode `with-account`; a store under the key without expiry `held`; the last store under it
 * expiring after `now` `queue` (until `dueAt`); else `now`.
 */
export function keyDeletionPlanOf(isolation: TenantRecord['isolation'], stores: readonly RetainedStore[], now = new Date(), key: WhichKey = 'tenant'): { action: 'with-account' | 'held' | 'queue' | 'now'; dueAt?: string; holders: string[] } {
  const need = keyNeededUntil(stores, key);
  if (isolation === 'account') return { action: 'with-account', holders: need.holders };
  if (need.held) return { action: 'held', holders: need.holders };
  if (need.until && Date.parse(need.until) > now.getTime()) return { action: 'queue', dueAt: need.until, holders: need.holders };
  return { action: 'now', holders: need.holders };
}

/**
 * The tenant key's own entry, saying what becomes of the key as *Schedule key deletion* will do it (keyDeletionPlanOf),
 * with the pending window it schedules with (ScheduleKeyDeletion PendingWindowInDays, TESSERA_KEY_DELETION_WINDOW_DAYS):
 * `scheduled` and `queued` with `keptUntil` the day KMS deletes it (at the earliest for a queued one: the daily job
 * schedules it once due), `with-account`, `review` only while held. It said `review` whatever the step then did.
 * offboarding.keyDeletion records what the step did (the deletion date KMS answered).
 */
export function tenantKeyEntry(entry: RetainedStore, isolation: TenantRecord['isolation'], stores: readonly RetainedStore[], now = new Date(), windowDays = numberEnv(ENV.keyDeletionWindowDays, 30)): RetainedStore {
  return keyEntryOf('tenant', entry, isolation, stores, now, windowDays);
}

/**
 * The DR key's own entry (a store of the DR stack, `drRegion`), by the same rule on the DR stores under it: `scheduled`
 * (nothing under it must stay readable), `queued` until the last DR recovery point expires, `with-account`, `review`
 * while a DR store under it has no expiry (naming them). It said `review` (not scheduled) in every case, and nothing
 * scheduled it: a key billed monthly for good, still decrypting the tenant's replicated data.
 */
export function drKeyEntry(entry: RetainedStore, isolation: TenantRecord['isolation'], stores: readonly RetainedStore[], now = new Date(), windowDays = numberEnv(ENV.keyDeletionWindowDays, 30)): RetainedStore {
  return keyEntryOf('dr', entry, isolation, stores, now, windowDays);
}

function keyEntryOf(key: WhichKey, entry: RetainedStore, isolation: TenantRecord['isolation'], stores: readonly RetainedStore[], now: Date, windowDays: number): RetainedStore {
  const plan = keyDeletionPlanOf(isolation, stores, now, key);
  const after = (from: number) => new Date(from + windowDays * DAY_MS).toISOString();
  const window = `ScheduleKeyDeletion with a ${windowDays}-day pending window (aws kms cancel-key-deletion until it ends)`;
  const [name, record] = key === 'dr'
    ? [`DR region ${entry.drRegion}: the tenant's DR key (a key of its own, not a multi-Region replica)`, 'offboarding.drKeyDeletion']
    : ['the tenant key', 'offboarding.keyDeletion'];
  const { keptUntil: _, ...rest } = entry;
  switch (plan.action) {
    case 'now': return { ...rest, keptUntil: after(now.getTime()), disposition: 'scheduled', note: `${name}: nothing under it must stay readable, so *Schedule key deletion* schedules its deletion now, ${window}: KMS deletes it at keptUntil; see ${record}` };
    case 'queue': return { ...rest, keptUntil: after(Date.parse(plan.dueAt!)), disposition: 'queued', note: `${name}: queued until ${plan.dueAt}, when the last store under it expires; the platform's daily job then schedules its deletion, ${window}: KMS deletes it at keptUntil at the earliest; see ${record}` };
    case 'with-account': return { ...rest, disposition: 'with-account', note: `${name}: goes with the account's closure (account mode: nothing scheduled separately); see ${record}` };
    default: {
      const held = stores.filter((s) => s.holdsKey && !s.keptUntil && (key === 'dr') === Boolean(s.drRegion)).map((s) => `${s.store} ${s.id}`);
      return { ...rest, disposition: 'review', note: `${name}: held by ${held.length} store(s) under it without expiry (${held.join(', ')}): nothing schedules its deletion until an operator decides on them; see ${record}` };
    }
  }
}

interface Clients {
  logs: CloudWatchLogsClient;
  backup: BackupClient;
  rds: RDSClient;
  elasticache: ElastiCacheClient;
  s3: S3Client;
}

async function logGroup(c: Clients, name: string, tenantKey: string | undefined, now: Date): Promise<RetainedStore[]> {
  const out = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const group = out.logGroups?.find((g) => g.logGroupName === name);
  return group ? [logGroupStore(name, group.retentionInDays, group.kmsKeyId, tenantKey, now)] : [];
}

async function backupVault(c: Clients, vault: string, tenantKey: string | undefined): Promise<RetainedStore[]> {
  const stores: RetainedStore[] = [];
  const described = await c.backup.send(new DescribeBackupVaultCommand({ BackupVaultName: vault }));
  for await (const page of paginateListRecoveryPointsByBackupVault(pages(c.backup), { BackupVaultName: vault })) {
    for (const rp of page.RecoveryPoints ?? []) {
      if (rp.Status === 'DELETING') continue;
      const deleteAt = rp.CalculatedLifecycle?.DeleteAt?.toISOString();
      const keyArn = rp.EncryptionKeyArn ?? described.EncryptionKeyArn;
      // EXPIRED: past its retention, AWS Backup could not delete it (the role that made it deleted or changed: Backup
      // deletion, AWS Backup developer guide) and never will. Nothing needs it readable, but it stays billed under the
      // key and keeps AWS Backup from deleting the vault: listed for an operator (it was left out of the inventory).
      if (rp.Status === 'EXPIRED') {
        stores.push({ store: 'backup-recovery-point', id: rp.RecoveryPointArn!, keyArn, ...(deleteAt ? { keptUntil: deleteAt } : {}), disposition: 'review', holdsKey: false, note: `EXPIRED: AWS Backup could not delete it at its DeleteAt and will not; it keeps the vault ${vault} from being deleted: aws backup delete-recovery-point --backup-vault-name ${vault} --recovery-point-arn <id>` });
        continue;
      }
      stores.push(deleteAt
        ? { store: 'backup-recovery-point', id: rp.RecoveryPointArn!, keyArn, keptUntil: deleteAt, disposition: 'expires', holdsKey: sameKey(keyArn, tenantKey), note: `AWS Backup deletes it at ${deleteAt}` }
        : { store: 'backup-recovery-point', id: rp.RecoveryPointArn!, keyArn, disposition: 'review', holdsKey: sameKey(keyArn, tenantKey), note: 'no DeleteAt: kept until an operator deletes it' });
    }
  }
  const last = stores.filter((s) => s.disposition === 'expires').map((s) => s.keptUntil).filter((d): d is string => Boolean(d)).sort().at(-1);
  stores.push({ store: 'backup-vault', id: vault, keyArn: described.EncryptionKeyArn, keptUntil: last, disposition: 'expires', holdsKey: false, note: 'holds nothing of its own; empty once its recovery points expire, then deletable' });
  return stores;
}

async function dbSnapshots(c: Clients, instance: string, tenantKey: string | undefined): Promise<RetainedStore[]> {
  const archiveKey = requireEnv(ENV.archiveKeyArn);
  const out = await c.rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: 'manual' }));
  const snapshots = out.DBSnapshots ?? [];
  const archived = snapshots.find((s) => sameKey(s.KmsKeyId, archiveKey));
  return snapshots.map((s): RetainedStore => sameKey(s.KmsKeyId, archiveKey)
    ? { store: 'db-snapshot', id: s.DBSnapshotIdentifier!, keyArn: s.KmsKeyId, disposition: 'archived', holdsKey: false, note: 'the archived copy: under the archive key, shared with the platform account' }
    : archived
      ? { store: 'db-snapshot', id: s.DBSnapshotIdentifier!, keyArn: s.KmsKeyId, disposition: 'archived', holdsKey: false, note: `unreadable once the tenant key is deleted; the archived copy ${archived.DBSnapshotIdentifier} stays` }
      : { store: 'db-snapshot', id: s.DBSnapshotIdentifier!, keyArn: s.KmsKeyId, disposition: 'review', holdsKey: sameKey(s.KmsKeyId, tenantKey), note: 'no archived copy found: kept readable until an operator decides' });
}

async function cacheSnapshots(c: Clients, replicationGroup: string): Promise<RetainedStore[]> {
  const out = await c.elasticache.send(new DescribeSnapshotsCommand({ ReplicationGroupId: replicationGroup }));
  return (out.Snapshots ?? []).map((s) => ({
    store: 'cache-snapshot', id: s.SnapshotName!, keyArn: s.KmsKeyId, disposition: 'transient', holdsKey: false,
    note: 'cache contents are derived data; unreadable once the tenant key is deleted',
  }));
}

async function bucket(c: Clients, name: string, tenantBucket: string | undefined, tenantKey: string | undefined, archivePrefix: string | undefined): Promise<RetainedStore[]> {
  let keyArn: string | undefined;
  let encryption: string | undefined;
  try {
    const out = await c.s3.send(new GetBucketEncryptionCommand({ Bucket: name }));
    const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    keyArn = rule?.KMSMasterKeyID;
    if (!keyArn && rule?.SSEAlgorithm === 'AES256') encryption = 'SSE-S3';
  } catch (e) {
    logger.warn('bucket encryption not readable', { bucket: name, error: e as Error });
    if (name !== tenantBucket) keyArn = tenantKey; // unknown: assume the worst, it holds the key
  }
  if (name === tenantBucket) {
    return [{ store: 'bucket', id: name, keyArn: keyArn ?? tenantKey, disposition: 'archived', holdsKey: false, note: `exported to the archive${archivePrefix ? ` under ${archivePrefix}s3/` : ''}; unreadable once the tenant key is deleted` }];
  }
  const underKey = sameKey(keyArn, tenantKey);
  return [{ store: 'bucket', id: name, keyArn, ...(encryption ? { encryption } : {}), disposition: 'review', holdsKey: underKey, note: underKey ? 'retained under the tenant key and not exported: holds the key until an operator decides' : 'not under the tenant key (e.g. server access logs, SSE-S3): kept for review' }];
}

/** The stores one stack resource leaves (retained ones: `DELETE_SKIPPED`; snapshots of deleted DB instances and caches). */
async function storesOf(c: Clients, r: StackResourceSummary, ctx: { tenantKey?: string; tenantBucket?: string; archivePrefix?: string; now: Date }): Promise<RetainedStore[]> {
  const id = r.PhysicalResourceId;
  if (!id) return [];
  const retained = r.ResourceStatus === 'DELETE_SKIPPED';
  switch (r.ResourceType) {
    case 'AWS::Logs::LogGroup': return retained ? logGroup(c, id, ctx.tenantKey, ctx.now) : [];
    case 'AWS::Backup::BackupVault': return retained ? backupVault(c, id, ctx.tenantKey) : [];
    case 'AWS::S3::Bucket': return retained ? bucket(c, id, ctx.tenantBucket, ctx.tenantKey, ctx.archivePrefix) : [];
    case 'AWS::KMS::Key': return retained ? [{ store: 'key', id, keyArn: ctx.tenantKey ?? id, disposition: 'review', holdsKey: false, note: 'the tenant key; see offboarding.keyDeletion' }] : [];
    // A blueprint's dead-letter queue (retained): what failed waits there until redriven or expired.
    case 'AWS::SQS::Queue': return retained ? [{
      store: 'queue', id, keyArn: ctx.tenantKey, keptUntil: new Date(ctx.now.getTime() + DLQ_RETENTION_DAYS * DAY_MS).toISOString(), disposition: 'expires', holdsKey: true,
      note: `a dead-letter queue: its messages (what failed, for tessera dlq list|redrive) expire ${DLQ_RETENTION_DAYS} days after they arrived and may be under the tenant key; the empty queue stays until an operator deletes it`,
    }] : [];
    case 'AWS::RDS::DBInstance': return dbSnapshots(c, id, ctx.tenantKey);
    case 'AWS::ElastiCache::ReplicationGroup': return cacheSnapshots(c, id);
    default: return [];
  }
}

const STORE_OF_TYPE: Record<string, RetainedStore['store']> = {
  'AWS::Logs::LogGroup': 'log-group', 'AWS::Backup::BackupVault': 'backup-vault', 'AWS::S3::Bucket': 'bucket', 'AWS::KMS::Key': 'key',
  'AWS::RDS::DBInstance': 'db-snapshot', 'AWS::ElastiCache::ReplicationGroup': 'cache-snapshot', 'AWS::SQS::Queue': 'queue',
};

/**
 * The emptied containers an earlier run of the offboarding removed (`removedAt`: *Schedule key deletion* removes them
 * with a key it schedules at once), by store, region and id: a resumed offboarding's inventory keeps their entries rather
 * than reading them again. Read again, a vault answered ResourceNotFoundException, was recorded `review` holding the
 * key ("could not be read"), and *Schedule key deletion* then recorded the key HELD while KMS had it pending deletion.
 */
function removedEarlier(record: TenantRecord): (r: StackResourceSummary, drRegion?: string) => RetainedStore | undefined {
  const removed = new Map((record.offboarding?.retainedStores ?? []).filter((s) => s.removedAt).map((s) => [`${s.store}#${s.drRegion ?? ''}#${s.id}`, s]));
  return (r, drRegion) => removed.get(`${STORE_OF_TYPE[r.ResourceType ?? '']}#${drRegion ?? ''}#${r.PhysicalResourceId}`);
}

/**
 * A store that cannot be read is not left out (that would let the key go while it may still be
 * needed): it is recorded for review and holds the key. Throttling goes to the state machine's retry.
 */
async function readable(r: StackResourceSummary, read: () => Promise<RetainedStore[]>): Promise<RetainedStore[]> {
  try {
    return await read();
  } catch (e) {
    if ((RETRYABLE_ERRORS as readonly string[]).includes((e as Error).name)) throw e;
    logger.warn('retained store not readable; it holds the tenant key for review', { logicalId: r.LogicalResourceId, error: e as Error });
    return [{
      store: STORE_OF_TYPE[r.ResourceType ?? ''] ?? 'bucket', id: r.PhysicalResourceId ?? r.LogicalResourceId!, disposition: 'review', holdsKey: true,
      note: `could not be read (${(e as Error).name}: ${(e as Error).message}); holds the key until an operator checks it`,
    }];
  }
}

function clients(credentials: AwsCredentialIdentity, region?: string): Clients {
  const o = { region };
  return {
    logs: clientWith(CloudWatchLogsClient, credentials, o), backup: clientWith(BackupClient, credentials, o), rds: clientWith(RDSClient, credentials, o),
    elasticache: clientWith(ElastiCacheClient, credentials, o), s3: clientWith(S3Client, credentials, o),
  };
}

/**
 * Since when the tenant's primary no longer replicates into its DR bucket, as the inventory note
 * says it after "not a replica of the tenant bucket since ", or undefined while it still does. The
 * record's `replicationStoppedAt` when set; else, when the tenant's tier has no DR (or is no longer
 * in the config: the inventory cannot tell, and review is the safe side), the tenant left its DR
 * tier at a time the record does not say: a DR stack RETAINED by the code before
 * replicationStoppedAt was recorded, whose bucket was read as an archived replica.
 */
function replicationStopped(record: TenantRecord): string | undefined {
  const at = record.disasterRecovery?.replicationStoppedAt;
  if (at) return `${at} (the tenant moved to a tier without DR, and the primary stopped replicating into it)`;
  let tierHasDr: boolean | undefined;
  try {
    tierHasDr = drRegionOf(tierConfig(record.tier)) !== undefined;
  } catch (e) {
    logger.warn('the tenant\'s tier is not in the config: its DR bucket is inventoried for review', { tier: record.tier, error: e as Error });
  }
  if (tierHasDr) return undefined;
  return `the tenant moved to tier ${record.tier}, which ${tierHasDr === false ? 'has no DR' : 'is not in the config'} (when is not recorded: the move was recorded before replicationStoppedAt existed), and the primary stopped replicating into it`;
}

/**
 * The stores the tenant's DR stack retained in its DR region (8.), each with `drRegion`, `holdsKey` about the DR key:
 * - the DR bucket: a replica of the tenant bucket, which the export archived: `archived`, unreadable once the DR key is
 *   deleted, as the tenant bucket once the tenant key is (it does not hold the DR key); `review` when the tenant left its
 *   DR tier at some time (`replicationStoppedAt`), since when it holds what was deleted at home: it holds the DR key;
 * - the DR vault and its recovery points: each recovery point under the DR key holds it until its DeleteAt;
 * - another retained bucket (the DR bucket's access logs, SSE-S3): for review, holding the DR key only if under it;
 * - a store that cannot be read: for review, holding the DR key;
 * - the DR key itself (its entry is written by the handler, drKeyEntry). Its ARN is built from the stack's physical id
 *   (the key id) in the DR region, so its recovery points, bucket and entry compare with it.
 * None holds the tenant key. Each note names the region.
 */
async function drStores(record: TenantRecord, credentials: AwsCredentialIdentity, now: Date): Promise<RetainedStore[]> {
  const dr = record.disasterRecovery!;
  const cfn = await cloudFormationFor(record, 'dr', 'inventory', dr.region);
  let resources: StackResourceSummary[] = [];
  try {
    resources = await stackResources(cfn, dr.stackId ?? dr.stackName);
  } catch (e) {
    if (!/does not exist/.test((e as Error).message)) throw e;
    logger.warn('DR stack resources not listable: its stores looked up by name', { stack: dr.stackId ?? dr.stackName, region: dr.region });
    return drStoresByName(record, dr);
  }
  const c = clients(credentials, dr.region);
  const stores: RetainedStore[] = [];
  const keyId = resources.find((r) => r.ResourceType === 'AWS::KMS::Key')?.PhysicalResourceId;
  const drKeyArn = keyId ? (keyId.startsWith('arn:') ? keyId : `arn:${partition(dr.region)}:kms:${dr.region}:${record.accountId}:key/${keyId}`) : undefined;
  const replica = drBucketName(record.tenantId, record.accountId!, dr.region);
  // A DR bucket the primary stopped replicating into (the tenant left its DR tier) holds what was deleted at home since.
  const stopped = replicationStopped(record);
  const bucketNote = stopped
    ? `not a replica of the tenant bucket since ${stopped}: objects deleted from the tenant bucket since stay current here, and the export, which reads the tenant bucket, does not have them; under the DR key, which it holds until an operator decides`
    : 'replica of the tenant bucket (exported to the archive), under the DR key; unreadable once the DR key is deleted';
  const otherBucketNote = (underKey: boolean) => underKey
    ? 'retained under the DR key and not exported: holds the DR key until an operator decides'
    : 'not under the DR key (e.g. the DR bucket\'s server access logs, SSE-S3): kept for review';
  const earlier = removedEarlier(record);
  for (const r of resources) {
    const removed = earlier(r, dr.region);
    if (removed) {
      stores.push(removed);
      continue;
    }
    const found = await readable(r, () => storesOf(c, r, { tenantKey: drKeyArn, now }));
    stores.push(...found.map((s): RetainedStore => {
      const base = { ...s, drRegion: dr.region };
      const inRegion = (note: string) => `DR region ${dr.region}: ${note}`;
      if (s.store === 'bucket' && s.id === replica) return { ...base, keyArn: s.keyArn ?? drKeyArn, disposition: stopped ? 'review' : 'archived', holdsKey: Boolean(stopped), note: inRegion(bucketNote) };
      if (s.store === 'bucket' && s.disposition === 'review' && !s.note?.startsWith('could not be read')) return { ...base, note: inRegion(otherBucketNote(s.holdsKey)) };
      if (s.store === 'key') return { ...base, keyArn: drKeyArn, holdsKey: false, disposition: 'review', note: inRegion('the tenant\'s DR key; see offboarding.drKeyDeletion') };
      return { ...base, note: inRegion(s.note ?? '') };
    }));
  }
  return stores;
}

/**
 * The DR stores when the DR stack cannot be listed (no id recorded: deleted outside Tessera, or its create failed and
 * *Record failure* removed it): its key alias, bucket and vault, fixed names, looked up (checkDrStores). Each found or
 * not checkable is listed `review`, naming the answer; the bucket and vault hold the DR key (under it, no expiry known),
 * so the DR key is held: its entry says it is not scheduled. The DR key is RETAIN but its alias is not: with the alias gone
 * and a bucket or vault there (or not checkable), the key is listed too, by its alias, to be found in KMS. All three
 * checked absent: nothing is listed, as nothing of a DR stack holds data there (Record failure records a DR stack
 * REMOVED only then). Before, one `review` entry said to check a retained bucket, vault and key in every case, also for
 * a DR stack whose create failed and left nothing.
 */
async function drStoresByName(record: TenantRecord, dr: NonNullable<TenantRecord['disasterRecovery']>): Promise<RetainedStore[]> {
  const checks = await checkDrStores(record.tenantId, record.accountId!, dr.region, 'inventory');
  const type = { 'key alias': 'key', 'replica bucket': 'bucket', 'backup vault': 'backup-vault' } as const;
  const notScheduled = 'its deletion is not scheduled (the key is known only by its alias): find it in KMS of the DR region and decide, once the DR stores are decided';
  const stores: RetainedStore[] = checks.filter((c) => c.state !== 'absent').map((c) => ({
    store: type[c.store], id: c.name, disposition: 'review' as const, holdsKey: type[c.store] !== 'key', drRegion: dr.region,
    note: `DR region ${dr.region}: DR stack ${dr.stackName} could not be listed; its DR ${c.store} ${c.state === 'present' ? `is there${c.detail ? ` (${c.detail})` : ''}` : `was not checked (${c.detail}): it may remain`}, for review${type[c.store] === 'key' ? `; ${notScheduled}` : ''}`,
  }));
  const alias = checks.find((c) => c.store === 'key alias')!;
  if (alias.state === 'absent' && stores.length) {
    stores.push({ store: 'key', id: alias.name, disposition: 'review', holdsKey: false, drRegion: dr.region,
      note: `DR region ${dr.region}: DR stack ${dr.stackName} could not be listed; its alias ${alias.name} is gone (it goes with the stack) but the DR key is RETAIN and encrypts the DR stores above: find it in KMS of ${dr.region}, for review; its deletion is not scheduled` });
  }
  return stores;
}

/**
 * After the stacks are deleted: inventories every store that remains under (or beside) the
 * tenant key — see the decisions above — as `{store, id, keyArn, keptUntil, disposition, holdsKey}`,
 * records them in the registry (`offboarding.retainedStores`) and writes
 * `<export prefix>retained-stores.json` into the archive.
 */
export const handler = lifecycleHandler('Inventory retained stores', async (state: LifecycleState & { export?: { prefix?: string } }) => {
  const record = await requireTenant(state.request.tenantId);
  const tenantKey = record.stackOutputs.KeyArn;
  const stores: RetainedStore[] = [];
  if (record.accountId) {
    const cfn = await cloudFormationFor(record, 'tenant', 'inventory');
    // A deleted stack is listed by its id only (kept 90 days); its name no longer resolves.
    const stack = record.offboarding?.stackId ?? stackName(record.tenantId, 'tenant');
    let resources: StackResourceSummary[] = [];
    try {
      resources = await stackResources(cfn, stack);
    } catch (e) {
      if (!/does not exist/.test((e as Error).message)) throw e;
      logger.warn('tenant stack resources not listable; inventory limited to the key', { stack });
    }
    const c = clients(await tenantAccountCredentials(record.accountId, record.tenantId, 'inventory'));
    const ctx = { tenantKey, tenantBucket: record.stackOutputs.BucketName, archivePrefix: state.export?.prefix, now: new Date() };
    const earlier = removedEarlier(record);
    for (const r of resources) {
      const removed = earlier(r);
      stores.push(...(removed ? [removed] : await readable(r, () => storesOf(c, r, ctx))));
    }
    if (tenantKey && !stores.some((s) => s.store === 'key')) stores.push({ store: 'key', id: tenantKey, keyArn: tenantKey, disposition: 'review', holdsKey: false, note: 'the tenant key; see offboarding.keyDeletion' });
    if (record.disasterRecovery) stores.push(...(await drStores(record, await tenantAccountCredentials(record.accountId, record.tenantId, 'inventory'), ctx.now)));
  }
  // The tenant key's own entry says what *Schedule key deletion*, next, does with it (it read `review` whatever that was).
  const now = new Date();
  for (const [i, s] of stores.entries()) if (s.store === 'key' && !s.drRegion && sameKey(s.keyArn, tenantKey) && sameKey(s.id, tenantKey)) stores[i] = tenantKeyEntry(s, record.isolation, stores, now);
  // The DR key's entry, by the same rule on the DR stores (a DR key known only by its alias stays `review`, not scheduled).
  for (const [i, s] of stores.entries()) if (s.store === 'key' && s.drRegion && s.keyArn && sameKey(s.id, s.keyArn)) stores[i] = drKeyEntry(s, record.isolation, stores, now);
  const need = keyNeededUntil(stores);
  const drNeed = record.disasterRecovery ? keyNeededUntil(stores, 'dr') : undefined;
  const prefix = state.export?.prefix ?? `${record.tenantId}/`;
  await platformClient(S3Client).send(new PutObjectCommand({
    Bucket: requireEnv(ENV.archiveBucket), Key: `${prefix}retained-stores.json`, ContentType: 'application/json',
    Body: JSON.stringify({ tenantId: record.tenantId, accountId: record.accountId, isolation: record.isolation, keyArn: tenantKey, keyNeededUntil: need.until, keyHeld: need.held, ...(drNeed ? { drKeyNeededUntil: drNeed.until, drKeyHeld: drNeed.held } : {}), stores, at: new Date().toISOString() }, null, 2),
  }));
  await updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, retainedStores: stores } });
  return { stores: stores.length, keyNeededUntil: need.until, keyHeld: need.held, ...(drNeed ? { drKeyNeededUntil: drNeed.until, drKeyHeld: drNeed.held } : {}) };
});
