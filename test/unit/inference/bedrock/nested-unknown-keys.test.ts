import { describe, expect, it } from 'vitest';
import { converseMessages } from '../../../../lambdas/inference/providers/bedrock/messages.js';
import { checkRequestFields } from '../../../../lambdas/inference/providers/bedrock/request-fields.js';
import { body, expectUnsupported } from './refusal.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };
const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };

/**
 * A key inside a chat request's objects that OpenAI's types do not define, on Bedrock: OpenAI's 400 for one, "Unknown
 * parameter: '<path>'." (songquanpeng/one-api#1319 quotes 'messages[1].tool_calls[0].index'), code unknown_parameter,
 * then why (until 2026-12-07 unsupported_parameter, "<path> is not supported by the bedrock provider: not a field of …").
 * A key OpenAI defines that Converse cannot honour (a message's `name`, an assistant's `audio`) stays unsupported_parameter.
 */
describe('a nested key OpenAI does not define, on Bedrock: "Unknown parameter: \'<path>\'.", code unknown_parameter', () => {
  it.each([
    ['messages[0].content[0].cache_control', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }] }],
    ['messages[1].tool_calls[0].index', { tools: [weather], messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ ...call, index: 0 }] }, { role: 'tool', tool_call_id: 'call_1', content: 'x' }] }],
    ['tools[0].function.foo', { tools: [{ ...weather, function: { ...weather.function, foo: 1 } }] }],
    ['response_format.json_schema.foo', { response_format: { type: 'json_schema', json_schema: { name: 'o', schema: {}, foo: 1 } } }],
  ])('%s (request-fields: nested-fields.ts)', (param, fields) => {
    const e = expectUnsupported(() => checkRequestFields(body(fields as never)), param);
    expect(e.details).toMatchObject({ type: 'invalid_request_error', code: 'unknown_parameter', param });
    expect(e.message).toMatch(new RegExp(`^Unknown parameter: '${esc(param)}'\\. Not a field of OpenAI's .*\\(the bedrock provider\\)$`));
  });

  it.each([
    ['messages[0].foo', [{ role: 'user', content: 'hi', foo: 1 }]],
    ['messages[0].audio', [{ role: 'user', content: 'hi', audio: { id: 'a' } }]],
    ['messages[1].foo', [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello', foo: 1 }]],
  ])('%s (a message\'s own key: messages.ts)', (param, messages) => {
    const e = expectUnsupported(() => converseMessages(messages as never), param);
    expect(e.details).toMatchObject({ code: 'unknown_parameter', param });
    expect(e.message).toMatch(new RegExp(`^Unknown parameter: '${esc(param)}'\\. Not a field of OpenAI's chat-completions (user|assistant) message`));
  });

  it('a message key OpenAI defines that Converse cannot honour stays unsupported_parameter (name; an assistant\'s audio)', () => {
    expect(expectUnsupported(() => converseMessages([{ role: 'user', content: 'hi', name: 'ann' }] as never), 'messages[0].name').details.code).toBe('unsupported_parameter');
    expect(expectUnsupported(() => converseMessages([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'x', audio: { id: 'a' } }] as never), 'messages[1].audio').details.code).toBe('unsupported_parameter');
  });
});
