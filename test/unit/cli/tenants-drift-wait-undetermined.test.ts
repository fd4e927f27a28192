import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * `tessera tenants drift --detect --wait` whose run SUCCEEDED but whose check could not say (the detection failed: the
 * drift workflow's Catch records the tenant UNKNOWN with the error, or a failed check beside the earlier verdict) exited 0,
 * as a check that found the stacks in sync does: on the local platform (moto has no DetectStackDrift) every `--wait` did.
 * It exits 1 after the result, naming the tenants; a verdict (IN_SYNC, DRIFTED) still exits 0. The admin API is faked on loopback.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261206T0300';
const startDate = '2026-12-06T03:00:01.000Z';
const succeeded = { execution: { executionArn: ARN, status: 'SUCCEEDED', startDate, stopDate: '2026-12-06T03:00:09.000Z' } };
const said = "DetectStackDrift of tessera-acme: CloudFormation's endpoint 127.0.0.1:5000 (AWS_ENDPOINT_URL) answered HTTP 501 with a body that is not a CloudFormation answer";

/** What the tenant's drift and the list answer next. */
let tenantDrift: unknown;
let rows: unknown[] = [];
const admin = fakeAdminApi((req) => {
  if (req.method === 'POST') return { status: 202, body: { executionArn: ARN, startDate, ...(tenantDrift ? { tenantId: 'acme' } : {}) } };
  if (req.url!.startsWith('/v1/admin/drift?executionArn=')) return { status: 200, body: succeeded };
  if (req.url!.startsWith('/v1/admin/drift')) return { status: 200, body: { tenants: rows } };
  if (req.url === '/v1/admin/tenants/acme/drift') return { status: 200, body: tenantDrift };
  return { status: 200, body: { tenantId: 'acme', executions: [] } };
});

const undetermined = (whose: string, again: string) => `error: the drift check started ${startDate} could not say whether ${whose} drifted: the check failed or ended UNKNOWN (the reason is above); remove its cause, then tessera tenants drift --detect${again} --wait\n`;

describe('tenants drift --detect --wait: a check that could not say is no result (exit 1)', () => {
  it('one tenant recorded UNKNOWN with the detection\'s error by this run: the result, then exit 1 naming it', async () => {
    tenantDrift = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'UNKNOWN', checkedAt: '2026-12-06T03:00:05.000Z', stacks: [], resources: [], error: said } };
    const out = await runTesseraInProcess(admin.url, 'tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1');
    expect(out.stdout).toContain(`tenant acme: UNKNOWN (checked 2026-12-06T03:00:05.000Z)\n  error: ${said}\n`);
    expect(out.stderr).toBe(undetermined('tenant acme', ' acme'));
    expect(out.code).toBe(1);
  });

  it('one tenant whose check of this run failed beside an earlier IN_SYNC: exit 1; a DRIFTED verdict of the run: exit 0', async () => {
    tenantDrift = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'IN_SYNC', checkedAt: '2026-12-05T03:00:05.000Z', stacks: [], resources: [], failedCheck: { at: '2026-12-06T03:00:05.000Z', error: said } } };
    const failed = await runTesseraInProcess(admin.url, 'tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1');
    expect([failed.code, failed.stderr]).toEqual([1, undetermined('tenant acme', ' acme')]);
    tenantDrift = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'DRIFTED', checkedAt: '2026-12-06T03:00:05.000Z', stacks: [{ stack: 'tessera-acme', status: 'DRIFTED' }], resources: [] } };
    const drifted = await runTesseraInProcess(admin.url, 'tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1');
    expect([drifted.code, drifted.stderr]).toEqual([0, '']);
  });

  it('every tenant, --json: the NDJSON result, then exit 1 naming the tenant this run left UNKNOWN, not the one it found IN_SYNC', async () => {
    tenantDrift = undefined;
    rows = [
      { tenantId: 'acme', tier: 'starter', status: 'ACTIVE', drift: 'UNKNOWN', checkedAt: '2026-12-06T03:00:05.000Z', driftedResources: 0 },
      { tenantId: 'globex', tier: 'starter', status: 'ACTIVE', drift: 'IN_SYNC', checkedAt: '2026-12-06T03:00:06.000Z', driftedResources: 0 },
    ];
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'drift', '--detect', '--wait', '--interval', '0.1');
    expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { result?: unknown })[1]!.result).toEqual({ tenants: rows });
    // With --json the error is one JSON line on stderr (lib/cli/json-error.ts), its message the text line's.
    expect([out.code, JSON.parse(out.stderr)]).toEqual([1, { error: { message: undetermined('1 tenant (acme)', '').replace(/^error: /, '').trimEnd(), type: 'cli_error', code: 'drift_undetermined' } }]);
  });
});
