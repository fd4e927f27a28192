import type { ChatCompletion, ChatCompletionContentPart, ChatCompletionMessage, ChatCompletionTokenLogprob } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Response, ResponseCustomToolCallItem, ResponseFunctionToolCall, ResponseOutputItem, ResponseOutputMessage, ResponseOutputText, ResponseReasoningItem, ResponseUsage } from 'openai/resources/responses/responses';
import { cacheTokensOf } from '../chat/reported-usage.js';
import { reasoningOf } from '../chat/answer-texts.js';
import type { FinishReason } from '../chat/finish-reason.js';
import { textOfContent } from '../chat/message-texts.js';
import { newCallId, newId } from './ids.js';
import type { ResponsesRequestBody } from './request-schema.js';

/**
 * The Response object before its answer: `in_progress`, no output, and the request's fields
 * echoed as OpenAI echoes them (`instructions`, `tools`, `tool_choice` (default `auto`),
 * `parallel_tool_calls` (default true), `temperature`, `top_p`, `max_output_tokens`, `max_tool_calls`
 * (null by default; the Python SDK's `Response` has it), `text`
 * (default `{format:{type:'text'}}`), `metadata` (default {}), `previous_response_id`, `store`,
 * `reasoning`, `truncation` (as asked, `disabled` by default), `user`, `safety_identifier`, `prompt_cache_key`,
 * `prompt_cache_retention`, `service_tier`, `top_logprobs`, `background` false, `conversation` `{id}` when the
 * response continues one). `model` is the catalog id.
 */
export function responseShell(id: string, createdAt: number, model: string, req: ResponsesRequestBody, store: boolean, conversationId?: string): Response & Record<string, unknown> {
  return {
    ...(conversationId ? { conversation: { id: conversationId } } : {}),
    id, object: 'response', created_at: createdAt, status: 'in_progress', background: false, error: null, incomplete_details: null,
    instructions: req.instructions ?? null, max_output_tokens: req.max_output_tokens ?? null, max_tool_calls: req.max_tool_calls ?? null, model, output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true, previous_response_id: req.previous_response_id ?? null,
    prompt_cache_key: req.prompt_cache_key ?? null, prompt_cache_retention: req.prompt_cache_retention ?? null, reasoning: reasoningEcho(req.reasoning),
    safety_identifier: req.safety_identifier ?? null, service_tier: req.service_tier ?? 'auto', store,
    temperature: req.temperature ?? null, text: { format: { type: 'text' }, ...(req.text as object | undefined) } as Response['text'],
    tool_choice: (req.tool_choice ?? 'auto') as Response['tool_choice'], tools: echoedTools(req.tools as Array<Record<string, unknown>> | null | undefined),
    top_logprobs: req.top_logprobs ?? 0, top_p: req.top_p ?? null, truncation: req.truncation ?? 'disabled', usage: undefined, user: req.user ?? undefined,
    metadata: req.metadata ?? {},
  } as unknown as Response & Record<string, unknown>; // `output_text` is the SDKs' own convenience, not on the wire
}

/**
 * The request's `reasoning` as the Response echoes it: `effort` and `summary` as asked (null when not; `summary` can
 * only be `auto`, request-fields.ts), the deprecated `generate_summary` only when the request sent it, and `context`,
 * when the request sent one (`auto` or `current_turn`: request-fields.ts), as the mode in effect (OpenAI: "When returned
 * on a response, this is the effective reasoning context mode"): `current_turn`, no earlier turn's reasoning reaching
 * the upstream.
 */
function reasoningEcho(r: ResponsesRequestBody['reasoning']): Response['reasoning'] {
  return {
    effort: (r?.effort ?? null) as never, summary: r?.summary ?? null,
    ...(r?.generate_summary != null ? { generate_summary: r.generate_summary } : {}),
    ...(r?.context != null ? { context: 'current_turn' as const } : {}),
  };
}

/**
 * The request's tools as the Response echoes them: as sent, a function tool sent without `strict`
 * with `strict: null` (the `FunctionTool` type declares `strict: boolean | null`). Not `true`: the
 * gateway does not normalise the schema to strict as OpenAI's Responses API does, so such a tool is
 * non-strict upstream.
 */
