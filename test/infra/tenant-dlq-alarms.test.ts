import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TENANT_DLQ_ALARM_PREFIX } from '../../constructs/tenant-dlq-alarm.js';
import { TENANT_DLQ_ALARMS_BUS_SID, TENANT_DLQ_ALARMS_RULE_NAME } from '../../constructs/monitoring/tenant-dlq-alarms.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { appTemplates, defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';
import { platformBusPut, TENANT_ACCOUNT } from '../support/platform-bus-put.js';

/**
 * Issue 17 item 4, tenant accounts: an alarm on each tenant-account DLQ, its state changes forwarded
 * to the platform bus, and the platform's rule to the alarm topic. Non-DR tiers come from the shared
 * default app; the DR tier (professional with a DR region: training and restore-events forwarders)
 * from the shared app of that config (synthesized with the compliance packs).
 */
type Resources = Record<string, { Type: string; Properties?: any; DeletionPolicy?: string }>;
const DR_TIER = 'professional';
const PATHS = { training: 'training-events', restore: 'restore-events' } as const;
/** Rules beside a path's own that forward into its queue with its role: the training path's endpoint state changes (constructs/training-events-forwarder.ts). */
const SIBLING_RULES: Record<string, string[]> = { [PATHS.training]: ['endpoint-events'], [PATHS.restore]: [] };
const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refOf = (v: any): string | undefined => v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
/** A `Fn::Join` of literal parts and `{ Ref: 'TenantId' }`, rendered with `TENANT`. */
const rendered = (v: any): string => (typeof v === 'string' ? v : v?.['Fn::Join'] ? (v['Fn::Join'][1] as any[]).map(rendered).join(v['Fn::Join'][0]) : v?.Ref === 'TenantId' ? 'TENANT' : v?.Ref ? `<${v.Ref}>` : JSON.stringify(v));

let app: DefaultAppTemplates;
let drBlueprint: Resources;
let drViolations: Array<{ plugin: string; rule?: string; at?: string[] }>;

beforeAll(async () => {
  app = defaultAppTemplates();
  // GIVEN a DR tier's blueprint: the app of that config, synthesized with the compliance packs over every stack, the
  // Blueprints stage included (its snapshot, test/support/default-app.ts, the one tenant-dr.test.ts reads)
  const withDr = await appTemplates({ tiers: { [DR_TIER]: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } });
  drBlueprint = withDr.blueprints[DR_TIER]!.toJSON().Resources;
  const report = withDr.validationReport as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }> }> };
  drViolations = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, rule: v.ruleName, at: v.violatingConstructs?.map((c) => c.constructPath) })));
}, 120_000);

/** The alarm, its forwarding rule, the queue and the forwarder role of one path of a blueprint. */
function pathOf(resources: Resources, path: string) {
  const queues = ofType(resources, 'AWS::SQS::Queue').filter(([, q]) => rendered(q.Properties.QueueName) === `tessera-TENANT-dlq-${path}`);
  expect(queues, path).toHaveLength(1);
  const queueId = queues[0]![0];
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => rendered(a.Properties.AlarmName) === `${TENANT_DLQ_ALARM_PREFIX}TENANT-${path}`);
  expect(alarms, path).toHaveLength(1);
  const rules = ofType(resources, 'AWS::Events::Rule');
  const eventRule = rules.find(([, r]) => rendered(r.Properties.Name) === `tessera-TENANT-${path}`)!;
  const alarmRule = rules.find(([, r]) => rendered(r.Properties.Name) === `tessera-TENANT-${path}-alarm`)!;
  expect(eventRule && alarmRule, path).toBeTruthy();
  const siblings = SIBLING_RULES[path]!.map((name) => rules.find(([, r]) => rendered(r.Properties.Name) === `tessera-TENANT-${name}`)!);
  expect(siblings.every(Boolean), path).toBe(true);
  return { queueId, queue: queues[0]![1], alarmId: alarms[0]![0], alarm: alarms[0]![1].Properties, eventRule, alarmRule, siblings };
}

