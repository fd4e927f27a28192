import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { MODEL_USAGE_INDEX } from '../../../lambdas/inference/stores/model-usage.js';

/** The gateway's registry and usage tables in moto (same keys and usage index as the platform stack), with these tenants registered. */
export async function createGatewayTables(tenants: TenantRecord[], names = { registry: 'tessera-tenants', usage: 'tessera-usage' }): Promise<DynamoDBClient> {
  const ddb = new DynamoDBClient({});
  await ddb.send(new CreateTableCommand({ TableName: names.registry, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }] }));
  await createUsageTable(names.usage, ddb);
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  for (const t of tenants) await doc.send(new PutCommand({ TableName: names.registry, Item: t }));
  return ddb;
}

/**
 * The gateway's usage table in moto, with its ledger index, as constructs/inference-api.ts makes it (partition key `id`;
 * MODEL_USAGE_INDEX). The endpoint and credentials are the environment's (a moto server's AWS_ENDPOINT_URL).
 * @param name the table name @default 'tessera-usage'
 * @throws the SDK's ResourceInUseException when a table of that name exists
 */
export async function createUsageTable(name = 'tessera-usage', ddb = new DynamoDBClient({})): Promise<void> {
  const { name: index, partitionKey, sortKey } = MODEL_USAGE_INDEX;
  await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: partitionKey, AttributeType: 'S' }, { AttributeName: sortKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [{ IndexName: index, KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
  }));
}

/** The platform's responses table in moto (partition key `tenantId`, sort key `responseId`, as the platform stack makes it). */
export async function createResponsesTable(name = 'tessera-responses'): Promise<void> {
  const ddb = new DynamoDBClient({});
  await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'responseId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'responseId', KeyType: 'RANGE' }],
  }));
}
