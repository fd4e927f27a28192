import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { cacheableResponse } from '../../../../lambdas/inference/endpoints/responses-create.js';
import { chatStreamEvents, chatStreamFinished, responseStreamEvents, responseStreamFinished, StreamRecorder } from '../../../../lambdas/inference/response-cache/stream-replay.js';

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
