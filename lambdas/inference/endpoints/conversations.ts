import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Metadata } from '../chat/request-schema.js';
import type { GatewayResponder } from '../gateway.js';
import { GatewayError, invalid, notFound } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery } from '../query-parameters.js';
import { parseJson, parseWith } from '../request-body.js';
import { inputItemsOf } from '../responses/input-items.js';
import { redactInputItems } from '../guardrails/caller-texts.js';
import { itemsToMessages } from '../responses/items-to-messages.js';
import { checkIncludeQuery } from '../responses/request-fields.js';
import { withIncluded } from '../responses/included-fields.js';
import {
  ConversationItemTooLargeError, DuplicateConversationItemError, UnknownAfterItemError,
  type ConversationItem, type ConversationStore, type StoredConversation,
} from '../stores/conversation-store.js';
import type { ResponsesHttpRequest } from './responses.js';

const DAY_S = 86_400;

/** OpenAI: at most 20 items at a time (`ConversationCreateParams.items`, `ItemCreateParams.items`). */
export const MAX_ITEMS_PER_CALL = 20;

/**
 * Longest conversation or item id looked up (ours are `conv_` + 48 hex, item ids `msg_` + 52 hex), and
 * the longest item id a conversation keeps (a longer one could never be retrieved or deleted, and
 * would not fit the DynamoDB store's sort key `conv_<hex>#id#<item id>`, at most 1024 bytes: 256
 * UTF-16 code units are at most 768 bytes of UTF-8); longer ones are not echoed whole.
 */
export const MAX_ID_CHARS = 256;

/** What the conversations endpoint reads of the HTTP request: the responses endpoint's, with a `/v1/conversations...` path (no trailing slash, still percent-encoded). */
export type ConversationsHttpRequest = ResponsesHttpRequest;

const CreateBody = z.looseObject({ items: z.array(z.unknown()).max(MAX_ITEMS_PER_CALL).nullish(), metadata: Metadata.nullish() });
const UpdateBody = z.looseObject({ metadata: Metadata.nullable() });
const ItemsBody = z.looseObject({ items: z.array(z.unknown()).min(1).max(MAX_ITEMS_PER_CALL) });

/** The Conversation object (OpenAI's `Conversation`). */
export const conversationObject = (c: StoredConversation) => ({ id: c.conversationId, object: 'conversation', created_at: c.createdAt, metadata: c.metadata });

/**
 * OpenAI's answer to a conversation id it does not hold: 404 "Conversation with id '…' not found."
 * One answer for an unknown, expired, deleted or another tenant's id, and when this gateway keeps no
 * conversations.
 * @param param the request field that named the id (`conversation` on /v1/responses), null for a path
 */
export function conversationNotFound(tenantId: string, conversationId: string, param: string | null = null): GatewayError {
  const shown = conversationId.length > MAX_ID_CHARS ? `${conversationId.slice(0, 64)}…` : conversationId;
  return notFound(`Conversation with id '${shown}' not found: no conversation with that id is kept for tenant ${tenantId} (it may have expired or been deleted)`, param, 'conversation_not_found');
}

const itemNotFound = (conversationId: string, itemId: string) =>
  notFound(`Item with id '${itemId.length > MAX_ID_CHARS ? `${itemId.slice(0, 64)}…` : itemId}' not found in conversation '${conversationId}'`, null, 'item_not_found');

/**
 * Refuses conversation writes for a tenant whose policy says `storeResponses: false`: a conversation
 * keeps its content, as a stored response does.
 * @param param the field to name (`conversation` on /v1/responses; null on /v1/conversations)
 * @throws GatewayError 400 `store_not_allowed`
 */
export function checkConversationsAllowed(r: PipelineRequest, param: string | null): void {
  if (r.policy.gateway.storeResponses === false) {
    throw invalid(`tenant ${r.caller.tenantId}'s policy does not allow stored responses, and a conversation stores its items: send the conversation as input with store: false`, param, 'store_not_allowed');
  }
}

/**
 * Items added through the Conversations API (create's `items`, `POST …/items`) as they are kept and answered: under the
 * tenant's `guardrails.redactPii`, PII-redacted now (redactInputItems), as every later turn sends them to the model;
 * the labels found go to this request's audit record (`piiRedacted`), once: the turns that send them find none.
 * Without redactPii, as sent. Ids, order and every other field unchanged.
 */
function redactedForKeeping(r: PipelineRequest, items: ConversationItem[]): ConversationItem[] {
  if (!r.policy.gateway.guardrails.redactPii) return items;
  const red = redactInputItems(items);
  if (red.piiFound.length) r.audit.piiRedacted = [...new Set(red.piiFound)];
  return red.items;
}

/**
 * Items as a conversation keeps them (OpenAI's `ConversationItem`s): `inputItemsOf`'s form (each
 * with an id, `type`, `status`), checked as `/v1/responses` would read them later, so that no item
 * is kept that every later response of the conversation would refuse.
 * @param base the request's field (`items`)
 * @throws GatewayError 400 naming `items[i]…`
 */
