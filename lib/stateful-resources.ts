/**
 * CloudFormation resource types that hold data or identity a tenant cannot get back once the
 * resource is replaced or removed: one list, read by the change-set guard of the change and upgrade
 * workflows (lambdas/lifecycle/change-set-guard.ts), docs/resilience.md and the tests.
 *
 * Replacing any of these makes a new, empty resource (a new database, bucket, key — data encrypted
 * under the old key is unreadable once it is gone —, cache, vault with no recovery points, cluster
 * with no workloads, table, Kubernetes namespace without its volumes) and deletes or orphans the old one. Every type here appears in the tier
 * blueprints (constructs/tenant-*.ts, kubernetes-cluster.ts) or may appear in a later version of
 * them (DBCluster, CacheCluster, ServerlessCache, ReplicaKey, LogicallyAirGappedBackupVault, FileSystem, Secret: the database's credentials —
 * a new secret no longer opens the old database; S3 Vectors indexes), or in an account customization's stacks, which the
 * same guard updates (a user pool, a repository, other data stores: each with its reason below). Not queues: the blueprints' dead-letter queues
 * are retained when replaced or removed (UpdateReplacePolicy and DeletionPolicy Retain), keep their
 * `tessera-<tenant>-dlq-` name prefix, which `tessera dlq list|redrive --prefix` finds, and the
 * offboarding inventories them; refusing their removal would refuse every move to a tier without DR.
 */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  // The tenant's vector bucket (constructs/tenant-vector-bucket.ts): replacing it drops every vector store's index.
  'AWS::S3Vectors::VectorBucket',
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
  // An S3 Vectors index: the vectors themselves (a vector store's files, embedded); a new one is empty, and every index
  // of a replaced vector bucket goes with it.
  'AWS::S3Vectors::Index',
  // Identity: a user pool's users, their passwords and MFA cannot be exported, so a new pool makes every user sign up
  // again (and its id, in every client and token issuer, changes). The platform's pool is TesseraPlatform's, which no
  // change set of the lifecycle touches; an account customization may hold one.
  'AWS::Cognito::UserPool',
  // Container images: a replaced or removed repository loses every image pushed to it (an account customization's).
  'AWS::ECR::Repository',
  // Further data stores an account customization may hold (tiers.<tier>.accountCustomizations, updated through this
  // guard): a search domain's indices, a document or graph database cluster, a stream's records, a file system.
  'AWS::OpenSearchService::Domain',
  'AWS::DocDB::DBCluster',
  'AWS::Neptune::DBCluster',
  'AWS::Kinesis::Stream',
  'AWS::FSx::FileSystem',
  // The data stores of the same kind s37a's list missed (a warehouse, an in-memory database with its durable log, a block
  // volume, a directory or table bucket, a time-series or Cassandra table, a Kafka cluster's topics, an elastic
  // document cluster, a Git repository): each replaced empty or removed with what it held, as the ones above.
  'AWS::Redshift::Cluster',
  'AWS::RedshiftServerless::Namespace',
  'AWS::MemoryDB::Cluster',
  'AWS::EC2::Volume',
  'AWS::S3Express::DirectoryBucket',
  'AWS::S3Tables::TableBucket',
  'AWS::Timestream::Table',
  'AWS::Cassandra::Table',
  'AWS::MSK::Cluster',
  'AWS::DocDBElastic::Cluster',
  'AWS::CodeCommit::Repository',
  // A namespace tier's Kubernetes objects on the shared cluster (constructs/tenant-namespace.ts: one manifest, `Objects`,
  // holding the Namespace with its quota, limits, policies and service account). Its Delete (the kubectl provider runs
  // `kubectl delete -f` on the manifest) deletes the Namespace, and Kubernetes deletes everything in it: the tenant's
  // workloads and PersistentVolumeClaims (their volumes with the default Delete reclaim policy). A Remove, or a new
  // logical id (Remove of the old one), deletes it after the new one is applied.
  'Custom::AWSCDK-EKS-KubernetesResource',
] as const;

const STATEFUL = new Set<string>(STATEFUL_RESOURCE_TYPES);

/**
 * Stateful types an Update never replaces, so a `Modify` with `Replacement: Conditional` is an in-place change: the
 * kubectl provider's Update (aws-cdk-lib aws-eks-v2 kubectl-handler apply) runs `kubectl apply` and returns no new
 * PhysicalResourceId, so the provider framework keeps the old one and CloudFormation never deletes the old resource
 * (a custom resource is replaced only when its handler answers an Update with a new physical id). A quota change is such
 * an update. `Replacement: True`, `Remove` and `Dynamic` are still destructive.
 */
const NEVER_REPLACED_BY_UPDATE = new Set<string>(['Custom::AWSCDK-EKS-KubernetesResource']);

/** Whether `type` (a CloudFormation resource type such as `AWS::RDS::DBInstance`) is in STATEFUL_RESOURCE_TYPES. */
export const isStatefulType = (type: string | undefined): boolean => type !== undefined && STATEFUL.has(type);

/** Whether a `Modify` with `Replacement: Conditional` of `type` may replace it (every stateful type but NEVER_REPLACED_BY_UPDATE). */
export const mayReplaceConditionally = (type: string | undefined): boolean => type === undefined || !NEVER_REPLACED_BY_UPDATE.has(type);
