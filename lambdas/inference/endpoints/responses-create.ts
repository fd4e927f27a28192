import { answerCostHeaders } from '../audit.js';
import type { ModelEntry } from '../../../lib/config/schema.js';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Response } from 'openai/resources/responses/responses';
import { completeChat, runChat, streamChat, type ChatExchange } from '../chat/chat-exchange.js';
import type { GatewayResponder } from '../gateway.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { tooLargeForModel, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { auditEndUser } from '../end-user.js';
import { parseJson, parseWith } from '../request-body.js';
import { chatRequestOf, checkMappable, inRequestTerms, type TranslatedRequest } from '../responses/chat-request.js';
import { newId, withItemIdsOf } from '../responses/ids.js';
import { inputItemsOf, type InputItem } from '../responses/input-items.js';
import { ItemNotFoundError, normalizeItemReferences, resolveItemReferences, withReferenceStandIns } from '../responses/item-references.js';
import { itemsToMessages, type MessageSource } from '../responses/items-to-messages.js';
import { resolveItemFileIds, withFileStandIns } from '../input-files.js';
import { checkCallOutputs, checkItemsNotInHistory, checkToolChoiceNames, checkUniqueItemIds } from '../responses/references.js';
import { checkReasoningContext, checkRequestFields } from '../responses/request-fields.js';
import { ResponsesRequest, type ResponsesRequestBody } from '../responses/request-schema.js';
import { responseOfChat, responseShell } from '../responses/response-object.js';
import { ResponseEventStream } from '../responses/stream-events.js';
import { cachedResponseOf, responseStreamEvents, responseStreamFinished, StreamRecorder } from '../response-cache/stream-replay.js';
import { fitToContextWindow } from '../responses/truncation.js';
import { loadTokenizer, tokenizerLoaded } from '../token-count.js';
import { readableResponse } from './responses-stored.js';
import { checkConversationsAllowed, checkKeepableItemIds, conversationNotFound, writing } from './conversations.js';
import { encodeItemsWithinLimit, type ConversationItem, type ConversationStore } from '../stores/conversation-store.js';
import { newRunRequestId, startRun, type BackgroundStarter } from '../responses/background.js';
import { redactInputItems } from '../guardrails/caller-texts.js';
import { redactPii } from '../guardrails.js';
import { followEvents } from '../responses/background-events.js';
import { createRequestHash, RETRY_WINDOW_SECONDS } from '../sdk-retry.js';
import { awaitFirstAttempt, newAttempt, pendingKey } from '../pending-creates.js';
import { KEPT_ON_REQUEST } from '../responses/included-fields.js';
import { checkEncryptedReasoningInclude, checkSentReasoning, reasoningSealerOf } from '../responses/encrypted-reasoning.js';
import { encodeStoredBody, MAX_STORED_BYTES, ResponseTooLargeError, type ResponseStore, type StoredResponse } from '../stores/response-store.js';
import { fileSearchSpecOf } from '../responses/file-search.js';
import type { VectorStoreService } from '../vector-stores/service.js';
import { checkFileSearch, runFileSearchTurn } from './responses-file-search.js';

const DAY_S = 86_400;

/**
 * `POST /v1/responses`: OpenAI's Responses API translated onto the chat machinery every chat
 * provider serves (../chat/chat-exchange.ts: the same guardrails, token cap, budgets, upstream
 * retries and fallbacks, metering, output guardrails and audit as chat completions). The request
 * is mapped by ../responses/ (items → messages, tools, text format, …; what cannot be mapped is a
 * 400 naming it), the chat answer or chunks come back as a Response object or its typed events.
 *
 * Storage (`store`, default true): the Response, its input items and the conversation through
 * this turn are kept for `gateway.responsesTtlDays` (default 30) in the response store, as the
 * tenant. A tenant whose policy says `storeResponses: false` gets `store: false` semantics, and a
 * 400 naming `store` when it asks for `store: true`. Without a response store (a gateway built
 * without one) every response is `store: false` and `previous_response_id` is a 400.
 * `previous_response_id` puts the stored conversation before the new input (its `instructions`
 * are not carried over, as at OpenAI); another tenant's or an unknown id is OpenAI's 400 `previous_response_not_found`.
 *
 * Item ids: the ids made for this response's items (input items sent without one, output items)
 * are derived from its id (../responses/ids.ts), so an `item_reference` to one of them leads to its
 * stored response: references are resolved after the rate limits, from the caller's tenant's
 * stored responses only (../responses/item-references.ts; one that does not resolve is a 400
 * `item_not_found` naming `input[i].id`, audited with `detail.itemId`), and the resolved items are
 * what the model sees and what `input_items` lists.
 */
