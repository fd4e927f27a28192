import { DeleteItemCommand, DynamoDBClient, DynamoDBServiceException, GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RETRYABLE_ERRORS } from '../../../lambdas/shared/errors.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, leased, setLifecycleEnv, state } from './support.js';

// GIVEN an offboarding execution holding acme's lease; STS, DynamoDB and S3 mocked at the SDK, checked against their API models.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const dynamodb = mockStrict(DynamoDBClient, 'dynamodb', DynamoDBServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const { handler, ERASE_ENV, MAX_ITEMS_PER_RUN, PAGE_SIZE, kindOf } = await import('../../../lambdas/lifecycle/erase-pooled-gateway-data.js');

const TABLE = 'tessera-responses';
const BUCKET = 'tessera-batch-files';
const ROLE = 'arn:aws:iam::222222222222:role/tessera-tenant-data';
const FILE = `file-${'a'.repeat(24)}`;
const BATCH = `batch_${'b'.repeat(24)}`;
const key = (responseId: string): Record<string, AttributeValue> => ({ tenantId: { S: 'acme' }, responseId: { S: responseId } });
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `resp_${String(from + i).padStart(6, '0')}`);

/** A Query answered from `items` (sort keys of acme's partition, in order) as DynamoDB pages them: Limit, ExclusiveStartKey. */
function partition(items: string[]) {
  dynamodb.on(QueryCommand).callsFake((input: { Limit?: number; ExclusiveStartKey?: Record<string, AttributeValue> }) => {
    const after = input.ExclusiveStartKey?.responseId.S;
    const rest = items.filter((id) => after === undefined || id > after);
    const page = rest.slice(0, input.Limit ?? rest.length);
    const more = rest.length > page.length;
    return { Items: page.map(key), ...(more ? { LastEvaluatedKey: key(page[page.length - 1]) } : {}) };
  });
  dynamodb.on(DeleteItemCommand).callsFake((input: { Key: Record<string, AttributeValue> }) => {
    const at = items.indexOf(input.Key.responseId.S!);
    if (at >= 0) items.splice(at, 1);
    return {};
  });
}

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { [ERASE_ENV.tenantDataRole]: ROLE, [ERASE_ENV.responsesTable]: TABLE, [ERASE_ENV.batchFilesBucket]: BUCKET });
  records.clear();
  records.set('acme', leased('offboard'));
  sts.reset();
  dynamodb.reset();
  s3.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) } });
  s3.on(DeleteObjectCommand).resolves({});
  // No Uploads API objects unless a test says so.
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
});

