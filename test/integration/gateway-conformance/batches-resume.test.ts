import { appendFile, cp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toFile } from 'openai';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLocalGateway, localTenant } from '../../../lambdas/inference/local-gateway.js';
import { DirBatchFileStore, DirBatchStore } from '../../../lambdas/inference/batches/stores.js';
import type { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { tempDir } from '../../support/temp-dirs.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A `tessera serve` stopped while a batch runs, then started again on the same state dir: the batch is run again at
 * start (createLocalGateway's resumeBatches) and ends, instead of staying `in_progress` for ever; one past its
 * `expires_at` ends `expired`. The first serve's upstream answers the first request and holds the second (a slow
 * upstream), so the batch is `in_progress` with one answer when that serve stops; the second serve has its own upstream.
 */
const tenants = [localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false } } as never)];
const fast = await new FakeUpstream().start();
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await fast.stop();
});

const chatLine = (customId: string, content: string) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'openai-compatible/default', messages: [{ role: 'user', content }] } });

/**
 * A state dir as a serve stopped mid-batch leaves it (a copy): the batch `in_progress`, one of its three requests
 * answered. @param tags the create's `x-tessera-tags` @default - none
 */
async function stoppedMidBatch(tags?: string): Promise<{ dir: string; batchId: string }> {
  const dir = tempDir('tessera-resume-');
  // An upstream of its own: the held request of an earlier test's stopped serve must not take this one's answers.
  const slow = await new FakeUpstream().start();
  stops.unshift(() => slow.stop());
  slow.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: 'first', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } }, { body: {}, delayMs: 600_000 });
  const first = await serveGateway(conformanceConfig(), slow.url, tenants, { stateDir: dir, batches: { concurrency: 1 } });
  const client = nodeClient(first.url, await first.token('acme'));
  const file = await client.files.create({ file: await toFile(Buffer.from(`${[chatLine('q-1', 'alpha'), chatLine('q-2', 'beta'), chatLine('q-3', 'gamma')].join('\n')}\n`), 'requests.jsonl'), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, tags ? { headers: { 'x-tessera-tags': tags } } : {});
  await vi.waitFor(async () => expect((await client.batches.retrieve(batch.id)).request_counts).toMatchObject({ completed: 1 }), { timeout: 10_000, interval: 20 });
  // What the stopped serve left on disk, copied while its request is held: the test's first serve goes on running in
  // this process (a serve that ended would write nothing more), so the second serve starts on the copy.
  const left = tempDir('tessera-resume-left-');
  await cp(dir, left, { recursive: true });
  await first.stop();
  return { dir: left, batchId: batch.id };
}

/** The `.bin` files of the state dir's batch files that have no record (`.json`): bytes no read finds. */
async function orphans(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, 'batches', 'files', 'acme'));
  return names.filter((n) => n.endsWith('.bin') && !names.includes(n.replace(/\.bin$/, '.json')));
}

const startAgain = async (dir: string, resumeBatches?: boolean) => {
  const g = await createLocalGateway({ config: conformanceConfig(), stateDir: dir, upstreamUrl: fast.url, tenants, memoryAudit: true, batches: { concurrency: 1 }, resumeBatches });
  stops.push(() => g.gateway.settled());
  return g;
};

