import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeBackgroundResponses } from '../../../../lambdas/inference/local-gateway.js';
import { LAPSED_MESSAGE } from '../../../../lambdas/inference/responses/background.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';
import type { StoredResponse } from '../../../../lambdas/inference/stores/response-store.js';
import { tempDir } from '../../../support/temp-dirs.js';

const item = (id: string, status: string, since?: number): StoredResponse => ({
  tenantId: 'acme', responseId: id, response: { id, object: 'response', status, background: true }, inputItems: [], messages: [], expiresAt: Math.floor(Date.now() / 1000) + 3600,
  ...(status === 'queued' || status === 'in_progress' ? { job: { owner: { tenantId: 'acme', userId: 'u', role: 'member' as const }, request: '{}', ...(since !== undefined ? { lease: { claim: 'c', since, until: Number.MAX_SAFE_INTEGER } } : {}) } } : {}),
});

describe('tessera serve at start: the background responses a stopped serve left (resumeBackgroundResponses)', () => {
  it('of a previous serve (another serveId in the marker, or an empty one): runs the queued ones, settles failed the ones in_progress (not run again), drops stale markers; leaves the markers of this serve (live runs of its other threads)', async () => {
    const markers = tempDir('tessera-bg-');
    mkdirSync(join(markers, 'acme'));
    const store = new MemoryResponseStore();
    const ids = { queued: `resp_${'1'.repeat(48)}`, stale: `resp_${'2'.repeat(48)}`, live: `resp_${'3'.repeat(48)}`, done: `resp_${'4'.repeat(48)}`, gone: `resp_${'5'.repeat(48)}`, liveQueued: `resp_${'6'.repeat(48)}`, older: `resp_${'7'.repeat(48)}` };
    await store.put(item(ids.queued, 'queued'));
    await store.put(item(ids.stale, 'in_progress', 500));
    // begun by another thread of this serve before this thread started (its lease since earlier than any start time)
    await store.put(item(ids.live, 'in_progress', 1));
    await store.put(item(ids.liveQueued, 'queued'));
    await store.put(item(ids.older, 'in_progress', 5_000_000_000_000));
    await store.put(item(ids.done, 'completed'));
    for (const id of Object.values(ids)) writeFileSync(join(markers, 'acme', id), id === ids.live || id === ids.liveQueued ? 'this-serve' : id === ids.older ? '' : 'previous-serve');
    const started: string[] = [];
    await resumeBackgroundResponses(markers, store, 'this-serve', (_t, id) => started.push(id));
    expect(started).toEqual([ids.queued]);
    expect((await store.get('acme', ids.stale))?.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: LAPSED_MESSAGE } });
    expect((await store.get('acme', ids.older))?.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: LAPSED_MESSAGE } });
    expect((await store.get('acme', ids.live))?.response.status).toBe('in_progress');
    expect((await store.get('acme', ids.liveQueued))?.response.status).toBe('queued');
    expect(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, existsSync(join(markers, 'acme', id))]))).toEqual({ queued: true, stale: false, live: true, done: false, gone: false, liveQueued: true, older: false });
  });
});
