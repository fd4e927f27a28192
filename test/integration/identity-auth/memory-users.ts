import type { Role } from '../../../lib/identity/roles.js';
import { IdentityError } from '../../../lambdas/identity/identity-error.js';
import type { TenantUser, TenantUserDirectory } from '../../../lambdas/identity/tenant-users.js';

/**
 * A TenantUserDirectory in memory for the gateway's `/v1/tenant/users` tests (the Cognito one is
 * tested against moto by its own suite): the same tenant rule, a user of another tenant is 404
 * `user_not_found` as one that does not exist. `calls` records every change asked for, with `by`.
 */
export class MemoryUsers implements TenantUserDirectory {
  readonly users = new Map<string, TenantUser>();
  readonly calls: Array<{ op: string; tenantId: string; userId?: string; by: string }> = [];
  private next = 1;

  private of(tenantId: string, userId: string): TenantUser {
    const user = this.users.get(userId);
    if (!user || user.tenantId !== tenantId) throw new IdentityError(404, `no user ${userId} in tenant ${tenantId}`, 'user_not_found', 'userId');
    return user;
  }

  async invite(tenantId: string, input: { email: string; role: Role }, by: string): Promise<TenantUser> {
    if ([...this.users.values()].some((u) => u.email === input.email)) throw new IdentityError(409, `a user with email ${input.email} exists`, 'user_exists', 'email');
    const user: TenantUser = { object: 'tenant.user', id: `user-${this.next++}`, email: input.email, tenantId, role: input.role, status: 'FORCE_CHANGE_PASSWORD', enabled: true, createdAt: new Date().toISOString() };
    this.users.set(user.id, user);
    this.calls.push({ op: 'invite', tenantId, userId: user.id, by });
    return { ...user };
  }

  async list(tenantId: string): Promise<TenantUser[]> {
    return [...this.users.values()].filter((u) => u.tenantId === tenantId).map((u) => ({ ...u }));
  }

  async disable(tenantId: string, userId: string, by: string): Promise<TenantUser> {
    const user = this.of(tenantId, userId);
    user.enabled = false;
    this.calls.push({ op: 'disable', tenantId, userId, by });
    return { ...user };
  }

  async setRole(tenantId: string, userId: string, role: Role, by: string): Promise<TenantUser> {
    const user = this.of(tenantId, userId);
    user.role = role;
    this.calls.push({ op: 'setRole', tenantId, userId, by });
    return { ...user };
  }

  async remove(tenantId: string, userId: string, by: string): Promise<TenantUser> {
    const user = this.of(tenantId, userId);
    this.users.delete(userId);
    this.calls.push({ op: 'remove', tenantId, userId, by });
    return user;
  }

  async disableAll(tenantId: string, by: string): Promise<{ disabled: number; gone: number }> {
    const mine = [...this.users.values()].filter((u) => u.tenantId === tenantId && u.enabled);
    for (const u of mine) u.enabled = false;
    this.calls.push({ op: 'disableAll', tenantId, by });
    return { disabled: mine.length, gone: 0 };
  }
}