export async function createResponse(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder, store: ResponseStore | undefined, conversations?: ConversationStore, background?: BackgroundMode, vectorStores?: VectorStoreService): Promise<void> {
  const body = parseWith(ResponsesRequest, parseJson(rawBody)) as ResponsesRequestBody;
  checkRequestFields(body);
  const run = background && 'run' in background ? background.run : undefined;
  const queue = body.background === true && !run ? checkBackground(r, body, store, background && 'queue' in background ? background.queue : undefined) : undefined;
  const responseId = run?.responseId ?? newId('resp');
  const requestHash = queue && createRequestHash(r.caller.userId, rawBody);
  const attempt = queue ? await answeredRetry(r, body, requestHash!, responseId, store!, queue, res) : undefined;
  if (attempt === 'answered') return;
  // The attempt's note (answeredRetry) ends once its response is stored and started, before the answer, or however the
  // create ended: its retries stop waiting for it.
  let ended: Promise<void> | undefined;
  const endNote = () => (ended ??= attempt ? r.pendingCreates!.end(r.caller.tenantId, pendingKey('responses', requestHash!), attempt).catch(() => undefined) : Promise.resolve());
  try {
    await withItemIdsOf(responseId, () => create(pipeline, r, body, responseId, res, store, conversations, queue ? { queue, rawBody: rawBody!, started: endNote } : run ? { run } : undefined, vectorStores));
  } finally {
    await endNote();
  }
}

/**
 * An official client's retry of a background create (`x-stainless-retry-count`) whose first attempt stored its
 * response, the `queued` answer lost (a reset connection, the client's own timeout): answered that response as it
 * stands (or, with `stream: true`, its events from the first), not a second run billed again. Every background create
 * attempt notes the response it makes under the fingerprint of user and body (ResponseStore.putRetryMarker, for
 * RETRY_WINDOW_SECONDS), before anything else can fail: a retry reads the note of its own call's last attempt, so a
 * note naming a response that was never stored (that attempt failed before: a 429) or that failed or was cancelled
 * makes the retry a create of its own, and an earlier, deliberate create of the same body (its note overwritten by
 * this call's first attempt) is never the answer. A response still `queued` has its run started again (startRun: the
 * first attempt's start may have failed unrecorded; a second start of a started one runs nothing), so the retry is
 * never answered a response that no run will ever take. A store without markers answers no retry (a second run).
 *
 * A retry that arrives while its first attempt still runs (the client's `timeout` cut it before its response was
 * stored) would find the note naming a response not stored yet: each attempt also notes that it runs
 * (pending-creates.ts, `r.pendingCreates`: begun before its retry marker, ended by createResponse however the create
 * ended), and a retry waits for that attempt (`r.retryWaitMs` at most) until its response is stored or it ended, then
 * reads the marker; when it still runs, the retry is a retryable 409 `create_in_progress` (the client's next retry is
 * answered the response), not a second run.
 * @returns `answered`, or the attempt whose note createResponse ends (undefined: no note taken)
 * @throws GatewayError 409 `create_in_progress` as said
 */
async function answeredRetry(r: PipelineRequest, body: ResponsesRequestBody, requestHash: string, responseId: string, store: ResponseStore, queue: BackgroundStarter, res: GatewayResponder): Promise<'answered' | string | undefined> {
  if (!store.putRetryMarker || !store.retryMarker) return undefined;
  const { tenantId } = r.caller;
  const retryMarker = store.retryMarker.bind(store);
  if (r.sdkRetry !== undefined && r.pendingCreates) {
    await awaitFirstAttempt(r.pendingCreates, tenantId, pendingKey('responses', requestHash), 'background responses.create', r.retryWaitMs ?? 0, async () => {
      const noted = await retryMarker(tenantId, requestHash);
      return noted !== undefined && (await store.get(tenantId, noted.responseId)) !== undefined;
    });
  }
  const marker = r.sdkRetry === undefined ? undefined : await store.retryMarker(tenantId, requestHash);
  const first = marker && (await store.get(tenantId, marker.responseId));
  if (first && first.response.status !== 'failed' && first.response.status !== 'cancelled') {
    // Still queued: its start may never have gone out (the first attempt's send failed, and so did the write that
    // would have settled it failed, and the retry is why). Started again: a start already on its way runs nothing twice.
    if (first.response.status === 'queued') await startRun(store, queue, tenantId, first.responseId);
    Object.assign(r.audit, { action: 'response.create', stream: body.stream === true, detail: { ...r.audit.detail, responseId: first.responseId, background: true, stored: true, retryOf: first.responseId } });
    const headers = { 'x-request-id': r.audit.requestId };
    if (body.stream === true) await followEvents(store, tenantId, first.responseId, -1, res, { headers, pollMs: queue.followPollMs });
    else await res.json(200, JSON.stringify(first.response), headers);
    return 'answered';
  }
  const attempt = r.pendingCreates && newAttempt();
  if (attempt) await r.pendingCreates!.begin(tenantId, pendingKey('responses', requestHash), attempt);
  await store.putRetryMarker(tenantId, requestHash, { responseId, expiresAt: Math.floor(Date.now() / 1000) + RETRY_WINDOW_SECONDS });
  return attempt;
}

/**
 * How a create takes part in background mode: `queue` (a create with `background: true`: answered `queued` once the
 * checks before the rate limits passed and the request was counted, its run started by the starter), or `run` (the
 * background run of a stored `queued` response, responses/background.ts: the same id, no second count against the
 * rate limits, the finished response given to `settle` instead of stored).
 */
