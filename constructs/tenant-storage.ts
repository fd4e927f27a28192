import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { TRAINING_UPLOADS_PREFIX } from '../lib/fine-tuning.js';
import { AccessLogsBucket } from './access-logs-bucket.js';
import { secureBucketProps } from './secure-bucket-props.js';

export interface TenantStorageProps {
  /** The tenant's key; objects are encrypted with it (SSE-KMS with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** ARNs of the tenant's roles: with the break-glass role, the only principals that may touch objects. */
  readonly tenantRoleArns: string[];
  /**
   * Tenant roles admitted to one prefix of the bucket only: the bucket policy denies them every other
   * key, bucket-level object actions, and any listing whose `s3:prefix` is not under theirs.
   * @default - none
   */
  readonly prefixRoles?: readonly PrefixRole[];
  /** ARN of the audited break-glass role. */
  readonly breakGlassRoleArn: string;
  /** ARN of the provisioning role: may manage the bucket's configuration, never its objects. */
  readonly provisioningRoleArn: string;
  /**
   * ARN of the blueprint execution role (CloudFormation's service role): manages the bucket's
   * configuration, never its objects (the bucket policy is not in force while CloudFormation
   * creates or deletes the bucket itself).
   */
  readonly deployerRoleArn: string;
  /**
   * Key prefix of uploaded training data, expired after `trainingDataExpiration`.
   * @default 'training-data/'
   */
  readonly trainingDataPrefix?: string;
  /**
   * How long training data is kept.
   * @default Duration.days(90)
   */
  readonly trainingDataExpiration?: Duration;
  /**
   * How long overwritten or deleted object versions are kept.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Replication of every object to the tenant's DR bucket (a DR tier only). The role is also admitted
   * by the bucket policy to read object versions.
   * @default - no replication: the data stays in the home region
   */
  readonly replication?: TenantBucketReplication;
}

/** Replication of the tenant bucket into the DR region (constructs/tenant-dr-replication.ts builds it). */
export interface TenantBucketReplication {
  /** ARN of the replication role (S3 assumes it). */
  readonly roleArn: string;
  /** The rule (`AWS::S3::Bucket` ReplicationRule), destination and encryption included. */
  readonly rule: s3.CfnBucket.ReplicationRuleProperty;
}

/** A tenant role the bucket admits to the objects under one prefix only (the training-files role: `training-data/files/`). */
export interface PrefixRole {
  readonly roleArn: string;
  /** Key prefix, ending in `/`. */
  readonly prefix: string;
  /** Names its two bucket policy statements: `Deny<sid>OutsideItsPrefix`, `Deny<sid>ListingOutsideItsPrefix`. */
  readonly sid: string;
}

/** Who may do what to a tenant bucket (the primary's, and the DR bucket with the same isolation). */
export interface TenantBucketIsolation {
  /** ARNs of the tenant's roles: with the break-glass role (and `objectReaderArns`), the only principals that may touch objects. */
  readonly tenantRoleArns: string[];
  /**
   * Roles admitted to the objects under one prefix only (they join the data principals, fenced to their prefix).
   * @default - none
   */
  readonly prefixRoles?: readonly PrefixRole[];
  readonly breakGlassRoleArn: string;
  readonly provisioningRoleArn: string;
  readonly deployerRoleArn: string;
  /** The key objects must be written with (`s3:x-amz-server-side-encryption-aws-kms-key-id`). */
  readonly encryptionKeyArn: string;
  /**
   * Service roles that read or write object versions besides the tenant's (S3 replication).
   * @default - none
   */
  readonly serviceRoleArns?: string[];
}

/** Data-plane actions: only tenant roles and break-glass perform them. */
const OBJECT_ACTIONS = [
  's3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:RestoreObject', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads',
  's3:ListMultipartUploadParts', 's3:AbortMultipartUpload', 's3:ReplicateObject', 's3:GetBucketObjectLockConfiguration',
];
/**
 * Settings that can destroy or move data without touching an object (expire everything, suspend
 * versioning, change the key, replicate elsewhere): CloudFormation's deployer changes them as the
 * blueprint says, break-glass in an emergency, nobody else.
 */
const DATA_SETTING_ACTIONS = ['s3:PutLifecycleConfiguration', 's3:PutBucketVersioning', 's3:PutEncryptionConfiguration', 's3:PutReplicationConfiguration', 's3:PutBucketObjectLockConfiguration'];
/** Changing who can reach the data: only provisioning (deploys) and break-glass. */
const POLICY_ACTIONS = ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutBucketOwnershipControls', 's3:PutBucketPublicAccessBlock'];

/**
 * The tenant's S3 bucket: SSE-KMS with the tenant key, TLS only, versioned, access-logged,
 * never public, and a bucket policy that denies everyone but the tenant's roles and break-glass.
 * Deny statements key on `aws:PrincipalArn`, so they hold even against an identity policy with
 * `s3:*` in the same account (the workload account hosts many tenants).
 */
export class TenantStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TenantStorageProps) {
    super(scope, id);
    const trainingPrefix = props.trainingDataPrefix ?? 'training-data/';
    if (!trainingPrefix.endsWith('/')) {
      throw new Error(`TenantStorage trainingDataPrefix must end with "/", got "${trainingPrefix}"`);
    }

