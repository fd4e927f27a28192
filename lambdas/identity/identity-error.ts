/**
 * A refusal of an identity operation (keys, users), transport-free: the admin API answers it as
 * its own JSON error, the gateway in OpenAI's shape (`{ error: { message, type, param, code } }`).
 * `message` names the field and the value; `param` is the field's path (`limits.tokensPerDay`).
 */
export class IdentityError extends Error {
  constructor(
    /** HTTP status: 400 bad input, 403 not allowed, 404 not found (another tenant's user or key too), 409 conflict. */
    readonly status: 400 | 403 | 404 | 409,
    message: string,
    /** Machine-readable code, e.g. `unknown_model`, `limit_above_tenant`, `key_not_found`. */
    readonly code: string,
    readonly param?: string,
  ) {
    super(message);
  }
}