export type BackgroundMode = { queue: BackgroundStarter } | { run: BackgroundRun };

/** The background run of a stored `queued` response (BackgroundMode's `run`). */
export interface BackgroundRun {
  responseId: string;
  /** Stores the finished response (in place of the foreground's store.put). */
  settle: (item: StoredResponse) => Promise<void>;
  /**
   * Aborted when `tessera serve` stops (runBackgroundResponse's `stopping`): a `file_search` run makes no further model
   * call or search after it (runFileSearchTurn's `stopping`). @default - never stops
   */
  stopping?: AbortSignal;
}

type CreateMode = { queue: BackgroundStarter; rawBody: string; started?: () => Promise<void> } | { run: BackgroundRun } | undefined;

/**
 * The rules of `background: true` (OpenAI's Background mode): the response is stored to be polled, so `store: false`
 * is a 400 naming `store`, as is a tenant whose policy forbids stored responses; a gateway without a response store or
 * a way to run it afterwards refuses it naming `background`; `stream: true` with it (answered as the run's stream
 * events, resumable with `GET /v1/responses/{id}?stream=true&starting_after=N`: background-events.ts) needs a store
 * that keeps stream events (ResponseStore.appendEvents), else it is a 400 naming `stream`.
 * @returns the starter that runs it
 * @throws GatewayError 400 naming `store`, `stream` or `background`
 */
/**
 * `truncation: "auto"` needs the model's context window (its catalog `contextWindow`): without it the gateway cannot
 * tell what fits, and no upstream of a Responses request takes the field (the gateway sends chat completions, which
 * have no `truncation`), so it is refused before anything is counted, not dropped.
 * @throws GatewayError 400 `unsupported_parameter` naming `truncation`
 */
export function checkTruncation(body: ResponsesRequestBody, model: ModelEntry): void {
  if (body.truncation !== 'auto' || model.contextWindow !== undefined) return;
  throw invalid(`truncation 'auto' is not served for ${model.id}: the gateway's catalog gives no context window for it (models[].contextWindow), so it cannot tell which items to drop; send truncation: 'disabled' (the default), or ask the platform team to set the model's contextWindow`, 'truncation', 'unsupported_parameter');
}

/** The turn fitted to the model's context window when the request asks `truncation: "auto"` (truncation.ts); as it is otherwise. The messages dropped go in the audit detail (`truncatedMessages`). */
export async function truncated(r: PipelineRequest, body: ResponsesRequestBody, model: ModelEntry, translated: TranslatedRequest, detail: Record<string, unknown>): Promise<TranslatedRequest> {
  if (body.truncation !== 'auto' || model.contextWindow === undefined) return translated;
  // The count the reservation makes: the tokenizer loaded first (without it the count is the byte bound, and more would be dropped).
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined);
  const fitted = fitToContextWindow(translated, { tokens: model.contextWindow, ...(r.policy.gateway.systemPrompt ? { systemPrompt: r.policy.gateway.systemPrompt } : {}) });
  if (fitted.dropped) detail.truncatedMessages = fitted.dropped;
  return fitted.translated;
}

function checkBackground(r: PipelineRequest, body: ResponsesRequestBody, store: ResponseStore | undefined, starter: BackgroundStarter | undefined): BackgroundStarter {
  if (body.store === false) throw invalid('store: false cannot be used with background: true: a background response is stored so that it can be retrieved (polled) and cancelled; leave store out or send true', 'store', 'invalid_value');
  if (r.policy.gateway.storeResponses === false) throw invalid(`background: tenant ${r.caller.tenantId}'s policy does not allow stored responses, and a background response is one (it is polled by id); leave background out`, 'background', 'store_not_allowed');
  if (!store || !starter) throw invalid(`background: true is not served by this gateway (${store ? 'it has no worker to run background responses' : 'it stores no responses'}); leave background out`, 'background', 'unsupported_parameter');
  if (body.stream === true && !(store.appendEvents && store.readEvents)) throw invalid('stream: true with background: true is not served by this gateway: its response store keeps no stream events to follow and resume (GET /v1/responses/{id}?stream=true); create it without stream and poll GET /v1/responses/{id}', 'stream', 'unsupported_parameter');
  return starter;
}

