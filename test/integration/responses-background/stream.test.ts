import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { FakeUpstream, type ScriptedEvent } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Background responses created streaming (`background: true, stream: true`) on `tessera serve`, with the official
 * clients: the create answers the run's stream events; a client that drops the stream leaves the run going and resumes
 * with `GET /v1/responses/{id}?stream=true&starting_after=N` (every event once, in order, none missing); concurrent
 * readers see the same sequence; a cancel mid-run ends the stream; the refusals (`starting_after` negative, not an
 * integer, past the end; a foreground response or a background one created without stream; another tenant's id).
 * The upstream's stream is held at a gate the test opens, so "mid-run" is an order, not a timing.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')], { background: { pollMs: 50 } });
  tokens.acme = await gw.token('acme');
  tokens.globex = await gw.token('globex');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const MODEL = 'openai-compatible/default';
const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);

/** A chat stream of `pieces` text deltas, held after the first `heldAfter` until `gate` resolves. */
function gatedStream(pieces: string[], heldAfter: number, gate: Promise<unknown>): { events: ScriptedEvent[] } {
  const chunk = (delta: object, finish: string | null) => ({ data: { id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] } });
  return {
    events: [
      ...pieces.slice(0, heldAfter).map((p) => chunk({ content: p }, null)),
      { until: gate },
      ...pieces.slice(heldAfter).map((p) => chunk({ content: p }, null)),
      chunk({}, 'stop'),
      { data: { id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 } } },
      { data: '[DONE]' },
    ],
  };
}

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((ok) => (open = ok));
  return { promise, open };
}

const PIECES = ['Otters ', 'float ', 'on ', 'their ', 'backs ', 'in ', 'space.'];

/** Reads events until `stop` says so (then drops the stream) or the stream ends. */
async function readUntil(stream: AsyncIterable<ResponseStreamEvent> & { controller: AbortController }, stop: (e: ResponseStreamEvent) => boolean = () => false): Promise<ResponseStreamEvent[]> {
  const seen: ResponseStreamEvent[] = [];
  for await (const event of stream) {
    seen.push(event);
    if (stop(event)) {
      stream.controller.abort();
      break;
    }
  }
  return seen;
}

const seqs = (events: ResponseStreamEvent[]) => events.map((e) => e.sequence_number);
const text = (events: ResponseStreamEvent[]) => events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');

