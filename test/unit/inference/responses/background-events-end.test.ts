import { describe, expect, it } from 'vitest';
import { followEvents } from '../../../../lambdas/inference/responses/background-events.js';
import type { GatewayResponder } from '../../../../lambdas/inference/gateway.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';

const TENANT = 'acme';
const ID = 'resp_0123456789abcdef0123456789abcdef';

/** A responder that keeps what the stream wrote. */
function recorder(): { res: GatewayResponder; written: string[] } {
  const written: string[] = [];
  const res: GatewayResponder = {
    json: () => undefined,
    stream: () => ({ write: (e: string) => void written.push(e), end: () => undefined }),
  };
  return { res, written };
}

const eventsOf = (written: string[]) => written.filter((w) => w.startsWith('event: ')).map((w) => JSON.parse(w.slice(w.indexOf('data: ') + 6)) as { type: string; sequence_number: number; response?: { status: string } });

async function storeWith(status: string, ended: boolean): Promise<MemoryResponseStore> {
  const store = new MemoryResponseStore();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  await store.put({ tenantId: TENANT, responseId: ID, response: { id: ID, object: 'response', status, background: true, output: [] }, inputItems: [], messages: [], expiresAt, stream: true });
  // The run's first chunk was kept; the chunk with its terminal event was not (one event over the item limit, a failed write).
  await store.appendEvents(TENANT, ID, { chunk: 0, events: [{ type: 'response.created', sequence_number: 0, response: { id: ID, status: 'in_progress' } }, { type: 'response.output_text.delta', sequence_number: 1, delta: 'hel' }] as never, ended, expiresAt });
  return store;
}

describe('a background stream whose log lost its terminal event', () => {
  it('ends with the stored Response\'s terminal event when the log was closed without one', async () => {
    const store = await storeWith('completed', true);
    const { res, written } = recorder();
    await followEvents(store, TENANT, ID, -1, res, { pollMs: 5 });
    const events = eventsOf(written);
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual([['response.created', 0], ['response.output_text.delta', 1], ['response.completed', 2]]);
    expect(events[2]!.response).toMatchObject({ id: ID, status: 'completed' });
  });

  it('a reader resuming after the last kept event gets the same terminal event and sequence number', async () => {
    const store = await storeWith('failed', true);
    const { res, written } = recorder();
    await followEvents(store, TENANT, ID, 1, res, { pollMs: 5 });
    expect(eventsOf(written).map((e) => [e.type, e.sequence_number, e.response?.status])).toEqual([['response.failed', 2, 'failed']]);
  });

  it('a reader of an empty log (a run settled without writing an event) gets response.created, then the terminal event: the stream helpers need the opening event first', async () => {
    const store = new MemoryResponseStore();
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const failed = { id: ID, object: 'response', status: 'failed', background: true, output: [], error: { code: 'server_error', message: 'lapsed' }, usage: { input_tokens: 1, output_tokens: 0, total_tokens: 1 }, completed_at: 5 };
    await store.put({ tenantId: TENANT, responseId: ID, response: failed, inputItems: [], messages: [], expiresAt, stream: true });
    await store.appendEvents(TENANT, ID, { chunk: 0, events: [], ended: true, expiresAt });
    const { res, written } = recorder();
    await followEvents(store, TENANT, ID, -1, res, { pollMs: 5 });
    const events = eventsOf(written);
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual([['response.created', 0], ['response.failed', 1]]);
    expect(events[0]!.response).toEqual({ id: ID, object: 'response', status: 'queued', background: true, output: [], error: null, incomplete_details: null });
    expect(events[1]!.response).toEqual(failed);
  });

  it('a cancelled response ends with no terminal event (a cancel has none)', async () => {
    const store = await storeWith('cancelled', true);
    const { res, written } = recorder();
    await followEvents(store, TENANT, ID, -1, res, { pollMs: 5 });
    expect(eventsOf(written).map((e) => e.type)).toEqual(['response.created', 'response.output_text.delta']);
  });
});
