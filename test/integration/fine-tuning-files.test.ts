import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../support/strict-mock.js';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TRAINING_FILE_BYTES, TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { MemoryFileStore } from '../../lambdas/fine-tuning/stores/file-store.js';
import { trainingTarget } from '../../lambdas/fine-tuning/sagemaker-requests.js';
import { runPythonCode } from '../support/python-zygote.js';

/**
 * OpenAI's Files API for fine-tuning files through the official clients against `tessera serve`
 * (files in memory; the S3 store against moto is in fine-tuning-files-moto.test.ts, the deployed
 * path in fine-tuning-files-lambda-path.test.ts): upload, list,
 * retrieve, content, delete, a job trained on an uploaded file, and every refusal in OpenAI's shape.
 */
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ACME = '444444444444';
const GLOBEX = '555555555555';
const EXAMPLES = [
  { messages: [{ role: 'system', content: 'You answer support questions.' }, { role: 'user', content: 'Where is my order?' }, { role: 'assistant', content: 'Let me check — café ☕ orders ship in 2 days.' }] },
  { messages: [{ role: 'user', content: 'Refund?' }, { role: 'assistant', content: 'Within 30 days.' }] },
];
/** Ten examples: a training file holds at least 10 (OpenAI's minimum). */
const JSONL = `${Array.from({ length: 5 }, () => EXAMPLES).flat().map((e) => JSON.stringify(e)).join('\n')}\n`;

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
const client = (who: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[who], maxRetries: 0 });
const config = gatewayConfig();
/** The fine-tuning files of `tessera serve` (in memory), for files put without the API (more than a list's 10,000). */
const fileStore = new MemoryFileStore(TRAINING_FILES_PREFIX);
const UMBRELLA = trainedTenant('umbrella', 'enterprise', '999999999999');
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config, upstream.url, [trainedTenant('acme', 'enterprise', ACME), trainedTenant('globex', 'professional', GLOBEX), trainedTenant('starterco', 'starter', '666666666666'), trainedTenant('initech', 'enterprise', '777777777777'),
    trainedTenant('hollow', 'enterprise', '888888888888', { stackOutputs: {} }), UMBRELLA],
    { fineTuning: { sageMaker: async () => new SageMakerClient({}), files: fileStore } });
  for (const t of ['acme', 'globex', 'starterco', 'initech', 'hollow', 'umbrella']) tokens[t] = await gw.token(t, { role: 'developer' });
  tokens.member = await gw.token('acme');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  sageMaker.reset();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
});

