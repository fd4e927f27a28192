import type { GatewayResponder } from '../gateway.js';
import { GatewayError, notFound } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import type { ConversationStore } from '../stores/conversation-store.js';
import type { ResponseStore } from '../stores/response-store.js';
import { createResponse } from './responses-create.js';
import { cancelResponse, deleteResponse, listInputItems, retrieveResponse } from './responses-stored.js';
import type { BackgroundStarter } from '../responses/background.js';

/** What the responses endpoint reads of the HTTP request. */
export interface ResponsesHttpRequest {
  method: string;
  /** `/v1/responses`, `/v1/responses/{id}` or `/v1/responses/{id}/input_items` (no trailing slash). */
  path: string;
  body?: string;
  query: Record<string, string | undefined>;
  /** The query parameter names given more than once (GatewayRequest `repeatedQuery`). @default - none */
  repeatedQuery?: readonly string[];
}

/**
 * OpenAI's `POST /v1/responses/<name>` endpoints the gateway does not serve, with what they do:
 * answered 404 `route_not_found` (as OpenAI answers a path it does not know), not read as a response id.
 */
const UNSERVED_POSTS: ReadonlyMap<string, string> = new Map([
  ['input_tokens', 'counting a request\'s input tokens (responses.inputTokens.count)'],
  ['compact', 'compacting a conversation (responses.compact)'],
]);

/** Longest response id looked up, as `previous_response_id` in a body (request-schema.ts). */
const MAX_RESPONSE_ID_CHARS = 256;

/**
 * OpenAI's Responses API: `POST /v1/responses` (responses-create.ts), `GET` and `DELETE
 * /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` (responses-stored.ts).
 * `POST /v1/responses/{id}/cancel` cancels a background response (`background: true`, run by `background`:
 * responses/background.ts; cancelResponse). `POST /v1/responses/input_tokens` and `/compact` are 404s
 * (UNSERVED_POSTS). Another method on a served path is a 405.
 */
export async function responses(pipeline: RequestPipeline, r: PipelineRequest, req: ResponsesHttpRequest, res: GatewayResponder, store: ResponseStore | undefined, conversations?: ConversationStore, background?: BackgroundStarter): Promise<void> {
  const rest = req.path.slice('/v1/responses'.length).split('/').slice(1).map(decoded);
  const json = (body: string) => res.json(200, body, { 'x-request-id': r.audit.requestId });
  if (rest.length === 0) {
    if (req.method === 'POST') return await createResponse(pipeline, r, req.body, res, store, conversations, background && { queue: background });
    throw methodNotAllowed(req);
  }
  const [id, sub, ...more] = rest;
  // OpenAI's POST endpoints beside the response ids: not served, and no response id either (a 405 would say the path exists).
  const unserved = rest.length === 1 && req.method === 'POST' ? UNSERVED_POSTS.get(id) : undefined;
  if (unserved) throw notFound(`no route POST ${req.path}: ${unserved} is not served by this gateway`, null, 'route_not_found');
  if (id.length > MAX_RESPONSE_ID_CHARS) {
    // Never a stored id (ours are resp_ + 48 hex): not looked up, and not echoed whole into the answer and the audit record.
    const shown = `${id.slice(0, 64)}…`;
    Object.assign(r.audit, { detail: { responseId: shown } });
    throw notFound(`no response with id '${shown}': response ids are at most ${MAX_RESPONSE_ID_CHARS} characters`, null, 'response_not_found');
  }
  if (more.length === 0 && sub === undefined) {
    if (req.method === 'GET') return await json(await retrieveResponse(store, r, id, req.query));
    if (req.method === 'DELETE') return await json(await deleteResponse(store, r, id));
    throw methodNotAllowed(req);
  }
  if (more.length === 0 && sub === 'input_items') {
    if (req.method === 'GET') return await json(await listInputItems(store, r, id, req.query, req.repeatedQuery));
    throw methodNotAllowed(req);
  }
  if (more.length === 0 && sub === 'cancel' && req.method === 'POST') return await json(await cancelResponse(store, r, id, background));
  throw notFound(`no route ${req.method} ${req.path}`, null, 'route_not_found');
}

/** A path segment, percent-decoded; a malformed escape names no response. */
const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw notFound(`no response with id '${segment}'`, null, 'response_not_found');
  }
};

const methodNotAllowed = (req: ResponsesHttpRequest) => new GatewayError(405, `${req.method} is not supported on ${req.path}`, 'invalid_request_error', 'method_not_allowed');
