import type { ChatCompletionCreateParamsBase, ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsBase } from 'openai/resources/images';
import { countTokens as o200kTokens } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * The fake upstream's strict mode (FakeUpstream.strict): the request checks OpenAI's API itself applies to a chat
 * completion or an embeddings request, each answered as OpenAI answers it: a 400 in OpenAI's error shape, its
 * message text where one is quoted in a public report (else the wording of OpenAI's own message for the nearest
 * rule, said so below), naming the field. Only rules with a source are here; each names its source:
 *
 * - the `openai` package's types and docs (node_modules/openai, 7.x): `ChatCompletionCreateParamsBase`,
 *   `ChatCompletionMessageParam`, `ResponseFormatJSONSchema`, `FunctionDefinition`, `EmbeddingCreateParams`;
 * - OpenAI's API reference (developers.openai.com/api/reference/resources/embeddings: "cannot be an empty string,
 *   and any array must be 2048 dimensions or less"; `dimensions` "only supported in text-embedding-3 and later models");
 * - public issue threads quoting OpenAI's 400, cited as owner/repo#number.
 *
 * The fake stands in for OpenAI and for other OpenAI-compatible servers (vLLM, TGI) alike: every rule applies to every
 * request, so that a request the gateway forwards and that would fail on OpenAI fails here too, except the rules of
 * OpenAI's own API surface, which apply only when the upstream `model` is one of OpenAI's ids (OPENAI_MODEL): a field
 * OpenAI does not know, `metadata` without `store`, `max_tokens` with `max_completion_tokens`, `reasoning_effort` on a
 * model that does not reason, sampling on a reasoning model, the model's input limit. An OpenAI-compatible
 * server takes those (vLLM ignores a field it does not know and reads its own extras, `top_k`, `chat_template_kwargs`),
 * and the gateway passes them on to such a server by design (docs/gateway.md, "The contract"), and maps them for
 * OpenAI itself (providers/http-openai-compatible.ts, forOpenAi).
 */

/** OpenAI's error answer: status 400 and `{ error: { message, type, param, code } }`. */
export interface OpenAiRefusal {
  status: 400;
  error: { message: string; type: 'invalid_request_error'; param: string | null; code: string | null };
}

const refusal = (message: string, param: string | null = null, code: string | null = null): OpenAiRefusal => ({
  status: 400, error: { message, type: 'invalid_request_error', param, code },
});

/**
 * Every top-level field of `ChatCompletionCreateParamsBase` (the `openai` package): the compile fails when the
 * package adds one that is not listed here.
 */
const CHAT_FIELDS = [
  'messages', 'model', 'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs',
  'max_completion_tokens', 'max_tokens', 'metadata', 'modalities', 'moderation', 'n', 'parallel_tool_calls', 'prediction',
  'presence_penalty', 'prompt_cache_key', 'prompt_cache_options', 'prompt_cache_retention', 'reasoning_effort',
  'response_format', 'safety_identifier', 'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options',
  'temperature', 'tool_choice', 'tools', 'top_logprobs', 'top_p', 'user', 'verbosity', 'web_search_options',
] as const satisfies ReadonlyArray<keyof ChatCompletionCreateParamsBase>;
const _everyChatField: [Exclude<keyof ChatCompletionCreateParamsBase, (typeof CHAT_FIELDS)[number]>] extends [never] ? true : false = true;
void _everyChatField;

/** Every field of `EmbeddingCreateParams` (the `openai` package), checked likewise. */
const EMBEDDING_FIELDS = ['input', 'model', 'dimensions', 'encoding_format', 'user'] as const satisfies ReadonlyArray<keyof EmbeddingCreateParams>;
const _everyEmbeddingField: [Exclude<keyof EmbeddingCreateParams, (typeof EMBEDDING_FIELDS)[number]>] extends [never] ? true : false = true;
void _everyEmbeddingField;

