import type { ModelEntry } from '../../../lib/config/schema.js';
import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, quoted, unknownParameter, type GatewayError } from '../openai-errors.js';
import { isOpenAIReasoningModel } from './encrypted-reasoning.js';
import { checkNestedFields } from './nested-fields.js';
import type { ResponsesRequestBody } from './request-schema.js';

/**
 * Every top-level field of a Responses request, and what becomes of it (docs/gateway.md's mapping
 * table says the same). `chat`: mapped onto the chat-completions request (chat-request.ts);
 * `gateway`: the gateway's own (storage, chaining, streaming, echoed in the Response; `max_tool_calls`
 * limits calls to built-in tools, of which the gateway serves none: accepted and echoed, a no-op);
 * `refused`: a 400 naming the field unless it is absent, null or the value that changes nothing.
 */
export const FIELDS = {
  model: 'gateway', input: 'chat', instructions: 'chat', previous_response_id: 'gateway', store: 'gateway', stream: 'gateway',
  tools: 'chat', tool_choice: 'chat', parallel_tool_calls: 'chat', text: 'chat', max_output_tokens: 'chat', temperature: 'chat',
  top_p: 'chat', top_logprobs: 'chat', metadata: 'gateway', user: 'chat', safety_identifier: 'chat', prompt_cache_key: 'chat',
  prompt_cache_retention: 'chat', service_tier: 'chat', reasoning: 'chat', include: 'chat', truncation: 'gateway', stream_options: 'gateway',
  max_tool_calls: 'gateway',
  conversation: 'gateway', background: 'gateway',
  prompt: 'refused', context_management: 'refused', moderation: 'refused', prompt_cache_options: 'refused',
  image: 'refused', access_programs: 'refused', background_options: 'refused',
} as const;

/**
 * `include` values the gateway honours: output-text logprobs (chat `logprobs`), the file_search tool's results (file-search.ts), and image URLs of
 * input messages (the stored input items keep them anyway). Every other value names output that
 * only OpenAI's hosted tools produce, except `reasoning.encrypted_content` (CREATE_INCLUDES).
 */
export const HONOURED_INCLUDES = ['message.output_text.logprobs', 'message.input_image.image_url', 'file_search_call.results'];

/**
 * `include` values POST /v1/responses honours: HONOURED_INCLUDES and `reasoning.encrypted_content` (each reasoning item
 * of the answer sealed by the gateway: encrypted-reasoning.ts, which refuses it for OpenAI's non-reasoning models). A
 * retrieve's `include` (GET /v1/responses/{id}, input items, conversation items) does not take it, as OpenAI's does not
 * ("Encrypted content cannot be requested for persisted responses."): a stored response is continued by
 * `previous_response_id`, not by sending its reasoning back.
 */
export const CREATE_INCLUDES = [...HONOURED_INCLUDES, 'reasoning.encrypted_content'];

/** OpenAI's `include` values (`ResponseIncludable`, openai 7.55 resources/responses/responses.d.ts). */
export const OPENAI_INCLUDES: readonly string[] = [
  'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url',
  'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', 'message.output_text.logprobs',
];

/**
 * The 400 for an `include` value the gateway does not honour: one of OpenAI's values that names
 * output only its hosted tools or encrypted reasoning produce (`unsupported_parameter`), or a value
 * that is none of OpenAI's (`invalid_value`, in OpenAI's words, listing them: a typo is not told it names hosted-tool output).
 * @param field the field as the request names it (`include[0]`, `include`)
 */
