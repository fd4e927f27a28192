import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { GUARD_CONTEXT_CHARS, GUARD_WINDOW_CHARS, StreamOutputGuard } from '../../../../lambdas/inference/chat/output-guard.js';

const chunk = (content: string | undefined, finish: ChatCompletionChunk.Choice['finish_reason'] = null, index = 0, role = false): ChatCompletionChunk => ({
  id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm',
  choices: [{ index, delta: { ...(role ? { role: 'assistant' as const } : {}), ...(content !== undefined ? { content } : {}) }, finish_reason: finish, logprobs: null }],
});

function guarded(block: (text: string) => boolean) {
  const sent: ChatCompletionChunk[] = [];
  const checks: string[][] = [];
  const guard = new StreamOutputGuard(async (texts) => {
    checks.push(texts);
    return texts.some(block) ? { blocked: true, reason: 'withheld' } : { blocked: false };
  }, (c) => void sent.push(c));
  return { guard, sent, checks };
}

describe('StreamOutputGuard', () => {
  it('holds text until a window is full, then releases it in order after one check', async () => {
    const { guard, sent, checks } = guarded(() => false);
    await guard.push(chunk('', null, 0, true));
    expect(sent).toHaveLength(1); // no text: out at once
    const piece = 'x'.repeat(100);
    for (let i = 0; i < Math.ceil(GUARD_WINDOW_CHARS / 100) - 1; i++) await guard.push(chunk(piece));
    expect(sent).toHaveLength(1);
    expect(checks).toEqual([]);
    await guard.push(chunk(piece));
    expect(checks).toHaveLength(1);
    expect(sent).toHaveLength(1 + Math.ceil(GUARD_WINDOW_CHARS / 100));
    const released = sent.length;
    await guard.push(chunk('tail'));
    await guard.push(chunk(undefined, 'stop'));
    expect(sent).toHaveLength(released); // the finish waits behind unchecked text
    expect(await guard.end()).toBe(true);
    expect(sent.at(-1)!.choices[0].finish_reason).toBe('stop');
    expect(checks[1][0]).toBe(`${'x'.repeat(GUARD_CONTEXT_CHARS)}tail`); // the context before the rest
  });

  it('on a block sends nothing more of the held text and ends open choices with the guardrail\'s text and content_filter', async () => {
    const { guard, sent } = guarded((t) => t.includes('bad'));
    await guard.push(chunk('fine ', null, 0, true));
    await guard.push(chunk('bad', 'stop'));
    await guard.push({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });
    expect(sent).toEqual([]);
    expect(await guard.end()).toBe(false);
    const out = guard.blockedChunks('id', 'model', 1700000000);
    expect(out[0].choices).toEqual([{ index: 0, delta: { role: 'assistant', content: 'withheld' }, finish_reason: 'content_filter', logprobs: null }]);
    expect(out[0].created).toBe(1700000000);
    expect(out[1].usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    expect(await guard.push(chunk('more'))).toBe(false);
  });

  it('checks each choice\'s text apart, and leaves a choice already finished alone on a block', async () => {
    const { guard, sent, checks } = guarded((t) => t.includes('bad'));
    await guard.push(chunk('one', 'stop', 0, true));
    await guard.push(chunk('x'.repeat(GUARD_WINDOW_CHARS), null, 1, true));
    expect(checks).toEqual([['one', 'x'.repeat(GUARD_WINDOW_CHARS)]]);
    expect(sent).toHaveLength(2);
    await guard.push(chunk(' bad', 'stop', 1));
    expect(await guard.end()).toBe(false);
    expect(guard.blockedChunks('id', 'm', 1700000000)[0].choices.map((c) => [c.index, c.finish_reason, c.delta.role])).toEqual([[1, 'content_filter', undefined]]);
  });

  describe('with a guardrail that masks (ANONYMIZE)', () => {
    /** Masks `secret` as `{S}` in every text; a verdict with one masked text per text checked. */
    function masking() {
      const sent: ChatCompletionChunk[] = [];
      const checks: string[][] = [];
      const guard = new StreamOutputGuard(async (texts) => {
        checks.push(texts);
        return texts.some((t) => t.includes('secret')) ? { blocked: false, masked: texts.map((t) => t.replaceAll('secret', '{S}')) } : { blocked: false };
      }, (c) => void sent.push(c));
      return { guard, sent, checks };
    }

    it('puts each choice\'s masked window in its first queued chunk, empties the later ones (kept, with their finish reason), and keeps the masked text as the next context', async () => {
      const { guard, sent, checks } = masking();
      await guard.push(chunk('a se', null, 0, true));
      await guard.push(chunk('cret b', null, 0));
      await guard.push(chunk('plain', null, 1, true));
      await guard.push(chunk(' c', 'stop', 0));
      await guard.push(chunk('secret'.repeat(GUARD_WINDOW_CHARS / 6), null, 1));
      expect(checks[0]).toEqual(['a secret b c', `plain${'secret'.repeat(GUARD_WINDOW_CHARS / 6)}`]);
      expect(sent.map((c) => [c.choices[0].index, c.choices[0].delta.content, c.choices[0].finish_reason])).toEqual([
        [0, 'a {S} b c', null], [0, '', null], [1, `plain${'{S}'.repeat(GUARD_WINDOW_CHARS / 6)}`, null], [0, '', 'stop'], [1, '', null],
      ]);
      expect(sent[0].choices[0].delta.role).toBe('assistant');
      expect(guard.masked).toBe(2);
      await guard.push(chunk(' end', 'stop', 1));
      expect(await guard.end()).toBe(true);
      expect(checks[1]).toEqual([`${`plain${'{S}'.repeat(GUARD_WINDOW_CHARS / 6)}`.slice(-GUARD_CONTEXT_CHARS)} end`]);
      expect(sent.at(-1)!.choices[0]).toMatchObject({ index: 1, delta: { content: ' end' }, finish_reason: 'stop' });
    });

    it('ends a window where a tool call follows a choice\'s text: the masked text stays before the call, the text after it after it', async () => {
      const { guard, sent, checks } = masking();
      const call = (id: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: null, logprobs: null }] });
      await guard.push(chunk('Before, mail ', null, 0, true));
      await guard.push(chunk('secret.', null, 0));
      await guard.push(call('call_1'));
      await guard.push(chunk(' After, mail secret.', null, 0));
      await guard.push(chunk(undefined, 'tool_calls', 0));
      expect(await guard.end()).toBe(true);
      expect(checks).toEqual([['Before, mail secret.'], ['Before, mail {S}. After, mail secret.']]);
      expect(sent.map((c) => c.choices[0].delta.tool_calls ? 'call' : c.choices[0].delta.content ?? c.choices[0].finish_reason)).toEqual(['Before, mail {S}.', '', 'call', ' After, mail {S}.', 'tool_calls']);
    });

    it('blocks (fail closed) when the masked text no longer starts with the context already shown', async () => {
      const { guard, sent } = masking();
      await guard.push(chunk(`${'x'.repeat(GUARD_WINDOW_CHARS - 3)}sec`, null, 0, true));
      expect(sent).toHaveLength(1); // `sec` passed: nothing to mask yet
      await guard.push(chunk('ret and more', 'stop'));
      expect(await guard.end()).toBe(false);
      expect(sent).toHaveLength(1);
      expect(guard.blockedChunks('id', 'm', 1)[0].choices[0]).toMatchObject({ delta: { content: "The answer was withheld by the tenant's guardrail." }, finish_reason: 'content_filter' });
    });
  });

  it('nulls the logprobs of a masked window\'s chunks of that choice, and keeps those of a window that passed and of other choices', async () => {
    const sent: ChatCompletionChunk[] = [];
    const guard = new StreamOutputGuard(async (texts) => (texts.some((t) => t.includes('@')) ? { blocked: false, masked: texts.map((t) => t.replace(/\S+@\S+/g, '{EMAIL}')) } : { blocked: false }), (c) => void sent.push(c));
    const lp = (token: string) => ({ content: [{ token, logprob: -1, bytes: null, top_logprobs: [] }], refusal: null });
    const withLp = (c: ChatCompletionChunk, token: string) => ({ ...c, choices: c.choices.map((x) => ({ ...x, logprobs: lp(token) })) });
    await guard.push(withLp(chunk('plain ', null, 1), 'plain '));
    await guard.push(withLp(chunk('mail a@b.co '), 'mail a@b.co '));
    await guard.push(withLp(chunk(''), ''));
    await guard.push(withLp(chunk(undefined, 'stop'), ''));
    await guard.end();
    expect(sent.map((c) => [c.choices[0].index, c.choices[0].delta.content, c.choices[0].logprobs?.content?.[0].token ?? null])).toEqual([
      [1, 'plain ', 'plain '], [0, 'mail {EMAIL} ', null], [0, '', null], [0, undefined, null],
    ]);
    expect(JSON.stringify(sent)).not.toContain('a@b.co');
  });
});
