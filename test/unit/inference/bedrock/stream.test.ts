import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { chatCompletionChunks } from '../../../../lambdas/inference/providers/bedrock/stream.js';
import { logSpy } from '../../../support/service-log.js';

const meta = { id: 'chatcmpl-req-2', created: 1_700_000_000, model: 'm' };
const base = { id: 'chatcmpl-req-2', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm' };
const delta = (d: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish, logprobs: null }] });

async function* events(list: unknown[]): AsyncIterable<ConverseStreamOutput> {
  for (const e of list) yield e as ConverseStreamOutput;
}

async function collect(list: unknown[], oneToolCall = false): Promise<{ chunks: ChatCompletionChunk[]; error?: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const c of chatCompletionChunks(events(list), meta, oneToolCall)) chunks.push(c);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks };
}

describe('chatCompletionChunks', () => {
  it('streams the role, text deltas, the finish and the usage chunk', async () => {
    const { chunks } = await collect([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'he' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'llo' } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'end_turn' } },
      { metadata: { usage: { inputTokens: 5, outputTokens: 2, totalTokens: 9, cacheReadInputTokens: 2 }, metrics: { latencyMs: 1 } } },
    ]);
    expect(chunks).toEqual([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'he' }),
      delta({ content: 'llo' }),
      delta({}, 'stop'),
      { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, prompt_tokens_details: { cached_tokens: 2, cache_write_tokens: 0 } } },
    ]);
  });

  it('streams parallel tool calls with interleaved argument fragments under their own index', async () => {
    const { chunks } = await collect([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking both.' } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } } } },
      { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tooluse_B', name: 'time' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } } },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"tz":"CET"}' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '"Oslo"}' } } } },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { contentBlockStop: { contentBlockIndex: 2 } },
      { messageStop: { stopReason: 'tool_use' } },
      { metadata: { usage: { inputTokens: 20, outputTokens: 30, totalTokens: 50 }, metrics: { latencyMs: 1 }, serviceTier: { type: 'flex' } } },
    ]);
    expect(chunks).toEqual([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'Checking both.' }),
      delta({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'tooluse_B', type: 'function', function: { name: 'time', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      delta({ tool_calls: [{ index: 1, function: { arguments: '{"tz":"CET"}' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
      delta({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } }, service_tier: 'flex' },
    ]);
  });

  it('relays tool call 0 only for parallel_tool_calls false (oneToolCall): later blocks\' starts and input deltas dropped, finish and usage unchanged, the count logged', async () => {
    const info = logSpy('tessera-gateway', 'info');
    try {
      const { chunks, error } = await collect([
        { messageStart: { role: 'assistant' } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking both.' } } },
        { contentBlockStop: { contentBlockIndex: 0 } },
        { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } } } },
        { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tooluse_B', name: 'time' } } } },
        { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } } },
        { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"tz":"CET"}' } } } },
        { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '"Oslo"}' } } } },
        { contentBlockStop: { contentBlockIndex: 1 } },
        { contentBlockStop: { contentBlockIndex: 2 } },
        { messageStop: { stopReason: 'tool_use' } },
        { metadata: { usage: { inputTokens: 20, outputTokens: 30, totalTokens: 50 }, metrics: { latencyMs: 1 } } },
      ], true);
      expect(error).toBeUndefined();
      expect(chunks.slice(1)).toEqual([
        delta({ content: 'Checking both.' }),
        delta({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
        delta({}, 'tool_calls'),
        { ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } } },
      ]);
      expect(info).toHaveBeenCalledTimes(1);
      expect(info.lines()[0]).toMatchObject({ level: 'INFO', model: 'm', kept: 'weather', dropped: 1 });
    } finally {
      info.mockRestore();
    }
  });

  it('gives a tool call without arguments "{}" as its arguments, whether Bedrock streamed no input delta or an empty one (as the whole answer\'s {} input)', async () => {
    for (const noInput of [[], [{ contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '' } } } }]]) {
      const { chunks } = await collect([
        { messageStart: { role: 'assistant' } },
        { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_A', name: 'now' } } } },
        ...noInput,
        { contentBlockStop: { contentBlockIndex: 0 } },
        { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_B', name: 'weather' } } } },
        { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
        { contentBlockStop: { contentBlockIndex: 1 } },
        { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tooluse_C', name: 'today' } } } },
        { messageStop: { stopReason: 'tool_use' } },
      ]);
      expect(chunks).toEqual([
        delta({ role: 'assistant', content: null }),
        delta({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'now', arguments: '' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
        delta({ tool_calls: [{ index: 1, id: 'tooluse_B', type: 'function', function: { name: 'weather', arguments: '' } }] }),
        delta({ tool_calls: [{ index: 1, function: { arguments: '{"city":"Oslo"}' } }] }),
        delta({ tool_calls: [{ index: 2, id: 'tooluse_C', type: 'function', function: { name: 'today', arguments: '' } }] }),
        // a block the stream never stopped is completed when the message stops
        delta({ tool_calls: [{ index: 2, function: { arguments: '{}' } }] }),
        delta({}, 'tool_calls'),
      ]);
    }
  });

  it('opens a turn that starts with a tool call as OpenAI does: role with content null, in the same step as the tool call (nothing held back)', async () => {
    const order: string[] = [];
    async function* traced(): AsyncIterable<ConverseStreamOutput> {
      for (const e of [
        { messageStart: { role: 'assistant' } },
        { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } } } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
        { messageStop: { stopReason: 'tool_use' } },
      ]) {
        order.push(`event ${Object.keys(e)[0]}`);
        yield e as ConverseStreamOutput;
      }
    }
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of chatCompletionChunks(traced(), meta)) {
      order.push(`chunk ${Object.keys(c.choices[0].delta).join(',')}`);
      chunks.push(c);
    }
    expect(chunks).toEqual([
      delta({ role: 'assistant', content: null }),
      delta({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(order.slice(0, 4)).toEqual(['event messageStart', 'event contentBlockStart', 'chunk role,content', 'chunk tool_calls']);
  });

  it('opens a text turn with content "" and sends the first text at once, with the role chunk', async () => {
    const order: string[] = [];
    async function* traced(): AsyncIterable<ConverseStreamOutput> {
      for (const e of [{ messageStart: { role: 'assistant' } }, { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hei' } } }, { messageStop: { stopReason: 'end_turn' } }]) {
        order.push(`event ${Object.keys(e)[0]}`);
        yield e as ConverseStreamOutput;
      }
    }
    for await (const c of chatCompletionChunks(traced(), meta)) order.push(`chunk ${JSON.stringify(c.choices[0].delta)}`);
    expect(order).toEqual(['event messageStart', 'event contentBlockDelta', 'chunk {"role":"assistant","content":""}', 'chunk {"content":"Hei"}', 'event messageStop', 'chunk {}']);
  });

  it('sends the role chunk first even without messageStart, and leaves reasoning out', async () => {
    const { chunks } = await collect([
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'hmm' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { text: 'ok' } } },
      { messageStop: { stopReason: 'max_tokens' } },
    ]);
    expect(chunks).toEqual([delta({ role: 'assistant', content: '' }), delta({ content: 'ok' }), delta({}, 'length')]);
  });

  it.each([
    // Bedrock's name where the caller gets Bedrock's 4xx, OpenAI's rate_limit_exceeded for a 429, an OpenAI-shaped code where it gets a 502.
    ['internalServerException', 'bedrock_internal_error', 500, true],
    ['modelStreamErrorException', 'bedrock_model_stream_error', 424, false],
    ['throttlingException', 'rate_limit_exceeded', 429, true],
    ['validationException', 'ValidationException', 400, false],
    ['serviceUnavailableException', 'bedrock_unavailable', 503, true],
  ])('throws the %s event as a ProviderError with Bedrock’s message, with no finish', async (member, code, status, retryable) => {
    const { chunks, error } = await collect([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'par' } } },
      { [member]: { message: 'Bedrock says no' } },
      { messageStop: { stopReason: 'end_turn' } },
    ]);
    expect(chunks).toEqual([delta({ role: 'assistant', content: '' }), delta({ content: 'par' })]);
    expect(error).toMatchObject({ message: expect.stringMatching(/Bedrock says no$/), status, retryable, details: { code } });
    if (status === 429) expect((error as Error).message).toBe('Bedrock ThrottlingException: Bedrock says no');
  });

  it('turns an exception the SDK throws mid-stream into a ProviderError', async () => {
    async function* failing(): AsyncIterable<ConverseStreamOutput> {
      yield { messageStart: { role: 'assistant' } } as ConverseStreamOutput;
      throw Object.assign(new Error('Too many tokens, please wait'), { name: 'ThrottlingException' });
    }
    const chunks: ChatCompletionChunk[] = [];
    await expect((async () => { for await (const c of chatCompletionChunks(failing(), meta)) chunks.push(c); })())
      .rejects.toMatchObject({ message: 'Bedrock ThrottlingException: Too many tokens, please wait', status: 429, retryable: true, details: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
    expect(chunks).toEqual([]); // the role chunk waits for the first block: nothing was sent, so the gateway may still retry
  });

  it('fails on a stop reason it cannot map rather than inventing one', async () => {
    const { error } = await collect([{ messageStart: { role: 'assistant' } }, { messageStop: { stopReason: 'malformed_tool_use' } }]);
    expect(error).toMatchObject({ status: 502, details: { code: 'malformed_tool_use' } });
  });
});
