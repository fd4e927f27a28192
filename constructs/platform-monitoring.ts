import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  AxisPosition, DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy, type CustomMetric, type CustomMetricGroup,
} from 'cdk-monitoring-constructs';
import { Construct, type IConstruct } from 'constructs';
import { TRAINING_STATE_METRIC } from '../lambdas/fine-tuning/training-state-metric.js';
import { GATEWAY_METRICS, GATEWAY_METRICS_NAMESPACE, GATEWAY_METRICS_SERVICE } from '../lambdas/inference/metrics-audit-sink.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { providerOf } from '../lambdas/inference/policy.js';
import type { AdminApi } from './admin-api.js';
import type { FineTuning } from './fine-tuning.js';
import type { InferenceApi } from './inference-api.js';
import { LambdaFunction } from './lambda-function.js';
import { LifecycleEventBus } from './lifecycle-event-bus.js';
import { AlarmTopic } from './monitoring/alarm-topic.js';
import { TenantDlqAlarmNotifications } from './monitoring/tenant-dlq-alarms.js';
import { TierTopTenants } from './monitoring/tier-top-tenants.js';
import type { TenantLifecycle } from './tenant-lifecycle.js';

/** Prefix of every alarm name (the alarm topic's key grant is scoped to it). */
export const ALARM_NAME_PREFIX = 'Tessera';
/** The platform dashboard's name. */
export const PLATFORM_DASHBOARD_NAME = 'Tessera-Platform';
/** Alarms with this disambiguator make up the composite "platform unhealthy" alarm; `Warning` ones only notify. */
export const CRITICAL = 'Critical';
export const WARNING = 'Warning';

/**
 * Thresholds of the alarms that are not in the config (`operations.alarms` holds the gateway's).
 * Periods are five minutes unless named.
 */
export const ALARM_THRESHOLDS = {
  /** A workflow execution failed (every state machine of the platform: onboard, change, status, offboard, upgrade, drift): more than 0 in a period. Critical: a tenant may be stuck or half-built, or a fleet operation incomplete. */
  workflowFailedExecutions: 0,
  /** Messages in a failure queue (DLQ): more than 0. Critical: something was not processed and waits for an operator. */
  failureQueueMessages: 0,
  /** API Gateway 5XXError (integration failures the router never saw: timeouts, crashes): more than 10 in each of 3 periods. Critical. */
  apiGateway5xxPerPeriod: 10,
  /** Errors of a non-lifecycle function (gateway, admin, fine-tuning, index maintainers): more than 5 in each of 3 periods. Warning. */
  functionErrorsPerPeriod: 5,
  /** Throttles of a non-lifecycle function (its reserved concurrency is exhausted): more than 10 in each of 3 periods. Warning. */
  functionThrottlesPerPeriod: 10,
  /** Read or write throttled events of a platform table: more than 10 in each of 3 periods. Warning: on-demand tables throttle only past their partition or account limits. */
  tableThrottledEventsPerPeriod: 10,
} as const;

/** Three of three five-minute periods: a quarter of an hour of trouble, not one spike. */
const SUSTAINED = { datapointsToAlarm: 3, evaluationPeriods: 3 } as const;

export interface PlatformMonitoringProps {
  /** The platform config: `operations` (alarm emails, gateway thresholds, top-N), `tiers` (one dashboard each), the catalog's providers. */
  readonly config: PlatformConfig;
  /** The platform key: encrypts the alarm topic; its policy gains CloudWatch's use of it for `Tessera*` alarms. */
  readonly encryptionKey: kms.IKey;
  /** The inference API (API Gateway view) and its router, whose log group the tier rules read. */
  readonly inference: InferenceApi;
  /** The admin API (API Gateway view). */
  readonly admin: AdminApi;
  /** The lifecycle: its step functions are drawn together, not one section each. */
  readonly lifecycle: TenantLifecycle;
  /** Fine-tuning: its API function (child `Api`) prints gateway metrics too, so the tier rules read its log group. */
  readonly fineTuning: FineTuning;
  /**
   * Where the state machines, Lambda functions, DynamoDB tables and failure queues to watch are
   * found: every `StateMachine`, `LambdaFunction`, `TableV2`, and SQS queue whose id names a
   * failure or dead-letter queue (`fail`, `dead`, `dlq`) in it.
   * @default - the stack of `inference` (the platform stack, nested stacks included)
   */
  readonly monitored?: IConstruct;
  /**
   * The platform bus, where the tenant blueprints forward their dead-letter queue alarms (TenantDlqAlarmNotifications).
   * @default - the one LifecycleEventBus in `monitored`
   * @throws Error when there is none and none is given
   */
  readonly eventBus?: events.IEventBus;
}

