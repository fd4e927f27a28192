import { describe, expect, it } from 'vitest';
import { checkChatToolNames } from '../../../../lambdas/inference/chat/tool-names.js';
import { thrown } from '../responses/thrown.js';

/** Chat tools' names checked as OpenAI does (`^[a-zA-Z0-9_-]+$`, at most 64), before any provider gets them. */
describe('chat tool names', () => {
  it('takes function and custom tool names of letters, digits, _ and - up to 64', () => {
    expect(() => checkChatToolNames({ tools: [{ type: 'function', function: { name: 'get_weather-2' } }, { type: 'custom', custom: { name: 'x'.repeat(64) } }] })).not.toThrow();
    expect(() => checkChatToolNames({})).not.toThrow();
  });

  it.each([
    [{ type: 'custom', custom: { name: 5 } }, 'tools[0].custom.name', 'invalid_type'],
    [{ type: 'custom', custom: { name: 'run sql' } }, 'tools[0].custom.name', 'invalid_value'],
    [{ type: 'custom', custom: {} }, 'tools[0].custom.name', 'missing_required_parameter'],
    [{ type: 'function', function: { name: 'a.b' } }, 'tools[0].function.name', 'invalid_value'],
    [{ type: 'function', function: { name: 'f'.repeat(65) } }, 'tools[0].function.name', 'string_above_max_length'],
  ])('refuses %j with a 400 naming %s (%s)', (tool, param, code) => {
    expect(thrown(() => checkChatToolNames({ tools: [tool] }))).toMatchObject({ status: 400, param, code });
  });
});