async function create(pipeline: RequestPipeline, r: PipelineRequest, body: ResponsesRequestBody, responseId: string, res: GatewayResponder, store: ResponseStore | undefined, conversations: ConversationStore | undefined, mode: CreateMode, vectorStores: VectorStoreService | undefined): Promise<void> {
  const run = mode && 'run' in mode ? mode.run : undefined;
  const model = pipeline.model(r, body.model, 'chat');
  // After the model's 404: OpenAI's answers to reasoning.context are the model's (request-fields.ts).
  checkReasoningContext(body.reasoning, model);
  const stream = body.stream === true;
  r.audit.stream = stream;
  const conversationId = typeof body.conversation === 'string' ? body.conversation : (body.conversation?.id ?? undefined);
  const detail: Record<string, string | boolean> = {
    responseId, stored: false, ...(body.previous_response_id ? { previousResponseId: body.previous_response_id } : {}), ...(conversationId ? { conversationId: conversationId.slice(0, 256) } : {}),
  };
  Object.assign(r.audit, { action: 'response.create', detail });
  auditEndUser(r.audit, body as { user?: unknown; safety_identifier?: unknown });
  if (conversationId !== undefined) {
    // OpenAI's 400 for both: a turn continues one state, the chain or the conversation.
    if (body.previous_response_id) throw invalid("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", 'conversation', 'mutually_exclusive_parameters');
    checkConversationsAllowed(r, 'conversation');
  }
  if (body.background === true) detail.background = true;
  const storing = storageOf(pipeline, r, body, store, () => (detail.stored = true), run?.settle);
  const sent = inputItemsOf(normalizeItemReferences(body.input as string | Array<Record<string, unknown>> | null | undefined));
  // What cannot be mapped or exceeds the tenant's cap is refused before it counts against the rate limits.
  checkMappable(body, withFileStandIns(withReferenceStandIns(sent)));
  checkUniqueItemIds(sent);
  checkToolChoiceNames(body.tools as Array<Record<string, unknown>> | null | undefined, body.tool_choice as string | Record<string, unknown> | null | undefined);
  // The hosted file_search tool (responses-file-search.ts): its vector stores are the caller's tenant's, checked before any model call.
  const fileSearch = fileSearchSpecOf(body.tools as Array<Record<string, unknown>> | null | undefined);
  const searcher = fileSearch && (await checkFileSearch(fileSearch, vectorStores, r.caller.tenantId));
  if (fileSearch) detail.vectorStoreIds = fileSearch.vectorStoreIds.join(',').slice(0, 256);
  // The tenant's response cache (docs/gateway.md "Response cache"): only a response that is not stored and reads no state
  // the gateway keeps (cacheableResponse); any other is BYPASS, neither read nor kept.
  const cacheable = r.cache !== undefined && cacheableResponse(body, storing, conversationId, fileSearch !== undefined);
  if (!cacheable) r.cache?.bypass();
  const cap = r.policy.gateway.maxTokens;
  if (cap !== undefined && body.max_output_tokens != null && body.max_output_tokens > cap) {
    throw invalid(`max_output_tokens is ${body.max_output_tokens}; tenant ${r.caller.tenantId} allows at most ${cap} output tokens per request`, 'max_output_tokens', 'max_tokens_exceeded');
  }
  // OpenAI refuses a max_output_tokens past the model's maximum; the gateway holds the answer to it anyway.
  if (body.max_output_tokens != null && body.max_output_tokens > model.maxOutputTokens) throw tooLargeForModel('max_output_tokens', body.max_output_tokens, model.maxOutputTokens, 'output');
  checkTruncation(body, model);
  // include reasoning.encrypted_content: refused for OpenAI's non-reasoning models; sent-back blobs must be this tenant's.
  checkEncryptedReasoningInclude(body.include, model, r.reasoningSeal);
  await checkSentReasoning(body.input, r.caller.tenantId, r.reasoningSeal);
  const sealed = reasoningSealerOf(body.include, r.reasoningSeal, r.caller.tenantId);
  // A background response counts against the rate limits when it is created (a 429 is the create's), not again when it runs.
  if (!run) await pipeline.admit(r);
  if (mode && 'queue' in mode) return await queued(pipeline, r, body, sent, responseId, model.id, conversationId, store!, mode, res);

  // An input item the conversation could not keep is refused before any token is spent (it would be answered, then left out).
  const { items: resolved, translated: whole } = await resolveTurn(r, body, sent, conversationId, store, conversations, detail, async (kept) => void (await writing(async () => encodeItemsWithinLimit(keptItemsOf(r, kept)), 'input')));
  // truncation "auto": the conversation's first messages dropped until it fits the model's context window (truncation.ts).
  const translated = await truncated(r, body, model, whole, detail);
  // What is kept of the input (the stored Response's input items, the conversation's): what the upstream is sent.
  const items = keptItemsOf(r, resolved);
  // After the rate limits (a HIT counts as a request), keyed on the body and on the model's input as resolved from it
  // (the files' bytes of its file_ids, the items its item_references name: a deleted file or response is its 4xx above).
  const hit = cacheable ? await r.cache!.lookup('/v1/responses', model, { request: body, input: whole.body.messages }, { stream }) : undefined;
  if (hit) return await replayed(pipeline, r, res, hit.body, responseId, stream);
  const made = responseShell(responseId, Math.floor(Date.now() / 1000), model.id, echoedOf(r, body), storing !== undefined, conversationId);
  const shell = body.background === true ? { ...made, background: true } : made;
  // In a conversation the history can outgrow a stored response: then the answer is served as not stored (storageOf).
  if (storing && conversationId === undefined) {
    // Refused before any token is spent: a conversation that could not be stored with its answer.
    const bytes = encodeStoredBody({ response: shell, inputItems: items, messages: translated.body.messages }).length;
    if (bytes > MAX_STORED_BYTES) throw invalid(`store: ${new ResponseTooLargeError(bytes).message}; send store: false, or start a new conversation without previous_response_id`, 'store', 'response_too_large_to_store');
  }

  // The turn kept: into the conversation first (a Response whose items it could not take does not name it: conversation: null),
  // then stored with the conversation as the model saw it (`turnMessages`, guarded, without the tenant's system prompt and the
  // instructions) and the answer's items as messages (file_search_call items are in `turnMessages` already, with their results).
  const keepTurn = async (answered: Response, turnMessages: ChatCompletionMessageParam[]): Promise<Response> => {
    const inConversation = conversationId === undefined || (await addToConversation(conversations!, r, conversationId, [...items, ...(answered.output as unknown as ConversationItem[])]));
    const response = inConversation ? answered : ({ ...answered, conversation: null } as Response);
    const answer = (response.output as unknown as InputItem[]).filter((i) => i.type !== 'file_search_call');
    const kept = storing ? await storing(response, items, [...turnMessages, ...itemsToMessages(answer, 'output')]) : response;
    // Sealed reasoning goes out only: the stored response and conversation keep the items without it.
    return { ...kept, output: await Promise.all(kept.output.map(sealed)) };
  };
  if (fileSearch && searcher) {
    return await runFileSearchTurn(pipeline, r, model, res, {
      spec: fileSearch, service: searcher, body: translated.body, shell, stream, withResults: (body.include ?? []).includes('file_search_call.results'),
      maxSearches: body.max_tool_calls, keep: keepTurn, leading: translated.leading, sealed, ...(run?.stopping ? { stopping: run.stopping } : {}),
    }).catch((e: unknown) => {
      throw inRequestTerms(e, translated);
    });
  }

  await runChat(pipeline, r, model, translated.body, 1, async (x) => {
    // The conversation as the model saw it (guarded), without the tenant's system prompt and the instructions.
    const conversation = () => x.body.messages.slice((r.policy.gateway.systemPrompt ? 1 : 0) + translated.leading);
    const keep = (answered: Response) => keepTurn(answered, conversation());
    if (!stream) {
      const answer = await completeChat(x, r.audit.requestId);
      const response = await keep(responseOfChat(shell, answer, answer.usage!));
      const json = JSON.stringify(response);
      if (r.audit.outcome === 'ok') await r.cache?.keep(json); // not a guardrail's block
      return void (await res.json(200, json, { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit), ...r.cache?.headers() }));
    }
    await streamed(x, r, res, shell, keep, sealed);
  }).catch((e: unknown) => {
    throw inRequestTerms(e, translated); // the guardrails and the upstream name the chat request's messages
  });
}

