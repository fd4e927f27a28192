import type { ChatCompletionCreateParams, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { GatewayError, invalid } from '../openai-errors.js';
import { countPromptTokenParts, type CountLimits } from '../token-count.js';
import type { TranslatedRequest } from './chat-request.js';

/**
 * OpenAI's `truncation` of a Responses request (API reference, Responses create): "auto: If the input to this Response
 * exceeds the context window size for this model, the model will truncate the response to fit the context window by
 * dropping items from the beginning of the conversation. disabled (default): If the input size will exceed the context
 * window size for a model, the request will fail with a 400 error."
 *
 * The gateway serves `auto` on the chat request it makes of the Responses request (chat-request.ts chatRequestOf), with
 * the model's catalog `contextWindow`:
 * - what is dropped: whole messages of the conversation, first first: the chained response's or the conversation's
 *   history, then the input's items, whatever their role (a `system` or `developer` item is an item of the conversation:
 *   OpenAI's text makes no exception). `instructions` are not an item (they are the request's own field, sent again on
 *   every turn) and stay, as the tenant's system prompt does. A message holds whole items (consecutive function calls
 *   are one assistant message), so whole items go; a tool result whose call was dropped goes with it (a chat upstream
 *   refuses a `tool` message without its call);
 * - what fits: the prompt tokens as the gateway counts them (token-count.ts countPromptTokenParts: o200k, chat framing,
 *   tools and a JSON schema counted), with the larger `TRUNCATION_COUNT_LIMITS` (a reservation's count of a request over
 *   1 Mi characters or 64 KiB of novel text falls back to the byte bound, which dropped several times more than needed),
 *   the tenant's system prompt included, plus `max_output_tokens` when the request gives it (the upstream needs room for the answer it was asked
 *   for: an OpenAI-compatible server refuses input plus max_tokens over its window), at most `contextWindow`;
 * - at least one message of the conversation stays: when even the last one does not fit, the answer is the 400
 *   `disabled` gives (`context_length_exceeded`, param `input`).
 * The stored Response keeps the input items as sent; the conversation stored with it for the next turn is the one the
 * model was sent (the truncated one).
 */

/**
 * What truncation's one count of a request may spend: 4 Mi characters pre-tokenized and 1 MiB of novel pieces merged,
 * 4 and 16 times a reservation's (token-count.ts RESERVATION_COUNT_LIMITS), so a request of a few MB is counted exactly
 * and drops only the items it must. Measured on 2026-12-06 (2 shared cores), fitting a 1 MiB request: ~0.15-0.25 s for
 * prose, ~0.5-0.8 s for random ASCII, ~1.3 s for novel CJK (the worst: every piece merged); the counts are cached
 * exactly, so the reservation's count of the same request after it is a look-up. Past these limits, and for a piece over
 * MAX_BPE_PIECE_BYTES (a long run of CJK or of one character, whose merge is quadratic), texts count as their UTF-8
 * bytes, an upper bound: the earliest messages (counted last), so more is dropped than needed, never too little.
 */
export const TRUNCATION_COUNT_LIMITS: CountLimits = { scanChars: 4 * 1024 * 1024, bpeBytes: 1024 * 1024 };

/** A context window's check: `window` tokens, the tenant's system prompt the gateway adds first. */
export interface ContextWindow {
  /** The model's catalog `contextWindow`, tokens. */
  tokens: number;
  /** The tenant's system prompt (policy `gateway.systemPrompt`), a leading system message of every request. @default - none */
  systemPrompt?: string;
}

/** The result of fitting: the request (the same object when nothing was dropped) and how many messages were dropped. */
export interface Fitted { translated: TranslatedRequest; dropped: number; inputTokens: number }

/**
 * The request with messages dropped from the start of its conversation (after `translated.leading`, the instructions)
 * until its prompt tokens plus `max_completion_tokens` fit `window.tokens`. Each message is counted once; the sum is
 * monotonic in the messages dropped, so the fewest are found by bisection over the sums.
 * @throws GatewayError 400 `context_length_exceeded` naming `input` when no conversation of at least one message fits
 */
export function fitToContextWindow(translated: TranslatedRequest, window: ContextWindow): Fitted {
  const body = translated.body as unknown as ChatCompletionCreateParams;
  const messages = body.messages;
  const output = typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : 0;
  const leading = translated.leading;
  const system: ChatCompletionMessageParam[] = window.systemPrompt ? [{ role: 'system', content: window.systemPrompt }] : [];
  // Each message counted once (the latest first, so a spent budget bounds the earliest), then sums of them.
  const parts = countPromptTokenParts({ ...body, messages: [...system, ...messages] }, TRUNCATION_COUNT_LIMITS);
  const tokensOfMessage = (i: number) => parts.messages[system.length + i]!;
  const fixed = parts.rest + parts.messages.slice(0, system.length).reduce((a, b) => a + b, 0) + range(0, leading).reduce((n, i) => n + tokensOfMessage(i), 0);
  const keptAfter = (k: number) => withoutOrphanResults(messages, range(leading + k, messages.length));
  const tokensOf = (indices: number[]) => indices.reduce((n, i) => n + tokensOfMessage(i), fixed);
  const all = tokensOf(range(leading, messages.length));
  if (all + output <= window.tokens) return { translated, dropped: 0, inputTokens: all };
  // The most that may be dropped: a message at least stays (a tool result alone, its call dropped, would not).
  let most = messages.length - leading - 1;
  while (most > 0 && keptAfter(most).length === 0) most--;
  const fits = (k: number) => tokensOf(keptAfter(k)) + output <= window.tokens;
  // The fewest dropped that fit, 1..most; none fits when even `most` does not.
  if (most < 1 || !fits(most)) throw contextLengthExceeded(all, output, window.tokens);
  let low = 1;
  let high = most;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) high = mid;
    else low = mid + 1;
  }
  const kept = [...range(0, leading), ...keptAfter(low)];
  return {
    translated: { ...translated, body: { ...translated.body, messages: kept.map((i) => messages[i]!) } as typeof translated.body, sources: kept.map((i) => translated.sources[i]!) },
    dropped: messages.length - kept.length,
    inputTokens: tokensOf(keptAfter(low)),
  };
}

/**
 * OpenAI's 400 for an input over the model's context window (its error's code and sentence), with the counts.
 * @param inputTokens the request's prompt tokens (o200k count), all messages kept
 */
export function contextLengthExceeded(inputTokens: number, outputTokens: number, window: number): GatewayError {
  const asked = outputTokens ? ` and max_output_tokens ${outputTokens}` : '';
  return invalid(`Your input exceeds the context window of this model. Please adjust your input and try again. (input ${inputTokens} tokens${asked}, the gateway's o200k count; context window ${window} tokens; truncation "auto" keeps at least the last message of the conversation, and it alone does not fit)`, 'input', 'context_length_exceeded');
}

/** `indices` without a `tool` message whose call (an assistant message's `tool_calls` id) is not among them. */
function withoutOrphanResults(messages: readonly ChatCompletionMessageParam[], indices: number[]): number[] {
  const calls = new Set<string>();
  for (const i of indices) {
    const m = messages[i]!;
    if (m.role === 'assistant') for (const call of m.tool_calls ?? []) calls.add(call.id);
  }
  return indices.filter((i) => {
    const m = messages[i]!;
    return m.role !== 'tool' || calls.has(m.tool_call_id);
  });
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
