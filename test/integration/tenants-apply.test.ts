import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTenant, updateTenant } from '../../lambdas/shared/registry.js';
import { AdminClient } from '../../lib/cli/admin-client.js';
import { allTenants } from '../../lib/cli/all-tenants.js';
import { platformTierList } from '../../lib/cli/platform-tiers-client.js';
import { planApply, runPlan, type StepResult } from '../../lib/cli/tenants-apply-command.js';
import { tempDir } from '../support/temp-dirs.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTesseraInProcess } from './support/tessera-cli.js';

let platform: LocalPlatform;
beforeAll(async () => {
  // With `business` (professional's network under another name): a tier a professional tenant moves to without a migration (s42).
  platform = await LocalPlatform.start(configWithBusinessTier());
});
afterAll(async () => platform?.stop());

const dir = tempDir('tenants-apply-it-');

/** s23: `tessera tenants apply` on the moto control plane: the file onboards once; the same file again changes nothing. s25: the exit codes a pipeline reads (--detailed-exitcode). */
describe('tessera tenants apply on moto', () => {
  it('dry run changes nothing; apply onboards; the same file again is unchanged and starts no second onboarding', async () => {
    const file = join(dir, 'tenants.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: applyco, name: Apply Co, tier: starter, adminEmail: ops@applyco.example.com }\n');
    const dry = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file, '--dry-run');
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    expect(dry.stdout).toMatch(/ {2}create {7}applyco {2}tier starter, request apply-applyco-[0-9a-f]{12}\n/);
    expect(await getTenant('applyco')).toBeUndefined();
    const applied = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toMatch(/applyco: onboarding started, execution arn:aws:states:us-east-1:\d{12}:execution:tessera-onboard:onboard-applyco-/);
    await platform.settle();
    expect((await getTenant('applyco'))?.status).toBe('ACTIVE');
    expect((await getTenant('applyco'))?.requestId).toMatch(/^apply-applyco-[0-9a-f]{12}$/);
    const again = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('  unchanged    applyco  tier starter (ACTIVE)');
    expect(again.stdout).toContain('nothing to change: the registry is as the file says');
    expect([...platform.executions.keys()].filter((k) => k.includes(':tessera-onboard:onboard-applyco-'))).toHaveLength(1);
  });

  it('s24: a tier the platform lacks is refused before anything changes (GET /admin/tiers of the local platform): the entry before it is not onboarded', async () => {
    const file = join(dir, 'gold.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: firstco, name: First Co, tier: starter, adminEmail: ops@firstco.example.com }\n  - { tenantId: goldco, name: Gold Co, tier: gold, adminEmail: ops@goldco.example.com }\n');
    const out = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tenants\\[1\\]\\.tier = "gold": does not exist \\(tiers: starter, `));
    expect(await getTenant('firstco')).toBeUndefined();
  });

  it('s42: two applies planned on the same registry race: the first one\'s tier change starts, the second is refused 412 naming that change, and nothing of it is started or written', async () => {
    const file = join(dir, 'race.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: raceco, name: Race Co, tier: professional, adminEmail: ops@raceco.example.com }\n');
    expect((await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file)).code).toBe(0);
    await platform.settle();
    expect((await getTenant('raceco'))?.status).toBe('ACTIVE');
    // GIVEN two operators' applies (another name in the second file: another request, another Idempotency-Key) planned on
    // one read of the registry, as each run of tessera tenants apply plans before it applies
    if (!process.env.AWS_ACCESS_KEY_ID) Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'cli', AWS_SECRET_ACCESS_KEY: 'cli' });
    const api = new AdminClient(platform.apiUrl, 'us-east-1');
    const etags = new Map<string, string>();
    const registry = await allTenants(api, {}, undefined, etags);
    const tiers = await platformTierList(api);
    const { migrationRefusal } = await import('../../lambdas/lifecycle/tier-migration.js');
    const plan = (name: string) => planApply([{ tenantId: 'raceco', name, tier: 'business', adminEmail: 'ops@raceco.example.com' }], registry, tiers, migrationRefusal, etags);
    const [first, second] = [plan('Race Co'), plan('Race Co (ops B)')];
    expect(first[0]).toMatchObject({ action: 'update tier', from: 'professional', ifMatch: etags.get('raceco') });
    expect(second[0]).toMatchObject({ action: 'update tier', from: 'professional', ifMatch: etags.get('raceco') });
    // WHEN both run, the first one first
    const [a, b]: StepResult[][] = [[], []];
    await runPlan(api, first, a);
    const afterFirst = await getTenant('raceco');
    await runPlan(api, second, b);
    // THEN the second is a 412 naming the first one's change, and the registry is as the first left it
    expect(a).toMatchObject([{ tenantId: 'raceco', action: 'update tier', ok: true, executionArn: expect.stringContaining(':execution:tessera-change:change-raceco-') }]);
    expect(b).toMatchObject([{ tenantId: 'raceco', action: 'update tier', ok: false }]);
    expect(b[0]!.error).toMatch(/^412 If-Match: "[0-9a-z.]+" is stale: tenant "raceco" has changed since that ETag; it is now tier "professional", blueprintVersion "[^"]+", status UPDATING, a change running \(execution arn:aws:states:us-east-1:\d{12}:execution:tessera-change:change-raceco-/);
    expect(b[0]!.error).toContain(`change {"tier":"business"} by admin:`);
    // nothing of the second written (the first's change runs on meanwhile: its step and updatedAt may move, nothing else in this window)
    const { currentStep: _stepNow, updatedAt: _atNow, ...now } = (await getTenant('raceco'))!;
    const { currentStep: _stepThen, updatedAt: _atThen, ...then } = afterFirst!;
    expect(now).toEqual(then);
    expect(JSON.stringify(now)).not.toContain('ops B');
    expect([...platform.executions.keys()].filter((k) => k.includes(':tessera-change:change-raceco-'))).toEqual([a[0]!.executionArn]);
    await platform.settle();
    expect(await getTenant('raceco')).toMatchObject({ status: 'ACTIVE', tier: 'business' });
  });

  it('s25: --detailed-exitcode tells a pipeline changes pending (2) from nothing to do (0): apply --dry-run, apply, and drift of the tenant it made', async () => {
    const file = join(dir, 'gitops.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: gitopsco, name: GitOps Co, tier: starter, adminEmail: ops@gitopsco.example.com }\n');
    const tessera = (...args: string[]) => runTesseraInProcess(platform.apiUrl, ...args);
    const plan = await tessera('tenants', 'apply', '-f', file, '--dry-run', '--detailed-exitcode');
    expect([plan.code, plan.stderr]).toEqual([2, '']);
    expect(plan.stdout).toMatch(/\nexit 2 \(--detailed-exitcode\): changes pending: 1 to create, 0 to change tier, 0 to change tags\n$/);
    const applied = await tessera('--json', 'tenants', 'apply', '-f', file, '--detailed-exitcode');
    expect(applied.code).toBe(2);
    expect(JSON.parse(applied.stdout)).toMatchObject({ exitCode: 2, changes: [{ tenantId: 'gitopsco', action: 'create' }] });
    await platform.settle();
    expect((await getTenant('gitopsco'))?.status).toBe('ACTIVE');
    const again = await tessera('tenants', 'apply', '-f', file, '--dry-run', '--detailed-exitcode');
    expect(again.code).toBe(0);
    // ACTIVE and never checked: its drift is unknown (2) until a check records it IN_SYNC (0); DRIFTED is 2 again.
    const unchecked = await tessera('tenants', 'drift', 'gitopsco', '--detailed-exitcode');
    expect([unchecked.code, unchecked.stderr]).toEqual([2, '']);
    expect(unchecked.stdout).toContain('exit 2 (--detailed-exitcode): drift or drift unknown: gitopsco NOT_CHECKED (ACTIVE, not checked yet)');
    const check = (status: 'IN_SYNC' | 'DRIFTED') => updateTenant('gitopsco', { drift: {
      status, checkedAt: '2026-12-05T03:01:00.000Z', stacks: [{ stack: 'tessera-gitopsco', status, detectionId: 'det-1' }],
      resources: status === 'IN_SYNC' ? [] : [{ stack: 'tessera-gitopsco', logicalId: 'Database', type: 'AWS::RDS::DBInstance', status: 'MODIFIED', differences: [{ path: '/BackupRetentionPeriod', type: 'NOT_EQUAL' }] }],
    } }, { holder: null });
    await check('IN_SYNC');
    expect((await tessera('tenants', 'drift', 'gitopsco', '--detailed-exitcode')).code).toBe(0);
    expect((await tessera('tenants', 'drift', '--status', 'IN_SYNC', '--detailed-exitcode')).code).toBe(0);
    await check('DRIFTED');
    const drifted = await tessera('--json', 'tenants', 'drift', '--status', 'DRIFTED', '--detailed-exitcode');
    expect(drifted.code).toBe(2);
    expect(JSON.parse(drifted.stdout).driftOrUnknown).toEqual([{ tenantId: 'gitopsco', status: 'ACTIVE', drift: 'DRIFTED', why: 'drifted' }]);
  });
});
