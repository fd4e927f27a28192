import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DirBatchFileStore, type BatchFile } from '../../lambdas/inference/batches/stores.js';
import { fakeAwsEnv } from '../integration/gateway-conformance/setup.js';
import { PNG_BASE64 } from '../integration/gateway-conformance/matrix.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { tempDir } from '../support/temp-dirs.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * Tenant B (globex) against tenant A's (acme's) gateway files through `tessera serve` (fine-tuning on, so an id the
 * Batch API does not know goes on to the fine-tuning Files API): A's batch input file, `user_data` and `vision` files,
 * batch, its output file and a stored response that held a file. As each of B's callers (JWTs of every role, an
 * admin API key, a key limited to one model), every route and every `file_id` field answers A's id exactly as an id
 * that exists nowhere (status and body, with the id swapped: no existence oracle); the spellings of a path (case,
 * whitespace, percent-encoding, `..`, another prefix) as well; a batch of B's whose lines name A's ids runs as B and
 * answers each line as for an unknown id; listing after A's id lists B's own files. A's data is unchanged afterwards.
 */
fakeAwsEnv();

const MODEL = 'openai-compatible/default';
const SECRET = 'acme-secret-9d2e';
const PNG = Buffer.from(PNG_BASE64, 'base64');

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const creds: Record<string, string> = {};
const acme = { batchFile: '', userData: '', vision: '', batch: '', output: '', response: '' };
const UNKNOWN = { file: `file-${'0'.repeat(24)}`, batch: `batch_${'0'.repeat(24)}`, response: `resp_${'0'.repeat(48)}` };
const client = (who: string) => new OpenAI({ baseURL: gw.url, apiKey: creds[who] ?? who, maxRetries: 0 });
const chatLine = (customId: string, body: Record<string, unknown>, url = '/v1/chat/completions') => JSON.stringify({ custom_id: customId, method: 'POST', url, body: { model: MODEL, ...body } });

async function ended(c: OpenAI, id: string) {
  for (let i = 0; i < 400; i++) {
    const b = await c.batches.retrieve(id);
    if (['completed', 'failed', 'cancelled', 'expired'].includes(b.status)) return b;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`batch ${id} did not end`);
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [trainedTenant('acme', 'enterprise', '444444444444'), trainedTenant('globex', 'enterprise', '555555555555')], { fineTuning: { sageMaker: async () => { throw new Error('no SageMaker call is expected'); } }, batches: { concurrency: 1 } });
  creds.acme = await gw.token('acme', { role: 'admin' });
  for (const role of ['admin', 'developer', 'member', 'viewer']) creds[`B ${role} JWT`] = await gw.token('globex', { role });
  creds['B admin key'] = (await gw.apiKey('globex', { role: 'admin' })).key;
  creds['B member key limited to one model'] = (await gw.apiKey('globex', { role: 'member', models: [MODEL] })).key;
  const a = client('acme');
  const batchFile = await a.files.create({ file: await toFile(Buffer.from(`${chatLine('one', { messages: [{ role: 'user', content: SECRET }] })}\n`), 'acme-secret.jsonl'), purpose: 'batch' });
  const userData = await a.files.create({ file: await toFile(Buffer.from(`${SECRET}\n`), 'acme-secret.txt'), purpose: 'user_data' });
  const vision = await a.files.create({ file: await toFile(PNG, 'acme-secret.png'), purpose: 'vision' });
  const batch = await a.batches.create({ input_file_id: batchFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const done = await ended(a, batch.id);
  expect(done.status).toBe('completed');
  const response = await a.responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'read' }, { type: 'input_file', file_id: userData.id }] }] });
  Object.assign(acme, { batchFile: batchFile.id, userData: userData.id, vision: vision.id, batch: batch.id, output: done.output_file_id!, response: response.id });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

type Answer = { status: number; body: string };
async function send(method: string, path: string, who: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${creds[who]}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}
const refusalOf = async (call: Promise<unknown>) => {
  const e = await call.then(() => { throw new Error('expected a refusal'); }, (x: unknown) => x);
  if (!(e instanceof OpenAI.APIError)) throw e;
  return { status: e.status, error: e.error as Record<string, unknown> };
};
/** `text` with every spelling of `id` (raw, percent-encoded once and twice) replaced by `by`. */
const swap = (text: string, id: string, by: string) => [encodeURIComponent(encodeURIComponent(id)), encodeURIComponent(id), id]
  .reduce((t, s, i) => t.split(s).join([encodeURIComponent(encodeURIComponent(by)), encodeURIComponent(by), by][i]!), text);