/** `ImageGenerateParams`'s fields (the `openai` package's type: every one, checked below). */
const IMAGE_FIELDS = [
  'prompt', 'background', 'complexity', 'frame_count', 'frame_duration_ms', 'model', 'moderation', 'n', 'output_compression', 'output_format', 'partial_images',
  'quality', 'response_format', 'safety_identifier', 'size', 'stream', 'style', 'svg', 'user',
] as const satisfies ReadonlyArray<keyof ImageGenerateParamsBase>;
const _everyImageField: [Exclude<keyof ImageGenerateParamsBase, (typeof IMAGE_FIELDS)[number]>] extends [never] ? true : false = true;
void _everyImageField;

/** The roles of `ChatCompletionMessageParam`, in the order of OpenAI's message for an unknown one. */
const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'] as const satisfies ReadonlyArray<ChatCompletionMessageParam['role']>;
const _everyRole: [Exclude<ChatCompletionMessageParam['role'], (typeof ROLES)[number]>] extends [never] ? true : false = true;
void _everyRole;

/** A function's (and a json_schema response format's) name: "a-z, A-Z, 0-9, or … underscores and dashes, with a maximum length of 64" (`FunctionDefinition`, `ResponseFormatJSONSchema.JSONSchema`). */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The tool types of `ChatCompletionTool` (a function or a custom tool), checked likewise. */
const TOOL_TYPES = ['function', 'custom'] as const satisfies ReadonlyArray<ChatCompletionTool['type']>;
const _everyToolType: [Exclude<ChatCompletionTool['type'], (typeof TOOL_TYPES)[number]>] extends [never] ? true : false = true;
void _everyToolType;
/** `tool_choice` (`ChatCompletionToolChoiceOption`): a string of these, or an object of those types. */
type ChoiceObject = Exclude<ChatCompletionToolChoiceOption, string>;
const CHOICE_MODES = ['none', 'auto', 'required'] as const satisfies ReadonlyArray<Extract<ChatCompletionToolChoiceOption, string>>;
const CHOICE_TYPES = ['function', 'custom', 'allowed_tools'] as const satisfies ReadonlyArray<ChoiceObject['type']>;
const _everyChoice: [Exclude<ChoiceObject['type'], (typeof CHOICE_TYPES)[number]> | Exclude<Extract<ChatCompletionToolChoiceOption, string>, (typeof CHOICE_MODES)[number]>] extends [never] ? true : false = true;
void _everyChoice;

/**
 * OpenAI's form for a value outside an enum ("Invalid value: 'bot'. Supported values are: 'a' and 'b'.", code
 * invalid_value): no public report quotes OpenAI's 400 for a tool type or tool choice it does not define, so the
 * wording is the fake's, in the form of OpenAI's other invalid_value answers, naming the field and the value.
 */
