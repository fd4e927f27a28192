import { toFile } from 'openai';
import type { ResponseFileSearchToolCall, ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { apiRefusal, enterpriseTenants, TEST_EMBEDDING_MODEL, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 40_000 });

/**
 * The Responses API's hosted `file_search` tool through `tessera serve`: the gateway offers the model a search function,
 * searches the tenant's vector stores when the model calls it, feeds the results back and returns the model's answer
 * after a `file_search_call` item. The fake upstream plays the model (tool-calling mode: it calls the search function
 * with the user's question, then answers "echo: the tool answered <the results>") and embeds deterministically
 * (follow-format mode: a bag-of-words vector, so a question sharing words with a chunk finds it first).
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let tokens: Record<string, string>;
let storeId: string;
let fileId: string;
const MODEL = 'openai-compatible/default';
const REFUNDS = 'Refunds are paid within fourteen days of a returned parcel.';
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.followFormat = true;
  gw = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme', 'globex'));
  tokens = { acme: await gw.token('acme'), globex: await gw.token('globex') };
  const store = await client().vectorStores.create({ name: 'handbook' });
  storeId = store.id;
  fileId = (await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(REFUNDS), 'refunds.md'), { pollIntervalMs: 20 })).id;
  await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('Shipping takes three working days by courier.'), 'shipping.txt'), { pollIntervalMs: 20 });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  upstream.followFormat = true;
  upstream.callTools = true;
});

const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);
const QUESTION = 'how many days until refunds are paid';
const tool = () => ({ type: 'file_search' as const, vector_store_ids: [storeId], max_num_results: 1 });
const chatCalls = () => upstream.requests.filter((b) => Array.isArray(b.messages));
/** The last chat call's request body. */
const calls0 = () => chatCalls().at(-1)!;

