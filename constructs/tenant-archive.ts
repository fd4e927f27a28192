import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { secureBucketProps } from './secure-bucket-props.js';

export interface TenantArchiveProps {
  readonly encryptionKey: kms.IKey;
  readonly accessLogsBucket: s3.IBucket;
  /** Object Lock retention (compliance mode) of exported tenant data. */
  readonly retentionDays: number;
}

/**
 * The admin archive: offboarded tenants' exported objects and snapshot records, under Object Lock
 * in compliance mode with the platform key. Only the offboarding export writes here.
 */
export class TenantArchive extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TenantArchiveProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: props.accessLogsBucket, accessLogsPrefix: 'tenant-archive/' }),
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      // The export copies large objects by multipart upload; parts of an upload a dead Lambda left are removed after a week.
      lifecycleRules: [{ id: 'abort-incomplete-exports', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'Offboarded tenant data stays in the tenant\'s home region (data residency outlives the contract); Object Lock in compliance mode keeps it immutable for the retention period.');
  }
}
