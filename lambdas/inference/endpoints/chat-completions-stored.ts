import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { Metadata } from '../chat/request-schema.js';
import type { GatewayResponder } from '../gateway.js';
import { GatewayError, invalid, notFound } from '../openai-errors.js';
import { readsModel, type PipelineRequest } from '../pipeline.js';
import { catalogIdOf } from '../policy.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery, refuseUnknownRouteQuery } from '../query-parameters.js';
import { parseJson, parseWith } from '../request-body.js';
import { listOrderOf, type ChatCompletionStore, type ChatCompletionSummary, type StoredChatCompletion } from '../stores/chat-completion-store.js';

/** OpenAI's list shape (`CursorPage`): `object: 'list'`, the page, its first and last ids, whether more follow. */
export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * The request's messages as OpenAI's `ChatCompletionStoreMessage`s (`GET /v1/chat/completions/{id}/messages`): each
 * message as sent (after the tenant's input guardrails) with `id` `<completion id>-<index>`, `content` its text (the
 * text parts joined; null when it has none) and `content_parts` the `text` and `image_url` parts when the content was
 * an array of parts (else null), as the API reference's example shows (`name: null` when the message had none).
 */
export function storeMessagesOf(id: string, messages: readonly ChatCompletionMessageParam[]): Record<string, unknown>[] {
  return messages.map((m, i) => {
    const content = (m as { content?: unknown }).content;
    const parts = Array.isArray(content) ? (content as Array<{ type: string; text?: string }>) : undefined;
    const text = parts ? parts.filter((p) => p.type === 'text').map((p) => p.text ?? '').join('') : typeof content === 'string' ? content : null;
    return {
      ...m, id: `${id}-${i}`, content: parts && text === '' ? null : text,
      name: (m as { name?: string }).name ?? null,
      content_parts: parts ? parts.filter((p) => p.type === 'text' || p.type === 'image_url') : null,
    };
  });
}

/**
 * A streamed answer assembled as the whole ChatCompletion the caller would have received (what `store: true` keeps of a
 * stream): per choice its role, content, refusal, tool calls (by index, arguments joined), legacy function call,
 * finish reason and logprobs' content, from the chunks as they were sent to the caller (after the output guardrails).
 */
export class ChunkAssembler {
  private readonly choices = new Map<number, { message: Record<string, any>; finish_reason: string | null; logprobs: { content: unknown[]; refusal: unknown[] } | null }>();
  private first?: ChatCompletionChunk;
  usage?: ChatCompletion['usage'];

  add(chunk: ChatCompletionChunk): void {
    this.first ??= chunk;
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of chunk.choices) {
      let choice = this.choices.get(c.index);
      if (!choice) this.choices.set(c.index, (choice = { message: { role: 'assistant', content: null, refusal: null }, finish_reason: null, logprobs: null }));
      const d = c.delta as Record<string, any>;
      const m = choice.message;
      if (typeof d.content === 'string') m.content = (m.content ?? '') + d.content;
      if (typeof d.refusal === 'string') m.refusal = (m.refusal ?? '') + d.refusal;
      for (const field of ['reasoning_content', 'reasoning']) if (typeof d[field] === 'string') m[field] = (m[field] ?? '') + d[field];
      if (d.function_call) {
        m.function_call ??= { name: '', arguments: '' };
        if (d.function_call.name) m.function_call.name += d.function_call.name;
        if (d.function_call.arguments) m.function_call.arguments += d.function_call.arguments;
      }
      for (const t of (d.tool_calls ?? []) as Array<Record<string, any>>) {
        m.tool_calls ??= [];
        const at = (m.tool_calls[t.index] ??= { id: '', type: t.type ?? 'function', function: { name: '', arguments: '' } });
        if (t.id) at.id = t.id;
        if (t.function?.name) at.function.name += t.function.name;
        if (t.function?.arguments) at.function.arguments += t.function.arguments;
      }
      if (c.finish_reason) choice.finish_reason = c.finish_reason;
      if (c.logprobs) {
        choice.logprobs ??= { content: [], refusal: [] };
        choice.logprobs.content.push(...(c.logprobs.content ?? []));
        choice.logprobs.refusal.push(...(c.logprobs.refusal ?? []));
      }
    }
  }

  /** The ChatCompletion (`created` and `model` the stream's, `usage` the end's). */
  completion(id: string, created: number, model: string, usage: ChatCompletion['usage']): ChatCompletion {
    const choices = [...this.choices.entries()].sort(([a], [b]) => a - b).map(([index, c]) => ({
      index, message: { ...c.message, ...(c.message.tool_calls ? { tool_calls: c.message.tool_calls.filter(Boolean) } : {}) }, finish_reason: c.finish_reason, logprobs: c.logprobs,
    }));
    const tier = this.first?.service_tier;
    return { id, object: 'chat.completion', created, model, choices, usage, ...(tier ? { service_tier: tier } : {}), ...(this.first?.system_fingerprint ? { system_fingerprint: this.first.system_fingerprint } : {}) } as ChatCompletion;
  }
}

