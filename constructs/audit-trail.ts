import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { secureBucketProps } from './secure-bucket-props.js';

export interface AuditTrailProps {
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the audit bucket's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Object Lock retention, compliance mode: nobody, root included, can delete or shorten it. */
  readonly objectLockRetentionDays: number;
  /** Retention of the trail's CloudWatch Logs copy. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Record every account of the organization (deploy in the management account, or a delegated admin).
   * @default false
   */
  readonly organizationTrail?: boolean;
  /**
   * Organization id; required for an organization trail.
   * @default - none
   */
  readonly organizationId?: string;
}

/** Key prefix under which the gateway and the break-glass path write their own audit records. */
export const AUDIT_RECORDS_PREFIX = 'tessera-audit/';

/**
 * The immutable audit trail: an S3 bucket with Object Lock in compliance mode, versioned, KMS
 * encrypted and access-logged, receiving CloudTrail (log file validation on, multi-region,
 * organization-wide when deployed in the management account) and Tessera's own audit records.
 */
export class AuditTrail extends Construct {
  readonly bucket: s3.Bucket;
  readonly trail: cloudtrail.Trail;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    if (props.organizationTrail && !props.organizationId) {
      throw new Error('AuditTrail organizationId is required when organizationTrail is true');
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: props.accessLogsBucket, accessLogsPrefix: 'audit-bucket/' }),
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.objectLockRetentionDays)),
    });
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'Audit records are immutable under Object Lock (compliance mode) in the home region; replication to another region is left to the organization\'s log-archive account, which the org trail can also target.');

    const logGroup = new logs.LogGroup(this, 'TrailLogs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      isOrganizationTrail: props.organizationTrail ?? false,
      orgId: props.organizationTrail ? props.organizationId : undefined,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
    });
    acknowledge(this.trail.node.findChild('LogsRole').node.findChild('DefaultPolicy'), ['NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy', 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy'],
      'The CloudTrail construct creates its CloudWatch Logs delivery role with one inline statement (CreateLogStream/PutLogEvents on the trail log group only) and exposes no way to pass a role.');
  }
}
