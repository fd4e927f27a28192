import type { ChatCompletionContentPartImage, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ChatCompletionRequest } from '../../../../lambdas/inference/chat/request-schema.js';
import { CompletionRequest } from '../../../../lambdas/inference/completions/request-schema.js';
import type { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { parseWith } from '../../../../lambdas/inference/request-body.js';

const parse = (body: Record<string, unknown>) => ChatCompletionRequest.safeParse({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body });

describe('the chat-completions request schema: what the gateway reads, everything else through', () => {
  it('accepts every role and content shape of OpenAI\'s ChatCompletionCreateParams', () => {
    const body: ChatCompletionCreateParams = {
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } }, { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
        { role: 'function', name: 'legacy', content: null },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', additionalProperties: false }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } }, parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object', additionalProperties: false }, strict: true } },
      n: 2, seed: 7, logprobs: true, top_logprobs: 3, logit_bias: { '50256': -100 }, stop: ['x'], user: 'u', metadata: { a: 'b' },
      reasoning_effort: 'low', service_tier: 'auto', prediction: { type: 'content', content: 'p' }, modalities: ['text'],
      prompt_cache_retention: '24h',
    };
    const out = ChatCompletionRequest.safeParse({ ...body, top_k: 5, chat_template_kwargs: { enable_thinking: false } });
    expect(out.success).toBe(true);
    // Loose: fields the gateway does not read come out as they went in.
    expect(out.data).toMatchObject({ seed: 7, logit_bias: { '50256': -100 }, top_k: 5, chat_template_kwargs: { enable_thinking: false }, prediction: { type: 'content', content: 'p' } });
    expect((out.data as { messages: unknown[] }).messages[3]).toEqual(body.messages[3]);
  });

  it.each(['auto', 'low', 'high', 'original'] as const satisfies ReadonlyArray<NonNullable<ChatCompletionContentPartImage.ImageURL['detail']>>)(
    'accepts image detail %s, as the openai package\'s chat type does', (detail) => {
      const r = parse({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail } }] }] });
      expect(r.success).toBe(true);
      expect(parse({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'huge' } }] }] }).success).toBe(false);
    },
  );

  it('takes stream_options with stream: true and top_logprobs with logprobs: true; seed as it is', () => {
    expect(parse({ stream: true, stream_options: { include_usage: true } }).success).toBe(true);
    expect(parse({ logprobs: true, top_logprobs: 5, seed: 42 }).success).toBe(true);
    expect(parse({ seed: 42, logprobs: false, top_logprobs: null, stream: false, stream_options: null }).success).toBe(true);
    expect(parse({ tool_choice: null, parallel_tool_calls: null }).success).toBe(true);
  });

  it('takes any integer seed, 64-bit ones past 2^53 too (they lose precision in JSON but are integers), and n from 1 to 128', () => {
    for (const seed of [0, -1, 2 ** 53 + 2, -(2 ** 63), 2 ** 63, Number.MAX_SAFE_INTEGER]) expect(parse({ seed }).success).toBe(true);
    // As the body arrives: JSON.parse of a 64-bit seed (9223372036854775807 is 2^63 - 1, parsed as 2^63).
    expect(parse(JSON.parse('{"seed": 9223372036854775807}')).success).toBe(true);
    for (const n of [1, 128]) expect(parse({ n }).success).toBe(true);
  });

  // The refinement's own issue was answered `seed = 1.5: seed must be an integer`, code invalid_request, where `n: 1.5` is
  // OpenAI's invalid_type.
  it('a fractional seed is OpenAI\'s type error, as a fractional n is', () => {
    const refused = (body: object) => {
      try { parseWith(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }); } catch (e) { return e as GatewayError; }
      throw new Error('accepted');
    };
    expect(refused({ seed: 1.5 })).toMatchObject({ status: 400, param: 'seed', code: 'invalid_type', message: "Invalid type for 'seed': expected an integer, but got a decimal number instead." });
  });

  // seed: '42' said `expected a decimal` (chat's seed was a refinement openaiIssue did not know as an integer); chat took
  // seed: 1e30 where completions refused it with zod's safe-integer bound (`<= 9007199254740991`), and refused 2^53 + 2.
  it('seed is a 64-bit integer on chat and legacy completions alike, refused in OpenAI\'s words naming seed', () => {
    const refused = (schema: z.ZodType, body: object, seed: unknown) => {
      try { parseWith(schema, { ...body, seed }); } catch (e) { const g = e as GatewayError; return [g.param, g.code, g.message]; }
      return 'accepted';
    };
    const routes: Array<[z.ZodType, object]> = [[ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }], [CompletionRequest, { model: 'm', prompt: 'hi' }]];
    for (const [schema, body] of routes) {
      expect(refused(schema, body, '42')).toEqual(['seed', 'invalid_type', "Invalid type for 'seed': expected an integer, but got a string instead."]);
      expect(refused(schema, body, 1.5)).toEqual(['seed', 'invalid_type', "Invalid type for 'seed': expected an integer, but got a decimal number instead."]);
      expect(refused(schema, body, 1e30)).toEqual(['seed', 'integer_above_max_value', "Invalid 'seed': integer above maximum value. Expected a value <= 9223372036854775807, but got 1e+30 instead."]);
      expect(refused(schema, body, -1e30)).toEqual(['seed', 'integer_below_min_value', "Invalid 'seed': integer below minimum value. Expected a value >= -9223372036854775808, but got -1e+30 instead."]);
      for (const seed of [0, -(2 ** 63), 2 ** 53 + 2, 2 ** 63, JSON.parse('9223372036854775807'), null]) expect(refused(schema, body, seed)).toBe('accepted');
    }
  });

  it('takes participant names in OpenAI\'s pattern', () => {
    for (const name of ['jane', 'agent_7', 'Research-Bot', '4111111111111111']) expect(parse({ messages: [{ role: 'user', content: 'hi', name }] }).success).toBe(true);
  });

  it('says how far over OpenAI\'s Metadata bounds a metadata is: the keys given, the characters of a key or value', () => {
    const messages = (metadata: unknown) => {
      const out = parse({ metadata });
      return out.error!.issues.flatMap((i) => ('issues' in i && Array.isArray(i.issues) ? i.issues.map((n) => n.message) : [i.message]));
    };
    expect(messages(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'])))).toEqual(['metadata has at most 16 keys (20 given)']);
    expect(messages({ ['k'.repeat(70)]: 'v' })).toEqual(['a metadata key has at most 64 characters (this one has 70)']);
    expect(messages({ run: 'v'.repeat(600) })).toEqual(['a metadata value is a string of at most 512 characters (this one has 600)']);
  });

  it('says where request tags go when a metadata value is a list (LiteLLM\'s metadata.tags): the x-tessera-tags header, with the list as its value', () => {
    const messages = (metadata: unknown) => {
      const out = parse({ metadata });
      return out.success ? [] : out.error.issues.map((i) => i.message);
    };
    expect(messages({ tags: ['checkout', 'env=prod'] })).toEqual(['a metadata value is a string (OpenAI\'s Metadata). To tag a request (LiteLLM\'s metadata.tags), send the tags in the x-tessera-tags header instead: x-tessera-tags: checkout, env=prod']);
    // Through the gateway's parser: OpenAI's type error, then where the tags go (the advice was dropped after OpenAI's sentence).
    const refused = (() => { try { parseWith(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 'hi' }], metadata: { tags: ['checkout'] } }); } catch (e) { return e as GatewayError; } throw new Error('accepted'); })();
    expect(refused).toMatchObject({ status: 400, param: 'metadata.tags', code: 'invalid_type', message: "Invalid type for 'metadata.tags': expected a string, but got an array instead. A metadata value is a string (OpenAI's Metadata). To tag a request (LiteLLM's metadata.tags), send the tags in the x-tessera-tags header instead: x-tessera-tags: checkout" });
    expect(messages({ tags: [1] })[0]).toMatch(/header instead: x-tessera-tags: checkout, env=prod$/);
    expect(messages({ run: 7 })).toEqual(['Invalid input: expected string, received number']);
    expect(messages({ run: null })).toEqual(['Invalid input: expected string, received null']);
  });

  it('counts a metadata key\'s or value\'s characters as the limit does: in code points, not UTF-16 units', () => {
    const messages = (metadata: unknown) => {
      const out = parse({ metadata });
      return out.error!.issues.flatMap((i) => ('issues' in i && Array.isArray(i.issues) ? i.issues.map((n) => n.message) : [i.message]));
    };
    // GIVEN a key of 65 emoji (130 UTF-16 units) and a value of 513 (1,026 units): each one character over
    expect(messages({ ['😀'.repeat(65)]: 'v' })).toEqual(['a metadata key has at most 64 characters (this one has 65)']);
    expect(messages({ run: '😀'.repeat(513) })).toEqual(['a metadata value is a string of at most 512 characters (this one has 513)']);
    // AND 64 and 512 of them are taken: the limit counts code points, so the message must too
    expect(parse({ metadata: { ['😀'.repeat(64)]: '😀'.repeat(512) } }).success).toBe(true);
  });

  it('takes OpenAI\'s largest metadata: 16 keys of 64 characters, values of 512', () => {
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
    expect(parse({ metadata }).success).toBe(true);
  });

  it('takes null as absent for every optional field it reads', () => {
    const out = parse({ max_tokens: null, max_completion_tokens: null, n: null, stream: null, stream_options: null, tools: null, temperature: null });
    expect(out.success).toBe(true);
    expect(out.data).toMatchObject({ max_tokens: null, n: null });
  });

  it.each([
    ['a tool message without tool_call_id', { messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.tool_call_id'],
    ['an assistant turn with nothing in it', { messages: [{ role: 'assistant', content: null }] }, 'messages.0.content'],
    ['an image part without a url', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages.0.content'],
    ['a part type OpenAI does not define', { messages: [{ role: 'user', content: [{ type: 'hologram' }] }] }, 'messages.0.content'],
    ['an image in a system message', { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] }, 'messages.0.content'],
    ['n of 0', { n: 0 }, 'n'],
    ['n of 129 (OpenAI allows 1 to 128)', { n: 129 }, 'n'],
    ['a fractional n', { n: 1.5 }, 'n'],
    ['a fractional seed (OpenAI\'s seed is an integer)', { seed: 1.5 }, 'seed'],
    ['a seed that is a string', { seed: '42' }, 'seed'],
    ['a fractional max_tokens', { max_tokens: 1.5 }, 'max_tokens'],
    ['five stop sequences (OpenAI takes up to 4)', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['a temperature above 2', { temperature: 2.5 }, 'temperature'],
    ['a negative temperature', { temperature: -0.1 }, 'temperature'],
    ['a top_p above 1', { top_p: 1.01 }, 'top_p'],
    ['a presence_penalty below -2', { presence_penalty: -2.1 }, 'presence_penalty'],
    ['a frequency_penalty above 2', { frequency_penalty: 2.1 }, 'frequency_penalty'],
    ['a top_logprobs above 20', { top_logprobs: 21 }, 'top_logprobs'],
    ['a logit_bias key that is no token id', { logit_bias: { foo: 1 } }, 'logit_bias.foo'],
    ['a logit_bias value above 100', { logit_bias: { 50256: 100.5 } }, 'logit_bias.50256'],
    ['a user name that is an email address (OpenAI: ^[a-zA-Z0-9_-]+$)', { messages: [{ role: 'user', content: 'hi', name: 'bob.smith@example.com' }] }, 'messages.0.name'],
    ['a system name with a space', { messages: [{ role: 'system', content: 'hi', name: 'Jane Doe' }] }, 'messages.0.name'],
    ['an assistant name with a phone number', { messages: [{ role: 'assistant', content: 'hi', name: '+1 415 555 0134' }] }, 'messages.0.name'],
    ['an empty developer name', { messages: [{ role: 'developer', content: 'hi', name: '' }] }, 'messages.0.name'],
    ['stream_options without stream', { stream_options: { include_usage: true } }, 'stream_options'],
    ['metadata with 17 keys (OpenAI\'s Metadata: at most 16)', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['a metadata key of 65 characters', { metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
    ['a metadata value of 513 characters', { metadata: { run: 'v'.repeat(513) } }, 'metadata.run'],
    ['a metadata value that is a number (OpenAI\'s values are strings)', { metadata: { run: 7 } }, 'metadata.run'],
    ['a metadata key __proto__ (a JavaScript object would drop it: stored and listed without it)', { metadata: JSON.parse('{"__proto__":"x","run":"1"}') }, 'metadata.__proto__'],
    ['stream_options with stream: false', { stream: false, stream_options: { include_usage: true } }, 'stream_options'],
    ['top_logprobs without logprobs', { top_logprobs: 3 }, 'top_logprobs'],
    ['top_logprobs with logprobs: false', { logprobs: false, top_logprobs: 0 }, 'top_logprobs'],
    ['tool_choice without tools', { tool_choice: 'none' }, 'tool_choice'],
    ['tool_choice with an empty tools list', { tools: [], tool_choice: 'auto' }, 'tool_choice'],
    ['parallel_tool_calls without tools', { parallel_tool_calls: false }, 'parallel_tool_calls'],
    ['a function message whose name is no function name', { messages: [{ role: 'function', content: 'x', name: 'send mail' }] }, 'messages.0.name'],
  ])('refuses %s, naming the field', (_name, body, path) => {
    const out = parse(body);
    expect(out.success).toBe(false);
    expect(out.error!.issues[0].path.join('.')).toContain(path);
  });

  it('a strict json_schema whose root is not an object is left to checkStrictChatResponseFormat (strict-schema-objects.ts), which answers it whole as OpenAI\'s chat API does', () => {
    expect(parse({ response_format: { type: 'json_schema', json_schema: { name: 'W', strict: true, schema: { type: 'string' } } } }).success).toBe(true);
    expect(parse({ response_format: { type: 'json_schema', json_schema: { name: 'W', schema: { type: 'string' } } } }).success).toBe(true);
    expect(parse({ response_format: { type: 'json_schema', json_schema: { name: 'W', strict: true } } }).success).toBe(true);
  });

  // OpenAI's chat `response_format` is one of ResponseFormatText, ResponseFormatJSONObject and ResponseFormatJSONSchema (the
  // openai package's shared.d.ts), and OpenAI refuses another type, or a json_schema without its `json_schema` or `name`,
  // with a 400 naming the field. Before session 50 the gateway passed any response_format on, so an OpenAI-compatible
  // upstream that ignores it (or the fake upstream) answered `{type: "xml"}` with plain text: an app that worked here
  // failed on OpenAI.
  it.each([
    ['a response_format type OpenAI does not define', { response_format: { type: 'xml' } }, 'response_format.type', 'invalid_value', "Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'."],
    ['a response_format without its type', { response_format: {} }, 'response_format.type', 'missing_required_parameter', "Missing required parameter: 'response_format.type'."],
    ['a json_schema response_format without json_schema', { response_format: { type: 'json_schema' } }, 'response_format.json_schema', 'missing_required_parameter', "Missing required parameter: 'response_format.json_schema'."],
    ['a json_schema response_format without a name', { response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, 'response_format.json_schema.name', 'missing_required_parameter', "Missing required parameter: 'response_format.json_schema.name'."],
    ['a response_format that is a string', { response_format: 'json' }, 'response_format', 'invalid_type', "Invalid type for 'response_format': expected an object, but got a string instead."],
    ['a json_schema whose strict is a string', { response_format: { type: 'json_schema', json_schema: { name: 'w', strict: 'yes' } } }, 'response_format.json_schema.strict', 'invalid_type', "Invalid type for 'response_format.json_schema.strict': expected a boolean, but got a string instead."],
  ])('refuses %s with OpenAI\'s 400', (_name, body, param, code, message) => {
    let error: GatewayError | undefined;
    try {
      parseWith(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body });
    } catch (e) {
      error = e as GatewayError;
    }
    expect(error?.status).toBe(400);
    expect({ param: error?.param, code: error?.code, message: error?.message }).toEqual({ param, code, message });
  });

  it('refuses a json_schema name outside OpenAI\'s ^[a-zA-Z0-9_-]+$, naming it', () => {
    for (const name of ['my schema', 'a.b', '']) {
      const out = parse({ response_format: { type: 'json_schema', json_schema: { name, schema: { type: 'object' } } } });
      expect(out.success, name).toBe(false);
      expect(out.error!.issues[0].path.join('.')).toBe('response_format.json_schema.name');
    }
  });

  it('takes each of OpenAI\'s response formats, null, and keys it does not read, passed on as sent', () => {
    for (const response_format of [
      { type: 'text' }, { type: 'json_object' }, null,
      { type: 'json_schema', json_schema: { name: 'Person_1-a', description: 'd', schema: { type: 'object' }, strict: null } },
    ]) {
      const out = parse({ response_format });
      expect(out.success, JSON.stringify(response_format)).toBe(true);
      expect(out.data!.response_format).toEqual(response_format);
    }
    expect(parse({ response_format: { type: 'json_object', extra: 1 } }).data!.response_format).toEqual({ type: 'json_object', extra: 1 });
  });
});
