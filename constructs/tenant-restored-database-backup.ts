import { ArnFormat, Stack, type CfnCondition, type CfnResource } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { TENANT_ID_TAG } from '../lib/tenant-naming.js';

export interface TenantRestoredDatabaseBackupProps {
  /** The tenant id (a token in a blueprint): the `tessera:tenant-id` tag the snapshot statements require. */
  readonly tenantId: string;
  /** Identifier of the instance the runbook restored from the DR vault, `tessera-<id>-restored` (lib/tenant-naming.ts). */
  readonly restoredInstanceIdentifier: string;
  /** The rebuilt stack's database backup plan (constructs/tenant-database.ts `BackupPlan`): the selection joins it. */
  readonly plan: backup.IBackupPlan;
  /** The rebuilt stack's database backup vault (the plan's rules write into it). */
  readonly vault: backup.IBackupVault;
  /**
   * The role AWS Backup snapshots the restored instance as: the home stack's `tessera-<id>-database-backup`
   * (service-role path), imported by ARN. IAM is global, so it survives the home region; it is the one Backup
   * role the DR key's policy admits (through Backup and RDS), and the restored instance stays under the DR key.
   * Its home policy already covers the DR key by alias and the tenant's `awsbackup:*` snapshots in the DR region.
   */
  readonly backupRole: iam.IRole;
  /** Condition `RestoredDatabase` (RestoredDbiResourceId passed): every resource here carries it. */
  readonly condition: CfnCondition;
}

/**
 * The failover blueprint's protection of the database with the live data after a failover: the instance
 * `tessera-<id>-restored` joins the rebuilt stack's database backup plan (daily, DR interval if any, monthly
 * rules into the rebuilt vault), selected by its ARN `arn:<p>:rds:<dr>:<acct>:db:tessera-<id>-restored`.
 *
 * - A `AWS::Backup::BackupSelection` with `condition`: none before the runbook's second deploy.
 * - A customer-managed policy (generated name, `condition`) on the home backup role with what
 *   AWSBackupServiceRolePolicyForBackup's RDS statements need for one instance, narrowed to that instance
 *   and this tenant's `awsbackup:job-*` snapshots in this region, plus the rebuilt vault.
 *   https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBackupServiceRolePolicyForBackup.html
 * RDS snapshots stay under the instance's key (the DR key), not the vault's: no statement on the rebuilt tenant key.
 * Not tried on AWS (docs/resilience.md "Limits of the failover").
 */
export class TenantRestoredDatabaseBackup extends Construct {
  readonly selection: backup.CfnBackupSelection;
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: TenantRestoredDatabaseBackupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const instanceArn = stack.formatArn({ service: 'rds', resource: 'db', resourceName: props.restoredInstanceIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const snapshots = stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:job-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const requestTag = { [`aws:RequestTag/${TENANT_ID_TAG}`]: props.tenantId };
    this.selection = new backup.CfnBackupSelection(this, 'Selection', {
      backupPlanId: props.plan.backupPlanId,
      backupSelection: { selectionName: 'RestoredDatabase', iamRoleArn: props.backupRole.roleArn, resources: [instanceArn] },
    });
    this.selection.cfnOptions.condition = props.condition;
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Tessera tenant failover: AWS Backup snapshots of the restored database in the DR region',
      roles: [props.backupRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'TheRestoredDatabase',
          actions: ['rds:DescribeDBInstances', 'rds:ListTagsForResource', 'rds:CreateDBSnapshot'],
          resources: [instanceArn],
        }),
        new iam.PolicyStatement({ sid: 'NewSnapshotsOfTheRestoredDatabase', actions: ['rds:CreateDBSnapshot'], resources: [snapshots], conditions: { StringEqualsIfExists: requestTag } }),
        new iam.PolicyStatement({ sid: 'TheRebuiltVault', actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], resources: [props.vault.backupVaultArn] }),
      ],
    });
    (this.policy.node.defaultChild as CfnResource).cfnOptions.condition = props.condition;
    acknowledge(this.policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:awsbackup:job-*]'],
      'AWS Backup names every RDS snapshot it takes awsbackup:job-<uuid>, unknown before the job: a new snapshot of the restored instance is allowed only with this tenant\'s tag in the request (aws:RequestTag), as the tier blueprint\'s backup policy allows its own.');
  }
}