function includeRefused(field: string, value: string, hint = ''): GatewayError {
  const shown = value.slice(0, 100);
  // OpenAI's words for a value outside an enum ("Invalid value: 'x'. Supported values are: …", code invalid_value).
  if (!OPENAI_INCLUDES.includes(value)) return invalid(`Invalid value: '${shown}' (${field}). Supported values are: ${OPENAI_INCLUDES.map((v) => `'${v}'`).join(', ')}; this gateway honours ${HONOURED_INCLUDES.join(', ')}`, field, 'invalid_value');
  // OpenAI's answer to it on a retrieve, its words first and `param: 'include'` (pydantic-ai's Responses model, which asks
  // for it on create only, quotes them: models/openai/_responses_model.py _build_include), code null as OpenAI's answer to
  // it for a model without encrypted reasoning (encrypted-reasoning.ts).
  if (value === 'reasoning.encrypted_content') {
    const e = invalid(`Encrypted content cannot be requested for persisted responses. (${field} '${shown}': ask for it when creating the response, POST /v1/responses include: ['${shown}'], whose answer carries it; OpenAI refuses it on every retrieve too)`, 'include', 'unsupported_parameter');
    e.wireCode = null;
    return e;
  }
  return invalid(`${field} '${shown}' cannot be honoured: it names output of OpenAI's hosted tools, which chat-completions upstreams do not produce; this gateway honours ${HONOURED_INCLUDES.join(', ')} (and reasoning.encrypted_content when creating a response)${hint}`, field, 'unsupported_parameter');
}

/**
 * What a framework sends of its own accord that the gateway refuses, and the framework's setting that
 * leaves it out, appended to the 400 (keyed by the refused value or field). The Vercel AI SDK
 * (`@ai-sdk/openai` 4.0.118, `openai(model)` with `providerOptions.openai.forceReasoning`, which the
 * gateway's provider-prefixed model ids need: the SDK recognises reasoning models by OpenAI's bare ids)
 * adds `reasoning.summary: 'detailed'` to every reasoning effort (7.0; 6.0 does not). docs/gateway.md: Frameworks.
 */
const FRAMEWORK_HINTS: Record<string, string> = {
  'reasoning.summary': "; the Vercel AI SDK sends summary 'detailed' with a reasoning effort unless given providerOptions.openai.reasoningSummary: null",
  // pydantic-ai 2.78 (models/openai/_reasoning.py set_reasoning_context): 'all_turns' by default for the models its profile
  // says accept it (gpt-5.4 and later, by OpenAI's bare ids); its `openai_reasoning_context` setting sends the value given.
  'reasoning.context': "; pydantic-ai sends 'all_turns' for gpt-5.4 and later unless given model_settings={'openai_reasoning_context': 'current_turn'}",
};

const WHY: Record<string, string> = {
  prompt: "reusable prompt templates live in OpenAI's dashboard, which this gateway cannot read; send the prompt as instructions and input",
  context_management: 'server-side context compaction is not served by this gateway; leave it out',
  moderation: "OpenAI's moderation of responses is not served by this gateway (the tenant's guardrails apply to every request); leave it out",
  prompt_cache_options: 'prompt-cache options are not served by this gateway; leave them out (prompt_cache_key and prompt_cache_retention are forwarded)',
  image: "request-level image options (context_compression) are not served by this gateway: chat-completions upstreams take none; leave it out",
  access_programs: "OpenAI's domain-specific access programs are not served by this gateway (its upstreams are chat-completions models); leave it out",
  background_options: 'background execution options are not served by this gateway (background: true is, without options); leave them out',
};

/**
 * Refuses what the gateway cannot honour, before anything is counted or sent: unknown or refused
 * top-level fields, then keys inside the request's objects that would be dropped (nested-fields.ts).
 * @throws GatewayError 400 `unknown_parameter` naming a top-level field the Responses API does not define, in OpenAI's
 *   words (`Unknown parameter: 'foo'.`, then where such a field goes); 400 `unsupported_parameter` naming a field the
 *   gateway does not serve (`include[1]`, `reasoning.summary` other than `auto`, `input[0].content[1].foo`, …)
 * (`reasoning.context`, whose answer depends on the model, is checkReasoningContext's, once the model is known)
 */
