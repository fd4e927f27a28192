import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { apiRefusal } from '../../support/vector-store-gateway.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { nodeClient } from './official-clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * The gateway's uploads on a platform deployed without fine-tuning, in moto: API Gateway has no `/v1/uploads`
 * resources then, so `/v1/{proxy+}` hands them to the streaming router, which serves them with the Batch API
 * (uploads-lambda-path.test.ts: the fine-tuning Lambda, where it is deployed). Before, the router answered 404.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')]);
  await createResponsesTable('tessera-responses');
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'tessera-batch-files' }));
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: 'tessera-responses', [GATEWAY_ENV.batchFilesBucket]: 'tessera-batch-files', [GATEWAY_ENV.batchQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/unused' });
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchFilesBucket, GATEWAY_ENV.batchQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});

describe('the Uploads API on the router (no fine-tuning deployed)', () => {
  it('Node: a 5 MB batch file in 4 MiB parts becomes a batch file, read back byte for byte; another tenant\'s id is a 404', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const content = Buffer.from(Array.from({ length: 3 }, (_, i) => `{${' '.repeat(1_800_000)}"custom_id": "r-${i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "r"}]}}\n`).join(''));
    expect(content.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const upload = await acme.uploads.create({ bytes: content.byteLength, filename: 'router.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const partIds: string[] = [];
    for (let at = 0; at < content.byteLength; at += 4 * 1024 * 1024) partIds.push((await acme.uploads.parts.create(upload.id, { data: await toFile(content.subarray(at, at + 4 * 1024 * 1024), 'part') })).id);
    expect(await apiRefusal(nodeClient(apigw.url, tokens.globex!).uploads.complete(upload.id, { part_ids: partIds }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    const done = await acme.uploads.complete(upload.id, { part_ids: partIds });
    expect(done.file).toMatchObject({ purpose: 'batch', filename: 'router.jsonl', bytes: content.byteLength });
    expect(Buffer.from(await (await acme.files.content(done.file!.id)).arrayBuffer()).equals(content)).toBe(true);
    // A fine-tune upload here: no fine-tuning deployed, a 400 naming purpose.
    expect(await apiRefusal(acme.uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }))).toMatchObject({ status: 400, param: 'purpose', code: 'unsupported_value' });
  });
});
