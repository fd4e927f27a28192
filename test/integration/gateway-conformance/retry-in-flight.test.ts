import OpenAI, { toFile } from 'openai';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DirBatchFileStore, DirBatchStore, type BatchFile, type StoredBatch } from '../../../lambdas/inference/batches/stores.js';
import { DirPendingCreates } from '../../../lambdas/inference/stores/dir-pending-creates.js';
import { FileResponseStore } from '../../../lambdas/inference/stores/file-response-store.js';
import type { StoredResponse } from '../../../lambdas/inference/stores/response-store.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { tempDir } from '../../support/temp-dirs.js';
import { nodeClient, nodeError } from './official-clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * An official client's retry that arrives while its first attempt still runs, on `tessera serve`: the client's
 * `timeout` (1 s) cut the first attempt, whose slow step (the file store's put, the response store's put of the
 * queued response, the batch store's put of a new batch) the test holds at a gate. The retry finds the attempt's note (pending-creates.ts) and waits for it:
 * the gate opens when a retry reads the note, so the retry (or the client's next one, after a retryable 409) is
 * answered the first attempt's object, and no second object is made. On the old code the retry made its own.
 */

/** A gate the test opens: `opens` resolves once `open()` was called. */
class Gate {
  private opened!: () => void;
  readonly opens = new Promise<void>((ok) => (this.opened = ok));
  open() {
    this.opened();
  }
}

/** The serve's file store, whose first put waits at `gate` while `holding`; every put's file recorded. */
class SlowFiles extends DirBatchFileStore {
  readonly puts: BatchFile[] = [];
  holding = false;
  gate = new Gate();
  override async put(tenantId: string, file: BatchFile, content: Uint8Array): Promise<void> {
    this.puts.push(file);
    if (this.holding && this.puts.length === 1) await this.gate.opens;
    return super.put(tenantId, file, content);
  }
}

/**
 * The serve's batch store, whose first put of a batch not stored before (a create's; the runner's updates put it again)
 * waits at `gate` while `holding`; the id of each batch so created recorded.
 */
class SlowBatches extends DirBatchStore {
  readonly created: string[] = [];
  holding = false;
  gate = new Gate();
  override async put(item: StoredBatch): Promise<void> {
    if (!this.created.includes(item.batch.id) && this.created.push(item.batch.id) === 1 && this.holding) await this.gate.opens;
    return super.put(item);
  }
}

/** The serve's response store, whose first put of a queued background response waits at `gate` while `holding`. */
class SlowResponses extends FileResponseStore {
  readonly queuedPuts: string[] = [];
  holding = false;
  gate = new Gate();
  override async put(item: StoredResponse): Promise<void> {
    if (item.response.status === 'queued') {
      this.queuedPuts.push(item.responseId);
      if (this.holding && this.queuedPuts.length === 1) await this.gate.opens;
    }
    return super.put(item);
  }
}

/** The serve's notes, telling `onRead` of each read (a retry's). */
class WatchedNotes extends DirPendingCreates {
  onRead: (key: string) => void = () => undefined;
  override async read(tenantId: string, key: string) {
    this.onRead(key);
    return super.read(tenantId, key);
  }
}

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let files: SlowFiles;
let batchStore: SlowBatches;
let responses: SlowResponses;
let notes: WatchedNotes;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const state = tempDir('tessera-retry-in-flight-');
  files = new SlowFiles(join(state, 'files'));
  batchStore = new SlowBatches(join(state, 'batches'));
  responses = new SlowResponses(join(state, 'responses'));
  notes = new WatchedNotes(join(state, 'pending'));
  gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex'), plainTenant('initech')], { batches: { files, store: batchStore }, responses, pendingCreates: notes, background: { pollMs: 50 } });
  for (const t of ['acme', 'globex', 'initech']) tokens[t] = await gw.token(t);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  files.puts.length = 0;
  batchStore.created.length = 0;
  responses.queuedPuts.length = 0;
  files.gate = new Gate();
  batchStore.gate = new Gate();
  responses.gate = new Gate();
  files.holding = responses.holding = batchStore.holding = true;
});
afterEach(async () => {
  // The old code never reads a note: the held put is let go here.
  files.gate.open();
  batchStore.gate.open();
  responses.gate.open();
  notes.onRead = () => undefined;
  await gw.idle();
});

