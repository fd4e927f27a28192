import { cp, readFile, writeFile } from 'node:fs/promises';
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

/** A state dir as a serve stopped mid-batch leaves it (a copy): the batch `in_progress`, one of its three requests answered. */
async function stoppedMidBatch(): Promise<{ dir: string; batchId: string }> {
  const dir = tempDir('tessera-resume-');
  // An upstream of its own: the held request of an earlier test's stopped serve must not take this one's answers.
  const slow = await new FakeUpstream().start();
  stops.unshift(() => slow.stop());
  slow.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: 'first', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } }, { body: {}, delayMs: 600_000 });
  const first = await serveGateway(conformanceConfig(), slow.url, tenants, { stateDir: dir, batches: { concurrency: 1 } });
  const client = nodeClient(first.url, await first.token('acme'));
  const file = await client.files.create({ file: await toFile(Buffer.from(`${[chatLine('q-1', 'alpha'), chatLine('q-2', 'beta'), chatLine('q-3', 'gamma')].join('\n')}\n`), 'requests.jsonl'), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  await vi.waitFor(async () => expect((await client.batches.retrieve(batch.id)).request_counts).toMatchObject({ completed: 1 }), { timeout: 10_000, interval: 20 });
  // What the stopped serve left on disk, copied while its request is held: the test's first serve goes on running in
  // this process (a serve that ended would write nothing more), so the second serve starts on the copy.
  const left = tempDir('tessera-resume-left-');
  await cp(dir, left, { recursive: true });
  await first.stop();
  return { dir: left, batchId: batch.id };
}

const startAgain = async (dir: string, resumeBatches?: boolean) => {
  const g = await createLocalGateway({ config: conformanceConfig(), stateDir: dir, upstreamUrl: fast.url, tenants, memoryAudit: true, batches: { concurrency: 1 }, resumeBatches });
  stops.push(() => g.gateway.settled());
  return g;
};

describe('tessera serve started again on the state dir of a serve stopped mid-batch', () => {
  it('runs the batch again from its record to completed, every request answered in its output; a thread without resumeBatches leaves it', async () => {
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
    expect(output.trim().split('\n').map((l) => JSON.parse(l).custom_id).sort()).toEqual(['q-1', 'q-2', 'q-3']);
    // runBatch writes answers only at the end: q-1, answered before the stop, ran again (as docs/gateway.md says).
    expect(fast.requests).toHaveLength(3);
    const records = (again.audit as MemoryAuditSink).records.filter((r) => r.detail?.batchId === batchId);
    expect(records.map((r) => r.detail!.customId).sort()).toEqual(['q-1', 'q-2', 'q-3']);
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
    expect(ended).toMatchObject({ status: 'expired', request_counts: { total: 3, completed: 0, failed: 0 } });
    expect(ended.expired_at).toBeGreaterThan(0);
    const errors = new TextDecoder().decode(await new DirBatchFileStore(join(dir, 'batches', 'files')).content('acme', ended.error_file_id!));
    expect(errors.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.custom_id, l.error.code]).sort()).toEqual([['q-1', 'batch_expired'], ['q-2', 'batch_expired'], ['q-3', 'batch_expired']]);
    expect(fast.requests).toHaveLength(0);
  });
});