function notOneOf(field: string, value: unknown, values: readonly string[]): OpenAiRefusal | undefined {
  if (values.includes(value as never)) return undefined;
  const quoted = values.map((v) => `'${v}'`);
  const list = quoted.length <= 2 ? quoted.join(' and ') : `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
  return refusal(`Invalid value: '${typeof value === 'string' ? value : JSON.stringify(value)}'. Supported values are: ${list}.`, field, 'invalid_value');
}

/** `tools[i].type` and `tool_choice` (its string, its `type`) outside what `ChatCompletionCreateParamsBase` defines. */
function toolTypeRefusal(tools: unknown, choice: unknown): OpenAiRefusal | undefined {
  if (Array.isArray(tools)) {
    for (const [i, t] of tools.entries()) {
      const refused = notOneOf(`tools[${i}].type`, (t as { type?: unknown } | null)?.type, TOOL_TYPES);
      if (refused) return refused;
    }
  }
  if (!present(choice)) return undefined;
  if (typeof choice !== 'object') return notOneOf('tool_choice', choice, CHOICE_MODES);
  return notOneOf('tool_choice.type', (choice as { type?: unknown }).type, CHOICE_TYPES);
}


/**
 * OpenAI's reasoning models, which take `max_completion_tokens` only: the o-series (the `openai` package:
 * `max_tokens` "is not compatible with o-series models") and gpt-5 (the same 400 reported against gpt-5.2 and
 * gpt-5.4-mini: devnullvoid/dms-ai-assistant#12).
 */
const REASONING_MODEL = /^(o\d|gpt-5)/;

/**
 * The reasoning models that take no sampling settings: `temperature` and `top_p` other than the default 1 are a 400
 * "Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is supported."
 * (param temperature, code unsupported_value: diffbot/code-gpt-docs#445 for gpt-5, johny-b/llmcomp#69 for gpt-5.4;
 * `top_p` is refused in the same words). gpt-5's chat variants (`gpt-5-chat-latest`) are not reasoning models and take them.
 */
const FIXED_SAMPLING_MODEL = (model: string) => REASONING_MODEL.test(model) && !/-chat/.test(model);

/**
 * OpenAI's input limits, by model id prefix, with the words of its 400 `context_length_exceeded` (param `messages`):
 * gpt-5's "Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in N tokens. Please reduce
 * the length of the messages." (its 400,000 context less 128,000 of output: cline/cline#5474, RooCodeInc/Roo-Code#6856),
 * the older models' "This model's maximum context length is 128000 tokens. However, your messages resulted in N tokens.
 * Please reduce the length of the messages." (bytedance/deer-flow#310, vanna-ai/vanna#320). Windows from OpenAI's model
 * pages: gpt-4o and gpt-4o-mini 128,000, gpt-4.1 1,047,576, o3 and o4-mini 200,000, gpt-3.5-turbo 16,385.
 */
const CONTEXT_LIMITS: ReadonlyArray<{ model: RegExp; tokens: number; inputLimit?: true }> = [
  { model: /^gpt-5/, tokens: 272_000, inputLimit: true },
  { model: /^gpt-4\.1/, tokens: 1_047_576 },
  { model: /^(gpt-4o|chatgpt-4o)/, tokens: 128_000 },
  { model: /^o[34]/, tokens: 200_000 },
  { model: /^gpt-3\.5-turbo/, tokens: 16_385 },
];

/** A run without whitespace longer than this is counted in slices of this many characters (`textTokens`). */
const LONG_RUN = 256;
const LONG_RUNS = new RegExp(`\\S{${LONG_RUN + 1},}`, 'g');

/**
 * o200k_base tokens of `text`, near enough for the limit: a run of more than LONG_RUN characters without whitespace (a
 * base64 blob, `'a' * 100000`, CJK without spaces) is counted slice by slice. gpt-tokenizer merges one such run in time
 * quadratic in its length (bytePairMerge: 32,000 letters took 1.4 s, a 1 MiB body minutes, the fake answering no other
 * request meanwhile); slices cost linear time and count at most one token more per slice than the whole run.
 */
function textTokens(text: string): number {
  let total = o200kTokens(text.replace(LONG_RUNS, '')); // a run ends at whitespace or the text's end: nothing joins
  for (const [run] of text.matchAll(LONG_RUNS)) for (let i = 0; i < run.length; i += LONG_RUN) total += o200kTokens(run.slice(i, i + LONG_RUN));
  return total;
}

/**
 * A chat request's prompt tokens as OpenAI counts them for its current models, near enough for the limit: o200k_base
 * (gpt-tokenizer, not the gateway's own counter; `textTokens`) over each message's text (a string, or its `text` parts; a tool call's
 * name and arguments), 3 per message and 3 priming the reply (OpenAI's cookbook, "How to count tokens").
 */
function promptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let total = 3;
  for (const m of messages as Array<Record<string, any>>) {
    total += 3;
    const content = m?.content;
    if (typeof content === 'string') total += textTokens(content);
    else if (Array.isArray(content)) for (const part of content) if (typeof part?.text === 'string') total += textTokens(part.text);
    if (Array.isArray(m?.tool_calls)) for (const c of m.tool_calls) total += textTokens(`${c?.function?.name ?? ''}${c?.function?.arguments ?? ''}`);
  }
  return total;
}

/** The 400 `context_length_exceeded` of a prompt over the model's input limit (CONTEXT_LIMITS), if it is one of OpenAI's models with a known limit. */
function contextRefusal(model: unknown, messages: unknown): OpenAiRefusal | undefined {
  if (typeof model !== 'string') return undefined;
  const limit = CONTEXT_LIMITS.find((l) => l.model.test(model));
  if (!limit) return undefined;
  const tokens = promptTokens(messages);
  if (tokens <= limit.tokens) return undefined;
  return refusal(limit.inputLimit
    ? `Input tokens exceed the configured limit of ${limit.tokens} tokens. Your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`
    : `This model's maximum context length is ${limit.tokens} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`, 'messages', 'context_length_exceeded');
}

