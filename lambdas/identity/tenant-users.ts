import type { Role } from '../../lib/identity/roles.js';

/** A tenant user as the admin API, `/v1/tenant/users` and the CLI show it. */
export interface TenantUser {
  object: 'tenant.user';
  /** Cognito's username (the user's `sub`). */
  id: string;
  email: string;
  tenantId: string;
  role: Role | null;
  /** Cognito's UserStatus (FORCE_CHANGE_PASSWORD, CONFIRMED, ...). */
  status: string;
  enabled: boolean;
  createdAt: string;
}

/**
 * Tenant users in the platform's Cognito pool (`custom:tenant_id`, one role group each), shared by
 * the admin API, the gateway's `/v1/tenant/users` and the offboarding workflow. Every call names
 * the tenant and refuses a user of another tenant as not found (404), never acting on it.
 * Implementation: lambdas/identity/cognito-tenant-users.ts.
 */
export interface TenantUserDirectory {
  /** AdminCreateUser (Cognito mails the invitation) + the role group; emits `Tenant User Created`. */
  invite(tenantId: string, input: { email: string; role: Role }, by: string): Promise<TenantUser>;
  list(tenantId: string): Promise<TenantUser[]>;
  /** AdminUserGlobalSignOut, then AdminDisableUser. */
  disable(tenantId: string, userId: string, by: string): Promise<TenantUser>;
  /** Moves the user to the role's group (out of every other role group). */
  setRole(tenantId: string, userId: string, role: Role, by: string): Promise<TenantUser>;
  /** AdminDeleteUser; emits `Tenant User Deleted` (SBT's `tenantUserDeleted`). */
  remove(tenantId: string, userId: string, by: string): Promise<TenantUser>;
  /**
   * Disables every enabled user of the tenant (offboarding).
   * @returns how many were disabled, and how many were deleted between the listing and their disabling (`gone`)
   */
  disableAll(tenantId: string, by: string): Promise<{ disabled: number; gone: number }>;
}