/** The stream of typed events; the response is stored before `response.completed` goes out. */
async function streamed(x: ChatExchange, r: PipelineRequest, res: GatewayResponder, shell: Response, keep: (response: Response) => Promise<Response>, sealed: <T>(item: T) => Promise<T>): Promise<void> {
  let out: ReturnType<GatewayResponder['stream']> | undefined;
  let events: ResponseEventStream;
  // The events as they go out, for the response cache when it would keep them (not a BYPASS: store: true, OpenAI's
  // default): kept only when the stream ended with its Response (below).
  const recorded = r.cache?.keeping ? new StreamRecorder() : undefined;
  const end = await streamChat(x, r.audit.requestId, {
    open: async () => {
      out = res.stream({ 'x-request-id': r.audit.requestId, ...x.pipeline.servedRateHeaders(r), ...r.cache?.headers() });
      events = new ResponseEventStream(shell, (e) => {
        recorded?.add(e);
        return out!.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      }, sealed);
      await events.start();
    },
    chunk: (chunk) => events.chunk(chunk),
  }, false);
  if (end.cancelled) return void (await out?.end()); // not opened when the caller was gone before the first chunk
  if (end.failure) {
    r.audit.status = end.failure.status;
    await events!.fail(end.failure, end.usage);
    return void (await out!.end());
  }
  // The model that answered (a fallback's catalog id when one did), as chat completions reports it;
  // the upstream's service tier, as a whole answer's Response has it (responseOfChat).
  await events!.finish(end.usage, (response) => keep({ ...response, model: end.model.id }), end.serviceTier);
  // Every event written (a caller gone meanwhile threw above), no guardrail's block: kept for the response cache.
  const kept = recorded && r.audit.outcome === 'ok' ? recorded.body() : undefined;
  if (kept !== undefined && responseStreamFinished(kept)) await r.cache!.keep(kept);
  await out!.end();
}

/**
 * Whether a Responses API create may be answered from the response cache and its answer kept: only a response that is
 * not stored and reads no state the gateway keeps. Not with `store` true or left out (OpenAI's default: the Response
 * gets an id a later `GET /v1/responses/{id}` or `previous_response_id` must find, so a stored response is a new one,
 * as a chat completion with `store: true` is), `background` (stored and polled), `previous_response_id` or
 * `conversation` (the turn continues state that changes: a conversation grows with every turn), or the hosted
 * `file_search` tool (the tenant's vector stores change under the same request).
 * @param storing how the response is kept, undefined for `store: false` semantics (`store: false`, a tenant whose
 *   policy forbids storage, a gateway without a response store)
 */
