import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminDisableUserCommand, AdminGetUserCommand,
  paginateAdminListGroupsForUser, AdminRemoveUserFromGroupCommand, AdminUserGlobalSignOutCommand, paginateListUsers,
  type AttributeType, type CognitoIdentityProviderClient, type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { pages } from '../../lib/aws-pages.js';
import { COGNITO_LIST_FILTER_MAX_CHARS, COGNITO_USERNAME, cognitoUsernameProblem } from '../../lib/identity/cognito-username.js';
import { ROLE_GROUPS, ROLES, groupOf, roleOfClaims, type Role } from '../../lib/identity/roles.js';
import { isTransientError, RETRYABLE_ERRORS } from '../shared/errors.js';
import { IdentityError } from './identity-error.js';
import { TENANT_USER_EVENTS, tenantUserEventDetail } from './identity-events.js';
import { mayHoldKeys, type TenantStatusReader } from './stores/api-key-store-common.js';
import type { UserTokenRevocations } from './stores/user-token-revocations.js';
import type { TenantUser, TenantUserDirectory } from './tenant-users.js';

/** The user attribute that carries the tenant (immutable in the platform pool); the authorizer reads it from the ID token. */
export const TENANT_ATTRIBUTE = 'custom:tenant_id';

/** Puts one event on the platform bus (lambdas/shared/events.ts emitLifecycleEvent, or the CLI's own PutEvents). */
export type EmitEvent = (detailType: string, detail: Record<string, unknown>) => Promise<void>;

/**
 * Where offboarding's disableAll records the users it is disabling until their `Tenant User Disabled` is sent (the
 * intent on the record: lambdas/lifecycle/revoke-tenant-identities.ts keeps it at `offboarding.pendingUserEvents` of
 * the tenant record), so that a run that stops between a user's AdminDisableUser and its PutEvents (a failed PutEvents,
 * a Lambda timeout) leaves the user's event owed on record, and the next run sends it.
 */
export interface PendingUserEvents {
  /** The users (Cognito usernames) on record when the run began, left by an earlier run. */
  recorded(): readonly string[];
  /** Adds these users to the record; awaited before any of them is disabled. */
  record(userIds: readonly string[]): Promise<void>;
  /** Removes one user from the record, once its event was sent or it was found deleted. */
  clear(userId: string): Promise<void>;
}

/**
 * A Cognito call that failed for a reason the caller cannot fix by changing its request
 * (throttling, access denied, a missing pool or role group, no credentials). The admin API answers
 * it as a 502, the CLI as a one-line error naming the call (exit 1).
 */
export class CognitoCallError extends Error {
  override readonly name = 'CognitoCallError';
  constructor(
    /** The Cognito API action, e.g. `AdminCreateUser`. */
    readonly call: string,
    /** The SDK's error (its `name` is Cognito's exception name). */
    override readonly cause: Error,
    hint?: string,
  ) {
    super(`Cognito ${call} failed (${cause.name}: ${String(cause.message).split('\n')[0]})${hint ? `: ${hint}` : ''}`);
  }
}

/**
 * The name a retryable Cognito failure is thrown under when RETRYABLE_ERRORS does not list its own (a broken connection:
 * Node's `Error` with `code` ECONNRESET; a 5xx under a name Cognito does not model): one the state machines' Retry lists.
 */
export const UNLISTED_TRANSIENT_NAME = 'ServiceUnavailable';

/**
 * What a lifecycle step throws for a failed Cognito call, so that its state machine's Retry runs the step again when
 * the call may succeed then: the Retry of every lifecycle task matches RETRYABLE_ERRORS by name
 * (constructs/lifecycle-workflows.ts task), and `CognitoCallError` is not one of them.
 * - a call worth making again (isTransientError on the SDK's error: throttling such as TooManyRequestsException, a server
 *   fault such as InternalErrorException, a broken connection): an Error with the CognitoCallError's message (it names
 *   the call and Cognito's exception) and `cause`, named as the SDK's error when RETRYABLE_ERRORS lists that name, else
 *   UNLISTED_TRANSIENT_NAME;
 * - a refusal (AccessDeniedException, a missing pool or group, InvalidParameterException): undefined, and the caller
 *   throws or records the CognitoCallError as it is (no Retry matches it: the Catch takes it at once).
 * Source of the classification: @smithy/service-error-classification, as isTransientError (lambdas/shared/errors.ts).
 * @returns the Error to throw for the Retry, or undefined for a refusal
 */