const bCallers = () => Object.keys(creds).filter((k) => k.startsWith('B '));
const leaksNothing = (text: string) => !text.includes(SECRET) && !text.includes('acme-secret');

describe('tenant B against tenant A\'s gateway files, batches and outputs (tessera serve)', () => {
  it('every route and file_id field answers A\'s id exactly as an id that exists nowhere, for each of B\'s callers', async () => {
    const fileCall = (c: OpenAI, id: string, image = false) => ({
      chat: () => c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { file_id: id } }] }] }),
      input_file: () => c.responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: image ? 'input_image' : 'input_file', file_id: id, ...(image ? { detail: 'auto' } : {}) } as never] }] }),
      function_call_output: () => c.responses.create({ model: MODEL, input: [
        { type: 'function_call', call_id: 'call_1', name: 'fetch', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_file', file_id: id }] } as never,
      ] }),
    });
    const upstreamCalls = upstream.requests.length;
    for (const who of bCallers()) {
      const g = client(who);
      const cases: Array<[string, string, string, (id: string) => Promise<unknown>]> = [];
      for (const [name, theirs] of [['batch input', acme.batchFile], ['user_data', acme.userData], ['vision', acme.vision], ['batch output', acme.output]] as const) {
        cases.push(
          [`files.retrieve ${name}`, theirs, UNKNOWN.file, (id) => g.files.retrieve(id)],
          [`files.content ${name}`, theirs, UNKNOWN.file, (id) => g.files.content(id)],
          [`files.delete ${name}`, theirs, UNKNOWN.file, (id) => g.files.delete(id)],
          [`batches.create on ${name}`, theirs, UNKNOWN.file, (id) => g.batches.create({ input_file_id: id, endpoint: '/v1/chat/completions', completion_window: '24h' })],
          [`chat file.file_id ${name}`, theirs, UNKNOWN.file, (id) => fileCall(g, id).chat()],
          [`responses input_file ${name}`, theirs, UNKNOWN.file, (id) => fileCall(g, id).input_file()],
          [`responses input_image ${name}`, theirs, UNKNOWN.file, (id) => fileCall(g, id, true).input_file()],
          [`responses function_call_output input_file ${name}`, theirs, UNKNOWN.file, (id) => fileCall(g, id).function_call_output()],
        );
      }
      cases.push(
        ['batches.retrieve', acme.batch, UNKNOWN.batch, (id) => g.batches.retrieve(id)],
        ['batches.cancel', acme.batch, UNKNOWN.batch, (id) => g.batches.cancel(id)],
        ['previous_response_id of A\'s response that held a file', acme.response, UNKNOWN.response, (id) => g.responses.create({ model: MODEL, input: 'go on', previous_response_id: id })],
        ['responses.inputItems.list of A\'s response that held a file', acme.response, UNKNOWN.response, (id) => g.responses.inputItems.list(id)],
      );
      for (const [what, theirs, unknown, call] of cases) {
        const a = await refusalOf(call(theirs));
        const b = await refusalOf(call(unknown));
        expect(a.status, `${who}: ${what}`).toBeGreaterThanOrEqual(400);
        expect(a.status, `${who}: ${what}`).toBeLessThan(500);
        expect(swap(JSON.stringify(a), theirs, unknown), `${who}: ${what}`).toBe(JSON.stringify(b));
        expect(leaksNothing(JSON.stringify(a)), `${who}: ${what}`).toBe(true);
      }
    }
    expect(upstream.requests.length).toBe(upstreamCalls);
  });

  it('path spellings of A\'s ids (case, whitespace, percent-encoding, "..", another prefix, a part key) answer as the same spelling of an unknown id', async () => {
    const spellings: Array<[string, (id: string) => string]> = [
      ['upper case', (id) => id.toUpperCase()], ['upper-case prefix', (id) => id.replace(/^file-/, 'FILE-')], ['leading space', (id) => `%20${id}`], ['trailing space', (id) => `${id}%20`],
      ['tab', (id) => `${id}%09`], ['%2e%2e', (id) => `${id}%2F%2e%2e%2F${id}`], ['%2F', (id) => `..%2F..%2Facme%2F${id}`], ['file-…/../…', (id) => `${id}/../${id}`],
      ['another prefix', (id) => id.replace(/^file-/, 'batch_')], ['NUL', (id) => `${id}%00`], ['very long', (id) => `${id}${'a'.repeat(5000)}`],
      ['a part key', (id) => encodeURIComponent(`${acme.batch}/part-000000.json`).replace(acme.batch, id.replace(/^file-/, 'batch_'))],
    ];
    for (const who of ['B admin JWT', 'B member key limited to one model']) {
      for (const theirs of [acme.batchFile, acme.userData, acme.output]) {
        for (const [how, spell] of spellings) {
          for (const suffix of ['', '/content']) {
            for (const method of ['GET', 'DELETE']) {
              if (method === 'DELETE' && suffix) continue;
              const a = await send(method, `/files/${spell(theirs)}${suffix}`, who);
              const b = await send(method, `/files/${spell(UNKNOWN.file)}${suffix}`, who);
              const what = `${who}: ${method} ${how}${suffix}`;
              expect(a.status, `${what}: ${a.body}`).not.toBe(200);
              expect(a.status, `${what}: ${a.body}`).toBeLessThan(500);
              expect(swap(swap(`${a.status} ${a.body}`, theirs.toUpperCase(), UNKNOWN.file.toUpperCase()), theirs.slice(5), UNKNOWN.file.slice(5)), what).toBe(`${b.status} ${b.body}`);
              expect(leaksNothing(a.body), what).toBe(true);
            }
          }
        }
      }
      for (const [how, spell] of [['upper case', (id: string) => id.toUpperCase()], ['trailing space', (id: string) => `${id}%20`], ['%2F..', (id: string) => `${id}%2F..%2F${id}`], ['file- prefix', (id: string) => id.replace(/^batch_/, 'file-')]] as const) {
        const a = await send('GET', `/batches/${spell(acme.batch)}`, who);
        const b = await send('GET', `/batches/${spell(UNKNOWN.batch)}`, who);
        expect(swap(swap(`${a.status} ${a.body}`, acme.batch.toUpperCase(), UNKNOWN.batch.toUpperCase()), acme.batch.slice(6), UNKNOWN.batch.slice(6)), `${who}: batch ${how}`).toBe(`${b.status} ${b.body}`);
      }
    }
  });

  it('listing after A\'s id lists B\'s own files and batches, as after an unknown id of the same place in time', async () => {
    const g = client('B admin JWT');
    const mine = await g.files.create({ file: await toFile(Buffer.from('mine\n'), 'mine.txt'), purpose: 'user_data' });
    for (const [theirs, path] of [[acme.userData, 'files'], [acme.output, 'files'], [acme.batch, 'batches']] as const) {
      for (const order of path === 'files' ? ['asc', 'desc'] : ['']) {
        const q = (after: string) => `/${path}?after=${after}${order ? `&order=${order}` : ''}`;
        const a = await send('GET', q(theirs), 'B admin JWT');
        expect(a.status, a.body).toBe(200);
        expect(leaksNothing(a.body), a.body).toBe(true);
        const ids = (JSON.parse(a.body) as { data: Array<{ id: string }> }).data.map((d) => d.id);
        expect(ids.every((id) => !Object.values(acme).includes(id)), a.body).toBe(true);
        // An id one past A's in the same time-ordered space lists the same (the cursor is a position, not a lookup).
        const near = theirs.slice(0, -1) + (theirs.at(-1) === '0' ? '1' : '0');
        const b = await send('GET', q(near), 'B admin JWT');
        expect(b.body, `${path} ${order}`).toBe(a.body);
      }
    }
    await g.files.delete(mine.id);
  });

  it('a batch of B\'s whose lines name A\'s ids runs as B: each line is answered as for an id that exists nowhere', async () => {
    const g = client('B developer JWT');
    const bodies = (id: string, vision: string): Array<[string, Record<string, unknown>, string?]> => [
      ['chat file', { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: id } }] }] }],
      ['responses input_file', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: id }] }] }, '/v1/responses'],
      ['responses input_image', { input: [{ role: 'user', content: [{ type: 'input_image', file_id: vision, detail: 'auto' }] }] }, '/v1/responses'],
    ];
    const lines = (tag: string, id: string, vision: string) => bodies(id, vision).map(([name, body, url]) => ({ name, line: JSON.parse(chatLine(`${tag} ${name}`, body, url ?? '/v1/chat/completions')) }));
    const calls = upstream.requests.length;
    for (const url of ['/v1/chat/completions', '/v1/responses']) {
      const all = [...lines('theirs', acme.userData, acme.vision), ...lines('unknown', UNKNOWN.file, UNKNOWN.file)].filter((l) => l.line.url === url).map((l) => l.line);
      if (url === '/v1/responses') all.push(JSON.parse(chatLine('theirs previous', { input: 'go on', previous_response_id: acme.response }, url)), JSON.parse(chatLine('unknown previous', { input: 'go on', previous_response_id: UNKNOWN.response }, url)));
      const file = await g.files.create({ file: await toFile(Buffer.from(`${all.map((l) => JSON.stringify(l)).join('\n')}\n`), 'b.jsonl'), purpose: 'batch' });
      const batch = await g.batches.create({ input_file_id: file.id, endpoint: url as '/v1/chat/completions', completion_window: '24h' });
      const done = await ended(g, batch.id);
      expect(done.request_counts, url).toMatchObject({ completed: 0, failed: all.length });
      const text = await (await g.files.content(done.error_file_id!)).text();
      expect(leaksNothing(text), text).toBe(true);
      // Each line's answer without its request id (one per request).
      const answers = new Map(text.trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number; body: unknown } }).map((l) => [l.custom_id, { status_code: l.response.status_code, body: l.response.body }]));
      for (const [id] of answers) {
        if (!id.startsWith('theirs ')) continue;
        const theirs = answers.get(id)!;
        const unknown = answers.get(id.replace('theirs ', 'unknown '))!;
        expect([400, 404], id).toContain(theirs.status_code); // previous_response_not_found is OpenAI's 400
        const swapped = [[acme.userData, UNKNOWN.file], [acme.vision, UNKNOWN.file], [acme.response, UNKNOWN.response]].reduce((t, [x, y]) => swap(t, x!, y!), JSON.stringify(theirs));
        expect(swapped, id).toBe(JSON.stringify(unknown));
      }
    }
    expect(upstream.requests.length).toBe(calls);
  });

  it('leaves A\'s files, batch, output and response as they were', async () => {
    const a = client('acme');
    for (const id of [acme.batchFile, acme.userData, acme.vision, acme.output]) expect((await a.files.retrieve(id)).id).toBe(id);
    expect(await (await a.files.content(acme.userData)).text()).toBe(`${SECRET}\n`);
    expect(Buffer.from(await (await a.files.content(acme.vision)).arrayBuffer())).toEqual(PNG);
    expect((await a.batches.retrieve(acme.batch)).status).toBe('completed');
    expect((await a.responses.retrieve(acme.response)).id).toBe(acme.response);
  });
});