function echoedTools(tools: Array<Record<string, unknown>> | null | undefined): Response['tools'] {
  return (tools ?? []).map((t) => (t?.type === 'function' && t.strict === undefined ? { ...t, strict: null } : t)) as unknown as Response['tools'];
}

/**
 * Chat usage as the Response's: input/output tokens with cached, cache-write and reasoning tokens (0 when the upstream
 * does not say). The cache counts are those billed (cacheTokensOf: whole, within `input_tokens`), so a misreported count
 * (above the prompt, negative, a string, null) never reaches the Response's `input_tokens_details`, typed as numbers.
 */
export function usageOfChat(u: CompletionUsage): ResponseUsage {
  const cache = cacheTokensOf(u);
  return {
    input_tokens: u.prompt_tokens, input_tokens_details: { cached_tokens: cache.cachedTokens, cache_write_tokens: cache.cacheWriteTokens },
    output_tokens: u.completion_tokens, output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.prompt_tokens + u.completion_tokens,
  };
}

/**
 * The Response's status for a chat finish reason: `length` → incomplete (`max_output_tokens`),
 * `content_filter` → incomplete (`content_filter`), anything else → completed.
 */
export function statusOf(finish: FinishReason | null | undefined): Pick<Response, 'status' | 'incomplete_details'> {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Chat token logprobs as the output text's (the same fields). */
export const logprobsOf = (l: ChatCompletionTokenLogprob[] | null | undefined): ResponseOutputText['logprobs'] =>
  (l ?? []).map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes ?? [], top_logprobs: (t.top_logprobs ?? []).map((x) => ({ token: x.token, logprob: x.logprob, bytes: x.bytes ?? [] })) }));

/** The annotation types of the Responses API's `ResponseOutputText` (openai 6.x), besides url_citation. */
const RESPONSES_ANNOTATION_TYPES = new Set(['file_citation', 'container_file_citation', 'file_path']);

/**
 * A chat annotation as the output text's: `{type:'url_citation', url_citation:{start_index,
 * end_index, title, url}}` → `{type:'url_citation', start_index, end_index, title, url}` (the
 * Responses API's `URLCitation`; keys a provider adds inside `url_citation` have no place there).
 * An annotation of another type the Responses API defines (`file_citation`,
 * `container_file_citation`, `file_path`) is passed on as sent; one of a type it does not define
 * (a provider's own) is left out (undefined): clients validate the types, and the Vercel AI SDK
 * fails the whole answer on an unknown one. `/v1/chat/completions` relays every annotation as sent.
 */
export function annotationOf(a: ChatCompletionMessage.Annotation | Record<string, any>): ResponseOutputText['annotations'][number] | undefined {
  const c = (a as Record<string, any>)?.url_citation;
  if (a?.type === 'url_citation' && c !== null && typeof c === 'object') return { type: 'url_citation', start_index: c.start_index, end_index: c.end_index, title: c.title, url: c.url };
  return RESPONSES_ANNOTATION_TYPES.has(a?.type) ? (a as ResponseOutputText['annotations'][number]) : undefined;
}

/**
 * A chat message's (or delta's) annotations as the output text's (`annotationOf`); none when it
 * has none. Entries that are not objects (null, strings) and types the Responses API does not
 * define are left out: the SDKs' models would refuse them.
 */
export const annotationsOf = (list: unknown): ResponseOutputText['annotations'] =>
  (Array.isArray(list) ? list.filter((a) => a !== null && typeof a === 'object' && !Array.isArray(a)).flatMap((a) => annotationOf(a) ?? []) : []);

/**
 * The upstream's reasoning as a Responses `reasoning` item (id `rs_…`): its text as one
 * `reasoning_text` content part (what OpenAI's Responses API returns for open-weight reasoning
 * models), `summary` empty (the upstream made none). A chat upstream's reasoning is
 * `reasoning_content` (vLLM, DeepSeek, SGLang) or `reasoning` (OpenRouter, Ollama): not OpenAI's
 * chat types, which have no reasoning text. No `encrypted_content`: nothing is encrypted.
 */
export const reasoningItem = (text: string): ResponseReasoningItem => ({ id: newId('rs'), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }] });