export function retryableCognitoError(e: CognitoCallError): Error | undefined {
  if (!isTransientError(e.cause)) return undefined;
  const name = (RETRYABLE_ERRORS as readonly string[]).includes(e.cause.name) ? e.cause.name : UNLISTED_TRANSIENT_NAME;
  return Object.assign(new Error(e.message, { cause: e.cause }), { name });
}

/** A plausible email address; Cognito checks it again (InvalidParameterException). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Cognito's UsernameType: 1-128 letters, marks, symbols, numbers or punctuation (lib/identity/cognito-username.ts). */
const USERNAME = COGNITO_USERNAME;
/** ListUsers' largest page. */
const PAGE = 60;
/** Cognito calls in flight at once for per-user work (AdminListGroupsForUser, AdminDisableUser): well under its per-category quotas (25-120 RPS). */
const CONCURRENCY = 4;

const attr = (attrs: AttributeType[] | undefined, name: string) => attrs?.find((a) => a.Name === name)?.Value;
const tenantOf = (u: UserType | { UserAttributes?: AttributeType[] }) => attr((u as UserType).Attributes ?? (u as { UserAttributes?: AttributeType[] }).UserAttributes, TENANT_ATTRIBUTE);

/** Runs `fn` over `items`, `limit` at a time, keeping their order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/**
 * Tenant users in the platform's Cognito pool (TenantUserDirectory), shared by the admin API
 * (lambdas/admin/users-routes.ts), the gateway's `/v1/tenant/users`, the CLI (`tessera users`)
 * and offboarding (lambdas/lifecycle/revoke-tenant-identities.ts), so that all of them act and
 * emit events the same way.
 *
 * - A user is `Username` = the email at creation (the pool signs in by email; Cognito then names
 *   the user by its `sub`, the `id` here), `custom:tenant_id` (immutable) and one role group
 *   `tenant-<role>` (lib/identity/roles.ts groupOf).
 * - Every call on one user first reads it (AdminGetUser) and answers a user of another tenant
 *   exactly as a user that does not exist: 404 `user_not_found`, with no change.
 * - Listing: Cognito's ListUsers Filter takes standard attributes only (Cognito API reference,
 *   ListUsers: username, email, phone_number, name, given_name, family_name, preferred_username,
 *   cognito:user_status, status, sub), never `custom:tenant_id`. So `list` pages through the whole
 *   pool (ListUsers, 60 a page) and keeps the tenant's users, then reads each of those users'
 *   groups (AdminListGroupsForUser). Cost: ceil(pool users / 60) ListUsers calls (Cognito's
 *   UserList quota category, 30 requests/s by default) + one AdminListGroupsForUser per user of the
 *   tenant. ListUsersInGroup per role group would read about as many pages (four groups over the
 *   same users, same UserList category) and would miss a user left in no group. A pool of 60,000
 *   users takes 1,000 pages (about 35 s at the default quota); beyond that, keep an index of users
 *   by tenant.
 *
 * Errors: IdentityError for what the caller can fix (400 bad email or id, 404 not found, 409
 * exists); CognitoCallError for the rest (throttling, permissions, a missing pool or group).
 */
export class CognitoTenantUsers implements TenantUserDirectory {
  constructor(
    private readonly cognito: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly emit: EmitEvent,
    /** The clock of the events' `at`. @default the system clock */
    private readonly now: () => Date = () => new Date(),
    /**
     * Where disable, remove and a role change record that the user's earlier tokens stop counting
     * (the authorizer reads it: Cognito cannot revoke an ID token). Written before Cognito is
     * changed, so a failure leaves the user as it was. @default - none: an issued ID token keeps its role and works until it expires (1 hour)
     */
    private readonly revocations?: UserTokenRevocations,
    /**
     * Where invite reads the tenant's registry status (strongly consistent) once the user exists:
     * a tenant no longer ACTIVE or UPDATING (an offboarding or suspension began after the caller
     * read it) gets no user, see invite. @default - none: invite checks no status (the caller did)
     */
    private readonly tenantStatus?: TenantStatusReader,
  ) {}

