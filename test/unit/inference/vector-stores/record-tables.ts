import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import { DirRecordTable } from '../../../../lambdas/inference/vector-stores/dir-record-table.js';
import { DynamoDbRecordTable } from '../../../../lambdas/inference/vector-stores/dynamodb-record-table.js';
import type { RecordTable } from '../../../../lambdas/inference/vector-stores/records.js';
import { tempDir } from '../../../support/temp-dirs.js';

/**
 * DynamoDB as the vector store records' table is read and written (partition `tenantId`, sort key `responseId`), with
 * the conditions the table makes: attribute_not_exists(responseId) and `version = :v`, refused as DynamoDB refuses
 * them; a Query answers in sort key order. Call at a test file's top level: the items are emptied before each test.
 * @returns `ddb` (the mock), `doc` (the client it answers), `state.sent` (the tenant whose client each command was sent
 *   with, and the partition it named) and `state.clientOf` (set by the tables' client factory), and `tables`: the
 *   record tables to run a test on, DirRecordTable (tessera serve) and DynamoDbRecordTable (AWS) over this mock
 */
export function mockRecordTables() {
  const ddb = mockClient(DynamoDBDocumentClient);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const state = { items: new Map<string, Record<string, unknown>>(), sent: [] as Array<{ client: string; partition: string }>, clientOf: '' };
  const id = (tenantId: unknown, key: unknown) => `${String(tenantId)}\u0000${String(key)}`;
  beforeEach(() => {
    ddb.reset();
    state.items = new Map();
    state.sent = [];
    const { sent } = state;
    ddb.on(GetCommand).callsFake((input) => {
      sent.push({ client: state.clientOf, partition: input.Key.tenantId });
      return { Item: state.items.get(id(input.Key.tenantId, input.Key.responseId)) };
    });
    ddb.on(PutCommand).callsFake((input) => {
      sent.push({ client: state.clientOf, partition: input.Item.tenantId });
      const key = id(input.Item.tenantId, input.Item.responseId);
      const current = state.items.get(key);
      const ok = input.ConditionExpression === 'attribute_not_exists(responseId)' ? !current : current?.version === input.ExpressionAttributeValues[':v'];
      if (!ok) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      state.items.set(key, input.Item);
      return {};
    });
    // An existing record's rewrite: SET body = :b, version = :n on the condition version = :v, its other attributes kept.
    ddb.on(UpdateCommand).callsFake((input) => {
      sent.push({ client: state.clientOf, partition: input.Key.tenantId });
      const key = id(input.Key.tenantId, input.Key.responseId);
      const current = state.items.get(key);
      if (input.UpdateExpression !== 'SET body = :b, version = :n' || input.ConditionExpression !== 'version = :v') throw new Error(`unexpected update ${input.UpdateExpression} if ${input.ConditionExpression}`);
      if (current?.version !== input.ExpressionAttributeValues[':v']) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      state.items.set(key, { ...current, body: input.ExpressionAttributeValues[':b'], version: input.ExpressionAttributeValues[':n'] });
      return {};
    });
    ddb.on(QueryCommand).callsFake((input) => {
      const t = input.ExpressionAttributeValues[':t'];
      sent.push({ client: state.clientOf, partition: t });
      const p = input.ExpressionAttributeValues[':p'] as string;
      return { Items: [...state.items.values()].filter((i) => i.tenantId === t && String(i.responseId).startsWith(p)).sort((a, b) => String(a.responseId).localeCompare(String(b.responseId))) };
    });
    ddb.on(DeleteCommand).callsFake((input) => {
      sent.push({ client: state.clientOf, partition: input.Key.tenantId });
      state.items.delete(id(input.Key.tenantId, input.Key.responseId));
      return {};
    });
  });
  const tables: Array<[string, () => RecordTable]> = [
    ['DirRecordTable (tessera serve)', () => new DirRecordTable(tempDir('tessera-vs-records-'))],
    ['DynamoDbRecordTable (AWS)', () => new DynamoDbRecordTable('responses', async (tenantId) => { state.clientOf = tenantId; return doc; })],
  ];
  return { ddb, doc, state, tables };
}
