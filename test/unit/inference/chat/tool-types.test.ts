import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { refuseUndefinedToolTypes } from '../../../../lambdas/inference/chat/tool-types.js';
import { checkChatToolChoiceNames } from '../../../../lambdas/inference/chat/tool-choice-names.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

const fn = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };
const custom = { type: 'custom' as const, custom: { name: 'grammar' } };

/** What refuseUndefinedToolTypes throws for `body`, or undefined. */
function refusal(body: Record<string, unknown>): GatewayError | undefined {
  try {
    refuseUndefinedToolTypes(body as never);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
}

describe('tool types Chat Completions does not define: refused, naming the field and the value', () => {
  it('takes every tool and tool choice OpenAI\'s ChatCompletionCreateParams defines', () => {
    const choices: Array<ChatCompletionCreateParams['tool_choice'] | null> = [
      undefined, null, 'none', 'auto', 'required',
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'custom', custom: { name: 'grammar' } },
      { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'custom', custom: { name: 'grammar' } }] } },
    ];
    for (const tool_choice of choices) expect(refusal({ tools: [fn, custom], tool_choice })).toBeUndefined();
    expect(refusal({})).toBeUndefined();
    expect(refusal({ tools: null })).toBeUndefined();
  });

  it.each([
    ['the Responses API\'s file_search', { tools: [fn, { type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'tools[1].type', "Invalid value: 'file_search'. Supported values are: 'function' and 'custom'."],
    ['a made-up type', { tools: [{ type: 'bogus' }] }, 'tools[0].type', "Invalid value: 'bogus'. Supported values are: 'function' and 'custom'."],
    ['web_search_preview', { tools: [{ type: 'web_search_preview' }, fn] }, 'tools[0].type', "Invalid value: 'web_search_preview'. Supported values are: 'function' and 'custom'."],
    ['a tool_choice naming file_search', { tools: [fn], tool_choice: { type: 'file_search' } }, 'tool_choice.type', "Invalid value: 'file_search'. Supported values are: 'function', 'custom', and 'allowed_tools'."],
    ['a tool_choice string OpenAI does not define (Anthropic\'s any)', { tools: [fn], tool_choice: 'any' }, 'tool_choice', "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'."],
    ['a tool_choice that is a number', { tools: [fn], tool_choice: 1 }, 'tool_choice', "Invalid value: '1'. Supported values are: 'none', 'auto', and 'required'."],
    ['an allowed_tools mode OpenAI does not define', { tools: [fn], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'none', tools: [fn] } } }, 'tool_choice.allowed_tools.mode', "Invalid value: 'none'. Supported values are: 'auto' and 'required'."],
    ['an allowed tool of a type Chat Completions does not define', { tools: [fn], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [fn, { type: 'file_search' }] } } }, 'tool_choice.allowed_tools.tools[1].type', "Invalid value: 'file_search'. Supported values are: 'function' and 'custom'."],
  ])('%s', (_name, body, param, message) => {
    expect(refusal(body)).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_value', param, message });
  });

  it('a tool_choice object without a type: OpenAI\'s missing_required_parameter', () => {
    expect(refusal({ tools: [fn], tool_choice: { function: { name: 'get_weather' } } })).toMatchObject({
      status: 400, code: 'missing_required_parameter', param: 'tool_choice.type', message: "Missing required parameter: 'tool_choice.type'.",
    });
  });
});

describe('checkChatToolChoiceNames: a choice\'s name that is absent or not a string', () => {
  const tools = [{ type: 'function', function: { name: 'f' } }];
  it('is OpenAI\'s missing_required_parameter / invalid_type naming the name\'s path', () => {
    expect(() => checkChatToolChoiceNames({ tools, tool_choice: { type: 'function', function: {} } })).toThrow(expect.objectContaining({ status: 400, param: 'tool_choice.function.name', code: 'missing_required_parameter', message: "Missing required parameter: 'tool_choice.function.name'." }));
    expect(() => checkChatToolChoiceNames({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 5 } }] } } }))
      .toThrow(expect.objectContaining({ param: 'tool_choice.allowed_tools.tools[0].custom.name', code: 'invalid_type', message: "Invalid type for 'tool_choice.allowed_tools.tools[0].custom.name': expected a string, but got a number instead (5)." }));
    expect(() => checkChatToolChoiceNames({ tools, tool_choice: { type: 'function', function: { name: 'f' } } })).not.toThrow();
    expect(() => checkChatToolChoiceNames({ tools, tool_choice: 'required' })).not.toThrow();
  });
});