const MODEL = 'openai-compatible/default';
const PDF = '%PDF-1.4\n%%EOF\n';
/** Opens `gate` when a retry reads a note of `route`. */
const openOnRetry = (route: 'files' | 'responses' | 'batches', gate: Gate) => (notes.onRead = (key) => key.startsWith(`${route}#`) && gate.open());
const listed = async (tenant: string) => (await nodeClient(gw.url, tokens[tenant]!).files.list({ limit: 100 })).data.map((f) => f.id);

describe('files.create: a retry while the first attempt still stores the file', () => {
  it('the Node client (timeout 1 s) is answered the file its first attempt stored: one put, one file', async () => {
    openOnRetry('files', files.gate);
    const made = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, timeout: 1000 }).files.create({ file: await toFile(Buffer.from(PDF), 'slow.pdf'), purpose: 'user_data' });
    // The old code: the retry stored a second file (two puts) and was answered it.
    expect(files.puts.map((f) => f.id)).toEqual([made.id]);
    expect(made).toMatchObject({ purpose: 'user_data', filename: 'slow.pdf' });
    expect(await listed('acme')).toEqual([made.id]);
    expect(gw.audit.records.filter((r) => r.action === 'file.create' && r.tenantId === 'acme').at(-1)).toMatchObject({ status: 200, detail: { fileId: made.id, retryOf: made.id } });
  });

  it('the Python client (timeout 1 s, x-stainless-read-timeout) is answered the file its first attempt stored: one put, one file', async () => {
    openOnRetry('files', files.gate);
    const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=1.0, max_retries=2)
line = json.dumps({"custom_id": "s-1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "slow"}]}})
made = client.files.create(file=("slow.jsonl", (line + "\\n").encode()), purpose="batch")
print(json.dumps({"id": made.id}))
`;
    const made = JSON.parse((await runPythonCode(script, [gw.url, tokens.globex!])).stdout) as { id: string };
    expect(files.puts.map((f) => f.id)).toEqual([made.id]);
    expect(await listed('globex')).toEqual([made.id]);
  });

  it('a retry whose first attempt still runs is a retryable 409 create_in_progress (x-should-retry: true, retry-after: how long it has run, 2 s at least); no second file', async () => {
    // The gate stays shut until the call has ended: the client's one retry (its client's timeout not stated: no wait) is refused.
    const error = await new OpenAI({ baseURL: gw.url, apiKey: tokens.initech, timeout: 1000, maxRetries: 1 }).files.create({ file: await toFile(Buffer.from(PDF), 'held.pdf'), purpose: 'user_data' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.ConflictError);
    expect(nodeError(error)).toMatchObject({ status: 409, body: { code: 'create_in_progress', type: 'invalid_request_error', message: expect.stringMatching(/^the first attempt of this files\.create \(begun .*\) is still running/) }, headers: { 'x-should-retry': 'true', 'retry-after': expect.stringMatching(/^([2-9]|[12]\d|30)$/) } });
    files.gate.open();
    await vi.waitFor(async () => expect(await listed('initech')).toHaveLength(1));
    expect(files.puts).toHaveLength(1); // the old code: the retry's own put, answered 200
  });
});

describe('background responses.create: a retry while the first attempt still stores the queued response', () => {
  it('the Node client (timeout 1 s) is answered the response its first attempt made: one response, one run', async () => {
    openOnRetry('responses', responses.gate);
    const created = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, timeout: 1000 }).responses.create({ model: MODEL, input: 'slow to queue', background: true });
    // The old code: the retry found the first attempt's marker, no response under it yet, and made its own.
    expect(responses.queuedPuts).toEqual([created.id]);
    await gw.idle();
    expect(await nodeClient(gw.url, tokens.acme!).responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
    expect(upstream.requests).toHaveLength(1);
  });

  it('the Python client (timeout 1 s) is answered the response its first attempt made: one response, one run', async () => {
    openOnRetry('responses', responses.gate);
    const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=1.0, max_retries=2)
r = client.responses.create(model="openai-compatible/default", input="slow to queue too", background=True)
print(json.dumps({"id": r.id}))
`;
    const created = JSON.parse((await runPythonCode(script, [gw.url, tokens.globex!])).stdout) as { id: string };
    expect(responses.queuedPuts).toEqual([created.id]);
    await gw.idle();
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('batches.create: a retry while the first attempt still records the batch', () => {
  /** A batch input file of one chat request, uploaded unheld. */
  const inputFile = async (tenant: string, tag: string) => {
    files.holding = false;
    const line = JSON.stringify({ custom_id: `${tag}-1`, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: tag }] } });
    return (await nodeClient(gw.url, tokens[tenant]!).files.create({ file: await toFile(Buffer.from(`${line}\n`), `${tag}.jsonl`), purpose: 'batch' })).id;
  };
  const batchIds = async (tenant: string) => (await nodeClient(gw.url, tokens[tenant]!).batches.list({ limit: 100 })).data.map((b) => b.id);

  it('the Node client (timeout 1 s) is answered the batch its first attempt made: one batch, its request run once; a new call of the same body is a batch of its own', async () => {
    const input = await inputFile('acme', 'slow-batch');
    const before = await batchIds('acme');
    openOnRetry('batches', batchStore.gate);
    const body = { input_file_id: input, endpoint: '/v1/chat/completions' as const, completion_window: '24h' as const };
    const made = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, timeout: 1000 }).batches.create(body);
    // The old code: the retry found no batch recorded yet, made its own (a second put) and ran the request again.
    expect(batchStore.created).toEqual([made.id]);
    expect((await batchIds('acme')).filter((id) => !before.includes(id))).toEqual([made.id]);
    await gw.idle();
    expect(upstream.requests).toHaveLength(1);
    expect(gw.audit.records.filter((r) => r.action === 'batch.create' && r.tenantId === 'acme').at(-1)).toMatchObject({ status: 200, detail: { batchId: made.id, retryOf: made.id } });

    // A new call of the same body (x-stainless-retry-count: 0) while an attempt of it is still held neither waits nor
    // is answered that attempt's batch: it is a batch of its own, as asked.
    batchStore.created.length = 0;
    batchStore.gate = new Gate();
    const client = nodeClient(gw.url, tokens.acme!);
    const held = client.batches.create(body);
    await vi.waitFor(() => expect(batchStore.created).toHaveLength(1));
    const second = await client.batches.create(body);
    batchStore.gate.open();
    const first = await held;
    expect(second.id).not.toBe(first.id);
    expect(batchStore.created).toEqual([first.id, second.id]);
  });

  it('the Python client (timeout 1 s, x-stainless-read-timeout) is answered the batch its first attempt made: one batch, its request run once', async () => {
    const input = await inputFile('globex', 'slow-batch-python');
    const before = await batchIds('globex');
    openOnRetry('batches', batchStore.gate);
    const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=1.0, max_retries=2)
made = client.batches.create(input_file_id=sys.argv[3], endpoint="/v1/chat/completions", completion_window="24h", metadata={"run": "slow"})
print(json.dumps({"id": made.id}))
`;
    const made = JSON.parse((await runPythonCode(script, [gw.url, tokens.globex!, input])).stdout) as { id: string };
    expect(batchStore.created).toEqual([made.id]);
    expect((await batchIds('globex')).filter((id) => !before.includes(id))).toEqual([made.id]);
    await gw.idle();
    expect(upstream.requests).toHaveLength(1);
  });
});