export function checkRequestFields(body: ResponsesRequestBody): void {
  const raw = body as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(raw)) {
    const kind = (FIELDS as Record<string, string>)[field];
    // OpenAI's words, param and code for a field it does not know (`Unknown parameter: 'system'.`, code unknown_parameter), then where such a field goes here.
    if (kind === undefined) throw unknownParameter(shownKey(field), 'This gateway\'s /v1/responses does not map it; leave it out (provider-specific fields are not forwarded from /v1/responses: use /v1/chat/completions for them)');
    if (kind === 'refused' && value != null) throw invalid(`${field}: ${WHY[field]}`, field, 'unsupported_parameter');
  }
  if (body.service_tier === 'ultrafast') throw invalid("service_tier 'ultrafast' is an access-controlled tier of OpenAI's Responses API that chat-completions requests do not have, and this gateway's upstreams are chat-completions models; send auto, default, flex, scale, priority or fast", 'service_tier', 'unsupported_parameter');
  (body.include ?? []).forEach((value, i) => {
    if (!CREATE_INCLUDES.includes(value)) throw includeRefused(`include[${i}]`, value, FRAMEWORK_HINTS[value]);
  });
  if (body.stream_options?.include_obfuscation === true) throw invalid('stream_options.include_obfuscation true is not served: stream events carry no obfuscation padding; leave it out or send false', 'stream_options.include_obfuscation', 'unsupported_parameter');
  checkReasoningSummary(body.reasoning);
  if (body.stream !== true && body.stream_options != null) throw invalid('stream_options is only allowed with stream: true', 'stream_options', 'invalid_request');
  checkNestedFields(body);
}

/**
 * `reasoning.summary` (and the deprecated `reasoning.generate_summary`): `auto` is taken, `concise` and `detailed`
 * refused. OpenAI's reasoning guide: `auto` asks for the most detailed summarizer available for the model, and which
 * summarizers a model has differs by model (the API reference: `concise` only for `computer-use-preview` and the
 * reasoning models after gpt-5). A chat-completions upstream has no summarizer, so `auto` is honoured with none: the
 * reasoning item's `summary` stays empty, as it does at OpenAI for a model without one, and the Response echoes
 * `auto`. LangChain's documented `reasoning={"effort": "medium", "summary": "auto"}` thus works. `concise` and
 * `detailed` ask for a summary of a given kind, which the gateway cannot produce (its upstreams' thinking is raw
 * reasoning text, never passed off as a summary): a 400 rather than a silently empty summary.
 * @throws GatewayError 400 `unsupported_parameter` naming `reasoning.summary` or `reasoning.generate_summary` and the value
 */
function checkReasoningSummary(reasoning: ResponsesRequestBody['reasoning']): void {
  for (const field of ['summary', 'generate_summary'] as const) {
    const value = reasoning?.[field];
    if (value == null || value === 'auto') continue;
    throw invalid(`reasoning.${field} '${quoted(value)}' is not served: chat-completions upstreams return no reasoning summaries, so no ${quoted(value)} summary can be made; send 'auto' (the reasoning item's summary then stays empty, as OpenAI leaves it for a model without a summarizer) or leave it out (reasoning.effort is forwarded as reasoning_effort)${FRAMEWORK_HINTS[`reasoning.${field}`] ?? ''}`, `reasoning.${field}`, 'unsupported_parameter');
  }
}

