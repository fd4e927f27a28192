import type { GatewayResponder } from '../gateway.js';
import { GatewayError, notFound } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import type { ConversationStore } from '../stores/conversation-store.js';
import type { ResponseStore } from '../stores/response-store.js';
import { createResponse } from './responses-create.js';
import { countResponseInputTokens } from './responses-input-tokens.js';
import { isResponseId } from '../responses/ids.js';
import { cancelResponse, deleteResponse, listInputItems, retrieveResponse, retrieveStreams, streamResponse } from './responses-stored.js';
import type { BackgroundStarter } from '../responses/background.js';
import type { VectorStoreService } from '../vector-stores/service.js';

/** What the responses endpoint reads of the HTTP request. */
export interface ResponsesHttpRequest {
  method: string;
  /** `/v1/responses`, `/v1/responses/{id}` or `/v1/responses/{id}/input_items` (no trailing slash). */
  path: string;
  body?: string;
  query: Record<string, string | undefined>;
  /** The query parameter names given more than once (GatewayRequest `repeatedQuery`). @default - none */
  repeatedQuery?: readonly string[];
  /** Every value of each query parameter given more than once (GatewayRequest `queryValues`). @default - none */
  queryValues?: Readonly<Record<string, readonly string[]>>;
  /** The request's `Upgrade` header (`websocket` on a WebSocket handshake: webSocketRefusal). @default - none */
  upgrade?: string;
}

/**
 * OpenAI's `POST /v1/responses/<name>` endpoints the gateway does not serve, with why and what to do instead:
 * answered 404 `route_not_found` (as OpenAI answers a path it does not know), not read as a response id.
 * `compact` returns compacted items that are opaque (encrypted by OpenAI, only OpenAI's Responses API reads them
 * back), which this gateway's chat-completions upstreams could not be given in a later turn.
 */
const UNSERVED_POSTS: ReadonlyMap<string, string> = new Map([
  ['compact', "client.responses.compact (compacting a conversation into opaque items that only OpenAI's own Responses API can read back) is not served by this gateway; instead chain turns with previous_response_id or a conversation as they are, or shorten the history yourself (summarize earlier turns into a message) and check its size with client.responses.inputTokens.count (POST /v1/responses/input_tokens)"],
]);

/** Longest response id looked up, as `previous_response_id` in a body (request-schema.ts). */
const MAX_RESPONSE_ID_CHARS = 256;

/**
 * OpenAI's Responses API: `POST /v1/responses` (responses-create.ts), `GET` and `DELETE
 * /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` (responses-stored.ts).
 * `POST /v1/responses/{id}/cancel` cancels a background response (`background: true`, run by `background`:
 * responses/background.ts; cancelResponse). `POST /v1/responses/input_tokens` counts a request's input tokens
 * (responses-input-tokens.ts). The hosted `file_search` tool searches `vectorStores` (responses-file-search.ts; without them it is a 400). `POST /v1/responses/compact` is a 404 saying what to do instead (UNSERVED_POSTS), as is
 * a POST to any other `/v1/responses/{x}` whose `x` cannot be a response id (responses/ids.ts isResponseId). Another
 * method on a served path is a 405.
 */
export async function responses(pipeline: RequestPipeline, r: PipelineRequest, req: ResponsesHttpRequest, res: GatewayResponder, store: ResponseStore | undefined, conversations?: ConversationStore, background?: BackgroundStarter, vectorStores?: VectorStoreService): Promise<void> {
  const rest = req.path.slice('/v1/responses'.length).split('/').slice(1).map(decoded);
  const json = (body: string) => res.json(200, body, { 'x-request-id': r.audit.requestId });
  if (rest.length === 0) {
    if (req.method === 'POST') return await createResponse(pipeline, r, req.body, res, store, conversations, background && { queue: background }, vectorStores);
    if (req.method === 'GET' && isWebSocketUpgrade(req.upgrade)) throw webSocketRefusal();
    throw methodNotAllowed(req);
  }
  const [id, sub, ...more] = rest;
  // OpenAI's POST endpoints beside the response ids: not served, and no response id either (a 405 would say the path exists).
  if (rest.length === 1 && req.method === 'POST') {
    if (id === 'input_tokens') return await countResponseInputTokens(pipeline, r, req.body, res, store, conversations);
    const unserved = UNSERVED_POSTS.get(id);
    if (unserved) throw notFound(`no route POST ${req.path}: ${unserved}`, null, 'route_not_found');
    // Not a response id either: no 405 saying GET or DELETE would serve it.
    if (!isResponseId(id)) throw notFound(`no route POST ${req.path}: the POST endpoints under /v1/responses are /v1/responses (create), /v1/responses/input_tokens (count) and /v1/responses/{response_id}/cancel`, null, 'route_not_found');
  }
  if (id.length > MAX_RESPONSE_ID_CHARS) {
    // Never a stored id (ours are resp_ + 48 hex): not looked up, and not echoed whole into the answer and the audit record.
    const shown = `${id.slice(0, 64)}…`;
    Object.assign(r.audit, { detail: { responseId: shown } });
    throw notFound(`no response with id '${shown}': response ids are at most ${MAX_RESPONSE_ID_CHARS} characters`, null, 'response_not_found');
  }
  if (more.length === 0 && sub === undefined) {
    if (req.method === 'GET' && retrieveStreams(req.query)) return await streamResponse(store, r, id, req.query, res, background?.followPollMs, req.queryValues);
    if (req.method === 'GET') return await json(await retrieveResponse(store, r, id, req.query, req.queryValues));
    if (req.method === 'DELETE') return await json(await deleteResponse(store, r, id));
    throw methodNotAllowed(req);
  }
  if (more.length === 0 && sub === 'input_items') {
    if (req.method === 'GET') return await json(await listInputItems(store, r, id, req.query, req.repeatedQuery, req.queryValues));
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

/** An `Upgrade` header asking for a WebSocket (RFC 6455 §4.1: `websocket`, case-insensitive, maybe among other protocols). */
const isWebSocketUpgrade = (upgrade: string | undefined) => upgrade !== undefined && upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket');

/**
 * The answer to the Responses API's WebSocket mode (OpenAI's `wss://…/v1/responses`: a `GET /v1/responses` with
 * `Upgrade: websocket`, then each `response.create` as a message on the socket), which this gateway does not serve: no
 * WebSocket route in `tessera serve` or on API Gateway's REST API, and every upstream is a chat-completions one. The
 * OpenAI Agents SDK for Python (0.25) opens it with `responses_websocket_session(...)`,
 * `set_default_openai_responses_transport("websocket")` or `MultiProvider(openai_use_responses_websocket=True)`, and
 * shows the handshake's status and body (`InvalidStatus`). Still the 405 a GET on this path gets (`allow: POST`), but
 * naming the WebSocket mode and the setting to change, not a bare "GET is not supported", which the app never sent
 * knowingly. Source: the handshake openai-agents 0.25.0 sends (docs/gateway.md: Frameworks).
 */
const webSocketRefusal = () => new GatewayError(405, "GET is not supported on /v1/responses: this request asked to upgrade to a WebSocket (Upgrade: websocket), the Responses API's WebSocket mode, which this gateway does not serve; send responses over HTTP, POST /v1/responses (the OpenAI Agents SDK's default transport: no responses_websocket_session, and set_default_openai_responses_transport('http'))", 'invalid_request_error', 'method_not_allowed');

const methodNotAllowed = (req: ResponsesHttpRequest) => new GatewayError(405, `${req.method} is not supported on ${req.path}`, 'invalid_request_error', 'method_not_allowed');
