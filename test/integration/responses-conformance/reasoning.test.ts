import { describe, expect, it, vi } from 'vitest';
import { CLIENTS } from '../gateway-conformance/clients.js';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { plainTenant, useConformanceGateway } from '../gateway-conformance/setup.js';
import { countCompletionTokens, loadTokenizer } from '../../../lambdas/inference/token-count.js';
import { PythonResponsesClient, runResponses } from './clients.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * A reasoning model behind a chat upstream (vLLM's and DeepSeek's `reasoning_content`,
 * OpenRouter's `reasoning`) reaches `/v1/responses` callers in OpenAI's shape: a `reasoning`
 * output item with a `reasoning_text` part, streamed as `response.reasoning_text.delta` events,
 * through the official clients' accumulators (Node `stream.finalResponse()`, Python
 * `get_final_response()`) and the Agents SDK, which sends the item back next turn: it is left out
 * of the chat messages (chat upstreams take no reasoning back), as is a chained turn's.
 */
const suite = useConformanceGateway(PythonResponsesClient.start, {
  tenants: [
    plainTenant('acme'),
    plainTenant('capped', { maxTokens: 16 }),
    plainTenant('redacting', { guardrails: { redactPii: false, redactResponses: true, promptInjectionScreen: false } }),
  ],
});
const run = (client: 'node' | 'python', call: Parameters<typeof runResponses>[4]) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);
const MODEL = 'openai-compatible/default';
const THOUGHT = 'The user greets in Norwegian; answer in kind.';

/** The fake upstream's text answer, with the reasoning a vLLM reasoning parser adds. */
function thinkingAnswer(field = 'reasoning_content'): Record<string, any> {
  const a = openAiAnswer('text');
  a.choices[0].message[field] = THOUGHT;
  return a;
}
function thinkingChunks(): Array<{ data: unknown }> {
  const chunks: Array<Record<string, any>> = openAiChunks('text');
  const thinking = ['The user greets in Norwegian;', ' answer in kind.'].map((t) => ({ ...chunks[1], choices: [{ index: 0, delta: { reasoning_content: t }, logprobs: null, finish_reason: null }] }));
  return [...[chunks[0], ...thinking, ...chunks.slice(1)].map((data) => ({ data })), { data: '[DONE]' }];
}
const REASONING = { id: expect.stringMatching(/^rs_/), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: THOUGHT }] };