/**
 * `reasoning.context` (OpenAI's `Reasoning.context`: which reasoning items are rendered back to the model on later turns;
 * `auto` lets the model decide, `current_turn` renders the current turn's, `all_turns` those of earlier turns too),
 * checked once the model is known (after its 404 `model_not_found`), as OpenAI does: its refusals of the field are the
 * model's ("Unsupported value: 'all_turns' is not supported with the 'gpt-5-pro' model", as OpenAI answers it, quoted
 * in maximhq/bifrost#7140), so a request for an unknown model is told the model is unknown first.
 * - A model of the `openai` provider that is not one of OpenAI's reasoning models (isOpenAIReasoningModel) takes no
 *   `reasoning` field: OpenAI's 400 "Unsupported parameter: 'reasoning.context' is not supported with this model.",
 *   param `reasoning.context`, code `unsupported_parameter` (the words OpenAI answers `reasoning.effort` with on
 *   gpt-4o, as BerriAI/litellm#38842 quotes them). Other providers' models are taken: whether they reason shows only in
 *   the answer.
 * - The gateway's upstreams take no reasoning back (chat-completions messages carry none: every replayed `reasoning`
 *   item is left out of what the upstream gets, items-to-messages.ts), so no earlier turn's reasoning reaches the model:
 *   `auto` and `current_turn` are taken (the Response echoes `current_turn`, the mode in effect: response-object.ts),
 *   and `all_turns`, which asks for earlier turns' reasoning in the model's context, is refused rather than answered
 *   without it.
 * @param model the catalog entry the request resolved to (`id` `<provider>/…`, `upstream` the provider's model name)
 * @throws GatewayError 400 `unsupported_parameter` naming `reasoning.context` (and `all_turns` when that is the refusal)
 */
export function checkReasoningContext(reasoning: ResponsesRequestBody['reasoning'], model: Pick<ModelEntry, 'id' | 'upstream'>): void {
  if (reasoning?.context == null) return;
  if (model.id.startsWith('openai/') && !isOpenAIReasoningModel(model.upstream)) {
    throw invalid("Unsupported parameter: 'reasoning.context' is not supported with this model.", 'reasoning.context', 'unsupported_parameter');
  }
  if (reasoning.context !== 'all_turns') return;
  throw invalid(`reasoning.context 'all_turns' is not served: it asks that earlier turns' reasoning items be rendered back to the model, and this gateway's upstreams take no reasoning back (chat-completions messages carry none; reasoning items sent back are left out of what the upstream gets); send 'current_turn' or 'auto' (in effect: current_turn) or leave it out${FRAMEWORK_HINTS['reasoning.context']}`, 'reasoning.context', 'unsupported_parameter');
}

/**
 * The `include` of `GET /v1/responses/{id}` (and of its `input_items`, and of a conversation's items), as the query
 * names it: `include`, `include[]` (the official clients' list: `include[]=a&include[]=b`) or `include[0]`. Each value
 * must be one the gateway honours, as `POST /v1/responses` requires: the others name output it never produces. Every
 * value of a repeated key is checked (`queryValues`): the single-value query maps (API Gateway's
 * `queryStringParameters`, serve's) keep only the last, and a refused value before an honoured one went unseen.
 * @param queryValues every value of each repeated key (GatewayRequest `queryValues`) @default - the last value only
 * @returns the values, in the order given, each with the name a 400 gives it: `include[i]`, i its place among them
 *   (an empty value, `?include=`, asks for nothing, as no include does, and is left out)
 * @throws GatewayError 400 `unsupported_parameter` naming `include[i]` (`invalid_value` for a value that is none of OpenAI's)
 */
export function checkIncludeQuery(query: Record<string, string | undefined>, queryValues?: Readonly<Record<string, readonly string[]>>): IncludeQueryValue[] {
  const given: string[] = [];
  for (const [key, last] of Object.entries(query)) {
    if (/^include(\[\d*\])?$/.test(key) && last !== undefined) given.push(...(queryValues?.[key] ?? [last]));
  }
  const values = given.map((value, i) => ({ value, field: `include[${i}]` })).filter(({ value }) => value !== '');
  for (const { value, field } of values) if (!HONOURED_INCLUDES.includes(value)) throw includeRefused(field, value);
  return values;
}

/** One value of a query's `include` (checkIncludeQuery) and the name a 400 gives it (`include[1]`). */
export interface IncludeQueryValue {
  value: string;
  field: string;
}
