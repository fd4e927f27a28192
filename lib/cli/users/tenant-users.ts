import { TENANT_ATTRIBUTE } from '../../../lambdas/identity/cognito-tenant-users.js';
import { CognitoCallError } from '../../../lambdas/identity/cognito-tenant-users.js';
import { IdentityError } from '../../../lambdas/identity/identity-error.js';
import { ROLES, Role } from '../../identity/roles.js';
import { CliError } from '../cli-error.js';
import { awsCallError } from './cognito-errors.js';

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

/** Which flag a directory refusal's `param` is about. */
const FLAGS: Record<string, string> = { email: '--email', userId: '--user', role: '--role' };

/**
 * The CLI's one-line error for a failure of CognitoTenantUsers: an IdentityError keeps its message
 * with the flag it is about (exit 2 for a 400, 1 for 404/409: the pool's state, not the command
 * line); a CognitoCallError names the call with the fix for credentials, permissions or a pool that
 * is not the platform's (exit 1 or 2); anything else passes unchanged.
 */
export function usersCliError(e: unknown, userPoolId: string): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof IdentityError) {
    const flag = e.param && FLAGS[e.param];
    return new CliError(`${flag ? `${flag}: ` : ''}${e.message}`, e.status === 400 ? 2 : 1);
  }
  if (e instanceof CognitoCallError) {
    if (e.cause.name === 'InvalidParameterException' && /tenant_id|custom/i.test(e.cause.message)) {
      return new CliError(`Cognito ${e.call} refused custom:tenant_id (${e.cause.message}): user pool ${userPoolId} is not the platform's tenant pool (it has no tenant_id attribute); pass the TenantUserPoolId output as --user-pool-id`, 2);
    }
    if (e.cause.name === 'ResourceNotFoundException') return new CliError(e.message, 1);
    return awsCallError(`Cognito ${e.call}`, e.cause, 'check --user-pool-id, then try again');
  }
  return e;
}