/**
 * OpenAI's model ids, as the gateway sends them upstream (the catalog's `upstream`, e.g. `gpt-4o-mini` for
 * `openai/gpt-4o-mini`): the GPT and o-series chat models, fine-tunes (`ft:`), the embedding and moderation models.
 */
const OPENAI_MODEL = /^(gpt-|chatgpt-|o\d|ft:|text-embedding-|omni-moderation|text-moderation)/;

/** Whether `model` is one of OpenAI's ids (OPENAI_MODEL), whose requests get the rules of OpenAI's own API surface too. */
export function isOpenAiModel(model: unknown): boolean {
  return typeof model === 'string' && OPENAI_MODEL.test(model);
}

const present = (v: unknown) => v !== undefined && v !== null;

/**
 * OpenAI's message for a number out of range, as it answers `n: 130` ("Invalid 'n': integer above maximum value.
 * Expected a value <= 128, but got 130 instead.", code integer_above_max_value: thisisartium/continuous-alignment-testing#25);
 * a decimal field's says "decimal" (the same wording, for the fields OpenAI types as numbers).
 */
function outOfRange(field: string, value: unknown, min: number, max: number, kind: 'integer' | 'decimal'): OpenAiRefusal | undefined {
  if (typeof value !== 'number') return undefined;
  if (value > max) return refusal(`Invalid '${field}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`, field, `${kind}_above_max_value`);
  if (value < min) return refusal(`Invalid '${field}': ${kind} below minimum value. Expected a value >= ${min}, but got ${value} instead.`, field, `${kind}_below_min_value`);
  return undefined;
}

/**
 * OpenAI's message for an array too long ("Invalid 'tools': array too long. Expected an array with maximum length 128,
 * but got an array with length 133 instead.": Upsonic/Upsonic#176; code array_above_max_length: openai/openai-dotnet#317)
 * or empty ("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.":
 * continuedev/continue#3370; `messages[1].tool_calls` likewise: openai/openai-node#1341).
 */
function arrayLength(field: string, value: unknown, max: number, min = 0): OpenAiRefusal | undefined {
  if (!Array.isArray(value)) return undefined;
  if (value.length > max) return refusal(`Invalid '${field}': array too long. Expected an array with maximum length ${max}, but got an array with length ${value.length} instead.`, field, 'array_above_max_length');
  if (value.length < min) return refusal(`Invalid '${field}': empty array. Expected an array with minimum length ${min}, but got an empty array instead.`, field, 'empty_array');
  return undefined;
}

/**
 * OpenAI's message for a name outside its pattern ("Invalid 'tools[0].function.name': string does not match pattern.
 * Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", code invalid_value: coinbase/agentkit#217, mcp-use/mcp-use#90).
 */
