import { GatewayError, invalid, notFound } from '../openai-errors.js';
import { asRead, cancelBackground, SETTLED, type BackgroundStarter } from '../responses/background.js';
import { readsModel, type PipelineRequest } from '../pipeline.js';
import { inputItemsPage } from '../responses/input-items-list.js';
import { refuseRepeatedQuery } from '../query-parameters.js';
import { checkIncludeQuery } from '../responses/request-fields.js';
import { eventWithIncluded, refuseNotKept, responseWithIncluded, withIncluded } from '../responses/included-fields.js';
import type { ResponseStore, StoredResponse } from '../stores/response-store.js';
import type { GatewayResponder } from '../gateway.js';
import { checkStreamable, followEvents, startingAfterOf } from '../responses/background-events.js';

/**
 * The caller's tenant's stored response as the caller may read it, or undefined: unknown, expired, another tenant's (the
 * store only ever reads the caller's tenant's items), or answered by a model outside the `models` of the caller's API
 * key (readsModel: such a response is read by no path of that key, as an unknown id). A background response `queued`
 * past the bound its start could arrive in is read `failed` (background.ts asRead). Every read of a stored response
 * by id goes through it: retrieve, delete, input_items, cancel, `previous_response_id` and item references (create,
 * input_tokens).
 */
export async function readableResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string): Promise<StoredResponse | undefined> {
  const found = store && (await store.get(r.caller.tenantId, responseId));
  return found && readsModel(r, found.response.model) ? asRead(found) : undefined;
}

/**
 * The tenant's stored response, or a 404 in OpenAI's shape, `response_not_found` (also the audit
 * record's outcome): for an unknown id, an expired one, another tenant's, one the caller's key may not read
 * (readableResponse), and when this gateway keeps no responses.
 * @param param the request field that named the id (`previous_response_id`), null for a path
 */
export async function storedResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, param: string | null = null): Promise<StoredResponse> {
  const found = await readableResponse(store, r, responseId);
  if (!found) throw responseNotFound(store, r, responseId, param);
  return found;
}

const responseNotFound = (store: ResponseStore | undefined, r: PipelineRequest, responseId: string, param: string | null) =>
  notFound(`no response with id '${responseId}' is stored for tenant ${r.caller.tenantId} (${store ? 'it may have expired or been deleted' : 'this gateway stores no responses'})`, param, 'response_not_found');

/**
 * Whether `GET /v1/responses/{id}` streams (ResponseRetrieveParams: `stream`, `starting_after`, `include_obfuscation`),
 * each parameter checked rather than read loosely: `stream` is `true` or `false` (the official clients' form of a
 * boolean; `stream=1` was a plain retrieve); `starting_after` only with `stream=true` (without it, it positioned nothing);
 * `include_obfuscation` `false` (stream events carry no obfuscation padding, as `stream_options.include_obfuscation` on create).
 * @throws GatewayError 400 naming `stream` or `include_obfuscation` (`invalid_value`: neither true nor false;
 *   `unsupported_parameter`: include_obfuscation=true), or `starting_after` given without `stream=true`
 */
export function retrieveStreams(query: Record<string, string | undefined>): boolean {
  for (const name of ['stream', 'include_obfuscation']) {
    const value = query[name];
    if (value !== undefined && value !== 'true' && value !== 'false') throw invalid(`${name} must be true or false, got '${value.slice(0, 40)}'`, name, 'invalid_value');
  }
  if (query.include_obfuscation === 'true') throw invalid('include_obfuscation true is not served: stream events carry no obfuscation padding; leave it out or send false', 'include_obfuscation', 'unsupported_parameter');
  const stream = query.stream === 'true';
  if (!stream && query.starting_after !== undefined) throw invalid('starting_after is only allowed with stream=true (the sequence number of the event after which the stream starts); leave it out to retrieve the response', 'starting_after', 'invalid_request');
  return stream;
}

/**
 * `GET /v1/responses/{id}`: the Response object as it is stored (`?stream=true`: streamResponse), as its `include` shows
 * it (included-fields.ts withIncluded: `file_search_call` results and output text logprobs only when asked for, as
 * OpenAI answers); an `include` value the gateway does not honour is a 400 naming `include[i]`, as at create, and so is
 * one whose data the response did not keep, its create not having asked for it (refuseNotKept). `starting_after` is
 * read only with `stream=true`.
 */
export async function retrieveResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, query: Record<string, string | undefined>, queryValues?: Readonly<Record<string, readonly string[]>>): Promise<string> {
  Object.assign(r.audit, { action: 'response.retrieve', detail: { responseId } });
  const include = checkIncludeQuery(query, queryValues);
  const stored = await storedResponse(store, r, responseId);
  refuseNotKept(stored, include);
  return JSON.stringify(responseWithIncluded(stored.response, include));
}

