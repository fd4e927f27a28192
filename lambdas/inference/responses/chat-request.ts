import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatRequestBody } from '../chat/request-schema.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { plainContentOf, type InputItem } from './input-items.js';
import { chatParamToRequest, itemsToMessages, type MessageSource } from './items-to-messages.js';
import type { ResponsesRequestBody } from './request-schema.js';
import { textFormatToChat } from './text-format.js';
import { toolChoiceToChat, toolsToChat } from './tools.js';

/** A chat request made from a Responses request, and where its parts sit in `messages`. */
export interface TranslatedRequest {
  body: ChatRequestBody;
  /** Messages before the conversation: 1 for `instructions`, else 0 (they are not carried to the next turn). */
  leading: number;
  /** Where each of `body.messages` comes from in the Responses request (chatParamToRequest). */
  sources: MessageSource[];
  /** The Responses field that `logprobs` (and `top_logprobs`) came from: the `include` entry that asked for them. */
  logprobsFrom?: string;
  /**
   * The ids of the conversation's items, in order, when the history is a conversation's
   * (`conversation` on /v1/responses): an error about one of them names `conversation` and the item's id.
   * @default - none (the history, if any, is the chained response's)
   */
  conversationItemIds?: readonly string[];
}

/**
 * A chat request field (outside `messages`) as the Responses request's field it was made from, or
 * undefined when it has the same name (`temperature`, `top_p`, `user`, `tool_choice`, …):
 * `max_completion_tokens` → `max_output_tokens`, `reasoning_effort` → `reasoning.effort`,
 * `verbosity` → `text.verbosity`, `response_format[.type|.json_schema.X]` → `text.format[.type|.X]`,
 * `tools[i].function.X` and `tools[i].custom.X` → `tools[i].X` (a custom tool's `custom.format.grammar.X` →
 * `tools[i].format.X`, flat in the Responses API's grammar format), `tool_choice.function.name` and
 * `tool_choice.custom.name` → `tool_choice.name`,
 * `tool_choice.allowed_tools.tools[i]…` → `tool_choice.tools[i]`, `logprobs` → the `include` entry
 * that asked for it (`logprobsFrom`).
 */
function fieldToRequest(param: string, logprobsFrom: string | undefined): string | undefined {
  const rules: Array<[RegExp, string | ((m: RegExpExecArray) => string)]> = [
    [/^max_completion_tokens$/, 'max_output_tokens'],
    [/^reasoning_effort$/, 'reasoning.effort'],
    [/^verbosity$/, 'text.verbosity'],
    [/^response_format\.json_schema(.*)$/, (m) => `text.format${m[1]}`],
    [/^response_format(.*)$/, (m) => `text.format${m[1]}`],
    [/^tools\[(\d+)\]\.function(.*)$/, (m) => `tools[${m[1]}]${m[2]}`],
    [/^tools\[(\d+)\]\.custom\.format\.grammar(.*)$/, (m) => `tools[${m[1]}].format${m[2]}`],
    [/^tools\[(\d+)\]\.custom(.*)$/, (m) => `tools[${m[1]}]${m[2]}`],
    [/^tool_choice\.(?:function|custom)\.name$/, 'tool_choice.name'],
    [/^tool_choice\.allowed_tools\.tools(.*)$/, (m) => `tool_choice.tools${m[1]}`],
    [/^logprobs$/, logprobsFrom ?? 'include'],
  ];
  for (const [pattern, to] of rules) {
    const m = pattern.exec(param);
    if (m) return typeof to === 'string' ? to : to(m);
  }
  return undefined;
}

/**
 * Every path in prose that starts with the chat field `root` (`response_format`, `response_format.type`,
 * `tools[0].function.name`), as a whole path: `logprobs`, not the one inside `top_logprobs`; not one
 * inside a model id or another name (`gpt-logprobs`, `org/verbosity`); a sentence's full stop after
 * it is not part of a path. (Escaped by hand: `RegExp.escape` is ES2025, past the ES2023 lib of tsconfig.json.)
 */
