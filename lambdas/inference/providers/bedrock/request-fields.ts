import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { checkNestedFields } from './nested-fields.js';
import { given, unknownField, unsupported } from './refuse.js';

/**
 * Which top-level fields of OpenAI's chat-completions request reach Bedrock, and how.
 *
 * Shape: `checkRequestFields(body)` returns nothing and throws the first refusal, an
 * `UnsupportedFieldError` naming the field, before anything is sent: the top-level fields first, then the keys
 * inside the request's objects (content parts, tool calls, tools, tool_choice, response_format: nested-fields.ts).
 *
 * - Mapped by a rule module: `messages`, `max_completion_tokens`, `max_tokens`, `temperature`,
 *   `top_p`, `stop` (inference-config.ts), `tools`, `tool_choice`, `parallel_tool_calls`
 *   (tools.ts), `response_format` (response-format.ts), `reasoning_effort` (reasoning-effort.ts),
 *   `service_tier` (service-tier.ts), `user`, `metadata`, `safety_identifier` (request-metadata.ts).
 * - The gateway's, not forwarded: `model` (the catalog id; Bedrock gets `model.upstream`),
 *   `stream`, `stream_options.include_usage` (the gateway picks Converse or ConverseStream and
 *   relays usage). Of `stream_options`'s other keys (checkStreamOptions): `include_obfuscation` is
 *   accepted only as false (ConverseStream's chunks carry no obfuscation padding: true is refused,
 *   as /v1/responses refuses it), and a key OpenAI's `ChatCompletionStreamOptions` does not define
 *   (vLLM's `continuous_usage_stats`) is refused, naming `stream_options.<key>`.
 * - Accepted only at the value that changes nothing (OpenAI's default), refused otherwise: `n`
 *   (1: Converse returns one choice), `logprobs` (false), `top_logprobs` (0), `logit_bias` ({}),
 *   `frequency_penalty` and `presence_penalty` (0), `store` (false: Bedrock keeps nothing for
 *   distillation or evals), `modalities` (text only), `verbosity` ('medium', OpenAI's default).
 * - Refused whenever set: `seed`, `prediction`, `audio`, `web_search_options`, `moderation`,
 *   `prompt_cache_key`, `prompt_cache_options`, `prompt_cache_retention` (Bedrock caches at
 *   explicit cache points with its own TTLs), and the deprecated `functions` / `function_call`
 *   (legacy function calling allows one call per turn, which Converse cannot promise; `tools`
 *   carries the same functions).
 * - Any other field is not OpenAI's (`top_k`, `repetition_penalty`...): refused in OpenAI's words for an unknown field
 *   (`Unknown parameter: 'top_k'.`, code `unknown_parameter`: refuse.ts unknownField), since Converse
 *   has no faithful place for it. `top_k` in particular is not mapped to
 *   `additionalModelRequestFields`: its name and place differ per model family (Anthropic
 *   `top_k`, Nova `inferenceConfig.topK`, none for others), so no single mapping is faithful.
 *
 * AWS reference: ConverseRequest (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
 */
export function checkRequestFields(body: ChatCompletionCreateParams): void {
  for (const [field, value] of Object.entries(body)) {
    if (field === 'stream_options' && given(value)) checkStreamOptions(value);
    if (!given(value) || MAPPED.has(field)) continue;
    const rule = RULES[field];
    if (!rule) throw unknownField(field, 'not a field of OpenAI chat completions, and Converse has no place to forward it');
    if (rule.accepts?.(value)) continue;
    throw unsupported(field, rule.why);
  }
  checkNestedFields(body);
}

/**
 * `stream_options` (OpenAI's `ChatCompletionStreamOptions`: `include_usage`, `include_obfuscation`) on ConverseStream:
 * `include_usage` is the gateway's (the usage chunk, chat/stream-relay.ts); `include_obfuscation` is accepted only at
 * false, null or absent, since ConverseStream's chunks carry no `obfuscation` padding and the gateway adds none; any
 * other key is not OpenAI's and has no place in Converse.
 * @throws UnsupportedFieldError naming `stream_options.<key>` (the first such key)
 */
function checkStreamOptions(options: object): void {
  for (const [key, value] of Object.entries(options)) {
    if (key === 'include_usage' || !given(value)) continue;
    if (key === 'include_obfuscation') {
      if (value === false) continue;
      throw unsupported('stream_options.include_obfuscation', 'ConverseStream chunks carry no obfuscation padding (the `obfuscation` field OpenAI adds to normalize chunk sizes); send false or leave it out');
    }
    throw unknownField(`stream_options.${key}`, 'not a field of OpenAI\'s ChatCompletionStreamOptions (include_usage, include_obfuscation), and ConverseStream has no place to forward it');
  }
}

const MAPPED = new Set([
  'messages', 'model', 'stream', 'stream_options',
  'max_completion_tokens', 'max_tokens', 'temperature', 'top_p', 'stop',
  'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'reasoning_effort', 'service_tier',
  'user', 'metadata', 'safety_identifier',
]);

interface Rule {
  /** The values equal to OpenAI's default, which ask for nothing Bedrock would not do anyway. */
  accepts?: (value: unknown) => boolean;
  why: string;
}

const RULES: Record<string, Rule> = {
  n: { accepts: (v) => v === 1, why: 'Converse returns one choice per request' },
  logprobs: { accepts: (v) => v === false, why: 'Converse does not return token log probabilities' },
  top_logprobs: { accepts: (v) => v === 0, why: 'Converse does not return token log probabilities' },
  logit_bias: { accepts: (v) => typeof v === 'object' && Object.keys(v as object).length === 0, why: 'Converse has no token biasing' },
  frequency_penalty: { accepts: (v) => v === 0, why: 'Converse has no frequency penalty' },
  presence_penalty: { accepts: (v) => v === 0, why: 'Converse has no presence penalty' },
  store: { accepts: (v) => v === false, why: 'Bedrock does not store completions for distillation or evals' },
  modalities: { accepts: (v) => Array.isArray(v) && v.every((m) => m === 'text'), why: 'Converse answers in text only' },
  verbosity: { accepts: (v) => v === 'medium', why: 'Converse has no verbosity setting' },
  seed: { why: 'Converse has no sampling seed' },
  prediction: { why: 'Converse has no predicted outputs' },
  audio: { why: 'Converse answers in text only' },
  web_search_options: { why: 'Converse has no built-in web search for chat completions' },
  moderation: { why: "Converse does not run OpenAI's moderation" },
  prompt_cache_key: { why: 'Bedrock caches prompts at explicit cache points, not by key' },
  prompt_cache_options: { why: "Bedrock's prompt cache points and TTLs (5m, 1h) differ from OpenAI's" },
  prompt_cache_retention: { why: "Bedrock's prompt cache TTLs (5m, 1h) differ from OpenAI's" },
  functions: { why: 'legacy function calling allows one call per turn, which Converse cannot promise; send them as tools' },
  function_call: { why: 'legacy function calling allows one call per turn, which Converse cannot promise; send tool_choice' },
};
