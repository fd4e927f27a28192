import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { auditReplicaBucketName, PLATFORM_DR_KEY_ALIAS, PLATFORM_DR_VAULT_NAME } from '../lib/platform-dr-naming.js';
import { AccessLogsBucket } from './access-logs-bucket.js';
import { secureBucketProps } from './secure-bucket-props.js';

export interface PlatformDrResourcesProps {
  /**
   * Object Lock retention of the replica audit bucket, compliance mode: the home audit bucket's
   * (`audit.objectLockRetentionDays`). A replica keeps the retain-until date of its source version;
   * this default covers objects that arrive without one.
   */
  readonly objectLockRetentionDays: number;
}

/**
 * The platform's resources in its DR region (`platformDisasterRecovery.region`), all RETAIN and
 * named deterministically (lib/platform-dr-naming.ts) so the home-region platform stack targets
 * them by name:
 * - a KMS key of the DR region (`alias/tessera/platform-dr`, rotation on): S3 re-encrypts replicas
 *   and AWS Backup re-encrypts copies with the destination's key, so no multi-Region key is needed;
 * - the replica audit bucket: Object Lock (compliance, same retention) enabled at creation, which
 *   S3 requires of the destination when the source has Object Lock (replication failure reason
 *   `DstBucketObjectLockConfigMissing`, https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-failure-codes.html;
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-replication),
 *   versioned, SSE-KMS with the DR key, TLS only, access-logged;
 * - the Backup vault receiving copies of the tenant registry's backups, under the DR key.
 */
export class PlatformDrResources extends Construct {
  readonly key: kms.Key;
  readonly auditReplica: s3.Bucket;
  readonly vault: backup.BackupVault;

  constructor(scope: Construct, id: string, props: PlatformDrResourcesProps) {
    super(scope, id);
    const { account, region } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      alias: PLATFORM_DR_KEY_ALIAS,
      description: 'Tessera platform, DR region: replica audit bucket, registry backup copies',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = new AccessLogsBucket(this, 'AccessLogs', { logsOf: 'the replica audit bucket' }).bucket;
    this.auditReplica = new s3.Bucket(this, 'AuditReplica', {
      ...secureBucketProps({ encryptionKey: this.key, accessLogsBucket: accessLogs, accessLogsPrefix: 'audit-replica/' }),
      bucketName: auditReplicaBucketName(account, region),
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.objectLockRetentionDays)),
    });
    acknowledge(this.auditReplica, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'This bucket is the cross-region replica of the home audit bucket (its replication destination); replicating the replica again would only chain copies.');
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: PLATFORM_DR_VAULT_NAME,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
