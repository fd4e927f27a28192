import { Command, Option } from 'commander';
import type { DriftRecord } from '../tenant-record.js';
import { adminTarget } from './admin-target.js';
import { table } from './format.js';

/** `GET /admin/drift` (lambdas/admin/drift-routes.ts). */
interface DriftList {
  tenants: Array<{ tenantId: string; tier: string; status: string; drift: string; checkedAt?: string; driftedResources: number }>;
}
/** `GET /admin/tenants/{id}/drift`. */
interface TenantDrift { tenantId: string; status: string; drift?: DriftRecord }

const print = (s: string) => process.stdout.write(`${s}\n`);

/** Every tenant's drift status as a table for a terminal. */
export function driftListLines(out: DriftList): string {
  if (!out.tenants.length) return 'no tenants';
  const drifted = out.tenants.filter((t) => t.drift === 'DRIFTED').length;
  const rows = out.tenants.map((t) => ({ tenant: t.tenantId, tier: t.tier, status: t.status, drift: t.drift, resources: t.driftedResources, checked: t.checkedAt ?? 'never' }));
  return `${table(rows, ['tenant', 'tier', 'status', 'drift', 'resources', 'checked'])}\n${drifted} of ${out.tenants.length} tenant${out.tenants.length === 1 ? '' : 's'} drifted`;
}

/** One tenant's drift: status, time, each stack, then each drifted resource with its property paths. */
export function tenantDriftLines(out: TenantDrift): string {
  const d = out.drift;
  if (!d) return `tenant ${out.tenantId}: drift not checked yet (the drift workflow runs daily; ACTIVE tenants only)`;
  const lines = [`tenant ${out.tenantId}: ${d.status} (checked ${d.checkedAt})`];
  for (const s of d.stacks) lines.push(`  stack ${s.stack}: ${s.status}${s.reason ? ` — ${s.reason}` : ''}`);
  if (d.error) lines.push(`  error: ${d.error}`);
  if (d.resources.length) {
    lines.push(table(d.resources.map((r) => ({
      resource: r.logicalId, type: r.type, drift: r.status, stack: r.stack,
      differences: r.status === 'DELETED' ? '(deleted)' : r.differences.map((p) => `${p.path} ${p.type}`).join(', ') || '-',
    })), ['resource', 'type', 'drift', 'stack', 'differences']));
  }
  if (d.truncated) lines.push(`… and ${d.truncated} more drifted resource${d.truncated === 1 ? '' : 's'} (the registry keeps 100; see the stack's drift in the CloudFormation console)`);
  if (d.status === 'DRIFTED') lines.push(`repair: tessera tenants update ${out.tenantId} --repair (a drift-aware change set brings the resources back to the blueprint)`);
  return lines.join('\n');
}

/**
 * `tessera tenants drift [<id>]`: without an id, every tenant with its drift status (`--status`
 * filters); with one, that tenant's drifted resources. Through the admin API, like the other
 * tenant commands; `--json` prints the API's answer.
 */
export function tenantsDriftCommand(): Command {
  return new Command('drift').description('drift of tenant stacks: every tenant\'s drift status, or one tenant\'s drifted resources (recorded by the daily drift workflow)')
    .argument('[id]', 'a tenant id: show its drifted resources')
    .addOption(new Option('--status <status>', 'only tenants with this drift status').choices(['DRIFTED', 'IN_SYNC', 'UNKNOWN', 'NOT_CHECKED']))
    .action(async (id: string | undefined, o: { status?: string }, cmd: Command) => {
      const { api, json } = adminTarget(cmd);
      if (id) {
        const out = await api.call<TenantDrift>('GET', `/admin/tenants/${encodeURIComponent(id)}/drift`);
        print(json ? JSON.stringify(out, null, 2) : tenantDriftLines(out));
        return;
      }
      const out = await api.call<DriftList>('GET', '/admin/drift', undefined, { status: o.status });
      print(json ? JSON.stringify(out.tenants, null, 2) : driftListLines(out));
    });
}
