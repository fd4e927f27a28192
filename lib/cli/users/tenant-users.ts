import { TENANT_ATTRIBUTE } from '../../../lambdas/identity/cognito-tenant-users.js';
import { ROLES, Role } from '../../identity/roles.js';
import { CliError } from '../cli-error.js';

/** The user attribute that carries the tenant; the gateway's authorizer reads it from the ID token. */
export { TENANT_ATTRIBUTE };

/** A plausible email address (Cognito checks it again; this catches a swapped flag early). */
export function checkEmail(email: string): string {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new CliError(`--email "${email}" is not an email address: give the address the user receives the invitation at`);
  return email;
}

/** `--role`: one of lib/identity/roles.ts ROLES. @throws CliError (exit 2) listing the roles. */
export function checkRole(role: string): Role {
  const parsed = Role.safeParse(role);
  if (!parsed.success) throw new CliError(`--role "${role}" is not a role: use one of ${ROLES.join(', ')} (tessera roles shows what each may do)`);
  return parsed.data;
}