describe('the upstream\'s reasoning as a reasoning item', () => {
  it.each(CLIENTS)('whole (reasoning_content and OpenRouter\'s reasoning): output [reasoning, message]; output_text is the answer alone (%s client)', async (client) => {
    for (const field of ['reasoning_content', 'reasoning']) {
      suite.env.upstream.script({ body: thinkingAnswer(field) });
      const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!' } });
      expect(out.error, JSON.stringify(out.error)).toBeUndefined();
      expect(out.result.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
      expect(out.result.output[0]).toMatchObject(REASONING);
      expect(out.result.output_text).toBe(out.result.output[1].content[0].text);
      expect(out.result.output_text).not.toContain(THOUGHT);
    }
  });

  it.each(CLIENTS)('streamed: reasoning_text events before the text; the SDK\'s stream helper accumulates the final Response with the reasoning item (%s client)', async (client) => {
    suite.env.upstream.script({ events: thinkingChunks() });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hei!' } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const types = out.events!.map((e) => e.type);
    expect(types.slice(0, 9)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.reasoning_text.delta', 'response.reasoning_text.delta', 'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
    ]);
    expect(out.events!.find((e) => e.type === 'response.reasoning_text.done').text).toBe(THOUGHT);
    expect(out.result.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
    expect(out.result.output[0]).toMatchObject(REASONING);
    expect(out.result.output_text).toBe(out.result.output[1].content[0].text);
  });

  it.each(CLIENTS)('the output sent back as input (store: false) passes, its reasoning left out of the chat messages; a chained turn carries none either (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!' } });
    const replayed = await run(client, { op: 'create', params: { model: MODEL, store: false, input: [{ role: 'user', content: 'Hei!' }, ...first.result.output, { role: 'user', content: 'Igjen' }] } });
    expect(replayed.error, JSON.stringify(replayed.error)).toBeUndefined();
    const answer = first.result.output[1].content[0].text;
    expect(suite.env.upstream.calls[1].body.messages).toEqual([{ role: 'user', content: 'Hei!' }, { role: 'assistant', content: answer }, { role: 'user', content: 'Igjen' }]);
    const chained = await run(client, { op: 'create', params: { model: MODEL, previous_response_id: first.result.id, input: 'Igjen' } });
    expect(chained.error, JSON.stringify(chained.error)).toBeUndefined();
    expect(suite.env.upstream.calls[2].body.messages).toEqual([{ role: 'user', content: 'Hei!' }, { role: 'assistant', content: answer }, { role: 'user', content: 'Igjen' }]);
    // The reasoning item is the response's, retrievable and referenceable like its other items
    const referenced = await run(client, { op: 'create', params: { model: MODEL, store: false, input: [{ type: 'item_reference', id: first.result.output[0].id }, { role: 'user', content: 'Hei!' }] } });
    expect(referenced.error, JSON.stringify(referenced.error)).toBeUndefined();
    expect(suite.env.upstream.calls[3].body.messages).toEqual([{ role: 'user', content: 'Hei!' }]);
  });

  it('the Agents SDK: a reasoning model\'s tool call, the tool, the answer; the SDK sends the reasoning item back and the run completes (python, whole and streamed)', async () => {
    for (const stream of [false, true]) {
      suite.env.upstream.calls.length = 0;
      const call = openAiAnswer('one tool call');
      call.choices[0].message.reasoning_content = 'I need the weather tool.';
      if (!stream) suite.env.upstream.script({ body: call }, { body: openAiAnswer('tool-result turn') });
      else {
        const chunks = openAiChunks('one tool call');
        chunks.splice(1, 0, { ...chunks[1], choices: [{ index: 0, delta: { reasoning_content: 'I need the weather tool.' }, logprobs: null, finish_reason: null }] });
        suite.env.upstream.script(...[chunks, openAiChunks('tool-result turn')].map((c) => ({ events: [...c.map((data) => ({ data })), { data: '[DONE]' }] })));
      }
      const out = await suite.python.call(suite.env.gw.url, suite.env.tokens.acme, { op: 'agent', params: { model: MODEL, input: 'What is the weather in Oslo?', stream } });
      expect(out.error, JSON.stringify(out.error)).toBeUndefined();
      expect(out.result.final_output).toBe('It is 3 °C and sunny in Oslo.');
      const second = suite.env.upstream.calls[1].body.messages;
      expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_oslo' }] });
      expect(JSON.stringify(second)).not.toContain('I need the weather tool.');
    }
  });
});

