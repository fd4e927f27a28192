import { describe, expect, it } from 'vitest';
import { PromptInjectionError } from '../../../../lambdas/inference/guardrails/caller-texts.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { chatRequestOf, checkMappable, inRequestTerms } from '../../../../lambdas/inference/responses/chat-request.js';
import { inputItemsOf } from '../../../../lambdas/inference/responses/input-items.js';
import { checkIncludeQuery, checkReasoningContext, checkRequestFields } from '../../../../lambdas/inference/responses/request-fields.js';
import { ResponsesRequest, type ResponsesRequestBody } from '../../../../lambdas/inference/responses/request-schema.js';
import { thrown } from './thrown.js';

const req = (r: Record<string, unknown>) => ({ model: 'm', ...r }) as unknown as ResponsesRequestBody;
const translate = (r: Record<string, unknown>, history: any[] = []) => chatRequestOf(req(r), history, inputItemsOf(r.input as never));
const hi = { role: 'user', content: 'Hi' };

describe('a Responses request → a chat-completions request', () => {
  it('instructions are a leading system message, counted as leading (not kept for the next turn)', () => {
    const out = translate({ instructions: 'Be terse.', input: 'Hi' });
    expect(out.body.messages).toEqual([{ role: 'system', content: 'Be terse.' }, hi]);
    expect(out.leading).toBe(1);
  });

  it('the previous turns come between the instructions and the new input', () => {
    const history = [{ role: 'user', content: 'Earlier' }, { role: 'assistant', content: 'Yes' }];
    expect(translate({ instructions: 'Be terse.', input: 'Hi' }, history).body.messages).toEqual([{ role: 'system', content: 'Be terse.' }, ...history, hi]);
  });

  it('max_output_tokens → max_completion_tokens; reasoning.effort → reasoning_effort; text.verbosity → verbosity', () => {
    expect(translate({ input: 'Hi', max_output_tokens: 64, reasoning: { effort: 'low' }, text: { verbosity: 'low' } }).body).toMatchObject({ max_completion_tokens: 64, reasoning_effort: 'low', verbosity: 'low' });
  });

  it('temperature, top_p, user, safety_identifier, prompt_cache_key, prompt_cache_retention and service_tier are forwarded as they are', () => {
    const fields = { temperature: 0.3, top_p: 0.9, user: 'u', safety_identifier: 's', prompt_cache_key: 'k', prompt_cache_retention: '24h', service_tier: 'flex' };
    expect(translate({ input: 'Hi', ...fields }).body).toMatchObject(fields);
  });

  it('metadata and store stay with the gateway: not sent upstream', () => {
    const body = translate({ input: 'Hi', metadata: { a: 'b' }, store: true }).body as unknown as Record<string, unknown>;
    expect(body.metadata).toBeUndefined();
    expect(body.store).toBeUndefined();
  });

  it('include output_text.logprobs → logprobs true (+ top_logprobs); top_logprobs alone asks for nothing (hostile fxresp item 6: reasoning models refuse logprobs)', () => {
    const include = ['message.output_text.logprobs'];
    expect(translate({ input: 'Hi', include, top_logprobs: 3 }).body).toMatchObject({ logprobs: true, top_logprobs: 3 });
    expect(translate({ input: 'Hi', include }).body).toMatchObject({ logprobs: true });
    expect(translate({ input: 'Hi', include }).body).not.toHaveProperty('top_logprobs');
    const alone = translate({ input: 'Hi', top_logprobs: 3 }).body;
    expect(alone).not.toHaveProperty('logprobs');
    expect(alone).not.toHaveProperty('top_logprobs');
  });

  it('parallel_tool_calls goes with tools only (chat refuses it without tools)', () => {
    expect(translate({ input: 'Hi', parallel_tool_calls: false }).body).not.toHaveProperty('parallel_tool_calls');
    expect(translate({ input: 'Hi', parallel_tool_calls: false, tools: [{ type: 'function', name: 'f' }] }).body).toMatchObject({ parallel_tool_calls: false });
  });

  it('tool_choice none or auto without tools is not sent (chat refuses a tool_choice without tools); required, or any with tools, is', () => {
    expect(translate({ input: 'Hi', tool_choice: 'none' }).body).not.toHaveProperty('tool_choice');
    expect(translate({ input: 'Hi', tool_choice: 'auto', tools: [] }).body).not.toHaveProperty('tool_choice');
    expect(translate({ input: 'Hi', tool_choice: 'required' }).body).toMatchObject({ tool_choice: 'required' });
    expect(translate({ input: 'Hi', tool_choice: 'none', tools: [{ type: 'function', name: 'f' }] }).body).toMatchObject({ tool_choice: 'none' });
  });

  it('stream: true is passed on (the provider streams); n is never sent', () => {
    const body = translate({ input: 'Hi', stream: true }).body as unknown as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.n).toBeUndefined();
  });

  it('a content sent as a string reaches the upstream as that string; a list stays a list; the input items keep OpenAI\'s list form', () => {
    expect(translate({ input: 'Hi' }).body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(inputItemsOf('Hi')[0].content).toEqual([{ type: 'input_text', text: 'Hi' }]);
    const input = [
      { role: 'developer', content: 'Be terse.' },
      { role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
      { role: 'assistant', content: 'Hello' },
      { type: 'message', role: 'user', content: 'Again' },
    ];
    expect(translate({ input }).body.messages).toEqual([
      { role: 'developer', content: 'Be terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Again' },
    ]);
  });

  it('no input and no previous turns is a 400 naming input', () => {
    expect(thrown(() => translate({ instructions: 'Be terse.' }))).toMatchObject({ status: 400, param: 'input' });
  });
});

describe('fields the gateway refuses, each named', () => {
  it.each([
    [{ prompt: { id: 'pmpt_1' } }, 'prompt'],
    [{ context_management: [{ type: 'compaction' }] }, 'context_management'],
    [{ include: ['message.output_text.logprobs', 'web_search_call.results'] }, 'include[1]'],
    [{ reasoning: { summary: 'concise' } }, 'reasoning.summary'],
    [{ stream: true, stream_options: { include_obfuscation: true } }, 'stream_options.include_obfuscation'],
    [{ top_k: 5 }, 'top_k'],
    [{ image: { context_compression: 'enabled' } }, 'image'],
    [{ access_programs: { cyber: 'standard' } }, 'access_programs'],
    [{ background_options: { completion_window: '2h' } }, 'background_options'],
  ])('%j is a 400 naming %s', (fields, param) => {
    expect(thrown(() => checkRequestFields(req({ input: 'Hi', ...fields })))).toMatchObject({ status: 400, param });
  });

  it("reasoning summary 'auto' (and the deprecated generate_summary 'auto') passes the field check: the most detailed summarizer the model has, here none", () => {
    expect(() => checkRequestFields(req({ input: 'Hi', reasoning: { effort: 'medium', summary: 'auto' } }))).not.toThrow();
    expect(() => checkRequestFields(req({ input: 'Hi', reasoning: { generate_summary: 'auto' } }))).not.toThrow();
    expect(thrown(() => checkRequestFields(req({ input: 'Hi', reasoning: { summary: 'detailed' } })))).toMatchObject({ status: 400, param: 'reasoning.summary', message: expect.stringContaining("reasoning.summary 'detailed' is not served") });
  });

  it("reasoning.context: 'auto' and 'current_turn' pass (no earlier turn's reasoning reaches a chat upstream); 'all_turns' is a 400 naming it, with pydantic-ai's setting; another value fails the schema", () => {
    const compat = { id: 'openai-compatible/default', upstream: 'default' };
    for (const context of ['auto', 'current_turn']) expect(() => checkReasoningContext({ effort: 'low', context } as never, compat)).not.toThrow();
    // The field check leaves it to the model's check (which runs after the model's 404, as OpenAI's does).
    expect(() => checkRequestFields(req({ input: 'Hi', reasoning: { context: 'all_turns' } }))).not.toThrow();
    const e = thrown(() => checkReasoningContext({ context: 'all_turns' } as never, compat));
    expect(e).toMatchObject({ status: 400, param: 'reasoning.context', code: 'unsupported_parameter', message: expect.stringContaining("reasoning.context 'all_turns' is not served") });
    expect(e.message).toContain("openai_reasoning_context': 'current_turn'");
    expect(ResponsesRequest.safeParse({ model: 'm', reasoning: { context: 'current_turn' } }).success).toBe(true);
    const bad = ResponsesRequest.safeParse({ model: 'm', reasoning: { context: 'every_turn' } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("must be one of auto, current_turn, all_turns (OpenAI's Reasoning.context)");
  });

  it("reasoning.context on an OpenAI model that does not reason (gpt-4o-mini) is OpenAI's 400 for a reasoning field it takes none of, whatever the value; OpenAI's reasoning models and other providers' take auto and current_turn", () => {
    const gpt4o = { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' };
    for (const context of ['auto', 'current_turn', 'all_turns']) {
      expect(thrown(() => checkReasoningContext({ context } as never, gpt4o))).toMatchObject({ status: 400, param: 'reasoning.context', code: 'unsupported_parameter', message: "Unsupported parameter: 'reasoning.context' is not supported with this model." });
    }
    expect(() => checkReasoningContext({ effort: 'low' } as never, gpt4o)).not.toThrow();
    expect(() => checkReasoningContext({ context: 'current_turn' } as never, { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini' })).not.toThrow();
    expect(() => checkReasoningContext({ context: 'auto' } as never, { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0' })).not.toThrow();
  });

  it("a retrieve's include reasoning.encrypted_content is OpenAI's 400 in its words, param include, code null; the element named in the message", () => {
    const e = thrown(() => checkIncludeQuery({ 'include[]': 'reasoning.encrypted_content' }, { 'include[]': ['message.output_text.logprobs', 'reasoning.encrypted_content'] })) as GatewayError;
    expect(e).toMatchObject({ status: 400, param: 'include', message: expect.stringMatching(/^Encrypted content cannot be requested for persisted responses\. \(include\[1\] 'reasoning\.encrypted_content': /) });
    expect(JSON.parse(e.body()).error).toMatchObject({ type: 'invalid_request_error', param: 'include', code: null });
  });

  it('background: true passes the field check (background mode is served: endpoints/responses-create.ts checkBackground)', () => {
    expect(() => checkRequestFields(req({ input: 'Hi', background: true }))).not.toThrow();
  });

  it('the SDK\'s fields the gateway does not serve are refused as not served, never as unknown to the API; null is absent (hostile fxresp item 7)', () => {
    for (const field of ['image', 'access_programs', 'background_options']) {
      expect(thrown(() => checkRequestFields(req({ input: 'Hi', [field]: {} }))).message).toMatch(new RegExp(`^${field}: .*not served by this gateway`));
      expect(() => checkRequestFields(req({ input: 'Hi', [field]: null }))).not.toThrow();
    }
    expect(thrown(() => checkRequestFields(req({ input: 'Hi', top_k: 5 }))).message).not.toMatch(/not a Responses API parameter/);
  });

  // OpenAI's answer to a field the Responses API does not define ("Unknown parameter: 'system'.", param system, code
  // unknown_parameter); it was `top_k is not served by this gateway's /v1/responses …`, code unsupported_parameter.
  it('a field the Responses API does not define is OpenAI\'s 400: "Unknown parameter: \'top_k\'.", param top_k, code unknown_parameter, then where it goes here', () => {
    const e = thrown(() => checkRequestFields(req({ input: 'Hi', top_k: 5 }))) as GatewayError;
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'top_k', code: 'unknown_parameter' });
    expect(e.message).toMatch(/^Unknown parameter: 'top_k'\. This gateway's \/v1\/responses does not map it; .*use \/v1\/chat\/completions for them\)$/);
    const long = thrown(() => checkRequestFields(req({ input: 'Hi', ['x'.repeat(5000)]: 1 }))) as GatewayError;
    expect([long.code, long.param!.length < 200, long.message.length < 500]).toEqual(['unknown_parameter', true, true]);
  });

  it('service_tier: openai 7.x\'s fast is accepted and sent to chat as it is (a chat tier too); ultrafast, a Responses-only tier, is a 400 naming service_tier', () => {
    expect(ResponsesRequest.safeParse({ model: 'm', service_tier: 'fast' }).success).toBe(true);
    expect(() => checkRequestFields(req({ input: 'Hi', service_tier: 'fast' }))).not.toThrow();
    expect(translate({ input: 'Hi', service_tier: 'fast' }).body).toMatchObject({ service_tier: 'fast' });
    expect(ResponsesRequest.safeParse({ model: 'm', service_tier: 'ultrafast' }).success).toBe(true);
    expect(thrown(() => checkRequestFields(req({ input: 'Hi', service_tier: 'ultrafast' })))).toMatchObject({ status: 400, param: 'service_tier', code: 'unsupported_parameter' });
    expect(ResponsesRequest.safeParse({ model: 'm', service_tier: 'turbo' }).success).toBe(false);
  });

  it('max_tool_calls (built-in tools only, none served) is accepted as a no-op: a count >= 0 or null; it is not sent upstream (hostile fxresp item 7)', () => {
    for (const value of [0, 5, null]) expect(() => checkRequestFields(req({ input: 'Hi', max_tool_calls: value }))).not.toThrow();
    for (const value of [0, 5, null]) expect(ResponsesRequest.safeParse({ model: 'm', max_tool_calls: value }).success).toBe(true);
    for (const value of [-1, 1.5, '3', true]) expect(ResponsesRequest.safeParse({ model: 'm', max_tool_calls: value }).success).toBe(false);
    expect(translate({ input: 'Hi', max_tool_calls: 2 }).body).not.toHaveProperty('max_tool_calls');
  });

  it('GET include values are checked as create\'s: one the gateway does not honour is a 400 naming include, with the honoured values (hostile fxresp item 7)', () => {
    expect(() => checkIncludeQuery({ 'include[]': 'message.output_text.logprobs', stream: 'false' })).not.toThrow();
    expect(() => checkIncludeQuery({ include: 'file_search_call.results' })).not.toThrow(); // the gateway's file_search tool's results
    expect(() => checkIncludeQuery({})).not.toThrow();
    expect(() => checkIncludeQuery({ include: '', 'include[]': '' })).not.toThrow(); // an empty value asks for nothing
    for (const key of ['include', 'include[]', 'include[0]']) {
      expect(thrown(() => checkIncludeQuery({ [key]: 'web_search_call.results' }))).toMatchObject({ status: 400, param: 'include[0]', code: 'unsupported_parameter', message: expect.stringContaining('message.output_text.logprobs, message.input_image.image_url, file_search_call.results') });
      // a value that is none of OpenAI's: OpenAI's words and code for a value outside an enum, with its values (not "output of hosted tools")
      expect(thrown(() => checkIncludeQuery({ [key]: 'bogus' }))).toMatchObject({ status: 400, param: 'include[0]', code: 'invalid_value', message: expect.stringMatching(/^Invalid value: 'bogus' \(include\[0\]\)\. Supported values are: 'file_search_call\.results', .*; this gateway honours message\.output_text\.logprobs, message\.input_image\.image_url, file_search_call\.results$/) });
    }
  });

  it('their neutral values pass: background false, truncation disabled, nulls', () => {
    expect(() => checkRequestFields(req({ input: 'Hi', background: false, truncation: 'disabled', conversation: null, prompt: null, include: ['message.input_image.image_url'] }))).not.toThrow();
  });
});

describe('checkMappable', () => {
  it('refuses what cannot be mapped from the request alone, with or without input (a chained turn may have none)', () => {
    expect(() => checkMappable(req({ previous_response_id: 'resp_1' }), [])).not.toThrow();
    expect(thrown(() => checkMappable(req({ tools: [{ type: 'web_search' }] }), inputItemsOf('Hi')))).toMatchObject({ param: 'tools[0].type' });
    expect(thrown(() => checkMappable(req({ tools: [{ type: 'file_search' }] }), inputItemsOf('Hi')))).toMatchObject({ param: 'tools[0].vector_store_ids', code: 'missing_required_parameter' });
    expect(thrown(() => checkMappable(req({ text: { format: { type: 'grammar' } } }), []))).toMatchObject({ param: 'text.format.type' });
    expect(thrown(() => checkMappable(req({}), inputItemsOf([{ type: 'web_search_call', id: 'ws_1' }])))).toMatchObject({ param: 'input[0].type' });
  });
});

describe('errors about the chat request, in the Responses request\'s terms', () => {
  const call = (id: string) => ({ type: 'function_call', call_id: id, name: 'f', arguments: '{}' });
  const history = [{ role: 'user', content: 'Earlier' }, { role: 'assistant', content: 'Yes' }];
  const out = translate({
    instructions: 'Be terse.',
    input: [{ role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] }, { role: 'assistant', content: [{ type: 'output_text', text: 'x' }] }, call('c1'), call('c2'),
      { type: 'function_call_output', call_id: 'c1', output: 'o' }, { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'p' }] }, call('c3'), { type: 'function_call_output', call_id: 'c3', output: 'q' }],
  }, history);
  const cases: Array<[string, string]> = [
    ['messages', 'input'],
    ['messages[0].content', 'instructions'],
    ['messages[1].content', 'previous_response_id'],
    ['messages[3].content[1].text', 'input[0].content[1].text'],
    ['messages[3].content', 'input[0].content'],
    ['messages[4].content', 'input[1].content'],
    ['messages[4].tool_calls[1].function.arguments', 'input[3].arguments'],
    ['messages[5].content', 'input[4].output'],
    ['messages[6].content[0].text', 'input[5].output[0].text'],
    // chat's nested image and file fields are the Responses part's flat ones
    ['messages[3].content[1].image_url.detail', 'input[0].content[1].detail'],
    ['messages[3].content[1].image_url.url', 'input[0].content[1].image_url'],
    ['messages[3].content[1].image_url', 'input[0].content[1].image_url'],
    ['messages[3].content[0].file.file_data', 'input[0].content[0].file_data'],
    ['messages[3].content[0].file', 'input[0].content[0]'],
    ['messages[6].content[0].image_url.detail', 'input[5].output[0].detail'],
    ['messages[6].content[0].file.file_id', 'input[5].output[0].file_id'],
    ['messages[7].tool_calls[0].function.arguments', 'input[6].arguments'],
    // a tool message's tool_call_id is the output item's call_id; a turn's calls as a whole, its first function_call item
    ['messages[5].tool_call_id', 'input[4].call_id'],
    ['messages[4].tool_calls', 'input[2]'],
    ['messages[7].tool_calls', 'input[6]'],
    ['messages[8].content', 'input[7].output'],
    ['messages[99].content', 'messages[99].content'],
    ['model', 'model'],
  ];
  it('a custom tool call\'s input and type, and its output, name the custom_tool_call(_output) items', () => {
    const custom = translate({ input: [{ role: 'user', content: 'Patch' }, { type: 'custom_tool_call', call_id: 'k1', name: 'apply_patch', input: 'x' }, { type: 'custom_tool_call_output', call_id: 'k1', output: 'ok' }] });
    const param = (chat: string) => (inRequestTerms(new GatewayError(400, `${chat} is not supported`, 'invalid_request_error', 'unsupported_parameter', chat), custom) as GatewayError).param;
    expect(param('messages[1].tool_calls[0].custom.input')).toBe('input[1].input');
    expect(param('messages[1].tool_calls[0].type')).toBe('input[1].type');
    expect(param('messages[2].content')).toBe('input[2].output');
    expect(param('messages[2].tool_call_id')).toBe('input[2].call_id');
  });

  it.each(cases)('%s → %s', (chat, request) => {
    expect(out.body.messages).toHaveLength(9);
    const e = new PromptInjectionError(chat, 'p');
    const mapped = inRequestTerms(e, out) as GatewayError;
    expect(mapped).toMatchObject({ status: 400, code: 'prompt_injection_detected', param: request });
    if (chat !== 'messages') expect(mapped.message).toContain(`(in ${request})`); // the bare word is left in prose (below)
  });

  it('OpenAI\'s dotted form (`messages.[N].field`, as in its "must be followed by tool messages" 400) is read the same (hostile fxresp item 2)', () => {
    const upstream = new GatewayError(400, "Invalid 'messages.[4].role': tool messages missing", 'invalid_request_error', 'invalid_value', 'messages.[4].role');
    expect(inRequestTerms(upstream, out)).toMatchObject({ status: 400, param: 'input[1].content', message: "Invalid 'input[1].content': tool messages missing" });
    expect((inRequestTerms(new PromptInjectionError('messages.[6].content.[0].text', 'p'), out) as GatewayError).param).toBe('input[5].output[0].text');
    expect((inRequestTerms(new PromptInjectionError('messages.[1].content', 'p'), out) as GatewayError).param).toBe('previous_response_id');
  });

  it.each([
    ['max_completion_tokens', 'max_output_tokens'],
    ['reasoning_effort', 'reasoning.effort'],
    ['verbosity', 'text.verbosity'],
    ['response_format', 'text.format'],
    ['response_format.type', 'text.format.type'],
    ['response_format.json_schema.schema', 'text.format.schema'],
    ['tools[2].function.parameters', 'tools[2].parameters'],
    ['tool_choice.function.name', 'tool_choice.name'],
    ['tools[1].custom.format.grammar.definition', 'tools[1].format.definition'],
    ['tools[1].custom.format', 'tools[1].format'],
    ['tool_choice.custom.name', 'tool_choice.name'],
    ['tool_choice.allowed_tools.tools[1]', 'tool_choice.tools[1]'],
    ['logprobs', 'include[1]'],
    ['temperature', 'temperature'],
  ])('a renamed chat field: %s → %s, in the message where it opens it', (chat, request) => {
    const t = translate({ input: 'Hi', include: ['message.input_image.image_url', 'message.output_text.logprobs'] });
    const e = new GatewayError(400, `${chat} is not supported by the bedrock provider: why`, 'invalid_request_error', 'unsupported_parameter', chat);
    expect(inRequestTerms(e, t)).toMatchObject({ status: 400, param: request, code: 'unsupported_parameter', message: `${request} is not supported by the bedrock provider: why` });
    // An upstream's prose that names the field elsewhere keeps its words, quoted whole after the caller's field (s23resp2 item 2:
    // the message named only `reasoning_effort`, a field the caller never sent); the param is the caller's.
    const prose = inRequestTerms(new GatewayError(400, `Unsupported value: '${chat}'`, 'invalid_request_error', 'x', chat), t);
    expect(prose).toMatchObject({ param: request, message: chat === request ? `Unsupported value: '${chat}'` : `${request} was refused as ${chat}, the chat-completions field the gateway sends it as (the upstream said: Unsupported value: '${chat}')` });
    // Prose that does not name the field names no field the caller did not send: left as it is.
    expect(inRequestTerms(new GatewayError(400, 'Unsupported value for this model.', 'invalid_request_error', 'x', chat), t)).toMatchObject({ param: request, message: 'Unsupported value for this model.' });
  });

  it("OpenAI's refusal of reasoning_effort (gpt-4o-mini) and of logprobs (a reasoning model) names the caller's field first, the upstream's words after", () => {
    const t = translate({ input: 'Hi', reasoning: { effort: 'low' }, include: ['message.output_text.logprobs'] });
    const effort = new GatewayError(400, "Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'invalid_request_error', 'unsupported_parameter', 'reasoning_effort');
    const mapped = inRequestTerms(effort, t) as GatewayError;
    expect(mapped).toMatchObject({ status: 400, param: 'reasoning.effort', code: 'unsupported_parameter' });
    expect(mapped.message).toBe("reasoning.effort was refused as reasoning_effort, the chat-completions field the gateway sends it as (the upstream said: Unsupported parameter: 'reasoning_effort' is not supported with this model.)");
    const logprobs = new GatewayError(400, "Unsupported parameter: 'logprobs' is not supported with this model.", 'invalid_request_error', 'unsupported_parameter', 'logprobs');
    expect((inRequestTerms(logprobs, t) as GatewayError).message).toMatch(/^include\[0\] was refused as logprobs, .*\(the upstream said: Unsupported parameter: 'logprobs' is not supported with this model\.\)$/);
  });

  it('a renamed field is renamed wherever the refusal names it, and only as a whole path', () => {
    const t = translate({ input: 'Hi', include: ['message.output_text.logprobs'] });
    const format = new GatewayError(400, 'response_format is not supported by the bedrock provider: JSON mode has no Converse equivalent; send response_format json_schema', 'invalid_request_error', 'unsupported_parameter', 'response_format');
    expect((inRequestTerms(format, t) as GatewayError).message).toBe('text.format is not supported by the bedrock provider: JSON mode has no Converse equivalent; send text.format json_schema');
    const sentence = new GatewayError(400, 'response_format is not supported: use response_format.type json_schema, or leave out response_format.', 'invalid_request_error', 'x', 'response_format');
    // hmerge2: a longer path from the same field is renamed whole (it stayed `response_format.type`, no Responses field)
    expect((inRequestTerms(sentence, t) as GatewayError).message).toBe('text.format is not supported: use text.format.type json_schema, or leave out text.format.');
    const logprobs = new GatewayError(400, 'logprobs is not supported here, nor top_logprobs without logprobs', 'invalid_request_error', 'x', 'logprobs');
    expect((inRequestTerms(logprobs, t) as GatewayError).message).toBe('include[0] is not supported here, nor top_logprobs without include[0]');
    // hmerge2: not inside a model id or another name (it became `gpt-include[0]`)
    const model = new GatewayError(400, 'logprobs is not supported by gpt-logprobs or bedrock:logprobs', 'invalid_request_error', 'x', 'logprobs');
    expect((inRequestTerms(model, t) as GatewayError).message).toBe('include[0] is not supported by gpt-logprobs or bedrock:logprobs');
    const tool = new GatewayError(400, 'tools[0].function.parameters is invalid: tools[0].function.name must be set', 'invalid_request_error', 'x', 'tools[0].function.parameters');
    expect((inRequestTerms(tool, t) as GatewayError).message).toBe('tools[0].parameters is invalid: tools[0].name must be set');
  });

  it('a string input is `input` itself; other errors are left as they are', () => {
    const plain = translate({ input: 'Hi' });
    expect((inRequestTerms(new PromptInjectionError('messages[0].content', 'p'), plain) as GatewayError).param).toBe('input');
    const other = new Error('x');
    expect(inRequestTerms(other, plain)).toBe(other);
    // An upstream's context-length 400 names `messages`: the param becomes `input`, its prose stays.
    const upstream = inRequestTerms(new GatewayError(400, 'your messages resulted in 9120 tokens', 'invalid_request_error', 'context_length_exceeded', 'messages'), plain) as GatewayError;
    expect(upstream).toMatchObject({ param: 'input', code: 'context_length_exceeded', message: 'your messages resulted in 9120 tokens' });
  });
});