/**
 * A custom tool's call as an output item, in the shape OpenAI returns it (`ResponseCustomToolCallItem` of the `openai`
 * package: `ResponseCustomToolCall`'s `type`, `call_id`, `name`, `input`, with the `id` (`ctc_…`, OpenAI's prefix) and
 * `status` the API fills in). `call_id` is the chat tool call's id (`call_…` made when the upstream gave none).
 */
export const customToolCallItem = (callId: string, name: string, input: string, status: ResponseCustomToolCallItem['status']): ResponseCustomToolCallItem =>
  ({ id: newId('ctc'), type: 'custom_tool_call', status, call_id: callId, name, input });

/**
 * A chat answer's message as output items: a `reasoning` item (`reasoningItem`) when the upstream
 * returned its reasoning, then a `message` (id `msg_…`) with an `output_text` part
 * (the answer's annotations, url citations mapped by `annotationOf`, and logprobs) and/or a
 * `refusal` part, then one `function_call` item per tool call (id `fc_…`, `call_id` = the chat
 * tool call's id, or `call_…` when the upstream gave none), or for a custom tool's call (chat
 * `{type:'custom', custom:{name, input}}`) a `custom_tool_call` item (`customToolCallItem`).
 * @param itemStatus the status of the LAST message, function_call or custom_tool_call item (the one a `length` or
 *   `content_filter` cut left unfinished: `incomplete`), every item before it `completed`, as the streamed Response
 *   closes its items (stream-events.ts `closeAll`); a call cut mid-arguments is so `incomplete`, never `completed` with
 *   arguments that are not JSON (the Agents SDK runs a completed call)
 */
export function outputOfChoice(choice: ChatCompletion.Choice, itemStatus: ResponseOutputMessage['status']): ResponseOutputItem[] {
  const m = choice.message;
  const thinking = reasoningOf(m);
  const reasoning: ResponseOutputItem[] = thinking ? [reasoningItem(thinking)] : [];
  const content: ResponseOutputMessage['content'] = [];
  // Content answered as a list of parts (some servers' thinking models): its text parts are the text.
  const text = Array.isArray(m.content) ? textOfContent(m.content as ChatCompletionContentPart[]) : m.content;
  if (typeof text === 'string' && (text !== '' || (!m.refusal && !(m.tool_calls?.length)))) {
    content.push({ type: 'output_text', text, annotations: annotationsOf(m.annotations), logprobs: logprobsOf(choice.logprobs?.content) });
  }
  if (m.refusal) content.push({ type: 'refusal', refusal: m.refusal });
  const message: ResponseOutputMessage | undefined = content.length ? { id: newId('msg'), type: 'message', role: 'assistant', status: 'completed', content } : undefined;
  const calls: (ResponseFunctionToolCall | ResponseCustomToolCallItem)[] = [];
  for (const t of m.tool_calls ?? []) {
    if (t.type === 'custom') {
      // A call without its `custom` body (a server's malformed answer) reads as a streamed one without fragments does, not as a 500.
      calls.push(customToolCallItem(t.id || newCallId(), t.custom?.name ?? '', t.custom?.input ?? '', 'completed'));
      continue;
    }
    if (t.type !== 'function') continue; // a chat upstream calls only the function and custom tools it was given
    // An upstream that gives a call no id (some self-hosted servers) gets one in OpenAI's shape: the caller answers it by call_id.
    calls.push({ id: newId('fc'), type: 'function_call', call_id: t.id || newCallId(), name: t.function.name, arguments: t.function.arguments, status: 'completed' });
  }
  const last = calls.at(-1) ?? message;
  if (last) last.status = itemStatus;
  return [...reasoning, ...(message ? [message] : []), ...calls];
}

/**
 * The finished Response for a whole chat answer (its first choice: a Responses request never asks
 * for more); `model` is the catalog id of the model that answered (a fallback's, when one did).
 */
export function responseOfChat(shell: Response, answer: ChatCompletion, usage: CompletionUsage): Response {
  const choice = answer.choices[0];
  const status = statusOf(choice?.finish_reason);
  const output = choice ? outputOfChoice(choice, status.status === 'completed' ? 'completed' : 'incomplete') : [];
  return {
    ...shell, ...status, model: answer.model, output, usage: usageOfChat(usage),
    ...(status.status === 'completed' ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    ...(answer.service_tier ? { service_tier: answer.service_tier } : {}),
  };
}
