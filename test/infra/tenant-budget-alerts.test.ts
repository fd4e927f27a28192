import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LambdaFunction } from '../../constructs/lambda-function.js';
import { TenantBudgetAlerts } from '../../constructs/tenant-budget-alerts.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { configWith, newApp } from '../support/synth.js';

/** The construct in a stack of its own with a key, a bus, a pool and a stand-in router; `open` are the cdk-nag findings on it. */
function build(config: PlatformConfig, withPool = true) {
  const app = newApp();
  applyCompliancePacks(app);
  const stack = new Stack(app, 'BudgetAlertsTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const router = new LambdaFunction(stack, 'Router', { handlerFile: 'inference/router-handler', roleName: 'tessera-gateway-router', encryptionKey: key, reservedConcurrency: 1, invocation: 'by API Gateway', timeout: Duration.seconds(5) });
  const userPool = withPool ? cognito.UserPool.fromUserPoolId(stack, 'Pool', 'us-east-1_pool') : undefined;
  const usageTable = dynamodb.TableV2.fromTableName(stack, 'Usage', 'tessera-usage');
  const alerts = new TenantBudgetAlerts(stack, 'BudgetAlerts', { config, eventBus: events.EventBus.fromEventBusName(stack, 'Bus', 'tessera-lifecycle'), gatewayFunctions: [router], userPool, encryptionKey: key, usageTable });
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }> }> };
  const open = report.pluginReports.flatMap((r) => r.violations.filter((v) => v.violatingConstructs?.some((c) => c.constructPath.includes('/BudgetAlerts/'))).map((v) => ({ plugin: r.pluginName, rule: v.ruleName })));
  return { t: Template.fromStack(stack), alerts, open, plugins: report.pluginReports.map((r) => r.pluginName) };
}

const statements = (t: Template) => Object.values(t.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);

describe('TenantBudgetAlerts', () => {
  let mailing: ReturnType<typeof build>;
  beforeAll(() => {
    mailing = build(configWith({ tiers: { starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: 'alerts@platform.example' } }, enterprise: { budgetAlerts: { thresholdsPercent: [90] } } } }));
  });

  it('gives the router the bus and PutEvents of this one detail type from tessera.lifecycle only', () => {
    mailing.t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TESSERA_EVENT_BUS: 'tessera-lifecycle' }) } });
    const put = statements(mailing.t).find((s: any) => s.Sid === 'BudgetThresholdEvents');
    expect(put).toEqual({
      Sid: 'BudgetThresholdEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: expect.anything(),
      Condition: {
        'ForAllValues:StringEquals': { 'events:source': ['tessera.lifecycle'], 'events:detail-type': ['Tenant Budget Threshold Reached'] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
    expect(JSON.stringify(put.Resource)).toContain('event-bus/tessera-lifecycle');
  });

  it('mails only the tiers that say so: a rule on their events, retried 6 hours, a Lambda with a KMS dead-letter queue', () => {
    mailing.t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['tessera.lifecycle'], 'detail-type': ['Tenant Budget Threshold Reached'], detail: { tier: ['starter'] } },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 } })],
    });
    mailing.t.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      Environment: { Variables: Match.objectLike({ TESSERA_USER_POOL_ID: 'us-east-1_pool', TESSERA_BUDGET_ALERT_SENDERS: JSON.stringify({ starter: 'alerts@platform.example' }) }) },
    });
    mailing.t.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ KmsMasterKeyId: Match.anyValue() }) });
  });

  it('lets the mail Lambda list the admin group and send only from the tiers\' senders', () => {
    const all = statements(mailing.t);
    expect(all.find((s: any) => s.Sid === 'TenantAdmins')).toMatchObject({ Action: 'cognito-idp:ListUsersInGroup' });
    const mail = all.find((s: any) => s.Sid === 'AlertMail');
    expect(mail.Action).toBe('ses:SendEmail');
    expect(mail.Condition).toEqual({ StringEquals: { 'ses:FromAddress': ['alerts@platform.example'] } });
    expect(JSON.stringify(mail.Resource)).toMatch(/identity\/alerts@platform\.example.*identity\/platform\.example/);
    expect(all.filter((s: any) => s.Resource === '*').map((s: any) => s.Sid)).toEqual(['Traces', 'Traces']); // X-Ray only (router and mail Lambda)
  });

  it('lets the mail Lambda write and delete only its alert-mail# markers in the usage table, returning nothing, and use the key only through DynamoDB for it', () => {
    const all = statements(mailing.t);
    mailing.t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TESSERA_USER_POOL_ID: 'us-east-1_pool', TESSERA_USAGE_TABLE: 'tessera-usage' }) } });
    const markers = all.find((s: any) => s.Sid === 'AlertMailMarkers');
    expect(markers).toEqual({
      Sid: 'AlertMailMarkers', Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], Resource: expect.anything(),
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['alert-mail#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    });
    expect(JSON.stringify(markers.Resource)).toContain(':table/tessera-usage');
    const key = all.find((s: any) => s.Sid === 'UsageTableKeyThroughDynamoDB');
    expect(key).toMatchObject({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] });
    expect(key.Condition.StringEquals).toMatchObject({ 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:dynamodb:tableName': 'tessera-usage', 'kms:EncryptionContext:aws:dynamodb:subscriberId': '123456789012' });
    expect(all.find((s: any) => s.Sid === 'DescribeKeyThroughDynamoDB')).toMatchObject({ Action: 'kms:DescribeKey', Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } } });
    // No other DynamoDB action on any table.
    expect(all.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:'))).map((s: any) => s.Sid)).toEqual(['AlertMailMarkers']);
  });

  it('is cdk-nag clean', () => {
    expect(mailing.plugins.length).toBeGreaterThanOrEqual(3); // the packs did run (AwsSolutions, NIST 800-53 R5, HIPAA)
    expect(mailing.open).toEqual([]);
  });

  it('creates nothing but the grant when no tier mails (the default)', () => {
    const { t } = build(configWith());
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.resourceCountIs('AWS::SQS::Queue', 0);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    expect(statements(t).some((s: any) => s.Sid === 'BudgetThresholdEvents')).toBe(true);
  });

  it('refuses mail without a user pool, naming the tier and the way out', () => {
    expect(() => build(configWith({ tiers: { professional: { budgetAlerts: { emailTenantAdmins: true, senderEmail: 'a@b.example' } } } }), false))
      .toThrow(/tiers\.professional\.budgetAlerts\.emailTenantAdmins is true, but the platform has no Cognito user pool.*set emailTenantAdmins to false/);
  });
});
