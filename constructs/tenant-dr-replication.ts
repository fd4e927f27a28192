import { Aws, Stack, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { drKeyAlias, SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import type { TenantBucketReplication } from './tenant-storage.js';

export interface TenantDrReplicationProps {
  readonly tenantId: string;
  /** Name of the replication role, `tessera-<id>-dr-replication` (the DR blueprint's key and bucket policies admit it by name). */
  readonly roleName: string;
  /** The tier's DR region. */
  readonly drRegion: string;
  /** Name of the DR bucket in the DR region (lib/tenant-naming.ts drBucketName). */
  readonly destinationBucketName: string;
  /** ARN of the tenant key, which encrypts the source objects. */
  readonly sourceKeyArn: string;
  /**
   * S3 Replication Time Control (99.99% of objects within 15 minutes, with replication metrics), for
   * RPOs that cannot live with S3's unbounded default (lib/config/disaster-recovery.ts usesReplicationTimeControl).
   */
  readonly replicationTimeControl: boolean;
}

/**
 * S3 replication of the tenant bucket to the tenant's DR bucket: the role S3 assumes and its rule.
 * Build it before the bucket (`replication` of TenantStorage), then `grantSource(bucket)` once the
 * bucket exists: the role's policy names the bucket, and the bucket names the role (no cycle: the
 * policy is a resource of its own).
 *
 * Choices:
 * - Every object (empty prefix filter), SSE-KMS objects included (`SseKmsEncryptedObjects`: every
 *   object of the tenant bucket is under the tenant key).
 * - Replicas are encrypted with the DR key, named by its alias ARN (`ReplicaKmsKeyID` accepts a key
 *   ARN or an alias ARN; the alias resolves in the bucket owner's account, which is also the
 *   requester's here). The key ARN is unknown to this stack: the DR blueprint creates the key.
 * - Delete markers replicate: after a failover the DR bucket shows what the tenant saw. Deletions of
 *   a version are never replicated by S3, so a destructive delete in the home region cannot reach the
 *   DR copy, and a deleted object stays recoverable from its versions for the noncurrent window in both.
 * - Replication Time Control when `replicationTimeControl` (RPO of one hour).
 * Sources: https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_EncryptionConfiguration.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
 */
export class TenantDrReplication extends Construct {
  readonly role: iam.Role;
  /** The replication rule and role for TenantStorage's `replication`. */
  readonly replication: TenantBucketReplication;
  private readonly props: TenantDrReplicationProps;

  constructor(scope: Construct, id: string, props: TenantDrReplicationProps) {
    super(scope, id);
    this.props = props;
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } }),
      description: 'Tessera: S3 replicates the tenant bucket to the tenant DR bucket',
    });
    const rtc = props.replicationTimeControl;
    this.replication = {
      roleArn: this.role.roleArn,
      rule: {
        id: 'tenant-data-to-dr-region',
        status: 'Enabled',
        priority: 1,
        filter: { prefix: '' },
        deleteMarkerReplication: { status: 'Enabled' },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
        destination: {
          bucket: this.destinationBucketArn,
          encryptionConfiguration: { replicaKmsKeyId: this.replicaKeyAliasArn },
          ...(rtc ? {
            replicationTime: { status: 'Enabled', time: { minutes: 15 } },
            metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
          } : {}),
        },
      },
    };
  }

  /** ARN of the DR bucket. */
  get destinationBucketArn(): string {
    return `arn:${Aws.PARTITION}:s3:::${this.props.destinationBucketName}`;
  }

  /** Alias ARN of the DR key (in the DR region). */
  get replicaKeyAliasArn(): string {
    return `arn:${Aws.PARTITION}:kms:${this.props.drRegion}:${Aws.ACCOUNT_ID}:${drKeyAlias(this.props.tenantId)}`;
  }

  /**
   * The role's policy, once the source bucket exists: read the source's configuration and object
   * versions, replicate into the DR bucket, decrypt with the tenant key through S3 in the home region,
   * encrypt with the DR key through S3 in the DR region.
   */
  grantSource(bucket: s3.IBucket): iam.ManagedPolicy {
    const drKeys = `arn:${Aws.PARTITION}:kms:${this.props.drRegion}:${Aws.ACCOUNT_ID}:key/*`;
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ sid: 'SourceBucketConfiguration', actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [bucket.bucketArn] }),
        new iam.PolicyStatement({
          sid: 'SourceObjectVersions',
          actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
          resources: [bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'ReplicateIntoDrBucket',
          actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
          resources: [`${this.destinationBucketArn}/*`],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptSourceWithTenantKeyThroughS3',
          actions: ['kms:Decrypt'],
          resources: [this.props.sourceKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          // The DR key's ARN is not known here; its alias is (kms:ResourceAliases: the key's aliases).
          // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases
          sid: 'EncryptReplicasWithDrKeyThroughS3',
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [drKeys],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${this.props.drRegion}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': drKeyAlias(this.props.tenantId) },
          },
        }),
      ],
    });
    acknowledge(policy, [
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/*]`,
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::tessera-<TenantId>-dr-<AWS::AccountId>-${this.props.drRegion}/*]`,
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${this.props.drRegion}:<AWS::AccountId>:key/*]`,
    ], 'S3 replication reads every object version of the tenant bucket and writes every replica into the tenant DR bucket (both buckets are the tenant\'s alone); the DR key is created by the DR blueprint, so it is named by its alias through kms:ResourceAliases, and used only through S3 in the DR region.');
    return policy;
  }
}
