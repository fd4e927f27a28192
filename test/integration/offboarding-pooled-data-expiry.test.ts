import { DynamoDBClient, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { batchFileKey, keptFileKey, S3BatchFileStore } from '../../lambdas/inference/batches/s3-batch-file-store.js';
import { DynamoDbConversationStore } from '../../lambdas/inference/stores/dynamodb-conversation-store.js';
import { DynamoDbRecordTable } from '../../lambdas/inference/vector-stores/dynamodb-record-table.js';
import { VectorStoreRecords } from '../../lambdas/inference/vector-stores/records.js';
import { expirePooledData } from '../../lambdas/lifecycle/expire-pooled-gateway-data.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { POOLED_GATEWAY_DATA } from './support/platform-fixture.js';

/**
 * `offboarding.erasePooledGatewayData` off (the default): the whole offboarding on moto gives every item the tenant
 * leaves in the responses table a TTL at most `gateway.responsesTtlDays` (here 7) days on, those that had none (a file
 * kept until deleted, a vector store, its file record) and one that had a later one (a conversation written under a
 * longer TTL), and moves the kept file's content to the expiring prefix (whose lifecycle rule removes it), stored first
 * through the gateway's real stores; another tenant's items stay as they were; a second run changes nothing. The step
 * runs as the tenant-data role's session of the tenant (moto's STS; moto does not evaluate the role's policies:
 * test/infra/pooled-data-erasure.test.ts checks the IAM).
 */
const TTL_DAYS = 7;
const local = useLocalLifecycle(configWith({ gateway: { responsesTtlDays: TTL_DAYS } }));
const { responsesTable: TABLE, batchFilesBucket: BUCKET } = POOLED_GATEWAY_DATA;

describe('offboarding without offboarding.erasePooledGatewayData', () => {
  it('gives every item of the tenant\'s partition a TTL within responsesTtlDays and moves its kept files to the expiring prefix, leaving another tenant\'s as they were', async () => {
    // GIVEN an ACTIVE tenant
    const onboarded = await local.workflows.run('onboard', onboardRequest('leaver', 'starter'));
    expect(onboarded.error).toBeUndefined();
    const s3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    const ddb = new DynamoDBClient({ credentials: local.fixture.platform });
    const doc = unscopedDocumentClient();
    const files = new S3BatchFileStore(BUCKET, TABLE, async () => s3, doc);
    const conversations = new DynamoDbConversationStore(TABLE, doc);
    const vectorStores = new VectorStoreRecords(new DynamoDbRecordTable(TABLE, doc));
    const now = Math.floor(Date.now() / 1000);
    const owner = { tenantId: '', userId: 'u-1', role: 'admin' as const };
    // with, as it and another tenant each: a kept file (user_data, no expires_after), a vector store with that file
    // attached, and a conversation with one item written under a TTL of 400 days
    const kept = (hex: string) => ({ id: `file-${hex.repeat(24)}`, filename: 'notes.txt', purpose: 'user_data' as const, bytes: 2, createdAt: now, expiresAt: null });
    for (const [tenantId, hex] of [['leaver', 'a'], ['keeper', 'b']] as const) {
      await files.put(tenantId, kept(hex), new TextEncoder().encode('hi'));
      const storeId = `vs_${hex.repeat(24)}`;
      await vectorStores.createStore({ tenantId, id: storeId, name: 'docs', metadata: null, createdAt: now, lastActiveAt: now, embeddingModel: 'embed', owner: { ...owner, tenantId } });
      await vectorStores.putFile({
        tenantId, storeId, fileId: kept(hex).id, filename: 'notes.txt', createdAt: now, status: 'completed', lastError: null, usageBytes: 2, attributes: null,
        chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, run: 'r1', chunks: 1, owner: { ...owner, tenantId },
      });
      await conversations.create({ tenantId, conversationId: `conv_${hex.repeat(48)}`, createdAt: now, metadata: {}, expiresAt: now + 400 * 86_400 }, [{ id: `msg_${hex.repeat(8)}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }]);
    }
    const partition = async (tenantId: string) => {
      const items: Array<Record<string, AttributeValue>> = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await ddb.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': { S: tenantId } }, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    };
    const exists = async (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(() => true, () => false);
    const keeperBefore = await partition('keeper');
    // the kept file's record and the vector store's have no TTL: DynamoDB would keep them forever
    expect((await partition('leaver')).filter((i) => !i.expiresAt).map((i) => i.responseId.S).sort()).toEqual([kept('a').id, `vs_${'a'.repeat(24)}`, `vs_${'a'.repeat(24)}#file#${kept('a').id}`]);
    expect(await exists(keptFileKey('leaver', kept('a').id))).toBe(true);

    // WHEN the tenant is offboarded
    const before = Math.floor(Date.now() / 1000);
    const run = await local.workflows.run('offboard', { request: { tenantId: 'leaver', requestId: 'req-offboard-leaver' } });
    const after = Math.floor(Date.now() / 1000);

    // THEN it is OFFBOARDED, the step ran before Finish offboarding
    expect(run.error).toBeUndefined();
    const at = run.states.indexOf('Expire pooled gateway data');
    expect(run.states.slice(at, at + 3)).toEqual(['Expire pooled gateway data', 'Pooled data expiring?', 'Finish offboarding']);
    const record = (await getTenant('leaver'))!;
    expect(record.status).toBe('OFFBOARDED');
    // every item of its partition has a TTL within the configured days (the conversation's 400 days cut to them)
    const leaver = await partition('leaver');
    expect(leaver).toHaveLength(6);
    for (const item of leaver) {
      expect(Number(item.expiresAt?.N), item.responseId.S).toBeGreaterThanOrEqual(before + TTL_DAYS * 86_400);
      expect(Number(item.expiresAt?.N), item.responseId.S).toBeLessThanOrEqual(after + TTL_DAYS * 86_400);
    }
    // the kept file's content moved to the expiring prefix (the bucket's rule expire-batch-files removes it), its
    // record naming that expiry, so that the store reads it there
    expect(await exists(keptFileKey('leaver', kept('a').id))).toBe(false);
    expect(await exists(batchFileKey('leaver', kept('a').id))).toBe(true);
    const moved = (await files.get('leaver', kept('a').id))!;
    expect(moved.expiresAt).toBe(Number(leaver.find((i) => i.responseId.S === kept('a').id)!.expiresAt!.N));
    expect(new TextDecoder().decode(await files.content('leaver', kept('a').id))).toBe('hi');
    // the other tenant's items and kept file as they were
    expect(await partition('keeper')).toEqual(keeperBefore);
    expect(await exists(keptFileKey('keeper', kept('b').id))).toBe(true);
    // recorded
    expect(record.offboarding?.pooledDataExpiry).toEqual({
      bounded: { responses: 0, conversations: 1, conversationItems: 2, batches: 0, batchFiles: 1, vectorStores: 2, other: 0 }, keptFilesMoved: 1,
      expiresAt: new Date(Number(leaver[0].expiresAt!.N) * 1000).toISOString(), complete: true,
      checkedAt: expect.any(String), executionArns: [expect.stringContaining(':execution:tessera-offboard:')],
    });

    // AND a vector store file whose processing ends after the offboarding (a versioned rewrite) keeps its TTL
    const fileRecordKey = `vs_${'a'.repeat(24)}#file#${kept('a').id}`;
    await vectorStores.updateFile('leaver', `vs_${'a'.repeat(24)}`, kept('a').id, (f) => ({ ...f, status: 'failed', lastError: { code: 'server_error', message: 'gone' } }));
    const rewritten = (await partition('leaver')).find((i) => i.responseId.S === fileRecordKey)!;
    expect(JSON.parse(rewritten.body.S!).status).toBe('failed');
    expect(rewritten.expiresAt).toEqual(leaver.find((i) => i.responseId.S === fileRecordKey)!.expiresAt);
    const bounded = await partition('leaver');

    // AND a second run of the step finds nothing to bound: the same items, the same TTLs, the same objects
    const again = await expirePooledData('leaver', undefined, after + TTL_DAYS * 86_400 + 60, { dynamodb: ddb, s3, table: TABLE, bucket: BUCKET });
    expect(again).toMatchObject({ state: 'COMPLETE', bounded: { responses: 0, conversations: 0, conversationItems: 0, batches: 0, batchFiles: 0, vectorStores: 0, other: 0 }, keptFilesMoved: 0 });
    expect(await partition('leaver')).toEqual(bounded);
    expect(await exists(batchFileKey('leaver', kept('a').id))).toBe(true);
  });

  it('resumes from its cursor: runs of one item each bound the whole partition, moving the kept file once', async () => {
    // GIVEN a partition of three TTL-less items, one a kept file (a tenant not onboarded: the function alone)
    const s3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    const ddb = new DynamoDBClient({ credentials: local.fixture.platform });
    const doc = unscopedDocumentClient();
    const files = new S3BatchFileStore(BUCKET, TABLE, async () => s3, doc);
    const vectorStores = new VectorStoreRecords(new DynamoDbRecordTable(TABLE, doc));
    const now = Math.floor(Date.now() / 1000);
    const file = { id: `file-${'e'.repeat(24)}`, filename: 'a.png', purpose: 'vision' as const, bytes: 1, createdAt: now, expiresAt: null };
    await files.put('pager', file, new Uint8Array([1]));
    const owner = { tenantId: 'pager', userId: 'u-1', role: 'admin' as const };
    for (const hex of ['c', 'd']) await vectorStores.createStore({ tenantId: 'pager', id: `vs_${hex.repeat(24)}`, name: hex, metadata: null, createdAt: now, lastActiveAt: now, embeddingModel: 'embed', owner });
    const deps = { dynamodb: ddb, s3, table: TABLE, bucket: BUCKET, maxItems: 1 };
    const deadline = now + 86_400;
    // WHEN it runs one item at a time from each run's cursor
    let cursor: Record<string, AttributeValue> | undefined;
    const states: string[] = [];
    let moved = 0;
    for (let n = 0; n < 10; n++) {
      const out = await expirePooledData('pager', cursor, deadline, deps);
      states.push(out.state);
      moved += out.keptFilesMoved;
      if (out.state === 'COMPLETE') break;
      cursor = out.cursor;
    }
    // THEN three runs (and a last one finding the end), the file moved once, every item bounded
    expect(states.at(-1)).toBe('COMPLETE');
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(moved).toBe(1);
    const items = (await ddb.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': { S: 'pager' } } }))).Items!;
    expect(items.map((i) => [i.responseId.S, i.expiresAt?.N])).toEqual([[file.id, String(deadline)], [`vs_${'c'.repeat(24)}`, String(deadline)], [`vs_${'d'.repeat(24)}`, String(deadline)]]);
    expect(await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: keptFileKey('pager', file.id) })).then(() => true, () => false)).toBe(false);
  });
});