describe('the Files API with the official Node client', () => {
  it('uploads a fine-tuning file, lists, retrieves, reads back byte for byte and deletes it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const file = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'support.jsonl'), purpose: 'fine-tune' });
    expect(file).toMatchObject({ object: 'file', bytes: Buffer.byteLength(JSONL), filename: 'support.jsonl', purpose: 'fine-tune', status: 'processed' });
    expect(file.id).toMatch(/^file-[0-9a-f]{24}$/);
    expect(file.created_at).toBeGreaterThanOrEqual(before);
    // the tier keeps training data training.dataRetentionDays (enterprise: 90); S3's lifecycle rule rounds to the next midnight UTC
    expect(file.expires_at).toBe(Math.ceil((file.created_at + config.tiers.enterprise!.training.dataRetentionDays * 86_400) / 86_400) * 86_400);
    expect(await client('acme').files.retrieve(file.id)).toEqual(file);
    expect(await (await client('acme').files.content(file.id)).text()).toBe(JSONL);

    // Every answer carries its request id, as OpenAI's do (the SDK's request_id of a successful call), and the audit record has it.
    const { data: second, request_id: createdId } = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'more.jsonl'), purpose: 'fine-tune' }).withResponse();
    expect(createdId).toMatch(/^req_[0-9a-f]{24}$/);
    expect(gw.audit.records.find((r) => r.requestId === createdId)).toMatchObject({ action: 'fine_tuning.file.create', detail: { fileId: second.id } });
    expect((await client('acme').models.list().withResponse()).request_id).toMatch(/^req_[0-9a-f]{24}$/);
    const newestFirst = await client('acme').files.list();
    expect(newestFirst.data.map((f) => f.id)).toEqual([second.id, file.id]);
    const page = await client('acme').files.list({ limit: 1, order: 'asc' });
    expect(page.data.map((f) => f.id)).toEqual([file.id]);
    expect(page.hasNextPage()).toBe(true);
    expect((await page.getNextPage()).data.map((f) => f.id)).toEqual([second.id]);
    expect((await client('acme').files.list({ purpose: 'batch' })).data).toEqual([]);

    expect(await client('acme').files.delete(second.id)).toEqual({ id: second.id, object: 'file', deleted: true });
    expect((await refusal(client('acme').files.retrieve(second.id))).status).toBe(404);
    expect((await client('acme').files.list()).data.map((f) => f.id)).toEqual([file.id]);
    expect(gw.audit.records.findLast((r) => r.action === 'fine_tuning.file.create')).toMatchObject({ tenantId: 'acme', status: 200, detail: { fileId: second.id, filename: 'more.jsonl', examples: 10 } });
  });

  it('trains on an uploaded file: the job reads that file\'s own folder and answers its id as training_file', async () => {
    const train = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'train.jsonl'), purpose: 'fine-tune' });
    const valid = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'valid.jsonl'), purpose: 'fine-tune' });
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: train.id, validation_file: valid.id });
    expect(job).toMatchObject({ training_file: train.id, validation_file: valid.id, status: 'queued' });
    expect(await client('acme').fineTuning.jobs.retrieve(job.id)).toMatchObject({ training_file: train.id, validation_file: valid.id });
    const channels = sageMaker.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input.InputDataConfig!.map((c) => [c.ChannelName, c.DataSource!.S3DataSource!.S3Uri]);
    expect(channels.slice(0, 2)).toEqual([['train', `s3://tessera-acme-data-${ACME}/training-data/files/${train.id}/`], ['validation', `s3://tessera-acme-data-${ACME}/training-data/files/${valid.id}/`]]);
    await client('acme').fineTuning.jobs.cancel(job.id).catch(() => undefined);
  });

  it('fails a job on a training file of fewer than 10 examples (OpenAI\'s minimum) as OpenAI does: the job is made, failed with invalid_n_examples naming training_file, nothing started; a validation file has no minimum', async () => {
    // It was queued and trained (GPU hours billed) on a handful of lines; OpenAI fails such a job at its file validation.
    const c = client('acme');
    const nine = `${Array.from({ length: 9 }, (_, i) => JSON.stringify(EXAMPLES[i % 2])).join('\n\n')}\r\n   \n`;
    const short = await c.files.create({ file: await toFile(Buffer.from(nine), 'nine.jsonl'), purpose: 'fine-tune' });
    const failed = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: short.id });
    const error = { code: 'invalid_n_examples', param: 'training_file', message: 'Training file has 9 example(s), but must have at least 10 examples' };
    expect(failed).toMatchObject({ object: 'fine_tuning.job', status: 'failed', training_file: short.id, fine_tuned_model: null, error });
    expect(failed.finished_at).toEqual(expect.any(Number));
    expect(await c.fineTuning.jobs.retrieve(failed.id)).toMatchObject({ status: 'failed', error });
    const events = (await c.fineTuning.jobs.listEvents(failed.id)).data;
    expect(events[0]).toMatchObject({ level: 'error', message: `Validation of file ${short.id} failed: ${error.message}` });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    // and the SDK's retry of that create (its 200 lost on the way back) is answered the same failed job, not a second one
    const retried = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: short.id }, { headers: { 'x-stainless-retry-count': '1' } });
    expect(retried).toMatchObject({ id: failed.id, status: 'failed', error });
    expect((await c.fineTuning.jobs.list()).data.filter((j) => j.training_file === short.id).map((j) => j.id)).toEqual([failed.id]);
    // ten, the last line without its newline, trains; the short file may validate it
    const ten = await c.files.create({ file: await toFile(Buffer.from(`${nine}${JSON.stringify(EXAMPLES[1])}`), 'ten.jsonl'), purpose: 'fine-tune' });
    const job = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: ten.id, validation_file: short.id });
    expect(job).toMatchObject({ status: 'queued', training_file: ten.id, validation_file: short.id });
    await c.fineTuning.jobs.cancel(job.id).catch(() => undefined);
  });

  it('refuses to delete a file an active job reads (by id or by a key in its folder), naming the job, and deletes it once the job has ended', async () => {
    // SageMaker reads the channel when the training instance starts: a delete before that failed the job on AWS.
    const c = client('acme');
    const train = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'train.jsonl'), purpose: 'fine-tune' });
    const valid = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'valid.jsonl'), purpose: 'fine-tune' });
    const byKey = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'key.jsonl'), purpose: 'fine-tune' });
    const job = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: train.id, validation_file: valid.id });
    const other = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/files/${byKey.id}/key.jsonl` });
    for (const [file, reader] of [[train, job], [valid, job], [byKey, other]] as const) {
      const e = await refusal(c.files.delete(file.id));
      expect([e.status, e.code, e.param]).toEqual([400, 'file_in_use', 'file_id']);
      expect(e.message).toContain(`read by fine-tuning job ${reader.id} (queued)`);
      expect(await (await c.files.content(file.id)).text()).toBe(JSONL);
    }
    await c.fineTuning.jobs.cancel(job.id);
    await c.fineTuning.jobs.cancel(other.id);
    for (const file of [train, valid, byKey]) expect(await c.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    expect(await c.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'cancelled', training_file: train.id, validation_file: valid.id });
  });

  it('refuses a job on a key in the folder of a file that is gone (deleted, or never uploaded) as it refuses that file\'s id: its channel would read nothing', async () => {
    const c = client('acme');
    const gone = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'gone.jsonl'), purpose: 'fine-tune' });
    await c.files.delete(gone.id);
    const kept = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'kept.jsonl'), purpose: 'fine-tune' });
    const never = 'file-0123456789abcdef01234567';
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ training_file: `training-data/files/${gone.id}/gone.jsonl` }, 'training_file', gone.id],
      [{ training_file: `s3://tessera-acme-data-${ACME}/training-data/files/${gone.id}` }, 'training_file', gone.id],
      [{ training_file: `training-data/files/${never}/x.jsonl` }, 'training_file', never],
      [{ training_file: kept.id, validation_file: `training-data/files/${gone.id}/gone.jsonl` }, 'validation_file', gone.id],
    ];
    for (const [fields, param, id] of cases) {
      const e = await refusal(c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: fields.training_file!, ...fields }));
      expect(e, JSON.stringify(fields)).toBeInstanceOf(OpenAI.BadRequestError);
      expect([fields, e.code, e.param]).toEqual([fields, 'invalid_training_file', param]);
      expect(e.message).toContain(`is in the folder of file ${id}, which is not a file of yours`);
    }
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
    // A key in the folder of a file that exists trains, as before.
    const job = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/files/${kept.id}/kept.jsonl` });
    expect(job.training_file).toBe(`s3://tessera-acme-data-${ACME}/training-data/files/${kept.id}/kept.jsonl`);
    await c.fineTuning.jobs.cancel(job.id);
    await c.files.delete(kept.id);
  });

  it('refuses to delete a file under the key prefix an active job reads (a folder named without its slash): SageMaker\'s S3Prefix channel reads every object under it', async () => {
    // training_file "training-data/files/<id>" passes as a key (no trailing slash), and the channel's S3Prefix matches
    // every object whose key starts with it: the file's own object among them.
    const c = client('acme');
    const file = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'prefixed.jsonl'), purpose: 'fine-tune' });
    const job = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/files/${file.id}` });
    const e = await refusal(c.files.delete(file.id));
    expect([e.status, e.code, e.param]).toEqual([400, 'file_in_use', 'file_id']);
    expect(e.message).toContain(`read by fine-tuning job ${job.id} (queued)`);
    await c.fineTuning.jobs.cancel(job.id);
    expect(await c.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
  });

  it('refuses a job on a file of another purpose (a batch file the tenant uploaded) naming the field and saying the purpose, not that the file is someone else\'s', async () => {
    const batchLine = { custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } };
    const batch = await client('acme').files.create({ file: await toFile(Buffer.from(`${JSON.stringify(batchLine)}\n`), 'requests.jsonl'), purpose: 'batch' });
    expect(batch).toMatchObject({ purpose: 'batch', status: 'processed' });
    for (const field of ['training_file', 'validation_file'] as const) {
      const body = { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', [field]: batch.id };
      const e = await refusal(client('acme').fineTuning.jobs.create(body));
      expect([e.status, e.code, e.param]).toEqual([400, 'invalid_training_file', field]);
      // It said "is not a file of yours" of the tenant's own batch file (which files.retrieve answers).
      expect(e.message).not.toContain('is not a file of yours');
      expect(e.message).toContain(`${field} "${batch.id}" is not a fine-tuning file of yours`);
      expect(e.message).toContain('A file of another purpose (batch, user_data, vision, assistants) cannot be trained on');
    }
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(await client('acme').files.retrieve(batch.id)).toMatchObject({ id: batch.id, purpose: 'batch' });
  });

  it('keeps each tenant\'s files its own: another tenant\'s id is not found anywhere, and cannot be trained on', async () => {
    const mine = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'secret.jsonl'), purpose: 'fine-tune' });
    // Each call made when it is awaited: a rejection nobody awaits yet is an unhandled one.
    for (const attempt of [() => client('globex').files.retrieve(mine.id), () => client('globex').files.content(mine.id), () => client('globex').files.delete(mine.id)]) {
      const e = await refusal(attempt());
      expect([e.status, e.code]).toEqual([404, 'file_not_found']);
    }
    expect((await client('globex').files.list()).data.map((f) => f.id)).not.toContain(mine.id);
    const e = await refusal(client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: mine.id }));
    expect([e.status, e.code, e.param]).toEqual([400, 'invalid_training_file', 'training_file']);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(await (await client('acme').files.content(mine.id)).text()).toBe(JSONL);
  });

  it('refuses what it does not store, naming the field and value, and stores nothing', async () => {
    const count = async () => (await client('acme').files.list()).data.length;
    const before = await count();
    const cases: Array<[string, () => Promise<unknown>, number, string, string | null, RegExp]> = [
      ['another purpose', async () => client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'a.jsonl'), purpose: 'evals' }), 400, 'unsupported_value', 'purpose', /purpose "evals" is not served/],
      // The official Node client sends a nameless file with no filename parameter (undici's FormData): it was a 400 invalid_value "not a text field".
      ['an empty name', async () => client('acme').files.create({ file: await toFile(Buffer.from(JSONL), ''), purpose: 'fine-tune' }), 400, 'invalid_filename', 'file', /file has no filename \(an empty name\)/],
      ['a hidden name', async () => client('acme').files.create({ file: await toFile(Buffer.from(JSONL), '.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_filename', 'file', /hidden from the training job/],
      ['not JSON Lines by name', async () => client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'a.csv'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /a\.csv.*\*\.jsonl/],
      ['a line that is not JSON', async () => client('acme').files.create({ file: await toFile(Buffer.from(`${JSON.stringify(EXAMPLES[0])}\n{"messages": [\n`), 'a.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /line 2 is not JSON/],
      ['an example of no format', async () => client('acme').files.create({ file: await toFile(Buffer.from('{"text": "hi"}\n'), 'a.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /line 1 is none of the fine-tuning formats/],
      ['a message without a role', async () => client('acme').files.create({ file: await toFile(Buffer.from('{"messages": [{"content": "hi"}]}\n'), 'a.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /messages\[0\]/],
      ['not UTF-8', async () => client('acme').files.create({ file: await toFile(Buffer.from([0x7b, 0x22, 0x70, 0xe9, 0x22, 0x7d, 0x0a]), 'a.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /not UTF-8/],
      ['empty', async () => client('acme').files.create({ file: await toFile(Buffer.from('\n\n'), 'a.jsonl'), purpose: 'fine-tune' }), 400, 'invalid_file_format', 'file', /no examples/],
      ['expires_after', async () => client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'a.jsonl'), purpose: 'fine-tune', expires_after: { anchor: 'created_at', seconds: 3600 } }), 400, 'unsupported_parameter', 'expires_after', new RegExp(`expire with your tenant's training data ${config.tiers.enterprise!.training.dataRetentionDays} days after upload`)],
      ['over 4 MiB', async () => client('acme').files.create({ file: await toFile(Buffer.alloc(MAX_TRAINING_FILE_BYTES + 1, 0x0a), 'big.jsonl'), purpose: 'fine-tune' }), 413, 'request_too_large', null, /is 4194305 bytes, over the 4194304-byte \(4 MiB\) limit/],
      ['a tier without training', async () => client('starterco').files.create({ file: await toFile(Buffer.from(JSONL), 'a.jsonl'), purpose: 'fine-tune' }), 403, 'fine_tuning_not_allowed', null, /does not include fine-tuning/],
      ['a member (no fine_tuning.write)', async () => client('member').files.create({ file: await toFile(Buffer.from(JSONL), 'a.jsonl'), purpose: 'fine-tune' }), 403, 'permission_denied', null, /fine_tuning\.write/],
      ['an unknown file id', async () => client('acme').files.retrieve('file-000000000000000000000000'), 404, 'file_not_found', 'file_id', /No such File object/],
    ];
    for (const [what, call, status, code, param, message] of cases) {
      const e = await refusal(call());
      expect([what, e.status, e.code, e.param], String(e.message)).toEqual([what, status, code, param]);
      expect(e.message, what).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it('checks tool calls, tools, names, weights and content parts as OpenAI\'s chat fine-tuning format types them, naming the line and the field, and stores nothing', async () => {
    // Each of these was answered `processed` and reached the training job's chat template hours later.
    const c = client('acme');
    const count = async () => (await c.files.list()).data.length;
    const before = await count();
    const call = (fn: object, extra: object = {}) => ({ messages: [{ role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: fn }], ...extra }, { role: 'tool', tool_call_id: 'call_1', content: '20C' }, { role: 'assistant', content: 'It is 20C.' }] });
    const good = { ...call({ name: 'get_weather', arguments: '{"city": "Paris"}' }), tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }], parallel_tool_calls: false };
    const cases: Array<[string, unknown, RegExp]> = [
      ['arguments as an object', call({ name: 'get_weather', arguments: { city: 'Paris' } }), /line 2 has a function call whose arguments are not a string \(messages\[1\]\.tool_calls\[0\]\.function\.arguments = \{"city":"Paris"\}/],
      ['a call without a name', call({ arguments: '{}' }), /messages\[1\]\.tool_calls\[0\]\.function\.name = missing/],
      ['tool_calls not an array', { messages: [{ role: 'user', content: 'w?' }, { role: 'assistant', tool_calls: { id: 'c' } }] }, /messages\[1\]\.tool_calls = \{"id":"c"\}/],
      ['a call without an id', { messages: [{ role: 'user', content: 'w?' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, /messages\[1\]\.tool_calls\[0\]\.id = missing/],
      ['a call of another type', { messages: [{ role: 'user', content: 'w?' }, { role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', function: { name: 'f', arguments: '{}' } }] }] }, /messages\[1\]\.tool_calls\[0\]\.type must be "function"/],
      ['a legacy function_call with object arguments', { messages: [{ role: 'user', content: 'w?' }, { role: 'assistant', function_call: { name: 'f', arguments: { a: 1 } } }] }, /messages\[1\]\.function_call\.arguments = \{"a":1\}/],
      ['a tool message without tool_call_id', { messages: [{ role: 'user', content: 'w?' }, { role: 'tool', content: '20C' }, { role: 'assistant', content: 'ok' }] }, /messages\[1\]\.tool_call_id = missing/],
      ['a function message without a name', { messages: [{ role: 'user', content: 'w?' }, { role: 'function', content: '20C' }, { role: 'assistant', content: 'ok' }] }, /messages\[1\]\.name = missing/],
      ['a weight on a user message', { messages: [{ role: 'user', content: 'hi', weight: 0 }, { role: 'assistant', content: 'hello' }] }, /messages\[0\]\.weight: only an assistant message takes weight/],
      ['a name that is not a string', { messages: [{ role: 'user', content: 'hi', name: 5 }, { role: 'assistant', content: 'hello' }] }, /messages\[0\]\.name = 5/],
      ['a text part without text', { messages: [{ role: 'user', content: [{ type: 'text' }] }, { role: 'assistant', content: 'hello' }] }, /messages\[0\]\.content\[0\]\.text = missing/],
      ['an audio part', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }, { role: 'assistant', content: 'hello' }] }, /messages\[0\]\.content\[0\]\.type must be "text" or "image_url"/],
      ['tools not an array', { ...good, tools: { type: 'function' } }, /tools = \{"type":"function"\}/],
      ['a tool without a function name', { ...good, tools: [{ type: 'function', function: { description: 'weather' } }] }, /tools\[0\]\.function\.name = missing/],
      ['functions without a name', { ...good, tools: undefined, functions: [{ description: 'weather' }] }, /functions\[0\]/],
      ['parallel_tool_calls not a boolean', { ...good, parallel_tool_calls: 'yes' }, /parallel_tool_calls = "yes" \(true or false\)/],
    ];
    for (const [what, example, message] of cases) {
      const body = `${JSON.stringify(good)}\n${JSON.stringify(example)}\n`;
      const e = await refusal(c.files.create({ file: await toFile(Buffer.from(body), 'tools.jsonl'), purpose: 'fine-tune' }));
      expect([what, e.status, e.code, e.param], String(e.message)).toEqual([what, 400, 'invalid_file_format', 'file']);
      expect(e.message, what).toMatch(/file "tools\.jsonl" is not a fine-tuning file: line 2 /);
      expect(e.message, what).toMatch(message);
    }
    expect(await count()).toBe(before);
    // The well-formed tool-calling example (OpenAI's documented shape) is a file.
    const file = await c.files.create({ file: await toFile(Buffer.from(`${JSON.stringify(good)}\n`), 'tools.jsonl'), purpose: 'fine-tune' });
    expect(file).toMatchObject({ status: 'processed', filename: 'tools.jsonl' });
    await c.files.delete(file.id);
  });

  it('answers a body that is no form, and a form without its parts, with 400s naming them', async () => {
    type Refusal = { error: { code: string; param: string | null } };
    const post = (body: string, type: string) => fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.acme}`, 'content-type': type }, body });
    const json = await post(JSON.stringify({ file: JSONL, purpose: 'fine-tune' }), 'application/json');
    expect([json.status, ((await json.json()) as Refusal).error.code]).toEqual([400, 'invalid_content_type']);
    const noFile = new FormData();
    noFile.set('purpose', 'fine-tune');
    let r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.acme}` }, body: noFile });
    expect([r.status, ((await r.json()) as Refusal).error]).toMatchObject([400, { code: 'missing_required_parameter', param: 'file' }]);
    const textFile = new FormData();
    textFile.set('purpose', 'fine-tune');
    textFile.set('file', JSONL);
    r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.acme}` }, body: textFile });
    expect([r.status, ((await r.json()) as Refusal).error]).toMatchObject([400, { code: 'invalid_value', param: 'file' }]);
    // A file part with filename="" (as some clients send a nameless file) is an empty name too, not a text field.
    for (const disposition of ['form-data; name="file"; filename=""', 'form-data; name=file']) {
      const type = disposition.includes('filename') ? '' : 'Content-Type: application/octet-stream\r\n';
      r = await post(`--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--b\r\nContent-Disposition: ${disposition}\r\n${type}\r\n${JSONL}\r\n--b--\r\n`, 'multipart/form-data; boundary=b');
      expect([disposition, r.status, ((await r.json()) as Refusal).error]).toMatchObject([disposition, 400, { code: 'invalid_filename', param: 'file' }]);
    }
    const extra = new FormData();
    extra.set('purpose', 'fine-tune');
    extra.set('file', new Blob([JSONL]), 'a.jsonl');
    extra.set('bucket', 'tessera-globex-data-555555555555');
    r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.acme}` }, body: extra });
    expect([r.status, ((await r.json()) as Refusal).error]).toMatchObject([400, { code: 'unknown_parameter', param: 'bucket' }]);
    r = await post('--x\r\nnot a form', 'multipart/form-data; boundary=x');
    expect([r.status, ((await r.json()) as Refusal).error.code]).toEqual([400, 'invalid_multipart']);
  });
});

