import { beforeEach, describe, expect, it, vi } from 'vitest';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
setLifecycleEnv();
const { handler, restoreTestTenant, restoreTestUpdate } = await import('../../../lambdas/dr/record-restore-test.js');

const ROLE = 'arn:aws:iam::333333333333:role/tessera/service-role/tessera-acme-restore-testing';
const event = (detail: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  version: '0', id: 'e1', 'detail-type': 'Restore Job State Change', source: 'aws.backup', account: '333333333333', time: '2026-12-01T03:10:00Z', region: 'us-west-2', resources: [],
  detail: { restoreJobId: 'job-2', status: 'COMPLETED', iamRoleArn: ROLE, recoveryPointArn: 'arn:aws:rds:us-west-2:333333333333:snapshot:awsbackup:copyjob-1', validationStatus: 'SUCCESSFUL', ...detail },
  ...extra,
});
const dr = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE' as const, updatedAt: '2026-11-30T00:00:00Z' };

describe('restore test results in the registry', () => {
  beforeEach(() => {
    records.clear();
    records.set('acme', tenant({ status: 'ACTIVE', disasterRecovery: dr }));
  });

  it('finds the tenant and account from its restore-testing role only', () => {
    expect(restoreTestTenant(ROLE)).toEqual({ tenantId: 'acme', accountId: '333333333333' });
    expect(restoreTestTenant('arn:aws:iam::333333333333:role/tessera-acme-restore-testing')).toBeUndefined(); // not on the service-role path
    expect(restoreTestTenant('arn:aws:iam::333333333333:role/tessera/service-role/tessera-acme-database-backup')).toBeUndefined();
  });

  it('records the latest restore job with its validation, without a lease', async () => {
    // WHEN
    expect(await handler(event())).toEqual({ recorded: 'acme' });
    // THEN
    expect(records.get('acme')!.disasterRecovery).toEqual({
      ...dr,
      latestRestoreTest: { restoreJobId: 'job-2', status: 'COMPLETED', at: '2026-12-01T03:10:00Z', recoveryPointArn: 'arn:aws:rds:us-west-2:333333333333:snapshot:awsbackup:copyjob-1', validationStatus: 'SUCCESSFUL' },
    });
    expect(registryMock.updateTenant).toHaveBeenLastCalledWith('acme', expect.anything(), expect.objectContaining({ holder: null }));
  });

  it('keeps the latest event: an older job\'s, or the same job\'s earlier state delivered late, is ignored; the same job\'s later state replaces it', async () => {
    await handler(event());
    expect(await handler(event({ restoreJobId: 'job-1', status: 'FAILED' }, { time: '2026-11-01T03:10:00Z' }))).toMatchObject({ ignored: expect.stringMatching(/later restore test event \(job-2 COMPLETED/) });
    // EventBridge does not order deliveries: job-2's RUNNING (03:00) arriving after its COMPLETED (03:10).
    expect(await handler(event({ status: 'RUNNING' }, { time: '2026-12-01T03:00:00Z' }))).toMatchObject({ ignored: expect.stringMatching(/later restore test event/) });
    expect(records.get('acme')!.disasterRecovery!.latestRestoreTest).toMatchObject({ restoreJobId: 'job-2', status: 'COMPLETED', validationStatus: 'SUCCESSFUL' });
    await handler(event({ status: 'COMPLETED', validationStatus: 'FAILED' }, { time: '2026-12-01T05:10:00Z' }));
    expect(records.get('acme')!.disasterRecovery!.latestRestoreTest).toMatchObject({ restoreJobId: 'job-2', validationStatus: 'FAILED' });
  });

  it('ignores another account\'s event for the tenant, a tenant without DR, an unknown tenant and a malformed event', async () => {
    expect(await handler(event({}, { account: '444444444444' }))).toMatchObject({ ignored: expect.stringMatching(/account 444444444444/) });
    records.set('acme', tenant({ status: 'ACTIVE' }));
    expect(await handler(event())).toMatchObject({ ignored: expect.stringMatching(/no DR stack recorded/) });
    expect(await handler(event({ iamRoleArn: ROLE.replace('acme', 'ghost') }))).toMatchObject({ ignored: 'no tenant ghost' });
    expect(await handler({ source: 'aws.backup', detail: {} })).toMatchObject({ ignored: expect.stringMatching(/not a Restore Job State Change/) });
    expect(records.get('acme')!.disasterRecovery).toBeUndefined();
  });

  it('keeps a failure message, cut to 1,000 characters', () => {
    const out = restoreTestUpdate(event({ status: 'FAILED', validationStatus: undefined, statusMessage: 'x'.repeat(1500) }) as never, tenant({ disasterRecovery: dr }));
    expect('record' in out && out.record.latestRestoreTest).toMatchObject({ status: 'FAILED', message: 'x'.repeat(1000) });
  });
});
