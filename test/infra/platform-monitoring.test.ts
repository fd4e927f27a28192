import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_THRESHOLDS, PLATFORM_DASHBOARD_NAME } from '../../constructs/platform-monitoring.js';
import { appTemplates } from '../support/default-app.js';

/** The compliance packs (lib/compliance.ts), by their plugin name in the validation report. */
const PACKS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5'];
interface Violation { ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }
let ops: Template;
let platform: Template;
let violations: Violation[];
let suppressed: Array<Violation & { pack: string }>;
let dashboards: Record<string, string>;
let alarms: Array<{ id: string; props: any }>;

/** A template value as text: Fn::Join flattened, references as their JSON (`{"Ref":"…"}`). */
const text = (v: unknown): string => {
  if (typeof v === 'string') return v;
  const join = (v as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return join ? join[1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(join[0]) : JSON.stringify(v);
};
const alarm = (name: string) => alarms.find((a) => a.props.AlarmName === name)?.props;
/** An alarm's metric, stated directly or as the one MetricStat of its Metrics. */
const metricOf = (a: any) => {
  const stat = a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat;
  return stat
    ? { MetricName: stat.Metric.MetricName, Namespace: stat.Metric.Namespace, Stat: stat.Stat, Period: stat.Period }
    : { MetricName: a.MetricName, Namespace: a.Namespace, Stat: a.ExtendedStatistic ?? a.Statistic, Period: a.Period };
};

beforeAll(async () => {
  // GIVEN alarm emails and gateway thresholds in the config
  // WHEN the whole app is built and synthesized with the compliance packs (its snapshot, test/support/default-app.ts:
  // buildApp(configWith(overrides)) and app.synth(), made once per state of the sources)
  const built = await appTemplates({
    operations: { alarmEmails: ['ops@example.com', 'oncall@example.org'], alarms: { gatewayServerErrorPercent: 2, gatewayP99LatencyMs: 30_000, upstreamErrorPercent: 15 }, topTenants: 5 },
  });
  const report = built.validationReport as { pluginReports: Array<{ pluginName: string; violations: Violation[]; suppressedViolations?: Violation[] }> };
  violations = report.pluginReports.flatMap((r) => r.violations);
  suppressed = report.pluginReports.flatMap((r) => (r.suppressedViolations ?? []).map((v) => ({ ...v, pack: r.pluginName })));
  ops = built.operations;
  platform = built.platform;
  dashboards = Object.fromEntries(Object.values(ops.findResources('AWS::CloudWatch::Dashboard')).map((d: any) => [d.Properties.DashboardName, text(d.Properties.DashboardBody)]));
  alarms = Object.entries(ops.findResources('AWS::CloudWatch::Alarm')).map(([id, a]: [string, any]) => ({ id, props: a.Properties }));
}, 120_000);

describe('PlatformMonitoring: the platform dashboard', () => {
  it('has the lifecycle, gateway, fine-tuning, Lambda, DynamoDB and failure queue sections', () => {
    const body = dashboards[PLATFORM_DASHBOARD_NAME];
    expect(body).toBeDefined();
    for (const section of ['# Tenant lifecycle', '# Gateway', '# Fine-tuning', '# Lambda functions', '# DynamoDB', '# Failure queues']) expect(body).toContain(section);
    // CloudWatch takes at most 500 widgets per dashboard (Dashboard Body Structure and Syntax).
    expect(body.match(/"type":"(metric|text|alarm)"/g)!.length).toBeLessThan(500);
  });

  it('shows each workflow\'s executions started, succeeded and failed, and every step function\'s duration', () => {
    const body = dashboards[PLATFORM_DASHBOARD_NAME];
    for (const workflow of ['Onboard', 'Change', 'Status', 'Offboard', 'Upgrade']) expect(body).toContain(`${workflow} workflow`);
    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']) expect(body).toContain(`"AWS/States","${metric}"`);
    expect(body).toContain('Step duration p90 (ms)');
    expect(body.match(/"AWS\/Lambda","Duration","FunctionName","\{"Ref":"[^"]+"\}",\{"label":"[a-z-]+","stat":"p90"/g)!.length).toBeGreaterThanOrEqual(30);
    expect(body).toContain(`SEARCH('{\\"Tessera\\",\\"service\\",\\"Step\\"} \\"service\\"=\\"tessera-lifecycle\\" MetricName=\\"StepFailed\\"', 'Sum', 300)`);
  });

  it('shows the gateway: requests, p50/p99 latency, 4xx/5xx by code, throttles, upstream latency and errors per provider, tokens and cost per hour', () => {
    const body = dashboards[PLATFORM_DASHBOARD_NAME];
    const gw = (metric: string) => `"Tessera/Gateway","${metric}","Service","gateway"`;
    for (const m of ['Requests', 'ClientErrors', 'ServerErrors', 'Throttles']) expect(body).toContain(gw(m));
    expect(body).toMatch(new RegExp(`${gw('Latency')}.*"stat":"p50"`));
    expect(body).toMatch(new RegExp(`${gw('Latency')}.*"stat":"p99"`));
    expect(body).toContain('MetricName=\\"ErrorResponses\\"');
    expect(body).toContain('{\\"Tessera/Gateway\\",\\"StatusCode\\"}');
    expect(body).toContain(`SEARCH('{\\"Tessera/Gateway\\",\\"Provider\\"}  MetricName=\\"UpstreamLatency\\"', 'p99', 300)`);
    expect(body).toContain(`SEARCH('{\\"Tessera/Gateway\\",\\"Provider\\"}  MetricName=\\"UpstreamErrors\\"', 'Sum', 300)`);
    expect(body).toMatch(new RegExp(`${gw('Tokens')}.*"period":3600`));
    expect(body).toMatch(new RegExp(`${gw('CostUsd')}.*"period":3600`));
    expect(body).toContain('"AWS/ApiGateway","5XXError"');
  });

  it('shows fine-tuning jobs by state, Lambda errors, duration and concurrency, DynamoDB throttles and failure queue depth', () => {
    const body = dashboards[PLATFORM_DASHBOARD_NAME];
    expect(body).toContain(`SEARCH('{\\"Tessera/FineTuning\\",\\"service\\",\\"State\\"} \\"service\\"=\\"tessera-fine-tuning\\" MetricName=\\"TrainingJobStateChanges\\"', 'Sum', 3600)`);
    for (const m of ['Errors', 'Duration', 'ConcurrentExecutions', 'Throttles']) expect(body).toContain(`"AWS/Lambda","${m}"`);
    expect(body).toContain('Inference-Router');
    expect(body).toMatch(/"AWS\/DynamoDB","ReadThrottleEvents"/);
    expect(body).toMatch(/"AWS\/DynamoDB","WriteThrottleEvents"/);
    expect(body).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible"');
  });
});

describe('PlatformMonitoring: the tier dashboards', () => {
  it('ranks each tier\'s top tenants by tokens, cost and failed requests with Contributor Insights rules over the gateway\'s log groups', () => {
    const rules = Object.values(ops.findResources('AWS::CloudWatch::InsightRule')).map((r: any) => r.Properties);
    expect(rules.map((r) => r.RuleName).sort()).toEqual(['enterprise', 'professional', 'starter'].flatMap((t) => ['cost', 'errors', 'tokens'].map((k) => `tessera-${t}-top-${k}`)).sort());
    for (const r of rules) {
      expect(r.RuleState).toBe('ENABLED');
      const tier = /^tessera-(\w+)-top-/.exec(r.RuleName)![1];
      // The body joins the two log group names (parameters of the nested stack) into JSON.
      const body = JSON.parse(text(r.RuleBody).replace(/\{"Ref":"([^"]+)"\}/g, '$1'));
      expect(body).toMatchObject({ Schema: { Name: 'CloudWatchLogRule', Version: 1 }, LogFormat: 'JSON', Contribution: { Keys: ['$.tenantId'] } });
      expect(body.LogGroupNames).toHaveLength(2);
      expect(body.Contribution.Filters[0]).toEqual({ Match: '$.Tier', In: [tier] });
      if (r.RuleName.endsWith('tokens')) expect(body).toMatchObject({ AggregateOn: 'Sum', Contribution: { ValueOf: '$.Tokens' } });
      if (r.RuleName.endsWith('cost')) expect(body).toMatchObject({ AggregateOn: 'Sum', Contribution: { ValueOf: '$.CostUsd' } });
      if (r.RuleName.endsWith('errors')) expect(body).toMatchObject({ AggregateOn: 'Count', Contribution: { Filters: [{}, { Match: '$.StatusCode', StartsWith: ['4', '5'] }] } });
    }
    for (const tier of ['starter', 'professional', 'enterprise']) {
      const body = dashboards[`Tessera-Tier-${tier}`];
      expect(body).toBeDefined();
      for (const k of ['tokens', 'cost', 'errors']) expect(body).toContain(`"insightRule":{"maxContributorCount":5,"orderBy":"Sum","ruleName":"tessera-${tier}-top-${k}"}`);
      expect(body).toContain(`"Tessera/Gateway","Tokens","Service","gateway","Tier","${tier}"`);
    }
  });

  it('reads the router\'s and the fine-tuning API\'s log groups, handed over from the platform stack', () => {
    const rule = Object.values(ops.findResources('AWS::CloudWatch::InsightRule'))[0] as any;
    const refs = text(rule.Properties.RuleBody).match(/\{"Ref":"([^"]+)"\}/g)!.map((r) => JSON.parse(r).Ref);
    const nested = Object.entries(platform.findResources('AWS::CloudFormation::Stack')).find(([id]) => id.startsWith('OperationsNestedStack'))![1] as any;
    expect(refs.map((p: string) => nested.Properties.Parameters[p]).map((v: any) => v.Ref).sort()).toEqual([expect.stringMatching(/^FineTuningApiLogs/), expect.stringMatching(/^InferenceRouterLogs/)]);
  });
});

describe('PlatformMonitoring: alarms', () => {
  it('alarms on the gateway with the configured thresholds, sustained over 3 of 3 five-minute periods', () => {
    expect(alarm('Tessera-Gateway-GatewayServerErrorRate-Critical')).toMatchObject({ Threshold: 2, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3, TreatMissingData: 'notBreaching' });
    expect(alarm('Tessera-Gateway-GatewayServerErrorRate-Critical').Metrics.find((m: any) => m.Expression).Expression).toBe('100 * errors / MAX([requests, 1])');
    expect(alarm('Tessera-Gateway-GatewayLatencyP99-Warning')).toMatchObject({ Threshold: 30_000, EvaluationPeriods: 3 });
    expect(metricOf(alarm('Tessera-Gateway-GatewayLatencyP99-Warning'))).toEqual({ MetricName: 'Latency', Namespace: 'Tessera/Gateway', Stat: 'p99', Period: 300 });
    for (const provider of ['bedrock', 'openai', 'huggingface', 'openai-compatible', 'sagemaker']) {
      expect(alarm(`Tessera-Gateway-UpstreamErrorRate-${provider}-Critical`), provider).toMatchObject({ Threshold: 15, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    }
    expect(alarm('Tessera-InferenceApi-Fault-Count-Critical')).toMatchObject({ Threshold: ALARM_THRESHOLDS.apiGateway5xxPerPeriod });
    expect(metricOf(alarm('Tessera-InferenceApi-Fault-Count-Critical'))).toMatchObject({ MetricName: '5XXError', Namespace: 'AWS/ApiGateway' });
  });

  it('alarms on every failed workflow execution and every message in a failure queue at once', () => {
    for (const workflow of ['Onboard', 'Change', 'Status', 'Offboard', 'Upgrade']) {
      expect(alarm(`Tessera-Workflow-${workflow}-Failure-Count-Critical`), workflow).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, DatapointsToAlarm: 1 });
      expect(metricOf(alarm(`Tessera-Workflow-${workflow}-Failure-Count-Critical`))).toMatchObject({ MetricName: 'ExecutionsFailed', Namespace: 'AWS/States' });
    }
    const machines = Object.keys(platform.findResources('AWS::StepFunctions::StateMachine'));
    expect(alarms.filter((a) => /^Tessera-Workflow-\w+-Failure-Count-Critical$/.test(a.props.AlarmName))).toHaveLength(machines.length);
    expect(alarm('Tessera-CorsOrigins-Failures-Queue-Message-Count-Max-Critical')).toMatchObject({ Threshold: 0, EvaluationPeriods: 1 });
    expect(metricOf(alarm('Tessera-CorsOrigins-Failures-Queue-Message-Count-Max-Critical'))).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' });
    // A dead-letter queue's alarm names the queue and the commands that show and replay it.
    expect(JSON.stringify(alarm('Tessera-Lifecycle-OnboardingRequestedDeadLetters-Dlq-Queue-Message-Count-Max-Critical').AlarmDescription))
      .toMatch(/Dead-letter queue .*tessera dlq list .*--peek 5; replay: tessera dlq redrive /);
  });

  it('warns on errors and throttles of every non-lifecycle function and throttles of every table', () => {
    for (const fn of ['Inference-Router', 'Inference-Authorizer', 'Admin-Handler', 'FineTuning-Api', 'FineTuning-Events', 'CorsOrigins-Maintainer']) {
      expect(alarm(`Tessera-${fn}-Fault-Count-Warning`), fn).toMatchObject({ Threshold: ALARM_THRESHOLDS.functionErrorsPerPeriod, DatapointsToAlarm: 3 });
      expect(alarm(`Tessera-${fn}-Throttled-Count-Warning`), fn).toMatchObject({ Threshold: ALARM_THRESHOLDS.functionThrottlesPerPeriod });
    }
    for (const table of ['Registry-Table', 'ApiKeys-Table', 'Responses-Table', 'Inference-UsageTable', 'Lifecycle-ControlTable', 'FineTuning-Jobs']) {
      for (const op of ['Read', 'Write']) expect(alarm(`Tessera-${table}-${op}-Throttled-Events-Warning`), table).toMatchObject({ Threshold: ALARM_THRESHOLDS.tableThrottledEventsPerPeriod });
    }
  });

  it('sends every alarm, and the composite "platform unhealthy" over every Critical one, to the alarm topic', () => {
    const topic = Object.keys(ops.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'Tessera platform alarms' } }))[0];
    for (const a of alarms) expect(a.props.AlarmActions, a.props.AlarmName).toEqual([{ Ref: topic }]);
    const composite = Object.values(ops.findResources('AWS::CloudWatch::CompositeAlarm')) as any[];
    expect(composite).toHaveLength(1);
    expect(composite[0].Properties).toMatchObject({ AlarmName: 'Tessera-PlatformUnhealthy', AlarmActions: [{ Ref: topic }], ActionsEnabled: true });
    const rule = text(composite[0].Properties.AlarmRule);
    const critical = alarms.filter((a) => a.props.AlarmName.endsWith('-Critical'));
    expect(critical.length).toBeGreaterThanOrEqual(12);
    for (const a of alarms) expect(rule.includes(`"Fn::GetAtt":["${a.id}","Arn"]`), a.props.AlarmName).toBe(a.props.AlarmName.endsWith('-Critical'));
  });

  it('encrypts the topic with the platform key, whose policy lets CloudWatch use it for Tessera alarms only', () => {
    const [topicId, topic] = Object.entries(ops.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'Tessera platform alarms' } }))[0] as [string, any];
    const keyParam = topic.Properties.KmsMasterKeyId.Ref;
    const nested = Object.entries(platform.findResources('AWS::CloudFormation::Stack')).find(([id]) => id.startsWith('OperationsNestedStack'))![1] as any;
    expect(nested.Properties.Parameters[keyParam]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PlatformKey/), 'Arn'] });
    ops.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const key = platform.toJSON().Resources[nested.Properties.Parameters[keyParam]['Fn::GetAtt'][0]];
    expect(key.Type).toBe('AWS::KMS::Key');
    const statement = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CloudWatchAlarmsToEncryptedTopic');
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' });
    expect(statement.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '222222222222' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:222222222222:alarm:Tessera*' },
    });
  });

  it('subscribes the configured emails to the topic', () => {
    const subs = Object.values(ops.findResources('AWS::SNS::Subscription')).map((s: any) => s.Properties);
    expect(subs.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual([['email', 'oncall@example.org'], ['email', 'ops@example.com']]);
  });
});

