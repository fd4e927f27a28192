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

  it('reads and puts back a custom tool call\'s input (free text) as a call\'s arguments: the audit\'s prompt text has it', () => {
    const withCustom: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'mail her' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'shell', input: 'mail a@b.co' } }, { id: 'f', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'sent' },
    ];
    const texts = callerTextsOf(withCustom);
    expect(texts).toEqual(['mail her', 'mail a@b.co', '{}', 'sent']);
    const out = withCallerTexts(withCustom, texts.map((t) => t.replaceAll('a@b.co', '{EMAIL}')));
    expect(out.replaced).toBe(1);
    expect(out.messages[1]).toEqual({ ...withCustom[1], tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'shell', input: 'mail {EMAIL}' } }, { id: 'f', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  });

  it('withTextOfContent: a string, a list of parts, and none', () => {
    expect(withTextOfContent('a', 'b')).toBe('b');
    expect(withTextOfContent(null, 'b')).toBe('b');
    expect(withTextOfContent([image], 'b')).toBe('b');
    expect(withTextOfContent([image, { type: 'text', text: 'x' }, { type: 'text', text: 'y' }], 'b')).toEqual([image, { type: 'text', text: 'b' }]);
  });

  it('with files: each text file\'s decoded text after its message\'s content text, in part order, put back encoded as it came', () => {
    const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
    const url = (t: string) => `data:text/csv;charset=utf-8;base64,${b64(t)}`;
    const pdf = { type: 'file' as const, file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } };
    const withFiles: ChatCompletionMessageParam[] = [
      { role: 'user', content: [{ type: 'file', file: { filename: 'a.csv', file_data: url('x,a@b.co') } }, { type: 'text', text: 'see ' }, pdf, { type: 'text', text: 'both' }, { type: 'file', file: { filename: 'b.md', file_data: b64('ok') } }] },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: [{ type: 'file', file: { filename: 'empty.txt', file_data: '' } }, { type: 'file', file: { filename: 'c.txt', file_data: b64('c a@b.co') } }] },
    ];
    const roles: Array<ChatCompletionMessageParam['role']> = ['user'];
    expect(callerTextsOf(withFiles, roles)).toEqual(['see both']);
    expect(callerTextsOf(withFiles, roles, { files: true })).toEqual(['see both', 'x,a@b.co', 'ok', 'c a@b.co']);
    const out = withCallerTexts(withFiles, ['SEE both', 'x,{EMAIL}', 'ok', 'c {EMAIL}'], roles, { files: true });
    expect(out.replaced).toBe(3);
    expect(out.messages[0].content).toEqual([{ type: 'file', file: { filename: 'a.csv', file_data: url('x,{EMAIL}') } }, { type: 'text', text: 'SEE both' }, pdf, { type: 'file', file: { filename: 'b.md', file_data: b64('ok') } }]);
    expect(out.messages[1]).toBe(withFiles[1]);
    expect(out.messages[2].content).toEqual([{ type: 'file', file: { filename: 'empty.txt', file_data: '' } }, { type: 'file', file: { filename: 'c.txt', file_data: b64('c {EMAIL}') } }]);
    // A file alone changed: the content text stays as it was (its parts not merged).
    const fileOnly = withCallerTexts(withFiles, ['see both', 'x,{EMAIL}', 'ok', 'c a@b.co'], roles, { files: true });
    expect((fileOnly.messages[0].content as Array<{ type: string }>).map((p) => p.type)).toEqual(['file', 'text', 'file', 'text', 'file']);
    expect(fileOnly.messages[2]).toBe(withFiles[2]);
    expect(() => withCallerTexts(withFiles, ['see both', 'x', 'ok'], roles, { files: true })).toThrow(/3 texts/);
  });
});