describe('the Files API under a careless or hostile caller', () => {
  it('pages on from a file deleted since the last page: deleting each listed file while iterating deletes them all', async () => {
    const c = client('initech');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.files.create({ file: await toFile(Buffer.from(JSONL), `n${i}.jsonl`), purpose: 'fine-tune' })).id);
    const newestFirst = [...ids].sort().reverse();
    const deleted: string[] = [];
    // The client asks for each next page with after = the last id of the page it just had (now deleted).
    for await (const f of c.files.list({ limit: 2 })) {
      await c.files.delete(f.id);
      deleted.push(f.id);
    }
    expect(deleted).toEqual(newestFirst);
    expect((await c.files.list()).data).toEqual([]);

    const [a, b, d] = await Promise.all(['a', 'b', 'd'].map(async (n) => (await c.files.create({ file: await toFile(Buffer.from(JSONL), `${n}.jsonl`), purpose: 'fine-tune' })).id));
    const [first, middle, last] = [a!, b!, d!].sort();
    await c.files.delete(middle!);
    expect((await c.files.list({ after: middle, order: 'asc' })).data.map((f) => f.id)).toEqual([last]);
    expect((await c.files.list({ after: middle })).data.map((f) => f.id)).toEqual([first]);
    const e = await refusal(c.files.list({ after: 'file-../x' }));
    expect([e.status, e.code, e.param]).toEqual([404, 'file_not_found', 'after']);
    // An empty cursor is a 400 naming after, on this list as on the jobs' (it was a 404 here, the first page there).
    const empty = await refusal(c.files.list({ after: '' }));
    expect([empty.status, empty.code, empty.param]).toEqual([400, 'invalid_value', 'after']);
    for (const id of [first, last]) await c.files.delete(id!);
  });

  it('refuses filenames with C1 controls, line separators or bidirectional overrides, as it refuses C0 controls and paths', async () => {
    const before = (await client('initech').files.list()).data.length;
    for (const name of ['a\u0085b.jsonl', 'a\u009bb.jsonl', 'a\u2028b.jsonl', 'invoice\u202Egpj.jsonl', 'x\u2066y\u2069.jsonl', 'a\u0000b.jsonl']) {
      const e = await refusal(client('initech').files.create({ file: await toFile(Buffer.from(JSONL), name), purpose: 'fine-tune' }).then((f) => { throw new Error(`accepted ${JSON.stringify(name)} as ${JSON.stringify(f.filename)}`); }));
      expect([JSON.stringify(name), e.status, e.code, e.param], e.message).toEqual([JSON.stringify(name), 400, 'invalid_filename', 'file']);
    }
    for (const name of ['../x.jsonl', '..\\x.jsonl']) { // the official clients send a basename: sent as a browser's FormData would
      const form = new FormData();
      form.set('purpose', 'fine-tune');
      form.set('file', new Blob([JSONL]), name);
      const r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.initech}` }, body: form });
      expect([name, r.status, ((await r.json()) as { error: { code: string } }).error.code]).toEqual([name, 400, 'invalid_filename']);
    }
    expect((await client('initech').files.list()).data.length).toBe(before);
    const ok = await client('initech').files.create({ file: await toFile(Buffer.from(JSONL), 'ventes d\u2019été ☕ 日本.jsonl'), purpose: 'fine-tune' });
    expect(ok.filename).toBe('ventes d\u2019été ☕ 日本.jsonl');
    await client('initech').files.delete(ok.id);
  });

  it('answers a tenant that stores no files 403 before reading its upload, whatever the upload holds', async () => {
    for (const [who, code] of [['starterco', 'fine_tuning_not_allowed'], ['hollow', 'fine_tuning_not_provisioned']] as const) {
      for (const [name, text] of [['a.csv', JSONL], ['a.jsonl', 'not json\n'], ['a.jsonl', JSONL]]) {
        const e = await refusal(client(who).files.create({ file: await toFile(Buffer.from(text!), name!), purpose: 'fine-tune' }));
        expect([who, name, e.status, e.code]).toEqual([who, name, 403, code]);
      }
      const e = await refusal(client(who).files.list());
      expect([who, e.status, e.code]).toEqual([who, 403, code]);
    }
  });

  it('answers a body over what an upload may be 413 without naming a size it never read', async () => {
    const form = new FormData();
    form.set('purpose', 'fine-tune');
    form.set('file', new Blob([Buffer.alloc(MAX_TRAINING_FILE_BYTES + 200 * 1024, 0x0a)]), 'big.jsonl');
    const r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens.initech}` }, body: form });
    const { error } = (await r.json()) as { error: { code: string; message: string } };
    expect([r.status, error.code]).toEqual([413, 'request_too_large']);
    expect(error.message).toMatch(new RegExp(`^the request body is over ${MAX_TRAINING_FILE_BYTES + 64 * 1024} bytes, the most POST /v1/files reads`));
    expect(error.message).toMatch(/training-data\/ prefix/);
  });

  it('answers a user_data body over the limit 413 for a tenant without training resources too, naming each purpose\'s way, not the fine-tuning 403', async () => {
    for (const who of ['hollow', 'initech']) {
      const form = new FormData();
      form.set('purpose', 'user_data');
      form.set('file', new Blob([Buffer.alloc(MAX_TRAINING_FILE_BYTES + 200 * 1024, 0x61)]), 'notes.txt');
      const r = await fetch(`${gw.url}/files`, { method: 'POST', headers: { authorization: `Bearer ${tokens[who]}` }, body: form });
      const { error } = (await r.json()) as { error: { code: string; message: string } };
      expect([who, r.status, error.code]).toEqual([who, 413, 'request_too_large']);
      expect(error.message).toContain('send a larger "batch", "user_data", "vision" or "assistants" file in parts with the Uploads API');
      expect(error.message).toContain('a "fine-tune" file: send it in parts with the Uploads API too');
    }
  });

  it('keeps at most 100 characters of a made-up file id in the audit record, as it bounds the path', async () => {
    const id = `file-${'x'.repeat(5000)}`;
    const e = await refusal(client('initech').files.retrieve(id));
    expect([e.status, e.code]).toEqual([404, 'file_not_found']);
    const record = gw.audit.records.findLast((r) => r.action === 'fine_tuning.file.read')!;
    expect(record.status).toBe(404);
    expect(String((record.detail as { fileId: string }).fileId)).toBe(`${id.slice(0, 100)}…`);
  });
});

