import { BackupClient, ListRecoveryPointsByBackupVaultCommand } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTesseraProgram } from '../../../lib/cli/program.js';
import { failoverPlan, failoverPlanLines, PLAN_RECOVERY_POINTS } from '../../../lib/cli/tenants-failover-command.js';
import { tenantsCommand } from '../../../lib/cli/tenants-command.js';
import { configWith } from '../../support/synth.js';
import { tempDir } from '../../support/temp-dirs.js';

// GIVEN a tier with DR in us-west-2 (RPO 2 h, RTO 4 h) and the platform's own DR there too
const DR = { starter: { disasterRecovery: { region: 'us-west-2', rpoHours: 2, rtoHours: 4 } } };
const config = configWith({ tiers: DR, platformDisasterRecovery: { region: 'us-west-2' } });
const now = new Date('2026-12-01T12:00:00Z');
const point = (hoursAgo: number, type = 'RDS', status = 'COMPLETED') => ({
  arn: `arn:aws:backup:us-west-2:210987654321:recovery-point:${type}-${hoursAgo}`, resourceType: type, createdAt: new Date(now.getTime() - hoursAgo * 3_600_000).toISOString(), status,
});
const base = { tenantId: 'acme', tier: 'starter', accountId: '210987654321', config, now };

describe('failoverPlan', () => {
  it('names the tenant\'s DR region, stack, bucket, vault and key, and its tier\'s RPO/RTO', () => {
    const plan = failoverPlan({ ...base, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(3), point(1)] } });
    expect(plan).toMatchObject({
      homeRegion: 'us-east-1', drRegion: 'us-west-2', rpoHours: 2, rtoHours: 4,
      drStack: { name: 'tessera-acme-dr', status: 'ACTIVE' },
      drBucket: 'tessera-acme-dr-210987654321-us-west-2', drVault: 'tessera-acme-dr', drKeyAlias: 'alias/tessera-acme-dr',
      platform: { drRegion: 'us-west-2', registryVault: 'tessera-platform-dr', auditReplica: `tessera-audit-replica-${config.platformAccountId}-us-west-2` },
    });
    // newest first; the newest completed one is 1 h old: within the 2 h RPO
    expect(plan.recoveryPoints.map((r) => r.arn)).toEqual([point(1).arn, point(3).arn]);
    expect(plan).toMatchObject({ newestRecoveryPointAgeHours: 1, withinRpo: true });
    expect(failoverPlanLines(plan)).toMatch(/latest restore test: none recorded/);
  });

  it('shows the latest restore test the registry recorded', () => {
    const latestRestoreTest = { restoreJobId: 'job-9', status: 'COMPLETED', validationStatus: 'SUCCESSFUL', at: '2026-11-28T03:10:00Z' };
    const plan = failoverPlan({ ...base, disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: now.toISOString(), latestRestoreTest }, recoveryPoints: { points: [] } });
    expect(plan.latestRestoreTest).toEqual(latestRestoreTest);
    expect(failoverPlanLines(plan)).toMatch(/latest restore test: COMPLETED, validation SUCCESSFUL at 2026-11-28T03:10:00Z \(job job-9\)/);
  });

  it('gives the steps in order: declare, registry, audit, database from the DR vault, objects from the DR bucket, cache and EKS rebuilt, DNS, record', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(5)] } });
    expect(plan.steps.map((s) => s.title)).toEqual([
      'Declare the failover', 'Restore the tenant registry in the platform DR region', 'Audit trail', 'Restore the tenant database from the DR vault',
      'Tenant objects from the DR bucket', 'Rebuild cache and EKS from the blueprint', 'DNS and gateway', 'Record the recovery',
    ]);
    const restore = plan.steps[3].commands.join('\n');
    expect(restore).toContain(`--recovery-point-arn ${point(5).arn}`);
    expect(restore).toContain('--region us-west-2 --backup-vault-name tessera-acme-dr');
    expect(plan.steps[4].commands).toEqual(['aws s3 ls s3://tessera-acme-dr-210987654321-us-west-2/ --region us-west-2']);
    // 5 h old against a 2 h RPO
    expect(plan).toMatchObject({ newestRecoveryPointAgeHours: 5, withinRpo: false });
    expect(failoverPlanLines(plan)).toMatch(/OLDER THAN THE RPO/);
  });

  it('ignores recovery points that are not COMPLETED for the RPO, and keeps at most the newest few', () => {
    const many = Array.from({ length: 9 }, (_, i) => point(i + 2));
    const plan = failoverPlan({ ...base, recoveryPoints: { points: [point(0.5, 'RDS', 'PARTIAL'), ...many] } });
    expect(plan.recoveryPoints).toHaveLength(PLAN_RECOVERY_POINTS);
    expect(plan.newestRecoveryPointAgeHours).toBe(2);
  });

  it('still prints a plan when the vault could not be listed, saying why', () => {
    const plan = failoverPlan({ ...base, recoveryPoints: { error: 'AccessDeniedException: not authorized' } });
    expect(plan).toMatchObject({ recoveryPointsError: 'AccessDeniedException: not authorized', recoveryPoints: [], withinRpo: undefined });
    expect(failoverPlanLines(plan)).toMatch(/recovery points: not listed \(AccessDeniedException/);
    expect(plan.steps[3].commands[1]).toContain('<newest recovery point>');
  });

  it('says the registry has no DR copy with platformDisasterRecovery none', () => {
    const plan = failoverPlan({ ...base, config: configWith({ tiers: DR }), recoveryPoints: { points: [] } });
    expect(plan.platform).toEqual({ drRegion: undefined, registryVault: undefined, auditReplica: undefined });
    expect(plan.steps[1].title).toBe('Tenant registry: no platform DR region');
  });

  it('follows a tenant moved to a tier without DR to its retained DR stack, with no RPO/RTO promised', () => {
    const plan = failoverPlan({ ...base, tier: 'professional', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'RETAINED', updatedAt: now.toISOString() }, recoveryPoints: { points: [point(1)] } });
    expect(plan).toMatchObject({ drRegion: 'us-west-2', drStack: { status: 'RETAINED' }, withinRpo: undefined });
    expect(Number.isNaN(plan.rpoHours)).toBe(true);
  });

  it('refuses a tenant whose tier has no DR and that has no DR stack', () => {
    expect(() => failoverPlan({ ...base, tier: 'professional', recoveryPoints: { points: [] } })).toThrow(/tier professional has disasterRecovery none .* nothing to fail over to/);
  });
});

