import { Aws, Duration, Names, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '../dead-letter-queue.js';
import { OrganizationForwardedEvents } from '../lifecycle-event-bus.js';
import { ALARM_STATE_CHANGE, TENANT_DLQ_ALARM_PREFIX } from '../tenant-dlq-alarm.js';

/** The platform rule's name (fixed, so the platform key's policy can name it in the top stack). */
export const TENANT_DLQ_ALARMS_RULE_NAME = 'tessera-tenant-dlq-alarms';
/** Statement id on the platform bus's policy. */
export const TENANT_DLQ_ALARMS_BUS_SID = 'OrganizationForwardsTenantDlqAlarms';

/** Retries of the topic target: notifications can wait out a throttled SNS, but not for a day. */
const RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(6) } as const;

export interface TenantDlqAlarmNotificationsProps {
  /** The platform bus, where the tenant blueprints forward their DLQ alarms' state changes (constructs/tenant-dlq-alarm.ts). */
  readonly eventBus: events.IEventBus;
  /** The alarm topic (encrypted with `encryptionKey`). */
  readonly topic: sns.ITopic;
  /** The platform key: the topic's and this rule's dead-letter queue's; its policy gains EventBridge's use of it for this rule. */
  readonly encryptionKey: kms.IKey;
  /** The organization whose accounts may forward (`aws:PrincipalOrgID` on the bus policy). */
  readonly organizationId: string;
}

/**
 * Tells the platform's operators when a tenant account's dead-letter queue holds a message.
 *
 * - The platform bus's policy admits `CloudWatch Alarm State Change` events (source
 *   `aws.cloudwatch`, nothing else in the call) put by the organization's forwarder roles
 *   (service-role path), as it admits SageMaker's training events.
 * - Rule `tessera-tenant-dlq-alarms` on the bus: those events whose alarm is named
 *   `Tessera-TenantDlq-*` and whose new state is `ALARM`, to the alarm topic. The input
 *   transformer writes one text: the alarm, the account and Region it fired in (set by
 *   EventBridge: an `aws.*` event cannot be put by anyone but the service), its description
 *   (tenant, queue and the `tessera dlq list` command, written by the blueprint) and CloudWatch's reason.
 * - The topic's policy lets `events.amazonaws.com` publish for this rule only (`aws:SourceArn`), and
 *   the platform key's policy lets EventBridge use the key for it (`kms:GenerateDataKey*`,
 *   `kms:Decrypt`; "Enable compatibility between event sources from AWS services and encrypted
 *   topics", SNS Developer Guide).
 * - 8 retries over up to 6 hours, then `tessera-dlq-tenant-dlq-alarms` (platform key, 14 days),
 *   which the platform monitoring alarms on like every other DLQ.
 *
 * @throws Error when the bus's name is not known at synth (the key policy names the rule by its
 *   ARN: a reference to the bus there would be circular, the bus being encrypted with that key)
 */