describe('the file_search tool on tessera serve, with the official Node client', () => {
  it('searches the store when the model calls the tool, feeds the results back, and answers after a file_search_call item', async () => {
    const records = gw.audit.records.length;
    const r = await client().responses.create({ model: MODEL, input: QUESTION, tools: [tool()], include: ['file_search_call.results'] });

    expect(r.status).toBe('completed');
    expect(r.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
    const call = r.output[0] as ResponseFileSearchToolCall;
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [QUESTION] });
    expect(call.id).toMatch(/^fs_[0-9a-f]+$/);
    expect(call.results).toEqual([{ file_id: fileId, filename: 'refunds.md', score: expect.any(Number), attributes: null, text: REFUNDS }]);
    // The model's second turn was given the results: its answer quotes them.
    expect(r.output_text).toContain('echo: the tool answered');
    expect(r.output_text).toContain(REFUNDS);
    // The results were given with a marker each (【1】); the answer's marker (the fake echoes the tool's answer) is taken out
    // of the text and is a file_citation annotation where it stood (index in code points).
    expect(calls0().messages.at(-1).content).toContain('marker="\u30101\u3011"');
    expect(r.output_text).not.toContain('\u3010');
    const cited = [...r.output_text.slice(0, r.output_text.indexOf('marker="') + 'marker="'.length)].length;
    expect((r.output[1] as ResponseOutputMessage).content[0]).toMatchObject({ type: 'output_text', annotations: [{ type: 'file_citation', file_id: fileId, filename: 'refunds.md', index: cited }] });
    // The tool echoed as sent; two model calls, their usage summed (the fake reports 11 + 7 for the call, its text answer's own).
    expect(r.tools).toEqual([{ type: 'file_search', vector_store_ids: [storeId], max_num_results: 1 }]);
    const calls = chatCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['file_search']);
    expect(calls[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining(REFUNDS) });
    expect(r.usage!.input_tokens).toBeGreaterThan(11);
    expect(r.usage!.output_tokens).toBeGreaterThan(7);
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);

    // The response's audit record has the summed tokens and says the tool ran; the query's embedding was a metered /v1/embeddings call.
    const mine = gw.audit.records.slice(records);
    const record = mine.find((a) => a.path === '/v1/responses')!;
    expect(record).toMatchObject({ status: 200, promptTokens: r.usage!.input_tokens, completionTokens: r.usage!.output_tokens, detail: { fileSearchCalls: 1, modelCalls: 2, vectorStoreIds: storeId } });
    expect(mine.some((a) => a.path === '/v1/embeddings' && a.tenantId === 'acme' && a.detail?.vectorStoreId === storeId && a.detail?.search === 'true' && a.status === 200)).toBe(true);

    // Without include the results are null.
    const bare = await client().responses.create({ model: MODEL, input: QUESTION, tools: [tool()] });
    expect(bare.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', results: null });

    // A later turn continues it: previous_response_id, and the output sent back as input (file_search_call items are context).
    const next = await client().responses.create({ model: MODEL, input: 'thanks', previous_response_id: r.id });
    expect(next.status).toBe('completed');
    const chained = chatCalls().at(-1)!.messages;
    expect(chained.some((m: { role: string; content: unknown }) => m.role === 'tool' && String(m.content).includes(REFUNDS))).toBe(true);
    upstream.callTools = false;
    const replayed = await client().responses.create({ model: MODEL, input: [{ role: 'user', content: QUESTION }, ...(bare.output as never[]), { role: 'user', content: 'and shipping?' }] });
    expect(replayed.status).toBe('completed');
    expect(chatCalls().at(-1)!.messages.slice(1, 3)).toMatchObject([{ role: 'assistant', tool_calls: [{ id: bare.output[0]!.id, function: { name: 'file_search', arguments: JSON.stringify({ queries: [QUESTION] }) } }] }, { role: 'tool', tool_call_id: bare.output[0]!.id }]);
  });

  it('streams the file_search_call events in order, then the message, and stream.finalResponse() is the whole Response', async () => {
    const stream = client().responses.stream({ model: MODEL, input: QUESTION, tools: [tool()], include: ['file_search_call.results'] });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalResponse();
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 7)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.file_search_call.in_progress',
      'response.file_search_call.searching', 'response.file_search_call.completed', 'response.output_item.done',
    ]);
    expect(types.slice(7)).toEqual(['response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.annotation.added', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    // The citation streamed: the delta's text without the marker, then the annotation, as in the final response.
    const delta = events[9] as { delta: string };
    expect(delta.delta).not.toContain('\u3010');
    const citation = { type: 'file_citation', file_id: fileId, filename: 'refunds.md', index: [...delta.delta.slice(0, delta.delta.indexOf('marker="') + 'marker="'.length)].length };
    expect(events[10]).toMatchObject({ type: 'response.output_text.annotation.added', output_index: 1, content_index: 0, annotation_index: 0, annotation: citation });
    expect((final.output[1] as ResponseOutputMessage).content[0]).toMatchObject({ annotations: [citation] });
    expect(events[2]).toMatchObject({ output_index: 0, item: { type: 'file_search_call', status: 'in_progress' } });
    expect(events[6]).toMatchObject({ output_index: 0, item: { type: 'file_search_call', status: 'completed', results: [{ file_id: fileId }] } });
    expect(final.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
    expect(final.output_text).toContain(REFUNDS);
    expect(final.usage!.input_tokens).toBeGreaterThan(11);
  });

  it("honours tool_choice {type: 'file_search'} and 'required' (the first call forced, the next free), and max_tool_calls", async () => {
    for (const choice of [{ type: 'file_search' as const }, 'required' as const]) {
      upstream.reset();
      const r = await client().responses.create({ model: MODEL, input: QUESTION, tools: [tool()], tool_choice: choice });
      expect(r.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
      const [first, second] = chatCalls();
      expect(first!.tool_choice).toEqual(choice === 'required' ? 'required' : { type: 'function', function: { name: 'file_search' } });
      expect(second!.tool_choice).toBeUndefined();
    }
    upstream.reset();
    // max_tool_calls 0: the model is not offered the search at all.
    const none = await client().responses.create({ model: MODEL, input: QUESTION, tools: [tool()], max_tool_calls: 0 });
    expect(none.output.map((o) => o.type)).toEqual(['message']);
    expect(chatCalls()[0]!.tools).toBeUndefined();
  });

  it('a search that fails mid-stream (the query\'s embedding refused) ends the stream as other mid-stream failures do: the file_search_call closed as failed, then error and response.failed with the usage so far, no response.completed', async () => {
    upstream.failures.set(TEST_EMBEDDING_MODEL.upstream, { status: 503, times: 50 });
    const res = await fetch(`${gw.url}/responses`, { method: 'POST', headers: { authorization: `Bearer ${tokens.acme}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: QUESTION, tools: [tool()], stream: true }) });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)) as { type: string; [k: string]: any });
    const types = events.map((e) => e.type);
    expect(types).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.file_search_call.in_progress', 'response.file_search_call.searching', 'response.output_item.done', 'error', 'response.failed']);
    expect(events[5]).toMatchObject({ output_index: 0, item: { type: 'file_search_call', status: 'failed', queries: [QUESTION], results: null } });
    expect(events.at(-2)).toMatchObject({ type: 'error', code: 'embedding_failed', message: expect.stringContaining('the search query could not be embedded') });
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { message: expect.stringContaining('the search query could not be embedded') }, output: [{ type: 'file_search_call', status: 'failed' }], usage: { input_tokens: 11, output_tokens: 7 } } });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    // One model call (the one that asked for the search); the model is not called again after the failure.
    expect(chatCalls()).toHaveLength(1);
    const record = gw.audit.records.filter((a) => a.path === '/v1/responses').at(-1)!;
    expect(record).toMatchObject({ stream: true, status: 502 });
  });

  it('background: true with file_search: the run searches and completes, and the stored response has the file_search_call (its results shown with include) and the answer', async () => {
    const queued = await client().responses.create({ model: MODEL, input: QUESTION, tools: [tool()], include: ['file_search_call.results'], background: true });
    expect(queued.status).toMatch(/queued|in_progress/);
    let r = queued;
    for (let i = 0; i < 200 && (r.status === 'queued' || r.status === 'in_progress'); i++) {
      await new Promise((ok) => setTimeout(ok, 25));
      r = await client().responses.retrieve(queued.id);
    }
    expect(r.status).toBe('completed');
    expect(r.output.map((o) => o.type)).toEqual(['file_search_call', 'message']);
    // The results are kept (the create asked for them) and shown when the retrieve asks too, as OpenAI answers; else null.
    expect(r.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [QUESTION], results: null });
    const full = await client().responses.retrieve(queued.id, { include: ['file_search_call.results'] });
    expect(full.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [QUESTION], results: [{ file_id: fileId, filename: 'refunds.md', text: REFUNDS }] });
    expect(r.output_text).toContain(REFUNDS);
    expect(chatCalls()).toHaveLength(2);
  });

  it('a Batch API /v1/responses line with file_search searches the tenant\'s store as a live call does; a line naming another tenant\'s store is its 404 in the error file', async () => {
    const other = await client('globex').vectorStores.create({ name: 'theirs' });
    const line = (id: string, stores: string[]) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/responses', body: { model: MODEL, input: QUESTION, tools: [{ type: 'file_search', vector_store_ids: stores, max_num_results: 1 }], include: ['file_search_call.results'] } });
    const input = await client().files.create({ file: await toFile(Buffer.from(`${line('ours', [storeId])}\n${line('theirs', [other.id])}\n`), 'rag.jsonl'), purpose: 'batch' });
    let batch = await client().batches.create({ input_file_id: input.id, endpoint: '/v1/responses', completion_window: '24h' });
    for (let i = 0; i < 400 && !['completed', 'failed', 'cancelled', 'expired'].includes(batch.status); i++) {
      await new Promise((ok) => setTimeout(ok, 25));
      batch = await client().batches.retrieve(batch.id);
    }
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } });
    const [answered] = (await (await client().files.content(batch.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(answered).toMatchObject({ custom_id: 'ours', response: { status_code: 200 } });
    const r = answered.response.body;
    expect(r.output.map((o: { type: string }) => o.type)).toEqual(['file_search_call', 'message']);
    expect(r.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [QUESTION], results: [{ file_id: fileId, filename: 'refunds.md', text: REFUNDS }] });
    expect(r.output[1].content[0].text).toContain(REFUNDS);
    const [refused] = (await (await client().files.content(batch.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(refused).toMatchObject({ custom_id: 'theirs', response: { status_code: 404, body: { error: { param: 'tools[0].vector_store_ids[0]', code: 'vector_store_not_found' } } } });
    // The search's query was embedded as the batch's owner: audited as a vector store search of acme.
    expect(gw.audit.records.some((a) => a.path === '/v1/embeddings' && a.tenantId === 'acme' && a.detail?.vectorStoreId === storeId && a.detail?.search === 'true')).toBe(true);
  });

  it('refuses a bad file_search tool with a 400 (404 for a store not the tenant\'s) naming the field, before any model call', async () => {
    const other = await client('globex').vectorStores.create({ name: 'theirs' });
    const cases: Array<[string, Record<string, unknown>, number, string, RegExp]> = [
      ['no vector_store_ids', { type: 'file_search' }, 400, 'tools[0].vector_store_ids', /Missing required parameter/],
      ['empty', { type: 'file_search', vector_store_ids: [] }, 400, 'tools[0].vector_store_ids', /empty array/],
      ['too many', { type: 'file_search', vector_store_ids: [storeId, storeId, storeId] }, 400, 'tools[0].vector_store_ids', /maximum length 2/],
      ['bad filter', { type: 'file_search', vector_store_ids: [storeId], filters: { key: 'a', type: 'like', value: 'b' } }, 400, 'tools[0].filters.type', /"like" is not a filter type/],
      ['max_num_results 0', { type: 'file_search', vector_store_ids: [storeId], max_num_results: 0 }, 400, 'tools[0].max_num_results', /^400 Invalid 'tools\[0\]\.max_num_results': integer below minimum value\. Expected a value >= 1, but got 0 instead\.$/],
      ['max_num_results 51', { type: 'file_search', vector_store_ids: [storeId], max_num_results: 51 }, 400, 'tools[0].max_num_results', /^400 Invalid 'tools\[0\]\.max_num_results': integer above maximum value\. Expected a value <= 50, but got 51 instead\.$/],
      ['hybrid search', { type: 'file_search', vector_store_ids: [storeId], ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 1 } } }, 400, 'tools[0].ranking_options.hybrid_search', /not supported/],
      ["another tenant's store", { type: 'file_search', vector_store_ids: [storeId, other.id] }, 404, 'tools[0].vector_store_ids[1]', /No vector store found/],
      ['unknown store', { type: 'file_search', vector_store_ids: ['vs_000000000000000000000000'] }, 404, 'tools[0].vector_store_ids[0]', /No vector store found/],
    ];
    for (const [what, t, status, param, message] of cases) {
      const e = await apiRefusal(client().responses.create({ model: MODEL, input: QUESTION, tools: [t as never] }));
      expect([what, e.status, e.param]).toEqual([what, status, param]);
      expect(e.message).toMatch(message);
    }
    expect(await apiRefusal(client().responses.create({ model: MODEL, input: QUESTION, tool_choice: { type: 'file_search' } }))).toMatchObject({ status: 400, param: 'tool_choice.type' });
    expect(chatCalls()).toHaveLength(0);
  });
});

describe('the file_search tool with the Python clients', () => {
  it('the official Python client (whole and streamed) and the OpenAI Agents SDK\'s FileSearchTool', async () => {
    const code = [
      'import asyncio, json, sys, openai',
      'from agents import Agent, FileSearchTool, OpenAIResponsesModel, Runner, set_tracing_disabled',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      'tools = [{"type": "file_search", "vector_store_ids": [sys.argv[3]], "max_num_results": 1}]',
      `r = c.responses.create(model='${MODEL}', input='${QUESTION}', tools=tools, include=['file_search_call.results'])`,
      `with c.responses.stream(model='${MODEL}', input='${QUESTION}', tools=tools) as s:`,
      '    types = [e.type for e in s]',
      '    final = s.get_final_response()',
      'set_tracing_disabled(True)',
      'ac = openai.AsyncOpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      `agent = Agent(name='helper', model=OpenAIResponsesModel(model='${MODEL}', openai_client=ac), tools=[FileSearchTool(vector_store_ids=[sys.argv[3]], max_num_results=1, include_search_results=True)])`,
      `run = asyncio.run(Runner.run(agent, '${QUESTION}'))`,
      'items = [i.type for i in run.new_items]',
      "print(json.dumps({'whole': r.model_dump(), 'types': types, 'final': [o.type for o in final.output], 'agent': run.final_output, 'items': items}))",
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, tokens.acme!, storeId], { timeout: 35_000 })).stdout);
    expect(out.whole.output.map((o: { type: string }) => o.type)).toEqual(['file_search_call', 'message']);
    expect(out.whole.output[0]).toMatchObject({ status: 'completed', queries: [QUESTION], results: [{ file_id: fileId, filename: 'refunds.md', text: REFUNDS }] });
    expect(out.types.slice(2, 7)).toEqual(['response.output_item.added', 'response.file_search_call.in_progress', 'response.file_search_call.searching', 'response.file_search_call.completed', 'response.output_item.done']);
    expect(out.final).toEqual(['file_search_call', 'message']);
    expect(out.agent).toContain(REFUNDS);
    expect(out.items).toEqual(['tool_call_item', 'message_output_item']);
  });
});
