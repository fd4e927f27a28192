import { describe, expect, it } from 'vitest';
import { can, groupOf, permissionTable, PERMISSIONS, ROLE_GROUPS, ROLE_PERMISSIONS, ROLES, roleOfClaims, type Permission, type Role } from '../../../lib/identity/roles.js';
import { permissionFor, routePermissions } from '../../../lib/identity/route-permissions.js';
import { BATCH_ROUTES, FINE_TUNING_ROUTES, OPENAI_ROUTES, type Route } from '../../../lambdas/inference/routes.js';

// The issue's table, written out by hand so a wrong ROLE_PERMISSIONS fails here.
const ISSUE_TABLE: Record<Role, Permission[]> = {
  admin: ['inference', 'models.read', 'usage.read_own', 'usage.read', 'usage.read_by_caller', 'fine_tuning.read', 'fine_tuning.write', 'models.delete', 'keys.manage', 'users.manage'],
  developer: ['inference', 'models.read', 'usage.read_own', 'usage.read', 'fine_tuning.read', 'fine_tuning.write'],
  member: ['inference', 'models.read', 'usage.read_own'],
  viewer: ['usage.read_own', 'usage.read', 'usage.read_by_caller', 'fine_tuning.read'],
};

describe('role permissions', () => {
  it.each(ROLES)('%s holds exactly the issue table\'s permissions', (role) => {
    expect([...ROLE_PERMISSIONS[role]].sort()).toEqual([...ISSUE_TABLE[role]].sort());
  });

  it('admin holds every permission there is', () => {
    for (const p of Object.keys(PERMISSIONS) as Permission[]) expect(can('admin', p)).toBe(true);
  });

  it('viewer cannot call models; member cannot manage keys or start jobs', () => {
    expect(can('viewer', 'inference')).toBe(false);
    expect(can('member', 'keys.manage')).toBe(false);
    expect(can('member', 'fine_tuning.write')).toBe(false);
    expect(can('developer', 'fine_tuning.write')).toBe(true);
  });
});

describe('roleOfClaims', () => {
  it('reads tessera:role, refusing a role that does not exist', () => {
    expect(roleOfClaims({ 'tessera:role': 'developer' })).toBe('developer');
    expect(roleOfClaims({ 'tessera:role': 'root' })).toEqual({ unknown: 'root' });
    expect(roleOfClaims({ 'tessera:role': ['admin'] })).toEqual({ unknown: 'admin' });
  });

  it('reads the Cognito role groups, the least privileged of several, ignoring other groups', () => {
    expect(roleOfClaims({ 'cognito:groups': ['tenant-viewer'] })).toBe('viewer');
    expect(roleOfClaims({ 'cognito:groups': ['tenant-admin', 'tenant-member'] })).toBe('member');
    expect(roleOfClaims({ 'cognito:groups': ['admin', 'ops'] })).toBeUndefined();
    expect(roleOfClaims({ 'cognito:groups': ['tenant-developer', 'tenant-member', 'tenant-admin'] })).toBe('member');
  });

  it('refuses role groups none of which holds only permissions the others hold too (member + viewer, developer + viewer)', () => {
    expect(roleOfClaims({ 'cognito:groups': ['tenant-member', 'tenant-viewer'] })).toEqual({ ambiguous: ['member', 'viewer'] });
    expect(roleOfClaims({ 'cognito:groups': ['tenant-viewer', 'tenant-developer'] })).toEqual({ ambiguous: ['developer', 'viewer'] });
    expect(roleOfClaims({ 'cognito:groups': ['tenant-viewer', 'tenant-admin'] })).toBe('viewer');
    expect(roleOfClaims({ sub: 'x' })).toBeUndefined();
  });

  it('names groups tenant-<role>', () => {
    expect(ROLE_GROUPS).toEqual(['tenant-admin', 'tenant-developer', 'tenant-member', 'tenant-viewer']);
    expect(groupOf('viewer')).toBe('tenant-viewer');
  });
});

