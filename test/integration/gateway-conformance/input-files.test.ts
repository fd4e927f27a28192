import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { mockBedrockRuntime } from '../../support/bedrock-strict.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { PNG_BASE64 } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { fakeAwsEnv, plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Model input files through `tessera serve`: `files.create({purpose: "user_data" | "vision"})`, then the id in chat
 * completions (`file.file_id`) and the Responses API (`input_file.file_id`, `input_image.file_id`), with the
 * official Node client and the Python client. The gateway resolves each id to the tenant's stored bytes inline: an
 * OpenAI-compatible upstream gets `file_data` / an image data URL (never the id), Bedrock a document block, the
 * guardrails read a text file's text. Another tenant's id, a batch file's, an unknown one: refused naming the field.
 */
fakeAwsEnv();
const bedrock = mockBedrockRuntime();
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.from(PNG_BASE64, 'base64');
const pdfUrl = `data:application/pdf;base64,${PDF.toString('base64')}`;
const pngUrl = `data:image/png;base64,${PNG_BASE64}`;
const MODEL = 'openai-compatible/default';

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let tokens: Record<string, string>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const tenants = [plainTenant('acme'), plainTenant('globex'), localTenant('careful', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false } } as never)];
  gw = await serveGateway(conformanceConfig(), upstream.url, tenants, { batches: { concurrency: 1 } });
  tokens = { acme: await gw.token('acme'), globex: await gw.token('globex'), careful: await gw.token('careful') };
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  bedrock.restore();
});
beforeEach(() => {
  upstream.reset();
  bedrock.reset();
});

const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);
const uploadPdf = async (tenant = 'acme') => client(tenant).files.create({ file: await toFile(PDF, 'Q3 report.pdf'), purpose: 'user_data' });
const uploadPng = async (tenant = 'acme') => client(tenant).files.create({ file: await toFile(PNG, 'chart.png'), purpose: 'vision' });
const userParts = () => (upstream.requests[0] as { messages: Array<{ content: unknown }> }).messages.at(-1)!.content as Array<Record<string, any>>;
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(OpenAI.APIError);
  const err = e as InstanceType<typeof OpenAI.APIError>;
  return { status: err.status, ...(err.error as Record<string, unknown>) };
};

