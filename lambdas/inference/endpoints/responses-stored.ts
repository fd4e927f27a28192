import { invalid, notFound } from '../openai-errors.js';
import type { PipelineRequest } from '../pipeline.js';
import { inputItemsPage } from '../responses/input-items-list.js';
import { refuseRepeatedQuery } from '../query-parameters.js';
import { checkIncludeQuery } from '../responses/request-fields.js';
import type { ResponseStore, StoredResponse } from '../stores/response-store.js';

/**
 * The tenant's stored response, or a 404 in OpenAI's shape, `response_not_found` (also the audit
 * record's outcome): for an unknown id, an expired one, another tenant's (the store only ever
 * reads the caller's tenant's items), and when this gateway keeps no responses.
 * @param param the request field that named the id (`previous_response_id`), null for a path
 */
export async function storedResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, param: string | null = null): Promise<StoredResponse> {
  const found = store && (await store.get(r.caller.tenantId, responseId));
  if (!found) throw responseNotFound(store, r, responseId, param);
  return found;
}

const responseNotFound = (store: ResponseStore | undefined, r: PipelineRequest, responseId: string, param: string | null) =>
  notFound(`no response with id '${responseId}' is stored for tenant ${r.caller.tenantId} (${store ? 'it may have expired or been deleted' : 'this gateway stores no responses'})`, param, 'response_not_found');

/**
 * `GET /v1/responses/{id}`: the Response object as it was answered. A stream (`?stream=true`) of a
 * stored response is not served; an `include` value the gateway does not honour is a 400 naming `include`, as at create.
 */
export async function retrieveResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, query: Record<string, string | undefined>): Promise<string> {
  Object.assign(r.audit, { action: 'response.retrieve', detail: { responseId } });
  if (query.stream === 'true') throw invalid('stream=true is not served for a stored response (background responses are not served); leave it out', 'stream', 'unsupported_parameter');
  checkIncludeQuery(query);
  return JSON.stringify((await storedResponse(store, r, responseId)).response);
}

/** `DELETE /v1/responses/{id}`: OpenAI's answer `{id, object: 'response', deleted: true}`. */
export async function deleteResponse(store: ResponseStore | undefined, r: PipelineRequest, responseId: string): Promise<string> {
  Object.assign(r.audit, { action: 'response.delete', detail: { responseId } });
  if (!store || !(await store.delete(r.caller.tenantId, responseId))) throw responseNotFound(store, r, responseId, null);
  return JSON.stringify({ id: responseId, object: 'response', deleted: true });
}

/** `GET /v1/responses/{id}/input_items`: a page of the request's input items (`limit`, `order`, `after`; `include` checked as retrieve does). */
export async function listInputItems(store: ResponseStore | undefined, r: PipelineRequest, responseId: string, query: Record<string, string | undefined>, repeatedQuery?: readonly string[]): Promise<string> {
  Object.assign(r.audit, { action: 'response.input_items', detail: { responseId } });
  checkIncludeQuery(query);
  // `include` is a list (`include[]=a&include[]=b`); the page's own parameters take one value each.
  refuseRepeatedQuery(repeatedQuery, ['after', 'limit', 'order']);
  const stored = await storedResponse(store, r, responseId);
  return JSON.stringify(inputItemsPage(stored.inputItems, query));
}
