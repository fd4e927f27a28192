import type { ResponseCreateParamsBase } from 'openai/resources/responses/responses';
import type { Reasoning } from 'openai/resources/shared';
import { z } from 'zod';
import { Metadata, oneOf, REASONING_EFFORTS, VERBOSITIES } from '../chat/request-schema.js';
import { SafetyIdentifier } from '../end-user.js';

/**
 * What the gateway reads of a Responses API request (`ResponseCreateParams` of the `openai`
 * package is the contract). Loose: fields the gateway does not read pass the schema, and
 * request-fields.ts decides each of them (mapped onto chat completions, kept by the gateway, or
 * refused with a 400 naming it). Every optional field accepts `null` as "absent", as OpenAI's API
 * does. Items and tools are checked where they are mapped (items-to-messages.ts, tools.ts), so
 * that each 400 names the item's path (`input[2].content[0].image_url`).
 */
const opt = <T extends z.ZodType>(t: T) => t.nullish();

/** OpenAI's `Reasoning.summary` (and the deprecated `generate_summary`). */
const SUMMARIES = ['auto', 'concise', 'detailed'] as const satisfies ReadonlyArray<NonNullable<Reasoning['summary']>>;
/** OpenAI's Responses `service_tier` (`ResponseCreateParamsBase['service_tier']`, openai 7.x): chat's and `ultrafast`. */
const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority', 'fast', 'ultrafast'] as const satisfies ReadonlyArray<NonNullable<ResponseCreateParamsBase['service_tier']>>;
/** OpenAI's `Reasoning.context`: which reasoning items are rendered back to the model on later turns. */
export const REASONING_CONTEXTS = ['auto', 'current_turn', 'all_turns'] as const satisfies ReadonlyArray<NonNullable<Reasoning['context']>>;

export const ResponsesRequest = z.looseObject({
  model: z.string().min(1).max(256),
  input: opt(z.union([z.string(), z.array(z.looseObject({}))])),
  instructions: opt(z.string()),
  previous_response_id: opt(z.string().min(1).max(256)),
  /** OpenAI's `conversation`: a conversation id, or `{id}` (ResponseConversationParam). */
  conversation: opt(z.union([z.string().min(1).max(256), z.looseObject({ id: z.string().min(1).max(256) })])),
  store: opt(z.boolean()),
  stream: opt(z.boolean()),
  background: opt(z.boolean()),
  tools: opt(z.array(z.looseObject({ type: z.string() }))),
  tool_choice: opt(z.union([z.string(), z.looseObject({ type: z.string() })])),
  parallel_tool_calls: opt(z.boolean()),
  text: opt(z.looseObject({ format: opt(z.looseObject({ type: z.string() })), verbosity: opt(oneOf(VERBOSITIES, 'ResponseTextConfig.verbosity')) })),
  /** OpenAI: at least 16. */
  max_output_tokens: opt(z.number().int().min(16)),
  /** Calls to built-in tools (the gateway serves none): a count ≥ 0, accepted and echoed. */
  max_tool_calls: opt(z.number().int().min(0)),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().min(0).max(1)),
  top_logprobs: opt(z.number().int().min(0).max(20)),
  /** Up to 16 pairs: keys up to 64 characters, values up to 512 (OpenAI's `Metadata`). */
  metadata: opt(Metadata),
  user: opt(z.string()),
  safety_identifier: SafetyIdentifier,
  prompt_cache_key: opt(z.string()),
  prompt_cache_retention: opt(z.enum(['in_memory', '24h'])),
  /** OpenAI's `ServiceTier` (openai 7.x): `fast` goes to chat as it is; `ultrafast` is refused (request-fields.ts). */
  service_tier: opt(oneOf(SERVICE_TIERS, 'ServiceTier')),
  /**
   * `effort`: OpenAI's `ReasoningEffort`; `summary` and `generate_summary` OpenAI's values, of which the gateway serves `auto`
   * only; `context` OpenAI's values, of which it serves `auto` and `current_turn` (request-fields.ts).
   */
  reasoning: opt(z.looseObject({
    effort: opt(oneOf(REASONING_EFFORTS, 'ReasoningEffort')),
    context: opt(oneOf(REASONING_CONTEXTS, 'Reasoning.context')),
    summary: opt(oneOf(SUMMARIES, 'Reasoning.summary')),
    generate_summary: opt(oneOf(SUMMARIES, 'Reasoning.generate_summary')),
  })),
  include: opt(z.array(z.string())),
  truncation: opt(z.enum(['auto', 'disabled'])),
  stream_options: opt(z.looseObject({ include_obfuscation: opt(z.boolean()) })),
});

/** The request as read: the `openai` package's type, narrowed to what the schema checked. */
export type ResponsesRequestBody = z.infer<typeof ResponsesRequest> & Omit<ResponseCreateParamsBase, keyof z.infer<typeof ResponsesRequest>>;