  /** Records that the user's tokens issued before now stop counting (keyed by its `sub`, the JWT's). */
  private async revokeTokens(tenantId: string, found: UserType | { Username?: string; UserAttributes?: AttributeType[] }): Promise<void> {
    if (!this.revocations) return;
    const attrs = (found as UserType).Attributes ?? (found as { UserAttributes?: AttributeType[] }).UserAttributes;
    await this.revocations.revoke(tenantId, attr(attrs, 'sub') ?? found.Username!, this.now());
  }

  /**
   * Invites a user: AdminCreateUser (Username and `email` = the address, `email_verified` true,
   * `custom:tenant_id`; DesiredDeliveryMediums EMAIL, so Cognito mails the temporary password),
   * then AdminAddUserToGroup `tenant-<role>`. When the group cannot be joined, the new user is
   * deleted again (AdminDeleteUser) so that no user without a role is left behind, and the error
   * is thrown. Emits `Tenant User Created`.
   * With `tenantStatus`, the tenant's status is read once the user is in its group (the fence
   * against an offboarding, whose *Revoke tenant identities* lists and disables the tenant's users
   * after *Begin offboarding* made it OFFBOARDING): a status other than ACTIVE or UPDATING deletes
   * the user again (AdminDeleteUser; no event) and refuses. A status still served at that read
   * means the offboarding's listing comes after the user was created. A read that fails deletes the
   * user too and throws its error (the status unknown, the user is not kept).
   * @throws IdentityError 400 `invalid_email` (param `email`); 409 `user_exists` (this tenant has
   *   the address already); 409 `email_unavailable` (another tenant has it: the message does not
   *   say which); 409 `invalid_status` (param `status`: the tenant left ACTIVE or UPDATING, named);
   *   CognitoCallError otherwise.
   */
  async invite(tenantId: string, input: { email: string; role: Role }, by: string): Promise<TenantUser> {
    const email = checkEmail(input.email);
    const role = checkRole(input.role);
    let created: UserType;
    try {
      created = (await this.cognito.send(new AdminCreateUserCommand({
        UserPoolId: this.userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }, { Name: TENANT_ATTRIBUTE, Value: tenantId }],
        DesiredDeliveryMediums: ['EMAIL'],
      }))).User ?? {};
    } catch (e) {
      if ((e as Error).name === 'UsernameExistsException') throw await this.exists(tenantId, email);
      throw refusal('AdminCreateUser', e, { email });
    }
    const username = created.Username ?? email;
    try {
      await this.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: username, GroupName: groupOf(role) }));
    } catch (e) {
      try {
        await this.cognito.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username }));
      } catch {
        // best effort: the error below is the one to act on; a user left behind shows in the list without a role
      }
      throw refusal('AdminAddUserToGroup', e, { group: groupOf(role) });
    }
    if (this.tenantStatus) {
      const status = await this.tenantStatus(tenantId).catch(async (e: unknown) => {
        // Unknown status: not kept, as a refused group join (the offboarding's listing may have passed already).
        const cause = e instanceof Error ? e : new Error(String(e));
        try {
          await this.cognito.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username }));
        } catch (d) {
          throw new CognitoCallError('AdminDeleteUser', d instanceof Error ? d : new Error(String(d)), `the status of tenant ${tenantId} could not be read (${cause.name}: ${cause.message}), so the user ${username} just invited was to be deleted again; delete it (tessera users remove) or invite again`);
        }
        throw e;
      });
      if (!mayHoldKeys(status)) {
        try {
          await this.cognito.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username }));
        } catch (e) {
          throw new CognitoCallError('AdminDeleteUser', e instanceof Error ? e : new Error(String(e)), `tenant ${tenantId} is ${status ?? 'not in the registry'}, so the user ${username} just invited was to be deleted again; delete it (tessera users remove) or let the offboarding disable it`);
        }
        throw new IdentityError(409, `tenant ${tenantId} is ${status ?? 'not in the registry'}: users are invited only to a tenant the gateway serves (ACTIVE or UPDATING); ${email} was not kept`, 'invalid_status', 'status');
      }
    }
    const user = toTenantUser(created, tenantId, role);
    await this.emit(TENANT_USER_EVENTS.created, { ...tenantUserEventDetail(user, by, this.now()) });
    return user;
  }

  /**
   * Mails a new temporary password to a user of this tenant who has not signed in yet
   * (AdminCreateUser MessageAction RESEND). Not an event: nothing changes but the password.
   * @throws IdentityError 404 `user_not_found` (no such user in this tenant); 409 `user_signed_in`
   *   (the user has signed in: a new invitation is only for users who have not); CognitoCallError.
   */
  async resend(tenantId: string, email: string): Promise<TenantUser> {
    const found = await this.own(tenantId, checkEmail(email), 'email');
    if (found.UserStatus !== 'FORCE_CHANGE_PASSWORD') {
      throw new IdentityError(409, `${email} has signed in already (status ${found.UserStatus}): a new invitation is only for users who have not; they can reset their password with "Forgot password"`, 'user_signed_in', 'email');
    }
    try {
      await this.cognito.send(new AdminCreateUserCommand({ UserPoolId: this.userPoolId, Username: email, DesiredDeliveryMediums: ['EMAIL'], MessageAction: 'RESEND' }));
    } catch (e) {
      throw refusal('AdminCreateUser', e, { email });
    }
    return toTenantUser(found, tenantId, await this.roleOf(found.Username!));
  }

  /**
   * One user of this tenant, by id or email (AdminGetUser, then AdminListGroupsForUser), with the role groups it is in:
   * what a UsernameExistsException of `invite` found, read back (the onboarding's *Invite tenant admin*). `role` is null
   * both for a user in no role group (an invitation whose AdminCreateUser answer was lost: the SDK's retry met the user
   * it had made, and the group was never joined) and for groups that hold no single role; `roleGroups` tells them apart.
   * @throws IdentityError 404 `user_not_found` (no such user, or another tenant's: the same answer); CognitoCallError.
   */
  async find(tenantId: string, userId: string): Promise<TenantUser & { roleGroups: string[] }> {
    const found = await this.own(tenantId, userId, 'userId');
    const groups = await this.groupsOf(found.Username!);
    return { ...toTenantUser(found, tenantId, roleOfGroups(groups) ?? null), roleGroups: groups.filter((g) => ROLE_GROUPS.includes(g)) };
  }

  /**
   * The tenant a user of the pool belongs to (its `custom:tenant_id`; AdminGetUser), for a caller that must name it
   * (the onboarding's record of an admin address taken by another tenant; `invite`'s 409 `email_unavailable`
   * deliberately does not, as tenant admins read it too).
   * @returns the tenant id; `null` for a user without one (made outside Tessera); undefined when no such user exists
   * @throws CognitoCallError (any other AdminGetUser failure)
   */
  async ownerOf(userId: string): Promise<string | null | undefined> {
    try {
      return tenantOf(await this.cognito.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: userId }))) ?? null;
    } catch (e) {
      if ((e as Error).name === 'UserNotFoundException') return undefined;
      throw refusal('AdminGetUser', e, { userId });
    }
  }

  /**
   * The tenant's users, sorted by email; `role` is the least-privileged role group the user is in
   * (as the authorizer reads it), null for none. See the class comment for the cost.
   * @param options.emailPrefix narrows ListUsers itself (Filter `email ^= "…"`).
   */
  async list(tenantId: string, options: { emailPrefix?: string } = {}): Promise<TenantUser[]> {
    const filter = options.emailPrefix ? `email ^= "${options.emailPrefix.replace(/["\\]/g, '\\$&')}"` : undefined;
    // ListUsers' Filter is at most 256 characters (Cognito API reference, ListUsers): a longer one is Cognito's
    // InvalidParameterException, which reached the caller as a Cognito call error (a 5xx) instead of a 400 naming the prefix.
    if (filter && filter.length > COGNITO_LIST_FILTER_MAX_CHARS) {
      const room = COGNITO_LIST_FILTER_MAX_CHARS - 'email ^= ""'.length;
      throw new IdentityError(400, `emailPrefix "${options.emailPrefix!.slice(0, 100)}${options.emailPrefix!.length > 100 ? '...' : ''}" (${options.emailPrefix!.length} characters) is too long: Cognito ListUsers takes a Filter of at most ${COGNITO_LIST_FILTER_MAX_CHARS} characters, room for ${room} (a " or \\ counts twice)`, 'invalid_email_prefix', 'emailPrefix');
    }
    const users = (await this.listPool(filter)).filter((u) => tenantOf(u) === tenantId);
    const listed = await mapLimited(users, CONCURRENCY, async (u) => toTenantUser(u, tenantId, await this.roleOf(u.Username!)));
    return listed.sort((a, b) => a.email.localeCompare(b.email));
  }

  /**
   * Disables a user of this tenant: AdminUserGlobalSignOut (its refresh tokens stop) then
   * AdminDisableUser (no new sign-in; Cognito revokes its access tokens), see disableFound. Cognito cannot revoke an
   * ID token already issued (the GatewayClient issues them for 1 hour): with `revocations`, the
   * gateway refuses it within its cache window (60 s); without, it works until it expires.
   * Idempotent. Emits `Tenant User Disabled`.
   * @throws IdentityError 404 `user_not_found` (also for another tenant's user); CognitoCallError.
   */
  async disable(tenantId: string, userId: string, by: string): Promise<TenantUser> {
    const found = await this.own(tenantId, userId, 'userId');
    await this.revokeTokens(tenantId, found);
    await this.disableFound(found.Username!);
    const user = { ...toTenantUser(found, tenantId, await this.roleOf(found.Username!)), enabled: false };
    await this.emit(TENANT_USER_EVENTS.disabled, { ...tenantUserEventDetail(user, by, this.now()) });
    return user;
  }

  /**
   * Moves a user of this tenant to `role`'s group: AdminAddUserToGroup (new group) first, then
   * AdminRemoveUserFromGroup for every other role group it is in. The authorizer takes the
   * least of several role groups, or refuses groups that have none (lib/identity/roles.ts roleOfClaims), so at no moment
   * does the user hold more than the old or the new role. Groups that are not role groups are left
   * alone. Emits `Tenant User Role Changed` (with `previousRole`) when the role changed.
   * @throws IdentityError 400 `invalid_role`; 404 `user_not_found`; CognitoCallError.
   */
  async setRole(tenantId: string, userId: string, role: Role, by: string): Promise<TenantUser> {
    checkRole(role);
    const found = await this.own(tenantId, userId, 'userId');
    const username = found.Username!;
    const before = await this.groupsOf(username);
    const previousRole = roleOfGroups(before);
    if (previousRole !== role) await this.revokeTokens(tenantId, found);
    try {
      await this.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: username, GroupName: groupOf(role) }));
    } catch (e) {
      throw refusal('AdminAddUserToGroup', e, { group: groupOf(role), userId });
    }
    for (const group of before.filter((g) => ROLE_GROUPS.includes(g) && g !== groupOf(role))) {
      try {
        await this.cognito.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: this.userPoolId, Username: username, GroupName: group }));
      } catch (e) {
        throw refusal('AdminRemoveUserFromGroup', e, { group, userId });
      }
    }
    const user = toTenantUser(found, tenantId, role);
    if (previousRole !== role || before.filter((g) => ROLE_GROUPS.includes(g)).length > 1) {
      await this.emit(TENANT_USER_EVENTS.roleChanged, { ...tenantUserEventDetail(user, by, this.now(), { previousRole: previousRole ?? null }) });
    }
    return user;
  }

  /**
   * Deletes a user of this tenant (AdminDeleteUser): it can no longer sign in and its refresh
   * tokens stop; an ID token already issued is refused by the gateway within 60 s with `revocations`, else works until it expires (1 hour). Emits
   * `Tenant User Deleted` (SBT's `tenantUserDeleted`).
   * @throws IdentityError 404 `user_not_found` (also for another tenant's user); CognitoCallError.
   */
  async remove(tenantId: string, userId: string, by: string): Promise<TenantUser> {
    const found = await this.own(tenantId, userId, 'userId');
    const user = toTenantUser(found, tenantId, await this.roleOf(found.Username!));
    await this.revokeTokens(tenantId, found);
    try {
      await this.cognito.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: found.Username! }));
    } catch (e) {
      throw refusal('AdminDeleteUser', e, { userId });
    }
    await this.emit(TENANT_USER_EVENTS.deleted, { ...tenantUserEventDetail(user, by, this.now()) });
    return user;
  }

  /**
   * Offboarding: disables every enabled user of the tenant (as `disable`, one `Tenant User
   * Disabled` event each). Pages through the pool's enabled users (ListUsers Filter
   * `status = "Enabled"`), so a second run finds none of this tenant's and disables nothing.
   * Each user is signed out before it is disabled (disableFound): a run whose sign-out fails leaves
   * the user enabled, so the next run lists it and does both again (disabled first, it was never
   * signed out nor announced). A user deleted after the listing (UserNotFoundException from AdminUserGlobalSignOut,
   * AdminDisableUser or AdminListGroupsForUser) is gone: nothing left to revoke, no event, counted in `gone`.
   *
   * With `pending`, a user's event cannot be lost when the run stops after its AdminDisableUser (a PutEvents that
   * fails, a Lambda timeout): the listed users are recorded (`pending.record`) before any of them is disabled, and
   * each is cleared once its event was sent (or it was found gone). A run first takes the users an earlier run left on
   * record: AdminGetUser; disabled (Enabled false) → its `Tenant User Disabled` is sent now (counted in `disabled`) and
   * it is cleared; UserNotFoundException (or another tenant's) → cleared, no event, as for a deleted user; still enabled
   * → left on record for the listing, which disables and announces it. Without `pending` (before), such a user was
   * disabled, never listed again and never announced.
   * @returns how many users this call disabled, or announced for an earlier run that disabled them (0 on a repeated
   *   run), and how many were deleted between the listing and their disabling
   * @throws IdentityError and CognitoCallError as `disable` (UserNotFoundException excepted: `gone`); the event's error;
   *   what `pending` throws (the user is then not disabled, or stays on record)
   */
  async disableAll(tenantId: string, by: string, pending?: PendingUserEvents): Promise<{ disabled: number; gone: number }> {
    const announced = new Set<string>();
    const owed = await mapLimited([...(pending?.recorded() ?? [])], CONCURRENCY, async (userId) => {
      const found = await this.getUser(userId);
      const own = found !== undefined && tenantOf(found) === tenantId;
      if (own && found.Enabled !== false) return 'enabled' as const; // left on record: the listing below disables and announces it
      let outcome: 'disabled' | 'gone' = 'gone';
      if (own) {
        try {
          const user = { ...toTenantUser(found, tenantId, await this.roleOf(userId)), enabled: false };
          await this.emit(TENANT_USER_EVENTS.disabled, { ...tenantUserEventDetail(user, by, this.now()) });
          announced.add(userId);
          outcome = 'disabled';
        } catch (e) {
          if (!(e instanceof IdentityError && e.code === 'user_not_found')) throw e; // stays on record for the next run
        }
      }
      await pending!.clear(userId);
      return outcome;
    });
    const users = (await this.listPool('status = "Enabled"'))
      .filter((u) => tenantOf(u) === tenantId && u.Enabled !== false && !announced.has(u.Username!));
    if (pending && users.length) await pending.record(users.map((u) => u.Username!));
    const done = await mapLimited(users, CONCURRENCY, async (u) => {
      try {
        await this.revokeTokens(tenantId, u);
        await this.disableFound(u.Username!);
        const user = { ...toTenantUser(u, tenantId, await this.roleOf(u.Username!)), enabled: false };
        await this.emit(TENANT_USER_EVENTS.disabled, { ...tenantUserEventDetail(user, by, this.now()) });
        await pending?.clear(u.Username!);
        return 'disabled' as const;
      } catch (e) {
        // refusal() turns Cognito's UserNotFoundException into a 404 user_not_found: deleted since ListUsers.
        if (e instanceof IdentityError && e.code === 'user_not_found') {
          await pending?.clear(u.Username!);
          return 'gone' as const;
        }
        throw e;
      }
    });
    const all = [...owed.filter((d) => d === 'disabled'), ...done];
    return { disabled: all.filter((d) => d === 'disabled').length, gone: done.filter((d) => d === 'gone').length };
  }

  /** AdminGetUser; undefined when no such user exists (UserNotFoundException). @throws CognitoCallError otherwise */
  private async getUser(userId: string) {
    try {
      return await this.cognito.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: userId }));
    } catch (e) {
      if ((e as Error).name === 'UserNotFoundException') return undefined;
      throw refusal('AdminGetUser', e, { userId });
    }
  }

  /**
   * AdminUserGlobalSignOut (its refresh tokens stop), then AdminDisableUser (no new sign-in; its access tokens are
   * revoked). Signed out first: when the sign-out fails the user is still enabled, so offboarding's next run, which
   * lists enabled users only, does both again (a user disabled first and then not signed out was never seen again).
   * A user signing in between the two calls is disabled by the second (AdminDisableUser revokes its access tokens;
   * Cognito refuses a disabled user's refresh).
   */
  private async disableFound(username: string): Promise<void> {
    try {
      await this.cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.userPoolId, Username: username }));
    } catch (e) {
      throw refusal('AdminUserGlobalSignOut', e, { userId: username });
    }
    try {
      await this.cognito.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: username }));
    } catch (e) {
      throw refusal('AdminDisableUser', e, { userId: username });
    }
  }

  /** The user, when it is this tenant's; else 404 `user_not_found`, the same answer as for no user at all. */
  private async own(tenantId: string, userId: string, param: 'userId' | 'email') {
    if (!USERNAME.test(userId)) throw new IdentityError(400, `${param} "${userId.slice(0, 140)}" is not a user id (Cognito usernames are 1-128 characters, no spaces): take the id from the user list`, 'invalid_user_id', param);
    const notFound = new IdentityError(404, `no user "${userId}" in tenant "${tenantId}"`, 'user_not_found', param);
    let found;
    try {
      found = await this.cognito.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: userId }));
    } catch (e) {
      if ((e as Error).name === 'UserNotFoundException') throw notFound;
      throw refusal('AdminGetUser', e, { userId });
    }
    if (tenantOf(found) !== tenantId) throw notFound;
    return found;
  }

  private async exists(tenantId: string, email: string): Promise<Error> {
    let owner: string | undefined;
    try {
      owner = tenantOf(await this.cognito.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: email })));
    } catch (e) {
      if ((e as Error).name !== 'UserNotFoundException') return refusal('AdminGetUser', e, { email });
    }
    if (owner === tenantId) {
      return new IdentityError(409, `a user with email ${email} exists already in tenant "${tenantId}": list the tenant's users to find it; a user who has not signed in yet can be sent a new invitation (tessera users invite --resend)`, 'user_exists', 'email');
    }
    return new IdentityError(409, `email ${email} cannot be invited to tenant "${tenantId}": the address is already registered on the platform outside this tenant (a user belongs to one tenant); use another address`, 'email_unavailable', 'email');
  }

  private async groupsOf(username: string): Promise<string[]> {
    const groups: string[] = [];
    try {
      for await (const page of paginateAdminListGroupsForUser(pages(this.cognito, PAGE), { UserPoolId: this.userPoolId, Username: username })) {
        groups.push(...(page.Groups ?? []).map((g) => g.GroupName!));
      }
    } catch (e) {
      throw refusal('AdminListGroupsForUser', e, { userId: username });
    }
    return groups;
  }

  private async roleOf(username: string): Promise<Role | null> {
    return roleOfGroups(await this.groupsOf(username)) ?? null;
  }

  private async listPool(filter?: string): Promise<UserType[]> {
    const users: UserType[] = [];
    try {
      for await (const page of paginateListUsers(pages(this.cognito, PAGE), { UserPoolId: this.userPoolId, Filter: filter })) users.push(...(page.Users ?? []));
    } catch (e) {
      throw refusal('ListUsers', e, {});
    }
    return users;
  }
}

