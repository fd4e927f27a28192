import { describe, expect, it } from 'vitest';
import { streamResponse } from '../../../../lambdas/inference/endpoints/responses-stored.js';
import type { GatewayResponder } from '../../../../lambdas/inference/gateway.js';
import type { PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
import { eventWithIncluded } from '../../../../lambdas/inference/responses/included-fields.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';

/**
 * `include` on a replayed stream (GET /v1/responses/{id}?stream=true&include[]=…&starting_after=N): the events are kept
 * as the create streamed them, with the create's own include, and each reader is shown them as its own `include` asks,
 * as retrieve's JSON is (included-fields.ts): a `file_search_call`'s results (null) and an output text's logprobs ([])
 * only when asked for, in the Responses of the lifecycle events, the items of output_item events, the parts of
 * content_part events and the logprobs of output_text delta and done events. Before, the replay showed them whatever
 * the retrieve's include said.
 */
const TENANT = 'acme';
const ID = 'resp_0123456789abcdef0123456789abcdef';
const results = [{ file_id: 'file_1', filename: 'a.txt', score: 0.9, text: 'alpha', attributes: {} }];
const logprobs = [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }];
const searchCall = { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['alpha'], results };
const part = { type: 'output_text', text: 'Hi', annotations: [], logprobs };
const message = { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [part] };
const response = (status: string, output: unknown[]) => ({ id: ID, object: 'response', status, background: true, model: 'openai-compatible/default', output });
const asked = (...values: string[]) => values.map((value, i) => ({ value, field: `include[${i}]` }));

/** The stream a create with include: ['file_search_call.results', 'message.output_text.logprobs'] wrote, as OpenAI names its events. */
const EVENTS = [
  { type: 'response.created', response: response('in_progress', []) },
  { type: 'response.output_item.added', output_index: 0, item: { ...searchCall, status: 'in_progress', results: null } },
  { type: 'response.file_search_call.completed', output_index: 0, item_id: 'fs_1' },
  { type: 'response.output_item.done', output_index: 0, item: searchCall },
  { type: 'response.output_item.added', output_index: 1, item: { ...message, status: 'in_progress', content: [] } },
  { type: 'response.content_part.added', item_id: 'msg_1', output_index: 1, content_index: 0, part: { ...part, text: '', logprobs: [] } },
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'Hi', logprobs },
  { type: 'response.output_text.done', item_id: 'msg_1', output_index: 1, content_index: 0, text: 'Hi', logprobs },
  { type: 'response.content_part.done', item_id: 'msg_1', output_index: 1, content_index: 0, part },
  { type: 'response.output_item.done', output_index: 1, item: message },
  { type: 'response.completed', response: response('completed', [searchCall, message]) },
].map((e, i) => ({ ...e, sequence_number: i }));

async function storeWithEvents(): Promise<MemoryResponseStore> {
  const store = new MemoryResponseStore();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  await store.put({
    tenantId: TENANT, responseId: ID, response: response('completed', [searchCall, message]), inputItems: [], messages: [], expiresAt, stream: true,
    include: ['file_search_call.results', 'message.output_text.logprobs'],
  });
  await store.appendEvents(TENANT, ID, { chunk: 0, events: structuredClone(EVENTS) as never, ended: true, expiresAt });
  return store;
}

/** GET /v1/responses/{id}?stream=true with `query`, as the endpoint answers it: the events written. */
async function replay(store: MemoryResponseStore, query: Record<string, string>, queryValues?: Record<string, string[]>): Promise<Array<Record<string, any>>> {
  const written: string[] = [];
  const res: GatewayResponder = { json: () => undefined, stream: () => ({ write: (e: string) => void written.push(e), end: () => undefined }) };
  const r = { caller: { tenantId: TENANT }, policy: { models: new Set<string>() }, audit: { requestId: 'req_1' } } as unknown as PipelineRequest;
  // As the router hands them over: the last value of each key in the query, every value in queryValues.
  const last = Object.fromEntries(Object.entries(queryValues ?? {}).map(([k, v]) => [k, v.at(-1)!]));
  await streamResponse(store, r, ID, { stream: 'true', ...query, ...last }, res, 5, queryValues);
  return written.filter((w) => w.startsWith('event: ')).map((w) => JSON.parse(w.slice(w.indexOf('data: ') + 6)));
}

