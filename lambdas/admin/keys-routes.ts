import type { APIGatewayProxyEvent } from 'aws-lambda';
import { publicKey } from '../../lib/identity/api-key-record.js';
import { ApiKeyService } from '../identity/api-keys.js';
import { KeyListQuery, parseKeyListQuery } from '../identity/key-list-query.js';
import { DynamoDbApiKeyStore } from '../identity/stores/dynamodb-api-key-store.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import { adminCaller, bodyOf, identityApiError, json, tenantOr404, type AdminRoutes } from './admin-http.js';

/**
 * The admin API's tenant API keys (the platform operator's view of any tenant's keys):
 * - `POST /admin/tenants/{id}/keys`: CreateApiKeyRequest → 201 `{ key, ...publicKey(record) }` (the key shown once);
 * - `GET /admin/tenants/{id}/keys?limit&after&order` → one page, `{ object: 'list', data: [publicKey(record), …], first_id, last_id, has_more }`
 *   (OpenAI's cursor list: limit 1-100, default 20; after a key of the tenant; order asc|desc by creation time then key id, default asc, oldest first; ApiKeyService.listPage),
 *   revoked and expired keys included;
 * - `DELETE /admin/tenants/{id}/keys/{keyId}` → 200 publicKey(record) with `revokedAt` (idempotent);
 * - `POST /admin/tenants/{id}/keys/{keyId}/rotate`: RotateApiKeyRequest → 201 `{ key, ...publicKey(new record), previous: publicKey(old record) }`.
 * An unknown tenant is a 404 `tenant_not_found`; ApiKeyService's refusals keep their status, code and param.
 * The store is DynamoDbApiKeyStore on TESSERA_API_KEYS_TABLE with the platform's own credentials
 * (the admin API is the platform operator, IAM-authenticated, not a tenant), fenced on the registry
 * (TESSERA_REGISTRY_TABLE): a key is stored only while the tenant is ACTIVE or UPDATING at the write,
 * else 409 `invalid_status` naming its status, even when an offboarding began after the route read the tenant. `createdBy` is
 * `admin:<the caller's IAM ARN>` (API Gateway's requestContext.identity.userArn, else its caller).
 */
export const keysRoutes: AdminRoutes = {
  'POST /admin/tenants/{id}/keys': {
    query: null,
    idempotencyKey: { refuses: 'each request mints a new key, whose secret is shown once; after a lost answer, list the tenant\'s keys (GET /admin/tenants/{id}/keys, tessera keys list) and revoke one whose secret you never received' },
    handle: async (event, id) => {
      const tenant = await tenantOr404(id!);
      const { key, record } = await refused(() => keys().create(tenant, bodyOf(event), createdBy(event)));
      return json(201, { key, ...publicKey(record) });
    },
  },
  'GET /admin/tenants/{id}/keys': {
    query: KeyListQuery,
    idempotencyKey: 'no-op',
    handle: async (event, id) => {
      await refused(async () => parseKeyListQuery(event.queryStringParameters)); // a bad query is a 400 before the tenant is read, as on the other routes
      const tenant = await tenantOr404(id!);
      const page = await refused(() => keys().listPage(tenant.tenantId, event.queryStringParameters));
      return json(200, { ...page, data: page.data.map(publicKey) });
    },
  },
  'DELETE /admin/tenants/{id}/keys/{keyId}': {
    query: null,
    idempotencyKey: 'no-op', // an already revoked key is answered unchanged
    handle: async (event, id) => {
      const tenant = await tenantOr404(id!);
      return json(200, publicKey(await refused(() => keys().revoke(tenant.tenantId, keyIdOf(event)))));
    },
  },
  'POST /admin/tenants/{id}/keys/{keyId}/rotate': {
    query: null,
    idempotencyKey: { refuses: 'the same rotation again is a 409 key_rotated naming the new key (its secret was shown once); after a lost answer, revoke that key and rotate it' },
    handle: async (event, id) => {
      const tenant = await tenantOr404(id!);
      const { key, record, previous } = await refused(() => keys().rotate(tenant, keyIdOf(event), bodyOf(event), createdBy(event)));
      return json(201, { key, ...publicKey(record), previous: publicKey(previous) });
    },
  },
};

let service: { table: string; keys: ApiKeyService } | undefined;

/** The service on TESSERA_API_KEYS_TABLE, fenced on TESSERA_REGISTRY_TABLE (made once per pair of table names). */
function keys(): ApiKeyService {
  const table = `${requireEnv(ENV.apiKeysTable)}\n${requireEnv(ENV.registryTable)}`;
  if (service?.table !== table) {
    const store = new DynamoDbApiKeyStore(requireEnv(ENV.apiKeysTable), unscopedDocumentClient({ marshallOptions: { removeUndefinedValues: true } }), { registryTable: requireEnv(ENV.registryTable) });
    service = { table, keys: new ApiKeyService(store, platformConfig(), adminRevokeHow) };
  }
  return service.keys;
}

/** How the platform operator revokes a key (`too_many_keys`'s message on this API's create): this API's route, or the CLI over it. */
export const adminRevokeHow = (tenantId: string): string =>
  `DELETE /admin/tenants/${tenantId}/keys/{keyId}, or tessera keys revoke <keyId> --tenant ${tenantId}; GET /admin/tenants/${tenantId}/keys and tessera keys list show when each was last used`;

const keyIdOf = (event: APIGatewayProxyEvent): string => event.pathParameters?.keyId ?? '';

/** `admin:<IAM ARN of the SigV4 caller>` (admin-http.ts adminCaller, the registry history's actor too). */
const createdBy = adminCaller;

/** Runs `work`, answering an IdentityError as the admin API's ApiError with the same status, code and param. */
async function refused<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw identityApiError(e);
  }
}