/** The role the authorizer would read from these groups (roleOfClaims: the least-privileged role group). */
export function roleOfGroups(groups: string[]): Role | undefined {
  const role = roleOfClaims({ 'cognito:groups': groups });
  return typeof role === 'string' ? role : undefined;
}

/**
 * `email` when it can be a user's address here: a plausible address (EMAIL) that Cognito takes as a `Username` (1-128
 * letters, marks, symbols, numbers or punctuation: cognitoUsernameProblem), since each user is made with Username = its
 * address. Before, an address of 129-320 characters (the admin API takes up to 320) reached AdminCreateUser, whose
 * InvalidParameterException about `username` was answered as a Cognito call error, not a 400 naming `email`.
 * @throws IdentityError 400 `invalid_email` (param `email`)
 */
function checkEmail(email: unknown): string {
  if (typeof email !== 'string' || !EMAIL.test(email)) {
    throw new IdentityError(400, `email "${String(email).slice(0, 320)}" is not an email address: give the address the invitation goes to`, 'invalid_email', 'email');
  }
  const problem = cognitoUsernameProblem(email, 'email');
  if (problem) throw new IdentityError(400, problem, 'invalid_email', 'email');
  return email;
}

function checkRole(role: unknown): Role {
  if (!ROLES.includes(role as Role)) throw new IdentityError(400, `role "${String(role)}" is not a role (roles: ${ROLES.join(', ')})`, 'invalid_role', 'role');
  return role as Role;
}

