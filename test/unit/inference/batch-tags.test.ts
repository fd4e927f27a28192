import { describe, expect, it } from 'vitest';
import type { BatchRequestDetail } from '../../../lambdas/inference/batches/runner.js';
import { runBatch } from '../../../lambdas/inference/batches/runner.js';
import { runBatchChunk } from '../../../lambdas/inference/batches/worker.js';
import { batchFixture, IDS } from '../../support/batch-memory.js';

// A batch's tags (StoredBatch.tags: its create's x-tessera-tags) go with each of its requests to the gateway
// (ExecuteBatchRequest's detail.tags → Gateway.batchRequest's record and usage by tag), on the AWS worker's chunks and
// on tessera serve's run alike. The gateway's side, the create keeping them and a serve's resume: the integration test
// test/integration/gateway-conformance/batches-resume.test.ts.

/** The batch fixture's five lines, the batch tagged `tags` (undefined: untagged), and the detail each line was run with. */
async function taggedFixture(tags?: string[]) {
  const f = await batchFixture();
  if (tags) await f.batches.update('acme', f.id, (c) => ({ ...c, tags }));
  const details: BatchRequestDetail[] = [];
  const execute = f.deps.execute;
  f.deps.execute = async (owner, url, body, detail, signal) => {
    details.push(detail);
    return execute(owner, url, body, detail, signal);
  };
  return { ...f, details };
}

describe('a batch\'s requests run with the batch\'s tags', () => {
  it('the AWS worker: every line of every chunk, the first and the next one\'s message alike', async () => {
    const { deps, id, ran, sent, details } = await taggedFixture(['nightly', 'team=search']);
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => (ran.length >= 2 ? 1_000 : 900_000))).toBe('ran');
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000)).toBe('ended');
    expect(details.map((d) => d.customId)).toEqual(IDS);
    expect(details.map((d) => d.tags)).toEqual(IDS.map(() => ['nightly', 'team=search']));
  });

  it('tessera serve (runBatch): every line', async () => {
    const { deps, id, details } = await taggedFixture(['nightly']);
    expect(await runBatch(deps, 'acme', id)).toMatchObject({ status: 'completed' });
    expect(details.map((d) => d.tags)).toEqual(IDS.map(() => ['nightly']));
  });

  it('a batch created without tags runs its lines without any', async () => {
    const { deps, id, details } = await taggedFixture();
    await runBatch(deps, 'acme', id);
    expect(details).toHaveLength(IDS.length);
    expect(details.every((d) => !('tags' in d))).toBe(true);
  });
});
