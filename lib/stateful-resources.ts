/**
 * CloudFormation resource types that hold data or identity a tenant cannot get back once the
 * resource is replaced or removed: one list, read by the change-set guard of the change and upgrade
 * workflows (lambdas/lifecycle/change-set-guard.ts), the README and the tests.
 *
 * Replacing any of these makes a new, empty resource (a new database, bucket, key — data encrypted
 * under the old key is unreadable once it is gone —, cache, vault with no recovery points, cluster
 * with no workloads, table) and deletes or orphans the old one. Every type here appears in the tier
 * blueprints (constructs/tenant-*.ts, kubernetes-cluster.ts) or may appear in a later version of
 * them (DBCluster, CacheCluster, ServerlessCache, ReplicaKey, LogicallyAirGappedBackupVault, FileSystem, Secret: the database's credentials —
 * a new secret no longer opens the old database). Not queues: the blueprints' dead-letter queues
 * are retained when replaced or removed (UpdateReplacePolicy and DeletionPolicy Retain), keep their
 * `tessera-<tenant>-dlq-` name prefix, which `tessera dlq list|redrive --prefix` finds, and the
 * offboarding inventories them; refusing their removal would refuse every move to a tier without DR.
 */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  // A multi-Region key's replica: the key of whatever was encrypted in its region (the alternative to a DR key of the tenant).
  'AWS::KMS::ReplicaKey',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ServerlessCache',
  'AWS::Backup::BackupVault',
  // A vault too: deleting or replacing it loses its recovery points like a standard vault's.
  'AWS::Backup::LogicallyAirGappedBackupVault',
  'AWS::EKS::Cluster',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::EFS::FileSystem',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
] as const;

const STATEFUL = new Set<string>(STATEFUL_RESOURCE_TYPES);

/** Whether `type` (a CloudFormation resource type such as `AWS::RDS::DBInstance`) is in STATEFUL_RESOURCE_TYPES. */
export const isStatefulType = (type: string | undefined): boolean => type !== undefined && STATEFUL.has(type);
