import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { Role } from '../../lib/identity/roles.js';
import { SERVING_STATUSES, type TenantRecord } from '../../lib/tenant-record.js';
import { CognitoCallError, CognitoTenantUsers } from '../identity/cognito-tenant-users.js';
import type { TenantUser } from '../identity/tenant-users.js';
import { DynamoDbUserTokenRevocations } from '../identity/stores/user-token-revocations.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import { ApiError } from '../shared/api-errors.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, noUserPoolReason } from '../shared/environment.js';
import { logger } from '../shared/handler.js';
import { getTenant, updateTenant } from '../shared/registry.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { bodyOf, identityApiError, json, parse, tenantOr404, type AdminRoutes, type Route } from './admin-http.js';

/**
 * `POST /admin/tenants/{id}/users`: the invitation. `resend: true` mails a new temporary password
 * to this tenant's user with `email` who has not signed in yet (AdminCreateUser MessageAction
 * RESEND) instead of creating one; it takes no `role` (a resend changes nothing else).
 * @default role `member`, resend false
 */
export const InviteUserRequest = z.strictObject({ email: z.string().min(3).max(320), role: Role.optional(), resend: z.boolean().optional() });
/** `GET /admin/tenants/{id}/users?emailPrefix=…`: only the users whose email starts with it (ListUsers Filter `email ^=`). */
export const ListUsersQuery = z.strictObject({ emailPrefix: z.string().min(1).max(320).optional() });
/** `PUT /admin/tenants/{id}/users/{userId}/role`. */
export const SetRoleRequest = z.strictObject({ role: Role });


let directory: CognitoTenantUsers | undefined;
let directoryPool: string | undefined;

/**
 * The platform pool's directory (TESSERA_USER_POOL_ID), events through emitLifecycleEvent on the
 * platform bus. @throws ApiError 404 `no_user_pool` when the platform has no pool, saying why (noUserPoolReason: an external IdP, or none at all).
 */
function users(): CognitoTenantUsers {
  const pool = process.env[ENV.userPoolId];
  // The true reason (noUserPoolReason, as the onboarding's inviteAdmin refusal gives it): an external identity provider only
  // with gateway.jwt; without it (a local platform, a demo) no tenant users are made at all. It said "external identity
  // provider" on a local platform that has none.
  if (!pool) throw new ApiError(404, `${noUserPoolReason()}; tenant users are not managed through this admin API`, 'not_found_error', 'no_user_pool');
  if (!directory || directoryPool !== pool) {
    const keysTable = process.env[ENV.apiKeysTable];
    // The platform operator's own client: disable, remove and role changes record the user's token revocation beside the tenant's keys.
    const revocations = keysTable ? new DynamoDbUserTokenRevocations(keysTable, unscopedDocumentClient(), process.env[ENV.registryTable]) : undefined;
    // The invite's fence: the tenant's status read again (strongly consistent) once the user exists.
    directory = new CognitoTenantUsers(platformClient(CognitoIdentityProviderClient), pool, emitAfterChange, undefined, revocations, async (id) => (await getTenant(id))?.status);
    directoryPool = pool;
  }
  return directory;
}

/**
 * emitLifecycleEvent, called once the user was changed: its failure becomes a 502 `event_not_sent`
 * that says so (the change stays; retrying disable or remove is safe, an invitation is not).
 */
async function emitAfterChange(detailType: string, detail: Record<string, unknown>): Promise<void> {
  try {
    await emitLifecycleEvent(detailType, detail);
  } catch (e) {
    const error = e as Error;
    throw new ApiError(502, `the change was made, but its "${detailType}" event did not reach the platform bus ${process.env[ENV.eventBus] ?? ''} (EventBridge PutEvents: ${error.name}: ${String(error.message).split('\n')[0]}): check the admin API's ${ENV.eventBus} and its events:PutEvents permission`, 'api_error', 'event_not_sent');
  }
}

/** Who asked: the caller's IAM ARN (the admin API uses IAM auth), for the events' `by`. */
const callerOf = (event: APIGatewayProxyEvent) => event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? 'admin-api';

/** IdentityError → its status; CognitoCallError → 502 naming the Cognito call; the rest unchanged (500). */
function asApiError(e: unknown): unknown {
  if (e instanceof CognitoCallError) return new ApiError(502, e.message, 'api_error', 'cognito_error');
  return identityApiError(e);
}

/** A route that answers the directory's refusals in the admin API's error shape. */
const route = (fn: Route): Route => async (event, id) => {
  try {
    return await fn(event, id);
  } catch (e) {
    throw asApiError(e);
  }
};

const userIdOf = (event: APIGatewayProxyEvent) => {
  const userId = event.pathParameters?.userId;
  if (!userId) throw new ApiError(400, 'the path names no user id', 'invalid_request_error', 'invalid_request', 'userId');
  return userId;
};

