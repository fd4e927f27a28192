import type { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { AccessLogsBucket } from './access-logs-bucket.js';
import { secureBucketProps } from './secure-bucket-props.js';
import { isolateTenantBucket, tenantBucketLifecycleRules, type TenantBucketIsolation } from './tenant-storage.js';

export interface TenantDrStorageProps extends Omit<TenantBucketIsolation, 'encryptionKeyArn' | 'serviceRoleArns'> {
  /** The bucket's name, `tessera-<id>-dr-<account>-<region>` (lib/tenant-naming.ts drBucketName): the primary's replication names it. */
  readonly bucketName: string;
  /** The tenant's DR key: replicas are written with it (SSE-KMS with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** ARN of the primary blueprint's replication role (need not exist yet): the only writer of replicas. */
  readonly replicationRoleArn: string;
  /** Key prefix of training data, expired like the primary's. */
  readonly trainingDataPrefix: string;
  /** How long training data is kept (the tier's `training.dataRetentionDays`). */
  readonly trainingDataExpiration: Duration;
}

/**
 * The tenant's DR bucket, in the DR region: the replication destination of the tenant bucket. The same
 * settings as the primary (secureBucketProps: SSE-KMS with a bucket key, TLS only, versioned, never
 * public, access-logged, RETAIN), the same lifecycle (S3 does not replicate expirations), and the same
 * bucket-policy isolation, with the replication role admitted to write replicas.
 */
export class TenantDrStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TenantDrStorageProps) {
    super(scope, id);
    this.accessLogsBucket = new AccessLogsBucket(this, 'AccessLogs', { logsOf: 'the tenant DR bucket' }).bucket;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: this.accessLogsBucket, accessLogsPrefix: 'tenant-dr-bucket/' }),
      bucketName: props.bucketName,
      lifecycleRules: tenantBucketLifecycleRules(props.trainingDataPrefix, props.trainingDataExpiration),
    });
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'This bucket is the replica: the tenant bucket in the home region replicates into it, and a second copy of the copy would only add a third region to the tenant\'s data residency.');
    isolateTenantBucket(this.bucket, {
      tenantRoleArns: props.tenantRoleArns,
      breakGlassRoleArn: props.breakGlassRoleArn,
      provisioningRoleArn: props.provisioningRoleArn,
      deployerRoleArn: props.deployerRoleArn,
      encryptionKeyArn: props.encryptionKey.keyArn,
      serviceRoleArns: [props.replicationRoleArn],
    });
  }
}