describe('files of purpose user_data and vision, with the official Node client', () => {
  it('uploads, lists by purpose, retrieves, reads back and deletes them as the tenant\'s', async () => {
    const pdf = await uploadPdf();
    const png = await uploadPng();
    expect(pdf).toMatchObject({ object: 'file', purpose: 'user_data', filename: 'Q3 report.pdf', bytes: PDF.length, status: 'processed' });
    expect(png).toMatchObject({ purpose: 'vision', filename: 'chart.png', bytes: PNG.length });
    expect((await client().files.list({ purpose: 'vision' })).data.map((f) => f.id)).toEqual([png.id]);
    expect((await client().files.list({ purpose: 'user_data' })).data.map((f) => f.id)).toContain(pdf.id);
    expect(Buffer.from(await (await client().files.content(pdf.id)).arrayBuffer())).toEqual(PDF);
    expect(await refusal(client('globex').files.retrieve(pdf.id))).toMatchObject({ status: 404, code: 'file_not_found' });
    const short = await client().files.create({ file: await toFile(PDF, 'short.pdf'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } });
    expect(short.expires_at).toBe(short.created_at + 3600);
    expect(await client().files.delete(short.id)).toMatchObject({ id: short.id, deleted: true });
  });

  it('refuses to download a file of purpose assistants, as OpenAI does (400 "Not allowed to download files of purpose: assistants", naming file_id)', async () => {
    const notes = await client().files.create({ file: await toFile(Buffer.from('Refunds within 30 days.\n'), 'notes.txt'), purpose: 'assistants' });
    expect(await client().files.retrieve(notes.id)).toMatchObject({ id: notes.id, purpose: 'assistants' });
    const refused = await refusal(client().files.content(notes.id));
    expect(refused).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'file_id', code: 'invalid_value' });
    expect(String((refused as { message?: unknown }).message)).toMatch(/^Not allowed to download files of purpose: assistants\. .*vectorStores\.files\.content/);
    await gw.settled();
    expect(gw.audit.records.filter((r) => r.detail?.fileId === notes.id).map((r) => [r.action, r.status])).toEqual([['file.create', 200], ['file.read', 200], ['file.content', 400]]);
    expect(await client().files.delete(notes.id)).toMatchObject({ deleted: true });
  });

  it('audits every file call as file.create|list|read|content|delete, detail.purpose naming the file\'s (batch and user_data alike)', async () => {
    const pdf = await uploadPdf();
    const batch = await client().files.create({ file: await toFile(Buffer.from('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\n'), 'in.jsonl'), purpose: 'batch' });
    await client().files.list();
    for (const f of [pdf, batch]) {
      await client().files.retrieve(f.id);
      await (await client().files.content(f.id)).arrayBuffer();
      await client().files.delete(f.id);
    }
    await gw.settled();
    const actions = (id: string) => gw.audit.records.filter((r) => r.detail?.fileId === id).map((r) => [r.action, r.detail?.purpose]);
    expect(actions(pdf.id)).toEqual([['file.create', 'user_data'], ['file.read', 'user_data'], ['file.content', 'user_data'], ['file.delete', 'user_data']]);
    expect(actions(batch.id)).toEqual([['file.create', 'batch'], ['file.read', 'batch'], ['file.content', 'batch'], ['file.delete', 'batch']]);
    expect(gw.audit.records.filter((r) => r.method === 'GET' && r.path === '/v1/files').at(-1)).toMatchObject({ action: 'file.list', status: 200 });
  });

  it('refuses an upload whose name or bytes are not of its purpose, naming file', async () => {
    expect(await refusal(client().files.create({ file: await toFile(PDF, 'report.pdf'), purpose: 'vision' }))).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format', message: expect.stringContaining('"vision" is an image') });
    expect(await refusal(client().files.create({ file: await toFile(Buffer.from('hello'), 'fake.png'), purpose: 'vision' }))).toMatchObject({ status: 400, param: 'file', message: expect.stringContaining('not image/png') });
    expect(await refusal(client().files.create({ file: await toFile(Buffer.from('MZ'), 'tool.exe'), purpose: 'user_data' }))).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format' });
  });

  it('a user_data file over the limit is a 413 naming the Uploads API (served for user_data files), not only splitting requests into batch files; no fine-tuning way where it is not served', async () => {
    const e = await refusal(client().files.create({ file: await toFile(Buffer.alloc(4 * 1024 * 1024 + 128 * 1024, 0x61), 'notes.txt'), purpose: 'user_data' }));
    expect(e).toMatchObject({ status: 413, code: 'request_too_large' });
    const { message } = e as unknown as { message: string };
    expect(message).toMatch(/^the request body is over \d+ bytes, the most POST \/v1\/files reads on this gateway/);
    expect(message).toContain('send a larger "batch", "user_data", "vision" or "assistants" file in parts with the Uploads API');
    expect(message).not.toContain('fine-tune');
  });

  it('chat: a file_id reaches an OpenAI-compatible upstream as the stored bytes inline, never the id', async () => {
    const pdf = await uploadPdf();
    await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'summarize' }, { type: 'file', file: { file_id: pdf.id } }] }] });
    expect(userParts()[1]).toEqual({ type: 'file', file: { file_data: pdfUrl, filename: 'Q3 report.pdf' } });
    expect(JSON.stringify(upstream.requests[0])).not.toContain(pdf.id);
  });

  it('chat: a file_id on Bedrock is a Converse document block of the stored bytes', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'a report' }] } }, stopReason: 'end_turn', usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 }, metrics: { latencyMs: 1 } });
    const pdf = await uploadPdf();
    const out = await client().chat.completions.create({ model: 'bedrock/amazon.nova-lite', messages: [{ role: 'user', content: [{ type: 'text', text: 'summarize' }, { type: 'file', file: { file_id: pdf.id } }] }] });
    expect(out.choices[0]!.message.content).toBe('a report');
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    const doc = input.messages![0]!.content![1]!.document!;
    expect({ format: doc.format, name: doc.name, bytes: Buffer.from(doc.source!.bytes!) }).toEqual({ format: 'pdf', name: 'Q3 report', bytes: PDF });
  });

  it('Responses: input_file and input_image file_ids reach the upstream inline; the stored input items keep the ids', async () => {
    const pdf = await uploadPdf();
    const png = await uploadPng();
    const response = await client().responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'compare' }, { type: 'input_file', file_id: pdf.id }, { type: 'input_image', file_id: png.id, detail: 'low' }] }] });
    expect(userParts().slice(1)).toEqual([
      { type: 'file', file: { file_data: pdfUrl, filename: 'Q3 report.pdf' } },
      { type: 'image_url', image_url: { url: pngUrl, detail: 'low' } },
    ]);
    const items = await client().responses.inputItems.list(response.id);
    expect((items.data[0] as { content: unknown[] }).content.slice(1)).toEqual([
      expect.objectContaining({ type: 'input_file', file_id: pdf.id }),
      expect.objectContaining({ type: 'input_image', file_id: png.id }),
    ]);
    expect(JSON.stringify(items.data)).not.toContain(PDF.toString('base64'));
  });

  it('refuses another tenant\'s id, a batch file\'s, an unknown one and a document as an image, naming the field and the id', async () => {
    const theirs = await uploadPdf('globex');
    const batch = await client().files.create({ file: await toFile(Buffer.from('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\n'), 'b.jsonl'), purpose: 'batch' });
    const pdf = await uploadPdf();
    const chat = (id: string) => client().chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'x' }, { role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { file_id: id } }] }] });
    const field = 'messages[1].content[1].file.file_id';
    expect(await refusal(chat(theirs.id))).toMatchObject({ status: 404, code: 'file_not_found', param: field, message: expect.stringContaining(theirs.id) });
    expect(await refusal(chat('file-0123456789abcdef01234567'))).toMatchObject({ status: 404, code: 'file_not_found', param: field, message: expect.stringContaining('file-0123456789abcdef01234567') });
    expect(await refusal(chat(batch.id))).toMatchObject({ status: 400, code: 'invalid_value', param: field, message: expect.stringContaining(`${batch.id} has purpose "batch"`) });
    const image = await refusal(client().responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', file_id: pdf.id, detail: 'auto' }] }] }));
    expect(image).toMatchObject({ status: 400, code: 'invalid_value', param: 'input[0].content[1].file_id', message: expect.stringContaining('is not an image') });
    const unknown = await refusal(client().responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_file', file_id: theirs.id }] }] }));
    expect(unknown).toMatchObject({ status: 404, code: 'file_not_found', param: 'input[0].content[0].file_id' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('a user_data file past 32 MiB (OpenAI\'s "32MB of total content in a single request") named by id is a 400 file_too_large naming the field and its size; the upstream gets nothing', async () => {
    const bytes = 32 * 1024 * 1024 + 1;
    const upload = await client().uploads.create({ bytes, filename: 'big.txt', mime_type: 'text/plain', purpose: 'user_data' });
    const part = await client().uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(bytes, 0x61), 'big.txt') });
    const { file } = await client().uploads.complete(upload.id, { part_ids: [part.id] });
    const chat = await refusal(client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { file_id: file!.id } }] }] }));
    expect(chat).toMatchObject({ status: 400, code: 'file_too_large', param: 'messages[0].content[1].file.file_id', message: expect.stringContaining(`is ${bytes} bytes`) });
    const response = await refusal(client().responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_file', file_id: file!.id }] }] }));
    expect(response).toMatchObject({ status: 400, code: 'file_too_large', param: 'input[0].content[0].file_id' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('the guardrails read a text file named by id: its PII is redacted before the upstream', async () => {
    const notes = await client('careful').files.create({ file: await toFile(Buffer.from('call me at eve@example.com'), 'notes.txt'), purpose: 'user_data' });
    await client('careful').chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { file_id: notes.id } }] }] });
    const file = userParts()[1]!.file as { file_data: string; filename: string };
    expect(file.filename).toBe('notes.txt');
    expect(file.file_data).toMatch(/^data:text\/plain;base64,/);
    const text = Buffer.from(file.file_data.split(',')[1]!, 'base64').toString('utf8');
    expect(text).not.toContain('eve@example.com');
    expect(text).toMatch(/^call me at \S+/);
  });

  it('a batch line may name a file by id: its request gets the bytes inline', async () => {
    const pdf = await uploadPdf();
    const line = JSON.stringify({ custom_id: 'f-1', method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'sum' }, { type: 'file', file: { file_id: pdf.id } }] }] } });
    const input = await client().files.create({ file: await toFile(Buffer.from(`${line}\n`), 'lines.jsonl'), purpose: 'batch' });
    const created = await client().batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    let batch = created;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      await new Promise((r) => setTimeout(r, 20));
      batch = await client().batches.retrieve(created.id);
    }
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 1, failed: 0 } });
    expect(userParts()[1]).toEqual({ type: 'file', file: { file_data: pdfUrl, filename: 'Q3 report.pdf' } });
  });
});

