import { can, PERMISSIONS, ROLES, type Permission } from '../../lib/identity/roles.js';
import { printable } from '../../lib/printable.js';
import { jsonOf } from '../../lib/zod-issues.js';
/**
 * Gateway errors, answered in OpenAI's error shape so every OpenAI SDK surfaces them as usual.
 * Never internals in a message: anything unexpected (a defect of the gateway itself) becomes a 500
 * `server_error` with a request id to look up, as OpenAI answers its own failures; 502 and 504 are
 * kept for what went wrong upstream.
 */
/** OpenAI's error types, plus whatever type an upstream sent (relayed as it was). */
export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'rate_limit_error' | 'request_too_large' | 'server_error' | 'upstream_error' | 'timeout_error' | (string & {});

/**
 * The statuses whose every answer says `x-should-retry: false`: 409 (a conflict with the state of
 * a key, user, tenant or model: a rotated or revoked key, the key cap, a user that exists, a model
 * whose endpoint is still being created; the same request answers the same until someone changes
 * that state, while the OpenAI SDKs retry a 409 twice by default), 502 (an upstream failed or
 * answered what the gateway refuses) and 504 (no answer in time). For 502 and 504 the gateway has
 * already retried the upstream and tried the fallback chain, or the upstream would answer the same
 * again, each call billed: the SDKs, which honour the header before the status, would make one
 * client call 3 SDK attempts × the gateway's attempts. A 500 (a gateway defect) and a 503 are
 * retried unless the error itself says otherwise (docs/gateway.md, "Errors at a glance").
 */
export const NO_SDK_RETRY_STATUSES: ReadonlySet<number> = new Set([409, 502, 504]);

/**
 * Whether an error must say `x-should-retry: false` whatever its other headers: a status of NO_SDK_RETRY_STATUSES (but
 * the 409 `create_in_progress` of an SDK retry whose first attempt still runs, which a later retry is answered:
 * pending-creates.ts createInProgress), or a 429 `insufficient_quota` (a quota or credit used up: OpenAI's code for it, which no wait of seconds clears; the SDKs
 * retry every 429 twice by default, honouring a `retry-after`).
 */
const noSdkRetry = (status: number, code: string) => (NO_SDK_RETRY_STATUSES.has(status) && code !== 'create_in_progress') || (status === 429 && code === 'insufficient_quota');

export class GatewayError extends Error {
  /**
   * Response headers that go with the error (`retry-after`, `x-ratelimit-*`, `www-authenticate`),
   * with `x-should-retry: false` on a status of NO_SDK_RETRY_STATUSES and on a 429 `insufficient_quota` whatever was passed.
   */
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly code: string,
    readonly param: string | null = null,
    /** Response headers that go with the error. @default - none (but `x-should-retry: false` on a 409, 502 or 504) */
    headers: Record<string, string> = {},
  ) {
    super(message);
    // The one place the rule is kept: every 409 (but create_in_progress), 502 and 504 and every 429 insufficient_quota of the gateway, whichever route throws it.
    this.headers = noSdkRetry(status, code) ? { ...headers, 'x-should-retry': 'false' } : headers;
  }

  /**
   * What the audit record of this refusal should name besides its status and code: the tenant,
   * user or key a refused credential belonged to, the permission a 403 was about. @default - nothing
   */
  audit?: { tenantId?: string; userId?: string; keyId?: string; permission?: string };

  /** Sets `audit` and returns this error (`throw refusal(...).withAudit({ keyId })`). */
  withAudit(fields: NonNullable<GatewayError['audit']>): this {
    this.audit = { ...this.audit, ...fields };
    return this;
  }

  /**
   * The `code` the body sends when it differs from `code` (which the audit record keeps as the
   * outcome): `null` for an upstream's refusal that carried no code, relayed as OpenAI sends it.
   * @default `code`
   */
  wireCode?: string | null;

  /**
   * Which rate limit a 429 is: the gateway's own request window (`gateway`, with the window that is full: RequestPipeline.admit)
   * or an upstream's throttle (`upstream`: callerErrorOf, not an `insufficient_quota`). A batch's runner waits for the
   * window and runs the line again (batches/line-retry.ts) instead of failing it. @default - not a rate limit (a
   * budget's 429 `budget_exceeded`, an upstream's `insufficient_quota`, any other status)
   */
  rateLimit?: { source: 'gateway'; window: 'minute' | 'hour' | 'day' } | { source: 'upstream' };

  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.wireCode === undefined ? this.code : this.wireCode } });
  }
}

/**
 * At most `max` UTF-16 units of `text`, never ending in half of a surrogate pair, with any lone
 * surrogate replaced by U+FFFD: a message a client can decode, print and log (a lone `\ud83d` is
 * valid JSON, but Python's `str(error).encode()` raises on it).
 */
