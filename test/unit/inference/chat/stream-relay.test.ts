import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { StreamRelay } from '../../../../lambdas/inference/chat/stream-relay.js';

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'default', choices, ...extra }) as ChatCompletionChunk;
const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, prompt_tokens_details: { cached_tokens: 3 } };
const relay = (extra: Partial<ConstructorParameters<typeof StreamRelay>[0]> = {}) => new StreamRelay({ id: 'chatcmpl-gw', model: 'openai-compatible/default', includeUsage: false, redactAnswers: false, ...extra });

describe('relaying an upstream stream to the caller', () => {
  it('gives every chunk the stream\'s one created (the first chunk\'s; now when the upstream sent none or not a whole number)', () => {
    const stamped = relay();
    expect([100, 101, 102].map((created) => stamped.relay(chunk([{ index: 0, delta: { content: 'x' }, finish_reason: null }], { created }))!.created)).toEqual([100, 100, 100]);
    expect(stamped.created).toBe(100);
    for (const created of [undefined, '100', -1, 1.5]) {
      const r = relay();
      const before = Math.floor(Date.now() / 1000);
      const out = [r.relay(chunk([{ index: 0, delta: { content: 'x' }, finish_reason: null }], { created }))!, r.relay(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { created: 7 }))!];
      expect(typeof out[0].created).toBe('number');
      expect(out[0].created).toBeGreaterThanOrEqual(before);
      expect(out[1].created).toBe(out[0].created);
    }
  });

  it('puts the gateway\'s id and model on each chunk and keeps everything else', () => {
    const up = chunk([{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }, finish_reason: null, logprobs: { content: [] } }], { system_fingerprint: 'fp_1' });
    expect(relay().relay(up)).toEqual({ ...up, id: 'chatcmpl-gw', model: 'openai-compatible/default' });
  });

  it('gives each choice\'s first delta role "assistant" when the upstream left it out (the openai SDK\'s stream helper needs it), and only the first', () => {
    const r = relay();
    const first = r.relay(chunk([{ index: 0, delta: { content: 'echo: ' }, finish_reason: null }, { index: 1, delta: { role: 'assistant', content: 'b' }, finish_reason: null }]))!;
    expect(first.choices.map((c) => c.delta)).toEqual([{ role: 'assistant', content: 'echo: ' }, { role: 'assistant', content: 'b' }]);
    expect(r.relay(chunk([{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }]))!.choices[0].delta).toEqual({ content: 'hi' });
  });

  it('drops the usage chunk and the usage field unless the caller asked, but keeps the usage for metering', () => {
    const r = relay();
    expect(r.relay(chunk([{ index: 0, delta: { content: 'x' }, finish_reason: null }], { usage: null }))).not.toHaveProperty('usage');
    expect(r.relay(chunk([], { usage }))).toBeUndefined();
    expect(r.usage).toEqual(usage);
    const asked = relay({ includeUsage: true });
    expect(asked.relay(chunk([], { usage }))).toMatchObject({ choices: [], usage });
  });

  it('drops chunks with empty choices that carry no usage (e.g. a prompt-filter preamble)', () => {
    expect(relay({ includeUsage: true }).relay(chunk([], { prompt_filter_results: [] }))).toBeUndefined();
  });

  it('normalises finish reasons', () => {
    expect(relay().relay(chunk([{ index: 0, delta: {}, finish_reason: 'eos_token' }]))!.choices[0].finish_reason).toBe('stop');
  });

  it('redacts each choice on its own, releasing held text with the choice\'s finish', () => {
    const r = relay({ redactAnswers: true });
    const out = [
      r.relay(chunk([{ index: 0, delta: { content: 'mail jane.doe@exa' }, finish_reason: null }, { index: 1, delta: { content: 'call 555-' }, finish_reason: null }])),
      r.relay(chunk([{ index: 0, delta: { content: 'mple.com now' }, finish_reason: 'stop' }, { index: 1, delta: { content: '867-5309' }, finish_reason: 'length' }])),
    ];
    const text = (i: number) => out.map((c) => c!.choices.find((x) => x.index === i)?.delta.content ?? '').join('');
    expect(text(0)).toBe('mail [EMAIL] now');
    expect(text(1)).toBe('call [PHONE]');
    expect(r.piiFound.sort()).toEqual(['EMAIL', 'PHONE']);
  });

  it('counts what the answer produced, tool arguments included, for an estimate', () => {
    const r = relay();
    r.relay(chunk([{ index: 0, delta: { content: 'ab', tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] }, finish_reason: null }]));
    expect(r.produced).toBe('abf{}');
  });

  it('counts a legacy function_call\'s name and arguments as produced, for an estimate', () => {
    const r = relay();
    r.relay(chunk([{ index: 0, delta: { function_call: { name: 'f', arguments: '{"a"' } }, finish_reason: null }]));
    r.relay(chunk([{ index: 0, delta: { function_call: { arguments: ':1}' } }, finish_reason: 'function_call' }]));
    expect(r.produced).toBe('f{"a":1}');
  });
});

