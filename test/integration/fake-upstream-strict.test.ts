import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';

// The fake upstream's strict mode (test/support/openai-strict.ts, docs/gateway.md "The fake upstream"): what OpenAI's
// API refuses gets OpenAI's 400 (its error shape, message, param and code) instead of the echo or a scripted answer, so
// a gateway that forwards such a request fails its tests as it would fail on OpenAI. The fake took anything before, and
// three such gateway bugs went unseen (metadata without store, max_tokens for gpt-5, a lone tool_choice). Read here
// with the official Node client pointed at the fake itself: what an SDK makes of the answer.

let upstream: FakeUpstream;
let client: OpenAI;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  client = new OpenAI({ baseURL: upstream.url, apiKey: 'k', maxRetries: 0 });
});
afterAll(async () => upstream?.stop());
afterEach(() => {
  upstream.reset();
  upstream.strict = true;
  upstream.scriptOnly = false;
});

const user = (content: unknown = 'hi') => ({ role: 'user', content });
const call = (id: string) => ({ id, type: 'function', function: { name: 'f', arguments: '{}' } });
const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
/** The SDK's error for a request, or undefined when it was answered. */
async function refusal(op: () => Promise<unknown>) {
  return op().then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.BadRequestError>);
}
const chat = (body: Record<string, unknown>) => refusal(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [user()], ...body } as never));
const embed = (body: Record<string, unknown>) => refusal(() => client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi', ...body } as never));

describe('the fake upstream in strict mode refuses what OpenAI refuses, in OpenAI\'s words', () => {
  it.each([
    ['an argument OpenAI does not know', { top_k: 5 }, 'Unrecognized request argument supplied: top_k', null, null],
    ['tool_choice without tools', { tool_choice: 'none' }, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice', null],
    ['parallel_tool_calls without tools', { parallel_tool_calls: false }, "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.", 'parallel_tool_calls', null],
    ['an empty tools list', { tools: [] }, "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'tools', 'empty_array'],
    ['a function name outside the pattern', { tools: [{ ...tool, function: { name: 'get weather' } }] }, "Invalid 'tools[0].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", 'tools[0].function.name', 'invalid_value'],
    ['metadata without store: true', { metadata: { a: 'b' } }, "The 'metadata' parameter is only allowed when 'store' is enabled.", 'metadata', null],
    ['max_tokens for an o-series model', { model: 'o4-mini', max_tokens: 5 }, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter'],
    ['max_tokens for gpt-5', { model: 'gpt-5-mini', max_tokens: 5 }, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter'],
    ['max_tokens with max_completion_tokens', { max_tokens: 5, max_completion_tokens: 5 }, "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.", 'max_tokens', 'invalid_parameter_combination'],
    ['n above 128', { n: 130 }, "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead.", 'n', 'integer_above_max_value'],
    ['top_logprobs above 20', { logprobs: true, top_logprobs: 21 }, "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.", 'top_logprobs', 'integer_above_max_value'],
    ['top_logprobs with logprobs: false', { logprobs: false, top_logprobs: 2 }, "Invalid value for 'top_logprobs': 'logprobs' must be set to true if 'top_logprobs' is used.", 'top_logprobs', null],
    ['stream_options without stream', { stream_options: { include_usage: true } }, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', null],
    ['a temperature above 2', { temperature: 2.5 }, "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.", 'temperature', 'decimal_above_max_value'],
    ['a temperature below 0', { temperature: -1 }, "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead.", 'temperature', 'decimal_below_min_value'],
    ['five stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.", 'stop', 'array_above_max_length'],
    ['a json_schema response format without a name', { response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, "Missing required parameter: 'response_format.json_schema.name'.", 'response_format.json_schema.name', 'missing_required_parameter'],
    ['a tool type Chat Completions does not define (the Responses API\'s file_search)', { tools: [tool, { type: 'file_search' }] }, "Invalid value: 'file_search'. Supported values are: 'function' and 'custom'.", 'tools[1].type', 'invalid_value'],
    ['a made-up tool type', { tools: [{ type: 'bogus' }] }, "Invalid value: 'bogus'. Supported values are: 'function' and 'custom'.", 'tools[0].type', 'invalid_value'],
    ['a tool_choice of a type Chat Completions does not define', { tools: [tool], tool_choice: { type: 'file_search' } }, "Invalid value: 'file_search'. Supported values are: 'function', 'custom', and 'allowed_tools'.", 'tool_choice.type', 'invalid_value'],
    ['a tool_choice string Chat Completions does not define', { tools: [tool], tool_choice: 'any' }, "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.", 'tool_choice', 'invalid_value'],
    ['a role OpenAI does not define', { messages: [{ role: 'bot', content: 'x' }] }, "Invalid value: 'bot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", 'messages[0].role', 'invalid_value'],
    ['a user message with null content', { messages: [user(null)] }, "Invalid value for 'content': expected a string, got null.", 'messages.[0].content', null],
    ['a tool message without a call before it', { messages: [user(), { role: 'tool', tool_call_id: 'c1', content: 'x' }] }, "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", 'messages.[1].role', null],
    ['a tool message answering a call id the assistant did not make', { messages: [user(), { role: 'assistant', content: null, tool_calls: [call('c1')] }, { role: 'tool', tool_call_id: 'c2', content: 'x' }] },
      "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: c1", 'messages.[1].role', null],
    ['a call left unanswered before the next user message', { messages: [user(), { role: 'assistant', content: null, tool_calls: [call('c1'), call('c2')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }, user('go on')] },
      "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: c2", 'messages.[1].role', null],
    ['an assistant message with an empty tool_calls list', { messages: [user(), { role: 'assistant', content: 'x', tool_calls: [] }, user()] }, "Invalid 'messages[1].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages[1].tool_calls', 'empty_array'],
    ['reasoning_effort on a model that does not reason', { reasoning_effort: 'low' }, "Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'reasoning_effort', 'unsupported_parameter'],
    ['a temperature other than 1 on gpt-5', { model: 'gpt-5-mini', temperature: 0.5 }, "Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is supported.", 'temperature', 'unsupported_value'],
    ['a temperature of 0 on gpt-5.4', { model: 'gpt-5.4-mini', temperature: 0 }, "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.", 'temperature', 'unsupported_value'],
    ['a top_p other than 1 on an o-series model', { model: 'o4-mini', top_p: 0.9 }, "Unsupported value: 'top_p' does not support 0.9 with this model. Only the default (1) value is supported.", 'top_p', 'unsupported_value'],
  ])('chat: %s', async (_name, body, message, param, code) => {
    const e = await chat(body);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e!.error).toEqual({ message, type: 'invalid_request_error', param, code });
    expect(upstream.refusals).toHaveLength(1);
    expect(upstream.requests).toHaveLength(1); // recorded as received
  });

  it('a prompt over the model\'s input limit: 400 context_length_exceeded naming messages, in the words OpenAI uses for the model', async () => {
    const long = user('hello '.repeat(130_000)); // 130,000 o200k tokens and more
    const older = await chat({ messages: [long] });
    expect(older).toBeInstanceOf(OpenAI.BadRequestError);
    expect(older!.error).toMatchObject({ type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' });
    expect((older!.error as { message: string }).message).toMatch(/^This model's maximum context length is 128000 tokens\. However, your messages resulted in 1300\d\d tokens\. Please reduce the length of the messages\.$/);
    const gpt5 = await chat({ model: 'gpt-5-mini', messages: [user('hello '.repeat(145_000)), long] });
    expect((gpt5!.error as { message: string }).message).toMatch(/^Input tokens exceed the configured limit of 272000 tokens\. Your messages resulted in 2750\d\d tokens\. Please reduce the length of the messages\.$/);
    // Under the limit, and a model that is not OpenAI's (its server has its own limit): taken
    expect(await chat({ model: 'gpt-5-mini', messages: [long] })).toBeUndefined();
    expect(await chat({ model: 'default', messages: [long] })).toBeUndefined();
  });

  it('a prompt of one run of a million letters (no whitespace) is counted, not left to a merge quadratic in its length: refused, and the next request answered', async () => {
    // Before session 48 gpt-tokenizer merged the run whole: minutes of CPU, the fake (tessera serve's quick start) answering
    // nothing else meanwhile, and the gateway's caller a 504 after 180 s. 'a' × 8 is one o200k token.
    const e = await chat({ model: 'gpt-3.5-turbo', messages: [user('a'.repeat(1_000_000))] });
    expect((e!.error as { message: string }).message).toBe("This model's maximum context length is 16385 tokens. However, your messages resulted in 125006 tokens. Please reduce the length of the messages.");
    expect(await chat({})).toBeUndefined();
  });

  it.each([
    ['an argument OpenAI does not know', { truncate: true }, 'Unrecognized request argument supplied: truncate', null],
    ['dimensions for text-embedding-ada-002', { model: 'text-embedding-ada-002', dimensions: 256 }, 'This model does not support specifying dimensions.', null],
    ['an empty string', { input: '' }, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null],
    ['an empty string among others', { input: ['a', ''] }, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null],
    ['2049 inputs', { input: Array.from({ length: 2049 }, () => 'a') }, "Invalid 'input': array too long. Expected an array with maximum length 2048, but got an array with length 2049 instead.", 'input'],
  ])('embeddings: %s', async (_name, body, message, param) => {
    const e = await embed(body);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e!.error).toMatchObject({ message, type: 'invalid_request_error', param });
  });
});

describe('what strict mode takes', () => {
  it('a full valid conversation: tools, their calls answered, every sampling field at its bounds, a named json_schema', async () => {
    const messages = [
      { role: 'developer', content: 'be brief' }, user(),
      { role: 'assistant', content: null, tool_calls: [call('c1'), call('c2')] },
      { role: 'tool', tool_call_id: 'c2', content: 'b' }, { role: 'tool', tool_call_id: 'c1', content: 'a' },
      { role: 'assistant', content: 'done' }, user('again'),
    ];
    const body = {
      messages, tools: [tool], tool_choice: 'auto', parallel_tool_calls: false, n: 128, logprobs: true, top_logprobs: 20, temperature: 2, top_p: 0,
      frequency_penalty: -2, presence_penalty: 2, stop: ['a', 'b', 'c', 'd'], store: true, metadata: { a: 'b' }, max_completion_tokens: 5,
      response_format: { type: 'json_schema', json_schema: { name: 'answer_1', schema: { type: 'object' } } }, seed: 1, user: 'u',
    };
    expect(await chat(body)).toBeUndefined();
    expect(await chat({ model: 'gpt-5-mini', max_completion_tokens: 5 })).toBeUndefined();
    // A reasoning model's effort and its default sampling; gpt-5's chat variant samples as gpt-4o does.
    expect(await chat({ model: 'gpt-5-mini', reasoning_effort: 'low', temperature: 1, top_p: 1 })).toBeUndefined();
    expect(await chat({ model: 'gpt-5-chat-latest', temperature: 0.5 })).toBeUndefined();
    expect(await embed({ input: [[1, 2, 3], Array.from({ length: 3000 }, () => 7)], dimensions: 8, encoding_format: 'float' })).toBeUndefined(); // a token array is one input, of any length here
    expect(upstream.refusals).toEqual([]);
  });

  it('a model that is not OpenAI\'s (a vLLM or TGI stand-in): its extras, metadata and both token limits, as such a server takes them', async () => {
    expect(await chat({ model: 'default', top_k: 5, chat_template_kwargs: { enable_thinking: false }, metadata: { a: 'b' }, max_tokens: 5, max_completion_tokens: 5, reasoning_effort: 'low' })).toBeUndefined();
    expect(await embed({ model: 'bge-small', truncate: true })).toBeUndefined();
    // The rules every OpenAI-compatible server shares with OpenAI still hold (vLLM refuses a lone tool_choice too).
    expect((await chat({ model: 'default', tool_choice: 'auto' }))!.param).toBe('tool_choice');
  });

  it('a refusal leaves the script as it was, and is recorded in calls; strict off takes anything', async () => {
    upstream.scriptOnly = true;
    upstream.script({ body: { id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'scripted' }, finish_reason: 'stop' }] } });
    expect((await chat({ top_k: 5 }))!.status).toBe(400);
    expect(upstream.pending).toBe(1);
    expect(upstream.calls.map((c) => c.body.top_k)).toEqual([5]);
    upstream.strict = false;
    const answered = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [user()], top_k: 5 } as never);
    expect(answered.choices[0]!.message.content).toBe('scripted');
    expect(upstream.refusals).toHaveLength(1);
  });
});