function pathsFrom(root: string): RegExp {
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.\\]/:-])${escaped}(?:\\.\\w+|\\[\\d+\\])*(?![\\w/[-]|\\.\\w)`, 'g');
}

/**
 * An error about the translated chat request (a guardrail's, an upstream's 400, a provider's
 * refusal) in the Responses request's terms: a `param` under `messages` (`messages[1].content`, or
 * `messages.[1].content` as OpenAI writes some) becomes the field it was made from
 * (`input[1].output`), in the message too where it quotes the path; a field the translation renamed
 * (`max_completion_tokens`, `response_format.json_schema.schema`, `verbosity`, `logprobs`, …:
 * `fieldToRequest`) becomes the field the caller sent (`max_output_tokens`, `text.format.schema`,
 * `text.verbosity`, `include[0]`) wherever a message that opens with it names it; a message that names it
 * elsewhere (an upstream's own words) is kept whole after the caller's field (`reasoning.effort was refused
 * as reasoning_effort, … (the upstream said: Unsupported parameter: 'reasoning_effort' …)`), so it never names
 * only a field the caller did not send; any other error is returned as it is.
 */
export function inRequestTerms(e: unknown, translated: Pick<TranslatedRequest, 'sources' | 'logprobsFrom' | 'conversationItemIds'>): unknown {
  if (!(e instanceof GatewayError) || typeof e.param !== 'string') return e;
  if (!/^messages(\.?\[|$)/.test(e.param)) {
    const field = fieldToRequest(e.param, translated.logprobsFrom);
    if (field === undefined) return e;
    // Where the message opens with the field (the gateway's and the providers' refusals: `<field> is not supported …`), the field is renamed wherever
    // the refusal names it, its advice too (Bedrock's json_object refusal ends "send response_format json_schema").
    // Each path from the same chat field is renamed as a whole (`response_format.type` → `text.format.type`, not `text.format.type`'s head only).
    // An upstream's prose that names the chat field elsewhere (OpenAI: "Unsupported parameter: 'reasoning_effort' is not supported with this model.")
    // is not rewritten, so its words stay visible as it said them: the message opens with the caller's field and quotes the upstream.
    const root = /^[A-Za-z_]\w*/.exec(e.param)?.[0] ?? e.param;
    const message = e.message.startsWith(e.param) ? e.message.replace(pathsFrom(root), (path) => fieldToRequest(path, translated.logprobsFrom) ?? path)
      : e.message.search(pathsFrom(root)) >= 0 ? `${field} was refused as ${e.param}, the chat-completions field the gateway sends it as (the upstream said: ${e.message})`
        : e.message;
    return Object.assign(new GatewayError(e.status, message, e.type, e.code, field, e.headers), { audit: e.audit });
  }
  let param = chatParamToRequest(e.param, translated.sources);
  if (param === e.param) return e;
  let shown = param;
  // A message of the conversation's items (`conversation` on /v1/responses): the request's field is `conversation`, the prose names the item by its id
  // (the caller can retrieve or delete it), and the part of it when the path goes inside it.
  const inConversation = /^conversation\.items\[(\d+)\](.*)$/.exec(param);
  if (inConversation) {
    const itemId = translated.conversationItemIds?.[Number(inConversation[1])];
    param = 'conversation';
    shown = `conversation item ${itemId ?? `#${inConversation[1]}`}${inConversation[2] ? ` (${inConversation[2].replace(/^\./, '')})` : ''}`;
  }
  // A path (`messages[1].content`) is rewritten where the message quotes it; the bare word `messages` is left in prose ("your messages resulted in …").
  const message = e.param === 'messages' ? e.message : e.message.split(e.param).join(shown);
  return Object.assign(new GatewayError(e.status, message, e.type, e.code, param, e.headers), { audit: e.audit });
}

/**
 * A Responses request as a chat-completions request (the mapping table of docs/gateway.md):
 * - `instructions` → a leading `system` message (every provider maps `system`; not kept for the
 *   next turn, as OpenAI does not carry instructions over `previous_response_id`);
 * - `history` (the previous response's conversation when chaining, or the conversation's items with
 *   `conversation`) then `items` → `messages`; `historySources` says where each history message comes
 *   from (MessageSource; default: the chained response, `previous_response_id`)
 *   (a content the caller sent as a string stays a string: `input: "hello"` → `content: "hello"`);
 * - `tools`, `tool_choice`, `parallel_tool_calls` (only with tools, as chat requires) → the same; a `tool_choice`
 *   of `none` or `auto` without tools is not sent (it asks for nothing, and chat refuses a tool_choice without
 *   tools: OpenAI's 400 "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are
 *   specified.", vLLM's likewise; LlamaIndex's `OpenAIResponses` sends `tool_choice: 'none'` without tools for
 *   `structured_predict` and `as_structured_llm`, llama-index-llms-openai 0.8.3; `required` or a named function
 *   without tools is a 400 before this mapping, references.ts);
 * - `text.format` → `response_format`; `text.verbosity` → `verbosity`;
 * - `max_output_tokens` → `max_completion_tokens`; `reasoning.effort` → `reasoning_effort`;
 * - `temperature`, `top_p`, `user`, `safety_identifier`, `prompt_cache_key`,
 *   `prompt_cache_retention`, `service_tier` → the same;
 * - `include: ['message.output_text.logprobs']` → `logprobs: true` (and `top_logprobs` when set); without
 *   that include neither is sent (`top_logprobs` alone asks for nothing, as at OpenAI; it is still echoed).
 * `metadata` and `store` stay with the gateway (they describe the stored Response, not the model call).
 * @throws GatewayError 400 naming the field of the Responses request that cannot be mapped, or `input` when there is nothing to answer
 */
export function chatRequestOf(req: ResponsesRequestBody, history: ChatCompletionMessageParam[], items: InputItem[], historySources?: readonly MessageSource[]): TranslatedRequest {
  const leading: ChatCompletionMessageParam[] = req.instructions ? [{ role: 'system', content: req.instructions }] : [];
  const sources: MessageSource[] = [...leading.map(() => ({ kind: 'instructions' as const })), ...(historySources ?? history.map(() => ({ kind: 'history' as const })))];
  const conversation = itemsToMessages(items, 'input', plainContentOf(req.input as Parameters<typeof plainContentOf>[0]), sources);
  // `input: "hello"` is one user message: its content is `input` itself.
  if (typeof req.input === 'string') sources[sources.length - 1] = { kind: 'input' };
  const messages = [...leading, ...history, ...conversation];
  if (messages.length === leading.length) throw invalid('input is required: a string or a list of items (messages, function_call_output, …)', 'input', 'missing_required_parameter');
  const tools = toolsToChat(req.tools as Array<Record<string, unknown>> | null | undefined);
  const toolChoice = toolChoiceToChat(req.tool_choice as string | Record<string, unknown> | null | undefined);
  const format = textFormatToChat(req.text?.format as Record<string, unknown> | null | undefined);
  // Logprobs come back only when `include` asks for them (OpenAI's Responses API): `top_logprobs` alone asks for nothing, and reasoning models refuse `logprobs`.
  const logprobs = (req.include ?? []).includes('message.output_text.logprobs');
  const body: Record<string, unknown> = {
    model: req.model,
    messages,
    ...(req.stream === true ? { stream: true } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice !== undefined && (tools || (toolChoice !== 'none' && toolChoice !== 'auto')) ? { tool_choice: toolChoice } : {}),
    ...(tools && req.parallel_tool_calls != null ? { parallel_tool_calls: req.parallel_tool_calls } : {}),
    ...(format ? { response_format: format } : {}),
    ...(req.text?.verbosity != null ? { verbosity: req.text.verbosity } : {}),
    ...(req.max_output_tokens != null ? { max_completion_tokens: req.max_output_tokens } : {}),
    ...(req.reasoning?.effort != null ? { reasoning_effort: req.reasoning.effort } : {}),
    ...(logprobs ? { logprobs: true } : {}),
    ...(logprobs && req.top_logprobs != null ? { top_logprobs: req.top_logprobs } : {}),
  };
  for (const field of ['temperature', 'top_p', 'user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'service_tier'] as const) {
    if (req[field] != null) body[field] = req[field];
  }
  const at = (req.include ?? []).indexOf('message.output_text.logprobs');
  return { body: body as unknown as ChatRequestBody, leading: leading.length, sources, ...(at >= 0 ? { logprobsFrom: `include[${at}]` } : {}) };
}

/**
 * Maps what `chatRequestOf` maps of the request alone (items, tools, tool_choice, text.format),
 * to refuse it before anything is counted or read.
 * @throws GatewayError 400 naming the field that cannot be mapped
 */
export function checkMappable(req: ResponsesRequestBody, items: InputItem[]): void {
  itemsToMessages(items);
  toolsToChat(req.tools as Array<Record<string, unknown>> | null | undefined);
  toolChoiceToChat(req.tool_choice as string | Record<string, unknown> | null | undefined);
  textFormatToChat(req.text?.format as Record<string, unknown> | null | undefined);
}
