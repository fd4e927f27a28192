import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { beforeAll, describe, expect, it } from 'vitest';
import { capAnswer, deltaText, OutputLimiter, outputLimitOf, prefixWithin, ToolCallsOverLimit } from '../../../../lambdas/inference/chat/output-limit.js';
import { countCompletionTokens, loadTokenizer } from '../../../../lambdas/inference/token-count.js';

beforeAll(async () => void (await loadTokenizer()));

const chunk = (index: number, content: string, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta: { content }, finish_reason: finish, logprobs: null }] });
const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ` w${from + i}`).join('');

describe('outputLimitOf', () => {
  it('is the lowest limit sent, never above the reservation per choice', () => {
    expect(outputLimitOf({ max_tokens: 50, max_completion_tokens: 30 }, 100)).toBe(30);
    expect(outputLimitOf({ max_completion_tokens: 500 }, 100)).toBe(100);
    expect(outputLimitOf({}, 4096)).toBe(4096);
    expect(outputLimitOf({ max_tokens: null }, 64)).toBe(64);
  });
});

describe('OutputLimiter', () => {
  it('passes chunks within the limit as they are, cuts the one that passes it and ends its choice with length', () => {
    const limiter = new OutputLimiter(20, 1);
    const first = chunk(0, words(5));
    expect(limiter.pass(first)).toEqual(first);
    const crossing = limiter.pass(chunk(0, words(40, 5)))!;
    expect(crossing.choices[0].finish_reason).toBe('length');
    expect(countCompletionTokens(words(5) + crossing.choices[0].delta.content!)).toBeLessThanOrEqual(20);
    expect(countCompletionTokens(words(5) + crossing.choices[0].delta.content!)).toBeGreaterThanOrEqual(18);
    expect(limiter.over).toBe(true);
    expect(limiter.pass(chunk(0, ' more'))).toBeUndefined();
    expect(limiter.dropped.endsWith(' more')).toBe(true);
  });

  it('counts legacy function_call fragments toward the limit and leaves the fragment that passes it out (finish_reason length)', () => {
    const limiter = new OutputLimiter(20, 1);
    const fn = (args: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { function_call: { arguments: args } }, finish_reason: null, logprobs: null }] });
    expect(limiter.pass(fn('{"a":1}'))!.choices[0].delta.function_call).toEqual({ arguments: '{"a":1}' });
    const crossing = limiter.pass(fn(words(40)))!;
    expect(crossing.choices[0]).toMatchObject({ finish_reason: 'length', delta: {} });
    expect(crossing.choices[0].delta.function_call).toBeUndefined();
    expect(limiter.over).toBe(true);
  });

  it('with n choices, ends only the one over the limit and says over once every choice has ended', () => {
    const limiter = new OutputLimiter(10, 2);
    const out = limiter.pass({ ...chunk(0, words(30)), choices: [chunk(0, words(30)).choices[0], chunk(1, ' short').choices[0]] })!;
    expect(out.choices.map((c) => c.finish_reason)).toEqual(['length', null]);
    expect(limiter.over).toBe(false);
    expect(limiter.pass(chunk(1, '', 'stop'))!.choices[0].finish_reason).toBe('stop');
    expect(limiter.over).toBe(true);
  });

  it('says over once more than the whole request\'s limit (at least 1,024 tokens) was dropped, and closing ends the choices still open with length', () => {
    const limiter = new OutputLimiter(10, 2);
    limiter.pass({ ...chunk(0, words(30)), choices: [chunk(0, words(30)).choices[0], chunk(1, ' short').choices[0]] });
    expect(limiter.over).toBe(false); // choice 1 is still answering within its limit
    for (let i = 0; i < 40 && !limiter.over; i++) limiter.pass(chunk(0, words(20, 100 + 20 * i)));
    expect(limiter.over).toBe(true); // choice 0 runs on past 1,024 dropped tokens
    const closing = limiter.closing(chunk(0, ''))!;
    expect(closing.choices).toEqual([{ index: 1, delta: {}, finish_reason: 'length', logprobs: null }]);
    expect(limiter.closing(chunk(0, ''))).toBeUndefined();
  });

  it('does not end the other choices for one large chunk of one choice (n = 3): they finish as the upstream finishes them', () => {
    const limiter = new OutputLimiter(100, 3);
    const first: ChatCompletionChunk = { ...chunk(0, ''), choices: [chunk(0, words(1500)).choices[0], chunk(1, ' hello').choices[0], chunk(2, ' hi').choices[0]] };
    expect(limiter.pass(first)!.choices.map((c) => c.finish_reason)).toEqual(['length', null, null]);
    expect(limiter.over).toBe(false);
    expect(limiter.pass(chunk(1, '', 'stop'))!.choices[0].finish_reason).toBe('stop');
    expect(limiter.pass(chunk(2, '', 'stop'))!.choices[0].finish_reason).toBe('stop');
    expect(limiter.over).toBe(true);
  });

  it('drops a chunk whose every choice is past the limit, usage and all (the stream keeps the usage for billing; no usage chunk mid-stream)', () => {
    const limiter = new OutputLimiter(10, 1);
    limiter.pass(chunk(0, words(30)));
    expect(limiter.pass({ ...chunk(0, ' more'), usage: { prompt_tokens: 1, completion_tokens: 40, total_tokens: 41 } })).toBeUndefined();
  });

  it('counts an audio answer\'s transcript toward the limit, and the chunk that passes it carries no audio (finish_reason length)', () => {
    const limiter = new OutputLimiter(20, 1);
    const spoken = (transcript: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { audio: { data: 'AAAA'.repeat(2_500), transcript } } as ChatCompletionChunk.Choice['delta'], finish_reason: null, logprobs: null }] });
    expect(limiter.pass(spoken(words(5)))!.choices[0].finish_reason).toBeNull();
    const crossing = limiter.pass(spoken(words(40, 5)))!;
    expect(crossing.choices[0].finish_reason).toBe('length');
    expect((crossing.choices[0].delta as { audio?: unknown }).audio).toBeUndefined();
    expect(limiter.pass(spoken(' more'))).toBeUndefined();
  });

  it('counts streamed reasoning (reasoning_content, reasoning) toward the limit', () => {
    const limiter = new OutputLimiter(10, 1);
    const thinking = (text: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { reasoning_content: text } as ChatCompletionChunk.Choice['delta'], finish_reason: null, logprobs: null }] });
    expect(limiter.pass(thinking(words(3)))!.choices[0].finish_reason).toBeNull();
    expect(limiter.pass(thinking(words(30, 3)))!.choices[0].finish_reason).toBe('length');
  });

  it('cuts the reasoning of the delta that passes the limit (both names alike) and counts what it dropped once', () => {
    const limiter = new OutputLimiter(10, 1);
    const thinking = (delta: Record<string, string>): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: delta as ChatCompletionChunk.Choice['delta'], finish_reason: null, logprobs: null }] });
    expect(limiter.pass(thinking({ reasoning_content: words(3) }))).toBeDefined();
    const long = words(60, 3);
    const crossing = limiter.pass(thinking({ reasoning_content: long, reasoning: long, content: ' answer' }))!;
    const delta = crossing.choices[0].delta as Record<string, string>;
    expect(crossing.choices[0].finish_reason).toBe('length');
    expect(delta.reasoning).toBe(delta.reasoning_content);
    expect(long.startsWith(delta.reasoning_content)).toBe(true);
    expect(countCompletionTokens(words(3) + delta.reasoning_content)).toBeLessThanOrEqual(10);
    expect(delta.content).toBeUndefined();
    // Relayed + dropped is what the upstream said, once: the usage estimate counts the relayed text beside `dropped`.
    expect(limiter.dropped).toBe(' answer' + long.slice(delta.reasoning_content.length));
  });

  it('never cuts an answer that ends within its limit', () => {
    const limiter = new OutputLimiter(1000, 1);
    for (let i = 0; i < 100; i++) expect(limiter.pass(chunk(0, ` w${i}`))!.choices[0].finish_reason).toBeNull();
    expect(limiter.pass(chunk(0, '', 'stop'))!.choices[0].finish_reason).toBe('stop');
    expect(limiter.cut.size).toBe(0);
  });
});

