import { answerCostHeaders } from '../audit.js';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { completeChat, runChat, streamChat } from '../chat/chat-exchange.js';
import { ChatCompletionRequest, type ChatRequestBody } from '../chat/request-schema.js';
import { refuseUndefinedToolTypes } from '../chat/tool-types.js';
import { checkChatToolNames } from '../chat/tool-names.js';
import { checkChatToolChoiceNames } from '../chat/tool-choice-names.js';
import { checkStrictChatResponseFormat, checkStrictChatToolSchemas } from '../chat/strict-schema-objects.js';
import type { GatewayResponder } from '../gateway.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { resolveChatFileIds } from '../input-files.js';
import { invalid } from '../openai-errors.js';
import { auditEndUser } from '../end-user.js';
import { keepIntegerLiteral } from '../json-integer-literals.js';
import { refuseInt64Literal } from '../openai-issues.js';
import { parseJson, parseWith } from '../request-body.js';
import { ResponseTooLargeError } from '../stores/response-store.js';
import { nextStoredAt, type ChatCompletionStore } from '../stores/chat-completion-store.js';
import { ChunkAssembler, storeMessagesOf } from './chat-completions-stored.js';
import { chatStreamEvents, chatStreamFinished, StreamRecorder } from '../response-cache/stream-replay.js';
import { audioExpiresAt } from '../response-cache/answer-expiry.js';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatExchange } from '../chat/chat-exchange.js';

const DAY_S = 86_400;

/**
 * `POST /v1/chat/completions`, OpenAI's contract (`ChatCompletionCreateParams` in,
 * `ChatCompletion` or `ChatCompletionChunk`s out) on the shared pipeline and the shared chat
 * machinery (../chat/chat-exchange.ts). The body goes to the provider whole, after the tenant's
 * guardrails; the answer comes back whole, with the gateway's id and the catalog model id. A
 * stream's usage is metered whether or not the caller asked for it.
 *
 * `store: true` keeps the request's messages (after the tenant's input guardrails, without the tenant's system prompt)
 * and the answer as the caller received it (after the output guardrails; a stream assembled, kept only when it ended
 * whole, before its `[DONE]`), with `metadata`, in `store` for `gateway.responsesTtlDays` (default 30), as stored
 * responses are: read back by endpoints/chat-completions-stored.ts. An answer too large to keep is answered, not
 * stored (audit outcome `response_not_stored`).
 * @param store the tenant's stored chat completions @default - none: `store: true` is a 400 naming `store`
 * @throws GatewayError 400 naming `store` when the tenant's policy forbids storage (`storeResponses: false`) or the
 *   gateway keeps none
 */