export function cacheableResponse(body: Pick<ResponsesRequestBody, 'background' | 'previous_response_id'>, storing: unknown, conversationId: string | undefined, fileSearch: boolean): boolean {
  return storing === undefined && body.background !== true && !body.previous_response_id && conversationId === undefined && !fileSearch;
}

/**
 * Answers a response cache HIT: the kept Response, whole (under this request's response id, its items' ids derived from
 * it; cost 0, `Age`: stream-replay.ts cachedResponseOf), or its kept stream events replayed (responseStreamEvents).
 */
async function replayed(pipeline: RequestPipeline, r: PipelineRequest, res: GatewayResponder, kept: string, responseId: string, stream: boolean): Promise<void> {
  const headers = { 'x-request-id': r.audit.requestId, ...await pipeline.cacheHitRateHeaders(r), ...r.cache!.headers() };
  if (stream) {
    const out = res.stream(headers);
    for (const event of responseStreamEvents(kept, responseId)) await out.write(event);
    return void (await out.end());
  }
  await res.json(200, JSON.stringify(cachedResponseOf(kept, responseId)), { ...headers, ...answerCostHeaders(r.audit) });
}

type Storing = (response: Response, items: InputItem[], messages: ChatCompletionMessageParam[]) => Promise<Response>;

/**
 * How this request's response is kept (then `stored` is called, for the audit record), or undefined for `store: false` semantics.
 * @param settle what keeps it instead of `store.put` (a background run's settle) @default - store.put
 * @throws GatewayError 400 naming `store` when the caller asks `store: true` and the tenant's policy forbids storage
 */
function storageOf(pipeline: RequestPipeline, r: PipelineRequest, body: ResponsesRequestBody, store: ResponseStore | undefined, stored: () => void, settle?: (item: StoredResponse) => Promise<void>): Storing | undefined {
  if (r.policy.gateway.storeResponses === false) {
    if (body.store === true) throw invalid(`store: tenant ${r.caller.tenantId}'s policy does not allow stored responses; send store: false or leave it out`, 'store', 'store_not_allowed');
    return undefined;
  }
  if (body.store === false || !store) return undefined;
  const days = pipeline.config.gateway.responsesTtlDays ?? 30;
  return async (response, items, messages) => {
    try {
      // What its create's include asked to keep (a retrieve's include shows it, or is refused: included-fields.ts).
      const include = KEPT_ON_REQUEST.filter((value) => body.include?.includes(value));
      const item: StoredResponse = { tenantId: r.caller.tenantId, responseId: response.id, response: response as unknown as Record<string, unknown>, inputItems: items, messages, expiresAt: Math.floor(Date.now() / 1000) + days * DAY_S, ...(include.length ? { include } : {}) };
      await (settle ? settle(item) : store.put(item));
      stored();
      return response;
    } catch (e) {
      if (!(e instanceof ResponseTooLargeError)) throw e;
      // The answer is paid for: it is answered, marked as not stored, and the audit record says why.
      r.audit.outcome = 'response_not_stored';
      return { ...response, store: false } as Response;
    }
  };
}

/**
 * OpenAI's answer to a `previous_response_id` it does not hold: 400 `previous_response_not_found`,
 * "Previous response with id '…' not found." (a retrieve or delete of such an id is a 404; a chain
 * is a 400, and clients that restart a conversation whose chain expired catch that code). One
 * answer for an unknown, expired, deleted, unstored (`store: false`) or another tenant's id.
 */
export function previousResponseNotFound(tenantId: string, responseId: string): GatewayError {
  return invalid(`Previous response with id '${responseId.slice(0, 100)}' not found (previous_response_id): no response with that id is stored for tenant ${tenantId} (it may have expired or been deleted, or been sent with store: false); send the conversation as input, or chain from a stored response`, 'previous_response_id', 'previous_response_not_found');
}

/**
 * After an answer (completed or incomplete, streamed or whole; not a failed one, which ends before),
 * its input items and output items go into the conversation, as at OpenAI, whatever `store` says
 * (`store` is about the Response object; the conversation is the state the caller asked to keep).
 * The answer is paid for: when they cannot be added (the conversation was deleted meanwhile, an item
 * is too large to keep, an item id added by a concurrent call) it is still answered, with
 * `conversation: null` (OpenAI's `Response.conversation`: the conversation the response's items
 * were added to; none were), and the audit record's outcome is `conversation_not_updated`.
 * @returns whether the items were added
 */
async function addToConversation(conversations: ConversationStore, r: PipelineRequest, conversationId: string, items: ConversationItem[]): Promise<boolean> {
  try {
    if (await writing(() => conversations.append(r.caller.tenantId, conversationId, items), 'input')) return true;
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
  }
  r.audit.outcome = 'conversation_not_updated';
  return false;
}

