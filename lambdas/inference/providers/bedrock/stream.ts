import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { ProviderError } from '../provider.js';
import { logDroppedToolCalls } from './one-tool-call.js';
import type { AnswerMeta } from './response.js';
import { providerErrorFromSdk, streamExceptionError } from './sdk-errors.js';
import { openAiServiceTier } from './service-tier.js';
import { finishReason, type FinishReason } from './stop-reason.js';
import { completionUsage } from './usage.js';

/**
 * ConverseStream events → OpenAI `ChatCompletionChunk`s (one choice, index 0).
 *
 *   messageStart {role:'assistant'}               → the role chunk, sent with the first block (below)
 *   contentBlockDelta {delta:{text}}              → delta {content: text}
 *   contentBlockStart {start:{toolUse:{toolUseId, name}}, contentBlockIndex: b}
 *     → delta {tool_calls:[{index: n, id: toolUseId, type:'function', function:{name, arguments:''}}]}
 *       where n is the ordinal of this tool call in the answer (0, 1, ...), remembered for block b
 *   contentBlockDelta {delta:{toolUse:{input: fragment}}, contentBlockIndex: b}
 *     → delta {tool_calls:[{index: n of block b, function:{arguments: fragment}}]}
 *   contentBlockStop {contentBlockIndex: b} of a toolUse block that streamed no input (a tool
 *   without arguments: Bedrock sends no input delta, or an empty one, for `{}`)
 *     → delta {tool_calls:[{index: n of block b, function:{arguments: '{}'}}]}, as the whole
 *       answer's `{}` input; so the SDKs' stream helpers and runTools can JSON.parse it
 *   messageStop {stopReason}                      → delta {}, finish_reason (stop-reason.ts)
 *   metadata {usage, serviceTier?}                → choices: [], usage (usage.ts), service_tier?
 *   internalServerException, modelStreamErrorException, throttlingException,
 *   validationException, serviceUnavailableException (as events, or thrown by the SDK while
 *   reading the stream)                          → throws ProviderError with Bedrock's message
 *                                                   (sdk-errors.ts); never a made-up finish
 *
 * `onActivity` is called on every Bedrock event, relayed or not: a reasoning model's thinking and a
 * dropped tool call's input produce no chunk, and without it the gateway's idle timeout
 * (`gateway.upstreamIdleTimeoutMs`, upstream-calls.ts) would cut a stream whose model thinks longer.
 *
 * `oneToolCall` (the caller sent `parallel_tool_calls: false`, one-tool-call.ts): only tool call 0
 * is relayed; the start and input deltas of any later toolUse block are dropped (counted in the
 * log when the message stops); text, `finish_reason` and usage unchanged.
 *
 * The role chunk comes first even if Bedrock sent no messageStart, shaped as OpenAI's: it goes out
 * when the first content arrives, `{role:'assistant', content: null}` when that is a tool call
 * (OpenAI's first delta of a tool-calls-only turn), `{role:'assistant', content:''}` when it is
 * text, reasoning or the end of the message. Nothing is held back for it: the role chunk and the
 * first text or tool call go out together, as Bedrock's event arrives. A reasoning model's turn
 * starts with reasoning (not relayed): the role chunk goes out then, with `content:''`, so that
 * the caller hears from the stream while the model thinks; such a turn that ends in tool calls
 * only keeps that `''` (knowing would mean holding the first byte until the thinking is over). Interleaved fragments of
 * parallel tool calls keep their own index through the block map. Reasoning and citation deltas
 * are left out (OpenAI's chat completions stream neither).
 *
 * AWS reference: ConverseStreamOutput (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
 */
export async function* chatCompletionChunks(events: AsyncIterable<ConverseStreamOutput>, meta: AnswerMeta, oneToolCall = false, onActivity?: () => void): AsyncGenerator<ChatCompletionChunk> {
  const base = { id: meta.id, object: 'chat.completion.chunk' as const, created: meta.created, model: meta.model };
  const chunk = (delta: ChatCompletionChunk.Choice.Delta, finish: FinishReason | null = null): ChatCompletionChunk =>
    ({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  const toolIndex = new Map<number, number>();
  /** Tool blocks relayed whose input has not streamed yet (their arguments go out as `{}` when they stop). */
  const noInput = new Set<number>();
  const flushNoInput = function* (block?: number) {
    for (const b of block === undefined ? [...noInput] : noInput.has(block) ? [block] : []) {
      noInput.delete(b);
      yield chunk({ tool_calls: [{ index: toolIndex.get(b)!, function: { arguments: '{}' } }] });
    }
  };
  /** Content blocks of tool calls not relayed (`oneToolCall`), and the name of the one that is. */
  const dropped = new Set<number>();
  let kept: string | undefined;
  let started = false;
  const start = function* (content: '' | null = '') {
    if (!started) {
      started = true;
      yield chunk({ role: 'assistant', content });
    }
  };

  try {
    for await (const event of events) {
      onActivity?.();
      const failure = streamExceptionError(event);
      if (failure) throw failure;
      if (event.messageStart) {
        // the role chunk waits for the first block, to say whether the turn opens with text or a tool call
      } else if (event.contentBlockStart?.start?.toolUse) {
        const { toolUseId, name } = event.contentBlockStart.start.toolUse;
        const index = toolIndex.size;
        const block = event.contentBlockStart.contentBlockIndex ?? index;
        if (oneToolCall && index > 0) {
          dropped.add(block);
          continue;
        }
        yield* start(null);
        kept ??= name;
        toolIndex.set(block, index);
        noInput.add(block);
        yield chunk({ tool_calls: [{ index, id: toolUseId, type: 'function', function: { name, arguments: '' } }] });
      } else if (event.contentBlockDelta?.delta) {
        const { delta, contentBlockIndex } = event.contentBlockDelta;
        if (delta.text) {
          yield* start();
          yield chunk({ content: delta.text });
        } else if (delta.reasoningContent) {
          yield* start();
        } else if (delta.toolUse?.input) {
          if (dropped.has(contentBlockIndex ?? -1)) continue;
          const index = toolIndex.get(contentBlockIndex ?? -1);
          if (index === undefined) throw new ProviderError(`Bedrock streamed tool input for content block ${contentBlockIndex}, which started no tool call`, 502, true, { type: 'upstream_error', code: 'malformed_stream' });
          noInput.delete(contentBlockIndex ?? -1);
          yield chunk({ tool_calls: [{ index, function: { arguments: delta.toolUse.input } }] });
        }
      } else if (event.contentBlockStop) {
        yield* flushNoInput(event.contentBlockStop.contentBlockIndex ?? -1);
      } else if (event.messageStop) {
        yield* flushNoInput();
        logDroppedToolCalls(meta.model, kept, dropped.size);
        yield* start();
        yield chunk({}, finishReason(event.messageStop.stopReason));
      } else if (event.metadata?.usage) {
        const tier = openAiServiceTier(event.metadata.serviceTier);
        yield { ...base, choices: [], usage: completionUsage(event.metadata.usage), ...(tier ? { service_tier: tier } : {}) };
      }
    }
  } catch (e) {
    throw providerErrorFromSdk(e);
  }
}
