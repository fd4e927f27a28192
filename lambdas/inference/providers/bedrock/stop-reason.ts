import type { ChatCompletion } from 'openai/resources/chat/completions';
import { ProviderError } from '../provider.js';

export type FinishReason = ChatCompletion.Choice['finish_reason'];

/**
 * Converse `stopReason` → OpenAI `finish_reason`.
 *
 *   end_turn, stop_sequence                     → 'stop'
 *   max_tokens, model_context_window_exceeded   → 'length'
 *   tool_use                                    → 'tool_calls'
 *   content_filtered, guardrail_intervened      → 'content_filter'
 *   malformed_model_output, malformed_tool_use  → ProviderError 502, retryable: the model produced
 *     output it could not finish (invalid tool input...), which OpenAI's set cannot say; another
 *     attempt (or the next model of the fallback chain) may succeed
 *   anything else (missing, or newer than this mapping) → ProviderError 502, not retryable:
 *     never a made-up finish
 *
 * AWS reference: ConverseResponse.stopReason (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax).
 */
export function finishReason(stopReason: string | undefined): FinishReason {
  const reason = stopReason ? FINISH[stopReason] : undefined;
  if (reason) return reason;
  if (stopReason === 'malformed_model_output' || stopReason === 'malformed_tool_use') {
    throw new ProviderError(`Bedrock stopped the answer: ${stopReason}`, 502, true, { type: 'upstream_error', code: stopReason });
  }
  throw new ProviderError(`Bedrock stopped the answer for a reason this gateway does not know: ${stopReason ?? '(none)'}`, 502, false, { type: 'upstream_error', code: 'unknown_stop_reason' });
}

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop', stop_sequence: 'stop',
  max_tokens: 'length', model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter', guardrail_intervened: 'content_filter',
};