describe('GET /v1/files past 10,000 fine-tune files, beside the Batch API\'s files', () => {
  it('pages over every file once, in order, with the official clients\' auto-pagination; has_more true while more exist (the newest fine-tune files past the oldest 10,000 were never listed)', async () => {
    // 10,003 fine-tune files made over the last days (time-ordered ids, as newFileId makes), put into the store directly;
    // then two batch files and two fine-tune files through the API: the newest of all.
    const at = trainingTarget(UMBRELLA);
    const start = Date.now() - 3 * 86_400_000;
    for (let i = 0; i < 10_003; i++) {
      const id = `file-${(start + i * 1000).toString(16).padStart(12, '0')}${i.toString(16).padStart(12, '0')}`;
      await fileStore.put(at, { id, filename: `f${i}.jsonl`, content: Buffer.from(JSONL) });
    }
    const c = client('umbrella');
    const batchLine = { custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } };
    for (const n of ['a', 'b']) await c.files.create({ file: await toFile(Buffer.from(`${JSON.stringify(batchLine)}\n`), `${n}.jsonl`), purpose: 'batch' });
    for (const n of ['c', 'd']) await c.files.create({ file: await toFile(Buffer.from(JSONL), `${n}.jsonl`), purpose: 'fine-tune' });
    const all = [...(await fileStore.list(at)).map((f) => f.id)];
    const batchIds: string[] = [];
    for await (const f of c.files.list({ purpose: 'batch' })) batchIds.push(f.id);
    expect(batchIds).toHaveLength(2);
    const everyId = [...all, ...batchIds].sort();
    expect(everyId).toHaveLength(10_007);

    for (const order of ['desc', 'asc'] as const) {
      const seen: string[] = [];
      for await (const f of c.files.list({ limit: 4000, order })) seen.push(f.id);
      expect(seen.length, order).toBe(10_007);
      expect(seen, order).toEqual(order === 'asc' ? everyId : [...everyId].reverse());
    }
    // One page of the newest: has_more while older files are left, none once the last page is read.
    const first = await c.files.list({ limit: 10_000 });
    expect([first.data.length, first.has_more, first.data[0]!.id]).toEqual([10_000, true, everyId.at(-1)]);
    const rest = await c.files.list({ limit: 10_000, after: first.data.at(-1)!.id });
    expect([rest.data.map((f) => f.id), rest.has_more]).toEqual([everyId.slice(0, 7).reverse(), false]);

    // The Python client's iteration pages the same way (after = the last id of each page).
    const { stdout } = await runPythonCode(`
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
print(json.dumps([f.id for f in c.files.list(limit=3000, order="asc")]))
`, [gw.url, tokens.umbrella!]);
    expect(JSON.parse(stdout)).toEqual(everyId);
  });
});

