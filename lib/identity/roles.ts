import { z } from 'zod';

/**
 * Roles inside a tenant and what each may do: the one permission table shared by the authorizer,
 * the gateway, the admin API, the CLI and docs/identity.md (test/unit/identity keeps that page's table
 * equal to `permissionTable()`).
 */
export const ROLES = ['admin', 'developer', 'member', 'viewer'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** Every permission a route can require, with what it allows (the docs' wording). */
export const PERMISSIONS = {
  inference: 'call models: chat completions, embeddings, moderations, image generation, responses',
  'models.read': 'list and retrieve the tenant\'s models',
  'usage.read_own': 'read the caller\'s own usage and its own requests\' audit records (its user or key)',
  'usage.read': 'read the tenant\'s usage and any of its requests\' audit records',
  'usage.read_by_caller': 'read the tenant\'s usage grouped by user or key',
  'fine_tuning.read': 'list and read fine-tuning jobs, their events and the fine-tuning files\' names and sizes',
  'fine_tuning.write': 'create and cancel fine-tuning jobs; upload, download and delete fine-tuning files',
  'models.delete': 'delete the tenant\'s fine-tuned models (their endpoints stop; OpenAI asks the Owner role)',
  'keys.manage': 'create, list, rotate and revoke the tenant\'s API keys',
  'users.manage': 'invite, list, disable and re-role the tenant\'s users',
} as const;
export type Permission = keyof typeof PERMISSIONS;

/** Which role holds which permission. `admin` holds them all. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: Object.keys(PERMISSIONS) as Permission[],
  developer: ['inference', 'models.read', 'usage.read_own', 'usage.read', 'fine_tuning.read', 'fine_tuning.write'],
  member: ['inference', 'models.read', 'usage.read_own'],
  viewer: ['usage.read_own', 'usage.read', 'usage.read_by_caller', 'fine_tuning.read'],
};

/** Whether `role` holds `permission`. */
export const can = (role: Role, permission: Permission): boolean => ROLE_PERMISSIONS[role].includes(permission);

/**
 * The Cognito group that carries a role (one per role in the platform pool; a user is in exactly
 * one). Group names: `tenant-admin`, `tenant-developer`, `tenant-member`, `tenant-viewer`.
 */
export const groupOf = (role: Role) => `tenant-${role}`;

/** The role groups, in the order of ROLES. */
export const ROLE_GROUPS = ROLES.map(groupOf);

/**
 * The role a verified token's claims carry: `tessera:role` (dev tokens, external identity
 * providers) or the role groups of `cognito:groups`. A user in several role groups gets the one
 * whose permissions all the others hold too (admin + member -> member; a role change is half done
 * while the user is in both groups), so no token grants more than any of its groups. Groups that
 * cannot be ordered that way (member + viewer: neither holds all of the other's permissions) make
 * no role: the authorizer refuses the token until the user is in one group.
 * @returns the role; `undefined` when the claims carry none; `{ unknown }` when a role claim names
 *   no role; `{ ambiguous }` for role groups of which none is the least (the authorizer refuses both)
 */
export function roleOfClaims(claims: Record<string, unknown>): Role | undefined | { unknown: string } | { ambiguous: Role[] } {
  const explicit = claims['tessera:role'];
  if (explicit !== undefined) {
    const parsed = Role.safeParse(explicit);
    return parsed.success ? parsed.data : { unknown: String(explicit) };
  }
  const groups = claims['cognito:groups'];
  if (!Array.isArray(groups)) return undefined;
  const held = ROLES.filter((r) => groups.includes(groupOf(r)));
  if (held.length <= 1) return held[0];
  const least = held.find((r) => held.every((other) => ROLE_PERMISSIONS[r].every((p) => can(other, p))));
  return least ?? { ambiguous: held };
}

/** The permission table as Markdown (docs/identity.md "Roles and permissions"; `tessera roles`). */
export function permissionTable(): string {
  const head = `| permission | ${ROLES.join(' | ')} | allows |`;
  const rule = `|---|${ROLES.map(() => '---').join('|')}|---|`;
  const rows = (Object.keys(PERMISSIONS) as Permission[]).map((p) => `| \`${p}\` | ${ROLES.map((r) => (can(r, p) ? 'yes' : '—')).join(' | ')} | ${PERMISSIONS[p]} |`);
  return [head, rule, ...rows].join('\n');
}
