import { ArnFormat, Fn, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { RESTORE_TEST_TAG, SERVICE_ROLE_PATH, TENANT_ID_TAG } from '../lib/tenant-naming.js';

export interface TenantRestoreTestingProps {
  readonly tenantId: string;
  /** Name of the role AWS Backup restores with, `tessera-<id>-restore-testing` (the restore events rule matches it). */
  readonly roleName: string;
  /** The database's DB instance identifier (its ARN is the protected resource). */
  readonly instanceIdentifier: string;
  /** ARN of the database's Backup vault: recovery points are taken from it. */
  readonly vaultArn: string;
  /** ARN of the tenant key: the restored instance is encrypted with it, like its snapshot. */
  readonly keyArn: string;
  /** The DB subnet group the test instance is restored into (the tenant's private data subnets). */
  readonly subnetGroupName: string;
  /** The database's DB parameter group (the test instance may be given it). */
  readonly parameterGroupName: string;
  /** Security group of the test instance (the database's: ingress from the tenant's compute only). */
  readonly securityGroupId: string;
  /**
   * The minute past 05:00 the test starts at (0-59: a number's string or the `BackupScheduleMinute` parameter's token),
   * the tenant's backup minute (lib/backup-schedule-minute.ts), so that the DR tenants of an account do not all start
   * their restore jobs at once. @default '0'
   */
  readonly scheduleMinute?: string;
  /**
   * Hours AWS Backup keeps the restored instance for validation before deleting it (0-168).
   * @default 2
   */
  readonly validationWindowHours?: number;
}

export { RESTORE_TEST_TAG };

/**
 * Restore-test schedule: the 2nd of each month at 05:<minute> UTC, the day after the monthly backup (1st, 04:<minute>).
 * @param minute the tenant's backup minute (0-59, or the parameter's token) @default '0'
 */
export function restoreTestSchedule(minute = '0'): string {
  return `cron(${minute} 5 2 * ? *)`;
}

/**
 * The tenant's monthly restore test: an `AWS::Backup::RestoreTestingPlan` that picks the latest snapshot
 * recovery point of the database (from its home vault, within the last 31 days) and an
 * `AWS::Backup::RestoreTestingSelection` that restores it into the tenant's data subnets, as a role that
 * can restore this tenant's snapshots only, into instances tagged as restore tests only. AWS Backup tags
 * the test instance `awsbackup-restore-test` and deletes it after `validationWindowHours` with its own
 * service-linked role (AWSServiceRoleForBackupRestoreTesting), so this role deletes nothing. The restore job's end state (`Restore Job State Change`) is
 * the proof, forwarded to the platform bus (constructs/tenant-dr-restore-events.ts), where the platform
 * records it; within the window the platform may also put a validation result (PutRestoreValidationResult).
 * Sources: https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
export class TenantRestoreTesting extends Construct {
  readonly role: iam.Role;
  readonly plan: backup.CfnRestoreTestingPlan;
  readonly selection: backup.CfnRestoreTestingSelection;

  constructor(scope: Construct, id: string, props: TenantRestoreTestingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const window = props.validationWindowHours ?? 2;
    if (!Number.isInteger(window) || window < 0 || window > 168) throw new Error(`TenantRestoreTesting validationWindowHours must be a whole number of hours from 0 to 168, got ${window}`);
    // Plan names allow letters, digits and underscores only: the tenant id's hyphens become underscores.
    const planName = Fn.join('_', ['tessera', Fn.join('_', Fn.split('-', props.tenantId)), 'database']);
    const instanceArn = stack.formatArn({ service: 'rds', resource: 'db', resourceName: props.instanceIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      path: SERVICE_ROLE_PATH,
      // Trust as AWS Backup documents its service roles (no confused-deputy keys for the role it assumes),
      // see constructs/tenant-database.ts.
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup restores the tenant database for its monthly restore test',
    });
    const rdsArn = (resource: string, name: string) => stack.formatArn({ service: 'rds', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const snapshots = rdsArn('snapshot', 'awsbackup:job-*');
    const anyInstance = rdsArn('db', '*');
    const ownTag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: props.tenantId };
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ sid: 'ReadTheTenantSnapshots', actions: ['rds:DescribeDBSnapshots', 'rds:RestoreDBInstanceFromDBSnapshot'], resources: [snapshots], conditions: { StringEquals: ownTag } }),
        new iam.PolicyStatement({
          // The test instance: AWS Backup names it, and tags it awsbackup-restore-test in the request; nothing
          // else can be created. Its subnets, parameters and options: the tenant's, or the engine defaults.
          sid: 'CreateOnlyRestoreTestInstances',
          actions: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:AddTagsToResource'],
          resources: [anyInstance],
          conditions: { Null: { [`aws:RequestTag/${RESTORE_TEST_TAG}`]: 'false' } },
        }),
        new iam.PolicyStatement({
          sid: 'IntoTheTenantSubnetsAndParameters',
          actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
          resources: [rdsArn('subgrp', props.subnetGroupName), rdsArn('pg', props.parameterGroupName), rdsArn('pg', 'default.postgres*'), rdsArn('og', 'default:postgres-*')],
        }),
        new iam.PolicyStatement({
          sid: 'DescribeRestoreTestInstances',
          actions: ['rds:DescribeDBInstances', 'rds:ListTagsForResource'],
          resources: [anyInstance],
          conditions: { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
        }),
        new iam.PolicyStatement({
          // Never the tenant's own database, whatever its tags (deletion protection aside).
          sid: 'NeverTheTenantDatabase',
          effect: iam.Effect.DENY,
          actions: ['rds:DeleteDBInstance', 'rds:ModifyDBInstance', 'rds:AddTagsToResource'],
          resources: [instanceArn],
        }),
        // Not backup:DescribeRecoveryPoint: it takes a recovery point's ARN, not the vault's (Service Authorization
        // Reference), so granted here it allowed nothing; whoever starts the restore reads it (restore testing: Backup's service-linked role).
        new iam.PolicyStatement({ sid: 'TheTenantVault', actions: ['backup:DescribeBackupVault'], resources: [props.vaultArn] }),
        new iam.PolicyStatement({ sid: 'TheTenantKey', actions: ['kms:DescribeKey'], resources: [props.keyArn] }),
        new iam.PolicyStatement({
          sid: 'GrantsOnTheTenantKeyForAwsResources', actions: ['kms:CreateGrant'], resources: [props.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ],
    });
    acknowledge(policy, [
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:awsbackup:job-*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:pg:default.postgres*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:og:default:postgres-*]',
    ], 'AWS Backup names every snapshot awsbackup:job-<uuid> and the instance a restore test creates itself: snapshots are narrowed by the tenant tag, new and described instances by the awsbackup-restore-test tag AWS Backup puts on them, the tenant\'s own database is denied outright, and the engine\'s default parameter and option groups carry no data.');

    this.plan = new backup.CfnRestoreTestingPlan(this, 'Plan', {
      restoreTestingPlanName: planName,
      scheduleExpression: restoreTestSchedule(props.scheduleMinute),
      scheduleExpressionTimezone: 'Etc/UTC',
      startWindowHours: 24,
      recoveryPointSelection: {
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: [props.vaultArn],
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: 31,
      },
    });
    this.selection = new backup.CfnRestoreTestingSelection(this, 'Selection', {
      restoreTestingPlanName: planName,
      restoreTestingSelectionName: 'database',
      protectedResourceType: 'RDS',
      protectedResourceArns: [instanceArn],
      iamRoleArn: this.role.roleArn,
      // Restored into the tenant's data subnets behind the database's security group, never a default VPC.
      restoreMetadataOverrides: {
        dbsubnetgroupname: props.subnetGroupName,
        vpcsecuritygroupids: Fn.join('', ['["', props.securityGroupId, '"]']),
      },
      validationWindowHours: window,
    });
    this.selection.node.addDependency(this.plan);
    this.selection.node.addDependency(policy);
  }
}
