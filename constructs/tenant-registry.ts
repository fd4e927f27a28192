import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { secureTableProps } from './secure-table-props.js';

export interface TenantRegistryProps {
  /** Encrypts the table and its backups. */
  readonly encryptionKey: kms.IKey;
  /**
   * Table name.
   * @default 'tessera-tenants'
   */
  readonly tableName?: string;
}

/** Secondary indexes the lifecycle workflows and the CLI query by. */
export const REGISTRY_INDEXES = { byStatus: 'by-status', byTier: 'by-tier' } as const;

/**
 * The tenant registry: one item per tenant (schema in lib/tenant-record.ts), point-in-time recovery,
 * deletion protection, retained when the stack goes, encrypted with the platform key, and backed
 * up daily by AWS Backup into a vault under the same key.
 */
export class TenantRegistry extends Construct {
  readonly table: dynamodb.TableV2;

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
      backupPlanRules: [new backup.BackupPlanRule({ ruleName: 'daily', scheduleExpression: events.Schedule.cron({ hour: '2', minute: '0' }), deleteAfter: Duration.days(90) })],
    });
    const selection = plan.addSelection('Registry', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)] });
    acknowledge(selection.grantPrincipal as unknown as Construct, ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]'],
      'AWS Backup\'s documented service-role policy for backing up the tenant registry table; AWS keeps it current with the services Backup supports.');
  }
}
