import { Aspects, Aws, CfnOutput, CfnParameter, CfnRule, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type { Construct } from 'constructs';
import { TenantDrKey } from '../constructs/tenant-dr-key.js';
import { TenantDrRestoreRole } from '../constructs/tenant-dr-restore-role.js';
import { TenantDrStorage } from '../constructs/tenant-dr-storage.js';
import type { DisasterRecoveryTarget } from './config/disaster-recovery.js';
import type { PlatformConfig, TierConfig } from './config/schema.js';
import { TRAINING_DATA_PREFIX } from './fine-tuning.js';
import { RetainExceptOnCreate } from './retain-except-on-create.js';
import {
  drBackupVaultName,
  drBucketName,
  drKeyAlias,
  drRestoredInstanceIdentifier,
  drRestoreRoleArn,
  drRestoreRoleName,
  drServiceRoleArn,
  roleArn,
  TENANT_ID_PATTERN,
  TENANT_ID_TAG,
  tenantRoleName,
  TIER_TAG,
  type TenantRolePurpose,
} from './tenant-naming.js';

export interface TenantDrStackProps extends StackProps {
  readonly tierName: string;
  readonly tier: TierConfig;
  /** The tier's DR settings (`disasterRecoveryOf(tier)`): the stack is only built for a DR tier. */
  readonly disasterRecovery: DisasterRecoveryTarget;
  readonly config: PlatformConfig;
  /** Version stamped into the template and its outputs, like the primary blueprint's. */
  readonly blueprintVersion: string;
}

/** Stack outputs of the DR blueprint (the workflow may record them; the primary needs none of them). */
export const TENANT_DR_STACK_OUTPUTS = ['Tier', 'BlueprintVersion', 'DrRegion', 'KeyArn', 'KeyAlias', 'BucketName', 'BackupVaultName', 'BackupVaultArn'] as const;

/**
 * The tenant roles that use the tenant's data in a tier (TenantRoles.tenantUseRoles): the workload role
 * when the tier has compute, admin always, training when the tier trains.
 */
export function tenantUseRolePurposes(tier: TierConfig): TenantRolePurpose[] {
  return [...(tier.compute.mode === 'none' ? [] : ['workload' as const]), 'admin', ...(tier.training.enabled ? ['training' as const] : [])];
}

/**
 * The DR blueprint of a tier with disaster recovery: deployed in the tier's DR region, in the account
 * of the tenant's primary stack, before it (onboarding) and removed after it (offboarding). It holds
 * what the primary writes into the DR region, each under a deterministic name (lib/tenant-naming.ts),
 * so the primary needs no output of it:
 * - the tenant's DR key `alias/tessera-<id>-dr` (constructs/tenant-dr-key.ts),
 * - the DR bucket `tessera-<id>-dr-<account>-<region>`, replication destination of the tenant bucket,
 * - the DR Backup vault `tessera-<id>-dr`, destination of the database's recovery point copies,
 * - the restore role `tessera-<id>-dr-restore` a failover restores the database with (constructs/tenant-dr-restore-role.ts).
 * Everything is retained (RETAIN, except while a first create rolls back). Parameter: `TenantId`, the
 * primary's rule. A template rule refuses a deployment outside the tier's DR region, since the primary's
 * names embed that region.
 */
export class TenantDrStack extends Stack {
  constructor(scope: Construct, id: string, props: TenantDrStackProps) {
    super(scope, id, {
      ...props,
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: `Tessera tenant disaster-recovery blueprint, tier ${props.tierName} (DR region ${props.disasterRecovery.region}), version ${props.blueprintVersion}`,
    });
    const { tier, config, disasterRecovery: dr } = props;

    const tenantId = new CfnParameter(this, 'TenantId', {
      type: 'String',
      description: 'Tenant id: lower-case DNS label, 3-24 characters',
      allowedPattern: TENANT_ID_PATTERN,
      constraintDescription: 'must be a lower-case DNS label of 3-24 characters',
    }).valueAsString;
    Tags.of(this).add(TENANT_ID_TAG, tenantId);
    Tags.of(this).add(TIER_TAG, props.tierName);
    Aspects.of(this).add(new RetainExceptOnCreate());
    new CfnRule(this, 'DeployedInDrRegion', {
      assertions: [{
        assert: Fn.conditionEquals(Aws.REGION, dr.region),
        assertDescription: `The ${props.tierName} tier's DR blueprint belongs in its DR region ${dr.region}: the primary blueprint replicates and copies to names in that region.`,
      }],
    });

    const account = Aws.ACCOUNT_ID;
    const tenantRoleArns = tenantUseRolePurposes(tier).map((p) => roleArn(Aws.PARTITION, account, tenantRoleName(tenantId, p)));
    const breakGlassRoleArn = roleArn(Aws.PARTITION, account, tenantRoleName(tenantId, 'break-glass'));
    const provisioningRoleArn = roleArn(Aws.PARTITION, account, config.roles.provisioningRoleName);
    const deployerRoleArn = roleArn(Aws.PARTITION, account, config.roles.blueprintExecutionRoleName);
    const replicationRoleArn = drServiceRoleArn(Aws.PARTITION, account, tenantId, 'dr-replication');

    const key = new TenantDrKey(this, 'Key', {
      tenantId,
      aliasName: drKeyAlias(tenantId),
      keyUserArns: tenantRoleArns,
      breakGlassRoleArn,
      provisioningRoleArn,
      deployerRoleArn,
      deployerServices: ['backup'],
      replicationRoleArn,
      backupRoleArn: drServiceRoleArn(Aws.PARTITION, account, tenantId, 'database-backup'),
      restoreRoleArn: drRestoreRoleArn(Aws.PARTITION, account, tenantId),
    });

    const storage = new TenantDrStorage(this, 'Storage', {
      bucketName: drBucketName(tenantId, account, dr.region),
      encryptionKey: key.key,
      tenantRoleArns,
      breakGlassRoleArn,
      provisioningRoleArn,
      deployerRoleArn,
      replicationRoleArn,
      trainingDataPrefix: TRAINING_DATA_PREFIX,
      trainingDataExpiration: Duration.days(tier.training.dataRetentionDays),
    });

    const vault = new backup.BackupVault(this, 'BackupVault', {
      backupVaultName: drBackupVaultName(tenantId),
      encryptionKey: key.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The failover's restore role (the runbook's start-restore-job): from this vault, into this region, under this key.
    new TenantDrRestoreRole(this, 'RestoreRole', {
      roleName: drRestoreRoleName(tenantId),
      vaultArn: vault.backupVaultArn,
      keyArn: key.keyArn,
      restoredInstanceIdentifier: drRestoredInstanceIdentifier(tenantId),
      tenantId,
    });

    const outputs: Record<(typeof TENANT_DR_STACK_OUTPUTS)[number], string> = {
      Tier: props.tierName,
      BlueprintVersion: props.blueprintVersion,
      DrRegion: dr.region,
      KeyArn: key.keyArn,
      KeyAlias: drKeyAlias(tenantId),
      BucketName: storage.bucket.bucketName,
      BackupVaultName: vault.backupVaultName,
      BackupVaultArn: vault.backupVaultArn,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
