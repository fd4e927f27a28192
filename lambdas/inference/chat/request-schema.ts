import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ReasoningEffort } from 'openai/resources/shared';
import { z } from 'zod';
import { Metadata } from '../../../lib/openai-metadata.js';
import { SafetyIdentifier } from '../end-user.js';
import { int64 } from '../openai-issues.js';

/**
 * What the gateway reads of OpenAI's chat-completions request (`ChatCompletionCreateParams` of the
 * `openai` package is the contract): the model, the message shapes (for guardrails, token counts
 * and the Bedrock mapping), the token limits, `n`, `seed` (an integer), the stream options, and what the guardrails and
 * the token count read besides (`tools`, `functions`, `prediction`, custom tool calls' `input`), the `response_format`
 * shapes. Every object is loose:
 * fields it does not read pass through untouched to the provider. Every optional field accepts
 * `null` as "absent", as OpenAI's API does.
 */
const opt = <T extends z.ZodType>(t: T) => t.nullish();

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal('image_url'),
  // A data URL, or an https URL for an upstream that fetches it itself; never http, file, gopher...
  // (the gateway and a self-hosted upstream inside the VPC must not be made to fetch internal URLs).
  image_url: z.looseObject({
    url: z.string().regex(/^(data:|https:\/\/)/i, 'must be a data URL (data:image/png;base64,...) or an https URL'),
    // `original` (the image at its own resolution) is a chat detail since openai 7.x's ChatCompletionContentPartImage.
    detail: opt(z.enum(['auto', 'low', 'high', 'original'])),
  }),
});
const AudioPart = z.looseObject({ type: z.literal('input_audio'), input_audio: z.looseObject({ data: z.string(), format: z.string() }) });
const FilePart = z.looseObject({ type: z.literal('file'), file: z.looseObject({ file_data: opt(z.string()), file_id: opt(z.string()), filename: opt(z.string()) }) });
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

const parts = <T extends z.ZodType>(part: T) => z.array(part).min(1);
const TextContent = z.union([z.string(), parts(TextPart)]);
const UserContent = z.union([z.string(), parts(z.discriminatedUnion('type', [TextPart, ImagePart, AudioPart, FilePart]))]);

const ToolCall = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  function: opt(z.looseObject({ name: z.string().min(1), arguments: z.string() })),
  /** A custom tool's call (`ChatCompletionMessageCustomToolCall`): its `input` is free text the guardrails read. */
  custom: opt(z.looseObject({ name: z.string().min(1), input: z.string() })),
});

/**
 * A participant's `name` (system, developer, user, assistant). The `openai` package documents no
 * pattern for it, but OpenAI's API refuses one outside `^[a-zA-Z0-9_-]+$` with a 400 naming
 * `messages[i].name` (its reference said "a-z, A-Z, 0-9, and underscores, with a maximum length of
 * 64"): so does the gateway, for every provider, which also keeps an address, a phone number
 * with spaces or an IP address out of a field no guardrail would otherwise read. What the pattern
 * lets through (a run of digits that is a card or an SSN) the PII redaction reads
 * (guardrails/caller-texts.ts).
 */
const ParticipantName = opt(z.string().regex(/^[a-zA-Z0-9_-]+$/, 'OpenAI takes a participant name of letters, digits, underscores and hyphens only (^[a-zA-Z0-9_-]+$)'));
/** A legacy `function` message's `name`: the function's, which OpenAI's `FunctionDefinition` bounds (a-z, A-Z, 0-9, _ and -, at most 64). */
const FunctionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a function name is 1 to 64 letters, digits, underscores and hyphens (^[a-zA-Z0-9_-]{1,64}$)');

const System = z.looseObject({ role: z.literal('system'), content: TextContent, name: ParticipantName });
const Developer = z.looseObject({ role: z.literal('developer'), content: TextContent, name: ParticipantName });
const User = z.looseObject({ role: z.literal('user'), content: UserContent, name: ParticipantName });
const Assistant = z
  .looseObject({
    role: z.literal('assistant'),
    content: opt(z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, RefusalPart]))])),
    refusal: opt(z.string()),
    tool_calls: opt(z.array(ToolCall)),
    function_call: opt(z.looseObject({ name: z.string(), arguments: z.string() })),
    audio: opt(z.looseObject({ id: z.string() })),
    name: ParticipantName,
  })
  .refine((m) => m.content != null || (m.tool_calls?.length ?? 0) > 0 || m.function_call != null || m.audio != null || m.refusal != null, {
    message: 'an assistant message needs content, tool_calls, function_call or audio',
    path: ['content'],
  });