describe('the Files API with the official Python client', () => {
  it('refuses a tool call whose arguments are an object in upload_file_chunked, naming the line and the field, and completes nothing; a job on one example fails with invalid_n_examples', async () => {
    const script = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
ok = {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "20C"}, {"role": "assistant", "content": "20C."}]}
bad = json.loads(json.dumps(ok))
bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"city": "Paris"}
data = (json.dumps(ok) + "\\n" + json.dumps(bad) + "\\n").encode("utf-8")
before = [f.id for f in c.files.list()]
try:
    c.uploads.upload_file_chunked(file=data, filename="tools.jsonl", bytes=len(data), mime_type="text/jsonl", purpose="fine-tune")
    refused = None
except openai.BadRequestError as e:
    refused = [e.status_code, e.code, e.param, e.message]
good = (json.dumps(ok) + "\\n").encode("utf-8")
upload = c.uploads.upload_file_chunked(file=good, filename="tools.jsonl", bytes=len(good), mime_type="text/jsonl", purpose="fine-tune")
after = [f.id for f in c.files.list()]
job = c.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file=upload.file.id)
too_few = [job.status, job.error.code, job.error.param, job.error.message]
print(json.dumps({"refused": refused, "status": upload.status, "file": upload.file.status, "added": [i for i in after if i not in before] == [upload.file.id], "too_few": too_few}))
`;
    const { stdout } = await runPythonCode(script, [gw.url, tokens.initech!]);
    const out = JSON.parse(stdout);
    expect(out.refused.slice(0, 3)).toEqual([400, 'invalid_file_format', 'file']);
    expect(out.refused[3]).toMatch(/line 2 has a function call whose arguments are not a string \(messages\[1\]\.tool_calls\[0\]\.function\.arguments = \{"city":"Paris"\}/);
    // the refused upload made no file: the only one listed is the good upload's
    expect(out).toMatchObject({ status: 'completed', file: 'processed', added: true });
    // one example: the job fails at its file validation, with OpenAI's error for a file under its minimum of 10
    expect(out.too_few).toEqual(['failed', 'invalid_n_examples', 'training_file', 'Training file has 1 example(s), but must have at least 10 examples']);
  });

  it('uploads with files.create, trains on it, reads it back with files.content and deletes it once the job is cancelled', async () => {
    const script = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
f = c.files.create(file=("support.jsonl", sys.argv[3].encode("utf-8")), purpose="fine-tune")
job = c.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file=f.id)
content = c.files.content(f.id).read().decode("utf-8")
listed = [x.id for x in c.files.list()]
try:
    c.files.delete(f.id)
    in_use = None
except openai.BadRequestError as e:
    in_use = [e.code, e.param]
c.fine_tuning.jobs.cancel(job.id)
deleted = c.files.delete(f.id)
try:
    c.files.retrieve(f.id)
    gone = None
except openai.NotFoundError as e:
    gone = e.code
print(json.dumps({"file": f.model_dump(), "job_training_file": job.training_file, "content": content, "listed": f.id in listed, "in_use": in_use, "deleted": deleted.deleted, "gone": gone}))
`;
    const { stdout } = await runPythonCode(script, [gw.url, tokens.globex!, JSONL]);
    const out = JSON.parse(stdout);
    expect(out.file).toMatchObject({ object: 'file', filename: 'support.jsonl', purpose: 'fine-tune', status: 'processed', bytes: Buffer.byteLength(JSONL) });
    expect(out).toMatchObject({ job_training_file: out.file.id, content: JSONL, listed: true, in_use: ['file_in_use', 'file_id'], deleted: true, gone: 'file_not_found' });
    const channel = sageMaker.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input.InputDataConfig![0]!.DataSource!.S3DataSource!.S3Uri;
    expect(channel).toBe(`s3://tessera-globex-data-${GLOBEX}/training-data/files/${out.file.id}/`);
  });
});
