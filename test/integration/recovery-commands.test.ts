import { CloudFormationClient, DeleteStackCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { TenantRecord } from '../../lib/tenant-record.js';
import { configWith } from '../support/config-with.js';
import { tempDir } from '../support/temp-dirs.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';

/**
 * `tessera tenants update <id> --repair`, `tessera tenants drift [--detect]` and `tessera tenants failover-plan`
 * run on the local platform (moto, the admin API, the state machines) in awkward states: what the CLI prints and exits
 * with, and what the registry holds afterwards.
 */
const starterb = structuredClone(DEFAULT_CONFIG.tiers.starter);
starterb.network.tenantCidrPool = '10.112.0.0/12';
const residency = structuredClone(DEFAULT_CONFIG.tiers.professional);
residency.network.tenantCidrPool = '10.128.0.0/12';
const DR_REGION = 'us-west-2';
/** A config with no placeholder (failover-plan refuses them), its DR tier professional, residency the same without DR. */
const overrides = {
  organization: { managementAccountId: '444455556666', organizationId: 'o-abcdefghij', rootId: 'r-abcd', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' },
  platformAccountId: '123456789012', workloadAccountId: '210987654321',
  fineTuning: { baseModels: DEFAULT_CONFIG.fineTuning.baseModels.map((m) => ({ ...m, weightsS3Uri: m.weightsS3Uri.replace(/\d{12}/g, '123456789012') })) },
  tiers: { starterb, residency, professional: { disasterRecovery: { region: DR_REGION, rpoHours: 4, rtoHours: 12 } } },
};
const CONFIG_FILE = join(tempDir('tessera-recovery-'), 'tessera.config.json');
writeFileSync(CONFIG_FILE, JSON.stringify(overrides));
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(configWith(overrides));
}, 120_000);
afterAll(async () => platform?.stop());

/**
 * The watches' poll interval (seconds): each poll is an admin API call in this process (the registry read, the
 * execution's history) while the workflow it follows runs beside it. 1 s, not the 0.2 s it was: about a fifth of the
 * polls, each watch ending at most a second after its execution (docs/performance-history.md, twenty-eighth pass).
 */
const POLL = '1';
const tessera = (...args: string[]) => runTesseraInProcess(platform.apiUrl, ...args);
const show = async (id: string) => JSON.parse((await tessera('--json', 'tenants', 'show', id)).stdout);
/** The registry record as stored: compared before and after a refusal (nothing in it may change). */
const snapshot = async (id: string) => getTenant(id);

async function onboard(id: string, tier = 'starter') {
  const run = await tessera('tenants', 'create', '--id', id, '--name', id, '--tier', tier, '--admin-email', `ops@${id}.example.com`, '--watch', '--interval', POLL);
  expect([run.code, run.stderr]).toEqual([0, '']);
  expect((await getTenant(id))?.status).toBe('ACTIVE');
}

