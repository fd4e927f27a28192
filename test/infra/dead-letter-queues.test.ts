import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterQueue, DLQ_NAME_PREFIX } from '../../constructs/dead-letter-queue.js';
import { LambdaFunction } from '../../constructs/lambda-function.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';
import { newApp } from '../support/synth.js';

type Resources = Record<string, { Type: string; Properties?: any; DeletionPolicy?: string }>;
const FOURTEEN_DAYS = 14 * 24 * 3600;

let app: DefaultAppTemplates;
let platform: Resources;
let ops: Resources;
/** The platform with its Lambdas' managed policies (in its FunctionPolicies nested stack), parameters replaced. */
let platformWithPolicies: Resources;
beforeAll(() => {
  app = defaultAppTemplates();
  // With its EventRules nested stack's rules and invoke permissions, parameters replaced: each rule beside its queue.
  platform = app.platformWithEventRules.toJSON().Resources;
  platformWithPolicies = app.platformWithPolicies.toJSON().Resources;
  ops = app.operations.toJSON().Resources;
});

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
/** The logical id a `{ Fn::GetAtt: [id, 'Arn'] }` or `{ Ref: id }` names. */
const refOf = (v: any): string | undefined => v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
/** Every rule target of a template, with its rule. */
const ruleTargets = (resources: Resources) => ofType(resources, 'AWS::Events::Rule').flatMap(([ruleId, r]) => (r.Properties.Targets as any[]).map((target) => ({ ruleId, target })));
const dlqQueues = (resources: Resources) => ofType(resources, 'AWS::SQS::Queue').filter(([, q]) => typeof q.Properties?.QueueName === 'string' && q.Properties.QueueName.startsWith(DLQ_NAME_PREFIX));

