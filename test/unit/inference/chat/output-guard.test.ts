import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it, vi } from 'vitest';
import { GUARD_CONTEXT_CHARS, GUARD_WINDOW_CHARS, StreamOutputGuard } from '../../../../lambdas/inference/chat/output-guard.js';
import { logSpy } from '../../../support/service-log.js';

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
  it('checks each window of streamed reasoning with the reasoning checked before it, so an entity cut by the window boundary is judged whole', async () => {
    const { guard, sent, checks } = guarded((t) => t.includes('bob@example.com'));
    const thinking = (text: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { reasoning_content: text } as ChatCompletionChunk.Choice['delta'], finish_reason: null, logprobs: null }] });
    // A first window of thinking that ends in the middle of an address, the rest in the next window
    await guard.push(thinking(`${'x '.repeat((GUARD_WINDOW_CHARS - 6) / 2)}bob@exa`));
    expect(checks).toHaveLength(1);
    const shown = sent.length;
    await guard.push(thinking('mple.com is the user.'));
    await guard.push(chunk('The answer.', 'stop'));
    expect(await guard.end()).toBe(false);
    expect(checks[1][1]).toMatch(/bob@example\.com is the user\.$/);
    expect(guard.blocked).toBe('withheld');
    expect(sent).toHaveLength(shown); // nothing of the second window went out
  });

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
      // The text after the call waits with it: checked with its arguments when the choice finishes.
      expect(checks).toEqual([['Before, mail secret.'], ['Before, mail {S}. After, mail secret.', '{}']]);
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

  describe('a streamed tool call or refusal is held until its choice finishes, then checked whole', () => {
    const EMAIL = /[a-z]+@[a-z]+\.[a-z]+/g;
    /** A guardrail that masks e-mail addresses (`masker` may change the masked text), records each check. */
    function guard(verdict: (texts: string[]) => { blocked: boolean; reason?: string; masked?: string[] } = (texts) => (texts.some((t) => t.includes('@')) ? { blocked: false, masked: texts.map((t) => t.replace(EMAIL, '{EMAIL}')) } : { blocked: false })) {
      const sent: ChatCompletionChunk[] = [];
      const checks: string[][] = [];
      const g = new StreamOutputGuard(async (texts) => {
        checks.push(texts);
        return verdict(texts);
      }, (c) => void sent.push(c));
      return { guard: g, sent, checks };
    }
    type Frag = { index: number; id?: string; name?: string; args?: string };
    /** A chunk of choice `choice` carrying tool-call fragments. */
    const calls = (frags: Frag[], finish: ChatCompletionChunk.Choice['finish_reason'] = null, choice = 0, logprobs = false): ChatCompletionChunk => ({
      id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm',
      choices: [{
        index: choice,
        delta: { tool_calls: frags.map((f) => ({ index: f.index, ...(f.id ? { id: f.id, type: 'function' as const } : {}), function: { ...(f.name ? { name: f.name } : {}), arguments: f.args ?? '' } })) },
        finish_reason: finish, logprobs: logprobs ? { content: [{ token: 'x', logprob: -1, bytes: null, top_logprobs: [] }], refusal: null } : null,
      }],
    });
    const finishChunk = (finish: ChatCompletionChunk.Choice['finish_reason'], choice = 0) => chunk(undefined, finish, choice);
    /** Each call's arguments as a client assembles them (by index), and the fragments each carried. */
    const assembled = (sent: ChatCompletionChunk[], choice = 0) => {
      const args: Record<number, string> = {};
      const frags: Array<[number, string]> = [];
      for (const c of sent) for (const t of c.choices.find((x) => x.index === choice)?.delta.tool_calls ?? []) {
        args[t.index] = (args[t.index] ?? '') + (t.function?.arguments ?? '');
        frags.push([t.index, t.function?.arguments ?? '']);
      }
      return { args, frags };
    };

    it('masks the e-mail in a call\'s arguments: the masked JSON in the call\'s first fragment with arguments, "" in the later ones, logprobs null', async () => {
      const { guard: g, sent, checks } = guard();
      await g.push(chunk('', null, 0, true));
      expect(sent).toHaveLength(1);
      await g.push(calls([{ index: 0, id: 'call_1', name: 'send' }]));
      await g.push(calls([{ index: 0, args: '{"to":"bo' }], null, 0, true));
      await g.push(calls([{ index: 0, args: 'b@example.com",' }], null, 0, true));
      await g.push(calls([{ index: 0, args: '"n":1}' }]));
      expect(sent).toHaveLength(1); // the call is held until the choice finishes
      expect(checks).toEqual([]);
      await g.push(finishChunk('tool_calls'));
      expect(checks).toEqual([['{"to":"bob@example.com","n":1}']]);
      const { args, frags } = assembled(sent);
      expect(args[0]).toBe('{"to":"{EMAIL}","n":1}');
      expect(JSON.parse(args[0])).toEqual({ to: '{EMAIL}', n: 1 });
      expect(frags).toEqual([[0, ''], [0, '{"to":"{EMAIL}","n":1}'], [0, ''], [0, '']]);
      expect(sent[1].choices[0].delta.tool_calls![0]).toMatchObject({ id: 'call_1', function: { name: 'send' } });
      expect(sent.map((c) => c.choices[0].logprobs)).toEqual([null, null, null, null, null, null]);
      expect(sent.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
      expect(JSON.stringify(sent)).not.toContain('example.com');
      expect(g.masked).toBe(1);
      expect(await g.end()).toBe(true);
      expect(checks).toHaveLength(1);
    });

    it('blocks on a blocking verdict: nothing of the call goes out, the choice ends with content_filter', async () => {
      const { guard: g, sent } = guard((texts) => (texts.some((t) => t.includes('plan')) ? { blocked: true, reason: 'Denied topic.' } : { blocked: false }));
      await g.push(chunk('', null, 0, true));
      await g.push(calls([{ index: 0, id: 'call_1', name: 'f', args: '{"q":"the secret ' }]));
      await g.push(calls([{ index: 0, args: 'plan"}' }]));
      expect(await g.push(finishChunk('tool_calls'))).toBe(false);
      expect(sent).toHaveLength(1);
      expect(sent.some((c) => c.choices[0].delta.tool_calls)).toBe(false);
      expect(g.blockedChunks('id', 'm', 1)[0].choices).toEqual([{ index: 0, delta: { content: 'Denied topic.' }, finish_reason: 'content_filter', logprobs: null }]);
    });

    it('blocks (fail closed) when the masked arguments are no longer JSON', async () => {
      const { guard: g, sent } = guard((texts) => ({ blocked: false, masked: texts.map((t) => t.replace(/"[^"]*@[^"]*"/g, '{EMAIL}')) }));
      await g.push(calls([{ index: 0, id: 'call_1', name: 'f', args: '{"to":"q@example.com"}' }]));
      expect(await g.push(finishChunk('tool_calls'))).toBe(false);
      expect(sent).toEqual([]);
      expect(g.blocked).toBe("The answer was withheld by the tenant's guardrail.");
      expect(g.blockedChunks('id', 'm', 1)[0].choices[0]).toMatchObject({ delta: { role: 'assistant' }, finish_reason: 'content_filter' });
    });

    it('checks two parallel calls in one ApplyGuardrail call, each a text of its own, and masks each in its own first fragment (interleaved)', async () => {
      const { guard: g, sent, checks } = guard();
      await g.push(calls([{ index: 0, id: 'a', name: 'send', args: '{"to":' }]));
      await g.push(calls([{ index: 1, id: 'b', name: 'lookup', args: '{"q":"plain"}' }]));
      await g.push(calls([{ index: 0, args: '"ann@example.com"}' }]));
      await g.push(finishChunk('tool_calls'));
      expect(checks).toEqual([['{"to":"ann@example.com"}', '{"q":"plain"}']]);
      const { args, frags } = assembled(sent);
      expect(args).toEqual({ 0: '{"to":"{EMAIL}"}', 1: '{"q":"plain"}' });
      expect(frags).toEqual([[0, '{"to":"{EMAIL}"}'], [1, '{"q":"plain"}'], [0, '']]);
      expect(g.masked).toBe(1);
    });

    it('holds and masks a refusal, its masked text in its first delta', async () => {
      const { guard: g, sent, checks } = guard();
      const refusal = (text: string, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { refusal: text }, finish_reason: finish, logprobs: null }] });
      await g.push(chunk('', null, 0, true));
      await g.push(refusal('I cannot write to '));
      await g.push(refusal('dan@example.com.'));
      expect(sent).toHaveLength(1);
      await g.push(finishChunk('stop'));
      expect(checks).toEqual([['I cannot write to dan@example.com.']]);
      expect(sent.map((c) => c.choices[0].delta.refusal)).toEqual([undefined, 'I cannot write to {EMAIL}.', '', undefined]);
    });

    it('sends the text before a call in its window, before the call, and holds text after the call with it (order kept)', async () => {
      const { guard: g, sent, checks } = guard();
      await g.push(chunk('Writing to eve@example.com now.', null, 0, true));
      await g.push(calls([{ index: 0, id: 'a', name: 'send', args: '{"to":"eve@example.com"}' }]));
      expect(checks).toEqual([['Writing to eve@example.com now.']]); // the window ended at the call
      expect(sent.map((c) => c.choices[0].delta.content)).toEqual(['Writing to {EMAIL} now.']);
      await g.push(chunk(' Done with ', null, 0));
      await g.push(chunk('eve@example.com.', null, 0));
      expect(sent).toHaveLength(1);
      await g.push(finishChunk('tool_calls'));
      expect(checks[1]).toEqual(['Writing to {EMAIL} now. Done with eve@example.com.', '{"to":"eve@example.com"}']);
      expect(sent.map((c) => (c.choices[0].delta.tool_calls ? `call ${c.choices[0].delta.tool_calls[0].function?.arguments}` : c.choices[0].delta.content ?? c.choices[0].finish_reason))).toEqual([
        'Writing to {EMAIL} now.', 'call {"to":"{EMAIL}"}', ' Done with {EMAIL}.', '', 'tool_calls',
      ]);
      expect(g.masked).toBe(3);
    });

    it('shows each window of text after a held call masked in its own chunks, the windows checked while the call waits staying queued', async () => {
      const { guard: g, sent, checks } = guard();
      const long = `a@b.co ${'x'.repeat(GUARD_WINDOW_CHARS)}`;
      await g.push(calls([{ index: 0, id: 'a', name: 'f', args: '{}' }]));
      await g.push(chunk(long, null, 0)); // a full window after the call: checked, masked, still held
      expect(checks).toHaveLength(1);
      expect(sent).toEqual([]);
      await g.push(chunk(' then c@d.co', null, 0));
      await g.push(finishChunk('tool_calls'));
      expect(checks[1]).toEqual([`${long.replace('a@b.co', '{EMAIL}').slice(-GUARD_CONTEXT_CHARS)} then c@d.co`, '{}']);
      expect(sent.map((c) => c.choices[0].delta.content ?? (c.choices[0].delta.tool_calls ? 'call' : c.choices[0].finish_reason))).toEqual(['call', long.replace('a@b.co', '{EMAIL}'), ' then {EMAIL}', 'tool_calls']);
    });

    it('sends other choices\' checked chunks past a held call (choices are streams of their own), and checks a call cut before its finish at the end', async () => {
      const { guard: g, sent, checks } = guard();
      await g.push(calls([{ index: 0, id: 'a', name: 'send', args: '{"to":"fay@example.com"}' }], null, 0));
      await g.push(chunk('x'.repeat(GUARD_WINDOW_CHARS), null, 1, true)); // a full window of choice 1, beside the held call
      expect(checks).toEqual([['x'.repeat(GUARD_WINDOW_CHARS)]]);
      expect(sent.map((c) => c.choices[0].index)).toEqual([1]); // not behind choice 0's call
      await g.push(chunk(undefined, 'stop', 1));
      expect(sent.map((c) => [c.choices[0].index, c.choices[0].finish_reason])).toEqual([[1, null], [1, 'stop']]);
      expect(await g.end()).toBe(true);
      expect(checks[1]).toEqual(['{"to":"fay@example.com"}']);
      expect(sent.map((c) => c.choices[0].index)).toEqual([1, 1, 0]);
      expect(sent[2].choices[0].delta.tool_calls![0].function!.arguments).toBe('{"to":"{EMAIL}"}');
    });

    it('keeps a choice\'s order when a chunk carries it beside a held choice, and the usage chunk last', async () => {
      const { guard: g, sent } = guard();
      const both: ChatCompletionChunk = { ...calls([{ index: 0, id: 'a', name: 'f', args: '{}' }]), choices: [calls([{ index: 0, id: 'a', name: 'f', args: '{}' }]).choices[0], chunk('one ', null, 1, true).choices[0]] };
      await g.push(both); // choice 1's first chunk rides with choice 0's held call
      await g.push(chunk('two', 'stop', 1));
      await g.push({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });
      expect(await g.end()).toBe(true);
      expect(sent.map((c) => c.choices.map((x) => x.index).join(',') || 'usage')).toEqual(['0,1', '1', 'usage']);
    });

    describe('a streamed audio answer (modalities ["text", "audio"]): its transcript is held with its audio until the choice finishes', () => {
      const audio = (a: Record<string, unknown>, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { audio: a } as ChatCompletionChunk.Choice['delta'], finish_reason: finish, logprobs: null }] });
      const stream = [audio({ id: 'audio_1', transcript: 'Write to ' }), audio({ data: 'AAAA' }), audio({ transcript: 'gus@example.com.' }), audio({ data: 'BBBB' }), audio({ id: 'audio_1', expires_at: 9 }), finishChunk('stop')];

      it('checks the transcript whole as a text of its own, then sends the audio as it came', async () => {
        const { guard: g, sent, checks } = guard(() => ({ blocked: false }));
        await g.push(chunk('', null, 0, true));
        for (const c of stream.slice(0, -1)) await g.push(c);
        expect(sent).toHaveLength(1); // the transcript and the audio data wait
        expect(checks).toEqual([]);
        await g.push(stream.at(-1)!);
        expect(checks).toEqual([['Write to gus@example.com.']]);
        expect(sent.slice(1)).toEqual(stream);
      });

      it('blocks on a blocking verdict: no audio data goes out', async () => {
        const { guard: g, sent } = guard((texts) => (texts.some((t) => t.includes('gus@')) ? { blocked: true, reason: 'Denied.' } : { blocked: false }));
        await g.push(chunk('', null, 0, true));
        for (const c of stream) await g.push(c);
        expect(await g.end()).toBe(false);
        expect(JSON.stringify(sent)).not.toContain('AAAA');
        expect(g.blockedChunks('id', 'm', 1)[0].choices[0]).toMatchObject({ delta: { content: 'Denied.' }, finish_reason: 'content_filter' });
      });

      it('blocks (fail closed) when the guardrail masks the transcript: the audio would still say it', async () => {
        const { guard: g, sent } = guard();
        for (const c of stream) await g.push(c);
        expect(await g.end()).toBe(false);
        expect(sent).toEqual([]);
        expect(g.blocked).toBe("The answer was withheld by the tenant's guardrail.");
      });
    });

    it('sends a call whose arguments pass unchanged, at its finish, after one check', async () => {
      const { guard: g, sent, checks } = guard();
      await g.push(calls([{ index: 0, id: 'a', name: 'f', args: '{"q":' }]));
      await g.push(calls([{ index: 0, args: '"plain"}' }]));
      await g.push(finishChunk('tool_calls'));
      expect(checks).toEqual([['{"q":"plain"}']]);
      expect(assembled(sent).frags).toEqual([[0, '{"q":'], [0, '"plain"}']]); // fragments unchanged
      expect(g.masked).toBe(0);
    });

    describe('a legacy function_call (an upstream asked with the deprecated `functions`) is held and checked as a call', () => {
      /** A chunk of choice 0 carrying a `delta.function_call` fragment. */
      const fn = (f: { name?: string; arguments: string }, finish: ChatCompletionChunk.Choice['finish_reason'] = null, logprobs = false): ChatCompletionChunk => ({
        id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm',
        choices: [{ index: 0, delta: { function_call: f }, finish_reason: finish, logprobs: logprobs ? { content: [{ token: 'x', logprob: -1, bytes: null, top_logprobs: [] }], refusal: null } : null }],
      });
      const fnArgs = (sent: ChatCompletionChunk[]) => sent.map((c) => c.choices[0]?.delta.function_call?.arguments).filter((a) => a !== undefined);

      it('holds the fragments until the finish, checks the arguments whole, and shows them masked in the first fragment with arguments (still JSON)', async () => {
        const { guard: g, sent, checks } = guard();
        await g.push(chunk('', null, 0, true));
        await g.push(fn({ name: 'send', arguments: '' }));
        await g.push(fn({ arguments: '{"to":"bo' }, null, true));
        await g.push(fn({ arguments: 'b@example.com"}' }));
        expect(sent).toHaveLength(1); // held until the choice finishes
        expect(checks).toEqual([]);
        await g.push(finishChunk('function_call'));
        expect(checks).toEqual([['{"to":"bob@example.com"}']]);
        expect(fnArgs(sent)).toEqual(['', '{"to":"{EMAIL}"}', '']);
        expect(JSON.parse(fnArgs(sent).join(''))).toEqual({ to: '{EMAIL}' });
        expect(sent[1].choices[0].delta.function_call!.name).toBe('send');
        expect(sent.map((c) => c.choices[0].logprobs)).toEqual([null, null, null, null, null]);
        expect(sent.at(-1)!.choices[0].finish_reason).toBe('function_call');
        expect(JSON.stringify(sent)).not.toContain('example.com');
        expect(g.masked).toBe(1);
      });

      it('blocks on a blocking verdict: nothing of the function_call goes out', async () => {
        const { guard: g, sent } = guard((texts) => (texts.some((t) => t.includes('plan')) ? { blocked: true, reason: 'Denied topic.' } : { blocked: false }));
        await g.push(chunk('', null, 0, true));
        await g.push(fn({ name: 'f', arguments: '{"q":"the secret ' }));
        await g.push(fn({ arguments: 'plan"}' }));
        expect(await g.push(finishChunk('function_call'))).toBe(false);
        expect(sent).toHaveLength(1);
        expect(sent.some((c) => c.choices[0].delta.function_call)).toBe(false);
        expect(g.blockedChunks('id', 'm', 1)[0].choices).toEqual([{ index: 0, delta: { content: 'Denied topic.' }, finish_reason: 'content_filter', logprobs: null }]);
      });

      it('blocks (fail closed) when the masked arguments are no longer JSON', async () => {
        const { guard: g, sent } = guard((texts) => ({ blocked: false, masked: texts.map((t) => t.replace(/"[^"]*@[^"]*"/g, '{EMAIL}')) }));
        await g.push(fn({ name: 'f', arguments: '{"to":"q@example.com"}' }));
        expect(await g.push(finishChunk('function_call'))).toBe(false);
        expect(sent).toEqual([]);
        expect(g.blocked).toBe("The answer was withheld by the tenant's guardrail.");
      });

      it('sends the text before a function_call in its window, before it, and checks a function_call cut before its finish at the end', async () => {
        const { guard: g, sent, checks } = guard();
        await g.push(chunk('Mail ', null, 0, true));
        await g.push(fn({ name: 'f', arguments: '{"to":"eve@example.com"}' }));
        expect(checks).toEqual([['Mail ']]);
        expect(sent.map((c) => c.choices[0].delta.content)).toEqual(['Mail ']);
        expect(await g.end()).toBe(true);
        expect(checks[1]).toEqual(['{"to":"eve@example.com"}']);
        expect(fnArgs(sent)).toEqual(['{"to":"{EMAIL}"}']);
      });
    });
  });
});

