import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { apiRefusal, enterpriseTenants, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from './official-clients.js';
import { DirUploadStore } from '../../../lambdas/inference/uploads/dir-upload-store.js';
import { lostAnswerFetch } from '../../support/lost-answer-fetch.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * OpenAI's Uploads API for the gateway's own files through `tessera serve` (no --fine-tuning), with the official
 * Node and Python clients: a batch input file larger than POST /v1/files takes on the deployed path (4 MiB) sent in
 * parts (`uploads.create` / `parts.create` / `complete`; Python's `upload_file_chunked`) becomes a `batch` file a batch
 * then runs; an `assistants` file so sent is attached to a vector store and searched. Before, /v1/uploads took
 * purpose `fine-tune` only (and without --fine-tuning answered 404).
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let tokens: Record<string, string>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.followFormat = true;
  gw = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme', 'globex'), { batches: { concurrency: 2 } });
  tokens = { acme: await gw.token('acme'), globex: await gw.token('globex') };
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);
/** A batch input file of `n` chat requests, each line padded with JSON whitespace to ~`pad` bytes: over 4 MiB in few requests. */
const batchFile = (n: number, pad: number, tag: string) => Buffer.from(Array.from({ length: n }, (_, i) =>
  `{${' '.repeat(pad)}"custom_id": "${tag}-${i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "${tag} ${i}"}]}}\n`).join(''));
const FOUR_MIB = 4 * 1024 * 1024;
const ended = async (id: string, tenant = 'acme') => {
  for (;;) {
    const b = await client(tenant).batches.retrieve(id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b;
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the Uploads API for batch and assistants files on tessera serve', () => {
  it('Node: a 5 MB batch file sent in 2 MiB parts becomes a batch file (content byte for byte) that a batch runs to completed', async () => {
    const content = batchFile(6, 900_000, 'node');
    expect(content.byteLength).toBeGreaterThan(FOUR_MIB);
    const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'large.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', purpose: 'batch', filename: 'large.jsonl', bytes: content.byteLength, file: null });
    const partIds: string[] = [];
    for (let at = 0; at < content.byteLength; at += 2 * 1024 * 1024) {
      partIds.push((await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(at, at + 2 * 1024 * 1024), 'part') })).id);
    }
    expect(partIds).toHaveLength(3);
    const done = await client().uploads.complete(upload.id, { part_ids: partIds, md5: createHash('md5').update(content).digest('hex') });
    expect(done).toMatchObject({ status: 'completed', purpose: 'batch', file: { object: 'file', purpose: 'batch', filename: 'large.jsonl', bytes: content.byteLength, status: 'processed' } });
    const file = done.file!;
    expect(file.expires_at).toBe(file.created_at + 30 * 86_400);
    expect(Buffer.from(await (await client().files.content(file.id)).arrayBuffer()).equals(content)).toBe(true);
    expect(await client().files.retrieve(file.id)).toMatchObject({ id: file.id, purpose: 'batch' });

    const created = await client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const batch = await ended(created.id);
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 6, completed: 6, failed: 0 } });
    const lines = (await (await client().files.content(batch.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(gw.audit.records.find((r) => r.action === 'upload.complete' && r.tenantId === 'acme')).toMatchObject({ status: 200, detail: { uploadId: upload.id, fileId: file.id, purpose: 'batch' } });
  });

  it('Python: upload_file_chunked of a 5 MB batch file, then a batch of it runs to completed', async () => {
    const script = `
import json, sys, time
from openai import OpenAI
url, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url, api_key=token, max_retries=0)
pad = " " * 900000
lines = "".join('{%s"custom_id": "py-%d", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "py %d"}]}}\\n' % (pad, i, i) for i in range(6))
data = lines.encode()
upload = client.uploads.upload_file_chunked(file=data, filename="chunked.jsonl", bytes=len(data), mime_type="application/jsonl", purpose="batch", part_size=2 * 1024 * 1024)
batch = client.batches.create(input_file_id=upload.file.id, endpoint="/v1/chat/completions", completion_window="24h")
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    time.sleep(0.05)
    batch = client.batches.retrieve(batch.id)
print(json.dumps({"bytes": len(data), "status": upload.status, "file": upload.file.model_dump(), "batch": batch.status, "counts": batch.request_counts.model_dump()}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    expect(out.bytes).toBeGreaterThan(FOUR_MIB);
    expect(out).toMatchObject({ status: 'completed', file: { purpose: 'batch', filename: 'chunked.jsonl', bytes: out.bytes }, batch: 'completed', counts: { total: 6, completed: 6, failed: 0 } });
  });

  it('Node: an assistants file sent as an upload is attached to a vector store and found by search', async () => {
    const text = `Parcels returned within thirty days are refunded in full. ${'Further terms apply to every order. '.repeat(20)}`;
    const content = Buffer.from(text);
    const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'refunds.md', mime_type: 'text/markdown', purpose: 'assistants' });
    const half = Math.floor(content.byteLength / 2);
    const parts = [await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(0, half), 'a') }), await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(half), 'b') })];
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    expect(done.file).toMatchObject({ purpose: 'assistants', filename: 'refunds.md', bytes: content.byteLength, expires_at: null });
    const store = await client().vectorStores.create({ name: 'policies' });
    const attached = await client().vectorStores.files.createAndPoll(store.id, { file_id: done.file!.id }, { pollIntervalMs: 20 });
    expect(attached).toMatchObject({ id: done.file!.id, status: 'completed', usage_bytes: content.byteLength });
    const hits = await client().vectorStores.search(store.id, { query: 'refunded in full' });
    expect(hits.data[0]).toMatchObject({ file_id: done.file!.id, filename: 'refunds.md' });
  });

  it('Node: a user_data PDF sent as an upload is read by the Responses API\'s input_file as a small one (its bytes inline upstream)', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const upload = await client().uploads.create({ bytes: pdf.byteLength, filename: 'report.pdf', mime_type: 'application/pdf', purpose: 'user_data' });
    const parts = [await client().uploads.parts.create(upload.id, { data: await toFile(pdf.subarray(0, 20), 'a') }), await client().uploads.parts.create(upload.id, { data: await toFile(pdf.subarray(20), 'b') })];
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    expect(done.file).toMatchObject({ purpose: 'user_data', filename: 'report.pdf', bytes: pdf.byteLength, expires_at: null });
    upstream.reset();
    upstream.followFormat = true;
    await client().responses.create({ model: 'openai-compatible/default', input: [{ role: 'user', content: [{ type: 'input_text', text: 'summarize' }, { type: 'input_file', file_id: done.file!.id }] }] });
    const content = (upstream.requests[0] as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages.at(-1)!.content;
    expect(content[1]).toEqual({ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf.toString('base64')}`, filename: 'report.pdf' } });
  });

  it('two serve workers on one state dir (as --workers threads): an upload created on one takes parts and completes on the other', async () => {
    const other = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme', 'globex'), { stateDir: gw.stateDir, batches: { concurrency: 1 } });
    try {
      const second = nodeClient(other.url, await other.token('acme'));
      const content = Buffer.from(`${JSON.stringify({ custom_id: 'w-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'w' }] } })}\n`);
      const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'workers.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
      const part = await second.uploads.parts.create(upload.id, { data: await toFile(content, 'p') });
      const done = await second.uploads.complete(upload.id, { part_ids: [part.id] });
      expect(done.file).toMatchObject({ purpose: 'batch', filename: 'workers.jsonl', bytes: content.byteLength });
      // The first worker sees it completed: a second complete there is the 400 upload_completed.
      expect(await apiRefusal(client().uploads.complete(upload.id, { part_ids: [part.id] }))).toMatchObject({ status: 400, code: 'upload_completed' });
    } finally {
      await other.stop();
    }
  });

  it('a part that would take the upload past its bytes is a 400 naming data and both figures, nothing stored; the file\'s own parts still complete it', async () => {
    const parts = (id: string) => readdirSync(join(gw.stateDir, 'uploads', 'acme', id, 'parts')).filter((n) => n.startsWith('part_'));
    const content = batchFile(1, 10, 'bound');
    const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'bound.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const first = await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(0, -2), 'p') });
    // 1 MiB more on an upload of a few hundred bytes (before, taken: up to 256 parts of 64 MiB, 16 GiB, on serve).
    const over = await apiRefusal(client().uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(1024 * 1024, 0x20), 'p') }));
    expect(over).toMatchObject({ status: 400, param: 'data', code: 'upload_bytes_exceeded' });
    expect(over.message).toContain(`data is 1048576 bytes: with the ${content.byteLength - 2} bytes upload ${upload.id} already holds in its parts, that is ${content.byteLength - 2 + 1048576} bytes, over the ${content.byteLength} bytes it was created with (bytes)`);
    // Three bytes where two are left: refused as well.
    expect(await apiRefusal(client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(-3), 'p') }))).toMatchObject({ status: 400, param: 'data', code: 'upload_bytes_exceeded' });
    expect(parts(upload.id)).toEqual([first.id]);
    const last = await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(-2), 'p') });
    const done = await client().uploads.complete(upload.id, { part_ids: [first.id, last.id] });
    expect(done.file).toMatchObject({ purpose: 'batch', bytes: content.byteLength });

    // Two parts at once, each under the bound alone, over it together: never both kept.
    const racing = await client().uploads.create({ bytes: content.byteLength, filename: 'race.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    // Other bytes each: the same bytes twice are a part sent again, whose copy takes no room.
    const sent = await Promise.allSettled([content.subarray(1), content.subarray(0, -1)].map(async (bytes) => client().uploads.parts.create(racing.id, { data: await toFile(bytes, 'p') })));
    const taken = sent.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(taken.length).toBeLessThan(2);
    for (const r of sent) if (r.status === 'rejected') expect(await apiRefusal(Promise.reject(r.reason))).toMatchObject({ status: 400, param: 'data', code: 'upload_bytes_exceeded' });
    expect(parts(racing.id).sort()).toEqual(taken.sort());
  });

  it('Node: the client\'s retry of a part whose answer was lost is stored again, the copy not counted, so the file\'s parts stay within bytes and complete', async () => {
    const content = batchFile(2, 10, 'retry');
    const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'retry.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const half = Math.floor(content.byteLength / 2);
    const first = await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(0, half), 'p') });
    const lossy = lostAnswerFetch((url) => url.endsWith(`/uploads/${upload.id}/parts`));
    const retrying = new OpenAI({ baseURL: gw.url, apiKey: tokens.acme!, maxRetries: 2, fetch: lossy.fetch });
    const last = await retrying.uploads.parts.create(upload.id, { data: await toFile(content.subarray(half), 'p') });
    const orphan = lossy.lost()!.id;
    // Its own part id, with the lost one's mark of the same bytes (digits 13-18): the orphan takes no room of bytes.
    expect(last.id).not.toBe(orphan);
    expect(last.id.slice(17, 23)).toBe(orphan.slice(17, 23));
    expect(readdirSync(join(gw.stateDir, 'uploads', 'acme', upload.id, 'parts')).sort()).toEqual([first.id, orphan, last.id].sort());
    expect((await client().uploads.complete(upload.id, { part_ids: [first.id, last.id] })).file).toMatchObject({ bytes: content.byteLength });
    expect(existsSync(join(gw.stateDir, 'uploads', 'acme', upload.id, 'parts'))).toBe(false);
  });

  it('Node: parts sent at once, one answer lost: its retry is stored again and the copy takes no room, so every part of a file of bytes is taken and it completes', async () => {
    const size = 2000;
    const content = Buffer.from(Array.from({ length: 10 }, (_, i) => `{"custom_id": "at-once-${i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": []}`.padEnd(size - 2) + '}\n').join(''));
    const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'at-once.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const lossy = lostAnswerFetch((url) => url.endsWith(`/uploads/${upload.id}/parts`));
    const retrying = new OpenAI({ baseURL: gw.url, apiKey: tokens.acme!, maxRetries: 2, fetch: lossy.fetch });
    // Before, the lost part's copy counted: the part checked last was the 400 upload_bytes_exceeded (3 runs of 3).
    const parts = await Promise.all(Array.from({ length: 10 }, async (_, i) => retrying.uploads.parts.create(upload.id, { data: await toFile(content.subarray(i * size, (i + 1) * size), 'p') })));
    expect(lossy.lost()).toBeDefined();
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: createHash('md5').update(content).digest('hex') });
    expect(done.file).toMatchObject({ bytes: content.byteLength });
  });

  it('Python: upload_file_chunked of a file of equal parts, one part\'s first attempt refused before it was stored (a 429), completes with the file byte for byte', async () => {
    const script = `
import hashlib, json, sys
import httpx
from openai import OpenAI
url, token = sys.argv[1], sys.argv[2]

class RefuseSecondPart(httpx.HTTPTransport):
    """Answers the second part's first attempt 429 without sending it (a rate limit, a throttled Lambda)."""
    parts = 0
    def handle_request(self, request):
        if request.url.path.endswith("/parts"):
            RefuseSecondPart.parts += 1
            if RefuseSecondPart.parts == 2:
                return httpx.Response(429, headers={"retry-after-ms": "10"}, json={"error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}})
        return super().handle_request(request)

client = OpenAI(base_url=url, api_key=token, max_retries=2, http_client=httpx.Client(transport=RefuseSecondPart()))
data = (("block " * 171)[:1023] + "\\n").encode() * 3
upload = client.uploads.upload_file_chunked(file=data, filename="blocks.txt", bytes=len(data), mime_type="text/plain", purpose="assistants", part_size=1024, md5=hashlib.md5(data).hexdigest())
print(json.dumps({"bytes": len(data), "status": upload.status, "file": upload.file.model_dump(), "sent": RefuseSecondPart.parts}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    // Before, the retry was answered the first part's id (the same bytes) and complete named it twice: a 400.
    expect(out).toMatchObject({ bytes: 3072, status: 'completed', file: { purpose: 'assistants', filename: 'blocks.txt', bytes: 3072 }, sent: 4 });
  });

  it('a serve starting on a state dir removes the parts of uploads past their expires_at (and a minute), keeps the others\' and the records', async () => {
    const content = batchFile(1, 10, 'sweep');
    const made = async () => {
      const upload = await client().uploads.create({ bytes: content.byteLength, filename: 'sweep.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
      await client().uploads.parts.create(upload.id, { data: await toFile(content.subarray(0, 10), 'p') });
      return upload;
    };
    const [abandoned, live] = [await made(), await made()];
    // The abandoned one was created an hour and two minutes ago.
    const store = new DirUploadStore(join(gw.stateDir, 'uploads'));
    const at = { tenantId: 'acme', accountId: 'acme', bucket: 'gateway-uploads' };
    const { upload: record, version } = (await store.getUpload(at, abandoned.id))!;
    await store.putUpload(at, { ...record, createdAt: record.createdAt - 3720, expiresAt: record.expiresAt - 3720 }, version);
    const partsDir = (id: string) => join(gw.stateDir, 'uploads', 'acme', id, 'parts');
    expect(readdirSync(partsDir(abandoned.id))).toHaveLength(1);

    const other = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme', 'globex'), { stateDir: gw.stateDir, batches: { concurrency: 1 } });
    try {
      expect(existsSync(partsDir(abandoned.id))).toBe(false);
      expect(readdirSync(partsDir(live.id))).toHaveLength(1);
      // The record stays: the expired upload is refused as before, not unknown.
      expect(await apiRefusal(nodeClient(other.url, await other.token('acme')).uploads.parts.create(abandoned.id, { data: await toFile(content.subarray(10), 'p') }))).toMatchObject({ status: 400, param: 'upload_id', code: 'upload_expired' });
      expect(existsSync(partsDir(abandoned.id))).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it('Python: upload_file_chunked of source files with the type mimetypes.guess_type gives (text/x-python, text/x-csrc, text/x-java...) or OpenAI\'s table names, attached to a vector store and searched', async () => {
    const script = `
import json, mimetypes, sys
from openai import OpenAI
url, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url, api_key=token, max_retries=0)
store = client.vector_stores.create(name="code")
out = []
for name, mime in [("refunds.py", None), ("refunds.c", None), ("Refunds.java", None), ("refunds.sh", None), ("refunds.ts", "application/typescript"), ("notes.txt", "text/plain; charset=utf-8"), ("notes.md", "text/plain")]:
    mime = mime or mimetypes.guess_type(name)[0]
    data = ("# refunds are paid within fourteen days (%s)\\n" % name).encode()
    upload = client.uploads.upload_file_chunked(file=data, filename=name, bytes=len(data), mime_type=mime, purpose="assistants")
    attached = client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=upload.file.id, poll_interval_ms=20)
    out.append([name, mime, upload.status, attached.status])