export function wellFormedPrefix(text: string, max: number): string {
  let cut = text.length > max ? text.slice(0, max) : text;
  if (cut.length < text.length && /[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.replace(/\p{Cs}/gu, '\ufffd');
}

/** The most characters of a caller's value a 400's message quotes (`quoted`). */
export const MAX_QUOTED_CHARS = 200;

/**
 * A caller's value as an error message quotes it: a string as itself, anything else as its JSON (lib/zod-issues.ts
 * jsonOf: a value nested too deep to write is named so), control characters shown escaped (lib/printable.ts), and, when
 * longer than `max`, its first `max` characters (never half a surrogate pair: wellFormedPrefix), `…` and its whole
 * length: `'aaaa… (1048576 characters)'`. A message that quotes a megabyte name, schema or object whole would send it
 * back (and into every log line and SDK exception that prints the error); the field is named by the message and by
 * `param` all the same.
 * @param max the most characters quoted @default MAX_QUOTED_CHARS (200)
 */
export function quoted(value: unknown, max = MAX_QUOTED_CHARS): string {
  const text = typeof value === 'string' ? value : jsonOf(value);
  if (text.length <= max) return printable(text);
  return `${printable(wellFormedPrefix(text, max))}… (${text.length} characters)`;
}

/**
 * The longest message of a 400 (`invalid`): one longer is cut there, saying how long it was. Each message quotes what it
 * quotes through `quoted`; this is the bound for any that does not (several quoted values, a list of names), so a 400
 * never echoes a request's megabytes.
 */
export const MAX_INVALID_MESSAGE_CHARS = 4_000;

/**
 * A 400 `invalid_request_error` naming `param`; `message` is cut at MAX_INVALID_MESSAGE_CHARS (with `… (message cut: N
 * characters)`).
 * @param code @default 'invalid_request'
 */
export const invalid = (message: string, param: string | null = null, code = 'invalid_request') =>
  new GatewayError(400, message.length <= MAX_INVALID_MESSAGE_CHARS ? message : `${wellFormedPrefix(message, MAX_INVALID_MESSAGE_CHARS)}… (message cut: ${message.length} characters)`, 'invalid_request_error', code, param);
/**
 * OpenAI's 400 for a field its request does not define, at the top level or inside the request's objects: `Unknown
 * parameter: '<path>'.`, `param` the path and code `unknown_parameter`, as OpenAI answers one (`'input[4].action.query'`
 * in pydantic/pydantic-ai#3653, `'messages[1].tool_calls[0].index'` in songquanpeng/one-api#1319, `'input[3].status'`
 * in 1jehuang/jcode#1028), then `hint` (where such a field goes here, what the object takes) as a sentence of its own.
 * @param path the field's path as the caller sent it (`foo`, `input[0].content[1].foo`), each key as lib/zod-issues.ts
 *   shownKey shows it (a made-up key cut at 64 characters)
 * @param hint a sentence (a field's name may begin it: `expires_after takes anchor, seconds`) @default - none
 */
export const unknownParameter = (path: string, hint?: string) =>
  invalid(`Unknown parameter: '${path}'.${hint ? ` ${hint}` : ''}`, path, 'unknown_parameter');
/**
 * 401 `authentication_error` with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1): a credential was
 * sent and refused. A request with none is no-api-key.ts noApiKey's (OpenAI's words, `WWW-Authenticate: Bearer`).
 */
export const unauthorized = (message: string, code = 'invalid_token') =>
  new GatewayError(401, message, 'authentication_error', code, null, { 'www-authenticate': 'Bearer error="invalid_token"' });
/** 403 `permission_error` with `code`; `param` names the request field refused, when one is (e.g. `model`). @default param null */
export const forbidden = (message: string, code: string, param: string | null = null) => new GatewayError(403, message, 'permission_error', code, param);
/**
 * 403 `permission_denied`: the caller's role (lib/identity/roles.ts) lacks the permission a route
 * needs; the message names both, what the permission allows and the roles that hold it (what to ask
 * the tenant admin for), e.g. `role "member" lacks permission "fine_tuning.write" (create and cancel
 * fine-tuning jobs; ...); roles with it: admin, developer; ask your tenant admin for a role that has it`.
 */
export const permissionDenied = (role: string, permission: Permission) =>
  new GatewayError(403, `role "${role}" lacks permission "${permission}" (${PERMISSIONS[permission]}); roles with it: ${ROLES.filter((r) => can(r, permission)).join(', ')}; ask your tenant admin for a role that has it`, 'permission_error', 'permission_denied').withAudit({ permission });
/**
 * 404 with type `invalid_request_error`, as OpenAI answers an unknown model, route, response or job
 * (its error types have no `not_found_error`; the SDKs raise `NotFoundError` from the status).
 */
export const notFound = (message: string, param: string | null, code: string) => new GatewayError(404, message, 'invalid_request_error', code, param);
/**
 * 404 `model_not_found` naming `model`, for a model the caller may not use or that does not exist:
 * OpenAI's wording ("The model '…' does not exist or you do not have access to it"), one message
 * for every endpoint (chat completions, responses, embeddings, `GET /v1/models/{model}`).
 * @param id the model id as the caller asked for it (after `default` is resolved)
 * @param unservedProvider the provider of a model the caller may use that this gateway does not
 *   serve (`tessera serve` without AWS credentials): the message says so instead
 * @param withProvider the caller's own model ids that are `id` with a provider in front
 *   (`openai/gpt-4o-mini` for `gpt-4o-mini`): clients that strip the provider (the OpenAI Agents
 *   SDK's default provider strips `openai/`) are told the whole id. @default - none
 * @param chatSuggestion whether `withProvider[0]` is a chat model: only then is the Agents SDK's
 *   OpenAIResponsesModel suggested (an embedding or moderation model is refused by responses). @default true
 * @param suggestion a sentence naming one of the caller's own names near `id` (model-suggestions.ts `didYouMean`:
 *   "did you mean 'openai/gpt-4o-mini'?"), said before the pointer to `GET /v1/models` when no `withProvider` id is
 *   named. @default - none
 */
export const modelNotFound = (id: string, unservedProvider?: string, withProvider: readonly string[] = [], chatSuggestion = true, suggestion?: string) =>
  unservedProvider
    ? notFound(`The model '${id}' is not served by this gateway: it does not reach provider ${unservedProvider} (tessera serve's start-up lines say why); GET /v1/models lists what it serves`, 'model', 'model_not_found')
    : withProvider.length
      ? notFound(`The model '${id}' does not exist or you do not have access to it; did you mean ${withProvider.map((m) => `'${m}'`).join(' or ')}? Model ids here name their provider${chatSuggestion ? `, and some clients strip it (the OpenAI Agents SDK's default provider strips 'openai/': pass OpenAIResponsesModel(model='${withProvider[0]}', openai_client=...) instead)` : ''}. GET /v1/models lists yours`, 'model', 'model_not_found')
      : notFound(`The model '${id}' does not exist or you do not have access to it; ${suggestion ? `${suggestion} ` : ''}${id.startsWith('ft:') ? `${FINE_TUNED_NOT_YET} ` : ''}GET /v1/models lists yours`, 'model', 'model_not_found');

/**
 * What the 404 of an `ft:` id adds: a fine-tuned model exists (is listed and served) only once its job has succeeded, which
 * is once its endpoint is in service (lambdas/fine-tuning/endpoint-events.ts). Said of every `ft:` id the caller lacks, so
 * it tells nothing of whether one is deploying (no existence oracle).
 */
export const FINE_TUNED_NOT_YET = 'a fine-tuned model is served once its job has succeeded, its endpoint in service (GET /v1/fine_tuning/jobs);';
export const tooLarge = (message: string) => new GatewayError(413, message, 'request_too_large', 'request_too_large');
/** 429; `headers` carries `retry-after` and OpenAI's `x-ratelimit-*` headers (see rate-limit-headers.ts). */
export const limited = (message: string, code: string, headers: Record<string, string> = {}) => new GatewayError(429, message, 'rate_limit_error', code, null, headers);
/**
 * 500 `server_error` / `internal_error`: the gateway failed on a request it should have answered
 * (a defect, logged with the request id); the message carries only the request id.
 */
export const internalError = (requestId: string) => new GatewayError(500, `internal error (request ${requestId})`, 'server_error', 'internal_error');
/**
 * A 5xx (`err`) answered after the request was settled with a cost: the upstream answered and the tenant's budget was
 * charged, then the gateway failed before the answer went out (a stored chat completion's or response's write refused,
 * a usage ledger that is full). The same status, type and code, the message saying what was billed, and
 * `x-should-retry: false`: the OpenAI SDKs retry a 500 or 503 twice by default, and each retry is another upstream call
 * billed in full while the first answer stays lost (measured with openai-node 7.55: 2 upstream calls and 30 tokens
 * charged for one 15-token answer delivered).
 * @param billed the settled request's token counts (the audit record's `promptTokens`, `completionTokens`)
 */
export function billedFailure(err: GatewayError, billed: { promptTokens?: number; completionTokens?: number }): GatewayError {
  const tokens = `${billed.promptTokens ?? 0} input + ${billed.completionTokens ?? 0} output tokens`;
  const billedErr = new GatewayError(err.status, `${err.message}; the model had answered and the answer was billed (${tokens}), but it could not be returned: sending the request again is another billed call`,
    err.type, err.code, err.param, { ...err.headers, 'x-should-retry': 'false' });
  billedErr.wireCode = err.wireCode;
  if (err.audit) billedErr.audit = err.audit;
  return billedErr;
}
export const upstream = (message: string, code = 'upstream_error') => new GatewayError(502, message, 'upstream_error', code);
/**
 * 502 `tenant_provider_key_unreadable` (type `upstream_error`): the tenant's policy says its own key calls `provider`
 * (`gateway.providerKeys.<provider>: own`) and `tessera/tenants/<tenant>/<provider>` cannot be read with the tenant's
 * credentials. The request fails closed: no call with the platform's key, no fallback model, no cooldown of the model
 * for others (upstream-calls.ts). 502, not 401: the caller's own credential is good (a 401 makes SDKs and agents ask for a
 * new gateway key); not 503: nothing heals on a retry until an operator acts, so `x-should-retry: false` (502 is in
 * NO_SDK_RETRY_STATUSES) keeps the OpenAI SDKs from sending it twice more. The tenant id is the caller's own.
 */
export class TenantKeyUnreadable extends GatewayError {
  /**
   * @param reason why it cannot be read: `missing or not tagged tessera:tenant-id=<tenant>` (AWS answers AccessDenied
   *   for both), `empty`, or the AWS error's name
   */
  constructor(readonly tenantId: string, readonly provider: string, readonly reason: string) {
    super(502, `the tenant's own API key for ${provider} (Secrets Manager secret tessera/tenants/${tenantId}/${provider}) is not readable: ${reason}. `
      + `The tenant's policy (gateway.providerKeys.${provider}: own) forbids the platform's key, so nothing was sent upstream. The platform operator must set the key `
      + `(tessera tenants provider-key set ${tenantId} ${provider}) and check it (tessera tenants provider-key status ${tenantId}); the gateway reads it again within five minutes`,
    'upstream_error', 'tenant_provider_key_unreadable');
  }
}
/**
 * 502 `tenant_provider_key_refused` (type `upstream_error`): the provider answered 401 or 403 to a call made with the
 * tenant's own key (`tessera/tenants/<tenant>/<provider>`, read under `gateway.providerKeys.<provider>` `own`, or
 * `own-or-platform` when it was readable): the key is wrong, revoked, or not allowed the model. The chain ends there
 * (upstream-calls.ts): no retry, no other deployment, no fallback model, which would run on the platform's key or
 * another provider, spend there and hide the broken key; nothing is reported to the cooldown (model-health.ts: it says
 * nothing about the model). The message names the provider, the status and the secret, never the key nor the
 * provider's own words (OpenAI's 401 quotes part of the key). 502, not 401: the caller's gateway credential is good; the
 * `x-should-retry: false` of every 502 keeps the SDKs from sending it again before an operator acts.
 */
export class TenantKeyRefused extends GatewayError {
  /**
   * @param provider the provider that refused (`openai`, `huggingface`, `openai-compatible`)
   * @param upstreamStatus the provider's status, 401 or 403
   * @param model the catalog id the call was for
   * @param source the tenant's `gateway.providerKeys.<provider>` (`own` or `own-or-platform`)
   */
  constructor(readonly tenantId: string, readonly provider: string, readonly upstreamStatus: number, readonly model: string, readonly source: string) {
    super(502, `${provider} refused the tenant's own API key (${upstreamStatus} from ${provider} for ${model}; Secrets Manager secret tessera/tenants/${tenantId}/${provider}): `
      + `the key is wrong, revoked, or not allowed this model. The tenant's policy (gateway.providerKeys.${provider}: ${source}) calls ${provider} with the tenant's key, `
      + `so no other deployment or fallback model was tried${source === 'own-or-platform' ? ' (own-or-platform uses the platform\'s key only when the tenant\'s cannot be read)' : ''}. `
      + `The platform operator must set a working key (tessera tenants provider-key set ${tenantId} ${provider}); the gateway reads it again within five minutes`,
    'upstream_error', 'tenant_provider_key_refused');
  }
}
export const upstreamTimeout = (message: string) => new GatewayError(504, message, 'timeout_error', 'upstream_timeout');
/**
 * 504 `request_deadline_exceeded`: the gateway's own time for the request ran out (the router
 * Lambda's timeout less the settle margin, lambda-deadline.ts) and it stopped the upstream call;
 * `x-should-retry: false` as every 504 (the same request would run as long again).
 */
export const deadlineExceeded = (message: string) => new GatewayError(504, message, 'timeout_error', 'request_deadline_exceeded');