describe('capAnswer and prefixWithin', () => {
  const answer = (message: ChatCompletion.Choice['message']): ChatCompletion => ({ id: 'a', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: 'stop', logprobs: null }] });

  it('cuts each choice\'s content to the limit with finish_reason length, whole code points', () => {
    const { answer: out, cut } = capAnswer(answer({ role: 'assistant', content: words(100), refusal: null }), 12);
    expect(cut).toBe(true);
    expect(out.choices[0].finish_reason).toBe('length');
    expect(countCompletionTokens(out.choices[0].message.content!)).toBeLessThanOrEqual(12);
    expect(prefixWithin('😀😀😀😀', 2)).not.toMatch(/[\ud800-\udbff]$/);
  });

  it('leaves an answer within the limit as it is, and refuses tool calls over it', () => {
    const within = answer({ role: 'assistant', content: 'short', refusal: null });
    expect(capAnswer(within, 12).answer).toBe(within);
    expect(() => capAnswer(answer({ role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: JSON.stringify({ t: words(100) }) } }] }), 12)).toThrow(ToolCallsOverLimit);
  });

  it('counts a reasoning model\'s thinking (reasoning_content / reasoning) and cuts it, then the content, to the limit', () => {
    const thought = words(100);
    const { answer: out, cut, largest } = capAnswer(answer({ role: 'assistant', content: 'The answer.', refusal: null, reasoning_content: thought, reasoning: thought } as never), 12);
    expect(cut).toBe(true);
    expect(largest).toBe(countCompletionTokens(thought + 'The answer.'));
    const m = out.choices[0].message as unknown as Record<string, string>;
    expect(out.choices[0].finish_reason).toBe('length');
    expect(thought.startsWith(m.reasoning_content)).toBe(true);
    expect(m.reasoning).toBe(m.reasoning_content);
    expect(countCompletionTokens(m.reasoning_content + m.content)).toBeLessThanOrEqual(12);
    expect(m.content).toBe('');
  });

  it('counts a legacy function_call (an upstream asked with `functions`) and refuses one over the limit, as tool calls', () => {
    expect(() => capAnswer(answer({ role: 'assistant', content: null, refusal: null, function_call: { name: 'f', arguments: JSON.stringify({ t: words(100) }) } }), 12)).toThrow(ToolCallsOverLimit);
    const within = answer({ role: 'assistant', content: null, refusal: null, function_call: { name: 'f', arguments: '{}' } });
    expect(capAnswer(within, 12)).toMatchObject({ answer: within, cut: false, largest: countCompletionTokens('f{}') });
  });
});