function expectPath(resources: Resources, path: string) {
  const { queueId, queue, alarmId, alarm, eventRule, alarmRule, siblings } = pathOf(resources, path);
  // THEN the alarm: more than 0 visible messages (maximum) in one 5-minute period, missing data ignored (keeps its state: a full
  // queue left alone stops sending metrics after six hours and must not clear), no action
  expect(alarm).toMatchObject({
    Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'ignore',
  });
  expect(alarm.AlarmActions).toBeUndefined();
  // and its description names the tenant, the queue and the command that shows it
  const description = rendered(alarm.AlarmDescription);
  expect(description).toContain(`Tessera tenant TENANT: dead-letter queue tessera-TENANT-dlq-${path} holds events`);
  expect(description).toContain(`tessera dlq list tessera-TENANT-dlq-${path} --prefix tessera-TENANT-dlq- --region <AWS::Region> --peek 5`);
  expect(description).toContain(`tessera dlq purge tessera-TENANT-dlq-${path} --prefix tessera-TENANT-dlq- --region <AWS::Region> --yes`);
  // and the alarm rule forwards this alarm's state changes only, to the platform bus, dead-lettering into the same queue
  const [alarmRuleId, r] = alarmRule;
  expect(r.Properties.EventPattern).toEqual({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], resources: [{ 'Fn::GetAtt': [alarmId, 'Arn'] }] });
  expect(r.Properties.Targets).toHaveLength(1);
  const target = r.Properties.Targets[0];
  const [eventRuleId, er] = eventRule;
  const eventTarget = er.Properties.Targets[0];
  expect(rendered(target.Arn)).toBe(`arn:<AWS::Partition>:events:${DEFAULT_CONFIG.homeRegion}:${DEFAULT_CONFIG.platformAccountId}:event-bus/${PLATFORM_EVENT_BUS_NAME}`);
  expect(target.Arn).toEqual(eventTarget.Arn);
  expect(refOf(target.DeadLetterConfig.Arn)).toBe(queueId);
  // with the path's forwarder role, which trusts EventBridge for exactly the rules of the path (its siblings' too, which use it and the queue)
  expect(target.RoleArn).toEqual(eventTarget.RoleArn);
  for (const [, sibling] of siblings) {
    expect(sibling.Properties.Targets).toHaveLength(1);
    expect(sibling.Properties.Targets[0]).toMatchObject({ Arn: eventTarget.Arn, RoleArn: eventTarget.RoleArn, DeadLetterConfig: eventTarget.DeadLetterConfig });
  }
  const role = resources[refOf(target.RoleArn)!]!;
  const trust = role.Properties.AssumeRolePolicyDocument.Statement;
  expect(trust).toHaveLength(1);
  expect(trust[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
  expect((trust[0].Condition.StringEquals['aws:SourceArn'] as any[]).map(rendered)).toEqual([
    `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/tessera-TENANT-${path}`,
    ...SIBLING_RULES[path]!.map((name) => `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/tessera-TENANT-${name}`),
    `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/tessera-TENANT-${path}-alarm`,
  ]);
  expect(trust[0].Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  // whose only permission is PutEvents on the platform bus
  const policies = ofType(resources, 'AWS::IAM::ManagedPolicy').filter(([, p]) => (p.Properties.Roles ?? []).some((x: any) => refOf(x) === refOf(target.RoleArn)));
  expect(policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: target.Arn }]);
  // and the queue: SSE-SQS, 14 days, retained, sendable by exactly its two rules
  expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  // (the blueprints turn RETAIN into RetainExceptOnCreate: a failed first create leaves nothing behind)
  expect(['Retain', 'RetainExceptOnCreate']).toContain(queue.DeletionPolicy);
  const policy = ofType(resources, 'AWS::SQS::QueuePolicy').find(([, p]) => p.Properties.Queues.some((x: any) => refOf(x) === queueId))![1];
  const allows = (policy.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Effect === 'Allow');
  expect(allows.map((s) => ({ principal: s.Principal, action: s.Action, rule: refOf(s.Condition.ArnEquals['aws:SourceArn']) })).sort((a, b) => a.rule!.localeCompare(b.rule!)))
    .toEqual([eventRuleId, ...siblings.map(([id]) => id), alarmRuleId].sort().map((rule) => ({ principal: { Service: 'events.amazonaws.com' }, action: 'sqs:SendMessage', rule })));
}

