import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { textFormatToChat } from '../../../../lambdas/inference/responses/text-format.js';
import { toolChoiceToChat, toolsToChat } from '../../../../lambdas/inference/responses/tools.js';
import { thrown } from './thrown.js';

const PARAMS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

describe('tools → chat tools', () => {
  it('a function tool (flat) becomes a chat function tool (nested), strict and description kept', () => {
    expect(toolsToChat([{ type: 'function', name: 'get_weather', description: 'Weather', parameters: PARAMS, strict: true }]))
      .toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: PARAMS, strict: true } }]);
  });

  it('null parameters, strict and description are left out; no tools is undefined', () => {
    expect(toolsToChat([{ type: 'function', name: 'ping', parameters: null, strict: null, description: null }])).toEqual([{ type: 'function', function: { name: 'ping' } }]);
    expect(toolsToChat([])).toBeUndefined();
  });

  it.each(['web_search', 'web_search_preview', 'code_interpreter', 'computer_use_preview', 'image_generation', 'mcp', 'local_shell'])(
    'the hosted tool %s is a 400 naming tools[i].type and the tool', (type) => {
      const e = thrown(() => toolsToChat([{ type: 'function', name: 'ok' }, { type }]));
      expect(e).toMatchObject({ status: 400, param: 'tools[1].type', code: 'unsupported_tool' });
      expect(e.message).toContain(`'${type}'`);
    },
  );

  it('the hosted file_search tool is offered to the model as the gateway\'s search function, last; a function of that name beside it is a 400', () => {
    const chat = toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'function', name: 'ok' }]);
    expect(chat!.map((t) => (t as ChatCompletionFunctionTool).function.name)).toEqual(['ok', 'file_search']);
    expect((chat![1] as ChatCompletionFunctionTool).function.parameters).toMatchObject({ required: ['queries'], properties: { queries: { type: 'array' } } });
    expect(thrown(() => toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'function', name: 'file_search' }]))).toMatchObject({ status: 400, param: 'tools[1].name' });
    // A custom tool of that name (the model would see two tools named file_search); without a file_search tool, the name is free.
    expect(thrown(() => toolsToChat([{ type: 'custom', name: 'file_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }]))).toMatchObject({ status: 400, param: 'tools[0].name', message: expect.stringContaining('rename your custom tool') });
    expect(toolsToChat([{ type: 'custom', name: 'file_search' }])).toEqual([{ type: 'custom', custom: { name: 'file_search' } }]);
    expect(thrown(() => toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1'] }, { type: 'file_search', vector_store_ids: ['vs_2'] }]))).toMatchObject({ status: 400, param: 'tools[1].type' });
    expect(thrown(() => toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1'], ranking_options: { ranker: 'default-2024-11-15' } }]))).toMatchObject({ status: 400, param: 'tools[0].ranking_options.ranker' });
    expect(thrown(() => toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1'], ranking_options: { score_threshold: 2 } }]))).toMatchObject({ status: 400, param: 'tools[0].ranking_options.score_threshold' });
    expect(thrown(() => toolsToChat([{ type: 'file_search', vector_store_ids: ['vs_1', 7] }]))).toMatchObject({ status: 400, param: 'tools[0].vector_store_ids[1]' });
    expect(toolChoiceToChat({ type: 'file_search' })).toEqual({ type: 'function', function: { name: 'file_search' } });
    expect(toolChoiceToChat({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'file_search' }] })).toEqual({ type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'file_search' } }] } });
  });

  it('a custom tool (flat) becomes a chat custom tool (nested): name, description, a text format as it is, a grammar nested', () => {
    expect(toolsToChat([{ type: 'custom', name: 'sql', description: 'Run SQL', format: { type: 'text' } }, { type: 'function', name: 'f' }]))
      .toEqual([{ type: 'custom', custom: { name: 'sql', description: 'Run SQL', format: { type: 'text' } } }, { type: 'function', function: { name: 'f' } }]);
    expect(toolsToChat([{ type: 'custom', name: 'digits', format: { type: 'grammar', definition: '^\\d+$', syntax: 'regex' } }]))
      .toEqual([{ type: 'custom', custom: { name: 'digits', format: { type: 'grammar', grammar: { definition: '^\\d+$', syntax: 'regex' } } } }]);
    expect(toolsToChat([{ type: 'custom', name: 'free', description: null, format: null, defer_loading: false, allowed_callers: ['direct'], async: false }]))
      .toEqual([{ type: 'custom', custom: { name: 'free' } }]);
  });

  it.each([
    [{ type: 'custom', name: 'g', format: { type: 'grammar', definition: 'start: "a"', syntax: 'lark', strict: true } }, 'tools[0].format.strict', 'unknown_parameter'],
    [{ type: 'custom', name: 'g', format: { type: 'text', definition: 'x' } }, 'tools[0].format.definition', 'unknown_parameter'],
    [{ type: 'custom', name: 'g', format: { type: 'json' } }, 'tools[0].format.type', 'invalid_value'],
    [{ type: 'custom', name: 'g', format: { type: 'grammar', syntax: 'lark' } }, 'tools[0].format.definition', 'missing_required_parameter'],
    [{ type: 'custom', name: 'g', format: { type: 'grammar', definition: 'x', syntax: 'ebnf' } }, 'tools[0].format.syntax', 'invalid_value'],
    [{ type: 'custom', name: 'g', format: 'text' }, 'tools[0].format', 'invalid_type'],
    [{ type: 'custom', format: { type: 'text' } }, 'tools[0].name', 'missing_required_parameter'],
    [{ type: 'custom', name: 'g', description: 3 }, 'tools[0].description', 'invalid_type'],
    [{ type: 'custom', name: 'g', defer_loading: true }, 'tools[0].defer_loading', 'unsupported_parameter'],
    [{ type: 'custom', name: 'g', allowed_callers: ['programmatic'] }, 'tools[0].allowed_callers', 'unsupported_parameter'],
    [{ type: 'custom', name: 'g', async: true }, 'tools[0].async', 'unsupported_parameter'],
  ])('a custom tool field the chat mapping cannot carry (%j) is a 400 naming %s, never dropped', (tool, param, code) => {
    const e = thrown(() => toolsToChat([tool]));
    expect(e).toMatchObject({ status: 400, param, code });
    // A format key CustomToolInputFormat does not define: OpenAI's words for it (was unsupported_parameter, "… is not a field of …").
    if (code === 'unknown_parameter') expect(e.message).toMatch(new RegExp(`^Unknown parameter: '${param.replace(/[.[\]]/g, '\\$&')}'\\. CustomToolInputFormat\\.(Text|Grammar) has no such field`));
  });

  it.each([
    [{ type: 'custom', name: 5 }, 'invalid_type', /^Invalid type for 'tools\[0\]\.name': expected a string, but got a number instead/],
    [{ type: 'function', name: 5 }, 'invalid_type', /^Invalid type for 'tools\[0\]\.name'/],
    [{ type: 'custom', name: 'run sql' }, 'invalid_value', /does not match pattern.*'\^\[a-zA-Z0-9_-\]\+\$'.*"run_sql"/],
    [{ type: 'function', name: 'weather.get' }, 'invalid_value', /does not match pattern.*"weather_get"/],
    [{ type: 'custom', name: 'x'.repeat(65) }, 'string_above_max_length', /maximum length 64, but got a string with length 65/],
    [{ type: 'custom', name: '' }, 'missing_required_parameter', /^Missing required parameter: 'tools\[0\]\.name'/],
  ])('a tool name OpenAI refuses (%j) is a 400 %s naming tools[0].name, in OpenAI\'s words', (tool, code, message) => {
    expect(thrown(() => toolsToChat([tool]))).toMatchObject({ status: 400, param: 'tools[0].name', code, message: expect.stringMatching(message) });
  });

  it('tool_choice {type: custom, name} becomes chat\'s {type: custom, custom: {name}}, as does a custom entry of allowed_tools', () => {
    expect(toolChoiceToChat({ type: 'custom', name: 'sql' })).toEqual({ type: 'custom', custom: { name: 'sql' } });
    expect(toolChoiceToChat({ type: 'allowed_tools', mode: 'auto', tools: [{ type: 'custom', name: 'sql' }, { type: 'function', name: 'f' }] }))
      .toEqual({ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'sql' } }, { type: 'function', function: { name: 'f' } }] } });
    expect(thrown(() => toolChoiceToChat({ type: 'custom' }))).toMatchObject({ status: 400, param: 'tool_choice.name' });
  });

  it.each([
    ['parameters', 'nope', 'expected an object, but got a string'],
    ['parameters', [{ type: 'string' }], 'expected an object, but got an array'],
    ['strict', 'yes', 'expected a boolean, but got a string'],
    ['description', 5, 'expected a string, but got a number'],
  ])('a function tool\'s %s of the wrong type (%j) is a 400 invalid_type naming it, not passed upstream and echoed (s23resp)', (key, value, why) => {
    const e = thrown(() => toolsToChat([{ type: 'function', name: 'ok' }, { type: 'function', name: 'f', [key]: value }]));
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param: `tools[1].${key}`, code: 'invalid_type' });
    expect(e.message).toContain(`Invalid type for 'tools[1].${key}': ${why}`);
  });

  it('function-tool options chat cannot honour are 400s naming them', () => {
    expect(thrown(() => toolsToChat([{ type: 'function', name: 'f', defer_loading: true }])).param).toBe('tools[0].defer_loading');
    expect(thrown(() => toolsToChat([{ type: 'function', name: 'f', output_schema: {} }])).param).toBe('tools[0].output_schema');
    expect(thrown(() => toolsToChat([{ type: 'function', name: 'f', async: true }]))).toMatchObject({ param: 'tools[0].async', code: 'unsupported_parameter' });
    expect(thrown(() => toolsToChat([{ type: 'function', name: 'f', async: 'yes' }]))).toMatchObject({ param: 'tools[0].async', code: 'invalid_type' });
  });

  it('async false (openai 7.55\'s FunctionTool.async), which asks for nothing, is taken: the chat tool as without it', () => {
    expect(toolsToChat([{ type: 'function', name: 'f', async: false }])).toEqual([{ type: 'function', function: { name: 'f' } }]);
  });
});

