import { describe, expect, it } from 'vitest';
import { toolResultBlock, toolUseBlocks, toolUseId } from '../../../../lambdas/inference/providers/bedrock/tool-calls.js';
import { expectInvalid, expectUnsupported } from './refusal.js';

const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

describe('tool calls and results', () => {
  it('maps assistant tool_calls to toolUse blocks with parsed input', () => {
    expect(toolUseBlocks([call('call_1', 'weather', '{"city":"Oslo"}'), call('call_2', 'time', '')], 'messages[1]')).toEqual([
      { toolUse: { toolUseId: 'call_1', name: 'weather', input: { city: 'Oslo' } } },
      { toolUse: { toolUseId: 'call_2', name: 'time', input: {} } },
    ]);
  });

  it('refuses arguments that are not JSON, naming their path', () => {
    const e = expectInvalid(() => toolUseBlocks([call('a', 'f', '{}'), call('b', 'f', '{"city":')], 'messages[3]'), 'messages[3].tool_calls[1].function.arguments');
    expect(e.message).toMatch(/^messages\[3\]\.tool_calls\[1\]\.function\.arguments is not valid JSON/);
  });

  it('refuses custom tool calls', () => {
    expectUnsupported(() => toolUseBlocks([{ id: 'c', type: 'custom', custom: { name: 'g', input: 'x' } }], 'messages[1]'), 'messages[1].tool_calls[0].type');
  });

  it('maps a tool message to a toolResult with its text', () => {
    expect(toolResultBlock({ role: 'tool', tool_call_id: 'call_1', content: '3°C' }, 'messages[2]'))
      .toEqual({ toolResult: { toolUseId: 'call_1', content: [{ text: '3°C' }] } });
    expect(toolResultBlock({ role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, 'messages[2]'))
      .toEqual({ toolResult: { toolUseId: 'call_1', content: [{ text: 'a' }, { text: 'b' }] } });
    expect(toolResultBlock({ role: 'tool', tool_call_id: 'call_1', content: '' }, 'messages[2]')).toEqual({ toolResult: { toolUseId: 'call_1', content: [] } });
  });

  it('maps a tool message\'s image and file parts (a /v1/responses function_call_output) to the toolResult\'s image and document blocks', () => {
    const png = Buffer.from('iVBORw0KGgo=', 'base64');
    const block = toolResultBlock({
      role: 'tool', tool_call_id: 'call_1',
      content: [{ type: 'text', text: 'Chart:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERg==', filename: 'c.pdf' } }] as never,
    }, 'messages[2]');
    expect(block.toolResult?.content).toEqual([{ text: 'Chart:' }, { image: { format: 'png', source: { bytes: new Uint8Array(png) } } }, { document: { format: 'pdf', name: 'c', source: { bytes: expect.any(Uint8Array) } } }]);
    expectUnsupported(() => toolResultBlock({ role: 'tool', tool_call_id: 'call_1', content: [{ type: 'image_url', image_url: { url: 'https://example.org/a.png' } }] as never }, 'messages[2]'), 'messages[2].content[0].image_url');
  });

  it('maps a caller\'s id of the mapped form (h_ + 40 hex) too, so it never meets another id\'s mapping', () => {
    const mapped = toolUseId('call.abc:1');
    const blocks = toolUseBlocks([call('call.abc:1', 'f', '{}'), call(mapped, 'f', '{}')], 'm');
    const ids = blocks.map((b) => b.toolUse?.toolUseId);
    expect(new Set(ids).size).toBe(2);
    expect(ids[1]).toMatch(/^h_[0-9a-f]{40}$/);
    expect(toolResultBlock({ role: 'tool', tool_call_id: mapped, content: 'ok' }, 'm').toolResult?.toolUseId).toBe(ids[1]);
    expect(toolUseId('h_123')).toBe('h_123');
    expect(toolUseId(`h_${'A'.repeat(40)}`)).toBe(`h_${'A'.repeat(40)}`);
  });

  it('refuses two calls of one message with the same id, naming the second and the first (Converse refuses duplicate toolUse ids in a turn)', () => {
    const e = expectInvalid(() => toolUseBlocks([call('call_1', 'f', '{}'), call('call_2', 'f', '{}'), call('call_1', 'g', '{}')], 'messages[1]'), 'messages[1].tool_calls[2].id');
    expect(e.message).toContain('is "call_1", the id of messages[1].tool_calls[0] too');
  });

  it('maps a caller\'s id of a legacy function call\'s form (function_call_<i>), so it never meets that call\'s id', () => {
    expect(toolUseId('function_call_3')).toMatch(/^h_[0-9a-f]{40}$/);
    expect(toolUseId('function_call_x')).toBe('function_call_x');
  });

  it('keeps ids Converse accepts ([a-zA-Z0-9_-]{1,64}) and maps others, with . and : too, to the same stable id on both sides', () => {
    expect(toolUseId('call_abc-1_2')).toBe('call_abc-1_2');
    expect(toolUseId('call_abc-1.2:3')).toMatch(/^h_[0-9a-f]{40}$/);
    const odd = toolUseId('call/with spaces');
    expect(odd).toMatch(/^h_[0-9a-f]{40}$/);
    expect(toolUseId('call/with spaces')).toBe(odd);
    expect(toolUseBlocks([call('call/with spaces', 'f', '{}')], 'm')[0].toolUse?.toolUseId).toBe(odd);
    expect(toolResultBlock({ role: 'tool', tool_call_id: 'call/with spaces', content: 'ok' }, 'm').toolResult?.toolUseId).toBe(odd);
  });
});