/**
 * The input items can join the conversation after the answer: no id is already an item of the
 * conversation (OpenAI's 400 "Duplicate item found with id …"), none is too long to keep
 * (checkKeepableItemIds). Checked before the model is asked.
 * @throws GatewayError 400 `duplicate_item_id` or `invalid_value` naming `input[i].id`
 */
export function checkItemsNotInConversation(items: InputItem[], conversationItems: ConversationItem[], conversationId: string): void {
  checkKeepableItemIds(items, 'input');
  const held = new Set(conversationItems.map((i) => i.id));
  items.forEach((item, i) => {
    if (held.has(item.id)) throw invalid(`Duplicate item found with id ${item.id} (input[${i}].id): an item of conversation ${conversationId} already; send only the new items with conversation`, `input[${i}].id`, 'duplicate_item_id');
  });
}

/**
 * Answers a background create: the Response `queued` (`background: true`, no output) is stored with its job (the
 * caller as owner, the request as sent) and its input items, and its run started (BackgroundStarter.start); the answer
 * is that Response, or with `stream: true` the run's stream events as they are stored (followEvents).
 * A run that cannot be started leaves it `failed` and answers the error.
 * @throws GatewayError 400 naming `input` when the request is too large to keep with the response
 */
async function queued(pipeline: RequestPipeline, r: PipelineRequest, body: ResponsesRequestBody, sent: InputItem[], responseId: string, modelId: string, conversationId: string | undefined, store: ResponseStore, mode: { queue: BackgroundStarter; rawBody: string; started?: () => Promise<void> }, res: GatewayResponder): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const response = { ...responseShell(responseId, now, modelId, echoedOf(r, body), true, conversationId), status: 'queued', background: true } as unknown as Record<string, unknown>;
  const { tenantId, userId, role, keyId } = r.caller;
  const days = pipeline.config.gateway.responsesTtlDays ?? 30;
  // Its input items are listed while it is queued or running (input_items), as the run will store them: references
  // resolved from the caller's stored responses (one that does not resolve is kept as sent: the run fails on it).
  const inputItems = await resolveItemReferences(sent, (id) => readableResponse(store, r, id)).catch(() => sent);
  try {
    const stream = body.stream === true;
    const runRequestId = newRunRequestId();
    await store.put({ tenantId, responseId, response, inputItems: keptItemsOf(r, inputItems), messages: [], expiresAt: now + days * DAY_S, job: { owner: { tenantId, userId, role, ...(keyId ? { keyId } : {}) }, request: queuedRequestOf(r, mode.rawBody), runRequestId }, ...(stream ? { stream } : {}) });
    // The create's record: the response is stored (queued), and its run's record, with the usage and cost, is runRequestId.
    r.audit.detail = { ...r.audit.detail, stored: true, runRequestId };
  } catch (e) {
    if (e instanceof ResponseTooLargeError) throw invalid(`input: a background request is kept with its response until it runs, and ${e.message}; send a smaller input, or leave background out`, 'input', 'response_too_large_to_store');
    throw e;
  }
  await startRun(store, mode.queue, tenantId, responseId);
  await mode.started?.(); // the attempt's note (responses-create.ts answeredRetry) ends before the answer
  const headers = { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...r.cache?.headers() };
  // A streaming create is answered with the run's events as they are stored, as every later reader gets them.
  if (body.stream === true) return await followEvents(store, tenantId, responseId, -1, res, { headers, pollMs: mode.queue.followPollMs });
  await res.json(200, JSON.stringify(response), headers);
}

/**
 * The input items as the gateway keeps them (a stored Response's `input_items`, a conversation's items): under the
 * tenant's `guardrails.redactPii`, PII-redacted as the upstream is sent them (redactInputItems: the same texts as
 * guardChat's walk of the chat messages they become); else as sent. Ids, order and every other field unchanged.
 * The labels found are not added to the audit record: guardChat notes them once, from the messages sent.
 */
export function keptItemsOf<T extends Record<string, unknown>>(r: PipelineRequest, items: T[]): T[] {
  return r.policy.gateway.guardrails.redactPii ? redactInputItems(items).items : items;
}

/**
 * The request as the Response object echoes it: its `instructions` PII-redacted under `guardrails.redactPii` (the
 * model is sent them so, as a system message: guardChat), so that a stored Response (and a batch's output line) does
 * not keep what the upstream was not sent. Every other field as sent.
 */
function echoedOf(r: PipelineRequest, body: ResponsesRequestBody): ResponsesRequestBody {
  if (!r.policy.gateway.guardrails.redactPii || typeof body.instructions !== 'string') return body;
  const red = redactPii(body.instructions);
  return red.found.length ? { ...body, instructions: red.text } : body;
}