describe('tool_choice → chat tool_choice', () => {
  it.each(['none', 'auto', 'required'])('%s stays', (c) => expect(toolChoiceToChat(c)).toBe(c));
  it('a function choice is nested', () => expect(toolChoiceToChat({ type: 'function', name: 'f' })).toEqual({ type: 'function', function: { name: 'f' } }));
  it('allowed_tools of functions is chat allowed_tools', () => {
    expect(toolChoiceToChat({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] }))
      .toEqual({ type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'f' } }] } });
  });
  it.each(['x', undefined, null, 'none'])('allowed_tools with mode %j is a 400 naming tool_choice.mode (auto and required only)', (mode) => {
    const e = thrown(() => toolChoiceToChat({ type: 'allowed_tools', mode, tools: [{ type: 'function', name: 'f' }] }));
    expect(e).toMatchObject({ status: 400, param: 'tool_choice.mode' });
    expect(e.message).toContain('auto, required');
  });
  it('a hosted tool choice is a 400 naming tool_choice.type', () => {
    expect(thrown(() => toolChoiceToChat({ type: 'web_search_preview' }))).toMatchObject({ param: 'tool_choice.type', code: 'unsupported_tool' });
  });
  it('absent is undefined', () => expect(toolChoiceToChat(null)).toBeUndefined());
});

