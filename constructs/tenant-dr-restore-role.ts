import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { SERVICE_ROLE_PATH, TENANT_ID_TAG } from '../lib/tenant-naming.js';

export interface TenantDrRestoreRoleProps {
  /** Role name, `tessera-<id>-dr-restore` (lib/tenant-naming.ts drRestoreRoleName); the DR key admits it by this ARN. */
  readonly roleName: string;
  /** ARN of the tenant's DR Backup vault `tessera-<id>-dr`: the recovery points are restored from it. */
  readonly vaultArn: string;
  /** ARN of the tenant's DR key: the DR copies are encrypted with it, and so is the restored instance. */
  readonly keyArn: string;
  /** DB instance identifier the failover restores into, `tessera-<id>-restored` (drRestoredInstanceIdentifier); nothing else can be created. */
  readonly restoredInstanceIdentifier: string;
  /** The tenant id: the `tessera:tenant-id` tag its DR copies carry (AWS Backup copies every tag of the backup it copies). */
  readonly tenantId: string;
}

/**
 * The DR-region restore role of a tenant (failover runbook, `tessera tenants failover-plan`): AWS Backup
 * assumes it for `start-restore-job` to restore a database recovery point of the DR vault into the DR
 * region as the DB instance `tessera-<id>-restored`, in the DB subnet group of the tier blueprint rebuilt
 * there, encrypted with the DR key. It exists because the primary's `restore-testing` role cannot do it:
 * that role creates only instances AWS Backup tags `awsbackup-restore-test` (and deletes after the
 * validation window), and its ARNs are the home region's.
 *
 * Least privilege: RDS restores only into the one instance name; the snapshots it describes and restores
 * from are AWS Backup snapshots of this account and region (`snapshot:awsbackup:*`, the names Backup gives
 * copies, `awsbackup:copyjob-<uuid>`) tagged with the tenant (`aws:ResourceTag/tessera:tenant-id`, a key the
 * Service Authorization Reference lists for RDS's `snapshot` type: a copy carries every tag of the backup it
 * copies, "Copying tags onto backups", AWS Backup Developer Guide, and the backup role tags each snapshot
 * with the tenant). The DR copies are also encrypted with the tenant's DR key and this role can use no other
 * key, so another tenant's snapshot could not be restored with it anyway (KMS refuses the grant). The
 * DR key's policy admits it through Backup and RDS only (constructs/tenant-dr-key.ts). The operator who
 * starts the job needs `backup:StartRestoreJob` and `iam:PassRole` on this role to `backup.amazonaws.com`.
 * Sources: https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-rds.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/tags-on-backups.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples.html
 */
export class TenantDrRestoreRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TenantDrRestoreRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const rdsArn = (resource: string, name: string) => stack.formatArn({ service: 'rds', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      path: SERVICE_ROLE_PATH,
      // Trust as AWS Backup documents its service roles, like the primary's restore-testing role.
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup restores the tenant database from its DR vault into the DR region (failover runbook)',
    });
    const restored = rdsArn('db', props.restoredInstanceIdentifier);
    const snapshots = rdsArn('snapshot', 'awsbackup:*');
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [this.role],
      statements: [
        // Only the tenant's: another tenant's copy in this account and Region (VPC tenants share the workload account) is
        // neither described nor restored from, whatever its key would say.
        new iam.PolicyStatement({
          sid: 'ReadTheTenantBackupSnapshots', actions: ['rds:DescribeDBSnapshots', 'rds:RestoreDBInstanceFromDBSnapshot'], resources: [snapshots],
          conditions: { StringEquals: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: props.tenantId } },
        }),
        new iam.PolicyStatement({
          sid: 'CreateOnlyTheRestoredInstance',
          actions: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:AddTagsToResource', 'rds:DescribeDBInstances', 'rds:ListTagsForResource'],
          resources: [restored],
        }),
        new iam.PolicyStatement({
          // The rebuilt tier blueprint's DB subnet group has a name CloudFormation generates; parameter and
          // option groups: the engine defaults (the restore metadata may name the rebuilt stack's later).
          sid: 'IntoSubnetGroupsAndDefaultParameters',
          actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
          resources: [rdsArn('subgrp', '*'), rdsArn('pg', 'default.postgres*'), rdsArn('og', 'default:postgres-*')],
        }),
        // Not backup:DescribeRecoveryPoint: it takes a recovery point's ARN, not the vault's (Service Authorization
        // Reference), so granted here it allowed nothing; whoever starts the restore reads it (restore testing: Backup's service-linked role).
        new iam.PolicyStatement({ sid: 'TheDrVault', actions: ['backup:DescribeBackupVault'], resources: [props.vaultArn] }),
        new iam.PolicyStatement({ sid: 'TheDrKey', actions: ['kms:DescribeKey'], resources: [props.keyArn] }),
        new iam.PolicyStatement({
          sid: 'GrantsOnTheDrKeyForAwsResources', actions: ['kms:CreateGrant'], resources: [props.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ],
    });
    acknowledge(policy, [
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:awsbackup:*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:subgrp:*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:pg:default.postgres*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:og:default:postgres-*]',
    ], 'AWS Backup names every copied snapshot awsbackup:copyjob-<uuid> (only those tagged with the tenant, which are also the only ones encrypted with the DR key, the only key this role may grant on), the rebuilt tier blueprint\'s DB subnet group gets a CloudFormation-generated name, and the engine\'s default parameter and option groups carry no data; the only instance it can create is tessera-<id>-restored.');
  }
}