describe('tessera tenants update <id> --repair in awkward states', () => {
  /**
   * Runs `update <id> --repair`, expects it refused (exit 1, `stderr`), and nothing changed: the record as it was, no
   * execution started. While another operation runs (`running`) it writes its steps: its lease, the history, the status and tier are compared.
   */
  async function refusedRepair(id: string, stderr: string | RegExp, running = false) {
    const held = (r: TenantRecord | undefined) => (running ? { lease: r?.lease, executions: r?.executions, status: r?.status, tier: r?.tier } : r);
    const before = held(await snapshot(id));
    const executions = platform.executions.size;
    const run = await tessera('tenants', 'update', id, '--repair');
    expect([run.code, run.stdout]).toEqual([1, '']);
    if (typeof stderr === 'string') expect(run.stderr).toBe(stderr); else expect(run.stderr).toMatch(stderr);
    expect(platform.executions.size).toBe(executions);
    expect(held(await snapshot(id))).toEqual(before);
  }

  it('a SUSPENDED tenant, a FAILED onboarding and an OFFBOARDED tenant: refused, invalid_status naming the status', async () => {
    await onboard('susp');
    expect((await tessera('tenants', 'suspend', 'susp', '--watch', '--interval', POLL)).code).toBe(0);
    await refusedRepair('susp', 'error: tenant "susp" is SUSPENDED, so a change cannot start: it starts only while the tenant is ACTIVE (invalid_status, field status)\n');
    expect(await show('susp')).toMatchObject({ status: 'SUSPENDED' });
    await putNewTenant(TenantRecord.parse({
      tenantId: 'failedco', name: 'Failed', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@failedco.example.com', status: 'FAILED',
      requestId: 'req-failedco-0001', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z',
      executions: [{ kind: 'onboard', requestId: 'req-failedco-0001', startedAt: '2026-12-01T00:00:00.000Z', status: 'FAILED' }],
    }));
    await refusedRepair('failedco', 'error: tenant "failedco" is FAILED, so a change cannot start: it starts only while the tenant is ACTIVE (invalid_status, field status)\n');
  }, 120_000);

  it('one being offboarded: refused naming the offboarding; once OFFBOARDED, refused naming the status', async () => {
    await onboard('offb');
    expect((await tessera('tenants', 'delete', 'offb', '--yes')).code).toBe(0);
    const offboarding = (await getTenant('offb'))!;
    expect(offboarding.status).toBe('OFFBOARDING');
    await refusedRepair('offb', `error: tenant "offb" is busy: offboard (execution ${offboarding.lease!.executionArn}, request ${offboarding.lease!.requestId}, since ${offboarding.lease!.acquiredAt}) is running; `
      + 'change is refused, now and after it: an offboarding ends OFFBOARDED, or fails OFFBOARDING and is resumed only by DELETE (or retry) (follow it with tessera tenants watch offb) (operation_in_progress, field id)\n', true);
    await platform.settle();
    await refusedRepair('offb', 'error: tenant "offb" is OFFBOARDED, so a change cannot start: an offboarded tenant is only kept to be read (tessera tenants show offb); to start again, onboard a new tenant under another id (ids are never reused) (invalid_status, field status)\n');
  }, 120_000);

  /** Holds every *Deploy blueprint* until `open()`: the operation that took the lease cannot end meanwhile (the machine's load never decides). */
  function holdDeploys() {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    platform.workflows.wrap = (name, handler) => (name === 'deploy-blueprint' ? async (event) => { await opened; return handler(event); } : handler);
    return () => { platform.workflows.wrap = undefined; open(); };
  }

  it('during a tier change: refused naming it; two repairs at once: one starts, the other is refused naming it', async () => {
    await onboard('busy');
    let release = holdDeploys();
    onTestFinished(() => release());
    const change = await tessera('tenants', 'update', 'busy', '--tier', 'starterb');
    expect(change.code).toBe(0);
    const lease = (await getTenant('busy'))!.lease!;
    expect(lease.kind).toBe('change');
    await refusedRepair('busy', `error: tenant "busy" is busy: change (execution ${lease.executionArn}, request ${lease.requestId}, since ${lease.acquiredAt}) is running; change is refused until it ends (follow it with tessera tenants watch busy) (operation_in_progress, field id)\n`, true);
    release();
    await platform.settle();
    expect(await show('busy')).toMatchObject({ status: 'ACTIVE', tier: 'starterb' });
    // two operators' shells at once (real processes), the one that starts held until both have answered
    release = holdDeploys();
    const runs = await Promise.all([1, 2].map(() => runTessera(platform.apiUrl, 'tenants', 'update', 'busy', '--repair')));
    const started = runs.filter((r) => r.code === 0);
    const refused = runs.filter((r) => r.code !== 0);
    expect([started.length, refused.length]).toEqual([1, 1]);
    const arn = started[0]!.stdout.match(/^execution (\S+)$/m)![1]!;
    const request = started[0]!.stdout.match(/— request (\S+)/)![1]!;
    expect(refused[0]!.code).toBe(1);
    expect(refused[0]!.stderr).toMatch(new RegExp(`^error: tenant "busy" is busy: change \\(execution ${arn}, request ${request}, since \\S+\\) is running; change is refused until it ends .* \\(operation_in_progress, field id\\)\\n$`));
    release();
    await platform.settle();
    const after = await show('busy');
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starterb' });
    expect(after.executions.map((e: { kind: string; status: string; requestId: string }) => [e.kind, e.status])).toEqual([['onboard', 'SUCCEEDED'], ['change', 'SUCCEEDED'], ['change', 'SUCCEEDED']]);
    expect(after.executions.at(-1)).toMatchObject({ requestId: request, change: { repair: true } });
  }, 180_000);

  it('a tenant whose stack was deleted by hand: the documented refusal, the tenant ACTIVE as it was, and next does not offer --repair again', async () => {
    await onboard('gone');
    const record = (await getTenant('gone'))!;
    const credentials = await platform.fixture.as(record.accountId!);
    // GIVEN someone turned off the database's deletion protection and the stack's termination protection, and deleted the stack
    const rds = clientWith(RDSClient, credentials, { region: 'us-east-1' });
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'tessera-gone', DeletionProtection: false, ApplyImmediately: true }));
    const cfn = clientWith(CloudFormationClient, credentials, { region: 'us-east-1' });
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: 'tessera-gone', EnableTerminationProtection: false }));
    await cfn.send(new DeleteStackCommand({ StackName: 'tessera-gone' }));
    // WHEN the operator repairs it
    const run = await tessera('tenants', 'update', 'gone', '--repair', '--watch', '--interval', POLL);
    // THEN refused (ChangeRefused) before any CreateStack, the tenant ACTIVE on its tier and version
    expect([run.code, run.stderr]).toEqual([1, '']);
    expect(run.stdout).toContain('failed at "Deploy blueprint": ChangeRefused: stack tessera-gone does not exist (deleted outside Tessera): a repair does not create a live tenant\'s stack again');
    const next = 'next: the tenant stays on its previous tier and version; running the change again (a repair too) is refused the same way while the stack is gone: '
      + 'restore the tenant\'s data stores from their backups and snapshots, or offboard the tenant: tessera tenants delete gone --yes (docs/resilience.md: Drift, Repairing it)\n';
    expect(run.stdout.endsWith(next)).toBe(true);
    const after = await show('gone');
    expect(after).toMatchObject({ status: 'ACTIVE', tier: record.tier, blueprintVersion: record.blueprintVersion, failure: { step: 'Deploy blueprint', kind: 'change' } });
    expect(after.lease).toBeUndefined();
    expect(after.executions.at(-1)).toMatchObject({ kind: 'change', status: 'FAILED', change: { repair: true } });
    expect((await tessera('tenants', 'show', 'gone')).stdout).toContain(`next        ${next.slice('next: '.length)}`);
  }, 120_000);
});

