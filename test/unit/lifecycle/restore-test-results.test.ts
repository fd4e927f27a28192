import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RestoreTestRecorder } from '../../../constructs/restore-test-recorder.js';
import { applyCompliancePacks } from '../../../lib/compliance.js';
import { newApp } from '../../support/synth.js';
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

describe('RestoreTestRecorder', () => {
  it('takes AWS Backup restore-job events from the platform bus to the recorder, with a DLQ, and passes cdk-nag', () => {
    // GIVEN
    const app = newApp();
    const stack = new Stack(app, 'Recorder', { env: { account: '222222222222', region: 'us-east-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const registry = dynamodb.TableV2.fromTableName(stack, 'Registry', 'tessera-tenants');
    const bus = events.EventBus.fromEventBusName(stack, 'Bus', 'tessera-lifecycle');
    // WHEN
    new RestoreTestRecorder(stack, 'RestoreTests', { encryptionKey: key, registry, eventBus: bus, organizationId: 'o-exampleorg1' });
    applyCompliancePacks(app);
    const assembly = app.synth();
    // THEN
    const t = Template.fromJSON(assembly.getStackByName('Recorder').template);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'tessera-lifecycle',
      EventPattern: { source: ['aws.backup'], 'detail-type': ['Restore Job State Change'] },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.objectLike({}), RetryPolicy: { MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 8 } })],
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    const statements = JSON.stringify(t.findResources('AWS::IAM::ManagedPolicy'));
    expect(statements).toContain('"dynamodb:GetItem","dynamodb:UpdateItem"');
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });
});
