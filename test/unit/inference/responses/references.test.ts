import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import type { InputItem } from '../../../../lambdas/inference/responses/input-items.js';
import { checkCallOutputs, checkToolChoiceNames, checkUniqueItemIds } from '../../../../lambdas/inference/responses/references.js';

const refusal = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return { status: (e as GatewayError).status, param: (e as GatewayError).param, code: (e as GatewayError).code, message: (e as Error).message };
  }
  throw new Error('not refused');
};
const message = (id: string): InputItem => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] });
const call = (callId: string): InputItem => ({ id: `fc_${callId}`, type: 'function_call', call_id: callId, name: 'f', arguments: '{}' });
const output = (callId: string): InputItem => ({ id: `fco_${callId}`, type: 'function_call_output', call_id: callId, output: 'ok' });

describe('Responses references: ids, call outputs, tool_choice names (found by the hostile test)', () => {
  it('refuses a repeated item id, naming the second (input_items pages by id)', () => {
    expect(() => checkUniqueItemIds([message('msg_a'), message('msg_b')])).not.toThrow();
    expect(refusal(() => checkUniqueItemIds([message('msg_dup'), message('msg_b'), message('msg_dup')]))).toMatchObject({ status: 400, param: 'input[2].id', code: 'duplicate_item_id', message: expect.stringMatching(/^Duplicate item found with id msg_dup/) });
  });

  it('refuses a function_call_output with no function call before it', () => {
    expect(refusal(() => checkCallOutputs([message('m'), output('call_nope')], []))).toMatchObject({ status: 400, param: 'input[1].call_id', code: 'tool_call_not_found', message: expect.stringMatching(/^No tool call found for function call output with call_id call_nope/) });
    // The output before its call is an orphan too.
    expect(refusal(() => checkCallOutputs([output('call_1'), call('call_1')], []))).toMatchObject({ param: 'input[0].call_id' });
  });

  it('accepts an output for a call earlier in input, or in the chained conversation', () => {
    expect(() => checkCallOutputs([message('m'), call('call_1'), output('call_1')], [])).not.toThrow();
    const history = [{ role: 'user' as const, content: 'weather?' }, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_9', type: 'function' as const, function: { name: 'f', arguments: '{}' } }] }];
    expect(() => checkCallOutputs([output('call_9')], history)).not.toThrow();
  });

  it('refuses a tool_choice that names no function of tools', () => {
    const tools = [{ type: 'function', name: 'f', parameters: {} }];
    expect(() => checkToolChoiceNames(tools, { type: 'function', name: 'f' })).not.toThrow();
    expect(() => checkToolChoiceNames(tools, 'required')).not.toThrow();
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'function', name: 'g' }))).toMatchObject({ status: 400, param: 'tool_choice.name', code: 'tool_not_found', message: expect.stringContaining('(functions: f)') });
    expect(refusal(() => checkToolChoiceNames(undefined, { type: 'function', name: 'g' }))).toMatchObject({ message: expect.stringContaining('(functions: none)') });
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }, { type: 'function', name: 'h' }] }))).toMatchObject({ param: 'tool_choice.tools[1].name' });
  });
});
