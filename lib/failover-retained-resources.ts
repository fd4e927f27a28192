import { clusterManifestsLogGroupName, databaseInstanceIdentifier, dedicatedClusterName, tenantLogGroupPrefix, tenantVectorBucketName, tenantVendedLogGroupPrefix } from './tenant-naming.js';

/**
 * One resource the failover blueprint (lib/tenant-failover-stack.ts, deployed by the runbook as stack `tessera-<id>` in the
 * tenant's DR region) keeps when that stack is deleted: DeletionPolicy `RetainExceptOnCreate` (the tenant construct's
 * RemovalPolicy.RETAIN) or `Snapshot` (the database instance and the cache replication group, whose final snapshot
 * CloudFormation takes). It holds the tenant's data written since the failover (or what protects it: the key).
 */
export interface FailoverRetainedResource {
  /** What it is, in AWS's terms: `KMS key`, `S3 bucket`, `S3 vector bucket`, `log group`, `Backup vault`, `SQS queue`, `DB snapshot`, `ElastiCache snapshot`. */
  readonly kind: string;
  /**
   * Its name: fixed by the naming modules (lib/tenant-naming.ts, the constructs' names), or, for what CloudFormation names
   * (the buckets, the key, the final snapshots), the stack's output when given, else how to find it in words.
   */
  readonly name: string;
  /** How to delete it, or what to do first (empty it, lift a protection), in words. */
  readonly how: string;
}

/** Outputs of stack `tessera-<id>` (DescribeStacks, already read by the check) that name what CloudFormation named. */
export interface FailoverStackOutputs {
  /** `KeyArn`: the tenant key of the DR region. @default - not known (the stack gone, or no output) */
  readonly keyArn?: string;
  /** `BucketName`: the tenant bucket of the DR region. @default - not known */
  readonly bucketName?: string;
}

/** The tenant database's log types the blueprint exports, each a retained log group (constructs/tenant-database.ts PG_LOG_TYPES). */
export const FAILOVER_DATABASE_LOG_TYPES = ['postgresql', 'upgrade', 'iam-db-auth-error'] as const;
/** The cache's log types (constructs/tenant-cache.ts), each a retained log group under the vended-logs prefix. */
export const FAILOVER_CACHE_LOG_TYPES = ['engine-log', 'slow-log'] as const;

/**
 * Everything the failover blueprint keeps when stack `tessera-<id>` is deleted in `region` (those of its tier: a tier
 * without a cache, a dedicated cluster or training has no such log group or queue), by its real name, with the way to
 * delete it. CloudFormation names the two buckets (from the stack's name and their logical ids, lowercased, with a random
 * suffix, cut to S3's 63 characters), the key (its alias `alias/tessera/<id>` goes with the stack) and the final snapshots:
 * `outputs` names the tenant bucket and the key when the stack is still there; otherwise the way to find them is given
 * (while the stack stands, `aws cloudformation describe-stack-resources` names them all).
 * The names' sources: lib/tenant-naming.ts, lib/tenant-stack.ts (`/tessera/<id>/vpc-flow-logs`, vault `tessera-<id>-database`),
 * constructs/training-events-forwarder.ts (queue `tessera-<id>-dlq-training-events`); test/infra/tenant-failover.test.ts
 * checks the list against the synthesized failover template's retained resources.
 */
export function failoverRetainedResources(tenantId: string, region: string, outputs: FailoverStackOutputs = {}): FailoverRetainedResource[] {
  const instance = databaseInstanceIdentifier(tenantId);
  const listBuckets = `aws s3api list-buckets --prefix tessera-${tenantId}- --bucket-region ${region}`;
  const logs = [
    `${tenantLogGroupPrefix(tenantId)}/vpc-flow-logs`,
    `/aws/eks/${dedicatedClusterName(tenantId)}/cluster`,
    clusterManifestsLogGroupName(tenantId),
    ...FAILOVER_DATABASE_LOG_TYPES.map((t) => `/aws/rds/instance/${instance}/${t}`),
    ...FAILOVER_CACHE_LOG_TYPES.map((t) => `${tenantVendedLogGroupPrefix(tenantId)}/cache/${t}`),
  ];
  return [
    { kind: 'S3 bucket', name: outputs.bucketName ?? `StorageBucket… of the stack (named tessera-${tenantId}-… by CloudFormation)`, how: `the tenant bucket, with the data written since the failover: export it, empty it (every object version), delete it${outputs.bucketName ? '' : `; ${listBuckets} finds it`}` },
    { kind: 'S3 bucket', name: `StorageAccessLogsBucket… of the stack (named tessera-${tenantId}-… by CloudFormation)`, how: `the tenant bucket's access logs: empty it, delete it; ${listBuckets} finds it` },
    { kind: 'S3 vector bucket', name: tenantVectorBucketName(tenantId), how: 'delete its vector indexes, then the bucket' },
    { kind: 'Backup vault', name: `tessera-${tenantId}-database`, how: 'delete its recovery points, then the vault' },
    { kind: 'DB snapshot', name: `taken of DB instance ${instance} at the stack's deletion`, how: `the stack deletes its empty instance only with the parameter DatabaseDeletionProtection false (update the stack so first if it is true); aws rds describe-db-snapshots --db-instance-identifier ${instance} --snapshot-type manual --region ${region} finds the snapshot; delete it` },
    { kind: 'ElastiCache snapshot', name: 'taken of the stack\'s cache replication group at its deletion', how: `aws elasticache describe-snapshots --snapshot-source user --region ${region} lists it; delete it` },
    ...logs.map((name) => ({ kind: 'log group', name, how: 'delete it' })),
    { kind: 'SQS queue', name: `tessera-${tenantId}-dlq-training-events`, how: 'delete it' },
    { kind: 'KMS key', name: outputs.keyArn ?? `alias/tessera/${tenantId} named until the stack's deletion`, how: `last, once nothing above is left under it: schedule its deletion${outputs.keyArn ? '' : ' (note its ARN, the stack\'s KeyArn output, before deleting the stack: the alias goes with it)'}` },
  ];
}

/** The resources in words, `; `-separated: `S3 vector bucket tessera-acme-vectors (delete its vector indexes, then the bucket); …`. */
export function failoverRetainedText(resources: readonly FailoverRetainedResource[]): string {
  return resources.map((r) => `${r.kind} ${r.name} (${r.how})`).join('; ');
}
