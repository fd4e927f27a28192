import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfrastructureBudgetEvents } from '../../constructs/infrastructure-budget-events.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { newApp } from '../support/synth.js';

/**
 * The platform side of the tenant infrastructure budget alerts (constructs/infrastructure-budget-events.ts) as a
 * construct; its handler is test/unit/lifecycle/infrastructure-budget-events.test.ts, the tenant side
 * test/infra/tenant-infrastructure-budget.test.ts.
 */
describe('InfrastructureBudgetEvents', () => {
  it('a queue the organization\'s tenant budget topics deliver to, polled by the forwarder, with a dead-letter queue, and passes cdk-nag', () => {
    // GIVEN
    const app = newApp();
    const stack = new Stack(app, 'BudgetEvents', { env: { account: '222222222222', region: 'us-east-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const registry = dynamodb.TableV2.fromTableName(stack, 'Registry', 'tessera-tenants');
    const bus = events.EventBus.fromEventBusName(stack, 'Bus', 'tessera-lifecycle');
    // WHEN
    new InfrastructureBudgetEvents(stack, 'InfrastructureBudgetEvents', { encryptionKey: key, registry, eventBus: bus, organizationId: 'o-exampleorg1' });
    applyCompliancePacks(app);
    const assembly = app.synth();
    // THEN
    const t = Template.fromJSON(assembly.getStackByName('BudgetEvents').template);
    const keyId = Object.keys(t.findResources('AWS::KMS::Key'))[0]!;
    const dlqId = Object.keys(t.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'tessera-dlq-infrastructure-budget-alerts' } }))[0]!;
    expect(dlqId).toBeDefined();
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'tessera-infrastructure-budget-alerts', KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 }, VisibilityTimeout: 180,
    });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'tessera-dlq-infrastructure-budget-alerts', KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    // Only SNS, only for topics named tessera-<tenant>-infrastructure-budget, only of the organization's accounts.
    const fromTenantTopics = {
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:tessera-*-infrastructure-budget']] } },
      StringEquals: { 'aws:SourceOrgID': 'o-exampleorg1' },
    };
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'TenantBudgetTopicsDeliver', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: fromTenantTopics })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'SnsEncryptsInfrastructureBudgetAlerts', Principal: { Service: 'sns.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: fromTenantTopics })]) },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1, EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InfrastructureBudgetEventsQueue'), 'Arn'] } });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TESSERA_REGISTRY_TABLE: 'tessera-tenants', TESSERA_EVENT_BUS: 'tessera-lifecycle' }) } });
    // The role: poll the queue, read the registry, put that one detail type, decrypt through SQS and DynamoDB only.
    const statements = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
    expect(bySid('PollAlerts')!.Action).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    expect(bySid('ReadTenant')!.Action).toBe('dynamodb:GetItem');
    expect(bySid('InfrastructureBudgetEvents')).toMatchObject({
      Action: 'events:PutEvents',
      Condition: { 'ForAllValues:StringEquals': { 'events:source': ['tessera.lifecycle'], 'events:detail-type': ['Tenant Infrastructure Budget Exceeded'] } },
    });
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('kms:Decrypt')).map((s) => Object.keys((s.Condition as { StringEquals: object }).StringEquals).sort().join(' ')).sort()).toEqual([
      // the registry's items, the queue's messages, and (every LambdaFunction's) its environment through Lambda
      'kms:EncryptionContext:aws:dynamodb:tableName kms:ViaService', 'kms:EncryptionContext:aws:sqs:arn kms:ViaService', 'kms:ViaService',
    ]);
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });
});