export function conversationItemsOf(raw: unknown[], base: string): ConversationItem[] {
  const items = inputItemsOf(raw as Array<Record<string, unknown>>, base);
  items.forEach((item, i) => {
    if (item.type === 'item_reference') throw invalid(`${base}[${i}]: an item_reference cannot be added to a conversation; add the item itself`, `${base}[${i}].type`, 'unsupported_parameter');
  });
  checkKeepableItemIds(items, base);
  itemsToMessages(items, base); // its 400s name `<base>[i]…`
  return items;
}

/**
 * Every item id can be kept in a conversation: at most MAX_ID_CHARS (a longer id could not be
 * retrieved or deleted, and does not fit the DynamoDB store's key: it was its ValidationException,
 * a 500, after the answer was paid for on /v1/responses).
 * @param base the request's field (`items`, `input`)
 * @throws GatewayError 400 `invalid_value` naming `<base>[i].id`
 */
export function checkKeepableItemIds(items: ReadonlyArray<{ id: string }>, base: string): void {
  items.forEach((item, i) => {
    if (item.id.length > MAX_ID_CHARS) throw invalid(`${base}[${i}].id is ${item.id.length} characters long ('${item.id.slice(0, 64)}…'); a conversation keeps item ids of at most ${MAX_ID_CHARS} characters: send a shorter id, or none (one is made)`, `${base}[${i}].id`, 'invalid_value');
  });
}

/** A new conversation id: `conv_` and 48 random hex characters (24 bytes from the CSPRNG), unguessable. */
export const newConversationId = () => `conv_${randomBytes(24).toString('hex')}`;

/**
 * OpenAI's Conversations API, per tenant:
 * - `POST /v1/conversations` (`{items?, metadata?}`, at most 20 items) → Conversation;
 * - `GET /v1/conversations/{id}` → Conversation; `POST` (`{metadata}`, replacing it) → Conversation;
 *   `DELETE` → `{id, object: 'conversation.deleted', deleted: true}`;
 * - `POST /v1/conversations/{id}/items` (`{items}`, 1 to 20) → the items added, as a list;
 *   `GET` → a page (`after`, `limit` 1-100 default 20, `order` asc|desc default desc);
 * - `GET /v1/conversations/{id}/items/{item_id}` → the item; `DELETE` → the Conversation.
 * An id the tenant does not hold (unknown, expired, deleted, another tenant's) is a 404; another
 * method on a served path a 405. Conversations expire `gateway.responsesTtlDays` after they are created.
 * @param store where conversations are kept; undefined: every id is a 404 and creating one a 400
 */