/** The Python client's upload and calls (openai-python: `files.create(file=(name, bytes), purpose=...)`). */
const PY = `
import json, sys, openai
url, token, pdf, png = sys.argv[1:5]
client = openai.OpenAI(base_url=url, api_key=token, max_retries=0)
out = {}
f = client.files.create(file=("Q3 report.pdf", bytes.fromhex(pdf)), purpose="user_data")
i = client.files.create(file=("chart.png", bytes.fromhex(png)), purpose="vision")
out["purposes"] = [f.purpose, i.purpose]
out["vision"] = [x.id for x in client.files.list(purpose="vision")]
c = client.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": [{"type": "text", "text": "sum"}, {"type": "file", "file": {"file_id": f.id}}]}])
out["chat"] = c.choices[0].message.content is not None
r = client.responses.create(model="${MODEL}", input=[{"role": "user", "content": [{"type": "input_text", "text": "see"}, {"type": "input_image", "file_id": i.id, "detail": "auto"}]}])
out["response"] = r.status
try:
    client.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-0123456789abcdef01234567"}}]}])
except openai.NotFoundError as e:
    out["unknown"] = [e.status_code, e.body.get("param"), e.body.get("code")]
out["ids"] = [f.id, i.id]
print(json.dumps(out))
`;

describe('the Python client', () => {
  it('uploads user_data and vision files and names them in chat and Responses; an unknown id is a 404 naming the field', async () => {
    const { stdout } = await runPythonCode(PY, [gw.url, tokens.acme!, PDF.toString('hex'), PNG.toString('hex')]);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ purposes: ['user_data', 'vision'], chat: true, response: 'completed', unknown: [404, 'messages[0].content[0].file.file_id', 'file_not_found'] });
    expect(out.vision).toContain(out.ids[1]);
    expect(upstream.requests).toHaveLength(2);
    const [chat, response] = upstream.requests as Array<{ messages: Array<{ content: Array<Record<string, any>> }> }>;
    expect(chat!.messages[0]!.content[1]).toEqual({ type: 'file', file: { file_data: pdfUrl, filename: 'Q3 report.pdf' } });
    expect(response!.messages[0]!.content[1]).toEqual({ type: 'image_url', image_url: { url: pngUrl, detail: 'auto' } });
  });
});