    this.accessLogsBucket = new AccessLogsBucket(this, 'AccessLogs', { logsOf: 'the tenant bucket' }).bucket;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: this.accessLogsBucket, accessLogsPrefix: 'tenant-bucket/' }),
      lifecycleRules: tenantBucketLifecycleRules(trainingPrefix, props.trainingDataExpiration, props.noncurrentVersionExpiration),
    });
    if (props.replication) {
      (this.bucket.node.defaultChild as s3.CfnBucket).replicationConfiguration = { role: props.replication.roleArn, rules: [props.replication.rule] };
    } else {
      acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
        'Tenant data stays in the tenant\'s home region (data residency is part of the tenant contract); durability comes from S3 itself and versioning keeps overwritten objects for the noncurrent-version window.');
    }
    isolateTenantBucket(this.bucket, {
      tenantRoleArns: props.tenantRoleArns,
      prefixRoles: props.prefixRoles,
      breakGlassRoleArn: props.breakGlassRoleArn,
      provisioningRoleArn: props.provisioningRoleArn,
      deployerRoleArn: props.deployerRoleArn,
      encryptionKeyArn: props.encryptionKey.keyArn,
      serviceRoleArns: props.replication ? [props.replication.roleArn] : [],
    });
  }
}

/**
 * The lifecycle of a tenant bucket; the DR bucket has the same, because S3 replication does not
 * replicate lifecycle expirations (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
 * @param trainingDataExpiration @default Duration.days(90)
 * @param noncurrentVersionExpiration @default Duration.days(30)
 */
export function tenantBucketLifecycleRules(trainingPrefix: string, trainingDataExpiration?: Duration, noncurrentVersionExpiration?: Duration): s3.LifecycleRule[] {
  return [
    { id: 'expire-training-data', prefix: trainingPrefix, expiration: trainingDataExpiration ?? Duration.days(90) },
    // OpenAI's Uploads API keeps an upload's record and parts here (lambdas/fine-tuning/uploads-service.ts): an upload
    // takes parts for an hour, its parts are deleted at complete and cancel, and what an expired or abandoned upload
    // left goes after a day (S3 honours the shorter expiration where rules overlap).
    { id: 'expire-uploads', prefix: TRAINING_UPLOADS_PREFIX, expiration: Duration.days(1) },
    { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: noncurrentVersionExpiration ?? Duration.days(30) },
    { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
  ];
}

/**
 * The bucket policy that isolates a tenant bucket: deny statements keyed on `aws:PrincipalArn`, so they
 * hold even against an identity policy with `s3:*` in the same account, and need no principal to exist.
 * Objects: the tenant's roles, break-glass and `serviceRoleArns` only; listing: those and the deployer;
 * data settings: deployer and break-glass; the policy itself: provisioning, deployer, break-glass; and
 * no object written under another key.
 */
export function isolateTenantBucket(bucket: s3.IBucket, props: TenantBucketIsolation): void {
  const prefixRoles = props.prefixRoles ?? [];
  for (const r of prefixRoles) {
    if (!r.prefix.endsWith('/')) throw new Error(`isolateTenantBucket prefixRoles[${r.sid}].prefix must end with "/", got "${r.prefix}"`);
  }
  const dataPrincipals = [...props.tenantRoleArns, ...prefixRoles.map((r) => r.roleArn), props.breakGlassRoleArn, ...(props.serviceRoleArns ?? [])];
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyObjectAccessToAllButTenantRoles',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: OBJECT_ACTIONS,
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': dataPrincipals } },
    }),
  );
  // The S3 bucket handler's update lists the keys (s3:ListBucket); the deployer may list, never read or delete.
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyListingToAllButTenantRolesAndDeployer',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': [...dataPrincipals, props.deployerRoleArn] } },
    }),
  );
  // A prefix role is a data principal for its prefix only: every object action elsewhere (and on the
  // bucket: versions, uploads) is denied, and a listing unless its s3:prefix is under the prefix (a
  // listing without one lists everything: StringNotLike holds when the key is absent).
  for (const r of prefixRoles) {
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Deny${r.sid}OutsideItsPrefix`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: OBJECT_ACTIONS,
        notResources: [bucket.arnForObjects(`${r.prefix}*`)],
        conditions: { ArnEquals: { 'aws:PrincipalArn': r.roleArn } },
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Deny${r.sid}ListingOutsideItsPrefix`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { ArnEquals: { 'aws:PrincipalArn': r.roleArn }, StringNotLike: { 's3:prefix': `${r.prefix}*` } },
      }),
    );
  }
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyDataSettingsToAllButDeployer',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: DATA_SETTING_ACTIONS,
      resources: [bucket.bucketArn],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': [props.deployerRoleArn, props.breakGlassRoleArn] } },
    }),
  );
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPolicyChangesToAllButDeployers',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: POLICY_ACTIONS,
      resources: [bucket.bucketArn],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': [props.provisioningRoleArn, props.deployerRoleArn, props.breakGlassRoleArn] } },
    }),
  );
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyObjectsNotEncryptedWithTenantKey',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': props.encryptionKeyArn } },
    }),
  );
}
