import { Command } from 'commander';
import { PERMISSIONS, ROLE_GROUPS, ROLE_PERMISSIONS, ROLES, permissionTable } from '../identity/roles.js';

/**
 * `tessera roles`: the roles inside a tenant and their permissions, from the one table the
 * authorizer and the gateway enforce (lib/identity/roles.ts). Text: the Markdown table docs/identity.md
 * shows; `--json`: `{ roles: [{ role, group, permissions }], permissions: { <name>: <what it allows> } }`.
 */
export function rolesCommand(out: (text: string) => void = (t) => void process.stdout.write(`${t}\n`)): Command {
  return new Command('roles')
    .description('the roles inside a tenant (admin, developer, member, viewer) and what each may do')
    .action((_o, cmd: Command) => {
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) {
        out(JSON.stringify({ roles: ROLES.map((role, i) => ({ role, group: ROLE_GROUPS[i], permissions: ROLE_PERMISSIONS[role] })), permissions: PERMISSIONS }, null, 2));
        return;
      }
      out(permissionTable());
    });
}
