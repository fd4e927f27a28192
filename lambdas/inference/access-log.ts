import type { AuditRecord } from './audit.js';
import type { LogEntry } from '../shared/service-logger.js';
import { logModel, logText } from './log-text.js';

/**
 * The access line of one answered request (`tessera serve` prints one per request, as uvicorn or nginx do; the deployed
 * router leaves it to API Gateway's access logs and its own metrics line), as a value, from the request's audit record:
 * message `request`, `method`, `path` (the path only: the query string, which may hold a caller's values, never),
 * `status` (the HTTP status sent: a stream that failed after it began was sent 200; 499 when the caller left before
 * the answer, as nginx logs it), `durationMs` (the gateway's latency, as the record's `latencyMs`), `requestId` (the
 * answer's `x-request-id`), then when known `tenantId`, `keyId` (the key's id, never the key) or, for a token's caller,
 * `userId` (the token's `sub`: whose user limit a 429 was, whose requests a tenant asks about), `model` (the catalog id
 * that answered, or the one asked for by a request refused for its model: `model_not_found`, `model_kind_mismatch`),
 * `stream`, `bytesOut` (the answer's body bytes, when the transport counts them) and, for a request that failed or was
 * refused, `errorCode` (the OpenAI error's code: `invalid_api_key`, `rate_limit_exceeded`, `request_too_large`…, a
 * failed stream's error event's; `cancelled` for a stream the caller left after it began, its status the 200 sent) and,
 * for a 4xx, `param` (the refusal's `param`: the field a 400 names, `temperature`, `top_k`) and, when the record names no
 * model (a schema's refusal comes before the model is resolved), the `model` the body named as a string.
 * Never the Authorization header, a key, the prompt or the answer: the path, `model`, `param` and `errorCode` are the caller's
 * or the upstream's text, so a credential-shaped token in them is `[redacted]`, a `model` not shaped as a model id
 * (a prompt pasted into it) `[not a model id]`, and each is bounded (log-text.ts).
 * Level: ERROR for a 5xx (the platform failed the caller: worth an alarm; a stream sent 200 that then failed with a 5xx
 * error too), INFO for everything else, 4xx included: a refusal (a wrong key, a rate limit, a bad field) is the
 * gateway working as configured and the caller's to fix, and a WARN per refusal would bury the platform's own warnings
 * (a misbehaving client sends thousands).
 *
 * @param audit the request's record, its status, outcome and latency final
 * @param sent what the transport sent: the HTTP status (once the head was sent) and the body's bytes
 *   @default - the record's status, no `bytesOut`
 * @param refusal a 4xx's `param` and the body's `model` (AccessLogRefusal) @default - neither
 */
export function accessLogEntry(audit: AuditRecord, sent: { status?: number; bytes?: number } = {}, refusal: AccessLogRefusal = {}): LogEntry {
  const status = sent.status ?? audit.status;
  // A refusal: a 4xx, not the 499 of a caller that left.
  const refused = audit.status >= 400 && audit.status < 499;
  const model = audit.model ?? (refused ? refusal.bodyModel : undefined);
  return {
    level: audit.status >= 500 || status >= 500 ? 'ERROR' : 'INFO',
    message: 'request',
    method: audit.method,
    path: audit.path === undefined ? undefined : logText(audit.path, 1024),
    status,
    durationMs: Math.round(audit.latencyMs),
    requestId: audit.requestId,
    ...(audit.tenantId ? { tenantId: audit.tenantId } : {}),
    ...(audit.keyId ? { keyId: audit.keyId } : audit.userId ? { userId: audit.userId } : {}),
    ...(model ? { model: logModel(model) } : {}),
    ...(audit.stream !== undefined ? { stream: audit.stream } : {}),
    ...(sent.bytes !== undefined ? { bytesOut: sent.bytes } : {}),
    ...(audit.status >= 400 || audit.outcome === 'cancelled' ? { errorCode: logText(audit.outcome, 128) } : {}),
    ...(refused && refusal.param ? { param: logText(refusal.param, 256) } : {}),
  };
}

/** What a 4xx's access line says besides the audit record (accessLogEntry). */
export interface AccessLogRefusal {
  /** The refusal's `param`: the field it names (`temperature`, `messages[0].content`, `top_k`). @default - none */
  param?: string | null;
  /** The `model` the request body named (body-model.ts bodyModel), said when the record names none. @default - none */
  bodyModel?: string;
}
