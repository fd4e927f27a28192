import { wellFormedPrefix, type ErrorType, type GatewayError } from './openai-errors.js';
import { servedList, servedRoutes, type Route } from './routes.js';
import { KEY_SET_RETRY_MS } from './key-set-retry.js';

/**
 * The errors API Gateway answers itself on the deployed path (a refused credential, a usage-plan
 * throttle or quota, the WAF, a route that does not exist, its own payload limit and timeouts),
 * as gateway responses in OpenAI's error shape `{"error": {message, type, param, code}}`, so the
 * OpenAI SDKs raise the usual classes (AuthenticationError, PermissionDeniedError, NotFoundError,
 * RateLimitError…) with a `code`, and retry only what is worth retrying. Without them API Gateway
 * answers `{"message": "Unauthorized"}` and the like (the SDKs' `error.code` and `type` are empty)
 * and 429s without `retry-after`.
 *
 * A gateway response's template is not VTL: API Gateway only substitutes `$context` variables
 * (developer guide, "Gateway responses for REST APIs", and the responseTemplates reference), so
 * there is one response per type, each with a fixed status, type and code. The values substituted
 * here are only ones that need no JSON escaping: the request id (a UUID), the response type (an
 * upper-case name) and the authorizer's context, which the authorizer escapes itself
 * (authorizerDenyContext). Used by constructs/inference-api.ts (one `AWS::ApiGateway::GatewayResponse`
 * each) and by the API Gateway emulator of the integration tests.
 */

/** API Gateway's response types answered here (developer guide, "Gateway response types for API Gateway"). */
export type GatewayResponseType =
  | 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'AUTHORIZER_FAILURE' | 'AUTHORIZER_CONFIGURATION_ERROR' | 'INVALID_API_KEY'
  | 'THROTTLED' | 'QUOTA_EXCEEDED' | 'WAF_FILTERED' | 'MISSING_AUTHENTICATION_TOKEN' | 'REQUEST_TOO_LARGE'
  | 'INTEGRATION_TIMEOUT' | 'DEFAULT_4XX' | 'DEFAULT_5XX';

export interface GatewayResponseSpec {
  readonly type: GatewayResponseType;
  /** The status sent. @default - API Gateway's own for the type (DEFAULT_4XX/5XX: the status of the error they stand for) */
  readonly statusCode?: number;
  /** Static response headers, name → value as sent. @default - none */
  readonly headers?: Readonly<Record<string, string>>;
  /** The OpenAI error object; `message` and `code` may hold the `$context` variables of GATEWAY_RESPONSE_VARIABLES. */
  readonly error: { readonly message: string; readonly type: ErrorType; readonly code: string };
}

/**
 * Headers every gateway response maps from the request's context (API Gateway's parameter-mapping
 * sources, `context.<name>`, unquoted; static values are quoted): `x-request-id`, which the OpenAI
 * SDKs read as the error's request id (openai-node `requestID`, openai-python `request_id`), as the
 * router's own answers send it.
 */
export const GATEWAY_RESPONSE_MAPPED_HEADERS: Readonly<Record<string, string>> = { 'x-request-id': 'context.requestId' };

/** The only `$context` variables the templates use: each is substituted as is, so each must be JSON-string safe. */
export const GATEWAY_RESPONSE_VARIABLES = ['$context.requestId', '$context.error.responseType', '$context.authorizer.message', '$context.authorizer.reason'] as const;

const REQUEST = '(request $context.requestId)';

/**
 * The MISSING_AUTHENTICATION_TOKEN response of an API serving `routes`: a path or method the API does not have, which
 * API Gateway answers 403 "Missing Authentication Token" and OpenAI 404; the message lists what is served (routes.ts
 * servedList, derived from the route tables, so a new route is listed without a second edit).
 * @param routes the routes the API declares (constructs/inference-api.ts, constructs/fine-tuning.ts)
 */