describe('StreamOutputGuard: a long held answer', () => {
  it('queues a held choice\'s chunks without walking the queue again for each: no release while a chunk only joins held ones', async () => {
    const { guard, sent } = guarded(() => false);
    // Each release walks the whole queue: one per held chunk made a held answer quadratic (20,000 fragments: 25 s).
    const releases = vi.spyOn(guard as unknown as { release(): Promise<boolean> }, 'release');
    const frag = (args: string, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args } }] }, finish_reason: finish, logprobs: null }] });
    await guard.push({ ...frag(''), choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }, finish_reason: null, logprobs: null }] });
    for (let i = 0; i < 2_000; i++) await guard.push(frag(i === 0 ? '"' : 'a'));
    expect(sent).toHaveLength(0); // held until the choice finishes
    expect(releases.mock.calls.length).toBeLessThanOrEqual(1);
    await guard.push(frag('"', 'tool_calls'));
    expect(await guard.end()).toBe(true);
    expect(sent).toHaveLength(2_002);
  });
});

describe('StreamOutputGuard: a held choice that never ends', () => {
  it('blocks (fail closed) once a choice holds more than maxHeldChars, nothing of it sent; a choice that finishes within it passes', async () => {
    const warn = logSpy('tessera-gateway', 'warn');
    const audio = (data: string, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { audio: { data } } as ChatCompletionChunk.Choice['delta'], finish_reason: finish, logprobs: null }] });
    const sent: ChatCompletionChunk[] = [];
    const within = new StreamOutputGuard(async () => ({ blocked: false }), (c) => void sent.push(c), {}, 1_000);
    expect([await within.push(audio('A'.repeat(600))), await within.push(audio('B'.repeat(400), 'stop'))]).toEqual([true, true]);
    expect(sent).toHaveLength(2);
    sent.length = 0;
    const guard = new StreamOutputGuard(async () => ({ blocked: false }), (c) => void sent.push(c), { requestId: 'r1' }, 1_000);
    expect(await guard.push(audio('A'.repeat(600)))).toBe(true);
    expect(await guard.push(audio('B'.repeat(600)))).toBe(false);
    expect(sent).toEqual([]);
    expect(guard.blockedChunks('id', 'm', 1)[0].choices[0]).toMatchObject({ finish_reason: 'content_filter' });
    expect(warn.lines()[0]).toMatchObject({ level: 'WARN', requestId: 'r1', choice: 0 });
    warn.mockRestore();
  });
});
