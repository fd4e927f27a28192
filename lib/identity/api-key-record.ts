import { z } from 'zod';
import { TenantId } from '../tenant-record.js';
import { Role } from './roles.js';
import { SubjectLimits, SubjectLimitsRequest } from './subject-limits.js';

export { SubjectLimits };


/**
 * A tenant API key as the keys table keeps it (partition key `tenantId`, sort key `keyHash`).
 * The key itself is never stored. Times are ISO 8601 UTC.
 */
export const ApiKeyRecord = z.object({
  tenantId: TenantId,
  /** Hex SHA-256 of the key. */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** `key_<16 hex>`: the public id. */
  keyId: z.string().regex(/^key_[0-9a-f]{16}$/),
  name: z.string().min(1).max(128),
  role: Role,
  /** `tsk_<tenant>_…<last 4>`. */
  hint: z.string(),
  /** The models this key may call (a subset of the tenant's). @default - all of the tenant's */
  models: z.array(z.string().min(1)).min(1).max(100).optional(),
  limits: SubjectLimits.optional(),
  /** After this instant the key is refused. @default - never expires */
  expiresAt: z.string().datetime().optional(),
  /** Who created it: `admin:<principal>` (admin API, CLI) or `user:<sub>` / `key:<keyId>` (a tenant admin through /v1/tenant/keys). */
  createdBy: z.string().min(1),
  createdAt: z.string().datetime(),
  /** Last accepted use, as the authorizer saw it (written at most once per cache TTL per process). */
  lastUsedAt: z.string().datetime().optional(),
  revokedAt: z.string().datetime().optional(),
  /** For a key made by rotation: the key it replaces. */
  rotatedFrom: z.string().optional(),
  /** For a key that was rotated: the key that replaces it (a key is rotated once; rotate its successor next). */
  rotatedTo: z.string().optional(),
  /**
   * The key id its usage and limits are counted under: the first key of a rotation chain, so a
   * rotation neither resets a key's daily or monthly budget nor splits its usage. @default keyId
   */
  usageKeyId: z.string().regex(/^key_[0-9a-f]{16}$/).optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** Rotation grace period: how long the old key keeps working after `rotate`. */
export const DEFAULT_ROTATION_GRACE_HOURS = 24;
export const MAX_ROTATION_GRACE_HOURS = 168;

/** `POST /admin/tenants/{id}/keys` and `POST /v1/tenant/keys`. */
/**
 * A key's name: 1-128 characters, not only spaces, no control characters, no line or paragraph
 * separators (U+2028, U+2029: line breaks to JavaScript and Python's splitlines, refused in display
 * names and file names too) and no bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E,
 * U+2066-U+2069: they reorder what a terminal shows, so a name could pass for another in
 * `tessera keys list`); it is printed in lists and audit records.
 */
const KeyName = z.string().min(1).max(128)
  .regex(/^[^\p{Cc}\u2028\u2029]*$/u, 'must not contain control characters (newlines, tabs, NUL) or line separators (U+2028, U+2029)')
  .regex(/^[^\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$/u, 'must not contain bidirectional controls (U+202E and the like: they reorder how the name is shown)')
  .refine((name) => name.trim().length > 0, 'must not be blank');

export const CreateApiKeyRequest = z.strictObject({
  name: KeyName,
  role: Role.default('member'),
  models: z.array(z.string().min(1)).min(1).max(100).optional(),
  limits: SubjectLimitsRequest.optional(),
  /** Days until the key expires (1 to 3,650). @default - never */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>;

/** `POST .../keys/{keyId}/rotate`. */
export const RotateApiKeyRequest = z.strictObject({
  /** Hours the old key keeps working (0 = revoke at once). @default 24 */
  gracePeriodHours: z.number().int().min(0).max(MAX_ROTATION_GRACE_HOURS).default(DEFAULT_ROTATION_GRACE_HOURS),
});

/** The bounds of a key list's `limit` (GET /v1/tenant/keys, GET /admin/tenants/{id}/keys): OpenAI's list routes take 1-100 and default to 20. */
export const KEY_LIST_LIMIT = { min: 1, max: 100, fallback: 20 } as const;

/**
 * What a route shows of a key: everything but the hash, with `object: "tenant.api_key"` and `id` (= `keyId`), the id
 * every OpenAI object carries and the `openai` SDKs' cursor pagination reads (CursorPage takes the last item's `id` as
 * the next page's `after`; without it `for await` over a key list stopped after the first page).
 */
export const publicKey = (r: ApiKeyRecord) => {
  const { keyHash: _hash, ...shown } = r;
  return { id: r.keyId, object: 'tenant.api_key' as const, ...shown };
};
