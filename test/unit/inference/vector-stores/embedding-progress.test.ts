import { existsSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDigest, DirEmbeddingProgress } from '../../../../lambdas/inference/vector-stores/embedding-progress.js';
import { tempDir } from '../../../support/temp-dirs.js';

/** `tessera serve`'s keeping of a stopped vector store file run's embeddings (DirEmbeddingProgress). */
const STORE = `vs_${'0'.repeat(24)}`;
const kept = (vector: number[]) => ({ model: 'openai/text-embedding-3-small', chunks: [{ sha256: chunkDigest('alpha'), vector }] });

describe('DirEmbeddingProgress', () => {
  it('gives back what was kept exactly (float64), once', async () => {
    const progress = new DirEmbeddingProgress(tempDir('tessera-progress-'));
    const vector = [0.1, -1 / 3, 1e-300, 123456.789, 0];
    await progress.save('acme', STORE, 'file-a', kept(vector));
    expect(await progress.take('acme', STORE, 'file-a')).toEqual(kept(vector));
    expect(await progress.take('acme', STORE, 'file-a')).toBeUndefined();
    expect(await progress.take('acme', STORE, 'file-b')).toBeUndefined();
  });

  it('sweep removes a previous serve\'s kept embeddings of files no longer in_progress, and keeps those in_progress and those written since', async () => {
    const dir = tempDir('tessera-progress-');
    const progress = new DirEmbeddingProgress(dir);
    for (const f of ['file-gone', 'file-running', 'file-new']) await progress.save('acme', STORE, f, kept([1, 2]));
    const path = (f: string) => join(dir, 'acme', STORE, `${f}.json`);
    const startedAtMs = Date.now();
    const past = (startedAtMs - 60_000) / 1000;
    for (const f of ['file-gone', 'file-running']) await utimes(path(f), past, past);
    const since = (startedAtMs + 1000) / 1000; // written by this serve
    await utimes(path('file-new'), since, since);
    await progress.sweep(startedAtMs, async (_t, _s, fileId) => fileId === 'file-running');
    expect(existsSync(path('file-gone'))).toBe(false);
    expect(existsSync(path('file-running'))).toBe(true);
    expect(existsSync(path('file-new'))).toBe(true);
  });
});