describe('tenant blueprint: alarms on the tenant account\'s DLQs', () => {
  it('alarms on the training events DLQ of a tier without DR, and forwards the alarm to the platform bus', () => {
    for (const tier of ['professional', 'enterprise']) expectPath(app.blueprints[tier]!.toJSON().Resources, PATHS.training);
  });

  it('alarms on both DLQs of a DR tier (training events and restore events)', () => {
    expectPath(drBlueprint, PATHS.training);
    expectPath(drBlueprint, PATHS.restore);
  });

  it('adds exactly one alarm and one rule per DLQ (and the training forwarder its endpoint events rule), and nothing to a tier without forwarders', () => {
    const count = (resources: Resources, type: string) => ofType(resources, type).length;
    for (const [tier, t] of Object.entries(app.blueprints)) {
      const resources = t.toJSON().Resources as Resources;
      const dlqs = ofType(resources, 'AWS::SQS::Queue').length;
      expect(count(resources, 'AWS::CloudWatch::Alarm'), tier).toBe(dlqs);
      // ...and the endpoint events' rule beside the training events' (it shares their queue)
      const training = ofType(resources, 'AWS::SQS::Queue').filter(([, q]) => rendered(q.Properties.QueueName) === `tessera-TENANT-dlq-${PATHS.training}`).length;
      expect(count(resources, 'AWS::Events::Rule'), tier).toBe(2 * dlqs + training);
    }
    expect(ofType(app.blueprints.starter!.toJSON().Resources, 'AWS::CloudWatch::Alarm')).toEqual([]);
    expect(count(drBlueprint, 'AWS::CloudWatch::Alarm')).toBe(2);
    expect(count(drBlueprint, 'AWS::Events::Rule')).toBe(5);
  });

  it('names no other tenant: every name and pattern of the additions is built from this blueprint\'s TenantId', () => {
    for (const resources of [drBlueprint, app.blueprints.enterprise!.toJSON().Resources as Resources]) {
      for (const [, a] of ofType(resources, 'AWS::CloudWatch::Alarm')) {
        expect(JSON.stringify(a.Properties.AlarmName)).toContain('"Ref":"TenantId"');
        expect(rendered(a.Properties.AlarmDescription).match(/tessera-[a-z0-9-]*TENANT/g)?.length ?? 0).toBeGreaterThan(0);
      }
    }
  });

  it('is cdk-nag clean (AwsSolutions, HIPAA, NIST 800-53 R5) with a DR tier', () => {
    expect(drViolations).toEqual([]);
  });
});

