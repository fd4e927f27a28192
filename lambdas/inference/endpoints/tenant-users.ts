import { z } from 'zod';
import { Role } from '../../../lib/identity/roles.js';
import { keyBounds } from '../../identity/api-keys.js';
import type { TenantUserDirectory } from '../../identity/tenant-users.js';
import type { Caller } from '../auth.js';
import { GatewayError } from '../openai-errors.js';
import { parseWith } from '../request-body.js';
import type { TenantAnswer } from './tenant-keys.js';
import { actorOf, asGatewayError, segment, tenantBody } from './tenant-admin-io.js';

/** `POST /v1/tenant/users`: whom to invite (Cognito mails the invitation) and their role. */
const InviteRequest = z.strictObject({ email: z.string().email().max(254), role: Role.default('member') });
/** `PUT /v1/tenant/users/{userId}/role`. */
const SetRoleRequest = z.strictObject({ role: Role });

/**
 * A key narrowed by a model subset, limits or an expiry invites no users and changes no roles: a
 * user has none of those bounds (the tenant's models, the tenant's `userLimits`, no expiry), so an
 * admin it invited, or a user it made admin, would create the unbounded keys the key itself may not
 * (api-keys.ts checkWithinCreator). Disabling a user and listing them stay allowed. "Bounded" is api-keys.ts keyBounds,
 * which revoke uses too.
 * @throws GatewayError 403 `permission_error` `key_is_bounded`, naming the key's bounds
 */
function refuseBoundedKey(caller: Caller, what: string): void {
  const key = caller.key;
  if (!key) return;
  const bounds = keyBounds(key);
  if (bounds.length === 0) return;
  throw new GatewayError(403, `API key ${caller.keyId} is bounded (${bounds.join('; ')}), so it cannot ${what}: a user has none of those bounds, and an admin it invited or promoted could create the wider keys the key itself may not. A tenant admin signed in as a user, or an admin key without a models subset, limits or expiry, can`, 'permission_error', 'key_is_bounded');
}

/**
 * `/v1/tenant/users` (Tessera's own route; the gateway has checked `users.manage`), always on the
 * caller's own tenant, on the platform's Cognito pool (TenantUserDirectory):
 * - `GET /v1/tenant/users` → `{ object: 'list', data: [TenantUser...] }`;
 * - `POST /v1/tenant/users` `{ email, role? }` (role @default `member`) → 201 the invited user
 *   (Cognito mails the temporary password; the bus gets `Tenant User Created`);
 * - `POST /v1/tenant/users/{userId}/disable` → 200 the user, disabled and signed out everywhere;
 * - `PUT /v1/tenant/users/{userId}/role` `{ role }` → 200 the user in its new role group.
 * A key with a model subset, limits or an expiry may list and disable users but not invite them or
 * change their roles (403 `key_is_bounded`, refuseBoundedKey). A body naming a tenant or any other unknown field is a 400; a user of another tenant is 404, as
 * one that does not exist (the directory's IdentityError, same status, code and param).
 * @param path `/v1/tenant/users...` without a trailing slash
 * @throws GatewayError (OpenAI's shape)
 */
export async function tenantUsers(users: TenantUserDirectory, caller: Caller, method: string, path: string, body: string | undefined): Promise<TenantAnswer> {
  const [, rawId, action] = /^\/v1\/tenant\/users(?:\/([^/]+)\/([^/]+))?$/.exec(path) ?? [];
  const userId = rawId === undefined ? undefined : segment(rawId);
  // The events' `by` (identity-events.ts): `tenant-user:<sub>` or `tenant-key:<keyId>`.
  const by = `tenant-${actorOf(caller)}`;
  try {
    if (userId === undefined && path === '/v1/tenant/users' && method === 'GET') {
      return { status: 200, body: JSON.stringify({ object: 'list', data: await users.list(caller.tenantId) }), action: 'tenant.user.listed' };
    }
    if (userId === undefined && path === '/v1/tenant/users' && method === 'POST') {
      refuseBoundedKey(caller, 'invite users');
      // Tessera's own API: an unknown role is `invalid_request`, as /tenant/keys answers it (OpenAI's enum code is its endpoints').
      const input = parseWith(InviteRequest, tenantBody(body), undefined, 'tessera');
      const invited = await users.invite(caller.tenantId, input, by);
      return { status: 201, body: JSON.stringify(invited), action: 'tenant.user.invited', detail: { user: invited.id, role: input.role } };
    }
    if (userId !== undefined && action === 'disable' && method === 'POST') {
      parseWith(z.strictObject({}), tenantBody(body), undefined, 'tessera');
      const disabled = await users.disable(caller.tenantId, userId, by);
      return { status: 200, body: JSON.stringify(disabled), action: 'tenant.user.disabled', detail: { user: disabled.id } };
    }
    if (userId !== undefined && action === 'role' && method === 'PUT') {
      refuseBoundedKey(caller, 'change user roles');
      const { role } = parseWith(SetRoleRequest, tenantBody(body), undefined, 'tessera');
      const changed = await users.setRole(caller.tenantId, userId, role, by);
      return { status: 200, body: JSON.stringify(changed), action: 'tenant.user.role_changed', detail: { user: changed.id, role } };
    }
  } catch (e) {
    throw asGatewayError(e);
  }
  throw new GatewayError(405, `${method} is not supported on ${path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
}
