import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ERASE_ENV } from '../../lambdas/lifecycle/erase-pooled-gateway-data.js';
import { batchFileKey, keptFileKey } from '../../lambdas/inference/batches/s3-batch-file-store.js';
import { S3BatchFileStore } from '../../lambdas/inference/batches/s3-batch-file-store.js';
import { DynamoDbResponseStore } from '../../lambdas/inference/stores/dynamodb-response-store.js';
import { DynamoDbRecordTable } from '../../lambdas/inference/vector-stores/dynamodb-record-table.js';
import { VectorStoreRecords } from '../../lambdas/inference/vector-stores/records.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { POOLED_GATEWAY_DATA } from './support/platform-fixture.js';

/**
 * `offboarding.erasePooledGatewayData` on: the whole offboarding on moto erases the tenant's stored response, batch
 * file and a file kept until deleted (`user_data` without `expires_after`: no lifecycle rule would ever remove its
 * object) (records and objects), and a vector store with its file record, from the gateway's pooled stores, stored first through the gateway's real stores, and leaves
 * another tenant's; the registry records what it erased (offboarding.pooledData). The step runs as the tenant-data
 * role's session of the tenant (moto's STS, TESSERA_TENANT_DATA_ROLE_ARN of the fixture); moto does not evaluate the
 * role's policies (test/infra/pooled-data-erasure.test.ts checks the IAM).
 */
const local = useLocalLifecycle(configWith({ offboarding: { erasePooledGatewayData: true } }));
const { responsesTable: TABLE, batchFilesBucket: BUCKET } = POOLED_GATEWAY_DATA;

describe('offboarding with offboarding.erasePooledGatewayData', () => {
  it('erases the tenant\'s stored responses and batch files before OFFBOARDED, and leaves another tenant\'s', async () => {
    // GIVEN the responses table and batch files bucket, as the platform has them (the fixture makes both with the setting on)
    expect(local.fixture.env).toMatchObject({ [ERASE_ENV.responsesTable]: TABLE, [ERASE_ENV.batchFilesBucket]: BUCKET });
    const s3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    // and an ACTIVE tenant
    const onboarded = await local.workflows.run('onboard', onboardRequest('pooled', 'starter'));
    expect(onboarded.error).toBeUndefined();
    // with a stored response and a batch file of its own, and another tenant's of each, through the gateway's stores
    const responses = new DynamoDbResponseStore(TABLE, unscopedDocumentClient());
    const files = new S3BatchFileStore(BUCKET, TABLE, async () => s3, unscopedDocumentClient());
    const vectorStores = new VectorStoreRecords(new DynamoDbRecordTable(TABLE, unscopedDocumentClient()));
    const now = Math.floor(Date.now() / 1000);
    const fileOf = (hex: string) => ({ id: `file-${hex.repeat(24)}`, filename: 'in.jsonl', purpose: 'batch' as const, bytes: 2, createdAt: now, expiresAt: now + 86_400 });
    const keptOf = (hex: string) => ({ id: `file-${hex.repeat(24)}`, filename: 'notes.txt', purpose: 'user_data' as const, bytes: 2, createdAt: now, expiresAt: null });
    for (const [tenantId, hex, keptHex] of [['pooled', 'a', 'c'], ['keeper', 'b', 'd']] as const) {
      await responses.put({ tenantId, responseId: `resp_${hex.repeat(8)}`, response: { id: `resp_${hex.repeat(8)}`, object: 'response' }, inputItems: [], messages: [], expiresAt: now + 86_400 });
      await files.put(tenantId, fileOf(hex), new TextEncoder().encode('{}'));
      await files.put(tenantId, keptOf(keptHex), new TextEncoder().encode('hi'));
      // and a vector store with the kept file attached (records without a TTL)
      const owner = { tenantId, userId: 'u-1', role: 'admin' as const };
      await vectorStores.createStore({ tenantId, id: `vs_${hex.repeat(24)}`, name: 'docs', metadata: null, createdAt: now, lastActiveAt: now, embeddingModel: 'embed', owner });
      await vectorStores.putFile({
        tenantId, storeId: `vs_${hex.repeat(24)}`, fileId: keptOf(keptHex).id, filename: 'notes.txt', createdAt: now, status: 'completed', lastError: null, usageBytes: 2,
        attributes: null, chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, run: 'r1', chunks: 1, owner,
      });
    }
    const exists = async (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(() => true, () => false);
    expect(await exists(batchFileKey('pooled', fileOf('a').id))).toBe(true);
    expect(await exists(keptFileKey('pooled', keptOf('c').id))).toBe(true);
    expect(await files.get('pooled', keptOf('c').id)).toEqual(keptOf('c'));

    // WHEN
    const run = await local.workflows.run('offboard', { request: { tenantId: 'pooled', requestId: 'req-offboard-pooled' } });

    // THEN the tenant is OFFBOARDED, the step ran before Finish offboarding
    expect(run.error).toBeUndefined();
    expect(run.states.slice(run.states.indexOf('Erase pooled gateway data'), run.states.indexOf('Erase pooled gateway data') + 3)).toEqual(['Erase pooled gateway data', 'Pooled data erased?', 'Finish offboarding']);
    const record = (await getTenant('pooled'))!;
    expect(record.status).toBe('OFFBOARDED');
    // its response and batch file (record and object) gone
    expect(await responses.get('pooled', `resp_${'a'.repeat(8)}`)).toBeUndefined();
    expect(await files.get('pooled', fileOf('a').id)).toBeUndefined();
    expect(await exists(batchFileKey('pooled', fileOf('a').id))).toBe(false);
    // and its kept file (record and object)
    expect(await files.get('pooled', keptOf('c').id)).toBeUndefined();
    expect(await exists(keptFileKey('pooled', keptOf('c').id))).toBe(false);
    // and its vector store and the store's file record
    expect(await vectorStores.listStores('pooled')).toEqual([]);
    expect(await vectorStores.listFiles('pooled', `vs_${'a'.repeat(24)}`)).toEqual([]);
    // another tenant's kept
    expect(await responses.get('keeper', `resp_${'b'.repeat(8)}`)).toBeDefined();
    expect(await files.get('keeper', fileOf('b').id)).toBeDefined();
    expect(await exists(batchFileKey('keeper', fileOf('b').id))).toBe(true);
    expect(await files.get('keeper', keptOf('d').id)).toEqual(keptOf('d'));
    expect(await exists(keptFileKey('keeper', keptOf('d').id))).toBe(true);
    expect((await vectorStores.listStores('keeper')).map((v) => v.id)).toEqual([`vs_${'b'.repeat(24)}`]);
    expect(await vectorStores.listFiles('keeper', `vs_${'b'.repeat(24)}`)).toHaveLength(1);
    // and recorded, the vector store records as a kind of their own
    expect(record.offboarding?.pooledData).toEqual({
      erased: { responses: 1, conversations: 0, conversationItems: 0, batches: 0, batchFiles: 2, vectorStores: 2, other: 0 }, objectsDeleted: 4, complete: true,
      checkedAt: expect.any(String), executionArns: [expect.stringContaining(':execution:tessera-offboard:')],
    });
  });
});
