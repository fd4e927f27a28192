import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdminApiError, AdminClient } from '../../../lib/cli/admin-client.js';
import { asksDetailedExitcode, driftOrUnknown } from '../../../lib/cli/detailed-exitcode.js';
import type { DriftRecord } from '../../../lib/tenant-record.js';
import type { DriftRow } from '../../../lib/tenant-list-page.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * s25: a platform engineer runs `tessera tenants apply --dry-run -f tenants.yaml` in CI (as `terraform plan
 * -detailed-exitcode`) and `tessera tenants drift` on a schedule. Both exited 0 with changes pending or tenants DRIFTED /
 * UNKNOWN, so a pipeline could not tell "nothing to do" from "changes pending". `--detailed-exitcode` gives Terraform's
 * codes: 0 nothing to do, 1 error, 2 changes / drift or unknown drift; --json says the same. The admin client is mocked
 * (AdminClient.prototype.call); the runs go through the real program (runTesseraProgram), which makes the exit code.
 */
const API = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
const dir = tempDir('detailed-exitcode-');
const tessera = (...args: string[]) => runTesseraInProcess(API, ...args);

const TIERS = { tiers: [{ name: 'starter', isolation: 'vpc', drRegion: null }, { name: 'pro', isolation: 'vpc', drRegion: null }] };
const record = (tenantId: string, tier: string, status = 'ACTIVE', extra: Record<string, unknown> = {}) => ({
  tenantId, name: `${tenantId} name`, tier, adminEmail: `ops@${tenantId}.example`, status, isolation: 'vpc', requestId: `cli-${tenantId}-req`,
  createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
});
const entry = (tenantId: string, tier: string, name = `${tenantId} name`) => `  - { tenantId: ${tenantId}, name: ${name}, tier: ${tier}, adminEmail: ops@${tenantId}.example }\n`;
function file(name: string, ...entries: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `tenants:\n${entries.join('')}`);
  return path;
}

/** The admin API: the registry's tenants, the drift rows / one tenant's drift, and what POST and PATCH answer. */
let registry: unknown[] = [];
let driftRows: DriftRow[] = [];
let tenantDrift: Record<string, { tenantId: string; status: string; drift?: DriftRecord }> = {};
let refuse: Record<string, AdminApiError> = {};
let call: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  registry = [record('acme', 'starter')];
  driftRows = [];
  tenantDrift = {};
  refuse = {};
  call = vi.spyOn(AdminClient.prototype, 'call').mockImplementation(async (method: string, path: string) => {
    if (method === 'GET' && path === '/admin/tenants') return { tenants: registry };
    if (method === 'GET' && path === '/admin/tiers') return TIERS;
    if (method === 'GET' && path === '/admin/drift') return { tenants: driftRows };
    const drift = /^\/admin\/tenants\/([^/]+)\/drift$/.exec(path);
    if (method === 'GET' && drift) return tenantDrift[drift[1]!];
    if (method === 'GET' && path.startsWith('/admin/tenants/')) return { executions: [] };
    const id = method === 'POST' ? 'POST' : path.split('/').pop()!;
    if (refuse[id]) throw refuse[id];
    return { executionArn: `arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:${id}`, status: 'REQUESTED' };
  }) as never;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const sent = () => call.mock.calls.filter((c: unknown[]) => c[0] !== 'GET').map((c: unknown[]) => `${String(c[0])} ${String(c[1])}`);
const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1);

describe('tessera tenants apply --dry-run --detailed-exitcode: 0 nothing to change, 2 changes pending, 1 error', () => {
  it('2 when the plan creates a tenant or changes a tier (it exited 0); the last line says why; nothing is sent', async () => {
    const path = file('pending.yaml', entry('acme', 'pro'), entry('newco', 'starter'));
    const before = await tessera('tenants', 'apply', '-f', path, '--dry-run');
    expect(before.code).toBe(0); // without the flag, as before
    const out = await tessera('tenants', 'apply', '-f', path, '--dry-run', '--detailed-exitcode');
    expect([out.code, out.stderr]).toEqual([2, '']);
    expect(lastLine(out.stdout)).toBe('exit 2 (--detailed-exitcode): changes pending: 1 to create, 1 to change tier, 0 to change tags');
    expect(sent()).toEqual([]);
  });

  it('0 when nothing would change: a name that differs (drift) and a tenant left out of the file are reported, not counted', async () => {
    registry = [record('acme', 'starter'), record('gone', 'starter')];
    const out = await tessera('tenants', 'apply', '-f', file('same.yaml', entry('acme', 'starter', 'Acme Renamed')), '--dry-run', '--detailed-exitcode');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('  drift        acme  name: file "Acme Renamed"');
    expect(out.stdout).toContain('  not in file  gone');
    expect(lastLine(out.stdout)).toBe('exit 0 (--detailed-exitcode): nothing to change');
  });

  it('1 when an entry cannot be applied, even beside changes (as without the flag)', async () => {
    registry = [record('acme', 'starter', 'OFFBOARDED')];
    const out = await tessera('tenants', 'apply', '-f', file('cannot.yaml', entry('acme', 'starter'), entry('newco', 'starter')), '--dry-run', '--detailed-exitcode');
    expect(out.code).toBe(1);
    expect(lastLine(out.stdout)).toBe('exit 1 (--detailed-exitcode): 1 cannot be applied');
  });

  it('--json: the same exit code, and the object says it with the changes it counted', async () => {
    const pending = await tessera('--json', 'tenants', 'apply', '-f', file('j.yaml', entry('acme', 'starter'), entry('newco', 'starter')), '--dry-run', '--detailed-exitcode');
    expect(pending.code).toBe(2);
    expect(JSON.parse(pending.stdout)).toMatchObject({ dryRun: true, results: [], exitCode: 2, changes: [{ tenantId: 'newco', action: 'create' }] });
    const none = await tessera('--json', 'tenants', 'apply', '-f', file('j0.yaml', entry('acme', 'starter')), '--dry-run', '--detailed-exitcode');
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({ exitCode: 0, changes: [] });
    // Without the flag the object is as before (no exitCode, no changes).
    const plain = JSON.parse((await tessera('--json', 'tenants', 'apply', '-f', file('j.yaml', entry('acme', 'starter'), entry('newco', 'starter')), '--dry-run')).stdout);
    expect(Object.keys(plain)).toEqual(['dryRun', 'plan', 'results']);
  });

  it('every error exits 1, never 2 (2 would read as changes): an invalid file, an unknown option, no admin API URL', async () => {
    const bad = file('bad.yaml', entry('Acme', 'starter'));
    expect((await tessera('tenants', 'apply', '-f', bad, '--dry-run')).code).toBe(2); // without the flag, as before
    const invalid = await tessera('--json', 'tenants', 'apply', '-f', bad, '--dry-run', '--detailed-exitcode');
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ exitCode: 1, error: { exitCode: 1, problems: [expect.stringContaining('tenants[0].tenantId = "Acme"')] } });
    // The error itself on stderr, as every --json failure (lib/cli/json-error.ts): one line of JSON, the file's problems listed.
    expect(JSON.parse(invalid.stderr)).toMatchObject({ error: { type: 'usage_error', code: 'invalid_tenants_file', problems: [expect.stringContaining('tenants[0].tenantId = "Acme"')] } });
    const typo = await tessera('tenants', 'apply', '-f', bad, '--dry-rn', '--detailed-exitcode');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^error: unknown option '--dry-rn' \(Did you mean --dry-run\?\)/);
    const saved = process.env.TESSERA_API_URL;
    const noUrl = await runTesseraInProcess('', 'tenants', 'apply', '-f', file('ok.yaml', entry('acme', 'starter')), '--dry-run', '--detailed-exitcode').finally(() => { process.env.TESSERA_API_URL = saved; });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/^error: no admin API URL/);
  });
});

describe('tessera tenants apply --detailed-exitcode without --dry-run: 2 when it changed something', () => {
  it('2 when an action started (0 without the flag), 0 when there was nothing to change, 1 when an action failed', async () => {
    const path = file('run.yaml', entry('acme', 'starter'), entry('newco', 'starter'));
    expect((await tessera('tenants', 'apply', '-f', path)).code).toBe(0); // without the flag, as before
    const changed = await tessera('tenants', 'apply', '-f', path, '--detailed-exitcode');
    expect(changed.code).toBe(2);
    expect(sent()).toEqual(['POST /admin/tenants', 'POST /admin/tenants']);
    expect(lastLine(changed.stdout)).toBe('exit 2 (--detailed-exitcode): changed: 1 onboarding(s), 0 tier change(s), 0 tags change(s) started');
    const json = await tessera('--json', 'tenants', 'apply', '-f', path, '--detailed-exitcode');
    expect([json.code, JSON.parse(json.stdout).exitCode, JSON.parse(json.stdout).changes]).toEqual([2, 2, [{ tenantId: 'newco', action: 'create' }]]);

    registry = [record('acme', 'starter'), record('newco', 'starter')];
    const same = await tessera('tenants', 'apply', '-f', path, '--detailed-exitcode');
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('nothing to change: the registry is as the file says\nexit 0 (--detailed-exitcode): nothing to change\n');

    registry = [record('acme', 'starter')];
    refuse = { POST: new AdminApiError(409, 'tenant id "newco" is already registered (status ONBOARDING)', 'tenant_exists', 'tenantId') };
    const failed = await tessera('tenants', 'apply', '-f', path, '--detailed-exitcode');
    expect(failed.code).toBe(1);
    expect(lastLine(failed.stdout)).toBe('exit 1 (--detailed-exitcode): 1 failed or could not be applied');
  });
});

describe('tessera tenants drift --detailed-exitcode: 0 no drift, 2 drift or unknown drift status, 1 error', () => {
  const row = (tenantId: string, drift: DriftRow['drift'], status = 'ACTIVE', failedCheck?: DriftRow['failedCheck']): DriftRow => ({
    tenantId, tier: 'starter', status, drift, driftedResources: drift === 'DRIFTED' ? 1 : 0, ...(drift === 'NOT_CHECKED' ? {} : { checkedAt: '2026-12-04T03:01:00.000Z' }), ...(failedCheck ? { failedCheck } : {}),
  });
  const failedCheck = { at: '2026-12-05T03:01:00.000Z', error: 'Throttling: Rate exceeded' };

  it('which statuses count: DRIFTED and UNKNOWN of any tenant, NOT_CHECKED of an ACTIVE one, a failed latest check; not IN_SYNC, not NOT_CHECKED of a tenant drift is not checked on', () => {
    const rows = [
      row('a-drifted', 'DRIFTED', 'SUSPENDED'), row('b-unknown', 'UNKNOWN'), row('c-new', 'NOT_CHECKED'), row('d-failed', 'IN_SYNC', 'ACTIVE', failedCheck),
      row('e-sync', 'IN_SYNC'), row('f-onboarding', 'NOT_CHECKED', 'ONBOARDING'), row('g-failed-onboarding', 'NOT_CHECKED', 'FAILED'), row('h-suspended', 'NOT_CHECKED', 'SUSPENDED'),
    ];
    expect(driftOrUnknown(rows)).toEqual([
      { tenantId: 'a-drifted', status: 'SUSPENDED', drift: 'DRIFTED', why: 'drifted' },
      { tenantId: 'b-unknown', status: 'ACTIVE', drift: 'UNKNOWN', why: 'the check could not say' },
      { tenantId: 'c-new', status: 'ACTIVE', drift: 'NOT_CHECKED', why: 'ACTIVE, not checked yet' },
      { tenantId: 'd-failed', status: 'ACTIVE', drift: 'IN_SYNC', why: 'its latest check, at 2026-12-05T03:01:00.000Z, failed: drift unknown since' },
    ]);
    expect(driftOrUnknown([row('x', 'DRIFTED', 'ACTIVE', failedCheck)])[0]!.why).toBe('drifted; its latest check, at 2026-12-05T03:01:00.000Z, failed');
  });

  it('the list: 2 with a tenant DRIFTED, UNKNOWN or ACTIVE and NOT_CHECKED (each exited 0), 0 when every tenant counted is IN_SYNC', async () => {
    for (const [rows, code] of [
      [[row('acme', 'IN_SYNC'), row('beta', 'DRIFTED')], 2],
      [[row('acme', 'IN_SYNC'), row('beta', 'UNKNOWN')], 2],
      [[row('acme', 'IN_SYNC'), row('beta', 'NOT_CHECKED')], 2],
      [[row('acme', 'IN_SYNC', 'ACTIVE', failedCheck)], 2],
      [[row('acme', 'IN_SYNC'), row('beta', 'NOT_CHECKED', 'FAILED')], 0],
      [[], 0],
    ] as Array<[DriftRow[], number]>) {
      driftRows = rows;
      expect((await tessera('tenants', 'drift')).code, JSON.stringify(rows)).toBe(0); // without the flag, as before
      const out = await tessera('tenants', 'drift', '--detailed-exitcode');
      expect([out.code, out.stderr], JSON.stringify(rows)).toEqual([code, '']);
    }
    driftRows = [row('acme', 'IN_SYNC'), row('beta', 'DRIFTED'), row('gamma', 'NOT_CHECKED', 'FAILED')];
    expect(lastLine((await tessera('tenants', 'drift', '--detailed-exitcode')).stdout)).toBe('exit 2 (--detailed-exitcode): drift or drift unknown: beta DRIFTED (drifted)');
    driftRows = [row('acme', 'IN_SYNC'), row('gamma', 'NOT_CHECKED', 'FAILED')];
    expect(lastLine((await tessera('tenants', 'drift', '--detailed-exitcode')).stdout)).toBe('exit 0 (--detailed-exitcode): no drift among the 2 tenants listed');
  });

  it('--json: the same exit code; the list becomes { tenants, exitCode, driftOrUnknown } (an array without the flag)', async () => {
    driftRows = [row('acme', 'IN_SYNC'), row('beta', 'UNKNOWN')];
    const out = await tessera('--json', 'tenants', 'drift', '--detailed-exitcode');
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({ tenants: driftRows, exitCode: 2, driftOrUnknown: [{ tenantId: 'beta', status: 'ACTIVE', drift: 'UNKNOWN', why: 'the check could not say' }] });
    expect(JSON.parse((await tessera('--json', 'tenants', 'drift')).stdout)).toEqual(driftRows);
    driftRows = [row('acme', 'IN_SYNC')];
    const none = await tessera('--json', 'tenants', 'drift', '--detailed-exitcode');
    expect([none.code, JSON.parse(none.stdout).exitCode, JSON.parse(none.stdout).driftOrUnknown]).toEqual([0, 0, []]);
  });

  it('with --status, of the tenants listed', async () => {
    driftRows = [row('acme', 'IN_SYNC')]; // what the API answers for ?status=IN_SYNC
    expect((await tessera('tenants', 'drift', '--status', 'IN_SYNC', '--detailed-exitcode')).code).toBe(0);
    expect(call.mock.calls.at(-1)![3]).toMatchObject({ status: 'IN_SYNC' });
  });

  it('one tenant: 2 when DRIFTED or ACTIVE and never checked, 0 when IN_SYNC; --json adds exitCode and driftOrUnknown to the answer', async () => {
    const checked = (status: DriftRecord['status']): DriftRecord => ({ status, checkedAt: '2026-12-04T03:01:00.000Z', stacks: [{ stack: 'tessera-acme', status }], resources: [] } as unknown as DriftRecord);
    tenantDrift = { acme: { tenantId: 'acme', status: 'ACTIVE', drift: checked('DRIFTED') }, beta: { tenantId: 'beta', status: 'ACTIVE' }, gamma: { tenantId: 'gamma', status: 'ACTIVE', drift: checked('IN_SYNC') } };
    const acme = await tessera('tenants', 'drift', 'acme', '--detailed-exitcode');
    expect(acme.code).toBe(2);
    expect(acme.stdout).toMatch(/^tenant acme: DRIFTED \(checked /);
    expect(lastLine(acme.stdout)).toBe('exit 2 (--detailed-exitcode): drift or drift unknown: acme DRIFTED (drifted)');
    expect((await tessera('tenants', 'drift', 'acme')).code).toBe(0); // without the flag, as before
    const beta = await tessera('tenants', 'drift', 'beta', '--detailed-exitcode');
    expect(beta.code).toBe(2);
    expect(lastLine(beta.stdout)).toBe('exit 2 (--detailed-exitcode): drift or drift unknown: beta NOT_CHECKED (ACTIVE, not checked yet)');
    const gamma = await tessera('--json', 'tenants', 'drift', 'gamma', '--detailed-exitcode');
    expect(gamma.code).toBe(0);
    expect(JSON.parse(gamma.stdout)).toEqual({ ...tenantDrift.gamma, exitCode: 0, driftOrUnknown: [] });
  });

  it('one OFFBOARDED tenant whose last record says DRIFTED: 0 (its stacks are deleted, and no check will replace that record)', async () => {
    const drifted = { status: 'DRIFTED', checkedAt: '2026-12-04T03:01:00.000Z', stacks: [{ stack: 'tessera-gone', status: 'DRIFTED' }], resources: [] } as unknown as DriftRecord;
    tenantDrift = { gone: { tenantId: 'gone', status: 'OFFBOARDED', drift: drifted } };
    const out = await tessera('--json', 'tenants', 'drift', 'gone', '--detailed-exitcode');
    expect([out.code, JSON.parse(out.stdout).exitCode, JSON.parse(out.stdout).driftOrUnknown]).toEqual([0, 0, []]);
    expect(driftOrUnknown([{ tenantId: 'gone', status: 'OFFBOARDED', drift: 'UNKNOWN', failedCheck: { at: '2026-12-05T03:01:00.000Z', error: 'Throttling' } }])).toEqual([]);
  });

  it('refuses --detect with it before any call, exit 1 (a usage error is 1 under the flag)', async () => {
    const out = await tessera('tenants', 'drift', '--detect', 'acme', '--detailed-exitcode');
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('error: --detect with --detailed-exitcode: --detect starts a check and has no result yet; once it has ended (a few minutes), tessera tenants drift acme --detailed-exitcode exits by its result\n');
    expect(call).not.toHaveBeenCalled();
  });

  it('an error of the admin API exits 1', async () => {
    call.mockRejectedValueOnce(new AdminApiError(403, 'User: arn:aws:sts::111122223333:assumed-role/dev/x is not authorized to perform: execute-api:Invoke', undefined, undefined, 1));
    const out = await tessera('tenants', 'drift', '--detailed-exitcode');
    expect(out.code).toBe(1);
  });
});

describe('asksDetailedExitcode: read from the arguments, so commander\'s own refusals exit 1 too', () => {
  it('the flag before a `--` only', () => {
    expect(asksDetailedExitcode(['tenants', 'drift', '--detailed-exitcode'])).toBe(true);
    expect(asksDetailedExitcode(['tenants', 'drift', '--', '--detailed-exitcode'])).toBe(false);
    expect(asksDetailedExitcode(['tenants', 'drift'])).toBe(false);
  });
});