hits = client.vector_stores.search(vector_store_id=store.id, query="refunds fourteen days", max_num_results=10)
print(json.dumps({"files": out, "found": sorted(h.filename for h in hits.data)}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    expect(out.files).toEqual([
      ['refunds.py', 'text/x-python', 'completed', 'completed'],
      ['refunds.c', 'text/x-csrc', 'completed', 'completed'],
      ['Refunds.java', 'text/x-java', 'completed', 'completed'],
      ['refunds.sh', 'text/x-sh', 'completed', 'completed'],
      ['refunds.ts', 'application/typescript', 'completed', 'completed'],
      ['notes.txt', 'text/plain; charset=utf-8', 'completed', 'completed'],
      ['notes.md', 'text/plain', 'completed', 'completed'],
    ]);
    expect(out.found).toEqual(['Refunds.java', 'notes.md', 'notes.txt', 'refunds.c', 'refunds.py', 'refunds.sh', 'refunds.ts']);
    // Still refused: a binary document's type for a text file, another charset, a text type for a PDF.
    const create = (filename: string, mime_type: string) => apiRefusal(client().uploads.create({ bytes: 10, filename, mime_type, purpose: 'assistants' }));
    expect(await create('notes.txt', 'application/pdf')).toMatchObject({ status: 400, param: 'mime_type', code: 'invalid_value' });
    expect(await create('notes.txt', 'text/plain; charset=iso-8859-1')).toMatchObject({ status: 400, param: 'mime_type', code: 'invalid_value' });
    expect(await create('report.pdf', 'text/plain')).toMatchObject({ status: 400, param: 'mime_type', code: 'invalid_value' });
    // POST /v1/files of a type no model reads names the purpose asked, assistants (it said "user_data", which assistants files are checked as).
    expect(await apiRefusal(client().files.create({ file: await toFile(Buffer.from('hi'), 'notes.xyz'), purpose: 'assistants' }))).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format', message: expect.stringContaining('a file of purpose "assistants" is one a model reads') });
  });

  it('refuses at create what the purpose does not take, naming the field; another tenant\'s upload id is a 404', async () => {
    const create = (body: Record<string, unknown>, tenant = 'acme') => apiRefusal(client(tenant).uploads.create({ bytes: 10, filename: 'x.jsonl', mime_type: 'application/jsonl', purpose: 'batch', ...body } as never));
    expect(await create({ filename: 'x.csv' })).toMatchObject({ status: 400, param: 'filename', code: 'invalid_file_format' });
    expect(await create({ mime_type: 'image/png' })).toMatchObject({ status: 400, param: 'mime_type', code: 'invalid_value' });
    // OpenAI's "200 MB", stated as the unit the limit is: 200 MiB (docs/gateway.md says the same).
    expect(await create({ bytes: 200 * 1024 * 1024 + 1 })).toMatchObject({ status: 400, param: 'bytes', code: 'invalid_value', message: expect.stringContaining('over the 209715200-byte (200 MiB, OpenAI\'s "200 MB") limit') });
    expect(await create({ purpose: 'vision', filename: 'notes.txt', mime_type: 'text/plain' })).toMatchObject({ status: 400, param: 'filename', code: 'invalid_file_format' });
    expect(await create({ expires_after: { anchor: 'created_at', seconds: 60 } })).toMatchObject({ status: 400, param: 'expires_after.seconds', code: 'integer_below_min_value', message: '400 Invalid \'expires_after.seconds\': integer below minimum value. Expected a value >= 3600, but got 60 instead.' });
    expect(await create({ purpose: 'fine-tune' })).toMatchObject({ status: 400, param: 'purpose', code: 'unsupported_value', message: expect.stringContaining('--fine-tuning') });

    // Bytes that are no batch file are refused at complete naming file, and the upload takes parts again.
    const bad = Buffer.from('not json\n');
    const upload = await client().uploads.create({ bytes: bad.byteLength, filename: 'bad.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const part = await client().uploads.parts.create(upload.id, { data: await toFile(bad, 'p') });
    expect(await apiRefusal(client().uploads.complete(upload.id, { part_ids: [part.id] }))).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format', message: expect.stringContaining('line 1 is not valid JSON') });

    // globex does not reach acme's upload: parts, complete and cancel are a 404 upload_not_found.
    expect(await apiRefusal(client('globex').uploads.parts.create(upload.id, { data: await toFile(Buffer.from('{}\n'), 'p') }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    expect(await apiRefusal(client('globex').uploads.complete(upload.id, { part_ids: [part.id] }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    expect(await apiRefusal(client('globex').uploads.cancel(upload.id))).toMatchObject({ status: 404, code: 'upload_not_found' });
    expect(await client().uploads.cancel(upload.id)).toMatchObject({ id: upload.id, status: 'cancelled' });
  });
});
