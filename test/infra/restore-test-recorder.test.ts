import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RestoreTestRecorder } from '../../constructs/restore-test-recorder.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { newApp } from '../support/synth.js';

/**
 * The platform's restore-test recorder (constructs/restore-test-recorder.ts) as a construct; its
 * handler (lambdas/dr/record-restore-test.ts) is test/unit/lifecycle/restore-test-results.test.ts.
 * Here, with no client or module mocked, it shares a worker with the other infra files (aws-cdk-lib
 * loaded once), which the handler's file cannot.
 */
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