describe('text.format → response_format', () => {
  it('text is chat\'s default (nothing sent); json_object stays', () => {
    expect(textFormatToChat({ type: 'text' })).toBeUndefined();
    expect(textFormatToChat({ type: 'json_object' })).toEqual({ type: 'json_object' });
  });
  it('json_schema (flat) becomes chat json_schema (nested) with name, schema, description and strict', () => {
    expect(textFormatToChat({ type: 'json_schema', name: 'Weather', schema: PARAMS, strict: true, description: 'd' }))
      .toEqual({ type: 'json_schema', json_schema: { name: 'Weather', schema: PARAMS, strict: true, description: 'd' } });
  });
  it('a json_schema without a name is a 400 naming text.format.name; an unknown type names text.format.type; a strict schema whose root is not an object names text.format.schema', () => {
    expect(thrown(() => textFormatToChat({ type: 'json_schema', schema: PARAMS })).param).toBe('text.format.name');
    expect(thrown(() => textFormatToChat({ type: 'grammar' })).param).toBe('text.format.type');
    // A strict format whose root is not an object (zodTextFormat of openai 4.x/5.x with zod 4): OpenAI's 400, naming the schema.
    expect(thrown(() => textFormatToChat({ type: 'json_schema', name: 'W', schema: { type: 'string' }, strict: true }))).toMatchObject({ param: 'text.format.schema', message: expect.stringContaining('Invalid schema for response_format \'W\': schema must be a JSON Schema of \'type: "object"\', got \'type: "string"\'') });
    expect(textFormatToChat({ type: 'json_schema', name: 'W', schema: { type: 'string' } })).toMatchObject({ json_schema: { schema: { type: 'string' } } });
  });
  // OpenAI's own answers (the fake upstream's strict rules cite them: openai/openai-node#1404): before session 50 the
  // gateway said these in words of its own, code `invalid_request`, where an app matching on OpenAI's code saw another.
  it.each([
    ['a type OpenAI does not define', { type: 'xml' }, 'text.format.type', 'invalid_value', "Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'."],
    ['no type', { name: 'W', schema: PARAMS }, 'text.format.type', 'missing_required_parameter', "Missing required parameter: 'text.format.type'."],
    ['a json_schema without a name', { type: 'json_schema', schema: PARAMS }, 'text.format.name', 'missing_required_parameter', "Missing required parameter: 'text.format.name'."],
    ['a json_schema without a schema', { type: 'json_schema', name: 'W' }, 'text.format.schema', 'missing_required_parameter', "Missing required parameter: 'text.format.schema'."],
    ['a json_schema name with a space', { type: 'json_schema', name: 'my format', schema: PARAMS }, 'text.format.name', 'invalid_value', "Invalid 'text.format.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."],
  ])('%s is OpenAI\'s 400, in its words and code', (_name, format, param, code, message) => {
    expect(thrown(() => textFormatToChat(format))).toMatchObject({ status: 400, param, code, message });
  });
  it('a json_schema whose schema is an array, or whose strict / description is of the wrong type, is a 400 naming it (s23resp)', () => {
    expect(thrown(() => textFormatToChat({ type: 'json_schema', name: 'W', schema: [PARAMS] })).param).toBe('text.format.schema');
    expect(thrown(() => textFormatToChat({ type: 'json_schema', name: 'W', schema: PARAMS, strict: 'true' }))).toMatchObject({ param: 'text.format.strict', code: 'invalid_type' });
    expect(thrown(() => textFormatToChat({ type: 'json_schema', name: 'W', schema: PARAMS, description: {} }))).toMatchObject({ param: 'text.format.description', code: 'invalid_type' });
  });
});
