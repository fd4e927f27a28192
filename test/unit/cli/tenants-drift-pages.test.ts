import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdminClient } from '../../../lib/cli/admin-client.js';
import { tenantsDriftCommand } from '../../../lib/cli/tenants-drift-command.js';
import type { DriftPage, DriftRow } from '../../../lib/tenant-list-page.js';

const row = (tenantId: string, drift: DriftRow['drift'] = 'IN_SYNC'): DriftRow => ({ tenantId, tier: 'starter', status: 'ACTIVE', drift, driftedResources: drift === 'DRIFTED' ? 1 : 0 });

/** `tessera tenants drift` with the admin client's `GET /admin/drift` answering `pages`, keyed by the nextToken sent; what it printed. */
/** `tessera tenants drift <args>` against an admin API that answers each call with `answer(query)`; its calls and stdout. */
async function runDrift(args: string[], answer: (query: Record<string, string | undefined>) => unknown) {
  const call = vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (_method, _path, _body, query = {}) => {
    if (call.mock.calls.length > 20) throw new Error('called the admin API more than 20 times');
    return answer(query);
  });
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
  // --json is a program-wide option (bin/tessera-cli.ts)
  const json = args[0] === '--json';
  await new Command().option('--json').addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', ...(json ? ['--json'] : []), 'drift', ...args.slice(json ? 1 : 0)]);
  return { call, out: out.join('') };
}

/** The list, served page by page (`pages[nextToken]`, the first under ''). */
const run = (args: string[], pages: Record<string, DriftPage>) => runDrift(args, (query) => pages[query.nextToken ?? '']);

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('tessera tenants drift: every page of GET /admin/drift', () => {
  it('follows nextToken to the last page with the status on every call, and prints every row sorted by id', async () => {
    const { call, out } = await run(['--status', 'DRIFTED'], {
      '': { tenants: [row('zeta', 'DRIFTED')], nextToken: 't1' }, t1: { tenants: [], nextToken: 't2' }, t2: { tenants: [row('acme', 'DRIFTED')] },
    });
    expect(call.mock.calls.map((c) => [c[1], c[3]])).toEqual([
      ['/admin/drift', { status: 'DRIFTED', nextToken: undefined }], ['/admin/drift', { status: 'DRIFTED', nextToken: 't1' }], ['/admin/drift', { status: 'DRIFTED', nextToken: 't2' }],
    ]);
    expect(out.indexOf('acme')).toBeLessThan(out.indexOf('zeta'));
    expect(out).toContain('2 of 2 tenants drifted');
  });

  it('--json prints the rows of every page as one array', async () => {
    const { out } = await run(['--json'], { '': { tenants: [row('mango')], nextToken: 'a' }, a: { tenants: [row('acme')] } });
    expect(JSON.parse(out).map((r: DriftRow) => r.tenantId)).toEqual(['acme', 'mango']);
  });

  it('stops with an error when the API hands back a token it handed before (a loop of pages)', async () => {
    await expect(run([], { '': { tenants: [row('acme')], nextToken: 'a' }, a: { tenants: [], nextToken: 'a' } })).rejects.toThrow(/GET \/admin\/drift answered the nextToken it was sent \(a\); the list would never end/);
  });
});

/**
 * Found in s23: `tessera tenants drift [<id>]` only showed what the daily workflow recorded; an operator who fixed a drift by
 * hand waited for 03:00 UTC. `--detect` starts a check now through POST /admin/drift.
 */
describe('tessera tenants drift --detect: a check now', () => {
  const started = (tenantId?: string) => ({
    executionArn: `arn:aws:states:us-east-1:222222222222:execution:tessera-drift:${tenantId ? `drift-${tenantId}` : 'drift_all'}-20261204T1335`,
    startDate: '2026-12-04T13:36:01.000Z', ...(tenantId ? { tenantId } : {}),
  });
  const detect = (args: string[], answer: unknown) => runDrift(args, () => answer);

  it('--detect acme: POST /admin/drift { tenantId }, prints the execution, how to follow it and the command that reads the result', async () => {
    const { call, out } = await detect(['acme', '--detect'], started('acme'));
    expect(call.mock.calls.map((c) => [c[0], c[1], c[2]])).toEqual([['POST', '/admin/drift', { tenantId: 'acme' }]]);
    expect(out).toBe([
      'drift check of tenant acme started 2026-12-04T13:36:01.000Z: execution arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261204T1335',
      'follow it: aws stepfunctions describe-execution --execution-arn arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261204T1335 --region us-east-1',
      'read the result when it has ended (a few minutes: DetectStackDrift on each stack): tessera tenants drift acme',
      '',
    ].join('\n'));
  });

  it('--detect without an id: every ACTIVE tenant (body {}); --json prints the answer', async () => {
    const { call, out } = await detect(['--detect'], started());
    expect(call.mock.calls[0]!.slice(0, 3)).toEqual(['POST', '/admin/drift', {}]);
    expect(out).toMatch(/^drift check of every ACTIVE tenant started .*\n.*\nread the result .*: tessera tenants drift\n$/);
    vi.restoreAllMocks();
    expect(JSON.parse((await detect(['--json', 'acme', '--detect'], started('acme'))).out)).toEqual(started('acme'));
  });

  it('refuses --detect with --status before any call (exit 2)', async () => {
    const call = vi.spyOn(AdminClient.prototype, 'call');
    await expect(new Command().addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', '--detect', '--status', 'DRIFTED'])).rejects.toThrow(/^--detect with --status DRIFTED: .*leave out --status/);
    expect(call).not.toHaveBeenCalled();
  });
});
