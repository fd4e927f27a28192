import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import { failOperation } from '../../lambdas/lifecycle/lease.js';
import { MAX_REASON_CHARS } from '../../lambdas/lifecycle/catch-reason.js';
import { TenantRecord, type LeftBehindResource } from '../../lib/tenant-record.js';
import { rewrite } from './support/faults.js';

/**
 * A failure's record within DynamoDB's 400 KB item (lambdas/lifecycle/failure-bounds.ts, lease.ts boundedFailure). Moto
 * refuses an UpdateItem that makes the item larger than that, as DynamoDB does (ValidationException "Item size to update has
 * exceeded the maximum allowed size"; moto's limit is 405,000 bytes by its own count): until 2026-12-07 a failure that named
 * hundreds of left-behind resources, or carried a reason of hundreds of KB, was refused so, and the registry kept saying the
 * status before the failure (PROVISIONING with the dead execution's lease).
 */
const local = useLocalLifecycle();

/** `count` log groups a rolled-back stack skipped at deletion, each with a reason of about 1,000 characters. */
const skipped = (stack: string, count: number) => Array.from({ length: count }, (_, i) => ({
  StackName: stack, StackId: stack, EventId: `skip-${i}`, Timestamp: new Date(),
  LogicalResourceId: `Logs${String(i).padStart(4, '0')}`, ResourceType: 'AWS::Logs::LogGroup', ResourceStatus: 'DELETE_SKIPPED',
  PhysicalResourceId: `/tessera/${stack}/function-${i}/${'p'.repeat(200)}`, ResourceStatusReason: `retained by its DeletionPolicy: ${'r'.repeat(1_000)}`,
}));

describe('a failure too large for the tenant item', () => {
  it('an onboarding whose rolled-back stack left 800 resources behind: recorded FAILED, the first 25 named, the count of the rest', async () => {
    // GIVEN the tenant blueprint's create fails and rolls back, its events naming 800 log groups skipped at deletion
    const database = Object.keys(local.fixture.catalog.find((b) => b.name === 'enterprise' && b.version === '1.0.0')!.derived.Resources).find((id) => id.startsWith('DatabaseInstance'))!;
    local.fixture.cloudFormation.failCreate('tessera-biggap', database, 'Resource handler returned message: "DB instance quota exceeded" (HandlerErrorCode: ServiceLimitExceeded)');
    local.cleanups.push(rewrite('many-left-behind', 'DescribeStackEventsCommand', (out, input) => {
      if (String(input.StackName).includes('tessera-biggap') && !String(input.StackName).includes('-namespace') && !input.NextToken) out.StackEvents = [...skipped('tessera-biggap', 800), ...(out.StackEvents ?? [])];
    }));
    // WHEN it is onboarded
    const run = await local.workflows.run('onboard', onboardRequest('biggap', 'enterprise'));
    // THEN the failure is on record (before: moto refused the write, and the record said PROVISIONING under a dead lease)
    expect(run.error?.message).toMatch(/StackFailed: stack tessera-biggap is ROLLBACK_COMPLETE/);
    const record = (await getTenant('biggap'))!;
    expect(record.status).toBe('FAILED');
    expect(record.lease).toBeUndefined();
    expect(record.failure!.leftBehind!.map((r) => r.logicalId)).toEqual(Array.from({ length: 25 }, (_, i) => `Logs${String(i).padStart(4, '0')}`));
    expect(record.failure!.leftBehindOmitted).toBe(775);
    expect(record.failure!.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    const failed = (await local.fixture.events()).filter((e) => e.detailType === 'Tenant Lifecycle Failed' && e.detail.tenantId === 'biggap');
    expect(failed).toEqual([expect.objectContaining({ detail: expect.objectContaining({ leftBehindOmitted: 775, leftBehind: record.failure!.leftBehind }) })]);
  }, 240_000);

  it('failOperation with a 600 KB reason and 2,000 left-behind resources (a stopped execution\'s end, a request ending a dead lease): written, bounded', async () => {
    // GIVEN a tenant onboarding under a lease
    const executionArn = 'arn:aws:states:us-east-1:111111111111:execution:tessera-onboard:hugefail-1';
    const at = '2026-12-07T10:00:00.000Z';
    const lease = { kind: 'onboard' as const, executionArn, requestId: 'req-hugefail-0001', acquiredAt: at, previousStatus: 'PROVISIONING' as const };
    await putNewTenant(TenantRecord.parse({
      tenantId: 'hugefail', name: 'Huge', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@hugefail.example.com', status: 'PROVISIONING',
      requestId: 'req-hugefail-0001', createdAt: at, updatedAt: at, lease, currentStep: 'Deploy blueprint',
      executions: [{ kind: 'onboard', requestId: 'req-hugefail-0001', executionArn, startedAt: at, status: 'RUNNING' }],
    }));
    const leftBehind: LeftBehindResource[] = Array.from({ length: 2_000 }, (_, i) => ({
      stack: 'tessera-hugefail', logicalId: `Logs${i}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/hugefail/${i}`, status: 'DELETE_SKIPPED', reason: 'x'.repeat(2_000),
    }));
    // WHEN its failure is recorded with a CloudFormation reason chain of 600,000 characters
    const reason = `StackFailed: ${'caused by: '.repeat(60_000)}`;
    await failOperation((await getTenant('hugefail'))!, lease, { step: 'Deploy blueprint', reason, details: { leftBehind } });
    // THEN the failure is on record, bounded, its length named
    const record = (await getTenant('hugefail'))!;
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'Deploy blueprint', leftBehindOmitted: 1_975 } });
    expect(record.lease).toBeUndefined();
    expect(record.failure!.reason).toMatch(new RegExp(`^StackFailed: caused by: .* … \\(${reason.length} characters; the rest is in the execution's history\\)$`));
    expect(record.failure!.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(record.failure!.leftBehind).toHaveLength(25);
    expect(record.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Deploy blueprint', reason: record.failure!.reason });
  });
});