function toTenantUser(u: UserType | { Username?: string; UserAttributes?: AttributeType[]; UserStatus?: string; Enabled?: boolean; UserCreateDate?: Date }, tenantId: string, role: Role | null): TenantUser {
  const attrs = (u as UserType).Attributes ?? (u as { UserAttributes?: AttributeType[] }).UserAttributes;
  return {
    object: 'tenant.user', id: u.Username ?? '', email: attr(attrs, 'email') ?? '', tenantId, role,
    status: u.UserStatus ?? 'UNKNOWN', enabled: u.Enabled ?? true, createdAt: u.UserCreateDate?.toISOString() ?? '',
  };
}

/**
 * Translates a Cognito error into what the caller can act on (names from the Cognito API
 * reference's "Errors" of each action): UserNotFoundException → 404 `user_not_found`;
 * InvalidParameterException about the email → 400 naming `email`; everything else → a
 * CognitoCallError naming the call, with a fix for a missing group or pool.
 */
function refusal(call: string, e: unknown, ctx: { email?: string; userId?: string; group?: string }): Error {
  const error = (e instanceof Error ? e : new Error(String(e)));
  switch (error.name) {
    case 'UserNotFoundException':
      return new IdentityError(404, `no user "${ctx.userId ?? ctx.email}" (Cognito ${call}: UserNotFoundException)`, 'user_not_found', ctx.userId ? 'userId' : 'email');
    case 'InvalidParameterException':
      if (ctx.email && /email/i.test(error.message) && !/custom:|tenant_id/i.test(error.message)) {
        return new IdentityError(400, `email "${ctx.email}" was refused by Cognito ${call} (${error.message.split('\n')[0]}): give a valid email address`, 'invalid_email', 'email');
      }
      return new CognitoCallError(call, error);
    case 'ResourceNotFoundException':
      return new CognitoCallError(call, error, ctx.group
        ? `the user pool has no group ${ctx.group}: the platform stack creates the role groups (${ROLE_GROUPS.join(', ')}); deploy it, or check the pool id`
        : 'the user pool does not exist: check the pool id (the TenantUserPoolId output of the platform stack)');
    default:
      return new CognitoCallError(call, error);
  }
}
