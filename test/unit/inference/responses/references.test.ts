import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import type { InputItem } from '../../../../lambdas/inference/responses/input-items.js';
import { checkCallOutputs, checkItemsNotInHistory, checkToolChoiceNames, checkUniqueItemIds } from '../../../../lambdas/inference/responses/references.js';

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

  it('refuses an item of the previous response again, replayed or referenced (OpenAI: Duplicate item found with id …)', () => {
    const previous = { responseId: 'resp_1', inputItems: [message('msg_in')], response: { output: [call('call_1')] } };
    expect(() => checkItemsNotInHistory([output('call_1')], previous)).not.toThrow();
    expect(() => checkItemsNotInHistory([call('call_1')], undefined)).not.toThrow();
    // the previous output's function_call sent again (the Python client's fc.model_dump())
    expect(refusal(() => checkItemsNotInHistory([call('call_1'), output('call_1')], previous))).toMatchObject({ status: 400, param: 'input[0].id', code: 'duplicate_item_id', message: expect.stringMatching(/^Duplicate item found with id fc_call_1 \(input\[0\]\.id\): an item of previous_response_id resp_1/) });
    // a reference to the previous response's input item
    expect(refusal(() => checkItemsNotInHistory([output('call_1'), { type: 'item_reference', id: 'msg_in' }], previous))).toMatchObject({ param: 'input[1].id', message: expect.stringContaining('an item_reference to an item of previous_response_id resp_1') });
  });

  it('refuses a function call left without its output, in input or ended by the previous response (OpenAI: No tool output found for function call …)', () => {
    expect(refusal(() => checkCallOutputs([message('m'), call('call_1')], []))).toMatchObject({ status: 400, param: 'input', code: 'tool_output_not_found', message: expect.stringMatching(/^No tool output found for function call call_1 \(input\)/) });
    const history = [{ role: 'user' as const, content: 'weather?' }, { role: 'assistant' as const, content: null, tool_calls: ['call_a', 'call_b'].map((id) => ({ id, type: 'function' as const, function: { name: 'f', arguments: '{}' } })) }];
    expect(refusal(() => checkCallOutputs([message('thanks')], history))).toMatchObject({ param: 'input', code: 'tool_output_not_found', message: expect.stringContaining('call_a (input)') });
    expect(refusal(() => checkCallOutputs([output('call_a')], history))).toMatchObject({ message: expect.stringMatching(/^No tool output found for function call call_b /) });
    // parallel calls answered in the next request, or in the same one
    expect(() => checkCallOutputs([output('call_b'), output('call_a')], history)).not.toThrow();
    expect(() => checkCallOutputs([message('m'), call('call_1'), call('call_2'), output('call_2'), output('call_1')], [])).not.toThrow();
    // a call the chained conversation answered already needs nothing more: the loop goes on
    const answered = [...history, { role: 'tool' as const, tool_call_id: 'call_a', content: '1' }, { role: 'tool' as const, tool_call_id: 'call_b', content: '2' }, { role: 'assistant' as const, content: 'Done.' }];
    expect(() => checkCallOutputs([message('more?')], answered)).not.toThrow();
  });

  it('names the custom tool call left without its output, and custom_tool_call_output as what to send (in input or in the chained conversation)', () => {
    const customCall: InputItem = { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_c', name: 'shell', input: 'ls' };
    expect(refusal(() => checkCallOutputs([message('m'), customCall], []))).toMatchObject({
      param: 'input', code: 'tool_output_not_found',
      message: expect.stringMatching(/^No tool output found for custom tool call call_c \(input\): send a custom_tool_call_output item with call_id call_c for each custom tool call, after its custom_tool_call item/),
    });
    const history = [{ role: 'user' as const, content: 'go' }, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_h', type: 'custom' as const, custom: { name: 'shell', input: 'ls' } }] }];
    expect(refusal(() => checkCallOutputs([message('m')], history))).toMatchObject({ message: expect.stringMatching(/^No tool output found for custom tool call call_h \(input\): send a custom_tool_call_output item/) });
  });

  it('refuses a tool_choice that names no function of tools', () => {
    const tools = [{ type: 'function', name: 'f', parameters: {} }];
    expect(() => checkToolChoiceNames(tools, { type: 'function', name: 'f' })).not.toThrow();
    expect(() => checkToolChoiceNames(tools, 'required')).not.toThrow();
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'function', name: 'g' }))).toMatchObject({ status: 400, param: 'tool_choice.name', code: 'tool_not_found', message: expect.stringContaining('(functions: f)') });
    expect(refusal(() => checkToolChoiceNames(undefined, { type: 'function', name: 'g' }))).toMatchObject({ message: expect.stringContaining('(functions: none)') });
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }, { type: 'function', name: 'h' }] }))).toMatchObject({ param: 'tool_choice.tools[1].name' });
    // s23resp: 'required' with no function to call, and allowed_tools without its tools list, were passed on upstream
    expect(refusal(() => checkToolChoiceNames(undefined, 'required'))).toMatchObject({ status: 400, param: 'tool_choice', code: 'tool_not_found', message: expect.stringContaining("tool_choice 'required' asks for a tool call") });
    expect(refusal(() => checkToolChoiceNames([], 'required'))).toMatchObject({ param: 'tool_choice' });
    expect(() => checkToolChoiceNames(undefined, 'auto')).not.toThrow();
    expect(() => checkToolChoiceNames(undefined, 'none')).not.toThrow();
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'allowed_tools', mode: 'auto' }))).toMatchObject({ status: 400, param: 'tool_choice.tools', code: 'missing_required_parameter' });
  });

  it('pairs custom tool calls with their outputs as function calls are, in input and across the chained conversation', () => {
    const customCall: InputItem = { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_c', name: 'sql', input: 'SELECT 1' };
    const customOutput = (callId: string): InputItem => ({ id: `ctco_${callId}`, type: 'custom_tool_call_output', call_id: callId, output: '1' });
    expect(() => checkCallOutputs([message('m'), customCall, customOutput('call_c')], [])).not.toThrow();
    expect(refusal(() => checkCallOutputs([customOutput('call_x')], []))).toMatchObject({ status: 400, param: 'input[0].call_id', code: 'tool_call_not_found' });
    expect(refusal(() => checkCallOutputs([customCall], []))).toMatchObject({ status: 400, param: 'input', code: 'tool_output_not_found', message: expect.stringContaining('call_c') });
    const history = [{ role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_h', type: 'custom' as const, custom: { name: 'sql', input: 'x' } }] }];
    expect(() => checkCallOutputs([customOutput('call_h')], history)).not.toThrow();
    expect(refusal(() => checkCallOutputs([message('m')], history))).toMatchObject({ code: 'tool_output_not_found' });
  });

  it('names the custom tool items in a refusal of a custom call or output, not the function ones', () => {
    const customCall: InputItem = { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_c', name: 'sql', input: 'SELECT 1' };
    expect(refusal(() => checkCallOutputs([message('m'), customCall], []))).toMatchObject({
      code: 'tool_output_not_found',
      message: 'No tool output found for custom tool call call_c (input): send a custom_tool_call_output item with call_id call_c for each custom tool call, after its custom_tool_call item or with previous_response_id of the response that made the call',
    });
    const history = [{ role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_h', type: 'custom' as const, custom: { name: 'sql', input: 'x' } }] }];
    expect(refusal(() => checkCallOutputs([message('m')], history))).toMatchObject({ message: expect.stringMatching(/^No tool output found for custom tool call call_h \(input\): send a custom_tool_call_output item/) });
    expect(refusal(() => checkCallOutputs([{ id: 'ctco_x', type: 'custom_tool_call_output', call_id: 'call_x', output: '1' }], []))).toMatchObject({
      code: 'tool_call_not_found',
      message: expect.stringMatching(/^No tool call found for custom tool call output with call_id call_x \(input\[0\]\.call_id\): send the custom_tool_call item before it/),
    });
    // a function call keeps OpenAI's function wording
    expect(refusal(() => checkCallOutputs([{ id: 'fc_1', type: 'function_call', call_id: 'call_f', name: 'f', arguments: '{}' }], []))).toMatchObject({ message: expect.stringMatching(/^No tool output found for function call call_f \(input\): send a function_call_output item/) });
  });

  it('a custom tool_choice names a custom tool of tools; required is served with custom tools only', () => {
    const tools = [{ type: 'custom', name: 'sql' }, { type: 'function', name: 'f' }];
    expect(() => checkToolChoiceNames(tools, { type: 'custom', name: 'sql' })).not.toThrow();
    expect(() => checkToolChoiceNames([{ type: 'custom', name: 'sql' }], 'required')).not.toThrow();
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'custom', name: 'f' }))).toMatchObject({ status: 400, param: 'tool_choice.name', code: 'tool_not_found', message: expect.stringContaining('(custom tools: sql)') });
    expect(refusal(() => checkToolChoiceNames(tools, { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'custom', name: 'sql' }, { type: 'custom', name: 'nope' }] }))).toMatchObject({ param: 'tool_choice.tools[1].name' });
  });
});
