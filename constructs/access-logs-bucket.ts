import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';

export interface AccessLogsBucketProps {
  /**
   * How long access logs are kept.
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /** What the logs are of, for the acknowledgement reasons (e.g. "the tenant bucket"). */
  readonly logsOf: string;
}

/**
 * Target of S3 server access logs. S3 delivers server access logs only into SSE-S3 buckets,
 * and logging the log bucket into itself would loop, so its findings are acknowledged here, once.
 */
export class AccessLogsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: props.retention ?? Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS'],
      `Server access logs of ${props.logsOf}: S3 delivers access logs only into SSE-S3 encrypted buckets (SSE-KMS targets are rejected).`);
    acknowledge(this.bucket, ['AwsSolutions::AwsSolutions-S1'],
      `This bucket is the access-log target of ${props.logsOf}; logging it into itself would loop, and CloudTrail data events cover reads of it.`);
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      `Access logs of ${props.logsOf} stay in the home region with the data they describe; they are versioned and expire after their retention.`);
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled'],
      `This bucket is the access-log target of ${props.logsOf}; logging it into itself would loop.`);
  }
}