/**
 * The page of the list (`GET /v1/chat/completions`, OpenAI's `ChatCompletionListParams`): `model` keeps the completions
 * of that model, named as a create names it (an alias, `gpt-5.4-mini`, keeps those of its catalog id, the `model` they
 * were stored with: `catalogIdOf`); `metadata[key]=value` (each given) keeps those whose metadata has every such pair; `order` `asc`
 * (OpenAI's default: oldest first) or `desc` by when the gateway stored them (listOrderOf: `storedAt`, not the upstream's
 * `created`, whole seconds; then id); `after` a completion id of the list, the page
 * starting after it; `limit` 1 to 100 (default 20).
 * @param catalogId the catalog id a model name stands for (policy.ts catalogIdOf with the tenant's aliases) @default the name itself
 * @returns the ids of the page (the endpoint loads them), `has_more`
 * @throws GatewayError 400 naming the parameter: an unknown one, a repeated one, `order` neither asc nor desc, `limit`
 *   out of range, `after` empty or not a stored completion of this list
 */
export function listPage(all: readonly ChatCompletionSummary[], query: Record<string, string | undefined>, repeatedQuery?: readonly string[], catalogId: (model: string) => string = (model) => model): { ids: string[]; hasMore: boolean } {
  refuseUnknownRouteQuery('GET', '/v1/chat/completions', query);
  refuseRepeatedQuery(repeatedQuery);
  const limit = integerQuery(query, 'limit', { min: 1, max: 100, fallback: 20 });
  const order = query.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw invalid(`order must be asc or desc, got '${order.slice(0, 100)}'`, 'order', 'invalid_value');
  const after = cursorQuery(query, 'after');
  const wanted = Object.entries(query).filter(([k]) => k.startsWith('metadata[') && k.endsWith(']')).map(([k, v]) => [k.slice('metadata['.length, -1), v ?? ''] as const);
  const models = query.model === undefined ? undefined : new Set([query.model, catalogId(query.model)]);
  const kept = all.filter((c) => (models === undefined || models.has(c.model)) && wanted.every(([k, v]) => Object.hasOwn(c.metadata, k) && c.metadata[k] === v));
  const sign = order === 'asc' ? 1 : -1;
  kept.sort((a, b) => sign * (listOrderOf(a) - listOrderOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  let start = 0;
  if (after !== undefined) {
    const at = kept.findIndex((c) => c.id === after);
    if (at < 0) throw invalid(`after '${after.slice(0, 100)}' is not a stored chat completion of this list (unknown, expired, deleted, or not matching the filters)`, 'after', 'invalid_value');
    start = at + 1;
  }
  return { ids: kept.slice(start, start + limit).map((c) => c.id), hasMore: start + limit < kept.length };
}

/** OpenAI's ChatCompletion as stored: the answer with its current `metadata`. */
const completionObject = (c: StoredChatCompletion): Record<string, unknown> & { id: string } => ({ ...c.completion, id: c.id, metadata: c.metadata });

const UpdateBody = z.strictObject({ metadata: Metadata.nullable() });

/**
 * The 404 of an id the tenant does not hold (unknown, expired, deleted, another tenant's: one answer), `not_found`.
 */
const completionNotFound = (r: PipelineRequest, id: string, store: ChatCompletionStore | undefined) =>
  notFound(`no chat completion with id '${id.slice(0, 100)}' is stored for tenant ${r.caller.tenantId} (${store ? 'it may have expired or been deleted, or been created without store: true' : 'this gateway stores no chat completions'})`, null, 'not_found');

/** Path segments are percent-decoded (an id holds none of `%`, a malformed one is simply not found). */
const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * OpenAI's stored chat completions, per tenant (created by `POST /v1/chat/completions` with `store: true`):
 * - `GET /v1/chat/completions` → a page of ChatCompletions (listPage: `model`, `metadata[k]`, `after`, `limit`, `order`);
 * - `GET /v1/chat/completions/{id}` → the ChatCompletion with its `metadata`;
 * - `POST /v1/chat/completions/{id}` (`{metadata}` only, replacing it; null clears it) → the ChatCompletion;
 * - `DELETE /v1/chat/completions/{id}` → `{id, object: 'chat.completion.deleted', deleted: true}`;
 * - `GET /v1/chat/completions/{id}/messages` → a page of `ChatCompletionStoreMessage`s (`after`, `limit` 1-100
 *   default 20, `order` asc default).
 * Each is audited (`chat_completion.list|retrieve|update|delete|messages`, the id in the detail).
 * An API key limited to some models (`models`) reads only the stored completions of those models: another model's is
 * left out of its list and is a 404 as an unknown id (the key's narrowed policy treats other models as ones the tenant
 * lacks: Gateway.policyOf), so a key handed to one app cannot read the prompts and answers of another app's model.
 * @param store where they are kept; undefined: the list is empty and every id a 404
 * @throws GatewayError 404 for an id the tenant does not hold; 400 naming the field for a bad body or query
 */
export async function storedChatCompletions(store: ChatCompletionStore | undefined, r: PipelineRequest, req: { method: string; path: string; body?: string; query: Record<string, string | undefined>; repeatedQuery?: readonly string[] }, res: GatewayResponder): Promise<void> {
  const json = (body: unknown) => res.json(200, JSON.stringify(body), { 'x-request-id': r.audit.requestId });
  const tenantId = r.caller.tenantId;
  const rest = req.path.slice('/v1/chat/completions'.length).split('/').slice(1).map(decoded);
  const visible = (model: string) => readsModel(r, model);
  const owned = (c: StoredChatCompletion | undefined) => (c && visible(c.model) ? c : undefined);
  if (rest.length === 0) {
    Object.assign(r.audit, { action: 'chat_completion.list', detail: {} });
    const { ids, hasMore } = listPage(store ? (await store.list(tenantId)).filter((c) => visible(c.model)) : [], req.query, req.repeatedQuery, (model) => catalogIdOf(r.policy, model));
    // An item deleted between the list and its load is left out of the page.
    const data = (await Promise.all(ids.map((id) => store!.get(tenantId, id)))).filter((c): c is StoredChatCompletion => c !== undefined).map(completionObject);
    return void (await json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore } satisfies ListPage<unknown>));
  }
  const id = rest[0]!;
  if (rest.length === 1 && req.method === 'GET') {
    Object.assign(r.audit, { action: 'chat_completion.retrieve', detail: { chatCompletionId: id.slice(0, 100) } });
    const c = owned(store && (await store.get(tenantId, id)));
    if (!c) throw completionNotFound(r, id, store);
    return void (await json(completionObject(c)));
  }
  if (rest.length === 1 && req.method === 'POST') {
    Object.assign(r.audit, { action: 'chat_completion.update', detail: { chatCompletionId: id.slice(0, 100) } });
    const body = parseWith(UpdateBody, parseJson(req.body), 'POST /v1/chat/completions/{id} takes only metadata');
    const c = owned(store && (await store.get(tenantId, id))) && (await store!.setMetadata(tenantId, id, body.metadata ?? {}));
    if (!c) throw completionNotFound(r, id, store);
    return void (await json(completionObject(c)));
  }
  if (rest.length === 1 && req.method === 'DELETE') {
    Object.assign(r.audit, { action: 'chat_completion.delete', detail: { chatCompletionId: id.slice(0, 100) } });
    if (!store || !owned(await store.get(tenantId, id)) || !(await store.delete(tenantId, id))) throw completionNotFound(r, id, store);
    return void (await json({ id, object: 'chat.completion.deleted', deleted: true }));
  }
  if (rest.length === 2 && rest[1] === 'messages' && req.method === 'GET') {
    Object.assign(r.audit, { action: 'chat_completion.messages', detail: { chatCompletionId: id.slice(0, 100) } });
    refuseUnknownRouteQuery('GET', req.path, req.query);
    refuseRepeatedQuery(req.repeatedQuery);
    const c = owned(store && (await store.get(tenantId, id)));
    if (!c) throw completionNotFound(r, id, store);
    const limit = integerQuery(req.query, 'limit', { min: 1, max: 100, fallback: 20 });
    const order = req.query.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw invalid(`order must be asc or desc, got '${order.slice(0, 100)}'`, 'order', 'invalid_value');
    const ordered = order === 'asc' ? c.messages : [...c.messages].reverse();
    const after = cursorQuery(req.query, 'after');
    let start = 0;
    if (after !== undefined) {
      const at = ordered.findIndex((m) => m.id === after);
      if (at < 0) throw invalid(`after '${after.slice(0, 100)}' is not a message of chat completion ${id}`, 'after', 'invalid_value');
      start = at + 1;
    }
    const data = ordered.slice(start, start + limit);
    return void (await json({ object: 'list', data, first_id: (data[0]?.id as string) ?? null, last_id: (data.at(-1)?.id as string) ?? null, has_more: start + limit < ordered.length } satisfies ListPage<unknown>));
  }
  throw new GatewayError(405, `${req.method} is not supported on ${req.path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
}
