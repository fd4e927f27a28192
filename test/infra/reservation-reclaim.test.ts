import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReservationReclaim } from '../../constructs/reservation-reclaim.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { newApp } from '../support/synth.js';

/** The construct in a stack of its own with a key and the two tables; `open` are the cdk-nag findings on it. */
function build() {
  const app = newApp();
  applyCompliancePacks(app);
  const stack = new Stack(app, 'ReclaimTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const registry = dynamodb.TableV2.fromTableName(stack, 'Registry', 'tessera-tenants');
  const usageTable = dynamodb.TableV2.fromTableName(stack, 'Usage', 'tessera-usage');
  new ReservationReclaim(stack, 'ReservationReclaim', { encryptionKey: key, registry, usageTable });
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }> }> };
  const open = report.pluginReports.flatMap((r) => r.violations.filter((v) => v.violatingConstructs?.some((c) => c.constructPath.includes('/ReservationReclaim/'))).map((v) => ({ plugin: r.pluginName, rule: v.ruleName })));
  return { t: Template.fromStack(stack), open, plugins: report.pluginReports.map((r) => r.pluginName) };
}

const statements = (t: Template) => Object.values(t.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
const arnOf = (resource: unknown) => JSON.stringify(resource);

describe('ReservationReclaim (constructs/reservation-reclaim.ts)', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build();
  });

  it('runs every day at 00:30 UTC, past the router\'s 15-minute longest invocation, retried within the hour into its dead-letter queue', () => {
    built.t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 0 * * ? *)', State: 'ENABLED',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 }, DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
    built.t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler', Timeout: 900, ReservedConcurrentExecutions: 1, DeadLetterConfig: { TargetArn: Match.anyValue() },
      Environment: { Variables: Match.objectLike({ TESSERA_REGISTRY_TABLE: 'tessera-tenants', TESSERA_USAGE_TABLE: 'tessera-usage' }) },
    });
    built.t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });
    // The project's dead-letter convention: the platform key, 14 days, retained, named for `tessera dlq list`.
    built.t.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ QueueName: 'tessera-dlq-reservation-reclaim', KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1_209_600 }),
    });
  });

  it('may read the registry and only the held amounts of `usage#` items, and write only their counters (tokens and cost, in nano-dollars and the micro-dollars of before)', () => {
    const own = statements(built.t).filter((s: any) => !['OwnLogs', 'Traces', 'EnvironmentKey', 'DeadLetters', 'DeadLetterKey'].includes(s.Sid));
    expect(own.map((s: any) => s.Sid)).toEqual(['ListTenants', 'ReadHeldAmounts', 'ReleaseHeldAmounts', 'TablesKeyThroughDynamoDB', 'DescribeKeyThroughDynamoDB']);
    const sid = (name: string) => own.find((s: any) => s.Sid === name);
    expect(sid('ListTenants').Action).toEqual(['dynamodb:GetItem', 'dynamodb:Scan']);
    expect(arnOf(sid('ListTenants').Resource)).toContain('table/tessera-tenants');
    expect(sid('ReadHeldAmounts')).toMatchObject({
      Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['usage#*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['id', 'heldTokens', 'heldNanos', 'heldMicros', 'subjects'] },
        Null: { 'dynamodb:LeadingKeys': 'false', 'dynamodb:Attributes': 'false' },
        StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
      },
    });
    // TransactWriteItems is authorized as the UpdateItem of each of its items: no action of its own.
    expect(sid('ReleaseHeldAmounts')).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['usage#*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['id', 'tokens', 'heldTokens', 'costNanos', 'heldNanos', 'costMicros', 'heldMicros'] },
        Null: { 'dynamodb:LeadingKeys': 'false', 'dynamodb:Attributes': 'false' },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    });
    for (const s of ['ReadHeldAmounts', 'ReleaseHeldAmounts']) expect(arnOf(sid(s).Resource), s).toMatch(/table\/tessera-usage"?\]?\]?\}?$/);
    expect(sid('TablesKeyThroughDynamoDB').Condition.StringEquals).toMatchObject({ 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:dynamodb:tableName': ['tessera-tenants', 'tessera-usage'] });
    // No resource "*" but X-Ray's (no resource type), which every Lambda has.
    const stars = statements(built.t).filter((s: any) => [s.Resource].flat().includes('*')).map((s: any) => s.Sid);
    expect(stars).toEqual(['Traces']);
  });

  it('is clean under the compliance packs, with no acknowledgement of its own', () => {
    expect(built.plugins.length).toBeGreaterThan(0);
    expect(built.open).toEqual([]);
  });
});

describe('ReservationReclaim in the platform (default config)', () => {
  it('is in the Operations nested stack (not TesseraPlatform: its room), and the platform monitoring alarms on its dead-letter queue and its errors', () => {
    const built = defaultAppTemplates();
    built.operations.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 0 * * ? *)' });
    expect(built.platform.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'cron(30 0 * * ? *)' } })).toEqual({});
    built.operations.hasResourceProperties('AWS::IAM::Role', { RoleName: 'tessera-gateway-reservation-reclaim' });
    const alarms = Object.values(built.operations.findResources('AWS::CloudWatch::Alarm')).map((a: any) => String(a.Properties.AlarmName));
    expect(alarms.filter((n) => n.includes('ReservationReclaim')).sort()).toEqual([
      expect.stringMatching(/ReservationReclaim-DeadLetters-Dlq-Queue-Message-Count-Max-Critical$/),
      expect.stringMatching(/ReservationReclaim-Job-Fault-Count-Warning$/),
      expect.stringMatching(/ReservationReclaim-Job-Throttled-Count-Warning$/),
    ]);
  });
});
