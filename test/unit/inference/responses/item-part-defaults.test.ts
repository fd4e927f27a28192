import { describe, expect, it } from 'vitest';
import { withPartDefaults } from '../../../../lambdas/inference/responses/item-part-defaults.js';

/**
 * A message's parts sent without a field OpenAI's answer types require (ResponseInputImage.detail,
 * ResponseOutputText.annotations) are answered with its default; what the caller gave, and every other item, as it is.
 */
describe('withPartDefaults', () => {
  it("fills an input_image's detail with 'auto' and an output_text's annotations with [], leaving given values and other parts alone", () => {
    const user = { id: 'msg_0', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What?' }, { type: 'input_image', image_url: 'https://example.com/a.png' }, { type: 'input_image', file_id: 'file-1', detail: 'low' }] };
    const assistant = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A cat.' }] };
    const [u, a] = withPartDefaults([user, assistant]);
    expect(u!.content).toEqual([{ type: 'input_text', text: 'What?' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' }, { type: 'input_image', file_id: 'file-1', detail: 'low' }]);
    expect(a!.content).toEqual([{ type: 'output_text', text: 'A cat.', annotations: [] }]);
    expect(user.content[1]).toEqual({ type: 'input_image', image_url: 'https://example.com/a.png' }); // not changed in place
  });

  it('returns items that lack nothing, and items other than messages, as the same objects', () => {
    const complete = { id: 'msg_2', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [{ type: 'url_citation', url: 'https://example.com', title: 't', start_index: 0, end_index: 2 }] }] };
    const text = { id: 'fco_0', type: 'function_call_output', call_id: 'c0', output: '4' };
    const call = { id: 'fc_1', type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' };
    const items = [complete, text, call];
    const shown = withPartDefaults(items);
    items.forEach((item, i) => expect(shown[i]).toBe(item));
  });

  it("a function_call_output's listed image gets detail 'auto' too (ResponseFunctionToolCallOutputItem.output's ResponseInputImage)", () => {
    const output = { id: 'fco_1', type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'chart:' }, { type: 'input_image', image_url: 'https://example.com/b.png' }] };
    expect(withPartDefaults([output])[0]!.output).toEqual([{ type: 'input_text', text: 'chart:' }, { type: 'input_image', image_url: 'https://example.com/b.png', detail: 'auto' }]);
  });
});