describe('a custom tool call\'s input (chat `{type: "custom", custom: {name, input}}`) is output, counted as a function\'s arguments are', () => {
  const custom = (input: string) => ({ id: 'c', type: 'custom' as const, custom: { name: 'shell', input } });
  const answerOf = (message: ChatCompletion.Choice['message']): ChatCompletion => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: 'tool_calls', logprobs: null }] });

  it('capAnswer refuses a custom call over the limit (an upstream that ignored it) and counts one within it', () => {
    expect(() => capAnswer(answerOf({ role: 'assistant', content: null, refusal: null, tool_calls: [custom(words(100))] }), 12)).toThrow(ToolCallsOverLimit);
    const within = answerOf({ role: 'assistant', content: null, refusal: null, tool_calls: [custom('ls -la')] });
    expect(capAnswer(within, 12)).toMatchObject({ answer: within, cut: false, largest: countCompletionTokens('shellls -la') });
  });

  it('deltaText reads a streamed custom call\'s name and input (the usage estimate and the stream\'s limit count it)', () => {
    const delta = { tool_calls: [{ index: 0, id: 'c', type: 'custom', custom: { name: 'shell', input: 'ls -la' } }, { index: 0, custom: { input: ' /tmp' } }] } as unknown as ChatCompletionChunk.Choice['delta'];
    expect(deltaText(delta)).toBe('shellls -la /tmp');
  });
});

describe('deltaText: the thinking a server sends under both names is counted once', () => {
  it('reasoning_content and reasoning with one text: once; different texts: both', () => {
    expect(deltaText({ reasoning_content: 'Let me think.', reasoning: 'Let me think.' } as never)).toBe('Let me think.');
    expect(deltaText({ content: 'Hi', reasoning_content: 'A', reasoning: 'B' } as never)).toBe('HiAB');
  });
});
