import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { cacheableResponse } from '../../../../lambdas/inference/endpoints/responses-create.js';
import { rederivedItemIds } from '../../../../lambdas/inference/responses/ids.js';
import { cachedResponseOf, chatStreamEvents, chatStreamFinished, responseStreamEvents, responseStreamFinished, StreamRecorder } from '../../../../lambdas/inference/response-cache/stream-replay.js';

const chunk = (index: number, delta: ChatCompletionChunk.Choice['delta'], finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk =>
  ({ id: 'chatcmpl-made', object: 'chat.completion.chunk', created: 1_800_000_000, model: 'openai-compatible/default', choices: [{ index, delta, finish_reason: finish, logprobs: null }] });
const recorded = (events: unknown[]) => {
  const r = new StreamRecorder();
  events.forEach((e) => r.add(e));
  return r;
};

describe('StreamRecorder and the chat stream replay', () => {
  it('keeps the chunks in order as a JSON array; the replay is one data event per chunk under the HIT\'s id, then [DONE]', () => {
    const chunks = [
      chunk(0, { role: 'assistant', content: '' }),
      chunk(0, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":' } }] }),
      chunk(0, { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
      chunk(0, {}, 'tool_calls'),
      { ...chunk(0, {}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
    ];
    const r = recorded(chunks);
    expect(r.size).toBe(5);
    expect(JSON.parse(r.body())).toEqual(chunks);
    const events = chatStreamEvents(r.body(), 'req-hit');
    expect(events.at(-1)).toBe('data: [DONE]\n\n');
    expect(events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)))).toEqual(chunks.map((c) => ({ ...c, id: 'req-hit' })));
    expect(events.every((e) => e.endsWith('\n\n'))).toBe(true);
  });

  it('a stream is finished only when every choice it opened got a finish_reason', () => {
    expect(chatStreamFinished(recorded([chunk(0, { content: 'a' }), chunk(0, {}, 'stop')]).body())).toBe(true);
    expect(chatStreamFinished(recorded([chunk(0, { content: 'a' })]).body())).toBe(false);
    expect(chatStreamFinished(recorded([chunk(0, { content: 'a' }), chunk(1, { content: 'b' }), chunk(0, {}, 'stop')]).body())).toBe(false);
    expect(chatStreamFinished(recorded([chunk(0, {}, 'length'), chunk(1, {}, 'stop')]).body())).toBe(true);
    expect(chatStreamFinished('[]')).toBe(false);
  });
});

describe('the Responses API stream replay', () => {
  const response = (status: string) => ({ id: 'resp_made', object: 'response', created_at: 1_800_000_000, status, output: [] });
  const events = [
    { type: 'response.created', sequence_number: 0, response: response('in_progress') },
    { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi' },
    { type: 'response.completed', sequence_number: 2, response: response('completed') },
  ];

  it('writes event: <type> and data: <event>, the Responses under the HIT\'s response id, the rest as kept', () => {
    const replay = responseStreamEvents(recorded(events).body(), 'resp_hit');
    expect(replay).toHaveLength(3);
    expect(replay[1]).toBe(`event: response.output_text.delta\ndata: ${JSON.stringify(events[1])}\n\n`);
    const parsed = replay.map((e) => JSON.parse(e.split('\n')[1].slice('data: '.length)));
    expect(parsed.map((e) => e.response?.id)).toEqual(['resp_hit', undefined, 'resp_hit']);
    expect(parsed[2]).toEqual({ ...events[2], response: { ...events[2].response, id: 'resp_hit' } });
  });

  it('is finished when its last event is response.completed or response.incomplete, not response.failed or cut', () => {
    expect(responseStreamFinished(recorded(events).body())).toBe(true);
    expect(responseStreamFinished(recorded([...events.slice(0, 2), { type: 'response.incomplete', sequence_number: 2, response: response('incomplete') }]).body())).toBe(true);
    expect(responseStreamFinished(recorded(events.slice(0, 2)).body())).toBe(false);
    expect(responseStreamFinished(recorded([...events.slice(0, 2), { type: 'response.failed', sequence_number: 2, response: response('failed') }]).body())).toBe(false);
  });
});

describe('rederivedItemIds (a HIT\'s item ids derived from its own response id)', () => {
  const [kept, hit] = [`resp_${'a'.repeat(48)}`, `resp_${'b'.repeat(48)}`];
  it('changes every whole string derived from the kept response to the HIT\'s, at the same index; text, call ids, sent ids and other responses\' items stay', () => {
    const other = `msg_${'c'.repeat(48)}0000`;
    const value = {
      id: kept,
      output: [
        { id: `rs_${'a'.repeat(48)}0000`, type: 'reasoning', encrypted_content: 'AQID' },
        { id: `fc_${'a'.repeat(48)}0001`, type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
        { id: `msg_${'a'.repeat(48)}00ff`, type: 'message', content: [{ type: 'output_text', text: `the id is msg_${'a'.repeat(48)}0000` }] },
        { id: other, type: 'message', content: [] },
        { id: 'my-own-id', type: 'message', content: [] },
      ],
      item_id: `msg_${'a'.repeat(48)}00ff`,
    };
    const out = rederivedItemIds(value, kept, hit);
    expect(out).toEqual({
      id: kept, // the response's own id is the caller's to set (responseStreamEvents, cachedResponseOf)
      output: [
        { ...value.output[0], id: `rs_${'b'.repeat(48)}0000` },
        { ...value.output[1], id: `fc_${'b'.repeat(48)}0001` },
        { ...value.output[2], id: `msg_${'b'.repeat(48)}00ff` },
        value.output[3],
        value.output[4],
      ],
      item_id: `msg_${'b'.repeat(48)}00ff`,
    });
    expect(value.output[0].id).toBe(`rs_${'a'.repeat(48)}0000`); // not changed in place
    expect(rederivedItemIds(value, 'resp_made', hit)).toBe(value);
  });

  it('cachedResponseOf: the kept Response under the HIT\'s id, its items\' ids derived from it', () => {
    const body = JSON.stringify({ id: kept, object: 'response', output: [{ id: `msg_${'a'.repeat(48)}0001`, type: 'message', content: [] }] });
    expect(cachedResponseOf(body, hit)).toEqual({ id: hit, object: 'response', output: [{ id: `msg_${'b'.repeat(48)}0001`, type: 'message', content: [] }] });
  });
});

describe('cacheableResponse (which Responses API creates the cache serves)', () => {
  it('only a response not stored that reads no server state: not store (default true), background, previous_response_id, conversation, file_search', () => {
    expect(cacheableResponse({}, undefined, undefined, false)).toBe(true);
    expect(cacheableResponse({}, async () => undefined, undefined, false)).toBe(false);
    expect(cacheableResponse({ background: true }, undefined, undefined, false)).toBe(false);
    expect(cacheableResponse({ previous_response_id: 'resp_1' }, undefined, undefined, false)).toBe(false);
    expect(cacheableResponse({}, undefined, 'conv_1', false)).toBe(false);
    expect(cacheableResponse({}, undefined, undefined, true)).toBe(false);
  });
});
