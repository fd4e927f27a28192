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
  /** `GET /admin/drift?executionArn=`'s answer: the run's execution, still running or ended. */
  const execution = (tenantId: string | undefined, status: string, more: Record<string, string> = {}) => ({ execution: {
    executionArn: started(tenantId).executionArn, status, startDate: started(tenantId).startDate, ...(status === 'RUNNING' ? {} : { stopDate: '2026-12-04T13:36:02.000Z' }), ...more,
  } });
  const running = (tenantId?: string) => execution(tenantId, 'RUNNING');

  it('--detect acme: POST /admin/drift { tenantId }, prints the execution, how to follow it and the command that reads the result', async () => {
    const { call, out } = await detect(['acme', '--detect'], started('acme'));
    expect(call.mock.calls.map((c) => [c[0], c[1], c[2]])).toEqual([['POST', '/admin/drift', { tenantId: 'acme' }]]);
    expect(out).toBe([
      'drift check of tenant acme started 2026-12-04T13:36:01.000Z: execution arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261204T1335',
      'read the result when it has ended (a few minutes: DetectStackDrift on each stack): tessera tenants drift acme (it has ended once that shows a check, or a failed check, at or after 2026-12-04T13:36:01.000Z)',
      'to follow a check to its end and print its result, start it with --detect --wait',
      '',
    ].join('\n'));
  });

  it('--detect without an id: every ACTIVE tenant (body {}); --json prints the answer', async () => {
    const { call, out } = await detect(['--detect'], started());
    expect(call.mock.calls[0]!.slice(0, 3)).toEqual(['POST', '/admin/drift', {}]);
    expect(out).toMatch(/^drift check of every ACTIVE tenant started .*\nread the result .*: tessera tenants drift \(it has ended .*\n.*--detect --wait\n$/);
    vi.restoreAllMocks();
    expect(JSON.parse((await detect(['--json', 'acme', '--detect'], started('acme'))).out)).toEqual(started('acme'));
  });

  /**
   * The follow hint was `aws stepfunctions describe-execution ...`, which on the local platform reaches real AWS,
   * not moto, and needs the AWS CLI. --wait follows the check through the admin API to its result.
   */
  const record = (checkedAt: string, failedAt?: string) => ({ tenantId: 'acme', status: 'ACTIVE', drift: {
    status: 'IN_SYNC', checkedAt, stacks: [{ stack: 'tessera-acme', status: 'IN_SYNC' }], resources: [], ...(failedAt ? { failedCheck: { at: failedAt, error: 'DetectStackDrift: Throttling' } } : {}),
  } });

  it('--detect --wait: polls GET /admin/tenants/acme/drift until a check at or after the start is recorded, then prints it', async () => {
    let polls = 0;
    const drifts = [record('2026-12-03T03:00:00.000Z'), record('2026-12-03T03:00:00.000Z'), record('2026-12-04T13:38:00.000Z')];
    const answer = (method: string, path: string) => (method === 'POST' ? started('acme') : path === '/admin/drift' ? running('acme') : path === '/admin/tenants/acme/drift' ? drifts[Math.min(polls++, 2)] : { executions: [] });
    const call = vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method, path) => answer(method, path));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
    await new Command().option('--json').addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1']);
    expect(call.mock.calls.map((c) => `${c[0]} ${c[1]}`)).toEqual(['POST /admin/drift', ...Array(3).fill(['GET /admin/drift', 'GET /admin/tenants/acme/drift']).flat(), 'GET /admin/tenants/acme']);
    expect(call.mock.calls[1]![3]).toEqual({ executionArn: started('acme').executionArn });
    expect(out.join('')).toBe([
      'drift check of tenant acme started 2026-12-04T13:36:01.000Z: execution arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261204T1335',
      'waiting for its result (a few minutes: DetectStackDrift on each stack)…',
      'tenant acme: IN_SYNC (checked 2026-12-04T13:38:00.000Z)',
      '  stack tessera-acme: IN_SYNC',
      '',
    ].join('\n'));
    expect(out.join('')).not.toContain('aws ');
  });

  it('--json --detect --wait: NDJSON, the start then { result }; a failed check after the start is its result, and no verdict (exit 1)', async () => {
    let polls = 0;
    const drifts = [record('2026-12-03T03:00:00.000Z'), record('2026-12-03T03:00:00.000Z', '2026-12-04T13:37:00.000Z')];
    vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method, path) => (method === 'POST' ? started('acme') : path === '/admin/drift' ? running('acme') : drifts[Math.min(polls++, 1)]));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
    await expect(new Command().option('--json').addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', '--json', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1']))
      .rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('could not say whether tenant acme drifted') });
    const lines = out.join('').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual([started('acme'), { result: drifts[1], ...running('acme') }]);
  });

  it('--detect --wait past --timeout: exit 1 naming the execution, what has no result and how to read it later', async () => {
    vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method, path, _body, query) => (method === 'POST' ? started() : query?.executionArn ? running() : path === '/admin/drift' ? { tenants: [row('acme'), { ...row('globex'), status: 'SUSPENDED' }] } : undefined));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
    await expect(new Command().addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', '--detect', '--wait', '--interval', '0.5', '--timeout', '1']))
      .rejects.toMatchObject({ exitCode: 1, message: 'the drift check started 2026-12-04T13:36:01.000Z (execution arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift_all-20261204T1335) has recorded no result for 1 ACTIVE tenant (acme) within --timeout 1 s; its execution is still RUNNING (DetectStackDrift takes minutes on a large stack): tessera tenants drift shows the registry\'s result once it has ended' });
  });

  /**
   * --wait read the registry only, so a run that failed before recording anything (here, at its listing of the
   * tenants) was waited for until --timeout (900 s by default) and then "timed out", its reason never shown.
   */
  describe('--wait follows the run\'s execution too (GET /admin/drift?executionArn=)', () => {
    /** `tessera tenants drift <args>` with the execution answering `exec` and the registry `registry(path)`; calls, stdout, the error and process.exitCode. */
    async function follow(args: string[], exec: unknown, registry: (path: string) => unknown) {
      const tenantId = args.find((a) => !a.startsWith('-') && !/^\d/.test(a));
      const call = vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method, path, _body, query) => {
        if (call.mock.calls.length > 20) throw new Error('called the admin API more than 20 times');
        return method === 'POST' ? started(tenantId) : query?.executionArn ? exec : registry(path);
      });
      const out: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
      vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
      const json = args[0] === '--json';
      const error = await new Command().option('--json').addCommand(tenantsDriftCommand())
        .parseAsync(['node', 'tessera', ...(json ? ['--json'] : []), 'drift', ...args.slice(json ? 1 : 0), '--detect', '--wait', '--interval', '0.1'])
        .then(() => undefined, (e: Error & { exitCode?: number }) => e);
      const exitCode = process.exitCode;
      process.exitCode = undefined;
      return { call, out: out.join(''), error, exitCode };
    }
    const list = { tenants: [{ ...row('acme'), checkedAt: '2026-12-03T03:00:00.000Z' }, { ...row('globex'), checkedAt: '2026-12-04T13:37:00.000Z' }] };

    it('an execution that ended FAILED stops the wait at once: exit 1 with its status, error and cause escaped, what the registry holds, and how to start again', async () => {
      const failed = execution(undefined, 'FAILED', { error: 'AccessDeniedException', cause: '{"errorMessage":"not authorized\r\n\u001b[2J"}' });
      const { call, out, error } = await follow([], failed, () => list);
      expect(call.mock.calls.map((c) => `${c[0]} ${c[1]}${c[3]?.executionArn ? '?executionArn' : ''}`)).toEqual(['POST /admin/drift', 'GET /admin/drift?executionArn', 'GET /admin/drift']);
      expect(out).toMatch(/\nwhat the registry holds after the run ended FAILED \(it may be partial\):\nTENANT .*\nacme .*\nglobex .*\n0 of 2 tenants drifted\n$/);
      expect(error).toMatchObject({ exitCode: 1, message: `the drift check started 2026-12-04T13:36:01.000Z (execution ${started().executionArn}) ended FAILED at 2026-12-04T13:36:02.000Z: `
        + 'error AccessDeniedException: cause {"errorMessage":"not authorized\\r\\n\\u001b[2J"}; it recorded no result for 1 ACTIVE tenant (acme); what the registry holds is printed above (partial); '
        + 'start a new check with tessera tenants drift --detect --wait (a start in the same 5-minute window as this one is refused with drift_check_exists, which says when one can start)' });
      expect(error!.message).not.toMatch(/[\r\n\u001b]/);
    });

    it('TIMED_OUT and ABORTED stop it too; --json: the last NDJSON line holds the registry, the execution and what was left unchecked', async () => {
      for (const status of ['TIMED_OUT', 'ABORTED']) {
        const ended = execution('acme', status, { cause: 'stopped' });
        const unchanged = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'IN_SYNC', checkedAt: '2026-12-03T03:00:00.000Z', stacks: [], resources: [] } };
        const { out, error } = await follow(['--json', 'acme'], ended, () => unchanged);
        expect(out.split('\n').slice(0, -1).map((l) => JSON.parse(l))).toEqual([started('acme'), { result: unchanged, ...ended, unchecked: ['acme'] }]);
        expect(error).toMatchObject({ exitCode: 1, message: expect.stringContaining(`ended ${status} at 2026-12-04T13:36:02.000Z: cause stopped; it recorded no result for tenant acme; start a new check with tessera tenants drift --detect acme --wait`) });
        vi.restoreAllMocks();
      }
    });

    it('an execution that ended SUCCEEDED without a check of a tenant prints the result and says so, not waiting for it (exit 0; exit 1 for the tenant named)', async () => {
      const { out, error, exitCode } = await follow([], execution(undefined, 'SUCCEEDED'), () => list);
      expect([error, exitCode]).toEqual([undefined, undefined]);
      expect(out).toMatch(/\n0 of 2 tenants drifted\nthe run ended SUCCEEDED at 2026-12-04T13:36:02.000Z without a check of 1 ACTIVE tenant \(acme\): the run checks the tenants ACTIVE when it started .*; what is shown for it is an earlier check\n$/);
      vi.restoreAllMocks();
      const one = await follow(['acme'], execution('acme', 'SUCCEEDED'), (path) => (path.endsWith('/drift') ? { tenantId: 'acme', status: 'ACTIVE' } : {}));
      expect([one.error, one.exitCode]).toEqual([undefined, 1]);
      expect(one.out).toContain('\ntenant acme: drift not checked yet');
      expect(one.out).toMatch(/\nthe run ended SUCCEEDED at \S+ without a check of tenant acme \(it was no longer ACTIVE when the run listed it\): what is shown is an earlier check\n$/);
    });

    it('an admin API without the execution\'s route (400 unknown_parameter executionArn) is followed by the registry alone', async () => {
      const { AdminApiError } = await import('../../../lib/cli/admin-api-errors.js');
      let polls = 0;
      const drifts = [list, { tenants: list.tenants.map((t) => ({ ...t, checkedAt: '2026-12-04T13:38:00.000Z' })) }];
      const call = vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method, _path, _body, query) => {
        if (method === 'POST') return started();
        if (query?.executionArn) throw new AdminApiError(400, 'unknown parameter', 'unknown_parameter', 'executionArn');
        return drifts[Math.min(polls++, 1)];
      });
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      vi.stubEnv('TESSERA_API_URL', 'https://abc.execute-api.us-east-1.amazonaws.com/prod');
      await new Command().addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', '--detect', '--wait', '--interval', '0.1']);
      expect(call.mock.calls.filter((c) => c[3]?.executionArn)).toHaveLength(1);
      expect(polls).toBe(2);
    });
  });

  it('refuses --wait without --detect before any call (exit 2)', async () => {
    const call = vi.spyOn(AdminClient.prototype, 'call');
    await expect(new Command().addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', 'acme', '--wait'])).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^--wait without --detect: /) });
    expect(call).not.toHaveBeenCalled();
  });

  it('refuses --detect with --status before any call (exit 2)', async () => {
    const call = vi.spyOn(AdminClient.prototype, 'call');
    await expect(new Command().addCommand(tenantsDriftCommand()).parseAsync(['node', 'tessera', 'drift', '--detect', '--status', 'DRIFTED'])).rejects.toThrow(/^--detect with --status DRIFTED: .*leave out --status/);
    expect(call).not.toHaveBeenCalled();
  });
});
