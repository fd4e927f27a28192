import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { callerTextsOf, withCallerTexts, withTextOfContent } from '../../../../lambdas/inference/chat/message-texts.js';

describe('withCallerTexts: the caller texts put back (a guardrail\'s masked texts)', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'mail a@b.co' },
    { role: 'user', content: [{ type: 'text', text: 'one ' }, image, { type: 'text', text: 'two a@b.co' }] },
    { role: 'assistant', content: 'ok', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"to":"a@b.co"}' } }] },
    { role: 'tool', tool_call_id: 't', content: [{ type: 'text', text: 'sent to a@b.co' }] },
  ];
  const roles: Array<ChatCompletionMessageParam['role']> = ['user', 'tool', 'function'];

  it('replaces each text in place, in callerTextsOf\'s order; several text parts become the first, other parts kept; the rest untouched', () => {
    const texts = callerTextsOf(messages, roles);
    expect(texts).toEqual(['mail a@b.co', 'one two a@b.co', 'sent to a@b.co']);
    const out = withCallerTexts(messages, texts.map((t) => t.replaceAll('a@b.co', '{EMAIL}')), roles);
    expect(out.replaced).toBe(3);
    expect(out.messages).toEqual([
      messages[0],
      { role: 'user', content: 'mail {EMAIL}' },
      { role: 'user', content: [{ type: 'text', text: 'one two {EMAIL}' }, image] },
      messages[3],
      { role: 'tool', tool_call_id: 't', content: [{ type: 'text', text: 'sent to {EMAIL}' }] },
    ]);
    expect(out.messages[3]).toBe(messages[3]);
    expect(messages[1]).toEqual({ role: 'user', content: 'mail a@b.co' }); // the caller's list is not changed
  });

  it('leaves a message whose text did not change the same object, and covers an assistant\'s texts when asked', () => {
    const texts = callerTextsOf(messages);
    const out = withCallerTexts(messages, texts.map((t) => (t === '{"to":"a@b.co"}' ? '{"to":"{EMAIL}"}' : t)));
    expect(out.replaced).toBe(1);
    expect(out.messages.filter((m, i) => m !== messages[i])).toEqual([{ ...messages[3], tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"to":"{EMAIL}"}' } }] }]);
    expect(() => withCallerTexts(messages, texts.slice(1))).toThrow(/texts/);
  });

  it('withTextOfContent: a string, a list of parts, and none', () => {
    expect(withTextOfContent('a', 'b')).toBe('b');
    expect(withTextOfContent(null, 'b')).toBe('b');
    expect(withTextOfContent([image], 'b')).toBe('b');
    expect(withTextOfContent([image, { type: 'text', text: 'x' }, { type: 'text', text: 'y' }], 'b')).toEqual([image, { type: 'text', text: 'b' }]);
  });
});
