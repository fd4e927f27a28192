import type { Role } from '../../lib/identity/roles.js';
import type { TenantUser } from './tenant-users.js';

/**
 * Detail types of the tenant-user events on the platform bus (source `tessera.lifecycle`, like
 * every lifecycle event). SBT (awslabs/sbt-aws, src/utils/event-manager.ts) names two of them,
 * `tenantUserCreated` and `tenantUserDeleted`, and leaves them to the application plane to emit;
 * we emit them ourselves, in the spelling of our other lifecycle events ("Tenant Activated"), and
 * add the two changes SBT has no event for (disable, role change).
 */
export const TENANT_USER_EVENTS = {
  /** SBT `tenantUserCreated`: an invitation created the user (AdminCreateUser). */
  created: 'Tenant User Created',
  /** SBT `tenantUserDeleted`: the user was removed from the pool (AdminDeleteUser). */
  deleted: 'Tenant User Deleted',
  /** The user was disabled (AdminUserGlobalSignOut + AdminDisableUser); it still exists and counts for audit. */
  disabled: 'Tenant User Disabled',
  /** The user moved to another role group. */
  roleChanged: 'Tenant User Role Changed',
} as const;
export type TenantUserEvent = (typeof TENANT_USER_EVENTS)[keyof typeof TENANT_USER_EVENTS];

/**
 * The detail of a tenant-user event. SBT's user-management service (resources/functions/
 * user-management) speaks of a user as `userName` (Cognito's Username), `email` and `userRole`;
 * those three keep SBT's names so that an SBT application plane's rules match, beside `tenantId`.
 * Ours: `userId` (= `userName`, the id the admin API and `/v1/tenant/users` take), `role` (=
 * `userRole`), `by` (who asked: an IAM ARN, `tenant-user:<sub>`, `tenant-key:<key id>`, or
 * `offboarding`), `at` (ISO-8601 time of the change), and per event `previousRole` (role change).
 */
export interface TenantUserEventDetail {
  tenantId: string;
  userName: string;
  userId: string;
  email: string;
  userRole: Role | null;
  role: Role | null;
  enabled: boolean;
  by: string;
  at: string;
  previousRole?: Role | null;
}

/** The event detail for `user` (see TenantUserEventDetail). */
export function tenantUserEventDetail(user: TenantUser, by: string, at: Date, extra: { previousRole?: Role | null } = {}): TenantUserEventDetail {
  return {
    tenantId: user.tenantId, userName: user.id, userId: user.id, email: user.email, userRole: user.role, role: user.role,
    enabled: user.enabled, by, at: at.toISOString(), ...extra,
  };
}