describe('route permissions', () => {
  it.each([
    ['POST', '/v1/chat/completions', 'inference'],
    ['GET', '/v1/chat/completions', 'inference'],
    ['GET', '/v1/chat/completions/chatcmpl-1', 'inference'],
    ['POST', '/v1/chat/completions/chatcmpl-1', 'inference'],
    ['DELETE', '/v1/chat/completions/chatcmpl-1', 'inference'],
    ['GET', '/v1/chat/completions/chatcmpl-1/messages', 'inference'],
    ['POST', '/v1/embeddings', 'inference'],
    ['POST', '/v1/moderations', 'inference'],
    ['POST', '/v1/images/generations', 'inference'],
    ['POST', '/v1/responses', 'inference'],
    ['POST', '/v1/responses/input_tokens', 'inference'],
    ['GET', '/v1/responses/resp_1/input_items', 'inference'],
    ['DELETE', '/v1/responses/resp_1', 'inference'],
    ['GET', '/v1/models', 'models.read'],
    ['GET', '/v1/models/bedrock%2Fanthropic.claude', 'models.read'],
    ['DELETE', '/v1/models/ft:llama-3.1-8b-instruct:acme:support', 'models.delete'],
    ['GET', '/v1/usage', 'usage.read_own'],
    ['GET', '/v1/tenant/requests/req_0123456789abcdef01234567', 'usage.read_own'],
    ['GET', '/v1/fine_tuning/jobs', 'fine_tuning.read'],
    ['GET', '/v1/fine_tuning/jobs/ftjob-1/events', 'fine_tuning.read'],
    ['POST', '/v1/fine_tuning/jobs', 'fine_tuning.write'],
    ['POST', '/v1/fine_tuning/jobs/ftjob-1/cancel', 'fine_tuning.write'],
    ['POST', '/v1/tenant/keys', 'keys.manage'],
    ['DELETE', '/v1/tenant/keys/key_0123456789abcdef', 'keys.manage'],
    ['POST', '/v1/tenant/keys/key_0123456789abcdef/rotate', 'keys.manage'],
    ['GET', '/v1/tenant/users', 'users.manage'],
    ['PUT', '/v1/tenant/users/u-1/role', 'users.manage'],
    ['POST', '/v1/tenant/users/u-1/disable', 'users.manage'],
  ])('%s %s needs %s', (method, path, permission) => {
    expect(permissionFor(method, path)).toBe(permission);
  });

  it('knows no permission for routes that do not exist', () => {
    expect(permissionFor('POST', '/v1/models')).toBeUndefined();
    expect(permissionFor('GET', '/v1/tenant/keys/key_1/rotate')).toBeUndefined();
    expect(permissionFor('PATCH', '/v1/tenant/users/u-1/role')).toBeUndefined();
  });

  it('names only permissions that exist', () => {
    for (const [, , p] of routePermissions()) expect(Object.keys(PERMISSIONS)).toContain(p);
  });

  // A served route without a row is checked by no role (the gateway asks permissionFor, and undefined means no
  // check): image edits were served once with no row, so a viewer could call them. Every method of every route
  // any gateway serves must have one.
  it('has a row for every method of every route the gateway serves (a route without one would let every role in)', () => {
    const missing = [...OPENAI_ROUTES, ...BATCH_ROUTES, ...FINE_TUNING_ROUTES].flatMap((route) =>
      route[1].filter((method) => permissionFor(method, samplePath(route)) === undefined).map((method) => `${method} ${samplePath(route)}`));
    expect(missing).toEqual([]);
  });
});

/** A path `route` serves: its pattern's literal parts, each parameter (`[^/]+`, `.+`) an id. */
function samplePath([pattern]: Route): string {
  const path = pattern.source.replace(/^\^|\$$/g, '').replace(/\[\^\/\]\+|\.\+/g, 'id_1').replace(/\\(.)/g, '$1');
  expect(pattern.test(path), `${pattern} serves ${path}`).toBe(true);
  return path;
}

describe('permissionTable', () => {
  it('has one row per permission and one column per role', () => {
    const lines = permissionTable().split('\n');
    expect(lines).toHaveLength(2 + Object.keys(PERMISSIONS).length);
    expect(lines[0]).toBe('| permission | admin | developer | member | viewer | allows |');
    expect(lines.find((l) => l.startsWith('| `inference`'))).toContain('| yes | yes | yes | — |');
  });
});

describe('tessera roles', () => {
  it('prints the table, or JSON with the groups', async () => {
    const { Command } = await import('commander');
    const { rolesCommand } = await import('../../../lib/cli/roles-command.js');
    for (const json of [false, true]) {
      const lines: string[] = [];
      const program = new Command('tessera').option('--json').exitOverride();
      program.addCommand(rolesCommand((t) => lines.push(t)));
      await program.parseAsync(['node', 'tessera', ...(json ? ['--json'] : []), 'roles']);
      if (json) expect(JSON.parse(lines[0]!).roles[2]).toEqual({ role: 'member', group: 'tenant-member', permissions: ['inference', 'models.read', 'usage.read_own'] });
      else expect(lines[0]).toBe(permissionTable());
    }
  });
});

describe('the permission table of docs/identity.md', () => {
  it('is the code\'s (between the permission-table markers)', async () => {
    const { readFileSync } = await import('node:fs');
    const page = readFileSync(new URL('../../../docs/identity.md', import.meta.url), 'utf8');
    const table = /<!-- permission-table:begin -->\n([\s\S]*?)\n<!-- permission-table:end -->/.exec(page)?.[1];
    expect(table).toBe(permissionTable());
  });
});
