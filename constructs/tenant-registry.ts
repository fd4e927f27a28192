import { Aws, Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { PLATFORM_DR_VAULT_NAME } from '../lib/platform-dr-naming.js';
import { secureTableProps } from './secure-table-props.js';

export interface TenantRegistryProps {
  /** Encrypts the table and its backups. */
  readonly encryptionKey: kms.IKey;
  /**
   * Table name.
   * @default 'tessera-tenants'
   */
  readonly tableName?: string;
  /**
   * The platform's DR region: each backup is also copied to the vault `tessera-platform-dr` there
   * (TesseraPlatformDr), and backups run hourly instead of daily, so the registry's copy in the DR
   * region is at most about an hour old.
   * @default - backups stay in the home region (`platformDisasterRecovery: 'none'`)
   */
  readonly drRegion?: string;
}

/** Secondary indexes the lifecycle workflows and the CLI query by. */
export const REGISTRY_INDEXES = { byStatus: 'by-status', byTier: 'by-tier' } as const;

/**
 * The tenant registry: one item per tenant (schema in lib/tenant-record.ts), point-in-time recovery,
 * deletion protection, retained when the stack goes, encrypted with the platform key, and backed
 * up daily by AWS Backup into a vault under the same key.
 *
 * Disaster recovery (`drRegion`): PITR plus an hourly backup copied to the DR region's vault, not a
 * global table. The lifecycle writes the registry with conditional writes and transactions (the
 * tenant lease, account claims, slots); a global table's replicas are written last-writer-wins
 * across regions, and transactions are ACID only in the region they are made in
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html),
 * so a lease or claim taken in one region could be overwritten from the other. The platform runs
 * in one region at a time; a copy it restores in the DR region after a failover keeps those
 * guarantees, at the cost of an RPO of about an hour and an RTO of a table restore.
 * Cross-region copies of DynamoDB backups need AWS Backup's advanced features for DynamoDB turned
 * on in the account (https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html),
 * a one-time account setting that CloudFormation cannot make (see docs/resilience.md).
 */
export class TenantRegistry extends Construct {
  readonly table: dynamodb.TableV2;
  /** Tables backed up and copied to the DR region with the registry, in its selection (copyToDrRegion). */
  private readonly drCopies: dynamodb.ITableV2[] = [];
  private readonly drRegion?: string;

  constructor(scope: Construct, id: string, props: TenantRegistryProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName ?? 'tessera-tenants',
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      ...secureTableProps({ encryptionKey: props.encryptionKey, recoveryPeriodInDays: 35 }),
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      globalSecondaryIndexes: [
        { indexName: REGISTRY_INDEXES.byStatus, partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING } },
        { indexName: REGISTRY_INDEXES.byTier, partitionKey: { name: 'tier', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING } },
      ],
    });

    const vault = new backup.BackupVault(this, 'BackupVault', { encryptionKey: props.encryptionKey, removalPolicy: RemovalPolicy.RETAIN });
    const plan = new backup.BackupPlan(this, 'BackupPlan', {
      backupVault: vault,
      backupPlanRules: [props.drRegion ? this.drRule(props.drRegion) : new backup.BackupPlanRule({ ruleName: 'daily', scheduleExpression: events.Schedule.cron({ hour: '2', minute: '0' }), deleteAfter: Duration.days(90) })],
    });
    const selection = plan.addSelection('Registry', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)] });
    acknowledge(selection.grantPrincipal as unknown as Construct, ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]'],
      'AWS Backup\'s documented service-role policy for backing up the tenant registry table; AWS keeps it current with the services Backup supports.');
    // The tables copyToDrRegion adds go into this selection (a BackupSelection takes a list of
    // resources): one resource for all of them, not one each (TesseraPlatform is at CloudFormation's
    // 500-resource limit with a platform DR region).
    (selection.node.defaultChild as backup.CfnBackupSelection).addPropertyOverride('BackupSelection.Resources',
      Lazy.list({ produce: () => [this.table.tableArn, ...this.drCopies.map((t) => t.tableArn)] }));
    this.drRegion = props.drRegion;
  }

  /**
   * With a DR region, another platform table rides on the registry's plan: backed up hourly and
   * copied to `tessera-platform-dr` with it (listed in the registry's `AWS::Backup::BackupSelection`,
   * under its role), so a failover restores it like the registry. Without one, nothing: the table
   * keeps its own PITR.
   */
  copyToDrRegion(table: dynamodb.ITableV2): void {
    if (!this.drRegion) return;
    this.drCopies.push(table);
  }

  /** Hourly backups kept 35 days, each copied to `tessera-platform-dr` in `region`, kept there 35 days too. */
  private drRule(region: string): backup.BackupPlanRule {
    const drVault = backup.BackupVault.fromBackupVaultArn(this, 'DrVault', `arn:${Aws.PARTITION}:backup:${region}:${Aws.ACCOUNT_ID}:backup-vault:${PLATFORM_DR_VAULT_NAME}`);
    return new backup.BackupPlanRule({
      ruleName: 'hourly-copied-to-dr',
      scheduleExpression: events.Schedule.cron({ minute: '0' }),
      deleteAfter: Duration.days(35),
      copyActions: [{ destinationBackupVault: drVault, deleteAfter: Duration.days(35) }],
    });
  }
}