const Tool = z.looseObject({ role: z.literal('tool'), content: TextContent, tool_call_id: z.string().min(1) });
const LegacyFunction = z.looseObject({ role: z.literal('function'), content: z.string().nullable(), name: FunctionName });

export const ChatMessage = z.discriminatedUnion('role', [System, Developer, User, Assistant, Tool, LegacyFunction]);

/**
 * OpenAI's `ReasoningEffort` (the `openai` package's shared.d.ts, 7.x): chat's `reasoning_effort` and the
 * Responses API's `reasoning.effort`. OpenAI refuses any other value with a 400 naming the field; so
 * does the gateway, before anything is counted or sent (an OpenAI-compatible upstream would otherwise
 * get, and may ignore, a value OpenAI refuses). The type below fails to compile when the package adds a value.
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const satisfies ReadonlyArray<NonNullable<ReasoningEffort>>;
const _everyEffort: [Exclude<NonNullable<ReasoningEffort>, (typeof REASONING_EFFORTS)[number]>] extends [never] ? true : false = true;
void _everyEffort;
/** OpenAI's `verbosity` (chat) and `text.verbosity` (Responses): low, medium or high. */
export const VERBOSITIES = ['low', 'medium', 'high'] as const satisfies ReadonlyArray<NonNullable<ChatCompletionCreateParams['verbosity']>>;

/**
 * OpenAI's chat `service_tier` (`ChatCompletionCreateParams['service_tier']`, openai 7.x): OpenAI refuses another value
 * with a 400 naming the field; so does the gateway, before anything is counted or sent (before session 43, s43l, a
 * chat completion's `service_tier: "x"` went upstream as sent and an OpenAI-compatible upstream answered it).
 */
export const CHAT_SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority', 'fast'] as const satisfies ReadonlyArray<NonNullable<ChatCompletionCreateParams['service_tier']>>;

/**
 * OpenAI's `prompt_cache_retention` (`ChatCompletionCreateParams['prompt_cache_retention']`, openai 7.x; the Responses
 * API's is the same): OpenAI refuses another value with a 400 naming the field; so does the gateway, for every provider,
 * before anything is counted or sent (before session 48 a chat completion's `"forever"` or `"in-memory"` went upstream
 * as sent: an OpenAI-compatible server ignored it, while `/v1/responses` refused it).
 */
export const PROMPT_CACHE_RETENTIONS = ['in_memory', '24h'] as const satisfies ReadonlyArray<NonNullable<ChatCompletionCreateParams['prompt_cache_retention']>>;

/** One of `values`, else an issue that lists them (`must be one of none, minimal, low, … (OpenAI's ReasoningEffort)`), as OpenAI's 400 does. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, contract: string) =>
  z.enum(values, { error: () => `must be one of ${values.join(', ')} (OpenAI's ${contract})` });

const TokenLimit = opt(z.number().int().positive());

/**
 * OpenAI's bounds of the sampling fields the gateway otherwise passes on unread, as the `openai`
 * package's `ChatCompletionCreateParams` documents them: `stop` up to 4 sequences, `temperature` 0 to 2,
 * `top_p` 0 to 1, the penalties -2 to 2, `top_logprobs` an integer 0 to 20, `logit_bias` token ids
 * (decimal integers as keys) to biases from -100 to 100. OpenAI refuses a value
 * outside them with a 400 naming the field; so does the gateway, for every provider, before anything is
 * counted or sent: a self-hosted server (vLLM takes any number of stop sequences and any temperature
 * from 0) would otherwise answer what OpenAI refuses, and an app that works here would fail on OpenAI.
 */
const Penalty = opt(z.number().min(-2).max(2));
const SamplingBounds = {
  stop: opt(z.union([z.string(), z.array(z.string()).max(4, 'OpenAI takes up to 4 stop sequences')])),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().min(0).max(1)),
  frequency_penalty: Penalty,
  presence_penalty: Penalty,
  top_logprobs: opt(z.number().int().min(0).max(20)),
  logit_bias: opt(z.record(z.string().regex(/^\d+$/, 'a logit_bias key is a token id: a decimal integer'), z.number().min(-100).max(100))),
};

/**
 * OpenAI's chat `response_format` (`ChatCompletionCreateParams['response_format']`, openai 7.x: ResponseFormatText,
 * ResponseFormatJSONObject, ResponseFormatJSONSchema of shared.d.ts): `type` one of `text`, `json_object`, `json_schema`,
 * and a json_schema's `json_schema` with its `name` (a-z, A-Z, 0-9, _ and -, as OpenAI's 400 says: its pattern
 * `^[a-zA-Z0-9_-]+$`; its documented 64-character bound is left to OpenAI, and a longer name is cut in the 400s of
 * checkStrictChatResponseFormat), an
 * object `schema`, a string `description` and a boolean `strict` when sent. OpenAI refuses anything else with a 400 naming
 * the field (`Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'.`, param
 * `response_format.type`; `Missing required parameter: 'response_format.json_schema'.`); so does the gateway, for every
 * provider, before anything is counted or sent: an OpenAI-compatible server that ignores the format would otherwise answer
 * plain text, and an app that works here would fail on OpenAI (before session 50 any response_format went on as sent).
 * Loose: keys it does not read go on as sent; a strict schema's own rules are checkStrictChatResponseFormat's.
 */
const ResponseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().regex(/^[a-zA-Z0-9_-]+$/, "OpenAI takes a response format name of letters, digits, underscores and hyphens only (^[a-zA-Z0-9_-]+$)"),
      description: opt(z.string()),
      schema: opt(z.record(z.string(), z.unknown())),
      strict: opt(z.boolean()),
    }),
  }),
]);

/** OpenAI's `Metadata` (lib/openai-metadata.ts), where the endpoints' schemas import it from. */
export { Metadata };

export const ChatCompletionRequest = z.looseObject({
  metadata: opt(Metadata),
  safety_identifier: SafetyIdentifier,
  model: z.string().min(1).max(256),
  messages: z.array(ChatMessage).min(1),
  stream: opt(z.boolean()),
  /** OpenAI's `ChatCompletionStreamOptions`: both keys booleans (the gateway reads `include_usage`; `include_obfuscation` goes on as sent). */
  stream_options: opt(z.looseObject({ include_usage: opt(z.boolean()), include_obfuscation: opt(z.boolean()) })),
  max_tokens: TokenLimit,
  max_completion_tokens: TokenLimit,
  /** OpenAI allows 1 to 128 choices. */
  n: opt(z.number().int().min(1).max(128)),
  tools: opt(z.array(z.looseObject({ type: z.string() }))),
  /** The legacy function definitions (`ChatCompletionCreateParams.Function`), counted with the prompt's tokens. */
  functions: opt(z.array(z.looseObject({ name: z.string().min(1) }))),
  /** A predicted output (`ChatCompletionPredictionContent`): the caller's text, which the PII redaction reads too. */
  prediction: opt(z.looseObject({ type: z.literal('content'), content: TextContent })),
  response_format: opt(ResponseFormat),
  logprobs: opt(z.boolean()),
  /** OpenAI's `seed`: a 64-bit integer, as completions' (openai-issues.ts int64). */
  seed: opt(int64()),
  reasoning_effort: opt(oneOf(REASONING_EFFORTS, 'ReasoningEffort')),
  verbosity: opt(oneOf(VERBOSITIES, 'verbosity')),
  service_tier: opt(oneOf(CHAT_SERVICE_TIERS, 'ChatCompletionCreateParams.service_tier')),
  prompt_cache_retention: opt(oneOf(PROMPT_CACHE_RETENTIONS, 'ChatCompletionCreateParams.prompt_cache_retention')),
  ...SamplingBounds,
}).superRefine((body, ctx) => {
  // Fields that only mean something with another one, as the `openai` package documents them and OpenAI's API refuses:
  // a 400 naming the field, for every provider (a self-hosted server ignores them silently), before anything is counted
  // or sent: `stream_options` without `stream: true`, `top_logprobs` without `logprobs: true`, `tool_choice` and
  // `parallel_tool_calls` without `tools` (before 2026-12-04 those two went on, and OpenAI's 400 came back from the upstream).
  if (body.stream_options != null && body.stream !== true) {
    ctx.addIssue({ code: 'custom', path: ['stream_options'], message: 'the stream_options parameter is only allowed when stream is true (OpenAI: "Only set this when you set `stream: true`")' });
  }
  if (body.top_logprobs != null && body.logprobs !== true) {
    ctx.addIssue({ code: 'custom', path: ['top_logprobs'], message: 'top_logprobs needs logprobs: true (OpenAI: "`logprobs` must be set to `true` if this parameter is used")' });
  }
  // OpenAI's 400 "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified." (vLLM's too),
  // and the same for `parallel_tool_calls` (Upsonic/Upsonic#323); Bedrock and a lenient server would take either.
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  for (const field of ['tool_choice', 'parallel_tool_calls'] as const) {
    if ((body as Record<string, unknown>)[field] != null && !hasTools) {
      ctx.addIssue({ code: 'custom', path: [field], message: `the ${field} parameter is only allowed when tools are specified (OpenAI: "'${field}' is only allowed when 'tools' are specified.")` });
    }
  }
});

/** The request as the gateway hands it on: the caller's body, typed as the `openai` package defines it. */
export type ChatRequestBody = ChatCompletionCreateParams;