async function invite(event: APIGatewayProxyEvent, id: string): Promise<APIGatewayProxyResult> {
  const { email, role, resend } = parse(InviteUserRequest, bodyOf(event));
  if (resend && role !== undefined) throw new ApiError(400, 'role cannot be given with resend: a resend only mails a new temporary password; change the role with PUT /admin/tenants/{id}/users/{userId}/role', 'invalid_request_error', 'invalid_request', 'role');
  const tenant = await tenantOr404(id);
  // Users are invited (and invitations resent) to a served tenant only, as keys are made (api-keys.ts): a tenant's
  // first admin is invited once onboarding has made it ACTIVE (docs/identity.md "How a tenant gets its first admin"); before,
  // or while it is suspended or offboarded, every call of the user would be refused, and the mailed temporary
  // password (7 days) could run out before the tenant is served. The CLI checks the same before it calls.
  if (!SERVING_STATUSES.includes(tenant.status)) {
    throw new ApiError(409, `tenant "${id}" is ${tenant.status}: users are invited only to a tenant the gateway serves (${SERVING_STATUSES.join(' or ')}), since all its users' calls would be refused; invite them once it is ACTIVE (tessera tenants watch ${id})`, 'conflict_error', 'invalid_status', 'id');
  }
  if (resend) return json(200, await users().resend(id, email));
  const user = await users().invite(id, { email, role: role ?? 'member' }, callerOf(event));
  await recordFirstAdmin(tenant, email, user, callerOf(event));
  return json(201, user);
}

/**
 * The tenant's `adminEmail` invited as admin through this route (`tessera users invite … --role admin`: how a first-admin
 * invitation the onboarding could not make, or was told not to, is made): recorded on the tenant (`adminInvite`
 * INVITED, `by` the caller), so that `tessera tenants show` says so instead of the onboarding's FAILED or SKIPPED. A
 * write of that one attribute, under no lease (an operation running on the tenant does not write it); its failure
 * is logged, not answered: the user exists, and the invitation is what was asked.
 */
async function recordFirstAdmin(tenant: TenantRecord, email: string, user: TenantUser, by: string): Promise<void> {
  if (user.role !== 'admin' || email.toLowerCase() !== tenant.adminEmail.toLowerCase() || tenant.adminInvite?.state === 'INVITED') return;
  try {
    await updateTenant(tenant.tenantId, { adminInvite: { state: 'INVITED', email: tenant.adminEmail, userId: user.id, by, at: new Date().toISOString() } }, { holder: null });
  } catch (e) {
    logger.warn('tenant admin invited, but not recorded on the tenant (adminInvite)', { tenantId: tenant.tenantId, error: e as Error });
  }
}

/**
 * The admin API's tenant users (CognitoTenantUsers on the platform pool; events on the platform
 * bus). Each answers 404 `tenant_not_found` for an unknown tenant and 404 `user_not_found` for a
 * user of another tenant, with no change:
 * - `POST /admin/tenants/{id}/users` {email, role = member} → 201 the user (Cognito mails the invitation);
 *   {email, resend: true} → 200 the user (a new temporary password mailed; 409 `user_signed_in` once signed in);
 *   either is 409 `invalid_status` (param `id`) unless the tenant is served (ACTIVE, UPDATING); an invitation whose
 *   tenant left those statuses while it was made is deleted again, 409 `invalid_status` (param `status`: CognitoTenantUsers.invite);
 * - `GET /admin/tenants/{id}/users[?emailPrefix=…]` → 200 `{ tenantId, users }`, sorted by email;
 * - `{userId}` is the user's id (Cognito's username, its `sub`) or its email (the pool signs in by
 *   email, so AdminGetUser takes either);
 * - `POST /admin/tenants/{id}/users/{userId}/disable` → 200 the user (disabled, signed out);
 * - `PUT /admin/tenants/{id}/users/{userId}/role` {role} → 200 the user;
 * - `DELETE /admin/tenants/{id}/users/{userId}` → 200 the deleted user.
 */
export const usersRoutes: AdminRoutes = {
  'POST /admin/tenants/{id}/users': {
    query: null,
    idempotencyKey: { refuses: 'the same invitation again is a 409 user_exists (with resend: true, another mail)' },
    handle: route(async (event, id) => invite(event, id!)),
  },
  'GET /admin/tenants/{id}/users': { query: ListUsersQuery, idempotencyKey: 'no-op', handle: route(async (event, id) => {
    const { emailPrefix } = parse(ListUsersQuery, event.queryStringParameters ?? {});
    await tenantOr404(id!);
    return json(200, { tenantId: id, users: await users().list(id!, { emailPrefix }) });
  }) },
  // Again: disables the user again.
  'POST /admin/tenants/{id}/users/{userId}/disable': { query: null, idempotencyKey: 'no-op', handle: route(async (event, id) => {
    await tenantOr404(id!);
    return json(200, await users().disable(id!, userIdOf(event), callerOf(event)));
  }) },
  // Again: sets the role in the body.
  'PUT /admin/tenants/{id}/users/{userId}/role': { query: null, idempotencyKey: 'no-op', handle: route(async (event, id) => {
    const { role } = parse(SetRoleRequest, bodyOf(event));
    await tenantOr404(id!);
    return json(200, await users().setRole(id!, userIdOf(event), role, callerOf(event)));
  }) },
  // Again: the user is gone, 404 user_not_found.
  'DELETE /admin/tenants/{id}/users/{userId}': { query: null, idempotencyKey: 'no-op', handle: route(async (event, id) => {
    await tenantOr404(id!);
    return json(200, { ...(await users().remove(id!, userIdOf(event), callerOf(event))), deleted: true });
  }) },
};
