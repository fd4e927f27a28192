import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { DynamoDbPendingCreates } from '../../lambdas/inference/stores/dynamodb-pending-creates.js';
import { createResponsesTable } from './support/gateway-tables.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';
import { runPythonCode } from '../support/python-zygote.js';

/**
 * The Files API on the deployed path: API Gateway (multipart bodies base64-encoded, as the API's
 * binaryMediaTypes make it), the authorizer Lambda, then the fine-tuning API Lambda's handler,
 * which reaches the tenant bucket as the tenant's training-files role (moto's STS) and starts the
 * training job as its training-launcher role (moto's SageMaker). Official Node and Python clients.
 */
const ACCOUNT = '123456789012'; // moto's default account: the roles assumed in it see the bucket made here
const bucket = `tessera-acme-data-${ACCOUNT}`;
// A second tenant in the same account (as VPC-isolated tenants share the workload account), with a bucket of its own.
const globexBucket = `tessera-globex-data-${ACCOUNT}`;
// Bytes that text decoding would change if API Gateway passed the body as text: multi-byte characters across the framing.
/** Ten examples: a job trains on at least 10 (OpenAI's minimum). */
const JSONL = `${JSON.stringify({ messages: [{ role: 'user', content: 'Grüße 👋 — ça va?' }, { role: 'assistant', content: '日本語で答えます' }] })}\n`.repeat(10);
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let client: OpenAI;
let token: string;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(gatewayConfig(), upstream.url, [trainedTenant('acme', 'enterprise', ACCOUNT), trainedTenant('globex', 'enterprise', ACCOUNT)], { fineTuning: true });
  for (const b of [bucket, globexBucket]) await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: b }));
  // The notes of the creates still running (pending-creates.ts) are items of the responses table, as deployed
  // (constructs/fine-tuning.ts): set before the Lambda builds its gateway, on its first invocation.
  await createResponsesTable('tessera-responses');
  process.env[GATEWAY_ENV.responsesTable] = 'tessera-responses';
  token = await apigw.token('acme', { role: 'developer' });
  client = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0, timeout: 20_000 });
}, 120_000);
afterAll(async () => {
  delete process.env[GATEWAY_ENV.responsesTable];
  await apigw?.stop();
  await upstream?.stop();
});