describe('include reasoning.encrypted_content: the reasoning sealed for the tenant, sent back statelessly (store: false)', () => {
  const ENCRYPTED = ['reasoning.encrypted_content'];
  const runAs = (client: 'node' | 'python', tenant: string, call: Parameters<typeof runResponses>[4]) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens[tenant], call);
  const sealedOf = (output: any[]) => output.find((o) => o.type === 'reasoning')?.encrypted_content;

  it.each(CLIENTS)('whole and streamed: each reasoning item carries encrypted_content (not the text in clear); the items sent back next turn pass, the reasoning left out upstream (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() }, { events: thinkingChunks() }, { body: openAiAnswer('text') });
    const whole = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', store: false, include: ENCRYPTED } });
    expect(whole.error, JSON.stringify(whole.error)).toBeUndefined();
    expect(whole.result.output[0]).toMatchObject({ ...REASONING, encrypted_content: expect.stringMatching(/^[A-Za-z0-9+/]{40,}={0,2}$/) });
    expect(Buffer.from(sealedOf(whole.result.output), 'base64').toString('latin1')).not.toContain('Norwegian');

    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hei!', store: false, include: ENCRYPTED } });
    expect(streamed.error, JSON.stringify(streamed.error)).toBeUndefined();
    const done = streamed.events!.find((e) => e.type === 'response.output_item.done' && e.item.type === 'reasoning');
    expect(done.item.encrypted_content).toEqual(expect.any(String));
    expect(sealedOf(streamed.result.output)).toBe(done.item.encrypted_content);
    expect(streamed.events!.find((e) => e.type === 'response.output_item.added' && e.item.type === 'reasoning').item.encrypted_content).toBeUndefined();

    // The next turn sends the output back, as a stateless client does
    const next = await run(client, { op: 'create', params: { model: MODEL, store: false, include: ENCRYPTED, input: [{ role: 'user', content: 'Hei!' }, ...whole.result.output, { role: 'user', content: 'Igjen' }] } });
    expect(next.error, JSON.stringify(next.error)).toBeUndefined();
    const answer = whole.result.output[1].content[0].text;
    expect(suite.env.upstream.calls[2].body.messages).toEqual([{ role: 'user', content: 'Hei!' }, { role: 'assistant', content: answer }, { role: 'user', content: 'Igjen' }]);
  });

  it.each(CLIENTS)('a forged blob, an altered one and another tenant\'s are OpenAI\'s 400 invalid_encrypted_content naming the item; nothing is sent upstream (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() });
    const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', store: false, include: ENCRYPTED } });
    const item = first.result.output[0];
    const bytes = Buffer.from(item.encrypted_content, 'base64');
    bytes[bytes.length - 1] ^= 1;
    const cases: Array<[string, string]> = [
      ['acme', 'gAAAAABoFakeOpenAIBlob0123456789abcdefghijklmnopqrstuvwxyz=='],
      ['acme', bytes.toString('base64')],
      ['capped', item.encrypted_content],
    ];
    suite.env.upstream.calls.length = 0;
    for (const [tenant, blob] of cases) {
      const out = await runAs(client, tenant, { op: 'create', params: { model: MODEL, store: false, input: [{ role: 'user', content: 'Hei!' }, { ...item, encrypted_content: blob }, { role: 'user', content: 'Igjen' }] } });
      expect(out.error, `${tenant} ${blob}`).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'invalid_encrypted_content', param: 'input[1].encrypted_content' } });
      expect(out.error!.body.message).toContain('could not be verified');
    }
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it.each(CLIENTS)('an OpenAI model that does not reason is OpenAI\'s 400 as OpenAI sends it (param include, code null: "Encrypted content is not supported with this model."), nothing sent (%s client)', async (client) => {
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', input: 'Hei!', store: false, include: ['message.output_text.logprobs', ...ENCRYPTED] } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'include', code: null, message: 'Encrypted content is not supported with this model.' } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it.each(CLIENTS)('a stored response retrieved with it (GET /v1/responses/{id}?include[]=…, and its input items) is OpenAI\'s 400 in OpenAI\'s words, param include, code null: OpenAI seals only an answer (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() });
    const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', include: ENCRYPTED } });
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    for (const op of ['retrieve', 'input_items'] as const) {
      const out = await run(client, { op, responseId: first.result.id, params: { include: ENCRYPTED } });
      expect(out.error, op).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'include', code: null, message: expect.stringMatching(/^Encrypted content cannot be requested for persisted responses\. \(include\[0\] 'reasoning\.encrypted_content': /) } });
    }
    // Retrieved without it, the reasoning item is there as stored, in clear, without a blob
    const stored = await run(client, { op: 'retrieve', responseId: first.result.id });
    expect(stored.result.output[0]).toMatchObject(REASONING);
    expect(stored.result.output[0].encrypted_content ?? null).toBeNull();
  });
});