describe('logprobs under redactResponses', () => {
  it('are null on every chunk of a redacted stream (the redactor holds text across chunks), and kept without redaction', () => {
    const lp = (token: string) => ({ content: [{ token, logprob: -1, bytes: null, top_logprobs: [] }], refusal: null });
    const up = [chunk([{ index: 0, delta: { content: 'mail a@exa' }, finish_reason: null, logprobs: lp('mail a@exa') }]), chunk([{ index: 0, delta: { content: 'mple.com' }, finish_reason: 'stop', logprobs: lp('mple.com') }])];
    const r = relay({ redactAnswers: true });
    const out = up.map((c) => r.relay(c)!);
    expect(out.map((c) => c.choices[0].delta.content).join('')).toBe('mail [EMAIL]');
    expect(out.map((c) => c.choices[0].logprobs)).toEqual([null, null]);
    expect(relay().relay(up[0])!.choices[0].logprobs).toEqual(lp('mail a@exa'));
  });
});

describe('tool calls, refusal and audio transcript under redactResponses', () => {
  const call = (frags: Array<Record<string, unknown>>, finish: string | null = null, index = 0, extra: Record<string, unknown> = {}) => chunk([{ index, delta: { ...extra, tool_calls: frags }, finish_reason: finish }]);

  it('holds a choice\'s tool-call fragments until it finishes, then sends each call whole with its arguments redacted inside the JSON (still JSON)', () => {
    const r = relay({ redactAnswers: true });
    const up = [
      call([{ index: 0, id: 'call_1', type: 'function', function: { name: 'send', arguments: '' } }], null, 0, { role: 'assistant', content: null }),
      call([{ index: 0, function: { arguments: '{"to":"jo' } }]),
      call([{ index: 0, function: { arguments: 'e@example.com"}' } }]),
      call([{ index: 1, id: 'call_2', type: 'function', function: { name: 'f', arguments: '{"n":4111111111111111}' } }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
    ];
    const out = up.map((c) => r.relay(c));
    expect(out[0]!.choices[0].delta).toEqual({ role: 'assistant', content: null }); // the role goes out, the fragment is held
    expect(out.slice(1, 4)).toEqual([undefined, undefined, undefined]); // nothing but held fragments: not sent
    const calls = out[4]!.choices[0].delta.tool_calls!;
    expect(out[4]!.choices[0].finish_reason).toBe('tool_calls');
    expect(calls.map((t) => [t.index, t.id, t.type, t.function?.name])).toEqual([[0, 'call_1', 'function', 'send'], [1, 'call_2', 'function', 'f']]);
    expect(calls[0].function!.arguments).toBe('{"to":"[EMAIL]"}');
    expect(calls[1].function!.arguments).toBe('{"n":"[CREDIT_CARD]"}');
    expect(JSON.parse(calls[1].function!.arguments!)).toEqual({ n: '[CREDIT_CARD]' });
    expect(JSON.stringify(out)).not.toContain('example.com');
    expect(r.piiFound.sort()).toEqual(['CREDIT_CARD', 'EMAIL']);
  });

  // Review: a custom tool's call was held as its last fragment (each fragment's `custom` replaced the one held: the
  // input before it was lost) and its input was sent unredacted; a whole answer's custom input is redacted (caller-texts.ts).
  it('holds a custom tool\'s call as the SDK assembles it (its input appended, the name once) and sends its input redacted, as free text', () => {
    const r = relay({ redactAnswers: true });
    const out = [
      call([{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'send_note', input: 'write to jo' } }]),
      call([{ index: 0, custom: { name: 'send_note', input: 'e@example.com today' } }]),
      call([{ index: 0, custom: { input: ', ok' } }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
    ].map((c) => r.relay(c));
    expect(out.slice(0, 3).map((c) => c?.choices[0]?.delta.tool_calls)).toEqual([undefined, undefined, undefined]);
    expect(out[3]!.choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'send_note', input: 'write to [EMAIL] today, ok' } }]);
    expect(r.piiFound).toEqual(['EMAIL']);
  });

  it('finds a pattern split across fragments; drops calls held when the upstream ended without a finish (drain: cut off, incomplete)', () => {
    const whole = relay({ redactAnswers: true });
    whole.relay(call([{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"ip":"10.0.' } }]));
    whole.relay(call([{ index: 0, function: { arguments: '0.12"}' } }]));
    const finished = whole.relay(chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));
    expect(finished!.choices[0].delta.tool_calls?.[0].function?.arguments).toBe('{"ip":"[IPV4]"}');
    const cut = relay({ redactAnswers: true });
    cut.relay(call([{ index: 0, id: 'a', type: 'function', function: { name: 'send', arguments: '{"to":"x' } }]));
    expect(cut.drain()).toEqual([]);
  });

  it('holds a legacy function_call\'s fragments (an upstream asked with `functions`) until the choice finishes, then sends it whole, its arguments redacted inside the JSON', () => {
    const r = relay({ redactAnswers: true });
    const fn = (f: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => chunk([{ index: 0, delta: { ...extra, function_call: f }, finish_reason: finish }]);
    const out = [
      fn({ name: 'send', arguments: '' }, null, { role: 'assistant', content: null }),
      fn({ arguments: '{"to":"jo' }),
      fn({ arguments: 'e@example.com","n":4111111111111111}' }),
      chunk([{ index: 0, delta: {}, finish_reason: 'function_call' }]),
    ].map((c) => r.relay(c));
    expect(out[0]!.choices[0].delta).toEqual({ role: 'assistant', content: null }); // the role goes out, the fragment is held
    expect(out.slice(1, 3)).toEqual([undefined, undefined]);
    expect(out[3]!.choices[0]).toMatchObject({ finish_reason: 'function_call', delta: { function_call: { name: 'send', arguments: '{"to":"[EMAIL]","n":"[CREDIT_CARD]"}' } } });
    expect(JSON.parse(out[3]!.choices[0].delta.function_call!.arguments!)).toEqual({ to: '[EMAIL]', n: '[CREDIT_CARD]' });
    expect(JSON.stringify(out)).not.toContain('example.com');
    expect(r.piiFound.sort()).toEqual(['CREDIT_CARD', 'EMAIL']);
    // Cut before its finish: incomplete, dropped by drain (never half a call).
    const cut = relay({ redactAnswers: true });
    cut.relay(fn({ name: 'f', arguments: '{"ip":"10.0.' }));
    cut.relay(fn({ arguments: '0.12"}' }));
    expect(cut.drain()).toEqual([]);
  });

  it('leaves legacy function_call fragments as they come without redaction', () => {
    const up = chunk([{ index: 0, delta: { function_call: { arguments: '{"to":"jo' } }, finish_reason: null }]);
    expect(relay().relay(up)!.choices[0].delta.function_call).toEqual({ arguments: '{"to":"jo' });
  });

  it('leaves tool-call fragments as they come without redaction', () => {
    const r = relay();
    const up = call([{ index: 0, function: { arguments: '{"to":"jo' } }]);
    expect(r.relay(up)!.choices[0].delta.tool_calls).toEqual(up.choices[0].delta.tool_calls);
  });

  it('redacts a streamed audio transcript (a pattern split across deltas too) and relays the audio data as it came', () => {
    const r = relay({ redactAnswers: true });
    const audio = (a: Record<string, unknown>, finish: string | null = null) => chunk([{ index: 0, delta: { audio: a }, finish_reason: finish }]);
    const out = [audio({ id: 'au_1', transcript: 'Mail ann@exa' }), audio({ data: 'AAAA' }), audio({ transcript: 'mple.com' }), audio({ id: 'au_1', expires_at: 9 }, 'stop')].map((c) => r.relay(c)!);
    const deltas = out.map((c) => (c.choices[0].delta as { audio?: { transcript?: string; data?: string } }).audio);
    expect(deltas.map((a) => a?.transcript ?? '').join('')).toBe('Mail [EMAIL]');
    expect(deltas[1]).toEqual({ data: 'AAAA' });
    expect(deltas[3]).toMatchObject({ id: 'au_1', expires_at: 9 });
    expect(r.piiFound).toEqual(['EMAIL']);
  });

  it('redacts a streamed refusal (a pattern split across deltas too)', () => {
    const r = relay({ redactAnswers: true });
    const out = [chunk([{ index: 0, delta: { refusal: 'I will not mail bo@exa' }, finish_reason: null }]), chunk([{ index: 0, delta: { refusal: 'mple.com' }, finish_reason: 'stop' }])].map((c) => r.relay(c)!);
    expect(out.map((c) => c.choices[0].delta.refusal).join('')).toBe('I will not mail [EMAIL]');
  });
});

// Review: a function call's name repeated on every fragment (vLLM, vllm-project/vllm#13078) was sent once; a custom
// tool's call (ChatCompletionChunk's delta `custom: {name, input}`) had its repeated name relayed on every fragment, which
// the Python SDK's helper and LangChain append (`apply_patchapply_patch…`, as vllm-project/vllm#14951 for functions).
describe('a tool call\'s name, sent once', () => {
  const fragments = (calls: unknown[][]) => calls.map((tool_calls) => chunk([{ index: 0, delta: { tool_calls }, finish_reason: null }]));

  it('a custom tool\'s call repeating its name on every fragment: the name on the first only, the input as it came; another name is relayed', () => {
    const r = relay();
    const out = fragments([
      [{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin' } }],
      [{ index: 0, custom: { name: 'apply_patch', input: ' Patch' } }],
      [{ index: 0, id: 'call_1', custom: { name: 'apply_patch', input: ' ***' } }],
      [{ index: 0, custom: { name: 'run_shell', input: '\n' } }],
    ]).map((c) => r.relay(c)!.choices[0].delta.tool_calls);
    expect(out).toEqual([
      [{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin' } }],
      [{ index: 0, custom: { input: ' Patch' } }],
      [{ index: 0, custom: { input: ' ***' } }],
      [{ index: 0, custom: { name: 'run_shell', input: '\n' } }],
    ]);
  });
});

describe('parallel_tool_calls false (oneToolCall): each choice\'s first tool call only', () => {
  const call = (index: number | undefined, id: string | undefined, args: string, name?: string) => ({ ...(index !== undefined ? { index } : {}), ...(id ? { id, type: 'function' } : {}), function: { ...(name ? { name } : {}), arguments: args } });

  it('leaves out every fragment of a later call, per choice, and a chunk left with nothing to carry; counts the calls left out', () => {
    const r = relay({ oneToolCall: true });
    const out = [
      r.relay(chunk([{ index: 0, delta: { role: 'assistant', tool_calls: [call(0, 'call_a', '', 'f')] }, finish_reason: null }, { index: 1, delta: { role: 'assistant', tool_calls: [call(3, 'call_x', '{}', 'g'), call(4, 'call_y', '{}', 'g')] }, finish_reason: null }])),
      r.relay(chunk([{ index: 0, delta: { tool_calls: [call(1, 'call_b', '', 'f')] }, finish_reason: null }])),
      r.relay(chunk([{ index: 0, delta: { tool_calls: [call(0, undefined, '{"q":1}'), call(1, undefined, '{"q":2}')] }, finish_reason: null }])),
      r.relay(chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }, { index: 1, delta: {}, finish_reason: 'tool_calls' }])),
    ];
    expect(out[1]).toBeUndefined();
    expect(out.filter(Boolean).map((c) => c!.choices.map((x) => x.delta.tool_calls))).toEqual([
      [[call(0, 'call_a', '', 'f')], [call(3, 'call_x', '{}', 'g')]],
      [[call(0, undefined, '{"q":1}')]],
      [undefined, undefined],
    ]);
    expect(r.droppedToolCalls).toBe(2);
  });

  it('keeps the first of calls an upstream sent whole and without index, several in one delta (Gemini\'s OpenAI endpoint), numbered 0', () => {
    const r = relay({ oneToolCall: true });
    const out = r.relay(chunk([{ index: 0, delta: { role: 'assistant', tool_calls: [call(undefined, 'c1', '{"city":"Oslo"}', 'w'), call(undefined, 'c2', '{"city":"Rome"}', 'w')] }, finish_reason: 'tool_calls' }]))!;
    expect(out.choices[0].delta.tool_calls).toEqual([call(0, 'c1', '{"city":"Oslo"}', 'w')]);
    expect(r.droppedToolCalls).toBe(1);
  });

  it('under redaction holds and sends the first call whole, the other never', () => {
    const r = relay({ oneToolCall: true, redactAnswers: true });
    r.relay(chunk([{ index: 0, delta: { role: 'assistant', tool_calls: [call(0, 'call_a', '{"to":"jane', 'mail'), call(1, 'call_b', '{"to":"x@y.z"}', 'mail')] }, finish_reason: null }]));
    const end = r.relay(chunk([{ index: 0, delta: { tool_calls: [call(0, undefined, '.doe@example.com"}')] }, finish_reason: 'tool_calls' }]))!;
    expect(end.choices[0].delta.tool_calls).toHaveLength(1);
    expect(end.choices[0].delta.tool_calls![0]).toMatchObject({ index: 0, id: 'call_a', function: { name: 'mail' } });
    expect(end.choices[0].delta.tool_calls![0].function!.arguments).not.toContain('jane.doe@example.com');
  });
});