describe('background responses created streaming, on tessera serve (openai node)', () => {
  it('drop the create\'s stream after a few events, the run goes on; retrieve(id, {stream: true, starting_after}) gives the rest: every event once, in order, ending with response.completed', async () => {
    const g = gate();
    upstream.script(gatedStream(PIECES, 2, g.promise));
    const created = await client().responses.create({ model: MODEL, input: 'otters', background: true, stream: true });
    const first = await readUntil(created, (e) => e.type === 'response.output_text.delta');
    expect(first[0]).toMatchObject({ type: 'response.created', sequence_number: 0, response: { background: true } });
    const id = (first[0] as { response: { id: string } }).response.id;
    g.open(); // the upstream goes on while nobody reads
    const last = first[first.length - 1]!.sequence_number;
    const rest = await readUntil(await client().responses.retrieve(id, { stream: true, starting_after: last }));
    const all = [...first, ...rest];
    expect(seqs(all)).toEqual(all.map((_, i) => i));
    expect(all[all.length - 1]).toMatchObject({ type: 'response.completed', response: { id, status: 'completed' } });
    expect(text(all)).toBe(PIECES.join(''));
    const done = await client().responses.retrieve(id);
    expect(done).toMatchObject({ id, status: 'completed', background: true });
    expect(done.output_text).toBe(PIECES.join(''));
    // A later reader from the start gets the same events, byte for byte as JSON.
    expect(await readUntil(await client().responses.retrieve(id, { stream: true }))).toEqual(all);
    // And one after the terminal event gets an empty stream.
    expect(await readUntil(await client().responses.retrieve(id, { stream: true, starting_after: all.length - 1 }))).toEqual([]);
    expect(upstream.requests).toHaveLength(1);
    // input_items of the settled response, as of any stored one.
    expect((await client().responses.inputItems.list(id)).data).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'otters' }] }]);
  });

  it('two concurrent readers (and the create) see the same sequence', async () => {
    const g = gate();
    upstream.script(gatedStream(PIECES, 3, g.promise));
    const created = await client().responses.create({ model: MODEL, input: 'shared', background: true, stream: true });
    const head = await readUntil(created, (e) => e.type === 'response.in_progress');
    const id = (head[0] as { response: { id: string } }).response.id;
    const readers = await Promise.all([client().responses.retrieve(id, { stream: true }), client().responses.retrieve(id, { stream: true, starting_after: 0 })]);
    const reading = readers.map((s) => readUntil(s));
    g.open();
    const [a, b] = await Promise.all(reading);
    expect(seqs(a!)).toEqual(a!.map((_, i) => i));
    expect(b).toEqual(a!.slice(1));
    expect(a![a!.length - 1]!.type).toBe('response.completed');
    expect(a!.slice(0, head.length)).toEqual(head);
  });

  it('input_items of a queued or running background response lists its input', async () => {
    const g = gate();
    upstream.script(gatedStream(PIECES, 1, g.promise));
    const created = await client().responses.create({ model: MODEL, input: 'listed while it runs', background: true });
    await upstream.received(1);
    expect((await client().responses.retrieve(created.id)).status).toBe('in_progress');
    expect((await client().responses.inputItems.list(created.id)).data).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'listed while it runs' }] }]);
    g.open();
    await gw.settled();
  });

  it('a cancel mid-run ends every reader\'s stream after the last event the run sent (no terminal event: OpenAI\'s stream events have none for a cancel); retrieve says cancelled', async () => {
    const g = gate();
    upstream.script(gatedStream(PIECES, 2, g.promise));
    const created = await client().responses.create({ model: MODEL, input: 'a very long novel', background: true, stream: true });
    const seen: ResponseStreamEvent[] = [];
    let id = '';
    for await (const event of created) {
      seen.push(event);
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.output_text.delta' && seen.filter((e) => e.type === 'response.output_text.delta').length === 2) {
        expect(await client().responses.cancel(id)).toMatchObject({ id, status: 'cancelled' });
      }
    }
    expect(seqs(seen)).toEqual(seen.map((_, i) => i));
    expect(seen.some((e) => ['response.completed', 'response.failed', 'response.incomplete'].includes(e.type))).toBe(false);
    g.open();
    await gw.settled();
    expect(await client().responses.retrieve(id)).toMatchObject({ status: 'cancelled' });
    expect(await readUntil(await client().responses.retrieve(id, { stream: true }))).toEqual(seen);
  });

  it('a run refused before its stream opened (the upstream\'s 400): the stream opens with response.created, as every Responses stream does, then ends with response.failed carrying the stored failed response', async () => {
    upstream.script({ status: 400, body: { error: { message: 'the upstream refuses this', type: 'invalid_request_error', code: null, param: null } } });
    const created = await client().responses.create({ model: MODEL, input: 'refused', background: true, stream: true });
    const all = await readUntil(created);
    expect(all.map((e) => [e.type, e.sequence_number])).toEqual([['response.created', 0], ['response.failed', 1]]);
    const id = (all[0] as { response: { id: string } }).response.id;
    expect(all[0]).toMatchObject({ response: { id, status: 'in_progress', background: true, error: null, output: [] } });
    expect(all[1]).toMatchObject({ response: { id, status: 'failed', background: true, error: { code: 'invalid_prompt' } } });
    expect(await client().responses.retrieve(id)).toMatchObject({ status: 'failed', error: { code: 'invalid_prompt' } });
    expect(await readUntil(await client().responses.retrieve(id, { stream: true }))).toEqual(all);
  });

  it('the same refusal through client.responses.stream({background: true}): finalResponse() is the failed Response with its error (it rejected with "When snapshot hasn\'t been set yet" when the stream opened with response.failed)', async () => {
    upstream.script({ status: 400, body: { error: { message: 'the upstream refuses this', type: 'invalid_request_error', code: null, param: null } } });
    const stream = client().responses.stream({ model: MODEL, input: 'refused', background: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['response.created', 'response.failed']);
    const final = await stream.finalResponse();
    expect(final).toMatchObject({ status: 'failed', background: true, error: { code: 'invalid_prompt', message: expect.stringContaining('the upstream refuses this') } });
    expect(await client().responses.retrieve(final.id)).toMatchObject({ status: 'failed', error: final.error });
  });

  it('refusals: starting_after negative, not an integer, past the end (400 naming starting_after); a foreground response or a background one created without stream (400 naming stream); another tenant\'s id (404 as an unknown id)', async () => {
    const created = await client().responses.create({ model: MODEL, input: 'short', background: true, stream: true });
    const all = await readUntil(created);
    const id = (all[0] as { response: { id: string } }).response.id;
    const raw = async (rid: string, query: string, tenant = 'acme') => {
      const res = await fetch(`${gw.url}/responses/${rid}?stream=true${query}`, { headers: { authorization: `Bearer ${tokens[tenant]}` } });
      return { status: res.status, body: (await res.text()).replaceAll(rid, '<id>') };
    };
    for (const bad of ['-1', '1.5', 'abc', '', String(all.length)]) {
      const r = await raw(id, `&starting_after=${bad}`);
      expect([bad, r.status]).toEqual([bad, 400]);
      expect(JSON.parse(r.body)).toMatchObject({ error: { param: 'starting_after', type: 'invalid_request_error' } });
    }
    await expect(client().responses.retrieve(id, { stream: true, starting_after: -1 })).rejects.toMatchObject({ status: 400, param: 'starting_after' });
    const fg = await client().responses.create({ model: MODEL, input: 'x' });
    await expect(client().responses.retrieve(fg.id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'stream', message: expect.stringContaining('not created with background=true') });
    const polled = await client().responses.create({ model: MODEL, input: 'x', background: true });
    await expect(client().responses.retrieve(polled.id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' });
    const unknown = `resp_${'0'.repeat(48)}`;
    const other = await raw(id, '', 'globex');
    expect(other.status).toBe(404);
    expect(other).toEqual(await raw(unknown, '', 'globex'));
    await gw.settled();
  });

  it("an API key limited to other models reads another model's background stream as an unknown id (404)", async () => {
    const created = await client().responses.create({ model: MODEL, input: 'app B', background: true, stream: true });
    const all = await readUntil(created);
    const id = (all[0] as { response: { id: string } }).response.id;
    const { key: otherModel } = await gw.apiKey('acme', { models: ['openai-compatible/primary'] });
    const { key: sameModel } = await gw.apiKey('acme', { models: [MODEL] });
    const get = (rid: string, key: string) => fetch(`${gw.url}/responses/${rid}?stream=true`, { headers: { authorization: `Bearer ${key}` } });
    const [a, b] = [await get(id, otherModel), await get(`resp_${'0'.repeat(48)}`, otherModel)];
    expect(a.status).toBe(404);
    expect((await a.text()).replaceAll(id, '<id>').replace(/"(req_)[^"]*"/g, '')).toBe((await b.text()).replaceAll(`resp_${'0'.repeat(48)}`, '<id>').replace(/"(req_)[^"]*"/g, ''));
    expect(await readUntil(await nodeClient(gw.url, sameModel).responses.retrieve(id, { stream: true }))).toEqual(all);
  });
});

describe('background responses created streaming, on tessera serve (openai python)', () => {
  it('responses.create(background=True, stream=True), dropped after a few events, then responses.retrieve(id, stream=True, starting_after=n): every event once, in order', async () => {
    upstream.script({ ...gatedStream(PIECES, 0, Promise.resolve()), eventDelayMs: 20 });
    const script = `
import json, sys
from openai import OpenAI
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2])
seen = []
rid = None
stream = c.responses.create(model="${MODEL}", input="python otters", background=True, stream=True)
for event in stream:
    seen.append(event.model_dump(mode="json"))
    if event.type == "response.created":
        rid = event.response.id
    if len(seen) == 4:
        break
stream.close()
for event in c.responses.retrieve(rid, stream=True, starting_after=seen[-1]["sequence_number"]):
    seen.append(event.model_dump(mode="json"))
final = c.responses.retrieve(rid)
print(json.dumps({"seqs": [e["sequence_number"] for e in seen], "last": seen[-1]["type"], "text": "".join(e.get("delta", "") for e in seen if e["type"] == "response.output_text.delta"), "status": final.status, "output_text": final.output_text}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    expect(out.seqs).toEqual(out.seqs.map((_: unknown, i: number) => i));
    expect(out).toMatchObject({ last: 'response.completed', text: PIECES.join(''), status: 'completed', output_text: PIECES.join('') });
  });

  it('client.responses.stream(background=True) of a run refused before its stream opened: the helper yields response.created and response.failed with the error (it raised "Expected to have received response.created before response.failed")', async () => {
    upstream.script({ status: 400, body: { error: { message: 'the upstream refuses this', type: 'invalid_request_error', code: null, param: null } } });
    const script = `
import json, sys
from openai import OpenAI
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2])
events = []
with c.responses.stream(model="${MODEL}", input="refused", background=True) as stream:
    for event in stream:
        events.append(event)
failed = events[-1].response
print(json.dumps({"types": [e.type for e in events], "status": failed.status, "error": {"code": failed.error.code, "message": failed.error.message}, "retrieved": c.responses.retrieve(failed.id).status}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    expect(out).toEqual({ types: ['response.created', 'response.failed'], status: 'failed', error: { code: 'invalid_prompt', message: expect.stringContaining('the upstream refuses this') }, retrieved: 'failed' });
  });
});
