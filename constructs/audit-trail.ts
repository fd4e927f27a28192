import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { AUDIT_REPLICATED_PREFIXES, CLOUDTRAIL_PREFIX } from '../lib/audit-prefixes.js';
import { auditReplicaBucketName, PLATFORM_DR_KEY_ALIAS } from '../lib/platform-dr-naming.js';
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
  /**
   * Replicate new audit objects under AUDIT_REPLICATED_PREFIXES (CloudTrail's, and the records of
   * tenants whose tier has a DR region) to the replica bucket of the platform's DR region
   * (`tessera-audit-replica-<account>-<region>`, Object Lock on, created by TesseraPlatformDr),
   * re-encrypted there with `alias/tessera/platform-dr`.
   * @default - no replication (`platformDisasterRecovery: 'none'`)
   */
  readonly replicationRegion?: string;
}

/** Key prefixes of the audit bucket (lib/audit-prefixes.ts, where the Lambdas import them). */
export { AUDIT_DR_TIER_PREFIX, AUDIT_RECORDS_PREFIX, AUDIT_REPLICATED_PREFIXES, CLOUDTRAIL_PREFIX } from '../lib/audit-prefixes.js';

/**
 * The immutable audit trail: an S3 bucket with Object Lock in compliance mode, versioned, KMS
 * encrypted and access-logged, receiving CloudTrail (log file validation on, multi-region,
 * organization-wide when deployed in the management account) and Tessera's own audit records.
 */
export class AuditTrail extends Construct {
  readonly bucket: s3.Bucket;
  readonly trail: cloudtrail.Trail;
  /** The role S3 replicates audit objects with (only with `replicationRegion`). */
  readonly replicationRole?: iam.Role;

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
    if (props.replicationRegion) {
      this.replicationRole = this.replicate(props.replicationRegion, props.encryptionKey.keyArn);
    } else {
      acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
        'Audit records are immutable under Object Lock (compliance mode) in the home region; platformDisasterRecovery is none, so replication to another region is left to the organization\'s log-archive account, which the org trail can also target.');
    }

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

  /**
   * S3 replication of the audit bucket to the DR region's replica, and its role (least privilege,
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html):
   * read the replication configuration and the source versions under the replicated prefixes with
   * their Object Lock retention and legal hold, replicate objects and tags (not deletes) into the replica only, decrypt with the
   * platform key through S3 of the home region, encrypt with the DR key (found by its alias, in the
   * DR region) through S3 of the DR region. Delete markers are not replicated: the replica of an
   * audit trail keeps every record. Existing objects are not replicated by a rule (S3 Batch
   * Replication copies them once, see the runbook in docs/resilience.md).
   */
  private replicate(region: string, sourceKeyArn: string): iam.Role {
    const replica = auditReplicaBucketName(Aws.ACCOUNT_ID, region);
    const replicaArn = `arn:${Aws.PARTITION}:s3:::${replica}`;
    const keys = `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:key/*`;
    // Only the versions the rules replicate: the home-only records are not even readable by the role.
    const replicated = AUDIT_REPLICATED_PREFIXES.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
    const role = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'Tessera audit bucket: S3 replication to the DR region\'s replica bucket (Object Lock)',
    });
    const policy = new iam.ManagedPolicy(this, 'ReplicationPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'SourceConfiguration', actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [this.bucket.bucketArn] }),
        new iam.PolicyStatement({
          sid: 'SourceVersions',
          actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging', 's3:GetObjectRetention', 's3:GetObjectLegalHold'],
          resources: replicated,
        }),
        new iam.PolicyStatement({ sid: 'ReplicateIntoReplica', actions: ['s3:ReplicateObject', 's3:ReplicateTags'], resources: [`${replicaArn}/*`] }),
        new iam.PolicyStatement({
          sid: 'DecryptSource', actions: ['kms:Decrypt'], resources: [sourceKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:aws:s3:arn': [this.bucket.bucketArn, this.bucket.arnForObjects('*')] } },
        }),
        new iam.PolicyStatement({
          sid: 'EncryptReplica', actions: ['kms:Encrypt', 'kms:GenerateDataKey'], resources: [keys],
          conditions: {
            'StringEquals': { 'kms:ViaService': `s3.${region}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': PLATFORM_DR_KEY_ALIAS },
            'StringLike': { 'kms:EncryptionContext:aws:s3:arn': [replicaArn, `${replicaArn}/*`] },
          },
        }),
      ],
    });
    acknowledge(policy, [...replicated, `${replicaArn}/*`, keys].map((arn) => wildcardResourceFinding(this, arn)),
      'S3 replication reads the audit object versions under the replicated prefixes (CloudTrail\'s AWSLogs/ and tessera-audit/dr-tier/), named at run time, and writes them into the replica only; the DR key is only the one whose alias is alias/tessera/platform-dr (kms:ResourceAliases), in a stack of another region that this one cannot reference.');
    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    cfn.replicationConfiguration = {
      role: role.roleArn,
      rules: AUDIT_REPLICATED_PREFIXES.map((prefix, i) => ({
        id: prefix === CLOUDTRAIL_PREFIX ? 'cloudtrail-to-dr-region' : 'dr-tier-records-to-dr-region',
        status: 'Enabled',
        priority: i + 1,
        filter: { prefix },
        deleteMarkerReplication: { status: 'Disabled' },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
        destination: {
          bucket: replicaArn,
          encryptionConfiguration: { replicaKmsKeyId: `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:${PLATFORM_DR_KEY_ALIAS}` },
        },
      })),
    };
    return role;
  }
}