describe('reasoning.context: which earlier reasoning items reach the model (OpenAI\'s Reasoning.context)', () => {
  it.each(CLIENTS)("'auto' and 'current_turn' are served: the output sent back passes, its reasoning left out upstream; the Response says current_turn, the mode in effect (%s client)", async (client) => {
    for (const context of ['auto', 'current_turn']) {
      suite.env.upstream.reset();
      suite.env.upstream.script({ body: thinkingAnswer() }, { events: thinkingChunks() });
      const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', store: false, reasoning: { effort: 'low', context } } });
      expect(first.error, JSON.stringify(first.error)).toBeUndefined();
      expect(first.result.reasoning).toMatchObject({ effort: 'low', context: 'current_turn' });
      const next = await run(client, { op: 'stream', params: { model: MODEL, store: false, reasoning: { context }, input: [{ role: 'user', content: 'Hei!' }, ...first.result.output, { role: 'user', content: 'Igjen' }] } });
      expect(next.error, JSON.stringify(next.error)).toBeUndefined();
      expect(next.result.reasoning).toMatchObject({ context: 'current_turn' });
      expect(suite.env.upstream.calls[1].body.messages).toEqual([{ role: 'user', content: 'Hei!' }, { role: 'assistant', content: first.result.output[1].content[0].text }, { role: 'user', content: 'Igjen' }]);
    }
  });

  it.each(CLIENTS)("'all_turns', which asks for earlier turns' reasoning in the model's context, is a 400 naming reasoning.context and the value; nothing sent (%s client)", async (client) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'low', context: 'all_turns' } } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'reasoning.context', code: 'unsupported_parameter', message: expect.stringContaining("reasoning.context 'all_turns' is not served") } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  // s43f: the 400 for 'all_turns' came before the model's 404 (the field check ran first), and an OpenAI model that
  // does not reason took reasoning.context silently. OpenAI's refusals of the field are the model's: the model first.
  it.each(CLIENTS)("an unknown model with 'all_turns' is the model's 404 (model_not_found), not the field's 400 (%s client)", async (client) => {
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/nope', input: 'Hei!', reasoning: { context: 'all_turns' } } });
    expect(out.error).toMatchObject({ status: 404, body: { param: 'model', code: 'model_not_found' } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it.each(CLIENTS)("an OpenAI model that does not reason (gpt-4o-mini) is OpenAI's 400 for it: \"Unsupported parameter: 'reasoning.context' is not supported with this model.\"; nothing sent (%s client)", async (client) => {
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', input: 'Hei!', reasoning: { context: 'current_turn' } } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'reasoning.context', code: 'unsupported_parameter', message: "Unsupported parameter: 'reasoning.context' is not supported with this model." } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

describe('reasoning under the tenant\'s output limit and output redaction', () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ ...openAiChunks('text')[0], choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const stream = (...deltas: Array<ReturnType<typeof chunk>>) => [...deltas.map((data) => ({ data })), { data: '[DONE]' }];
  /** 200 words of thinking, about 400 o200k tokens: far past the capped tenant's 16 (cut at 32, overrunCeiling). */
  const LONG = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  const runAs = (client: 'node' | 'python', tenant: string, call: Parameters<typeof runResponses>[4]) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens[tenant], call);
  const incompleteOf = (out: { events?: any[]; result?: any }) => out.events!.find((e) => e.type === 'response.incomplete')?.response;

  it.each(CLIENTS)('an upstream that ignores the limit while it thinks: the reasoning is cut at the limit (incomplete, max_output_tokens) and billed once, streamed and whole (%s client)', async (client) => {
    await loadTokenizer();
    suite.env.upstream.script({ events: stream(chunk({ role: 'assistant', reasoning_content: 'short ' }), chunk({ reasoning_content: LONG }), chunk({ content: 'answer' }), chunk({}, 'stop')) });
    const streamed = await runAs(client, 'capped', { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    // (Python's get_final_response() raises on response.incomplete, as documented: the event's response is read)
    const response = incompleteOf(streamed);
    expect(response, JSON.stringify(streamed.error)).toBeDefined();
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output.map((o: any) => o.type)).toEqual(['reasoning']);
    const shown = response.output[0].content[0].text;
    expect(('short ' + LONG).startsWith(shown)).toBe(true);
    expect(countCompletionTokens(shown)).toBeLessThanOrEqual(32);
    // Billed as produced (no usage reported: the gateway's count), not the cut delta twice (relayed and dropped)
    const produced = countCompletionTokens('short ' + LONG + 'answer');
    expect(response.usage.output_tokens).toBeLessThan(produced * 1.1);
    expect(response.usage.output_tokens).toBeGreaterThanOrEqual(produced - 5);

    const answer = openAiAnswer('text');
    answer.choices[0].message.reasoning_content = LONG;
    delete answer.usage; // counted by the gateway
    suite.env.upstream.script({ body: answer });
    const whole = await runAs(client, 'capped', { op: 'create', params: { model: MODEL, input: 'Hi' } });
    expect(whole.error, JSON.stringify(whole.error)).toBeUndefined();
    expect(whole.result.status).toBe('incomplete');
    expect(whole.result.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    const thought = whole.result.output.find((o: any) => o.type === 'reasoning').content[0].text;
    expect(LONG.startsWith(thought)).toBe(true);
    expect(countCompletionTokens(thought)).toBeLessThanOrEqual(32);
    expect(whole.result.usage.output_tokens).toBeGreaterThanOrEqual(countCompletionTokens(LONG));
  });

  it.each(CLIENTS)('a redacting tenant\'s stream: the thinking\'s held tail ends its reasoning item before the text, one reasoning item then one message, as the whole answer has them (%s client)', async (client) => {
    suite.env.upstream.script({ events: stream(
      chunk({ role: 'assistant', reasoning_content: 'The user wrote to bob@exa' }), chunk({ reasoning_content: 'mple.com; answer in kind.' }),
      chunk({ content: 'Hello there' }), chunk({ content: ' friend' }), chunk({}, 'stop'),
    ) });
    const out = await runAs(client, 'redacting', { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
    expect(out.result.output[0].content[0].text).toBe('The user wrote to [EMAIL]; answer in kind.');
    expect(out.result.output_text).toBe('Hello there friend');
    const types = out.events!.map((e) => e.type);
    expect(types.filter((t) => t === 'response.output_item.added')).toHaveLength(2);
    expect(out.events!.find((e) => e.type === 'response.reasoning_text.done').text).toBe('The user wrote to [EMAIL]; answer in kind.');
  });
});

/**
 * `reasoning.summary: "auto"` asks for the most detailed summarizer the model has (OpenAI's reasoning guide); a chat
 * upstream has none, so the call goes through with the item's `summary` empty and the Response echoing `auto`.
 * LangChain documents `reasoning={"effort": "medium", "summary": "auto"}` (langchain.test.ts). `concise` and `detailed`
 * ask for a summary the gateway cannot make: a 400 naming the field, nothing sent. Until 2026-12-06 every summary was a 400.
 */
describe('reasoning.summary: auto is served (no summarizer: summary empty), concise and detailed are a 400', () => {
  it.each(CLIENTS)('summary auto, whole and streamed: the reasoning item, summary [], the effort forwarded, reasoning echoed (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() }, { events: thinkingChunks() });
    const whole = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'medium', summary: 'auto' } } });
    expect(whole.error, JSON.stringify(whole.error)).toBeUndefined();
    expect(whole.result.output[0]).toMatchObject(REASONING);
    expect(whole.result.reasoning).toEqual({ effort: 'medium', summary: 'auto' });
    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'medium', summary: 'auto' } } });
    expect(streamed.error, JSON.stringify(streamed.error)).toBeUndefined();
    expect(streamed.result.output[0]).toMatchObject(REASONING);
    expect(streamed.result.reasoning).toMatchObject({ effort: 'medium', summary: 'auto' });
    expect(streamed.events!.map((e) => e.type).filter((t) => t.includes('summary'))).toEqual([]);
    expect(suite.env.upstream.calls.map((c) => c.body.reasoning_effort)).toEqual(['medium', 'medium']);
    expect(suite.env.upstream.calls.every((c) => !('reasoning' in c.body) && !('summary' in c.body))).toBe(true);
  });

  it.each(CLIENTS)('the deprecated generate_summary auto is taken and echoed; concise and detailed (either field) are a 400 naming it, nothing sent (%s client)', async (client) => {
    suite.env.upstream.script({ body: thinkingAnswer() });
    const deprecated = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { generate_summary: 'auto' } } });
    expect(deprecated.error, JSON.stringify(deprecated.error)).toBeUndefined();
    expect(deprecated.result.reasoning).toMatchObject({ effort: null, summary: null, generate_summary: 'auto' });
    suite.env.upstream.calls.length = 0;
    for (const [field, value] of [['summary', 'concise'], ['summary', 'detailed'], ['generate_summary', 'concise']]) {
      const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'low', [field]: value } } });
      expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'unsupported_parameter', param: `reasoning.${field}` } });
      expect(out.error!.body.message).toContain(`reasoning.${field} '${value}' is not served`);
      expect(out.error!.body.message).toContain("send 'auto'");
    }
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});
