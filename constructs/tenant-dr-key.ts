import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ADMIN_ACTIONS, USE_ACTIONS } from './tenant-key.js';

export interface TenantDrKeyProps {
  /** Tenant id (a string or a CloudFormation token). */
  readonly tenantId: string;
  /** The key's alias, `alias/tessera-<id>-dr` (lib/tenant-naming.ts drKeyAlias): the primary blueprint finds the key by it. */
  readonly aliasName: string;
  /**
   * ARNs of the tenant roles that use the tenant key (the same as the primary key's `keyUserArns`), and
   * break-glass. They need not exist yet: the DR blueprint deploys before the primary creates them.
   */
  readonly keyUserArns: string[];
  /** ARN of the audited break-glass role (need not exist yet). */
  readonly breakGlassRoleArn: string;
  /** ARN of the platform's provisioning role: administers the key, never decrypts (exists). */
  readonly provisioningRoleArn: string;
  /** ARN of the blueprint execution role that creates the key (exists; KMS refuses a policy that locks it out). */
  readonly deployerRoleArn: string;
  /** Services (in this region) the deployer creates resources under the key through, e.g. `backup`. */
  readonly deployerServices: readonly string[];
  /** ARN of the primary blueprint's S3 replication role (need not exist yet): encrypts replicas, through S3 only. */
  readonly replicationRoleArn: string;
  /** ARN of the primary blueprint's AWS Backup role (need not exist yet): copies recovery points into the DR vault, through Backup and RDS only. */
  readonly backupRoleArn: string;
  /**
   * ARN of the DR blueprint's restore role `tessera-<id>-dr-restore` (constructs/tenant-dr-restore-role.ts):
   * restores DR recovery points into the DR region in a failover, through Backup and RDS only.
   * @default - no restore role is admitted
   */
  readonly restoreRoleArn?: string;
  /**
   * Days the key waits in PendingDeletion after ScheduleKeyDeletion.
   * @default 30
   */
  readonly pendingWindow?: Duration;
}

/**
 * The tenant's key in the DR region: a key of its own, not a multi-Region replica of the tenant key.
 * The DR blueprint deploys first and alone, and S3 replication and Backup copies re-encrypt with the
 * destination's key anyway, so a replica would add an ordering (the primary key first) and nothing else.
 *
 * The key policy has the primary key's principals and rules (provisioning and deployer administer, the
 * deployer uses it only through services, the tenant's roles and break-glass use it), plus the two
 * service roles of the primary blueprint that write into the DR region, and the DR blueprint's restore role
 * (a failover restores from the DR vault under this key). The roles the primary blueprint
 * creates do not exist when this key is created, and KMS refuses a key policy naming a principal that
 * does not exist: they are admitted as the account principal restricted by `aws:PrincipalArn` to their
 * exact ARNs, which admits those roles and no other (and, like any account-principal statement, needs
 * the role's own identity policy too: the primary blueprint gives it to its service roles).
 * Source: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
 */
export class TenantDrKey extends Construct {
  readonly key: kms.IKey;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: TenantDrKeyProps) {
    super(scope, id);
    const provisioning = new iam.ArnPrincipal(props.provisioningRoleArn);
    const deployer = new iam.ArnPrincipal(props.deployerRoleArn);
    const account = new iam.AccountRootPrincipal();
    const via = (services: readonly string[]) => ({ 'kms:ViaService': services.map((s) => `${s}.${Aws.REGION}.amazonaws.com`) });
    const principalIs = (arns: string[]) => ({ ArnEquals: { 'aws:PrincipalArn': arns } });

    const statements = [
      new iam.PolicyStatement({ sid: 'ProvisioningRoleAdministersOnly', principals: [provisioning], actions: ADMIN_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'ProvisioningRoleGrantsToAwsServicesOnly', principals: [provisioning], actions: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      new iam.PolicyStatement({ sid: 'DeployerAdministers', principals: [deployer], actions: ADMIN_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'DeployerCreatesResourcesThroughServices', principals: [deployer],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:RetireGrant'], resources: ['*'],
        conditions: { StringEquals: via(props.deployerServices) },
      }),
      new iam.PolicyStatement({
        sid: 'DeployerGrantsToServices', principals: [deployer], actions: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], resources: ['*'],
        conditions: { StringEquals: via(props.deployerServices), Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'TenantRolesUseKey', principals: [account], actions: USE_ACTIONS, resources: ['*'],
        conditions: principalIs([...props.keyUserArns, props.breakGlassRoleArn]),
      }),
      new iam.PolicyStatement({
        // S3 replication encrypts each replica with the destination key (kms:Encrypt; GenerateDataKey for
        // the destination's bucket key), as the replication role, through S3 in this region.
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
        sid: 'ReplicationRoleEncryptsReplicasThroughS3', principals: [account], actions: ['kms:Encrypt', 'kms:GenerateDataKey'], resources: ['*'],
        conditions: { ...principalIs([props.replicationRoleArn]), StringEquals: via(['s3']) },
      }),
      new iam.PolicyStatement({
        // A cross-region copy of an RDS snapshot re-encrypts it with the destination vault's key:
        // Backup's role describes the key and lets RDS use it through a grant.
        // https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html
        sid: 'BackupRoleCopiesThroughBackup', principals: [account], actions: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'], resources: ['*'],
        conditions: { ...principalIs([props.backupRoleArn]), StringEquals: via(['backup', 'rds']) },
      }),
      new iam.PolicyStatement({
        sid: 'BackupRoleGrantsThroughBackup', principals: [account], actions: ['kms:CreateGrant'], resources: ['*'],
        conditions: { ...principalIs([props.backupRoleArn]), StringEquals: via(['backup', 'rds']), Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      ...(props.restoreRoleArn ? [
        new iam.PolicyStatement({
          // A failover restore (StartRestoreJob in the DR region): RDS creates the instance from a DR copy
          // under this key, through a grant Backup's role creates; the role describes the key first.
          // https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-rds.html
          sid: 'RestoreRoleRestoresThroughBackupAndRds', principals: [account], actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'], resources: ['*'],
          conditions: { ...principalIs([props.restoreRoleArn]), StringEquals: via(['backup', 'rds']) },
        }),
        new iam.PolicyStatement({
          sid: 'RestoreRoleGrantsThroughBackupAndRds', principals: [account], actions: ['kms:CreateGrant'], resources: ['*'],
          conditions: { ...principalIs([props.restoreRoleArn]), StringEquals: via(['backup', 'rds']), Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ] : []),
    ];

    const cfnKey = new kms.CfnKey(this, 'Resource', {
      description: `Tessera tenant ${props.tenantId}, disaster recovery: encrypts the DR bucket and the DR Backup vault`,
      enableKeyRotation: true,
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      pendingWindowInDays: (props.pendingWindow ?? Duration.days(30)).toDays(),
      keyPolicy: new iam.PolicyDocument({ statements }),
    });
    cfnKey.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new kms.CfnAlias(this, 'Alias', { aliasName: props.aliasName, targetKeyId: cfnKey.attrArn });
    // An imported reference: grants through it touch identity policies only; the key policy stays as written.
    this.key = kms.Key.fromKeyArn(this, 'Reference', cfnKey.attrArn);
    this.keyArn = cfnKey.attrArn;
  }
}