export function missingRouteResponse(routes: readonly Route[]): GatewayResponseSpec {
  return {
    type: 'MISSING_AUTHENTICATION_TOKEN', statusCode: 404,
    error: { type: 'invalid_request_error', code: 'route_not_found', message: `Invalid URL: this gateway has no such method and path; ${servedList(routes)} ${REQUEST}` },
  };
}

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  {
    // The authorizer threw "Unauthorized", or the Authorization header is missing (API Gateway does
    // not call the authorizer then). API Gateway carries no reason for a 401, so the message lists
    // them; the authorizer's own code (token_expired, api_key_revoked…) is in its log under the request id.
    // OpenAI's type, code and first words for a credential it does not take (incorrect-api-key.ts, as `tessera serve`
    // answers a bearer that is no JWT nor key); the credential itself is not shown: a gateway response's template cannot
    // read the header. Until 2026-12-07 its type was `authentication_error` and its words "Incorrect or missing credentials".
    type: 'UNAUTHORIZED', headers: { 'www-authenticate': 'Bearer' },
    error: {
      type: 'invalid_request_error', code: 'invalid_api_key',
      message: `Incorrect API key provided, or none: send "Authorization: Bearer <tenant JWT or tsk_ API key>"; the token or key was missing, malformed, expired, revoked, signed by another issuer or unknown ${REQUEST}`,
    },
  },
  {
    // The authorizer's explicit Deny: a caller it knows, refused (tenant not served, role claim naming no role).
    type: 'ACCESS_DENIED',
    error: { type: 'permission_error', code: '$context.authorizer.reason', message: `$context.authorizer.message ${REQUEST}` },
  },
  // The authorizer threw something other than "Unauthorized" (AWS answers AUTHORIZER_CONFIGURATION_ERROR for that).
  // retry-after spreads the SDKs' retries during an outage (the authorizer's concurrency is reserved: 50). A throw
  // carries no header, so the wait is the longest a warm authorizer answers a failed key set read again without
  // reading it (KEY_SET_RETRY_MS): with the 2 s sent before, both of the SDKs' retries (at 2 and 4 s) came inside it and
  // were refused from memory, the key set never read again. retry-after-ms first (the SDKs read it before retry-after).
  ...(['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR'] as const).map((type): GatewayResponseSpec => ({
    type, headers: { 'retry-after-ms': String(KEY_SET_RETRY_MS), 'retry-after': String(Math.ceil(KEY_SET_RETRY_MS / 1000)) },
    error: { type: 'server_error', code: 'authorizer_failed', message: `The gateway could not check the credentials (its authorizer failed: $context.error.responseType); retry, and report ${REQUEST} if it persists` },
  })),
  {
    // API key source AUTHORIZER: the authorizer names the tenant's usage key; none, or one in no usage plan of this stage.
    type: 'INVALID_API_KEY',
    error: { type: 'permission_error', code: 'usage_key_missing', message: `Your tenant has no usage key in its tier's usage plan, so the gateway cannot meter its calls: its onboarding or tier change may not have finished; ask your platform team ${REQUEST}` },
  },
  {
    // The tier's usage-plan rate (a token bucket refilled every second) or the account's API Gateway throttle.
    type: 'THROTTLED', headers: { 'retry-after': '1' },
    error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: `Too many requests per second for your tier (API Gateway usage plan throttle); retry after a second ${REQUEST}` },
  },
  {
    // The usage plan's daily quota renews at 00:00 UTC: a retry within the SDKs' backoff cannot succeed.
    type: 'QUOTA_EXCEEDED', headers: { 'x-should-retry': 'false' },
    error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: `Your tier's daily request quota is used up (API Gateway usage plan); it renews at 00:00 UTC ${REQUEST}` },
  },
  {
    type: 'WAF_FILTERED',
    error: { type: 'permission_error', code: 'request_blocked', message: `The request was blocked by the API's web application firewall (AWS managed rules for common exploits and known bad inputs, or too many requests from your IP address) ${REQUEST}` },
  },
  // A path or method the API does not have. The deployed API serves the router's routes, the Batch API's (the router
  // with its queue, constructs/batch-work.ts) and fine-tuning's, in the order the router lists them (servedRoutes).
  missingRouteResponse(servedRoutes({ fineTuning: true, batches: true })),
  // Two limits answer it: API Gateway's own 10 MB of body, and Lambda's 6 MB (6,291,456 bytes) of synchronous invocation
  // payload, which counts the whole event: the body JSON-escaped (or base64 for a binary media type), the headers and the
  // request context. Lambda's RequestEntityTooLargeException comes back as this 413 ("Request Too Long", API Gateway's
  // default body for REQUEST_TOO_LARGE: koki-develop/lgtm-generator#10). A JSON body within the largest
  // gateway.maxRequestBytes (lib/config/schema.ts MAX_REQUEST_BYTES_LIMIT) never reaches it; a body under the
  // configured limit can only when it is not JSON (raw control characters, escaped to 6 bytes each).
  {
    type: 'REQUEST_TOO_LARGE',
    error: {
      type: 'request_too_large', code: 'request_too_large',
      message: `The request is too large to reach the gateway: over API Gateway's payload limit of 10 MB, or over Lambda's invocation payload limit of 6 MB (6,291,456 bytes), which counts the body as API Gateway escapes it into its event (up to 6 bytes a character) and the headers; the gateway takes at most gateway.maxRequestBytes of body (1 MiB by default); send a smaller body (an image or document sent inline as base64: upload it with POST /v1/files and send its file_id; an upload's part: at most 4 MiB, upload_file_chunked(..., part_size=4194304)) ${REQUEST}`,
    },
  },
  {
    type: 'INTEGRATION_TIMEOUT',
    error: { type: 'timeout_error', code: 'gateway_timeout', message: `The gateway did not answer within API Gateway's integration timeout; retry ${REQUEST}` },
  },
  {
    type: 'DEFAULT_4XX',
    error: { type: 'invalid_request_error', code: 'invalid_request', message: `API Gateway refused the request ($context.error.responseType) ${REQUEST}` },
  },
  {
    type: 'DEFAULT_5XX',
    error: { type: 'server_error', code: 'internal_error', message: `API Gateway failed the request ($context.error.responseType); retry, and report ${REQUEST} if it persists` },
  },
];

/** The `application/json` template of `spec`: OpenAI's error body with `$context` variables where API Gateway substitutes them. */
export function gatewayResponseTemplate(spec: GatewayResponseSpec): string {
  return JSON.stringify({ error: { message: spec.error.message, type: spec.error.type, param: null, code: spec.error.code } });
}

/** `text` as it may stand between the quotes of a JSON string (API Gateway substitutes context values unescaped). */
const jsonStringContent = (text: string) => JSON.stringify(text).slice(1, -1);

/**
 * The context of the authorizer's Deny, which the ACCESS_DENIED response shows: `reason` (the
 * GatewayError's code) and `message`, both escaped for the template's JSON strings; the message
 * at most 1,024 UTF-16 units, cut between characters (wellFormedPrefix).
 */
export function authorizerDenyContext(refusal: GatewayError): { reason: string; message: string } {
  return { reason: jsonStringContent(refusal.code), message: jsonStringContent(wellFormedPrefix(refusal.message, 1024)) };
}