describe('dead-letter queues of the platform (default app)', () => {
  it('gives every EventBridge rule target of the platform and its Operations stack a DLQ and an explicit retry policy', () => {
    // GIVEN the platform stack (its EventRules nested stack merged in) and its nested Operations stack
    for (const resources of [platform, ops]) {
      const all = ruleTargets(resources);
      expect(all.length).toBeGreaterThan(0);
      for (const { ruleId, target } of all) {
        // THEN each target names a queue of the same template and both retry bounds
        const dlq = refOf(target.DeadLetterConfig?.Arn);
        expect(dlq, `${ruleId} target ${target.Id}`).toBeDefined();
        expect(resources[dlq!]?.Type, `${ruleId}: ${dlq}`).toBe('AWS::SQS::Queue');
        expect(target.RetryPolicy, ruleId).toEqual({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
        expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeLessThanOrEqual(86_400);
      }
    }
    // the lifecycle's six rules, fine-tuning's, the statements' two schedules
    expect(ruleTargets(platform).length + ruleTargets(ops).length).toBeGreaterThanOrEqual(9);
  });

  it('makes every DLQ SSE-KMS with the platform key, 14 days, retained, TLS only, and sendable only by its own rules (a source queue\'s by none: SQS moves its dead letters itself)', () => {
    const platformKey = ofType(platform, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))![0];
    for (const [resources, keyRef] of [[platform, platformKey], [ops, undefined]] as const) {
      const queues = dlqQueues(resources);
      expect(queues.length).toBeGreaterThan(0);
      for (const [id, q] of queues) {
        expect(q.DeletionPolicy, id).toBe('Retain');
        expect(q.Properties.MessageRetentionPeriod, id).toBe(FOURTEEN_DAYS);
        expect(q.Properties.KmsMasterKeyId, id).toBeDefined();
        if (keyRef) expect(refOf(q.Properties.KmsMasterKeyId), id).toBe(keyRef);
        const policies = ofType(resources, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties.Queues.some((x: any) => refOf(x) === id));
        expect(policies, id).toHaveLength(1);
        const statements = policies[0]![1].Properties.PolicyDocument.Statement as any[];
        expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${id} TLS only`).toBe(true);
        const allows = statements.filter((s) => s.Effect === 'Allow');
        const rulesUsingIt = ruleTargets(resources).filter(({ target }) => refOf(target.DeadLetterConfig?.Arn) === id).map(({ ruleId }) => ruleId);
        // ...or a source queue's (its RedrivePolicy: SQS moves a message there itself, no sender to allow; fine-tuning's endpoint checks)
        const queuesUsingIt = ofType(resources, 'AWS::SQS::Queue').filter(([, sq]) => refOf(sq.Properties?.RedrivePolicy?.deadLetterTargetArn) === id);
        expect(rulesUsingIt.length + queuesUsingIt.length, `${id} is some rule's or queue's DLQ`).toBeGreaterThan(0);
        // THEN one Allow per rule: EventBridge, SendMessage, aws:SourceArn = that rule's ARN; nobody else
        expect(allows.map((s) => ({ principal: s.Principal, action: s.Action, source: refOf(s.Condition?.ArnEquals?.['aws:SourceArn']) })).sort((a, b) => a.source!.localeCompare(b.source!)))
          .toEqual(rulesUsingIt.sort().map((ruleId) => ({ principal: { Service: 'events.amazonaws.com' }, action: 'sqs:SendMessage', source: ruleId })));
      }
    }
  });

  it('lets EventBridge encrypt into the DLQs with the platform key, for this account\'s rules only', () => {
    const key = ofType(platform, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))![1];
    const statement = (key.Properties.KeyPolicy.Statement as any[]).find((s) => s.Sid === 'EventBridgeEncryptsDeadLetters');
    expect(statement).toMatchObject({
      Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': expect.anything() } },
    });
    expect(JSON.stringify(statement.Condition.ArnLike)).toContain(':rule/*');
  });

  it('gives every rule-invoked Lambda the rule\'s DLQ as its own, explicit async retries, and SendMessage on it', () => {
    for (const resources of [platform, ops]) {
      const lambdaTargets = ruleTargets(resources).filter(({ target }) => resources[refOf(target.Arn)!]?.Type === 'AWS::Lambda::Function');
      expect(lambdaTargets.length).toBeGreaterThan(0);
      for (const { ruleId, target } of lambdaTargets) {
        const fnId = refOf(target.Arn)!;
        const fn = resources[fnId]!.Properties;
        // THEN the function's DLQ is the queue its rule dead-letters into
        expect(refOf(fn.DeadLetterConfig?.TargetArn), `${ruleId} -> ${fnId}`).toBe(refOf(target.DeadLetterConfig.Arn));
        const invokeConfigs = ofType(resources, 'AWS::Lambda::EventInvokeConfig').filter(([, c]) => refOf(c.Properties.FunctionName) === fnId);
        expect(invokeConfigs, fnId).toHaveLength(1);
        expect(invokeConfigs[0]![1].Properties).toMatchObject({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
        const role = refOf(fn.Role?.['Fn::GetAtt'] ? fn.Role : fn.Role);
        const policies = ofType(resources === platform ? platformWithPolicies : resources, 'AWS::IAM::ManagedPolicy').filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => refOf(r) === role));
        const sends = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Sid === 'DeadLetters');
        expect(sends.map((s) => refOf(s.Resource)), fnId).toEqual([refOf(target.DeadLetterConfig.Arn)]);
      }
    }
  });

  it('alarms (Critical, composite) on one visible message in every DLQ, the platform stack\'s ones included', () => {
    // The platform stack's queues reach the nested stack as parameters (their names).
    const nested = ofType(platform, 'AWS::CloudFormation::Stack').find(([id]) => id.startsWith('OperationsNestedStack'))![1].Properties.Parameters as Record<string, any>;
    // An alarm's metric is stated directly or as the one MetricStat of its Metrics.
    const metricOf = (a: any) => a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? a;
    const alarms = ofType(ops, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).filter((a) => metricOf(a).MetricName === 'ApproximateNumberOfMessagesVisible');
    const alarmOn = (queueNameRef: (v: any) => boolean) => alarms.filter((a) => metricOf(a).Dimensions?.some((d: any) => d.Name === 'QueueName' && queueNameRef(d.Value)));
    const queues = [...dlqQueues(platform).map(([id]) => ({ id, where: 'platform' })), ...dlqQueues(ops).map(([id]) => ({ id, where: 'ops' }))];
    expect(queues.length).toBeGreaterThanOrEqual(8);
    for (const { id, where } of queues) {
      const found = where === 'ops'
        ? alarmOn((v) => v?.['Fn::GetAtt']?.[0] === id)
        : alarmOn((v) => typeof v?.Ref === 'string' && refOf(nested[v.Ref]) === id);
      expect(found, `alarm on ${id}`).toHaveLength(1);
      expect(found[0]).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    }
  });

  it('encrypts every Tessera Lambda\'s environment with the platform key', () => {
    const key = ofType(platform, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))![0];
    for (const resources of [platform, ops]) {
      const ours = ofType(resources, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Runtime === 'nodejs24.x' && f.Properties.Handler === 'index.handler');
      expect(ours.length).toBeGreaterThan(0);
      for (const [id, f] of ours) {
        expect(f.Properties.KmsKeyArn, id).toBeDefined();
        if (resources === platform) expect(refOf(f.Properties.KmsKeyArn), id).toBe(key);
      }
    }
  });

  it('gives the blueprint\'s training events rules (tenant account: the events, and the DLQ alarm\'s state changes) an SSE-SQS DLQ only those rules may send to', () => {
    let seen = 0;
    for (const [tier, blueprint] of Object.entries(app.blueprints)) {
      const resources = blueprint.toJSON().Resources as Resources;
      for (const { ruleId, target } of ruleTargets(resources)) {
        seen++;
        const dlq = refOf(target.DeadLetterConfig?.Arn);
        expect(resources[dlq!]?.Type, `${tier} ${ruleId}`).toBe('AWS::SQS::Queue');
        const q = resources[dlq!]!;
        expect(q.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: FOURTEEN_DAYS });
        expect(JSON.stringify(q.Properties.QueueName)).toContain('-dlq-training-events');
        const policy = ofType(resources, 'AWS::SQS::QueuePolicy').find(([, p]) => p.Properties.Queues.some((x: any) => refOf(x) === dlq))![1];
        const allows = (policy.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Effect === 'Allow');
        // One queue per path: the path's rule and its alarm rule (constructs/tenant-dlq-alarm.ts) dead-letter into it; nobody else may send.
        const rulesUsingIt = ruleTargets(resources).filter((x) => refOf(x.target.DeadLetterConfig?.Arn) === dlq).map((x) => x.ruleId);
        expect(rulesUsingIt, `${tier} ${dlq}`).toContain(ruleId);
        expect(allows).toHaveLength(rulesUsingIt.length);
        expect(allows).toEqual(expect.arrayContaining(rulesUsingIt.map((r) => expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [r, 'Arn'] } } } }))));
      }
    }
    expect(seen).toBeGreaterThan(0);
  });
});

describe('DeadLetterQueue and LambdaFunction.asyncInvocation (construct)', () => {
  function build(asyncRetries = 2) {
    const cdkApp = newApp();
    applyCompliancePacks(cdkApp);
    const stack = new Stack(cdkApp, 'DlqTest', { env: { account: '123456789012', region: 'us-east-1' } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const dlq = new DeadLetterQueue(stack, 'JobDeadLetters', { name: 'job', source: 'schedule Daily to job Lambda', encryptionKey: key });
    const fn = new LambdaFunction(stack, 'Job', {
      handlerFile: 'lifecycle/process-closure-queue', roleName: 'tessera-test-job', encryptionKey: key, reservedConcurrency: 1, invocation: 'by a schedule',
      asyncInvocation: { deadLetterQueue: dlq, retryAttempts: asyncRetries, maxEventAge: Duration.hours(1), reason: 'test' },
    });
    new events.Rule(stack, 'Daily', { schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: dlq.queue })] });
    const assembly = cdkApp.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }> }> };
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, rule: v.ruleName, at: v.violatingConstructs?.map((c) => c.constructPath) })));
    return { t: Template.fromStack(stack), open };
  }

  it('is cdk-nag clean (AwsSolutions, HIPAA, NIST 800-53 R5, CloudFormation validation) without acknowledging LambdaDLQ', () => {
    const { t, open } = build();
    expect(open).toEqual([]);
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'tessera-dlq-job', MessageRetentionPeriod: FOURTEEN_DAYS, KmsDataKeyReusePeriodSeconds: 3600 });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0] as any;
    expect(fn.Properties.KmsKeyArn['Fn::GetAtt'][0]).toMatch(/^Key/);
    expect(fn.Properties.DeadLetterConfig.TargetArn['Fn::GetAtt'][0]).toMatch(/^JobDeadLettersDlq/);
    const statements = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Sid)).toEqual(expect.arrayContaining(['EnvironmentKey', 'DeadLetters', 'DeadLetterKey']));
  });

  it('refuses a retry count Lambda does not allow, and a source that is no tag value', () => {
    expect(() => build(3)).toThrow(/asyncInvocation.retryAttempts is 3: Lambda retries an asynchronous event 0 to 2 times/);
    const stack = new Stack(newApp(), 'Bad');
    expect(() => new DeadLetterQueue(stack, 'Bad', { name: 'bad', source: 'a -> b' })).toThrow(/source "a -> b" must be/);
    expect(() => new DeadLetterQueue(stack, 'Bad2', { name: 'Bad_Name', source: 'x' })).toThrow(/name "Bad_Name" must be lower-case/);
  });
});