describe('PlatformMonitoring: compliance and size', () => {
  it('leaves cdk-nag nothing to report on the monitoring, in the Operations nested stack, which the packs do check (their acknowledged findings there)', () => {
    const at = (vs: Violation[], prefix: string) => vs.flatMap((v) => (v.violatingConstructs ?? []).map((c) => c.constructPath)).filter((p) => p.startsWith(prefix));
    expect(at(violations, 'TesseraPlatform/Operations/')).toEqual([]);
    expect(at(suppressed, 'TesseraPlatform/Operations/Monitoring/')).toEqual([]); // nothing acknowledged either
    // Each pack reached the nested stack: it reported findings on the Operations stack's other resources (the
    // statements job, the reservation reclaim job...), which the app acknowledges. (Before, a planted unencrypted topic
    // in a build of this test's own proved it; the app's own findings prove it of the app as deployed.)
    for (const pack of PACKS) expect(at(suppressed.filter((v) => v.pack === pack), 'TesseraPlatform/Operations/').length, pack).toBeGreaterThan(0);
  });

  it('keeps both templates under 500 resources', () => {
    expect(Object.keys(ops.toJSON().Resources).length).toBeLessThan(500);
    expect(Object.keys(platform.toJSON().Resources).length).toBeLessThan(500);
    expect(Object.keys(ops.toJSON().Parameters).length).toBeLessThanOrEqual(200);
  });
});