/** Every logprobs array and file_search_call results value anywhere in `events`. */
function shown(events: unknown): { logprobs: unknown[]; results: unknown[] } {
  const found = { logprobs: [] as unknown[], results: [] as unknown[] };
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if ('logprobs' in o) found.logprobs.push(o.logprobs);
    if (o.type === 'file_search_call') found.results.push(o.results);
    Object.values(o).forEach(walk);
  };
  walk(events);
  return found;
}

describe('GET /v1/responses/{id}?stream=true: include applies to the replayed events as to the JSON', () => {
  it('without include: no logprobs and no file_search_call results in any event (Responses, items, parts, text deltas); with both: the events as the create streamed them', async () => {
    const store = await storeWithEvents();
    const events = await replay(store, {});
    expect(events.map((e) => e.sequence_number)).toEqual(EVENTS.map((e) => e.sequence_number));
    const { logprobs: l, results: r } = shown(events);
    // the two content parts, the text delta and done, the message of output_item.done and of the completed Response: each []
    expect(l.length).toBe(6);
    expect(l.every((x) => Array.isArray(x) && x.length === 0)).toBe(true);
    expect(r.length).toBe(3);
    expect(r.every((x) => x === null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { output: [{ ...searchCall, results: null }, { ...message, content: [{ ...part, logprobs: [] }] }] } });
    // the stored log is not changed: a reader asking for both gets what the create streamed
    expect(await replay(store, {}, { 'include[]': ['file_search_call.results', 'message.output_text.logprobs'] })).toEqual(EVENTS);
  });

  it('with one value: that one shown, the other not, from starting_after on; a value the create did not keep is still a 400 naming include[i]', async () => {
    const events = await replay(await storeWithEvents(), { starting_after: '5' }, { 'include[]': ['message.output_text.logprobs'] });
    expect(events.map((e) => e.sequence_number)).toEqual([6, 7, 8, 9, 10]);
    expect(events[0]).toEqual(EVENTS[6]);
    expect(events.at(-1)!.response.output).toEqual([{ ...searchCall, results: null }, message]);
    const store = new MemoryResponseStore();
    const plain = { ...message, content: [{ ...part, logprobs: [] }] };
    await store.put({ tenantId: TENANT, responseId: ID, response: response('completed', [plain]), inputItems: [], messages: [], expiresAt: Math.floor(Date.now() / 1000) + 3600, stream: true, include: [] });
    const e = await replay(store, {}, { 'include[]': ['message.output_text.logprobs'] }).catch((err: unknown) => err);
    expect(e).toMatchObject({ status: 400, param: 'include[0]', code: 'unsupported_parameter' });
  });

  it('the terminal event made from the stored Response (a log closed without one) is shown the same way', async () => {
    const store = await storeWithEvents();
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const kept = new MemoryResponseStore();
    await kept.put({ ...(await store.get(TENANT, ID))!, expiresAt });
    await kept.appendEvents(TENANT, ID, { chunk: 0, events: structuredClone(EVENTS.slice(0, 4)) as never, ended: true, expiresAt });
    const events = await replay(kept, { starting_after: '3' });
    expect(events).toEqual([{ type: 'response.completed', sequence_number: 4, response: response('completed', [{ ...searchCall, results: null }, { ...message, content: [{ ...part, logprobs: [] }] }]) }]);
  });
});

describe('eventWithIncluded', () => {
  it('changes nothing in place, and leaves events without those fields as they are', () => {
    const delta = EVENTS[6]!;
    const shaped = eventWithIncluded(delta, []);
    expect(shaped).toEqual({ ...delta, logprobs: [] });
    expect(delta.logprobs).toBe(logprobs);
    const other = EVENTS[2]!;
    expect(eventWithIncluded(other, [])).toBe(other);
    expect(eventWithIncluded(EVENTS[3]!, asked('file_search_call.results'))).toBe(EVENTS[3]);
  });
});