export async function chatCompletions(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder, store?: ChatCompletionStore): Promise<void> {
  const raw = parseJson(rawBody);
  const body = parseWith(ChatCompletionRequest, raw) as unknown as ChatRequestBody;
  // A seed past 64 bits whose Number is not (JSON.parse reads 9223372036854775808 as 2^63): refused on its digits.
  refuseInt64Literal(raw, 'seed');
  keepIntegerLiteral(raw, body, 'seed');
  // A tool OpenAI's chat API does not define (the Responses API's file_search) is refused for every provider, never dropped.
  refuseUndefinedToolTypes(body);
  checkChatToolNames(body);
  // A tool_choice naming a tool that is not in tools: OpenAI's 400, for every provider, before anything is counted or sent.
  checkChatToolChoiceNames(body);
  checkStrictChatToolSchemas(body);
  checkStrictChatResponseFormat(body);
  const keep = storageOf(pipeline, r, body, store);
  // The gateway keeps the completion itself: OpenAI would keep it in the platform's organisation, shared by every tenant.
  delete (body as { store?: unknown }).store;
  const model = pipeline.model(r, body.model);
  const stream = body.stream === true;
  r.audit.stream = stream;
  auditEndUser(r.audit, body as { user?: unknown; safety_identifier?: unknown });
  // A limit over the tenant's cap or the model's maximum is refused before it counts against the rate limits (runChat reserves by it).
  const limit = pipeline.completionLimit(r, model, body);
  await pipeline.admit(r);
  // `file.file_id`s become the stored files' bytes inline: the guardrails read them, the providers map them (input-files.ts).
  body.messages = await resolveChatFileIds(body.messages, r.caller.tenantId, r.files);
  const id = r.audit.requestId;
  // The tenant's response cache (docs/gateway.md "Response cache"): the answer, whole or streamed, of a request not
  // stored; after the rate limits (a HIT counts as a request), keyed on the body with its files' bytes (a deleted file is
  // a 404 above) and with `stream` and `stream_options`: a stream's HIT is the kept stream, replayed.
  if (keep) r.cache?.bypass();
  const hit = keep ? undefined : await r.cache?.lookup('/v1/chat/completions', model, body, { stream });
  if (hit && stream) {
    const out = res.stream({ 'x-request-id': id, ...await pipeline.cacheHitRateHeaders(r), ...r.cache!.headers() });
    for (const event of chatStreamEvents(hit.body, id)) await out.write(event);
    return void (await out.end());
  }
  if (hit) {
    // The answer as it was given, under this request's id (the audit record's, x-request-id's); `created` says when it was made.
    const answer = { ...(JSON.parse(hit.body) as ChatCompletion), id };
    return void (await res.json(200, JSON.stringify(answer), { 'x-request-id': id, ...await pipeline.cacheHitRateHeaders(r), ...answerCostHeaders(r.audit), ...r.cache!.headers() }));
  }
  await runChat(pipeline, r, model, body, body.n ?? 1, async (x) => {
    if (!stream) {
      const answer = await completeChat(x, id);
      await keep?.(x, answer);
      const json = JSON.stringify(answer);
      // Not an answer the tenant's guardrail blocked (200, finish_reason content_filter): the next may pass it.
      // Kept no longer than the answer's audio may be named in the next turn (its expires_at).
      if (r.audit.outcome === 'ok') await r.cache?.keep(json, audioExpiresAt(answer.choices));
      return void (await res.json(200, json, { 'x-request-id': id, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit), ...r.cache?.headers() }));
    }
    const assembled = keep && new ChunkAssembler();
    // The chunks as they go out, for the response cache when it would keep them: kept only when the stream ended whole (below).
    const recorded = r.cache?.keeping ? new StreamRecorder() : undefined;
    const includeUsage = body.stream_options?.include_usage === true;
    let out: ReturnType<GatewayResponder['stream']> | undefined;
    let usageSent = false; // a usage chunk (`choices: []`) relayed from the upstream
    const end = await streamChat(x, id, {
      open() {
        out = res.stream({ 'x-request-id': id, ...pipeline.servedRateHeaders(r), ...r.cache?.headers() });
      },
      chunk(chunk) {
        if (chunk.choices.length === 0 && chunk.usage) usageSent = true;
        assembled?.add(chunk);
        recorded?.add(chunk);
        return out!.write(`data: ${JSON.stringify(chunk)}\n\n`);
      },
    }, includeUsage);
    if (end.cancelled) return void (await out?.end()); // not opened when the caller was gone before the first chunk
    if (end.failure) {
      r.audit.status = end.failure.status;
      // OpenAI's mid-stream error event: the SDKs raise it; no made-up finish follows.
      await out!.write(`data: ${end.failure.body()}\n\n`);
      return void (await out!.end());
    }
    // The usage chunk OpenAI ends with when the caller asked for it: the upstream's when it sent one,
    // else this one (the gateway's count, or the usage an upstream put on its content chunks).
    if (!usageSent && includeUsage) {
      const usageChunk: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created: end.created, model: end.model.id, choices: [], usage: end.usage };
      recorded?.add(usageChunk);
      await out!.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
    }
    // Kept for the response cache before [DONE], as a stored completion is: every choice finished, no error, no
    // guardrail's block (outcome ok), the caller still reading (a cut or failed stream returned above).
    const kept = recorded && r.audit.outcome === 'ok' ? recorded.body() : undefined;
    if (kept !== undefined && chatStreamFinished(kept)) {
      // Kept no longer than its audio may be named in the next turn (the chunks parsed again only when one has an expiry).
      const audioUntil = kept.includes('"expires_at"') ? audioExpiresAt((JSON.parse(kept) as ChatCompletionChunk[]).flatMap((c) => c.choices ?? [])) : undefined;
      await r.cache!.keep(kept, audioUntil);
    }
    // Kept before [DONE]: a client that reads the completion back once the stream ended finds it.
    if (assembled) await keep!(x, assembled.completion(id, end.created, end.model.id, end.usage));
    await out!.write('data: [DONE]\n\n');
    await out!.end();
  }, limit);
}

/**
 * How this request's answer is kept (`store: true`), or undefined when it is not to be (`store` false or absent).
 * Audited as the Responses API's create: `detail.chatCompletionId` and `detail.stored` (true once kept).
 * @throws GatewayError 400 `store_not_allowed` naming `store` when the tenant's policy forbids storage
 *   (`storeResponses: false`, as /v1/responses answers); 400 `unsupported_parameter` when this gateway keeps none
 */
function storageOf(pipeline: RequestPipeline, r: PipelineRequest, body: ChatRequestBody, store: ChatCompletionStore | undefined): ((x: ChatExchange, answer: ChatCompletion) => Promise<void>) | undefined {
  if (body.store !== true) return undefined;
  if (r.policy.gateway.storeResponses === false) throw invalid(`store: tenant ${r.caller.tenantId}'s policy does not allow stored chat completions or responses; send store: false or leave it out`, 'store', 'store_not_allowed');
  if (!store) throw invalid('store: true is not served here: this gateway keeps no stored chat completions (no responses store); leave store out or false', 'store', 'unsupported_parameter');
  const detail = { chatCompletionId: r.audit.requestId, stored: false };
  r.audit.detail ??= {};
  Object.assign(r.audit.detail, detail);
  const days = pipeline.config.gateway.responsesTtlDays ?? 30;
  const sent = body.messages.length;
  return async (x, answer) => {
    // The guarded messages keep their positions after the tenant's system prompt (guardChat): the caller's are the last `sent`.
    const messages = (x.body.messages as ChatCompletionMessageParam[]).slice(x.body.messages.length - sent);
    const id = answer.id;
    const now = Math.floor(Date.now() / 1000);
    try {
      await store.put({
        tenantId: r.caller.tenantId, id, created: answer.created, storedAt: nextStoredAt(), model: answer.model, metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
        caller: { userId: r.caller.userId, ...(r.caller.keyId ? { keyId: r.caller.keyId } : {}) },
        completion: answer as unknown as Record<string, unknown>, messages: storeMessagesOf(id, messages), expiresAt: now + days * DAY_S,
      });
      r.audit.detail!.stored = true;
    } catch (e) {
      if (!(e instanceof ResponseTooLargeError)) throw e;
      // The answer is paid for: it is answered, not kept, and the audit record says why.
      r.audit.outcome = 'response_not_stored';
    }
  };
}

/**
 * What the gateway refuses on chat completions, whatever the provider: nothing today (`store: true` is kept by the
 * gateway itself: storageOf). A `file` part's `file.file_id` is resolved after the rate limits: ../input-files.ts resolveChatFileIds.
 */