/**
 * Dashboards and alarms (cdk-monitoring-constructs):
 * - the platform dashboard `Tessera-Platform`: lifecycle workflows (executions started, succeeded,
 *   failed; step duration, errors, throttles and concurrency per step function; step outcomes);
 *   the gateway (requests, p50/p99 latency, 4xx/5xx by code, throttles, upstream latency and
 *   errors per provider, tokens and cost per hour; API Gateway's own view); fine-tuning jobs by
 *   state; every other Lambda (errors, duration, concurrency); DynamoDB throttles; failure queue depth;
 * - one dashboard per tier with its top tenants (TierTopTenants);
 * - alarms (thresholds in `ALARM_THRESHOLDS` and `operations.alarms`) to an SNS topic encrypted
 *   with the platform key, email subscriptions from `operations.alarmEmails`, and a composite
 *   `Tessera-PlatformUnhealthy` alarm over every Critical alarm;
 * - the tenant accounts' dead-letter queue alarms, forwarded to the platform bus, notified on the
 *   same topic (TenantDlqAlarmNotifications) and counted on the dashboard.
 * @throws Error when the fine-tuning API function (child `Api` of FineTuning) is missing, or no event bus is given or found
 */
export class PlatformMonitoring extends Construct {
  readonly topic: sns.ITopic;
  readonly facade: MonitoringFacade;
  readonly platformUnhealthy: cloudwatch.CompositeAlarm;
  readonly tiers: TierTopTenants[];
  readonly tenantDlqAlarms: TenantDlqAlarmNotifications;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    const { config, inference, lifecycle } = props;
    const ops = config.operations;
    const monitored = props.monitored ?? Stack.of(inference);
    this.topic = new AlarmTopic(this, 'Alarms', { encryptionKey: props.encryptionKey, emails: ops.alarmEmails, alarmNamePrefix: ALARM_NAME_PREFIX }).topic;
    // Before the failure queues are collected: its own dead-letter queue is alarmed with the others.
    // Beside the monitoring (same scope), not in it: its queue carries the DLQ's own acknowledgement (SQS3), the monitoring none.
    const buses = monitored.node.findAll().filter((c): c is LifecycleEventBus => c instanceof LifecycleEventBus);
    const eventBus = props.eventBus ?? (buses.length === 1 ? buses[0]!.bus : undefined);
    if (!eventBus) throw new Error(`PlatformMonitoring: no eventBus given and ${buses.length} LifecycleEventBus found in ${monitored.node.path || 'the app'} (expected one)`);
    this.tenantDlqAlarms = new TenantDlqAlarmNotifications(scope, 'TenantDlqAlarms', {
      eventBus, topic: this.topic, encryptionKey: props.encryptionKey, organizationId: config.organization.organizationId,
    });

