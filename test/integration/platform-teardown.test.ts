import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BackupClient, CreateBackupVaultCommand, PutBackupVaultLockConfigurationCommand } from '@aws-sdk/client-backup';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeardownPlan } from '../../lib/cli/platform-teardown.js';
import { putNewTenant } from '../../lambdas/shared/registry.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { TenantRecord } from '../../lib/tenant-record.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTesseraInProcess } from './support/tessera-cli.js';

/**
 * `tessera platform teardown --plan` on the local platform (moto, the admin API): tenants in several states, a bucket with
 * Object Lock retention, a KMS key pending deletion and a locked Backup vault are each listed by the real CLI with the
 * command that clears them, in the runbook's order, exit 1. (moto's AWS Backup keeps no recovery points: a vault holding
 * some is test/unit/cli/platform-teardown.test.ts's.)
 */
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(DEFAULT_CONFIG);
}, 120_000);
afterAll(async () => platform?.stop());

describe('tessera platform teardown --plan on the local platform', () => {
  it('lists tenants not offboarded, a queued tenant key, the locked bucket\'s retention, the platform key pending deletion before it ends and the locked vault; exit 1', async () => {
    const t = { tier: 'starter', isolation: 'vpc', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z' };
    for (const [id, status, extra] of [
      ['acme', 'ACTIVE', {}], ['hooli', 'SUSPENDED', {}],
      ['initech', 'OFFBOARDED', { offboarding: { keyDeletion: { state: 'QUEUED', dueAt: '2027-12-03T20:33:28.221Z' } } }],
    ] as const) {
      await putNewTenant(TenantRecord.parse({ ...t, ...extra, tenantId: id, name: id, adminEmail: `ops@${id}.example.com`, status, requestId: `req-${id}-0001` }));
    }
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'tesseraplatform-auditbucket-s32q', ObjectLockEnabledForBucket: true }));
    const retainUntil = new Date(Math.floor(Date.now() / 1000 + 400 * 86_400) * 1000); // whole seconds, as S3 keeps them
    await s3.send(new PutObjectCommand({ Bucket: 'tesseraplatform-auditbucket-s32q', Key: 'AWSLogs/1', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: retainUntil }));
    const kms = new KMSClient({});
    const key = (await kms.send(new CreateKeyCommand({ Description: 'Tessera platform: an earlier one' }))).KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/tessera/platform-old', TargetKeyId: key }));
    const deletion = (await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }))).DeletionDate!;
    const backup = new BackupClient({});
    await backup.send(new CreateBackupVaultCommand({ BackupVaultName: 'tessera-platform-s32q' }));
    await backup.send(new PutBackupVaultLockConfigurationCommand({ BackupVaultName: 'tessera-platform-s32q', MinRetentionDays: 7 }));

    const run = await runTesseraInProcess(platform.apiUrl, '--json', 'platform', 'teardown', '--plan');
    expect(run.stderr).toBe('');
    const plan = JSON.parse(run.stdout) as TeardownPlan;
    expect(plan.blockers.filter((b) => b.severity === 'unread')).toEqual([]);
    expect(run.code).toBe(1);
    const bySubject = (s: string) => plan.blockers.find((b) => b.subject === s);
    expect(plan.blockers.filter((b) => b.step <= 2).map((b) => [b.step, b.kind, b.subject, b.action])).toEqual([
      [1, 'tenant', 'acme', 'tessera tenants delete acme --yes --watch'],
      [1, 'tenant', 'hooli', 'tessera tenants delete hooli --yes --watch'],
      [2, 'tenant-key', 'initech', 'wait until then; tessera tenants show initech'],
    ]);
    expect(bySubject('tesseraplatform-auditbucket-s32q')).toMatchObject({
      step: 6, kind: 'bucket', until: retainUntil.toISOString(),
      what: `bucket tesseraplatform-auditbucket-s32q (us-east-1) is retained with 1 object version(s)/delete marker(s), Object Lock enabled: cannot be emptied before ${retainUntil.toISOString().slice(0, 10)}`,
    });
    // A platform key whose deletion comes before the locked bucket's retention ends would leave those objects unreadable: it blocks, with the cancel.
    expect(bySubject('alias/tessera/platform-old')).toMatchObject({
      severity: 'blocks', kind: 'key', until: new Date(deletion).toISOString(),
      what: `KMS key alias/tessera/platform-old (${key}, us-east-1) is pending deletion until ${new Date(deletion).toISOString()}, before the audit's Object Lock retention ends (${retainUntil.toISOString()}): those objects would stay, unreadable`,
      action: `aws kms cancel-key-deletion --key-id ${key} --region us-east-1`,
    });
    expect(bySubject('tessera-platform-s32q')).toMatchObject({ kind: 'vault', what: expect.stringMatching(/^Backup vault tessera-platform-s32q \(us-east-1\) holds 0 recovery point\(s\), vault lock on \(minimum retention 7 d/) });
    expect(plan.blockers.map((b) => b.step)).toEqual([...plan.blockers.map((b) => b.step)].sort((a, b) => a - b));

    const text = await runTesseraInProcess(platform.apiUrl, 'platform', 'teardown', '--plan');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('step 1  tenant             tenant hooli is SUSPENDED: not offboarded\n        → tessera tenants delete hooli --yes --watch\n        see docs/upgrading-and-teardown.md#teardown-step-1-offboard-every-tenant');
  }, 120_000);
});
