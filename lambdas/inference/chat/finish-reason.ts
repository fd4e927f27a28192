import type { ChatCompletion } from 'openai/resources/chat/completions';

export type FinishReason = ChatCompletion.Choice['finish_reason'];

/**
 * Finish reasons of servers behind `openai-compatible` and of SDK-less upstreams, mapped onto
 * OpenAI's set (`stop`, `length`, `tool_calls`, `content_filter`, `function_call`). Sources: TGI
 * (`eos_token`, `stop_sequence`, `length`), llama.cpp and Ollama (`stop`, `length`), vLLM
 * (`abort` when the engine aborted the request), Anthropic-style servers (`end_turn`,
 * `max_tokens`, `tool_use`, `refusal`), Mistral (`model_length`), Gemini's OpenAI endpoint (`safety`).
 */
const FINISH: Record<string, FinishReason> = {
  stop: 'stop', eos_token: 'stop', eos: 'stop', stop_sequence: 'stop', end_turn: 'stop', abort: 'stop',
  length: 'length', max_tokens: 'length', model_length: 'length', model_context_window_exceeded: 'length',
  tool_calls: 'tool_calls', tool_call: 'tool_calls', tool_use: 'tool_calls',
  content_filter: 'content_filter', content_filtered: 'content_filter', safety: 'content_filter', refusal: 'content_filter', guardrail_intervened: 'content_filter',
  function_call: 'function_call',
};

/**
 * OpenAI's finish reason for an upstream's. `null` stays `null` (a stream chunk that does not
 * finish its choice); an unknown reason becomes `stop` (the answer ended without a known cause).
 */
export function normaliseFinishReason(reason: string | null | undefined): FinishReason | null {
  if (reason === null || reason === undefined) return null;
  return FINISH[reason] ?? FINISH[reason.toLowerCase()] ?? 'stop';
}