    const facade = this.facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: { actionsEnabled: true, action: new SnsAlarmActionStrategy({ onAlarmTopic: this.topic }), alarmNamePrefix: ALARM_NAME_PREFIX, ...SUSTAINED },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: PLATFORM_DASHBOARD_NAME, createDashboard: true, createSummaryDashboard: false, createAlarmDashboard: false,
      }),
    });

    // Lifecycle: each workflow, then every step function in a few shared widgets.
    facade.addLargeHeader('Tenant lifecycle');
    // Every state machine of the platform (onboard, change, status, offboard, upgrade, and any added later), by its construct id.
    for (const machine of monitored.node.findAll().filter((c): c is sfn.StateMachine => c instanceof sfn.StateMachine)) {
      const name = machine.node.id;
      facade.monitorStepFunction({
        stateMachine: machine, alarmFriendlyName: `Workflow-${name}`, humanReadableName: `${name} workflow`,
        addFailedExecutionCountAlarm: { [CRITICAL]: { maxErrorCount: ALARM_THRESHOLDS.workflowFailedExecutions, datapointsToAlarm: 1, evaluationPeriods: 1 } },
      });
    }
    const steps = Object.entries(lifecycle.functions).map(([step, fn]) => ({ step, fn: fn.function }));
    const perStep = (metric: (fn: (typeof steps)[number]['fn'], label: string) => cloudwatch.Metric): CustomMetric[] => steps.map(({ step, fn }) => metric(fn, step));
    facade.monitorCustom({
      alarmFriendlyName: 'LifecycleSteps', humanReadableName: 'Lifecycle steps (one line per step function)',
      metricGroups: [
        { title: 'Step duration p90 (ms)', metrics: perStep((fn, label) => fn.metricDuration({ statistic: 'p90', label })) },
        { title: 'Step errors', metrics: perStep((fn, label) => fn.metricErrors({ statistic: 'Sum', label })) },
        { title: 'Step throttles', metrics: perStep((fn, label) => fn.metricThrottles({ statistic: 'Sum', label })) },
        { title: 'Step concurrency (max)', metrics: perStep((fn, label) => fn.metric('ConcurrentExecutions', { statistic: 'Maximum', label })) },
        {
          title: 'Step outcomes (failed, by step)',
          metrics: [{ namespace: 'Tessera', searchQuery: 'MetricName="StepFailed"', dimensionsMap: { service: 'tessera-lifecycle', Step: undefined as unknown as string }, statistic: 'Sum' as never }],
        },
      ],
    });

    // Gateway: its EMF metrics (lambdas/inference/metrics-audit-sink.ts), then API Gateway's view.
    facade.addLargeHeader('Gateway');
    this.monitorGateway(facade, config);
    facade.monitorApiGateway({
      api: inference.api, apiStage: inference.api.deploymentStage.stageName, alarmFriendlyName: 'InferenceApi', humanReadableName: 'Inference API (API Gateway)',
      add5XXFaultCountAlarm: { [CRITICAL]: { maxErrorCount: ALARM_THRESHOLDS.apiGateway5xxPerPeriod } },
    });
    facade.monitorApiGateway({
      api: props.admin.api, apiStage: props.admin.api.deploymentStage.stageName, alarmFriendlyName: 'AdminApi', humanReadableName: 'Admin API (API Gateway)',
      add5XXFaultCountAlarm: { [CRITICAL]: { maxErrorCount: ALARM_THRESHOLDS.apiGateway5xxPerPeriod } },
    });

    // Fine-tuning jobs by state: the training events handler's TrainingJobStateChanges (lambdas/fine-tuning/training-state-metric.ts).
    facade.addLargeHeader('Fine-tuning');
    facade.monitorCustom({
      alarmFriendlyName: 'FineTuningJobs', humanReadableName: 'Fine-tuning jobs',
      metricGroups: [{
        title: 'Training job state changes, by state (per hour)',
        metrics: [{
          namespace: TRAINING_STATE_METRIC.namespace, searchQuery: `MetricName="${TRAINING_STATE_METRIC.name}"`, statistic: 'Sum' as never, period: Duration.hours(1),
          dimensionsMap: { service: TRAINING_STATE_METRIC.service, [TRAINING_STATE_METRIC.dimension]: undefined } as unknown as cloudwatch.DimensionsMap,
        }],
      }],
    });

    // Every other Lambda of the platform: errors, duration, concurrency; alarms on errors and throttles.
    facade.addLargeHeader('Lambda functions');
    const lifecycleFunctions = new Set<IConstruct>(Object.values(lifecycle.functions));
    for (const fn of monitored.node.findAll().filter((c): c is LambdaFunction => c instanceof LambdaFunction && !lifecycleFunctions.has(c))) {
      const name = friendlyName(monitored, fn);
      facade.monitorLambdaFunction({
        lambdaFunction: fn.function, alarmFriendlyName: name, humanReadableName: name,
        addFaultCountAlarm: { [WARNING]: { maxErrorCount: ALARM_THRESHOLDS.functionErrorsPerPeriod } },
        addThrottlesCountAlarm: { [WARNING]: { maxErrorCount: ALARM_THRESHOLDS.functionThrottlesPerPeriod } },
      });
    }

    facade.addLargeHeader('DynamoDB');
    for (const table of monitored.node.findAll().filter((c): c is dynamodb.TableV2 => c instanceof dynamodb.TableV2)) {
      const name = friendlyName(monitored, table);
      facade.monitorDynamoTable({
        // The library takes a v1 ITable; only its name is read (metrics are by TableName).
        table: dynamodb.Table.fromTableName(this, `${name}Ref`, table.tableName), billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        alarmFriendlyName: name, humanReadableName: name,
        addReadThrottledEventsCountAlarm: { [WARNING]: { maxThrottledEventsThreshold: ALARM_THRESHOLDS.tableThrottledEventsPerPeriod } },
        addWriteThrottledEventsCountAlarm: { [WARNING]: { maxThrottledEventsThreshold: ALARM_THRESHOLDS.tableThrottledEventsPerPeriod } },
      });
    }

    facade.addLargeHeader('Failure queues');
    facade.monitorCustom({
      alarmFriendlyName: 'TenantDlqAlarms', humanReadableName: 'Tenant accounts\' dead-letter queues (alarms forwarded to the platform bus; each one also mails the alarm topic)',
      metricGroups: [{ title: 'Tenant DLQ alarms to ALARM, and notifications not published', metrics: [this.tenantDlqAlarms.matchedEvents, this.tenantDlqAlarms.failedInvocations] }],
    });
    for (const queue of monitored.node.findAll().filter((c): c is sqs.Queue => c instanceof sqs.Queue && /fail|dead|dlq/i.test(c.node.id))) {
      const name = friendlyName(monitored, queue);
      // What the person paged needs: which queue, and the command that shows and replays it.
      const alarmDescriptionOverride = queue.node.id === 'Dlq'
        ? `Dead-letter queue ${queue.queueName} holds events that were not delivered. Inspect: tessera dlq list ${queue.queueName} --peek 5; replay: tessera dlq redrive ${queue.queueName} (docs/resilience.md: Nothing lost in asynchronous paths).`
        : `Failure queue ${queue.queueName} holds work that was not processed (its construct's docs say how to replay it).`;
      facade.monitorSqsQueue({
        queue, alarmFriendlyName: name, humanReadableName: name,
        addQueueMaxSizeAlarm: { [CRITICAL]: { maxMessageCount: ALARM_THRESHOLDS.failureQueueMessages, datapointsToAlarm: 1, evaluationPeriods: 1, alarmDescriptionOverride } },
      });
    }

    this.platformUnhealthy = facade.createCompositeAlarmUsingDisambiguator(CRITICAL, {
      alarmDescription: 'Tessera platform unhealthy: at least one Critical alarm (gateway errors, workflow failures, failure queues, API Gateway 5xx) is in ALARM',
      alarmNameOverride: `${ALARM_NAME_PREFIX}-PlatformUnhealthy`,
      disambiguator: CRITICAL,
      actionOverride: new SnsAlarmActionStrategy({ onAlarmTopic: this.topic }),
    })!;

    // Per tier: top tenants from Contributor Insights over the gateway's log groups.
    const fineTuningApi = props.fineTuning.node.tryFindChild('Api');
    if (!(fineTuningApi instanceof LambdaFunction)) throw new Error(`PlatformMonitoring: ${props.fineTuning.node.path} has no LambdaFunction child "Api" (the fine-tuning API, which prints gateway metrics too)`);
    const logGroupNames = [inference.router.function.logGroup.logGroupName, fineTuningApi.function.logGroup.logGroupName];
    this.tiers = Object.keys(config.tiers).map((tier) => new TierTopTenants(this, `Tier-${tier}`, { tier, logGroupNames, topTenants: ops.topTenants }));
  }

  /** The gateway section: its metrics, and alarms on 5xx rate, p99 latency and upstream error rate per provider of the catalog. */
  private monitorGateway(facade: MonitoringFacade, config: PlatformConfig): void {
    const ops = config.operations.alarms;
    const gw = (metricName: string, statistic: string, label: string, period = Duration.minutes(5)) => new cloudwatch.Metric({
      namespace: GATEWAY_METRICS_NAMESPACE, metricName, dimensionsMap: { Service: GATEWAY_METRICS_SERVICE }, statistic, period, label,
    });
    // A SEARCH over one dimension set: `byTier` is [Service, Tier] (the Service fixed), the others their one dimension.
    const search = (metricName: string, dimension: 'Tier' | 'StatusCode' | 'Provider', statistic: string, period?: Duration): CustomMetric => ({
      namespace: GATEWAY_METRICS_NAMESPACE, searchQuery: `MetricName="${metricName}"`, statistic: statistic as never, period,
      dimensionsMap: (dimension === 'Tier' ? { Service: GATEWAY_METRICS_SERVICE, Tier: undefined } : { [dimension]: undefined }) as unknown as cloudwatch.DimensionsMap,
    });
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: '100 * errors / MAX([requests, 1])', label: '5xx %', period: Duration.minutes(5),
      usingMetrics: { errors: gw(GATEWAY_METRICS.serverErrors, 'Sum', '5xx'), requests: gw(GATEWAY_METRICS.requests, 'Sum', 'requests') },
    });
    const p99 = gw(GATEWAY_METRICS.latency, 'p99', 'p99');
    // The catalog's providers, and SageMaker, which serves every fine-tuned model (`ft:…`).
    const providers = [...new Set([...config.gateway.models.map(providerOf), 'sagemaker'])].sort();
    // Ids unique across the widget (one graph draws every provider's expression).
    const upstreamErrorRates: CustomMetric[] = providers.map((provider, i) => ({
      metric: new cloudwatch.MathExpression({
        expression: `100 * errors${i} / MAX([calls${i}, 1])`, label: `${provider} upstream errors %`, period: Duration.minutes(5),
        usingMetrics: {
          [`errors${i}`]: new cloudwatch.Metric({ namespace: GATEWAY_METRICS_NAMESPACE, metricName: GATEWAY_METRICS.upstreamErrors, dimensionsMap: { Provider: provider }, statistic: 'Sum', period: Duration.minutes(5) }),
          [`calls${i}`]: new cloudwatch.Metric({ namespace: GATEWAY_METRICS_NAMESPACE, metricName: GATEWAY_METRICS.providerRequests, dimensionsMap: { Provider: provider }, statistic: 'Sum', period: Duration.minutes(5) }),
        },
      }),
      alarmFriendlyName: `UpstreamErrorRate-${provider}`,
      addAlarm: { [CRITICAL]: { threshold: ops.upstreamErrorPercent, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING } },
    }));
    const groups: CustomMetricGroup[] = [
      { title: 'Requests', metrics: [gw(GATEWAY_METRICS.requests, 'Sum', 'requests'), { ...search(GATEWAY_METRICS.requests, 'Tier', 'Sum'), label: 'by tier' } as CustomMetric] },
      {
        title: 'Latency (ms)',
        metrics: [
          gw(GATEWAY_METRICS.latency, 'p50', 'p50'),
          { metric: p99, alarmFriendlyName: 'GatewayLatencyP99', addAlarm: { [WARNING]: { threshold: ops.gatewayP99LatencyMs, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD } } },
        ],
      },
      {
        title: 'Errors and throttles',
        metrics: [
          gw(GATEWAY_METRICS.clientErrors, 'Sum', '4xx'), gw(GATEWAY_METRICS.serverErrors, 'Sum', '5xx'), gw(GATEWAY_METRICS.throttles, 'Sum', '429 (rate limits, budgets)'),
          { metric: serverErrorRate, alarmFriendlyName: 'GatewayServerErrorRate', position: AxisPosition.RIGHT, addAlarm: { [CRITICAL]: { threshold: ops.gatewayServerErrorPercent, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING } } },
        ],
      },
      { title: 'Error responses by status code', metrics: [search(GATEWAY_METRICS.errorResponses, 'StatusCode', 'Sum')] },
      { title: 'Upstream latency p99 by provider (ms)', metrics: [search(GATEWAY_METRICS.upstreamLatency, 'Provider', 'p99')] },
      { title: 'Upstream errors (502/504) by provider', metrics: [search(GATEWAY_METRICS.upstreamErrors, 'Provider', 'Sum')] },
      { title: 'Upstream error rate by provider (%)', metrics: upstreamErrorRates },
      { title: 'Tokens per hour', metrics: [gw(GATEWAY_METRICS.tokens, 'Sum', 'all tiers', Duration.hours(1)), search(GATEWAY_METRICS.tokens, 'Tier', 'Sum', Duration.hours(1))] },
      { title: 'Cost per hour (USD)', metrics: [gw(GATEWAY_METRICS.costUsd, 'Sum', 'all tiers', Duration.hours(1)), search(GATEWAY_METRICS.costUsd, 'Tier', 'Sum', Duration.hours(1))] },
    ];
    facade.monitorCustom({ alarmFriendlyName: 'Gateway', humanReadableName: 'Gateway (EMF metrics of every request)', metricGroups: groups });
  }
}

/** A construct's path under `root`, as a dash-joined name (`Inference-Router`): unique, readable, valid in alarm names. */
function friendlyName(root: IConstruct, c: IConstruct): string {
  const base = root.node.path ? `${root.node.path}/` : '';
  return c.node.path.slice(c.node.path.startsWith(base) ? base.length : 0).replace(/[^A-Za-z0-9]+/g, '-');
}
