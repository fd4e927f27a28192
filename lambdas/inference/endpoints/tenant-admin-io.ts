import { IdentityError } from '../../identity/identity-error.js';
import type { Caller } from '../auth.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { parseJson } from '../request-body.js';

/**
 * What `/v1/tenant/keys` and `/v1/tenant/users` share: the caller as the actor their records and
 * events name, the JSON body with no tenant in it, and identity refusals in OpenAI's error shape.
 */

/** Who acts, as records and events name it: `user:<sub>` for a JWT caller, `key:<keyId>` for a key. */
export const actorOf = (caller: Caller): string => (caller.keyId ? `key:${caller.keyId}` : `user:${caller.userId}`);

/**
 * The request body as a JSON object (an empty body is `{}`). The tenant is always the caller's:
 * a `tenantId` or `tenant` field is refused, never read.
 * @throws GatewayError 400 `invalid_json` (not JSON or not an object), `unknown_parameter` (param `tenantId`/`tenant`)
 */
export function tenantBody(body: string | undefined): Record<string, unknown> {
  const value = body === undefined || body.trim() === '' ? {} : parseJson(body);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('request body must be a JSON object', null, 'invalid_json');
  for (const field of ['tenantId', 'tenant']) {
    if (field in value) throw invalid(`unknown parameter "${field}": the tenant is always your own (from your token or key); leave "${field}" out`, field, 'unknown_parameter');
  }
  return value as Record<string, unknown>;
}

/** An IdentityError as the gateway answers it (same status, code and param); anything else unchanged. */
export function asGatewayError(e: unknown): unknown {
  if (!(e instanceof IdentityError)) return e;
  const type = e.status === 400 ? 'invalid_request_error' : e.status === 403 ? 'permission_error' : e.status === 404 ? 'not_found_error' : 'conflict_error';
  return new GatewayError(e.status, e.message, type, e.code, e.param ?? null);
}

/** A path segment (`key_…`, a user id) decoded; a malformed escape is kept as sent (it then names nothing: 404). */
export function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
