import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

export interface SecureBucketOptions {
  /** Customer-managed key of the bucket (SSE-KMS with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** Target of the server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Prefix of this bucket's access logs in the target. */
  readonly accessLogsPrefix: string;
}

/**
 * The properties every Tessera data bucket shares: SSE-KMS with a bucket key, TLS 1.2+ only,
 * versioned, never public, owner-enforced, access-logged, retained when the stack goes.
 */
export function secureBucketProps(options: SecureBucketOptions): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: options.accessLogsBucket,
    serverAccessLogsPrefix: options.accessLogsPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}