export async function conversations(pipeline: RequestPipeline, r: PipelineRequest, req: ConversationsHttpRequest, res: GatewayResponder, store: ConversationStore | undefined): Promise<void> {
  const rest = req.path.slice('/v1/conversations'.length).split('/').slice(1).map(decoded);
  const json = (body: unknown) => res.json(200, JSON.stringify(body), { 'x-request-id': r.audit.requestId });
  const tenantId = r.caller.tenantId;
  if (rest.length === 0) {
    if (req.method !== 'POST') throw methodNotAllowed(req);
    Object.assign(r.audit, { action: 'conversation.create', detail: {} });
    const body = parseWith(CreateBody, req.body ? parseJson(req.body) : {});
    checkConversationsAllowed(r, null);
    if (!store) throw invalid('conversations cannot be served: this gateway keeps no conversations; chain turns with previous_response_id, or send the conversation as input', null, 'unsupported_parameter');
    const items = redactedForKeeping(r, conversationItemsOf(body.items ?? [], 'items'));
    const createdAt = Math.floor(Date.now() / 1000);
    const conversation: StoredConversation = {
      tenantId, conversationId: newConversationId(), createdAt, metadata: body.metadata ?? {},
      expiresAt: createdAt + (pipeline.config.gateway.responsesTtlDays ?? 30) * DAY_S,
    };
    r.audit.detail = { conversationId: conversation.conversationId };
    await writing(() => store.create(conversation, items));
    return await json(conversationObject(conversation));
  }
  const [id, sub, itemId, ...more] = rest;
  Object.assign(r.audit, { detail: { conversationId: shown(id!) } });
  const found = async () => (id!.length <= MAX_ID_CHARS && store && (await store.get(tenantId, id!))) || undefined;
  if (sub === undefined) {
    if (req.method === 'GET') {
      r.audit.action = 'conversation.retrieve';
      const c = await found();
      if (!c) throw conversationNotFound(tenantId, id!);
      return await json(conversationObject(c));
    }
    if (req.method === 'POST') {
      r.audit.action = 'conversation.update';
      const body = parseWith(UpdateBody, parseJson(req.body));
      const c = (await found()) && (await store!.updateMetadata(tenantId, id!, body.metadata ?? {}));
      if (!c) throw conversationNotFound(tenantId, id!);
      return await json(conversationObject(c));
    }
    if (req.method === 'DELETE') {
      r.audit.action = 'conversation.delete';
      if (id!.length > MAX_ID_CHARS || !store || !(await store.delete(tenantId, id!))) throw conversationNotFound(tenantId, id!);
      return await json({ id, object: 'conversation.deleted', deleted: true });
    }
    throw methodNotAllowed(req);
  }
  if (sub !== 'items' || more.length > 0) throw notFound(`no route ${req.method} ${req.path}`, null, 'route_not_found');
  if (itemId === undefined) {
    if (req.method === 'POST') {
      r.audit.action = 'conversation.items.create';
      const include = checkIncludeQuery(req.query, req.queryValues);
      const body = parseWith(ItemsBody, parseJson(req.body));
      checkConversationsAllowed(r, null);
      const items = redactedForKeeping(r, conversationItemsOf(body.items, 'items'));
      const added = (await found()) && (await writing(() => store!.append(tenantId, id!, items)));
      if (!added) throw conversationNotFound(tenantId, id!);
      return await json({ object: 'list', data: withIncluded(items, include), first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null, has_more: false });
    }
    if (req.method === 'GET') {
      r.audit.action = 'conversation.items.list';
      const include = checkIncludeQuery(req.query, req.queryValues);
      refuseRepeatedQuery(req.repeatedQuery, ['after', 'limit', 'order']);
      const limit = integerQuery(req.query, 'limit', { min: 1, max: 100, fallback: 20 });
      const order = req.query.order ?? 'desc';
      if (order !== 'asc' && order !== 'desc') throw invalid(`order must be asc or desc, got '${order.slice(0, 100)}'`, 'order', 'invalid_value');
      const after = cursorQuery(req.query, 'after');
      if (!(await found())) throw conversationNotFound(tenantId, id!);
      // No item has a longer id (checkKeepableItemIds); the DynamoDB store's key could not hold one (its ValidationException, a 500).
      if (after !== undefined && after.length > MAX_ID_CHARS) throw afterNotAnItem(after, id!);
      let page;
      try {
        page = await store!.list(tenantId, id!, { order, limit, after });
      } catch (e) {
        if (e instanceof UnknownAfterItemError) throw afterNotAnItem(e.itemId, id!);
        throw e;
      }
      if (!page) throw conversationNotFound(tenantId, id!);
      return await json({ object: 'list', data: withIncluded(page.items, include), first_id: page.items[0]?.id ?? null, last_id: page.items.at(-1)?.id ?? null, has_more: page.hasMore });
    }
    throw methodNotAllowed(req);
  }
  Object.assign(r.audit, { detail: { conversationId: shown(id!), itemId: shown(itemId) } });
  if (req.method === 'GET') {
    r.audit.action = 'conversation.items.retrieve';
    const include = checkIncludeQuery(req.query, req.queryValues);
    if (!(await found())) throw conversationNotFound(tenantId, id!);
    const item = itemId.length <= MAX_ID_CHARS ? await store!.getItem(tenantId, id!, itemId) : undefined;
    if (!item) throw itemNotFound(id!, itemId);
    return await json(withIncluded([item], include)[0]);
  }
  if (req.method === 'DELETE') {
    r.audit.action = 'conversation.items.delete';
    const c = await found();
    if (!c) throw conversationNotFound(tenantId, id!);
    if (itemId.length > MAX_ID_CHARS || !(await store!.deleteItem(tenantId, id!, itemId))) throw itemNotFound(id!, itemId);
    return await json(conversationObject(c));
  }
  throw methodNotAllowed(req);
}

/**
 * A store write, its refusals as 400s naming the item.
 * @throws GatewayError 400 naming `items[i]` for an item too large to keep, `items[i].id` for an id already in the conversation
 */
export async function writing<T>(write: () => Promise<T>, base = 'items'): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof ConversationItemTooLargeError) throw invalid(`${base}[${e.index}]: ${e.message}`, `${base}[${e.index}]`, 'item_too_large');
    if (e instanceof DuplicateConversationItemError) throw invalid(`Duplicate item found with id ${shown(e.itemId)} (${base}[${e.index}].id): the conversation already holds it; leave the id out to add a copy`, `${base}[${e.index}].id`, 'duplicate_item_id');
    throw e;
  }
}

const afterNotAnItem = (itemId: string, conversationId: string) => invalid(`after '${shown(itemId)}' is not an item of conversation '${conversationId}'`, 'after', 'invalid_value');

const shown = (id: string) => (id.length > MAX_ID_CHARS ? `${id.slice(0, 64)}…` : id);

/** A path segment, percent-decoded; a malformed escape names no conversation. */
const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw notFound(`Conversation with id '${segment.slice(0, 64)}' not found`, null, 'conversation_not_found');
  }
};

const methodNotAllowed = (req: ConversationsHttpRequest) => new GatewayError(405, `${req.method} is not supported on ${req.path}`, 'invalid_request_error', 'method_not_allowed');
