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
import { ORGANIZATION_TRAIL_NAME } from '../lib/config/organization-trail.js';
import { auditEventSelectors, type AuditDataEvents } from '../lib/config/audit-data-events.js';
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
   * Record every account of the organization: an organization trail named ORGANIZATION_TRAIL_NAME, writing
   * `AWSLogs/<organizationId>/<account>/…`. Deployed in the management account, or in a member account registered as
   * CloudTrail's delegated administrator (lib/config/organization-trail.ts): the trail is then the management account's.
   * @default false
   */
  readonly organizationTrail?: boolean;
  /**
   * Organization id (`o-…`); required for an organization trail.
   * @default - none
   */
  readonly organizationId?: string;
  /**
   * The management account, whose id an organization trail's ARN carries also when a delegated administrator created it;
   * required for an organization trail.
   * @default - none
   */
  readonly managementAccountId?: string;
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
 * organization-wide with `organizationTrail`) and Tessera's own audit records.
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
    if (props.organizationTrail && !props.managementAccountId) {
      throw new Error('AuditTrail managementAccountId is required when organizationTrail is true');
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
    // An organization trail is another resource (construct id, hence logical id, and name): turning a trail into an
    // organization trail or back in place is UpdateTrail's IsOrganizationTrail, which "only the management account" may
    // do (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html), so a delegated
    // administrator's update would fail. CloudFormation creates the new trail, then deletes the old one: no gap.
    const organization = props.organizationTrail ? { id: props.organizationId!, management: props.managementAccountId! } : undefined;
    this.trail = new cloudtrail.Trail(this, organization ? 'OrganizationTrail' : 'Trail', {
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      // Not the L2's isOrganizationTrail (set on the L1 below): its bucket statement names the trail in the bucket's own
      // account (aws:SourceArn), which a delegated administrator's trail is not in (organizationWrites).
      isOrganizationTrail: false,
      ...(organization ? { trailName: ORGANIZATION_TRAIL_NAME } : {}),
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
    });
    if (organization) {
      (this.trail.node.defaultChild as cloudtrail.CfnTrail).isOrganizationTrail = true;
      this.organizationWrites(organization.id, organization.management, props.encryptionKey);
    }
    acknowledge(this.trail.node.findChild('LogsRole').node.findChild('DefaultPolicy'), ['NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy', 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy'],
      'The CloudTrail construct creates its CloudWatch Logs delivery role with one inline statement (CreateLogStream/PutLogEvents on the trail log group only) and exposes no way to pass a role.');
  }

  /**
   * Record the data events of `dataEvents` (`audit.dataEvents`, lib/config/audit-data-events.ts) beside every management
   * event, read and write, as the trail's `AdvancedEventSelectors` (on the organization trail and the account trail
   * alike). Nothing changes when `dataEvents` records none: the trail keeps CloudTrail's default selectors.
   * `tenantDataBuckets`: the platform's buckets of pooled tenant data (`s3Objects: tenant-data`).
   * The bucket and key policies need nothing more: they name the trail, whatever it records.
   * @throws Error when the trail already has advanced event selectors (one set per trail)
   */
  recordDataEvents(dataEvents: AuditDataEvents | undefined, tenantDataBuckets: readonly s3.IBucket[]): void {
    const cfn = this.trail.node.defaultChild as cloudtrail.CfnTrail;
    if (cfn.advancedEventSelectors !== undefined) throw new Error('AuditTrail: data events are already set');
    const selectors = auditEventSelectors(dataEvents, {
      partition: Stack.of(this).partition,
      auditBucketArn: this.bucket.bucketArn,
      tenantDataBucketArns: tenantDataBuckets.map((b) => b.bucketArn),
    });
    if (!selectors) return;
    // The L2 writes `EventSelectors: []`; "You can use either AdvancedEventSelectors or EventSelectors, but not both"
    // (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html): the advanced ones only.
    cfn.addPropertyDeletionOverride('EventSelectors');
    cfn.advancedEventSelectors = selectors.map((s) => ({
      name: s.Name,
      fieldSelectors: s.FieldSelectors.map((f) => ({ field: f.Field, equalTo: f.Equals, startsWith: f.StartsWith, notStartsWith: f.NotStartsWith })),
    }));
  }

  /**
   * What an organization trail needs beyond the L2's statements, per AWS's organization-trail bucket policy
   * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html#org-trail-bucket-policy):
   * CloudTrail may put objects under `AWSLogs/<organizationId>/` with `bucket-owner-full-control`, only for this trail
   * (`aws:SourceArn`: "the value of aws:SourceArn must be a trail ARN that is owned by the management account and uses the
   * management account ID"). When the trail's ARN is not in this account (a delegated administrator's trail), the
   * platform key also lets CloudTrail encrypt for it and describe it: the key's own statements name this account's
   * trails only (constructs/platform-key.ts; https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
   * @throws Error when `key` is not a key of this app (an imported key's policy cannot be changed here)
   */
  private organizationWrites(organizationId: string, managementAccountId: string, key: kms.IKey): void {
    const stack = Stack.of(this);
    const trailArn = `arn:${stack.partition}:cloudtrail:${stack.region}:${managementAccountId}:trail/${ORGANIZATION_TRAIL_NAME}`;
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailWritesOrganizationLogs',
      principals: [cloudTrail],
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects(`${CLOUDTRAIL_PREFIX}${organizationId}/*`)],
      conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
    }));
    if (managementAccountId === stack.account) return;
    const added = [
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudTrailEncryptsOrganizationTrailLogs',
        principals: [cloudTrail],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${managementAccountId}:trail/${ORGANIZATION_TRAIL_NAME}` },
        },
      })),
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudTrailDescribesKeyForOrganizationTrail',
        principals: [cloudTrail],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      })),
    ];
    if (added.some((a) => !a.statementAdded)) {
      throw new Error(`AuditTrail: the organization trail's key must be a key of this app, whose policy can let CloudTrail encrypt for ${trailArn}`);
    }
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