describe('DirBatchFileStore (tessera serve): ids that would become paths name no file', () => {
  it('traversal, encoded separators, NUL, case, very long ids and tenant ids outside the directory read, list and delete nothing', async () => {
    const dir = tempDir('tessera-files-');
    try {
      const store = new DirBatchFileStore(dir);
      const id = `file-${'a1'.repeat(12)}`;
      const file: BatchFile = { id, filename: 'secret.txt', purpose: 'user_data', bytes: 6, createdAt: 1, expiresAt: 4_000_000_000 };
      await store.put('acme', file, Buffer.from('secret'));
      // A file someone left beside the tenants' directories, and a symlink in B's directory to A's file.
      writeFileSync(join(dir, `${id}.json`), JSON.stringify(file));
      mkdirSync(join(dir, 'globex'));
      const ids = [`../acme/${id}`, `${id}/../../acme/${id}`, `${id}%2F..`, `${id}\u0000`, `${id}\u0000.json`, id.toUpperCase(), ` ${id}`, `${id} `, `${id}${'0'.repeat(10_000)}`, `../${id}`, `batch_${'a1'.repeat(12)}`, `${id}.json`, `${id}.bin`];
      for (const tenant of ['globex', '..', '../acme', 'acme/..', 'acme\u0000', 'ACME', '.', '']) {
        for (const x of [id, ...ids]) {
          if (tenant === 'acme' || (tenant === 'globex' && x === id)) continue;
          expect(await store.get(tenant, x), `${tenant} ${x.slice(0, 60)}`).toBeUndefined();
          expect(await store.content(tenant, x), `${tenant} ${x.slice(0, 60)}`).toBeUndefined();
          expect(await store.delete(tenant, x), `${tenant} ${x.slice(0, 60)}`).toBe(false);
        }
        expect(await store.list(tenant), tenant).toEqual([]);
      }
      expect(await store.get('globex', id)).toBeUndefined();
      expect((await store.get('acme', id))?.id).toBe(id);
      expect(readdirSync(join(dir, 'acme')).sort()).toEqual([`${id}.bin`, `${id}.json`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