/**
 * `GET /v1/responses/{id}?stream=true&starting_after=N` (client.responses.retrieve(id, {stream: true, starting_after})):
 * the stream events of a background response created with `stream: true`, those after sequence number N (all without
 * it), then the rest as its run writes them, until the terminal event (background-events.ts followEvents), each as the
 * `include` shows it, as retrieve's JSON (included-fields.ts eventWithIncluded: `file_search_call` results and output
 * text logprobs only when asked for; a value the response did not keep is refused, refuseNotKept). Audited as
 * `response.retrieve` with `detail.stream: true` and `startingAfter`.
 * @throws GatewayError 400 naming `starting_after` (negative, not an integer, past the last event stored), 404 as
 *   retrieve's (another tenant's id, a key's other model), 400 naming `stream` for a response not created with
 *   `background: true` (OpenAI's words) or without `stream: true`
 */
export async function streamResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, query: Record<string, string | undefined>, res: GatewayResponder, pollMs?: number, queryValues?: Readonly<Record<string, readonly string[]>>): Promise<void> {
  const detail: Record<string, unknown> = { responseId, stream: true };
  Object.assign(r.audit, { action: 'response.retrieve', detail });
  r.audit.stream = true;
  const include = checkIncludeQuery(query, queryValues);
  const after = startingAfterOf(query.starting_after);
  if (after >= 0) detail.startingAfter = after;
  const stored = await storedResponse(store, r, responseId);
  refuseNotKept(stored, include);
  checkStreamable(stored, store!);
  await followEvents(store!, r.caller.tenantId, responseId, after, res, { headers: { 'x-request-id': r.audit.requestId }, pollMs, shape: (event) => eventWithIncluded(event, include) });
}

/** `DELETE /v1/responses/{id}`: OpenAI's answer `{id, object: 'response', deleted: true}`. */
export async function deleteResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string): Promise<string> {
  Object.assign(r.audit, { action: 'response.delete', detail: { responseId } });
  if (!store || !(await readableResponse(store, r, responseId)) || !(await store.delete(r.caller.tenantId, responseId))) throw responseNotFound(store, r, responseId, null);
  return JSON.stringify({ id: responseId, object: 'response', deleted: true });
}

/**
 * `GET /v1/responses/{id}/input_items`: a page of the request's input items (`limit`, `order`, `after`), as its `include`
 * shows them (withIncluded; the input items are kept as sent, so no honoured value lacks its data); a value the gateway
 * does not honour is a 400 naming `include[i]`.
 */
export async function listInputItems(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, query: Record<string, string | undefined>, repeatedQuery?: readonly string[], queryValues?: Readonly<Record<string, readonly string[]>>): Promise<string> {
  Object.assign(r.audit, { action: 'response.input_items', detail: { responseId } });
  const include = checkIncludeQuery(query, queryValues);
  // `include` is a list (`include[]=a&include[]=b`); the page's own parameters take one value each.
  refuseRepeatedQuery(repeatedQuery, ['after', 'limit', 'order']);
  const stored = await storedResponse(store, r, responseId);
  const page = inputItemsPage(stored.inputItems, query);
  return JSON.stringify({ ...page, data: withIncluded(page.data, include) });
}

/**
 * `POST /v1/responses/{id}/cancel` (client.responses.cancel): a background response (`background: true`) still
 * `queued` or `in_progress` becomes `cancelled` (its run stops at its next check and never overwrites it); one
 * already settled is answered as it is (cancelling is idempotent, as at OpenAI). The answer is the Response object.
 * @throws GatewayError 404 `response_not_found` as retrieve's (another tenant's id included); 400
 *   `response_not_cancellable` for a response not created with `background: true`
 */
export async function cancelResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, background?: BackgroundStarter): Promise<string> {
  Object.assign(r.audit, { action: 'response.cancel', detail: { responseId } });
  const stored = await storedResponse(store, r, responseId);
  if (stored.response.background !== true) {
    throw new GatewayError(400, `response '${responseId}' cannot be cancelled: only responses created with background: true can be (this one was answered when it was created)`, 'invalid_request_error', 'response_not_cancellable');
  }
  if (SETTLED.has(String(stored.response.status))) return JSON.stringify(stored.response); // settled, or read failed (asRead)
  const after = await cancelBackground(store!, r.caller.tenantId, responseId);
  if (!after) throw responseNotFound(store, r, responseId, null); // deleted meanwhile
  if (after.response.status === 'cancelled') background?.cancelled?.(r.caller.tenantId, responseId);
  return JSON.stringify(after.response);
}