describe('fine-tuning files through API Gateway and the fine-tuning Lambda (moto)', () => {
  it('uploads byte for byte, lists, reads back and trains on the file as the tenant\'s own roles', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(JSONL), 'grüße.jsonl'), purpose: 'fine-tune' });
    expect(file).toMatchObject({ object: 'file', filename: 'grüße.jsonl', bytes: Buffer.byteLength(JSONL), purpose: 'fine-tune', status: 'processed' });
    const head = await new S3Client({ forcePathStyle: true }).send(new HeadObjectCommand({ Bucket: bucket, Key: `training-data/files/${file.id}/gr%C3%BC%C3%9Fe.jsonl` }));
    expect(head.ContentLength).toBe(Buffer.byteLength(JSONL));
    const content = await client.files.content(file.id);
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await content.arrayBuffer()).equals(Buffer.from(JSONL))).toBe(true);
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([file.id]);

    const job = await client.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: file.id });
    expect(job.training_file).toBe(file.id);
    const described = await new SageMakerClient({}).send(new DescribeTrainingJobCommand({ TrainingJobName: `acme-ft-${job.id.slice(6)}` }));
    expect(described.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(`s3://${bucket}/training-data/files/${file.id}/`);
    // The job is queued (moto delivers no state change): the jobs table says it reads the file, so the delete is refused.
    const inUse = await client.files.delete(file.id).catch((e: unknown) => e);
    expect(inUse).toMatchObject({ status: 400, code: 'file_in_use', param: 'file_id' });
    expect((inUse as Error).message).toContain(`read by fine-tuning job ${job.id}`);
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
  });

  it('refuses a member, a JSON body and a bad line in OpenAI\'s shape through the Lambda', async () => {
    const member = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme'), maxRetries: 0 });
    const denied = await member.files.create({ file: await toFile(Buffer.from(JSONL), 'a.jsonl'), purpose: 'fine-tune' }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 403, code: 'permission_denied' });
    const bad = await client.files.create({ file: await toFile(Buffer.from('{"messages": 1}\n'), 'a.jsonl'), purpose: 'fine-tune' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_file_format', param: 'file' });
    const json = await fetch(`${apigw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect([json.status, ((await json.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_content_type']);
    // A repeated query parameter (multiValueQueryStringParameters): queryStringParameters kept the last value, the others dropped unseen.
    for (const path of ['/files?limit=1&limit=2', '/fine_tuning/jobs?after=a&after=b']) {
      const repeated = await fetch(`${apigw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect([path, repeated.status, ((await repeated.json()) as { error: { param: string } }).error.param]).toEqual([path, 400, /\?(\w+)=/.exec(path)![1]]);
    }
  });

  it('answers a file\'s content as bytes to the clients (Accept: application/binary), as text to others, and 406 where text would pass Lambda\'s 6 MB', async () => {
    // 4 MiB of backslashes in a JSON string: each is two bytes of JSON in Lambda's answer, past its 6 MB as text.
    const big = `{"prompt":"${'\\\\'.repeat(2_096_000)}","completion":""}\n`;
    const file = await client.files.create({ file: await toFile(Buffer.from(big), 'escapes.jsonl'), purpose: 'fine-tune' });
    const bytes = Buffer.from(await (await client.files.content(file.id)).arrayBuffer());
    expect(bytes.equals(Buffer.from(big))).toBe(true);
    const asText = await fetch(`${apigw.url}/files/${file.id}/content`, { headers: { authorization: `Bearer ${token}`, accept: '*/*' } });
    expect(asText.status).toBe(406);
    expect(((await asText.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'not_acceptable', param: 'accept' });
    const small = await client.files.create({ file: await toFile(Buffer.from(JSONL), 'small.jsonl'), purpose: 'fine-tune' });
    const text = await fetch(`${apigw.url}/files/${small.id}/content`, { headers: { authorization: `Bearer ${token}` } });
    expect(await text.text()).toBe(JSONL);
    // The training data itself is for those who may upload it: a viewer sees the file, not its content.
    const viewer = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme', { role: 'viewer' }), maxRetries: 0 });
    expect((await viewer.files.retrieve(small.id)).bytes).toBe(Buffer.byteLength(JSONL));
    expect(await viewer.files.content(small.id).catch((e: unknown) => e)).toMatchObject({ status: 403, code: 'permission_denied' });
  });

  it('another tenant\'s file id answers exactly as an id that exists nowhere: retrieve, content, delete, list after it, train on it or its folder', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(JSONL), 'acme-only.jsonl'), purpose: 'fine-tune' });
    const globex = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('globex', { role: 'developer' }), maxRetries: 0, timeout: 20_000 });
    const unknown = `file-${'0'.repeat(24)}`;
    const refusal = async (call: Promise<unknown>) => {
      const e = await call.then(() => { throw new Error('expected a refusal'); }, (x: unknown) => x);
      if (!(e instanceof OpenAI.APIError)) throw e;
      return JSON.stringify({ status: e.status, error: e.error });
    };
    const attempts: Array<[string, (id: string) => Promise<unknown>]> = [
      ['retrieve', (id) => globex.files.retrieve(id)],
      ['content', (id) => globex.files.content(id)],
      ['delete', (id) => globex.files.delete(id)],
      ['train on it', (id) => globex.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: id })],
      ['train on its folder', (id) => globex.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/files/${id}/data.jsonl` })],
    ];
    for (const [what, call] of attempts) {
      const theirs = await refusal(call(file.id));
      expect([what, theirs.split(file.id).join(unknown)]).toEqual([what, await refusal(call(unknown))]);
      expect(theirs, what).toMatch(/"status":(400|404)/);
    }
    expect((await globex.files.list({ after: file.id })).data).toEqual([]);
    expect((await globex.files.list()).data).toEqual([]);
    // Nothing of acme's moved: its object is where it was, and still its own.
    expect(Buffer.from(await (await client.files.content(file.id)).arrayBuffer()).equals(Buffer.from(JSONL))).toBe(true);
  });

  it('the Python client uploads and reads back the same bytes', async () => {
    const script = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
f = c.files.create(file=("py.jsonl", sys.argv[3].encode("utf-8")), purpose="fine-tune")
print(json.dumps({"id": f.id, "bytes": f.bytes, "same": c.files.content(f.id).read() == sys.argv[3].encode("utf-8")}))
`;
    const { stdout } = await runPythonCode(script, [apigw.url, token, JSONL]);
    expect(JSON.parse(stdout)).toMatchObject({ bytes: Buffer.byteLength(JSONL), same: true });
  });

  it('a fine_tuning.jobs.create whose first attempt is still recording its job when the client\'s retry comes (timeout 3 s, a slow jobs-table write): the retry waits on the attempt\'s note in the responses table and is answered that job; one job per call (Node and Python clients)', async () => {
    const globexToken = await apigw.token('globex', { role: 'developer' });
    const acmeFile = await client.files.create({ file: await toFile(Buffer.from(JSONL), 'slow-job.jsonl'), purpose: 'fine-tune' });
    const globexFile = await new OpenAI({ baseURL: apigw.url, apiKey: globexToken, maxRetries: 0, timeout: 20_000 }).files.create({ file: await toFile(Buffer.from(JSONL), 'slow-job.jsonl'), purpose: 'fine-tune' });
    const jobsOf = async (apiKey: string) => (await new OpenAI({ baseURL: apigw.url, apiKey, maxRetries: 0, timeout: 20_000 }).fineTuning.jobs.list({ limit: 100 })).data.map((j) => j.id);
    const before = [...(await jobsOf(token)), ...(await jobsOf(globexToken))];
    // The first record of each create's job waits until a retry has read the attempt's note (DynamoDbPendingCreates).
    const create = DynamoDbJobStore.prototype.create;
    const read = DynamoDbPendingCreates.prototype.read;
    const creates: string[] = [];
    let opened: () => void = () => undefined;
    vi.spyOn(DynamoDbJobStore.prototype, 'create').mockImplementation(async function (this: DynamoDbJobStore, job, ...rest) {
      creates.push(job.id);
      if (creates.length === 1 || creates.length === 2) await new Promise<void>((ok) => (opened = ok));
      return create.call(this, job, ...rest);
    });
    vi.spyOn(DynamoDbPendingCreates.prototype, 'read').mockImplementation(async function (this: DynamoDbPendingCreates, tenantId, key) {
      if (key.startsWith('jobs#')) opened();
      return read.call(this, tenantId, key);
    });
    try {
      const job = await new OpenAI({ baseURL: apigw.url, apiKey: token, timeout: 3000 }).fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: acmeFile.id, suffix: 'slow-node', hyperparameters: { n_epochs: 2 } });
      // The old code: the retry found no job recorded yet and made a second job and training job (or, with the same suffix, a 400).
      expect(creates).toEqual([job.id]);
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=3.0, max_retries=2)
job = client.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file=sys.argv[3], seed=11, metadata={"client": "python"})
print(json.dumps({"id": job.id}))
`;
      const python = JSON.parse((await runPythonCode(script, [apigw.url, globexToken, globexFile.id])).stdout) as { id: string };
      expect(creates).toEqual([job.id, python.id]);
      expect((await jobsOf(token)).filter((id) => !before.includes(id))).toEqual([job.id]);
      expect((await jobsOf(globexToken)).filter((id) => !before.includes(id))).toEqual([python.id]);
    } finally {
      opened();
      vi.restoreAllMocks();
    }
  });
});
