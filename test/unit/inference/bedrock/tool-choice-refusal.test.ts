import { describe, expect, it } from 'vitest';
import { toolChoiceRefusal } from '../../../../lambdas/inference/providers/bedrock/tool-choice-refusal.js';
import { ProviderError, UnsupportedFieldError } from '../../../../lambdas/inference/providers/provider.js';

const validation = (message: string) => new ProviderError(message, 400, false, { type: 'invalid_request_error', code: 'ValidationException' });

describe('toolChoiceRefusal', () => {
  it('renames Bedrock\'s refusal of toolConfig.toolChoice.tool to the caller\'s tool_choice, with the value sent', () => {
    const e = toolChoiceRefusal(validation("This model doesn't support the toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and try again."), { tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(e).toBeInstanceOf(UnsupportedFieldError);
    expect(e.details).toMatchObject({ param: 'tool_choice', code: 'unsupported_parameter' });
    expect(e.message).toContain('{"type":"function","function":{"name":"get_weather"}} is not taken by this Bedrock model');
  });

  it('leaves any other error as it is, and Bedrock\'s refusal when the caller sent no tool_choice', () => {
    const other = validation('Input is too long for requested model.');
    expect(toolChoiceRefusal(other, { tool_choice: 'required' })).toBe(other);
    const unasked = validation("This model doesn't support the toolConfig.toolChoice.any field.");
    expect(toolChoiceRefusal(unasked, {})).toBe(unasked);
  });
});
