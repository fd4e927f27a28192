import type { AuditRecord } from './audit.js';
import type { LogEntry } from '../shared/service-logger.js';

/**
 * The access line of one answered request (`tessera serve` prints one per request, as uvicorn or nginx do; the deployed
 * router leaves it to API Gateway's access logs and its own metrics line), as a value, from the request's audit record:
 * message `request`, `method`, `path` (the path only: the query string, which may hold a caller's values, never),
 * `status` (499 when the caller left before the answer, as nginx logs it), `durationMs` (the gateway's latency, as the
 * record's `latencyMs`), `requestId` (the answer's `x-request-id`), then when known `tenantId`, `keyId` (the key's id,
 * never the key), `model` (the catalog id that answered, or the one asked for by a refused request), `stream`,
 * `bytesOut` (the answer's body bytes, when the transport counts them) and, for an answer of 400 or more, `errorCode`
 * (the OpenAI error's code the caller got: `invalid_api_key`, `rate_limit_exceeded`, `request_too_large`…).
 * Never the Authorization header, a key, the prompt or the answer.
 * Level: ERROR for a 5xx (the platform failed the caller: worth an alarm), INFO for everything else, 4xx included: a
 * refusal (a wrong key, a rate limit, a bad field) is the gateway working as configured and the caller's to fix, and a
 * WARN per refusal would bury the platform's own warnings (a misbehaving client sends thousands).
 *
 * @param audit the request's record, its status, outcome and latency final
 * @param bytesOut the answer's body bytes @default - absent from the line
 */
export function accessLogEntry(audit: AuditRecord, bytesOut?: number): LogEntry {
  return {
    level: audit.status >= 500 ? 'ERROR' : 'INFO',
    message: 'request',
    method: audit.method,
    path: audit.path,
    status: audit.status,
    durationMs: Math.round(audit.latencyMs),
    requestId: audit.requestId,
    ...(audit.tenantId ? { tenantId: audit.tenantId } : {}),
    ...(audit.keyId ? { keyId: audit.keyId } : {}),
    ...(audit.model ? { model: audit.model } : {}),
    ...(audit.stream !== undefined ? { stream: audit.stream } : {}),
    ...(bytesOut !== undefined ? { bytesOut } : {}),
    ...(audit.status >= 400 ? { errorCode: audit.outcome } : {}),
  };
}