describe('tessera tenants drift', () => {
  it('--detect of a non-ACTIVE tenant is refused (exit 1) and starts nothing; --detect with --detailed-exitcode is a usage error (exit 1 under the flag)', async () => {
    const executions = platform.executions.size;
    for (const [id, status] of [['susp', 'SUSPENDED'], ['offb', 'OFFBOARDED'], ['failedco', 'FAILED']]) {
      const before = await snapshot(id!);
      const run = await tessera('tenants', 'drift', '--detect', id!);
      expect(run).toEqual({ code: 1, stdout: '', stderr: `error: tenant "${id}" is ${status}: drift is checked on ACTIVE tenants only (invalid_status, field tenantId)\n` });
      expect(await snapshot(id!)).toEqual(before);
    }
    const both = await tessera('tenants', 'drift', '--detect', 'busy', '--detailed-exitcode');
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/^error: --detect with --detailed-exitcode: --detect starts a check and has no result yet/);
    expect(platform.executions.size).toBe(executions);
  });

  it('--detect twice in the window: the first starts a check, the second is refused naming it', async () => {
    const first = await tessera('tenants', 'drift', '--detect', 'busy');
    expect([first.code, first.stderr]).toEqual([0, '']);
    const arn = first.stdout.match(/execution (\S+:execution:tessera-drift:drift-busy-\S+)$/m)![1]!;
    await platform.awaitExecution(arn);
    const second = await tessera('tenants', 'drift', '--detect', 'busy');
    // (should the 5-minute window have turned between the two, the second starts a check of its own)
    if (second.code === 0) return;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error: a drift check of tenant "busy" was already started in this 5-minute window and has ended SUCCEEDED at `);
    expect(second.stderr).toContain(`execution ${arn}; `);
  });

  it('without an id, some tenants never checked: --detailed-exitcode exits 2 for the ACTIVE ones only, 0 for a SUSPENDED one', async () => {
    const all = await tessera('tenants', 'drift', '--detailed-exitcode');
    expect([all.code, all.stderr]).toEqual([2, '']);
    expect(all.stdout).toMatch(/^failedco\s+starter\s+FAILED\s+NOT_CHECKED\s+0\s+never$/m);
    expect(all.stdout).toMatch(/^susp\s+starter\s+SUSPENDED\s+NOT_CHECKED\s+0\s+never$/m);
    expect(all.stdout).not.toMatch(/^offb\s/m);
    expect(all.stdout).toMatch(/^exit 2 \(--detailed-exitcode\): drift or drift unknown: .*gone NOT_CHECKED \(ACTIVE, not checked yet\)/m);
    expect(all.stdout).not.toMatch(/^exit 2 .*(susp|failedco) /m);
    const json = JSON.parse((await tessera('--json', 'tenants', 'drift', '--detailed-exitcode')).stdout);
    expect(json.exitCode).toBe(2);
    expect(json.driftOrUnknown.map((t: { tenantId: string }) => t.tenantId)).not.toContain('susp');
    const susp = await tessera('tenants', 'drift', 'susp', '--detailed-exitcode');
    expect([susp.code, susp.stdout]).toEqual([0, 'tenant susp: drift not checked yet (the drift workflow runs daily; ACTIVE tenants only; tessera tenants drift --detect susp checks now)\nexit 0 (--detailed-exitcode): no drift among the 1 tenant listed\n']);
  });
});

describe('tessera tenants failover-plan', () => {
  it('a DR tenant right after onboarding (no recovery points listed), --json; then moved off its DR tier (RETAINED DR stack)', async () => {
    await onboard('drco', 'professional');
    const before = await snapshot('drco');
    const plan = await tessera('tenants', 'failover-plan', 'drco', '--config', CONFIG_FILE);
    expect([plan.code, plan.stderr]).toEqual([0, '']);
    expect(plan.stdout).toMatch(/^failover plan for tenant drco \(tier professional, account \d{12}\): us-east-1 -> us-west-2\n  RPO 4 h, RTO 12 h\n  DR stack tessera-drco-dr in us-west-2, status ACTIVE;/);
    expect(plan.stdout).toContain('\n  latest restore test: none recorded\n  recovery points: not listed (ListRecoveryPointsByBackupVault of vault tessera-drco-dr in us-west-2');
    expect(plan.stdout).toContain('(none COMPLETED could be listed now)');
    const json = await tessera('--json', 'tenants', 'failover-plan', 'drco', '--config', CONFIG_FILE);
    expect([json.code, json.stderr]).toEqual([0, '']);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ tenantId: 'drco', drRegion: 'us-west-2', drRegionFrom: 'registry', rpoHours: 4, rtoHours: 12, drStack: { status: 'ACTIVE' }, recoveryPoints: [], recoveryPointsError: expect.stringContaining('ListRecoveryPointsByBackupVault') });
    expect(out.withinRpo).toBeUndefined();
    expect(await snapshot('drco')).toEqual(before);
    // moved to residency (professional without DR): the DR stack RETAINED, the plan still the DR region's, no RPO/RTO claimed
    expect((await tessera('tenants', 'update', 'drco', '--tier', 'residency', '--watch', '--interval', POLL)).code).toBe(0);
    expect((await getTenant('drco'))!.disasterRecovery).toMatchObject({ status: 'RETAINED', region: DR_REGION });
    const after = await tessera('tenants', 'failover-plan', 'drco', '--config', CONFIG_FILE);
    expect([after.code, after.stderr]).toEqual([0, '']);
    expect(after.stdout).toMatch(/^failover plan for tenant drco \(tier residency, account \d{12}\): us-east-1 -> us-west-2\n  RPO n\/a \(tier has no DR now\), RTO n\/a \(tier has no DR now\)\n  DR stack tessera-drco-dr in us-west-2, status RETAINED;/);
    expect(after.stdout).toContain('Tier residency has disasterRecovery none now, so its failover blueprint is only synthesized from a copy of the config that gives the tier its former DR region us-west-2');
    // and a repair of it leaves the RETAINED DR stack as it is (not repaired: no blueprint of its tier deploys it)
    const repair = await tessera('tenants', 'update', 'drco', '--repair', '--watch', '--interval', POLL);
    expect([repair.code, repair.stderr]).toEqual([0, '']);
    expect(repair.stdout).not.toContain('Deploy DR blueprint');
    expect((await getTenant('drco'))!.disasterRecovery).toMatchObject({ status: 'RETAINED', region: DR_REGION });
  }, 240_000);
});