function badName(field: string, value: unknown): OpenAiRefusal | undefined {
  if (typeof value === 'string' && NAME.test(value)) return undefined;
  return refusal(`Invalid '${field}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, field, 'invalid_value');
}

/** "Unrecognized request argument supplied: <field>" (param and code null), OpenAI's answer to a field it does not know: davidmigloz/langchain_dart#712, coroot/coroot#698. */
function unknownField(body: Record<string, unknown>, known: readonly string[]): OpenAiRefusal | undefined {
  const field = Object.keys(body).find((k) => !known.includes(k));
  return field === undefined ? undefined : refusal(`Unrecognized request argument supplied: ${field}`);
}

/** The checks on `messages`: each message's role and content, and tool calls answered in order. */
function messageRefusal(messages: unknown): OpenAiRefusal | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (const [i, m] of messages.entries()) {
    const role = (m as { role?: unknown })?.role;
    // The roles of `ChatCompletionMessageParam`. No report quotes OpenAI's 400 for an unknown role: the wording is the
    // fake's, in the form of OpenAI's other invalid_value answers, naming the field and the value.
    if (!ROLES.includes(role as never)) {
      return refusal(`Invalid value: '${String(role)}'. Supported values are: ${ROLES.map((r) => `'${r}'`).join(', ').replace(/, ('developer')$/, ', and $1')}.`, `messages[${i}].role`, 'invalid_value');
    }
    // A user message's content is a string or parts (`ChatCompletionUserMessageParam.content` is required):
    // "Invalid value for 'content': expected a string, got null." (param messages.[0].content: langchain-ai/langchainjs#4153).
    if (role === 'user' && (m as { content?: unknown }).content == null) {
      return refusal("Invalid value for 'content': expected a string, got null.", `messages.[${i}].content`);
    }
    const calls = (m as { tool_calls?: unknown }).tool_calls;
    if (role === 'assistant') {
      const empty = arrayLength(`messages[${i}].tool_calls`, calls, Infinity, 1);
      if (empty) return empty;
    }
    if (role === 'assistant' && Array.isArray(calls) && calls.length) {
      // Each call answered by a tool message among those right after it: "An assistant message with 'tool_calls' must be
      // followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response
      // messages: call_…" (sdcb/chats#132, aliasrobotics/cai#111).
      const answered = new Set<unknown>();
      for (let j = i + 1; j < messages.length && messages[j]?.role === 'tool'; j++) answered.add(messages[j].tool_call_id);
      const missing = calls.map((c: { id?: unknown }) => c?.id).filter((id) => !answered.has(id));
      if (missing.length) {
        return refusal(`An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`, `messages.[${i}].role`);
      }
    }
    if (role === 'tool') {
      // A tool message answers a call of the assistant message before the run of tool messages it is in: "Invalid
      // parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'." (OpenAI's
      // spelling; param messages.[3].role: miurla/morphic#136, openai/openai-go#43).
      let k = i - 1;
      while (k >= 0 && messages[k]?.role === 'tool') k--;
      const before = messages[k] as { role?: unknown; tool_calls?: Array<{ id?: unknown }> } | undefined;
      const id = (m as { tool_call_id?: unknown }).tool_call_id;
      if (before?.role !== 'assistant' || !Array.isArray(before.tool_calls) || !before.tool_calls.some((c) => c?.id === id)) {
        return refusal("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", `messages.[${i}].role`);
      }
    }
  }
  return undefined;
}

/**
 * What OpenAI refuses of a chat completion request (`POST /v1/chat/completions`), the first refusal found; undefined
 * when it takes it. `body` is the request as JSON (anything that is not an object is left alone).
 */
export function chatRefusal(body: unknown): OpenAiRefusal | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, any>;
  const hasTools = Array.isArray(b.tools) && b.tools.length > 0;
  const openAi = isOpenAiModel(b.model);
  const checks: Array<() => OpenAiRefusal | undefined> = [
    () => (openAi ? unknownField(b, CHAT_FIELDS) : undefined),
    () => messageRefusal(b.messages),
    // `tools`: 1 to 128 of them, each function's name to the pattern (`FunctionDefinition.name`).
    () => arrayLength('tools', b.tools, 128, 1),
    // A tool type Chat Completions does not define (the Responses API's file_search), and a tool_choice likewise.
    () => toolTypeRefusal(b.tools, b.tool_choice),
    () => (Array.isArray(b.tools) ? b.tools.map((t: any, i: number) => (t?.type === 'function' ? badName(`tools[${i}].function.name`, t.function?.name) : undefined)).find(Boolean) : undefined),
    // "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified." (OpenAI's and vLLM's; commit f22afaa)
    () => (present(b.tool_choice) && !hasTools ? refusal("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice') : undefined),
    // "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified." (Upsonic/Upsonic#323)
    () => (present(b.parallel_tool_calls) && !hasTools ? refusal("Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.", 'parallel_tool_calls') : undefined),
    // "The 'metadata' parameter is only allowed when 'store' is enabled." (tmc/langchaingo#1484, looplj/axonhub#1380, spiceai/spiceai#5231)
    () => (openAi && present(b.metadata) && b.store !== true ? refusal("The 'metadata' parameter is only allowed when 'store' is enabled.", 'metadata') : undefined),
    // "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." (code unsupported_parameter: devnullvoid/dms-ai-assistant#12)
    () => (present(b.max_tokens) && typeof b.model === 'string' && REASONING_MODEL.test(b.model)
      ? refusal("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter') : undefined),
    // "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported." (code invalid_parameter_combination: langchain-ai/langgraph#5943)
    () => (openAi && present(b.max_tokens) && present(b.max_completion_tokens)
      ? refusal("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.", 'max_tokens', 'invalid_parameter_combination') : undefined),
    // `reasoning_effort` on a model that does not reason: "Unsupported parameter: 'reasoning_effort' is not supported with this model."
    // (code unsupported_parameter; the words OpenAI answers the Responses API's `reasoning.effort` with for gpt-4.1, BoundaryML/baml#2708,
    // the chat field named instead). A vLLM server takes it (gpt-oss): OpenAI's models only.
    () => (openAi && present(b.reasoning_effort) && !REASONING_MODEL.test(b.model)
      ? refusal("Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'reasoning_effort', 'unsupported_parameter') : undefined),
    // `temperature` / `top_p` other than 1 on a reasoning model (FIXED_SAMPLING_MODEL).
    ...(['temperature', 'top_p'] as const).map((field) => () => (openAi && present(b[field]) && b[field] !== 1 && FIXED_SAMPLING_MODEL(b.model)
      ? refusal(`Unsupported value: '${field}' does not support ${String(b[field])} with this model. Only the default (1) value is supported.`, field, 'unsupported_value') : undefined)),
    // `n` 1 to 128 (thisisartium/continuous-alignment-testing#25).
    () => outOfRange('n', b.n, 1, 128, 'integer'),
    // `top_logprobs` "An integer between 0 and 20 … `logprobs` must be set to `true` if this parameter is used" (`ChatCompletionCreateParamsBase`).
    () => outOfRange('top_logprobs', b.top_logprobs, 0, 20, 'integer'),
    // (No report quotes OpenAI's wording for the second: the message is the fake's, naming both fields.)
    () => (present(b.top_logprobs) && b.logprobs !== true ? refusal("Invalid value for 'top_logprobs': 'logprobs' must be set to true if 'top_logprobs' is used.", 'top_logprobs') : undefined),
    // "The 'stream_options' parameter is only allowed when 'stream' is enabled." (param stream_options: BerriAI/litellm#5803)
    () => (present(b.stream_options) && b.stream !== true ? refusal("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options') : undefined),
    // `temperature` "between 0 and 2", `top_p` a probability mass, the penalties "between -2.0 and 2.0" (`ChatCompletionCreateParamsBase`).
    () => outOfRange('temperature', b.temperature, 0, 2, 'decimal'),
    () => outOfRange('top_p', b.top_p, 0, 1, 'decimal'),
    () => outOfRange('frequency_penalty', b.frequency_penalty, -2, 2, 'decimal'),
    () => outOfRange('presence_penalty', b.presence_penalty, -2, 2, 'decimal'),
    // `stop`: "Up to 4 sequences" (`ChatCompletionCreateParamsBase`).
    () => arrayLength('stop', b.stop, 4),
    // `response_format` json_schema: `json_schema` and its `name` are required (`ResponseFormatJSONSchema`); "Missing required parameter:
    // 'response_format.json_schema'." (openai/openai-python#1632), and 'text.format.name' for the Responses API's (openai/openai-node#1404).
    () => {
      const format = b.response_format;
      if (format?.type !== 'json_schema') return undefined;
      if (!format.json_schema) return refusal("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
      if (!present(format.json_schema.name)) return refusal("Missing required parameter: 'response_format.json_schema.name'.", 'response_format.json_schema.name', 'missing_required_parameter');
      return badName('response_format.json_schema.name', format.json_schema.name);
    },
    () => (openAi ? contextRefusal(b.model, b.messages) : undefined),
  ];
  for (const check of checks) {
    const refused = check();
    if (refused) return refused;
  }
  return undefined;
}

/**
 * What OpenAI refuses of an embeddings request (`POST /v1/embeddings`), the first refusal found; undefined when it takes it.
 * - a field `EmbeddingCreateParams` does not have, for one of OpenAI's models (TEI and vLLM take their own, `truncate`):
 *   "Unrecognized request argument supplied: …";
 * - `dimensions` for text-embedding-ada-002: "This model does not support specifying dimensions." (param and code null:
 *   SciPhi-AI/R2R#768, sbintuitions/JMTEB#14; the reference: "Only supported in text-embedding-3 and later models");
 * - an empty string, alone or in the array: "'$.input' is invalid. Please check the API reference:
 *   https://platform.openai.com/docs/api-reference." (aryn-ai/sycamore#943, lightdash/lightdash#18938);
 * - more than 2048 inputs (strings or token arrays: "any array must be 2048 dimensions or less", the reference;
 *   openai/openai-python#118 tested the limit), in OpenAI's words for an array too long. An array of token ids is one
 *   input, whose length is the model's token limit (OpenAI's cookbook embeds 8,191-token chunks so), not this one.
 */
export function embeddingsRefusal(body: unknown): OpenAiRefusal | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, any>;
  const unknown = isOpenAiModel(b.model) ? unknownField(b, EMBEDDING_FIELDS) : undefined;
  if (unknown) return unknown;
  if (present(b.dimensions) && b.model === 'text-embedding-ada-002') return refusal('This model does not support specifying dimensions.');
  const input = b.input;
  if (input === '' || (Array.isArray(input) && input.includes(''))) {
    return refusal("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
  }
  return Array.isArray(input) && typeof input[0] !== 'number' ? arrayLength('input', input, 2048) : undefined;
}

/**
 * The checks of OpenAI's `POST /images/generations` (the `openai` package's `ImageGenerateParams`: `prompt` required,
 * `n` "Must be between 1 and 10"): a field it does not name, for OpenAI's image models (`dall-e-*`, `gpt-image-*`), in
 * the words of its unknown-parameter refusal; a missing `prompt`; `n` out of 1-10 (OpenAI's wording for an integer
 * below or above its bounds, as for embeddings' arrays, is not quoted in a public report: the nearest rule's).
 */
export function imagesRefusal(body: unknown): OpenAiRefusal | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, any>;
  const unknown = typeof b.model === 'string' && /^(dall-e-|gpt-image-)/.test(b.model) ? unknownField(b, IMAGE_FIELDS) : undefined;
  if (unknown) return unknown;
  if (typeof b.prompt !== 'string') return refusal("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  const n = b.n as unknown;
  if (present(n) && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10)) return refusal(`Invalid 'n': integer ${String(n)} is out of range; expected a value between 1 and 10.`, 'n', 'invalid_value');
  return undefined;
}

/**
 * The refusal for a request to `path` (`…/chat/completions` or `…/embeddings`, a POST), undefined for another path or
 * a request OpenAI takes. `rawBody` is the request's text; a body that is not JSON is left to the fake's own handling.
 */
export function openAiRefusal(method: string, path: string, rawBody: string): OpenAiRefusal | undefined {
  if (method !== 'POST') return undefined;
  const route = path.split('?')[0]!;
  const check = route.endsWith('/chat/completions') ? chatRefusal : route.endsWith('/embeddings') ? embeddingsRefusal : route.endsWith('/images/generations') ? imagesRefusal : undefined;
  if (!check) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  return check(body);
}