describe('platform: notifying the alarm topic of forwarded tenant DLQ alarms (Operations stack)', () => {
  let ops: Resources;
  let platform: Resources;
  let ruleId: string;
  let rule: any;
  beforeAll(() => {
    ops = app.operations.toJSON().Resources;
    platform = app.platform.toJSON().Resources;
    [ruleId, rule] = ofType(ops, 'AWS::Events::Rule').find(([, r]) => r.Properties.Name === TENANT_DLQ_ALARMS_RULE_NAME)!;
    expect(rule).toBeDefined();
  });

  it('matches forwarded DLQ alarms going to ALARM on the platform bus', () => {
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [{ prefix: TENANT_DLQ_ALARM_PREFIX }], state: { value: ['ALARM'] } },
    });
    // the bus reaches the nested stack as a parameter
    expect(rule.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/LifecycleEventsBus/) });
  });

  it('publishes one text with alarm, account, region, time, the blueprint\'s description and the reason to the alarm topic, with retries and a DLQ', () => {
    const [target] = rule.Properties.Targets;
    const topicId = refOf(target.Arn)!;
    expect(ops[topicId]!.Type).toBe('AWS::SNS::Topic');
    expect(ops[topicId]!.Properties.KmsMasterKeyId).toBeDefined();
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-alarmName': '$.detail.alarmName', account: '$.account', region: '$.region', time: '$.time',
      'detail-configuration-description': '$.detail.configuration.description', 'detail-state-reason': '$.detail.state.reason',
    });
    expect(JSON.parse(target.InputTransformer.InputTemplate)).toBe(
      'ALARM <detail-alarmName> in account <account> (<region>) at <time>.\n<detail-configuration-description>\nReason: <detail-state-reason>');
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 });
    const dlq = ops[refOf(target.DeadLetterConfig.Arn)!]!;
    expect(dlq.Properties.QueueName).toBe('tessera-dlq-tenant-dlq-alarms');
    // and the topic's policy lets EventBridge publish for this rule only
    const topicPolicy = ofType(ops, 'AWS::SNS::TopicPolicy').find(([, p]) => p.Properties.Topics.some((t: any) => refOf(t) === topicId))![1];
    const publishers = (topicPolicy.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Effect === 'Allow' && s.Principal?.Service === 'events.amazonaws.com');
    expect(publishers).toEqual([expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } } })]);
  });

  it('lets EventBridge use the platform key for this rule only (the topic is SSE-KMS)', () => {
    const key = ofType(platform, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))![1];
    const statement = (key.Properties.KeyPolicy.Statement as any[]).find((s) => s.Sid === 'EventBridgePublishesTenantDlqAlarms');
    expect(statement).toMatchObject({
      Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(ofType(platform, 'AWS::Events::EventBus')[0]![1].Properties.Name).toBe(PLATFORM_EVENT_BUS_NAME);
    expect(rendered(statement.Condition.ArnEquals['aws:SourceArn'])).toBe(`arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${PLATFORM_EVENT_BUS_NAME}/${TENANT_DLQ_ALARMS_RULE_NAME}`);
  });

  it('admits on the platform bus only alarm state changes, from the organization\'s forwarder roles', () => {
    const policies = ofType(ops, 'AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    const p = policies[0]![1].Properties;
    expect(p.StatementId).toBe(TENANT_DLQ_ALARMS_BUS_SID);
    expect(p.Statement).toMatchObject({
      Sid: TENANT_DLQ_ALARMS_BUS_SID, Effect: 'Allow', Principal: { AWS: '*' }, Action: 'events:PutEvents',
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': DEFAULT_CONFIG.organization.organizationId },
        'ForAllValues:StringEquals': { 'events:source': ['aws.cloudwatch'], 'events:detail-type': ['CloudWatch Alarm State Change'] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
    expect(rendered(p.Statement.Condition.ArnLike['aws:PrincipalArn'])).toBe('arn:<AWS::Partition>:iam::*:role/tessera/service-role/*');
    // the platform stack gains no resource for it (it is at CloudFormation's 500 limit's edge)
    expect(ofType(platform, 'AWS::Events::EventBusPolicy').map(([id]) => id)).toEqual([expect.stringContaining('OrganizationForwardsTrainingEvents')]);
  });

  it('alarms (Critical) on its own DLQ and shows the forwarded alarms on the platform dashboard', () => {
    const queueId = ofType(ops, 'AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName === 'tessera-dlq-tenant-dlq-alarms')![0];
    // An alarm's metric is stated directly or as the one MetricStat of its Metrics (cdk-monitoring-constructs).
    const metricOf = (a: any) => a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? a;
    const alarms = ofType(ops, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).filter((a) => metricOf(a).Dimensions?.some((d: any) => refOf(d.Value) === queueId));
    expect(alarms).toHaveLength(1);
    expect(metricOf(alarms[0]).MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(alarms[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const dashboards = JSON.stringify(ofType(ops, 'AWS::CloudWatch::Dashboard').map(([, d]) => d.Properties.DashboardBody));
    expect(dashboards).toContain('MatchedEvents');
    expect(dashboards).toContain(`\\"RuleName\\",\\"${TENANT_DLQ_ALARMS_RULE_NAME}\\"`);
  });
});

describe('platform bus policy, evaluated (@cloud-copilot/iam-simulate, as the isolation check does)', () => {
  const FORWARDER = `arn:aws:iam::${TENANT_ACCOUNT}:role/tessera/service-role/TesseraTenant-TrainingEventsRoleE4A38465-AB12CD34`;
  let put: ReturnType<typeof platformBusPut>;
  beforeAll(() => {
    // The Operations stack's statement, with the bus's ARN (a nested stack parameter there) and the partition filled in
    put = platformBusPut(ofType(app.operations.toJSON().Resources, 'AWS::Events::EventBusPolicy')[0]![1].Properties.Statement);
  });
  const ALARM = ['aws.cloudwatch'];
  const STATE_CHANGE = ['CloudWatch Alarm State Change'];

  it('admits a forwarder role of an organization account putting alarm state changes', async () => {
    expect((await put(FORWARDER, ALARM, STATE_CHANGE)).result).toBe('Allowed');
  });

  it('refuses lifecycle events, a call mixing them in, other CloudWatch events, roles off the service path and accounts outside the organization', async () => {
    for (const [what, r] of [
      ['an onboarding request', await put(FORWARDER, ['tessera.lifecycle'], ['Tenant Onboarding Requested'])],
      ['an alarm and an onboarding request in one call', await put(FORWARDER, ['aws.cloudwatch', 'tessera.lifecycle'], ['CloudWatch Alarm State Change', 'Tenant Onboarding Requested'])],
      ['an alarm configuration change', await put(FORWARDER, ALARM, ['CloudWatch Alarm Configuration Change'])],
      // (a request without the keys: ForAllValues alone would be true of it; the Null condition refuses it)
      ['a request without events:source and events:detail-type', await put(FORWARDER, undefined, undefined)],
      ['a tenant role off the service path', await put(`arn:aws:iam::${TENANT_ACCOUNT}:role/tessera-acme-admin`, ALARM, STATE_CHANGE)],
      ['an account of another organization', await put(FORWARDER, ALARM, STATE_CHANGE, 'o-otherorg99')],
    ] as const) expect(r.allowed, `${what}: ${r.result}`).toBe(false);
  });
});

describe('blueprint execution role', () => {
  it('may create, tag and delete the Tessera-TenantDlq-* alarms only', () => {
    const t = app.accountBaseline;
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'DeadLetterQueueAlarms',
        Action: ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:ListTagsForResource', 'cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource', 'cloudwatch:UntagResource'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:${TENANT_DLQ_ALARM_PREFIX}*`]] },
      })]) },
    });
  });
});