describe('Erase pooled gateway data (offboarding)', () => {
  it('deletes every item of the tenant\'s partition, the file\'s object under both its keys (expiring and kept until deleted) and the batch\'s parts, as the tenant-data role\'s session of the tenant', async () => {
    const items = ['conv_1', 'conv_1#id#msg_1', 'conv_1#item#000000000000', BATCH, FILE, 'resp_1'];
    partition(items);
    dynamodb.on(GetItemCommand).resolves({ Item: { body: { S: JSON.stringify({ progress: { parts: [0, 50] } }) } } });
    // WHEN
    const out = await handler(state('acme', { pooledData: {} }));
    // THEN all gone, counted by kind
    expect(items).toEqual([]);
    expect(out).toEqual({ tenantId: 'acme', state: 'COMPLETE', deleted: { responses: 1, conversations: 1, conversationItems: 2, batches: 1, batchFiles: 1, vectorStores: 0, other: 0 }, objectsDeleted: 4 });
    // with the file's keys (kept-files/ for a file kept until deleted, which no lifecycle rule removes) and the parts' from the records (no ListBucket)
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key).sort()).toEqual([
      `kept-files/acme/${FILE}`, `tenants/acme/batch-files/${BATCH}/part-000000.json`, `tenants/acme/batch-files/${BATCH}/part-000050.json`, `tenants/acme/batch-files/${FILE}`,
    ]);
    // the Query reads the tenant's partition only, keys only
    const query = dynamodb.commandCalls(QueryCommand)[0].args[0].input;
    expect([query.TableName, query.ExpressionAttributeValues, query.ProjectionExpression]).toEqual([TABLE, { ':t': { S: 'acme' } }, 'tenantId, responseId']);
    // as the tenant-data role with the tenant's session tag
    const assume = sts.commandCalls(AssumeRoleCommand)[0].args[0].input;
    expect([assume.RoleArn, assume.Tags]).toEqual([ROLE, [{ Key: 'tessera:tenant-id', Value: 'acme' }]]);
    // and recorded in the registry
    expect(records.get('acme')!.offboarding?.pooledData).toEqual({
      erased: { responses: 1, conversations: 1, conversationItems: 2, batches: 1, batchFiles: 1, vectorStores: 0, other: 0 }, objectsDeleted: 4, complete: true,
      checkedAt: expect.any(String), executionArns: [EXECUTION_ARN],
    });
  });

  it('stops after MAX_ITEMS_PER_RUN items with a cursor, goes on from it in the next run, and a resumed offboarding finds none and finishes', async () => {
    const items = ids(MAX_ITEMS_PER_RUN + 150);
    partition(items);
    // WHEN the first run
    const first = await handler(state('acme', { pooledData: {} }));
    // THEN it stopped with the cursor of its last page
    expect(first).toMatchObject({ state: 'ERASING', cursor: key(`resp_${String(MAX_ITEMS_PER_RUN - 1).padStart(6, '0')}`), deleted: { responses: MAX_ITEMS_PER_RUN } });
    expect(items).toHaveLength(150);
    expect(dynamodb.commandCalls(QueryCommand).every((c) => (c.args[0].input.Limit ?? 0) <= PAGE_SIZE)).toBe(true);
    expect(records.get('acme')!.offboarding?.pooledData).toMatchObject({ erased: { responses: MAX_ITEMS_PER_RUN }, complete: false });
    // WHEN the state machine runs it again with its answer
    dynamodb.resetHistory();
    const second = await handler(state('acme', { pooledData: first }));
    // THEN it went on from the cursor and finished
    expect(dynamodb.commandCalls(QueryCommand)[0].args[0].input.ExclusiveStartKey).toEqual(first.cursor);
    expect(second).toMatchObject({ state: 'COMPLETE', deleted: { responses: 150 } });
    expect(second.cursor).toBeUndefined();
    expect(items).toEqual([]);
    // WHEN a resumed offboarding (tessera tenants retry) runs it again from the start
    const retry = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:retry';
    records.set('acme', { ...leased('offboard', {}, retry), offboarding: records.get('acme')!.offboarding });
    const third = await handler(state('acme', { pooledData: {}, executionArn: retry }));
    // THEN none left: it deletes nothing and finishes, and the record keeps the totals and both executions
    expect(third).toMatchObject({ state: 'COMPLETE', deleted: { responses: 0 }, objectsDeleted: 0 });
    expect(records.get('acme')!.offboarding?.pooledData).toMatchObject({ erased: { responses: MAX_ITEMS_PER_RUN + 150 }, complete: true, executionArns: [EXECUTION_ARN, retry] });
  });

  it('a throttled DeleteItem fails the run under a name the state machine retries, with what it deleted before recorded; the retried run goes on', async () => {
    const items = ids(40);
    partition(items);
    let calls = 0;
    const throttled = new DynamoDBServiceException({ name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate of requests exceeds the allowed throughput' });
    dynamodb.on(DeleteItemCommand).callsFake((input: { Key: Record<string, AttributeValue> }) => {
      if (++calls === 20) throw throttled;
      items.splice(items.indexOf(input.Key.responseId.S!), 1);
      return {};
    });
    // WHEN
    const failed = await handler(state('acme', { pooledData: {} })).catch((e: Error) => e);
    // THEN
    expect((failed as Error).name).toBe('ProvisionedThroughputExceededException');
    expect(RETRYABLE_ERRORS).toContain('ProvisionedThroughputExceededException');
    expect(records.get('acme')!.offboarding?.pooledData).toMatchObject({ erased: { responses: 31 }, complete: false }); // two groups of CONCURRENCY, the one throttled not;
    // WHEN the Retry runs it again with the same input
    const retried = await handler(state('acme', { pooledData: {} }));
    expect(retried).toMatchObject({ state: 'COMPLETE', deleted: { responses: 9 } });
    expect(items).toEqual([]);
  });

  it('then deletes the tenant\'s gateway uploads (records, abandoned parts: no item names them), a listed page a run, ERASING until the listing is done', async () => {
    partition(['resp_1']);
    const UPLOAD = `upload_${'c'.repeat(24)}`;
    const uploadKeys = [`tenants/acme/batch-files/uploads/${UPLOAD}/upload.json`, ...Array.from({ length: 3 }, (_, i) => `tenants/acme/batch-files/uploads/${UPLOAD}/parts/part_${String(i).padStart(24, '0')}`)];
    const left = [...uploadKeys];
    s3.on(ListObjectsV2Command).callsFake((input: { MaxKeys?: number }) => {
      const page = left.slice(0, 2); // two keys a page here (MaxKeys 1,000 on S3)
      return { Contents: page.map((Key) => ({ Key })), IsTruncated: left.length > page.length, KeyCount: page.length, MaxKeys: input.MaxKeys };
    });
    s3.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
      if (left.includes(input.Key)) left.splice(left.indexOf(input.Key), 1);
      return {};
    });
    // WHEN the first run: the partition's item, then a page of uploads, more listed
    const first = await handler(state('acme', { pooledData: {} }));
    // THEN it asks for another run (no cursor: the partition is done)
    expect(first).toMatchObject({ state: 'ERASING', deleted: { responses: 1 }, objectsDeleted: 2 });
    expect(first.cursor).toBeUndefined();
    // and listed the tenant's uploads' prefix only
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.Bucket, c.args[0].input.Prefix])).toEqual([[BUCKET, 'tenants/acme/batch-files/uploads/']]);
    // WHEN run again
    const second = await handler(state('acme', { pooledData: first }));
    expect(second).toMatchObject({ state: 'COMPLETE', objectsDeleted: 2 });
    expect(left).toEqual([]);
  });

  it('names each kind by its sort key', () => {
    expect(['resp_x', 'conv_x', 'conv_x#item#000000000001', 'batch_x', 'file-x', 'vs_x', 'vs_x#file#file-x', 'chatcmpl-x', 'usage'].map(kindOf)).toEqual(['responses', 'conversations', 'conversationItems', 'batches', 'batchFiles', 'vectorStores', 'vectorStores', 'other', 'other']);
  });

  it('refuses to run without its table, naming the variable, before any call', async () => {
    delete process.env[ERASE_ENV.responsesTable];
    await expect(handler(state('acme', { pooledData: {} }))).rejects.toThrow(ERASE_ENV.responsesTable);
    expect(dynamodb.calls()).toHaveLength(0);
  });
});
