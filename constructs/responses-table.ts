import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { secureTableProps } from './secure-table-props.js';

export interface ResponsesTableProps {
  /** The platform key: encrypts the table and its point-in-time recovery data. */
  readonly encryptionKey: kms.IKey;
  /**
   * Table name. In the `tessera-gateway-` family, whose tenant ids are reserved
   * (lib/tenant-naming.ts), so no tenant's stack name can be its leading part.
   * @default 'tessera-gateway-responses'
   */
  readonly tableName?: string;
}

/**
 * Stored Responses API answers (`store: true`): one item per response, partition key `tenantId`,
 * sort key `responseId` (`resp_…`), and OpenAI's conversations under sort keys `conv_…` (a head,
 * one item per conversation item and an id pointer each: lambdas/inference/stores/dynamodb-conversation-store.ts),
 * and the response cache's answers under sort keys `cache#<SHA-256 hex>` (lambdas/inference/response-cache/dynamodb-response-cache.ts),
 * expiring at `expiresAt` (epoch seconds; DynamoDB TTL, which
 * deletes lazily, within days: the gateway also refuses expired items). Encrypted with the
 * platform key, point-in-time recovery, deletion protection, retained when the stack goes (like
 * the usage table). The router reads and writes it only through the tenant-data role
 * (constructs/tenant-data-access-role.ts), whose `dynamodb:LeadingKeys` condition admits the
 * session tenant's partition only: another tenant's response is unreachable by IAM.
 */
export class ResponsesTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ResponsesTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName ?? 'tessera-gateway-responses',
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'responseId', type: dynamodb.AttributeType.STRING },
      ...secureTableProps({ encryptionKey: props.encryptionKey, timeToLiveAttribute: 'expiresAt' }),
    });
    acknowledge(this.table, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'Stored responses are short-lived conversation state (expiring after gateway.responsesTtlDays, default 30) that a client can regenerate; point-in-time recovery covers mistakes, and a daily backup kept 90 days would outlive the expiry tenants were promised.');
  }
}
