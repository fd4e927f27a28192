/**
 * What the refusals of a rebuilt tenant's operations say stack `tessera-acme` keeps in us-west-2 when deleted (the failover
 * blueprint's retained resources: lib/failover-retained-resources.ts), written out by name here so the tests read the
 * real names, not the module's own output. `outputs`: the stack's KeyArn and BucketName outputs, when DescribeStacks gave them.
 */
export function keptByFailoverStack(stackFound: boolean, outputs: { keyArn?: string; bucketName?: string } = {}): string {
  const listBuckets = 'aws s3api list-buckets --prefix tessera-acme- --bucket-region us-west-2';
  return `, and what stack tessera-acme keeps when deleted${stackFound ? '' : ', if it was there'}, with the tenant's data since the failover (those of its tier; no step of the offboarding deletes it; `
    + 'aws cloudformation describe-stack-resources --stack-name tessera-acme --region us-west-2 names each while the stack stands): '
    + (outputs.bucketName
      ? `S3 bucket ${outputs.bucketName} (the tenant bucket, with the data written since the failover: export it, empty it (every object version), delete it); `
      : `S3 bucket StorageBucket… of the stack (named tessera-acme-… by CloudFormation) (the tenant bucket, with the data written since the failover: export it, empty it (every object version), delete it; ${listBuckets} finds it); `)
    + `S3 bucket StorageAccessLogsBucket… of the stack (named tessera-acme-… by CloudFormation) (the tenant bucket's access logs: empty it, delete it; ${listBuckets} finds it); `
    + 'S3 vector bucket tessera-acme-vectors (delete its vector indexes, then the bucket); '
    + 'Backup vault tessera-acme-database (delete its recovery points, then the vault); '
    + 'DB snapshot taken of DB instance tessera-acme at the stack\'s deletion (the stack deletes its empty instance only with the parameter DatabaseDeletionProtection false (update the stack so first if it is true); aws rds describe-db-snapshots --db-instance-identifier tessera-acme --snapshot-type manual --region us-west-2 finds the snapshot; delete it); '
    + 'ElastiCache snapshot taken of the stack\'s cache replication group at its deletion (aws elasticache describe-snapshots --snapshot-source user --region us-west-2 lists it; delete it); '
    + 'log group /tessera/acme/vpc-flow-logs (delete it); log group /aws/eks/tessera-acme/cluster (delete it); log group /tessera/acme/cluster-manifests (delete it); '
    + 'log group /aws/rds/instance/tessera-acme/postgresql (delete it); log group /aws/rds/instance/tessera-acme/upgrade (delete it); log group /aws/rds/instance/tessera-acme/iam-db-auth-error (delete it); '
    + 'log group /aws/vendedlogs/tessera/acme/cache/engine-log (delete it); log group /aws/vendedlogs/tessera/acme/cache/slow-log (delete it); '
    + 'SQS queue tessera-acme-dlq-training-events (delete it); '
    + (outputs.keyArn
      ? `KMS key ${outputs.keyArn} (last, once nothing above is left under it: schedule its deletion)`
      : 'KMS key alias/tessera/acme named until the stack\'s deletion (last, once nothing above is left under it: schedule its deletion (note its ARN, the stack\'s KeyArn output, before deleting the stack: the alias goes with it))');
}
