import { publicKey, type ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import type { KeyList } from '../../identity/api-keys.js';
import type { Caller } from '../auth.js';
import { GatewayError } from '../openai-errors.js';
import { actorOf, asGatewayError, segment, tenantBody } from './tenant-admin-io.js';

/** What the endpoint needs of lambdas/identity/api-keys.ts `ApiKeyService` (engineer K's), which refuses with IdentityError. */
export interface TenantKeyService {
  create(tenant: TenantRecord, request: unknown, createdBy: string, now?: Date, creatorKey?: ApiKeyRecord): Promise<{ key: string; record: ApiKeyRecord }>;
  listPage(tenantId: string, query: Record<string, string | undefined> | undefined): Promise<KeyList>;
  get(tenantId: string, keyId: string): Promise<ApiKeyRecord>;
  revoke(tenantId: string, keyId: string, now?: Date, revokerKey?: ApiKeyRecord): Promise<ApiKeyRecord>;
  rotate(tenant: TenantRecord, keyId: string, request: unknown, createdBy: string, now?: Date, creatorKey?: ApiKeyRecord): Promise<{ key: string; record: ApiKeyRecord; previous: ApiKeyRecord }>;
}

/**
 * An answer: HTTP status and JSON body, and what the request's audit record says was done
 * (`action`, e.g. `tenant.key.created`) to which key or user (`detail`: ids only, never a key).
 */
export interface TenantAnswer { status: number; body: string; action: string; detail?: Record<string, string> }

/**
 * `/v1/tenant/keys` (Tessera's own route; the gateway has checked `keys.manage`), always on the
 * caller's own tenant:
 * - `POST /v1/tenant/keys` `{ name, role?, models?, limits?, expiresInDays? }` (CreateApiKeyRequest)
 *   → 201 the key's public record plus `key`, the key itself, shown this once;
 * - `GET /v1/tenant/keys?limit&after&order` → one page, `{ object: 'list', data: [record...], first_id, last_id, has_more }`
 *   (no hashes; OpenAI's cursor list: limit 1-100, default 20, after a key of the tenant, order asc|desc by creation time then key id: ApiKeyService.listPage);
 * - `GET /v1/tenant/keys/{keyId}` → the record; `DELETE /v1/tenant/keys/{keyId}` → revokes it
 *   (200, the record with `revokedAt`);
 * - `POST /v1/tenant/keys/{keyId}/rotate` `{ gracePeriodHours? }` (0-168, default 24) → 201 the
 *   new key as for create, plus `previous`: the old record, valid until its new `expiresAt`.
 * `createdBy` is `user:<sub>` or `key:<keyId>`; a key caller creates and rotates keys only within its own
 * models, limits and expiry (403 `exceeds_creating_key`), and creates none, and rotates none but itself, when it has
 * limits (403 `creating_key_has_limits`); a bounded key (a models subset, limits or an expiry) revokes only itself, its
 * rotation chain and keys within its bounds (403 `key_is_bounded`, param `keyId`). A body naming a tenant is a 400; the
 * service's refusals keep their status, code and param (unknown model, limit above the tenant's: 400;
 * another tenant's or no such key: 404 `key_not_found`, the same answer for GET, DELETE and rotate).
 * @param path `/v1/tenant/keys...` without a trailing slash
 * @param query the request's query string (the list's limit, after, order) @default - none
 * @throws GatewayError (OpenAI's shape)
 */
export async function tenantKeys(service: TenantKeyService, caller: Caller, method: string, path: string, body: string | undefined, query?: Record<string, string | undefined>): Promise<TenantAnswer> {
  const [, keyId, action] = /^\/v1\/tenant\/keys(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(path) ?? [];
  const id = keyId === undefined ? undefined : segment(keyId);
  try {
    if (id === undefined && method === 'POST') {
      // A key caller's key bounds the keys it creates (its models, limits and expiry: api-keys.ts checkWithinCreator).
      const { key, record } = await service.create(caller.tenant, tenantBody(body), actorOf(caller), undefined, caller.key);
      return { status: 201, body: JSON.stringify({ ...publicKey(record), key }), action: 'tenant.key.created', detail: { keyId: record.keyId } };
    }
    if (id === undefined && method === 'GET') {
      const page = await service.listPage(caller.tenantId, query);
      return { status: 200, body: JSON.stringify({ ...page, data: page.data.map(publicKey) }), action: 'tenant.key.listed' };
    }
    if (id !== undefined && action === undefined && method === 'GET') {
      // The service's 404, as DELETE and rotate answer it (type, code, param and message): another tenant's id reads as none.
      const record = await service.get(caller.tenantId, id);
      return { status: 200, body: JSON.stringify(publicKey(record)), action: 'tenant.key.read', detail: { keyId: record.keyId } };
    }
    if (id !== undefined && action === undefined && method === 'DELETE') {
      tenantBody(body);
      // A bounded key revokes only what it could have made (api-keys.ts revoke).
      const revoked = await service.revoke(caller.tenantId, id, undefined, caller.key);
      return { status: 200, body: JSON.stringify(publicKey(revoked)), action: 'tenant.key.revoked', detail: { keyId: revoked.keyId } };
    }
    if (id !== undefined && action === 'rotate' && method === 'POST') {
      const { key, record, previous } = await service.rotate(caller.tenant, id, tenantBody(body), actorOf(caller), undefined, caller.key);
      return { status: 201, body: JSON.stringify({ ...publicKey(record), key, previous: publicKey(previous) }), action: 'tenant.key.rotated', detail: { keyId: record.keyId, rotatedFrom: previous.keyId } };
    }
  } catch (e) {
    throw asGatewayError(e);
  }
  throw new GatewayError(405, `${method} is not supported on ${path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
}