describe('tessera serve started again on the state dir of a serve stopped mid-batch', () => {
  it('resumes the batch to completed: the stopped run\'s answer kept, only the requests without one run; its files recorded, no .bin left without a record; a thread without resumeBatches leaves it', async () => {
    const { dir, batchId } = await stoppedMidBatch();
    const batches = new DirBatchStore(join(dir, 'batches', 'batches'));
    expect((await batches.get('acme', batchId))!.batch).toMatchObject({ status: 'in_progress', request_counts: { completed: 1 } });
    // serve --workers: the other threads do not resume it.
    const other = await startAgain(dir, false);
    await other.batchesIdle();
    expect((await batches.get('acme', batchId))!.batch.status).toBe('in_progress');

    const again = await startAgain(dir);
    await again.batchesIdle();
    const ended = (await batches.get('acme', batchId))!.batch;
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    const output = new TextDecoder().decode(await new DirBatchFileStore(join(dir, 'batches', 'files')).content('acme', ended.output_file_id!));
    const lines = output.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['q-1', 'q-2', 'q-3']);
    // q-1 was answered by the stopped serve's upstream ('first'): kept, not run again (one live call, billed once).
    expect(lines.find((l) => l.custom_id === 'q-1').response.body.choices[0].message.content).toBe('first');
    expect(fast.requests).toHaveLength(2);
    const records = (again.audit as MemoryAuditSink).records.filter((r) => r.detail?.batchId === batchId);
    expect(records.map((r) => r.detail!.customId).sort()).toEqual(['q-2', 'q-3']);
    expect(ended.usage).toMatchObject({ input_tokens: expect.any(Number) });
    expect((await batches.get('acme', batchId))!.appending).toBeUndefined();
    expect(await orphans(dir)).toEqual([]);
  });

  it('a batch created with x-tessera-tags keeps them on its record, and the resumed serve runs its lines with them: each line\'s record has them, its usage counts under each (group_by=tag)', async () => {
    fast.reset();
    const { dir, batchId } = await stoppedMidBatch('nightly, team=search');
    expect((await new DirBatchStore(join(dir, 'batches', 'batches')).get('acme', batchId))!.tags).toEqual(['nightly', 'team=search']);
    const again = await startAgain(dir);
    await again.batchesIdle();
    const records = (again.audit as MemoryAuditSink).records.filter((r) => r.detail?.batchId === batchId);
    expect(records.map((r) => [r.detail!.customId, r.tags]).sort()).toEqual([['q-2', ['nightly', 'team=search']], ['q-3', ['nightly', 'team=search']]]);
    // The resumed serve's ledger: its two requests under each tag (q-1 was the stopped serve's).
    const { tags, unrecorded } = await again.store.tagUsage('acme', new Date());
    expect(unrecorded).toBe(0);
    expect(tags.map((t) => [t.tag, t.month.requests, t.month.tokens])).toEqual([['nightly', 2, expect.any(Number)], ['team=search', 2, expect.any(Number)]]);
    expect(tags[0].month.tokens).toBeGreaterThan(0);
  });

  // s43h: a stopping serve went on starting lines while it settled (up to 10 s), so a serve restarted on the state dir
  // meanwhile ran the batch a second time (request_counts 208 completed of 200).
  it('a serve that stops starts no line after the stop: the batch stays in_progress, and the next serve runs only what is left', async () => {
    fast.reset();
    const dir = tempDir('tessera-resume-stop-');
    const slow = await new FakeUpstream().start();
    stops.unshift(() => slow.stop());
    const answer = { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: 'slow', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
    slow.script(...Array.from({ length: 12 }, () => ({ body: answer, delayMs: 100 })));
    const first = await serveGateway(conformanceConfig(), slow.url, tenants, { stateDir: dir, batches: { concurrency: 2 } });
    const client = nodeClient(first.url, await first.token('acme'));
    const text = `${Array.from({ length: 12 }, (_, i) => chatLine(`s-${i}`, `line ${i}`)).join('\n')}\n`;
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'requests.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await vi.waitFor(() => expect(slow.requests.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 5 });
    const atStop = slow.requests.length;
    // As serve stops (no idle() after it): the lines in flight end and their answers are written before stop() ends (session 44).
    await first.stop();
    // The lines in flight at the stop (2 at once) end; none starts after it. Before, the run went on to the last line.
    expect(slow.requests.length).toBeLessThanOrEqual(atStop + 2);
    const called = slow.requests.length;
    const batches = new DirBatchStore(join(dir, 'batches', 'batches'));
    const left = (await batches.get('acme', batch.id))!;
    expect(left.batch.status).toBe('in_progress');
    // Read as stop() ended (serve exits then): an answer for each request called, none lost to the next serve.
    expect((await readFile(join(dir, 'batches', 'files', 'acme', `${left.appending!.output}.bin`), 'utf8')).trim().split('\n')).toHaveLength(called);

    const again = await startAgain(dir);
    await again.batchesIdle();
    const ended = (await batches.get('acme', batch.id))!.batch;
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 12, completed: 12, failed: 0 } });
    const output = new TextDecoder().decode(await new DirBatchFileStore(join(dir, 'batches', 'files')).content('acme', ended.output_file_id!));
    const ids = output.trim().split('\n').map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    // Each request called upstream once: those in flight at the stop were answered by it and kept, not run again.
    expect(fast.requests).toHaveLength(12 - called);
  });

  it('a batch past its expires_at ends expired, each request not run in the error file as batch_expired', async () => {
    fast.reset();
    const { dir, batchId } = await stoppedMidBatch();
    const path = join(dir, 'batches', 'batches', 'acme', `${batchId}.json`);
    const item = JSON.parse(await readFile(path, 'utf8'));
    item.batch.expires_at = Math.floor(Date.now() / 1000) - 60; // the serve stayed stopped past the 24 h window
    await writeFile(path, JSON.stringify(item));
    const again = await startAgain(dir);
    await again.batchesIdle();
    const ended = (await new DirBatchStore(join(dir, 'batches', 'batches')).get('acme', batchId))!.batch;
    expect(ended).toMatchObject({ status: 'expired', request_counts: { total: 3, completed: 1, failed: 0 } });
    expect(ended.expired_at).toBeGreaterThan(0);
    const files = new DirBatchFileStore(join(dir, 'batches', 'files'));
    // q-1's answer, written before the stop, is the output's; the two not run are batch_expired.
    const output = new TextDecoder().decode(await files.content('acme', ended.output_file_id!));
    expect(output.trim().split('\n').map((l) => JSON.parse(l).custom_id)).toEqual(['q-1']);
    const errors = new TextDecoder().decode(await files.content('acme', ended.error_file_id!));
    expect(errors.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.custom_id, l.error.code]).sort()).toEqual([['q-2', 'batch_expired'], ['q-3', 'batch_expired']]);
    expect(fast.requests).toHaveLength(0);
    expect(await orphans(dir)).toEqual([]);
  });

  it('the bytes a previous serve left with no record and no unfinished batch writing them are removed at start; a live thread\'s (written since this serve started) and the batch\'s own are kept', async () => {
    fast.reset();
    const { dir, batchId } = await stoppedMidBatch();
    const tenantDir = join(dir, 'batches', 'files', 'acme');
    const { appending } = (await new DirBatchStore(join(dir, 'batches', 'batches')).get('acme', batchId))!;
    // A serve before session 43 resumed a batch into new files and left the stopped run's: no record names them.
    const left = `file-${'0'.repeat(23)}1`;
    const live = `file-${'0'.repeat(23)}2`;
    await writeFile(join(tenantDir, `${left}.bin`), '{"custom_id":"old"}\n');
    await writeFile(join(tenantDir, `${live}.bin`), 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(tenantDir, `${left}.bin`), hourAgo, hourAgo);
    await utimes(join(tenantDir, `${appending!.output}.bin`), hourAgo, hourAgo);
    const inAnHour = new Date(Date.now() + 3_600_000);
    await utimes(join(tenantDir, `${live}.bin`), inAnHour, inAnHour);
    const again = await startAgain(dir);
    await again.batchesIdle();
    expect(await orphans(dir)).toEqual([`${live}.bin`]);
    const ended = (await new DirBatchStore(join(dir, 'batches', 'batches')).get('acme', batchId))!.batch;
    expect(ended).toMatchObject({ status: 'completed', output_file_id: appending!.output, request_counts: { completed: 3 } });
  });

  // s43i: a line that did not parse (bytes a failed write left before the next answer, an edit by hand) made every resume
  // throw ("batch run failed"): the batch stayed in_progress at every start, and the file's handle stayed open.
  it('a line of the output that is not an answer is cut off with every line after it, and their requests run again: the batch ends', async () => {
    fast.reset();
    const { dir, batchId } = await stoppedMidBatch();
    const batches = new DirBatchStore(join(dir, 'batches', 'batches'));
    const { appending } = (await batches.get('acme', batchId))!;
    // A write that failed half-way (disk full) left part of q-2's answer; the next answer went on after it, in the same line.
    await appendFile(join(dir, 'batches', 'files', 'acme', `${appending!.output}.bin`), '{"id":"batch_req_half","custom_id":"q-2","respo{"id":"batch_req_3","custom_id":"q-3","response":null,"error":null}\n{"id":"batch_req_4","custom_id":"q-9","response":null,"error":null}\n');
    const again = await startAgain(dir);
    await again.batchesIdle();
    const ended = (await batches.get('acme', batchId))!.batch;
    expect(ended).toMatchObject({ status: 'completed', output_file_id: appending!.output, request_counts: { total: 3, completed: 3, failed: 0 } });
    const output = new TextDecoder().decode(await new DirBatchFileStore(join(dir, 'batches', 'files')).content('acme', ended.output_file_id!));
    const lines = output.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['q-1', 'q-2', 'q-3']);
    expect(lines.find((l) => l.custom_id === 'q-1').response.body.choices[0].message.content).toBe('first');
    expect(fast.requests).toHaveLength(2);
    expect(await orphans(dir)).toEqual([]);
  });

  it('a line cut by the stop (no trailing newline) is dropped and its request run again; the whole lines kept', async () => {
    fast.reset();
    const { dir, batchId } = await stoppedMidBatch();
    const batches = new DirBatchStore(join(dir, 'batches', 'batches'));
    const { appending } = (await batches.get('acme', batchId))!;
    expect(appending).toEqual({ output: expect.stringMatching(/^file-/), error: expect.stringMatching(/^file-/) });
    // The stop came in the middle of writing q-2's answer to the output file.
    await appendFile(join(dir, 'batches', 'files', 'acme', `${appending!.output}.bin`), '{"id":"batch_req_cut","custom_id":"q-2","respo');
    const again = await startAgain(dir);
    await again.batchesIdle();
    const ended = (await batches.get('acme', batchId))!.batch;
    expect(ended).toMatchObject({ status: 'completed', output_file_id: appending!.output, request_counts: { total: 3, completed: 3, failed: 0 } });
    const output = new TextDecoder().decode(await new DirBatchFileStore(join(dir, 'batches', 'files')).content('acme', ended.output_file_id!));
    expect(output.endsWith('\n')).toBe(true);
    expect(output.trim().split('\n').map((l) => JSON.parse(l).custom_id).sort()).toEqual(['q-1', 'q-2', 'q-3']);
    expect(fast.requests).toHaveLength(2);
    expect(await orphans(dir)).toEqual([]);
  });
});