export class TenantDlqAlarmNotifications extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: DeadLetterQueue;
  /** Forwarded DLQ alarms the rule matched, per 5 minutes (AWS/Events MatchedEvents). */
  readonly matchedEvents: cloudwatch.Metric;
  /** Notifications the rule could not publish, per 5 minutes (AWS/Events FailedInvocations). */
  readonly failedInvocations: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: TenantDlqAlarmNotificationsProps) {
    super(scope, id);
    const busName = literalBusName(props.eventBus);
    if (!busName) throw new Error(`TenantDlqAlarmNotifications ${this.node.path}: the event bus's name must be known at synth (an events.EventBus created with eventBusName)`);
    new OrganizationForwardedEvents(this, 'BusPolicy', {
      eventBus: props.eventBus, statementId: TENANT_DLQ_ALARMS_BUS_SID, organizationId: props.organizationId,
      sources: [ALARM_STATE_CHANGE.source], detailTypes: [ALARM_STATE_CHANGE.detailType],
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'tenant-dlq-alarms', source: `rule ${TENANT_DLQ_ALARMS_RULE_NAME} to the alarm topic`, encryptionKey: props.encryptionKey,
    });
    const field = (path: string) => events.EventField.fromPath(path);
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: TENANT_DLQ_ALARMS_RULE_NAME,
      eventBus: props.eventBus,
      description: 'Tessera: a tenant account\'s dead-letter queue alarm went to ALARM, to the alarm topic',
      eventPattern: {
        source: [ALARM_STATE_CHANGE.source], detailType: [ALARM_STATE_CHANGE.detailType],
        detail: { alarmName: [{ prefix: TENANT_DLQ_ALARM_PREFIX }], state: { value: ['ALARM'] } },
      },
      targets: [new ScopedTopicTarget(props.topic, {
        message: events.RuleTargetInput.fromText([
          `ALARM ${field('$.detail.alarmName')} in account ${field('$.account')} (${field('$.region')}) at ${field('$.time')}.`,
          `${field('$.detail.configuration.description')}`,
          `Reason: ${field('$.detail.state.reason')}`,
        ].join('\n')),
        deadLetterQueue: this.deadLetterQueue.queue, ...RETRY,
      })],
    });
    // The key is the top stack's: the rule's ARN is built from its fixed name, not referenced.
    const ruleArn = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${busName}/${TENANT_DLQ_ALARMS_RULE_NAME}`;
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgePublishesTenantDlqAlarms',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': ruleArn } },
    }));
    const ruleMetric = (metricName: string, label: string) => new cloudwatch.Metric({
      namespace: 'AWS/Events', metricName, statistic: 'Sum', period: Duration.minutes(5), label,
      dimensionsMap: { EventBusName: busName, RuleName: TENANT_DLQ_ALARMS_RULE_NAME },
    });
    this.matchedEvents = ruleMetric('MatchedEvents', 'tenant DLQ alarms (ALARM)');
    this.failedInvocations = ruleMetric('FailedInvocations', 'notifications not published');
  }
}

/** The name an EventBus was created with, when it is a literal. */
function literalBusName(bus: events.IEventBus): string | undefined {
  const name = Token.isUnresolved(bus.eventBusName) ? (bus.node.defaultChild as events.CfnEventBus | undefined)?.name : bus.eventBusName;
  return name && !Token.isUnresolved(name) ? name : undefined;
}

interface ScopedTopicTargetProps {
  readonly message: events.RuleTargetInput;
  readonly deadLetterQueue: sqs.IQueue;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * An SNS topic target whose topic-policy statement names the rule (`aws:SourceArn`).
 * aws-events-targets' SnsTopic grants `events.amazonaws.com` sns:Publish with no condition, which
 * lets any rule of any account publish (the confused deputy: https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
 * The dead-letter queue's statement is the one aws-events-targets writes (SendMessage for this rule).
 */
class ScopedTopicTarget implements events.IRuleTarget {
  constructor(private readonly topic: sns.ITopic, private readonly props: ScopedTopicTargetProps) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    const fromRule = { ArnEquals: { 'aws:SourceArn': rule.ruleArn } };
    this.topic.addToResourcePolicy(new iam.PolicyStatement({ principals: [eventBridge], actions: ['sns:Publish'], resources: [this.topic.topicArn], conditions: fromRule }));
    this.props.deadLetterQueue.addToResourcePolicy(new iam.PolicyStatement({
      sid: `AllowEventRule${Names.nodeUniqueId(rule.node)}`, principals: [eventBridge], actions: ['sqs:SendMessage'], resources: [this.props.deadLetterQueue.queueArn], conditions: fromRule,
    }));
    return {
      arn: this.topic.topicArn,
      input: this.props.message,
      targetResource: this.topic,
      deadLetterConfig: { arn: this.props.deadLetterQueue.queueArn },
      retryPolicy: { maximumRetryAttempts: this.props.retryAttempts, maximumEventAgeInSeconds: this.props.maxEventAge.toSeconds() },
    };
  }
}