/**
 * A background response's request as it is kept until it runs (BackgroundJob.request): under `guardrails.redactPii`,
 * its `input` (a string, or items: redactInputItems) and `instructions` PII-redacted now, so that raw PII never
 * rests in the response store, not even while the response is queued (a run that never comes keeps its job until
 * the response expires). The run applies the tenant's guardrails again, as every request's: redaction is idempotent
 * (`[EMAIL]` holds no PII), so the upstream is sent what a foreground request's would be, and the labels found are
 * noted here, in the create's audit record (`piiRedacted`), not again in the run's. The body is kept byte for byte
 * when nothing was found (or redactPii is off).
 */
function queuedRequestOf(r: PipelineRequest, rawBody: string): string {
  if (!r.policy.gateway.guardrails.redactPii) return rawBody;
  const body = JSON.parse(rawBody) as Record<string, unknown>;
  const found: string[] = [];
  const redactText = (text: string) => {
    const red = redactPii(text);
    found.push(...red.found);
    return red.text;
  };
  const next = { ...body };
  if (typeof body.input === 'string') next.input = redactText(body.input);
  else if (Array.isArray(body.input)) {
    const red = redactInputItems(body.input as Array<Record<string, unknown>>);
    found.push(...red.piiFound);
    next.input = red.items;
  }
  if (typeof body.instructions === 'string') next.instructions = redactText(body.instructions);
  if (!found.length) return rawBody;
  r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...found])];
  return JSON.stringify(next);
}

/**
 * A Responses request's turn made whole, as create sends it and input_tokens counts it: the input's item references
 * resolved from the caller's stored responses (readableResponse: another tenant's, or another model's for a key limited
 * to some, is not found), the previous response (`previous_response_id`) or the conversation read (their `file_id`s
 * resolved to the bytes for the model, not in what is stored), and the request translated to chat with that history.
 * @param sent the input items as sent (references not yet resolved)
 * @param detail the audit record's detail: `itemId` of a reference not found
 * @param inConversation called with the resolved items when the turn continues a conversation, after the checks that
 *   the items are not in it already (create refuses items the conversation could not keep there) @default - nothing
 * @throws GatewayError 400 `item_not_found` / `previous_response_not_found`, 404 `conversation_not_found`, 400 for
 *   `previous_response_id` where no responses are stored, and the checks' 400s (items already in the history, tool
 *   outputs without their calls)
 */
export async function resolveTurn(
  r: PipelineRequest, body: ResponsesRequestBody, sent: InputItem[], conversationId: string | undefined, store: ResponseStore | undefined,
  conversations: ConversationStore | undefined, detail: Record<string, unknown>, inConversation?: (items: InputItem[]) => Promise<void>,
): Promise<{ items: InputItem[]; previous?: StoredResponse; conversationItems?: ConversationItem[]; translated: TranslatedRequest & { conversationItemIds?: readonly string[] } }> {
  // Resolved items keep the references' ids: the ids stay unique (checked above).
  const items = await resolveItemReferences(sent, store && ((id) => readableResponse(store, r, id))).catch((e: unknown) => {
    if (e instanceof ItemNotFoundError) detail.itemId = e.itemId;
    throw e;
  });

  let previous: StoredResponse | undefined;
  if (body.previous_response_id) {
    if (!store) throw invalid('previous_response_id cannot be served: this gateway stores no responses; send the whole conversation as input', 'previous_response_id', 'unsupported_parameter');
    previous = await readableResponse(store, r, body.previous_response_id);
    if (!previous) throw previousResponseNotFound(r.caller.tenantId, body.previous_response_id);
  }
  let conversationItems: ConversationItem[] | undefined;
  if (conversationId !== undefined) {
    conversationItems = conversations && (await conversations.get(r.caller.tenantId, conversationId)) ? await conversations.all(r.caller.tenantId, conversationId) : undefined;
    if (!conversationItems) throw conversationNotFound(r.caller.tenantId, conversationId, 'conversation');
    checkItemsNotInConversation(sent, conversationItems, conversationId);
    await inConversation?.(items);
  }
  // The conversation's items come before the input, as a chained response's conversation does; an error
  // about one of their messages (a guardrail's, the upstream's) names `conversation` and the item's id.
  const historySources: MessageSource[] | undefined = conversationItems ? [] : undefined;
  // `file_id`s (input_file, input_image) become the stored files' bytes inline for the model (input-files.ts); the
  // items stored and listed (`items`, the conversation's) keep them as sent, as OpenAI's input_items list does.
  const readable = conversationItems && (await resolveItemFileIds(conversationItems as InputItem[], 'conversation.items', r.caller.tenantId, r.files));
  const history: ChatCompletionMessageParam[] = readable ? itemsToMessages(readable, 'conversation.items', new Set(), historySources) : (previous?.messages ?? []);
  checkItemsNotInHistory(sent, previous); // sent: a reference still says it is one (resolved items keep its id)
  checkCallOutputs(items, history);
  const modelItems = await resolveItemFileIds(items, 'input', r.caller.tenantId, r.files);
  const translated = { ...chatRequestOf(body, history, modelItems, historySources), ...(conversationItems ? { conversationItemIds: conversationItems.map((i) => i.id) } : {}) };
  return { items, previous, conversationItems, translated };
}
