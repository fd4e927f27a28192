import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../lib/cli/platform-command.js';
import { putNewTenant } from '../../lambdas/shared/registry.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { TenantRecord } from '../../lib/tenant-record.js';
import { BLUEPRINT_VERSION } from './support/platform-fixture.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTesseraInProcess } from './support/tessera-cli.js';
import { removeTempDirs, tempDir } from '../support/temp-dirs.js';

/**
 * `tessera platform health` on the local platform (moto, the admin API): a FAILED tenant in the registry, a message in a
 * dead-letter queue and a tenant on an older blueprint version than the platform's are each found by the real CLI, which
 * exits 1.
 */
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(DEFAULT_CONFIG);
}, 120_000);
afterAll(async () => {
  await platform?.stop();
  removeTempDirs();
});

const tessera = (...args: string[]) => runTesseraInProcess(platform.apiUrl, ...args);

describe('tessera platform health on the local platform', () => {
  it('a healthy platform exits 0; a FAILED tenant, a DLQ message and a tenant behind the catalog are then found, exit 1', async () => {
    // No tenant, no queue: nothing fails (the missing queues are a warning: the wrong region or account?).
    const empty = await tessera('platform', 'health', '--as-of', '2026-06-01');
    expect([empty.code, empty.stderr]).toEqual([0, '']);
    expect(empty.stdout).toContain('warn  dlq       no dead-letter queues named tessera-dlq-* in region us-east-1: a deployed platform has them in its account and home region (the local platform makes none)');
    expect(empty.stdout).toMatch(/→ tessera dlq list with the platform account's credentials and its home region \(--profile, --region\)/);
    expect(empty.stdout).toMatch(/\n0 fail, 1 warn, \d+ info \(checked: /);

    const t = { name: 'Failed', tier: 'starter', isolation: 'vpc', requestId: 'req-failedco-0001', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z' };
    await putNewTenant(TenantRecord.parse({
      ...t, tenantId: 'failedco', adminEmail: 'ops@failedco.example.com', status: 'FAILED',
      failure: { step: 'Deploy blueprint', reason: 'CREATE_FAILED', at: '2026-12-01T01:00:00.000Z' },
      executions: [{ kind: 'onboard', requestId: 'req-failedco-0001', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-12-01T01:00:00.000Z', status: 'FAILED' }],
    }));
    await putNewTenant(TenantRecord.parse({ ...t, tenantId: 'oldco', adminEmail: 'ops@oldco.example.com', status: 'ACTIVE', blueprintVersion: '0.9.0' }));
    const sqs = new SQSClient({});
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-dlq-lifecycle-events' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.QueueUrl, MessageBody: '{"detail-type":"Tenant Activated"}' }));

    const run = await tessera('--json', 'platform', 'health', '--as-of', '2026-06-01');
    expect([run.code, run.stderr]).toEqual([1, '']);
    const report = JSON.parse(run.stdout) as HealthReport;
    expect(report.findings.filter((f) => f.severity !== 'info' || f.source === 'upgrades').map((f) => [f.severity, f.source, f.subject])).toEqual([
      ['fail', 'dlq', 'tessera-dlq-lifecycle-events'],
      ['fail', 'registry', 'failedco'],
      ['info', 'upgrades', 'starter'],
      // ACTIVE, onboarded days ago and never drift-checked (no drift run on the local platform): a run was missed.
      ['warn', 'drift', 'oldco'],
    ]);
    expect(report.findings.find((f) => f.subject === 'failedco')).toMatchObject({ what: 'tenant failedco is FAILED: Deploy blueprint: CREATE_FAILED', since: '2026-12-01T01:00:00.000Z', action: 'tessera tenants show failedco; tessera tenants retry failedco' });
    expect(report.findings.find((f) => f.source === 'upgrades')!.what).toBe(`tier starter: 1 tenant(s) on a blueprint version older than the catalog's ${BLUEPRINT_VERSION} (oldco)`);
    expect(report.summary.fail).toBe(2);
  }, 120_000);

  // Taking a DR region out of allowedRegions was refused only after the deploy, at each tenant's Check rebuilt stack.
  it('--config of a change that takes a tenant\'s DR region out of allowedRegions: a fail line naming the tenant and the region, exit 1', async () => {
    await putNewTenant(TenantRecord.parse({
      tenantId: 'westco', name: 'West', tier: 'professional', isolation: 'vpc', accountId: DEFAULT_CONFIG.workloadAccountId, adminEmail: 'ops@westco.example.com', status: 'ACTIVE',
      requestId: 'req-westco-0001', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', blueprintVersion: BLUEPRINT_VERSION,
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-westco-dr', status: 'RETAINED', updatedAt: '2026-11-01T00:00:00.000Z' },
    }));
    const file = join(tempDir('health-regions-'), 'next.config.json');
    writeFileSync(file, JSON.stringify({ allowedRegions: ['us-east-1', 'eu-west-1'] }));
    const run = await tessera('--json', 'platform', 'health', '--as-of', '2026-06-01', '--config', file);
    expect([run.code, run.stderr]).toEqual([1, '']);
    const report = JSON.parse(run.stdout) as HealthReport;
    expect(report.findings.filter((f) => f.source === 'dr' && f.severity === 'fail')).toEqual([expect.objectContaining({
      subject: 'westco', what: expect.stringMatching(/^tenant westco's DR region us-west-2 \(DR stack tessera-westco-dr RETAINED\) is not in allowedRegions of .*next\.config\.json \(us-east-1, eu-west-1\): .*DrRegionNotAllowed\)$/),
    })]);
    expect(report.checked).toContain(`DR regions against allowedRegions (${file})`);
    // a config that keeps the region: compared, nothing found
    const kept = join(tempDir('health-regions-'), 'kept.config.json');
    writeFileSync(kept, JSON.stringify({ allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'] }));
    const same = await tessera('--json', 'platform', 'health', '--as-of', '2026-06-01', '--config', kept);
    const keptReport = JSON.parse(same.stdout) as HealthReport;
    expect(keptReport.checked).toContain(`DR regions against allowedRegions (${kept})`);
    expect(keptReport.findings.filter((f) => f.source === 'dr' && f.severity === 'fail')).toEqual([]);
  }, 120_000);
});