describe('tessera tenants failover-plan', () => {
  const backup = mockClient(BackupClient);
  let out: string[];
  let err: string[];
  let file: string;
  beforeEach(() => {
    backup.reset();
    out = [];
    err = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    file = join(tempDir('failover-'), 'tessera.config.json');
    writeFileSync(file, JSON.stringify({ tiers: DR }));
    process.exitCode = undefined;
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('is registered under tenants with --config, --account, --tier and --role-arn', () => {
    const cmd = tenantsCommand().commands.find((c) => c.name() === 'failover-plan')!;
    expect(cmd.registeredArguments.map((a) => [a.name(), a.required])).toEqual([['id', true]]);
    expect(cmd.options.map((o) => o.long)).toEqual(['--config', '--account', '--tier', '--role-arn']);
  });

  it('offline (--account, --tier): lists the DR vault in the DR region and prints the plan as JSON', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).resolves({
      RecoveryPoints: [{ RecoveryPointArn: 'arn:aws:backup:us-west-2:210987654321:recovery-point:a', ResourceType: 'RDS', Status: 'COMPLETED', CreationDate: new Date(Date.now() - 1_800_000) }],
    });
    // WHEN
    const code = await runTesseraProgram(['--json', 'tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter']);
    // THEN
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const plan = JSON.parse(out.join(''));
    expect(plan).toMatchObject({ tenantId: 'acme', drRegion: 'us-west-2', rpoHours: 2, rtoHours: 4, drVault: 'tessera-acme-dr', withinRpo: true, drStack: { status: 'UNKNOWN (registry not read)' } });
    expect(plan.recoveryPoints).toEqual([expect.objectContaining({ arn: 'arn:aws:backup:us-west-2:210987654321:recovery-point:a' })]);
    expect(backup.calls()).toHaveLength(1);
    expect(await (backup.call(0).thisValue as BackupClient).config.region()).toBe('us-west-2');
  });

  it('refuses --account without --tier, a bad id and a tier the config lacks (exit 2, naming the flag)', async () => {
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321'])).toBe(2);
    expect(err.join('')).toMatch(/--account and --tier go together/);
    err.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'Acme!', '--config', file, '--account', '210987654321', '--tier', 'starter'])).toBe(2);
    expect(err.join('')).toMatch(/<id> "Acme!"/);
    err.length = 0;
    expect(await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'gold'])).toBe(2);
    expect(err.join('')).toMatch(/--tier gold: not a tier/);
    expect(backup.calls()).toHaveLength(0);
  });

  it('prints the plan with a note when the DR vault cannot be listed', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const code = await runTesseraProgram(['tenants', 'failover-plan', 'acme', '--config', file, '--account', '210987654321', '--tier', 'starter']);
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/failover plan for tenant acme \(tier starter, account 210987654321\): us-east-1 -> us-west-2/);
    expect(text).toMatch(/recovery points: not listed \(AccessDeniedException: User is not authorized\)/);
    expect(text).toMatch(/4\. Restore the tenant database from the DR vault/);
  });
});
