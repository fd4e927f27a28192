import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequestBody } from '../../../../lambdas/inference/chat/request-schema.js';
import type { TranslatedRequest } from '../../../../lambdas/inference/responses/chat-request.js';
import type { MessageSource } from '../../../../lambdas/inference/responses/items-to-messages.js';
import { fitToContextWindow } from '../../../../lambdas/inference/responses/truncation.js';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { clearTokenCountCaches, countPromptTokens, loadTokenizer } from '../../../../lambdas/inference/token-count.js';
import { madeUpProse } from '../../../support/made-up-prose.js';

beforeAll(async () => {
  await loadTokenizer();
});

/** A translated request: `instructions` (a leading system message) when given, then `messages`, each with a source of its own. */
function request(messages: ChatCompletionMessageParam[], options: { instructions?: string; max?: number } = {}): TranslatedRequest {
  const leading: ChatCompletionMessageParam[] = options.instructions ? [{ role: 'system', content: options.instructions }] : [];
  const all = [...leading, ...messages];
  const sources: MessageSource[] = all.map((_, i) => (i < leading.length ? { kind: 'instructions' } : { kind: 'message', path: `input[${i - leading.length}]` }));
  return { body: { model: 'm', messages: all, ...(options.max ? { max_completion_tokens: options.max } : {}) } as unknown as ChatRequestBody, leading: leading.length, sources };
}
const tokens = (messages: ChatCompletionMessageParam[]) => countPromptTokens({ model: 'm', messages });
const words = (n: number) => 'ferry '.repeat(n).trim();

describe('fitToContextWindow (truncation "auto")', () => {
  const a: ChatCompletionMessageParam = { role: 'developer', content: words(200) };
  const b: ChatCompletionMessageParam = { role: 'user', content: words(100) };
  const c: ChatCompletionMessageParam = { role: 'user', content: 'And now?' };
  const instructions = 'Answer briefly.';

  it('returns the request as it is when it fits', () => {
    const r = request([a, b, c], { instructions });
    const fitted = fitToContextWindow(r, { tokens: tokens([{ role: 'system', content: instructions }, a, b, c]) });
    expect(fitted).toMatchObject({ dropped: 0 });
    expect(fitted.translated).toBe(r);
  });

  it('drops the fewest items from the start, a developer item too (an item of the conversation), never the instructions; the sources follow', () => {
    const system: ChatCompletionMessageParam = { role: 'system', content: instructions };
    const fitted = fitToContextWindow(request([a, b, c], { instructions }), { tokens: tokens([system, b, c]) });
    expect(fitted.dropped).toBe(1);
    expect(fitted.translated.body.messages).toEqual([system, b, c]);
    expect(fitted.translated.sources).toEqual([{ kind: 'instructions' }, { kind: 'message', path: 'input[1]' }, { kind: 'message', path: 'input[2]' }]);
    // One token less: b must go too.
    expect(fitToContextWindow(request([a, b, c], { instructions }), { tokens: tokens([system, b, c]) - 1 }).translated.body.messages).toEqual([system, c]);
  });

  it('counts the tenant\'s system prompt and max_output_tokens (max_completion_tokens) in what must fit', () => {
    const window = tokens([b, c]);
    expect(fitToContextWindow(request([a, b, c]), { tokens: window }).translated.body.messages).toEqual([b, c]);
    expect(fitToContextWindow(request([a, b, c], { max: 5 }), { tokens: window }).translated.body.messages).toEqual([c]);
    expect(fitToContextWindow(request([a, b, c]), { tokens: window, systemPrompt: 'Be kind.' }).translated.body.messages).toEqual([c]);
  });

  it('drops a tool call\'s results with it (a chat upstream refuses a tool message without its call)', () => {
    const call: ChatCompletionMessageParam = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: words(150) } }] };
    const result: ChatCompletionMessageParam = { role: 'tool', tool_call_id: 'call_1', content: 'ok' };
    const fitted = fitToContextWindow(request([call, result, c]), { tokens: tokens([result, c]) });
    expect(fitted.translated.body.messages).toEqual([c]);
    expect(fitted.dropped).toBe(2);
  });

  it('keeps at least one message: when the last alone does not fit, OpenAI\'s 400 context_length_exceeded naming input', () => {
    expect(() => fitToContextWindow(request([b, a]), { tokens: tokens([a]) - 1 })).toThrow(expect.objectContaining({ status: 400, code: 'context_length_exceeded', param: 'input' }));
    // A tool result alone is no conversation: its call stays with it, or neither does.
    const call: ChatCompletionMessageParam = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    const result: ChatCompletionMessageParam = { role: 'tool', tool_call_id: 'call_1', content: words(50) };
    expect(fitToContextWindow(request([a, call, result]), { tokens: tokens([call, result]) }).translated.body.messages).toEqual([call, result]);
    expect(() => fitToContextWindow(request([a, call, result]), { tokens: tokens([call, result]) - 1 })).toThrow(expect.objectContaining({ code: 'context_length_exceeded' }));
  });
});

describe('fitToContextWindow on a request of megabytes (truncation\'s own count limits)', () => {
  /** Made-up words of random letters, `chars` long: pieces none seen before, each merged (a reservation's count merges 64 KiB of them). */
  function novel(chars: number, seed: number): string {
    let x = seed;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff);
    let s = '';
    while (s.length < chars) {
      let w = ' ';
      // The LCG's high bits: its low ones repeat in a short period, which would make the words repeat too.
      for (let i = 0, n = 5 + ((next() >>> 16) % 6); i < n; i++) w += String.fromCharCode(97 + ((next() >>> 16) % 26));
      s += w;
    }
    return s;
  }
  /** The prompt tokens of `messages` by gpt-tokenizer's own o200k count (every text in full): 3 for the reply, 3 and the role per message. */
  const exactTokens = (messages: Array<{ role: string; content: string }>) => 3 + messages.reduce((n, m) => n + 3 + countTokens(m.role) + countTokens(m.content), 0);
  // Two items of 600k characters each: 1.2 Mi characters, past a reservation's count (1 Mi characters, 64 KiB merged).
  const first = { role: 'user' as const, content: madeUpProse(600_000, 7) };
  const second = { role: 'user' as const, content: madeUpProse(600_000, 11) };
  const last = { role: 'user' as const, content: 'Summarise both.' };

  it('drops nothing when the whole input fits, counted exactly (the byte bound it fell back to dropped the first long item)', () => {
    const window = exactTokens([first, second, last]);
    // The exact count is well under the byte bound the reservation's count gives such text.
    expect(window).toBeLessThan((first.content.length + second.content.length) / 2);
    const fitted = fitToContextWindow(request([first, second, last]), { tokens: window });
    expect(fitted.dropped).toBe(0);
    expect(fitted.inputTokens).toBe(window);
  });

  it('drops only the first item when the rest fits, even after a reservation\'s count cached its byte bound', () => {
    // The reservation's count of the same texts ran first: its 64 KiB of merges ran out within `unseen`, whose bound it cached.
    clearTokenCountCaches();
    const unseen = { role: 'user' as const, content: novel(300_000, 13) };
    expect(countPromptTokens({ model: 'm', messages: [first, unseen, last] })).toBeGreaterThan(exactTokens([first, unseen, last]));
    const window = exactTokens([unseen, last]);
    const fitted = fitToContextWindow(request([first, unseen, last]), { tokens: window });
    expect(fitted.translated.body.messages).toEqual([unseen, last]);
    expect(fitted).toMatchObject({ dropped: 1, inputTokens: window });
  });
});
