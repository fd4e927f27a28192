import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';

/**
 * Every tenant-account DLQ alarm is named `Tessera-TenantDlq-<tenant>-<path>`: the platform's rule
 * matches forwarded alarm state changes by this prefix (`detail.alarmName`), and the blueprint
 * execution role may create and delete alarms under it only.
 */
export const TENANT_DLQ_ALARM_PREFIX = 'Tessera-TenantDlq-';

/** Source and detail type CloudWatch gives alarm state changes (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html). */
export const ALARM_STATE_CHANGE = { source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm State Change' } as const;

/** The alarm's name for a tenant's path (tokens allowed: the blueprint's tenant id is a parameter). */
export const tenantDlqAlarmName = (tenantId: string, path: string) => `${TENANT_DLQ_ALARM_PREFIX}${tenantId}-${path}`;

/** The rule that forwards the alarm's state changes: `tessera-<tenant>-<path>-alarm`, named so the forwarder role's trust can name it before it exists. */
export const tenantDlqAlarmRuleName = (tenantId: string, path: string) => `tessera-${tenantId}-${path}-alarm`;

const PATH = /^[a-z0-9][a-z0-9-]{0,29}$/;

export interface TenantDlqAlarmProps {
  /** The tenant id (in a blueprint: the TenantId parameter). */
  readonly tenantId: string;
  /** Short name of the path, lower-case letters, digits and dashes (at most 30), e.g. `training-events`: in the alarm's and the rule's names. */
  readonly path: string;
  /** The queue to watch. It also takes what the alarm rule cannot deliver (one queue per path: both fail for the same reason, the platform bus refusing or unreachable). */
  readonly deadLetterQueue: DeadLetterQueue;
  /**
   * The role EventBridge puts events on the platform bus with (the path's forwarder role): its trust
   * must admit this rule, `tenantDlqAlarmRuleName(tenantId, path)` (aws:SourceArn), and its policy
   * `events:PutEvents` on the platform bus.
   */
  readonly forwarderRole: iam.IRole;
  /** The platform account's event bus. */
  readonly platformEventBusArn: string;
}

/**
 * An alarm on a tenant-account dead-letter queue, and the rule that tells the platform about it.
 *
 * - Alarm `Tessera-TenantDlq-<tenant>-<path>`: `ApproximateNumberOfMessagesVisible` (Maximum) > 0 in
 *   one 5-minute period; missing data is ignored, so the alarm keeps its state. SQS sends a queue's
 *   metrics only while it is active: "for up to six hours if it contains any messages, or if any
 *   action accesses it", then stops (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/monitoring-using-cloudwatch.html).
 *   A queue holding messages nobody touches goes quiet after six hours; with missing data "not
 *   breaching" the alarm would return to OK while the messages remain. Ignored, it stays in ALARM
 *   until a datapoint says the queue is empty (a purge or a receive wakes the queue's metrics); a
 *   queue never used stays INSUFFICIENT_DATA, which pages no one (the platform matches ALARM only).
 *   It has no action: the tenant account has no alarm topic.
 * - Rule `tessera-<tenant>-<path>-alarm` on the account's default bus: the alarm's `CloudWatch Alarm
 *   State Change` events (`resources` = this alarm's ARN, so each tenant's rule forwards its own
 *   alarms only, also in a workload account shared by many tenants) to the platform bus, as the
 *   forwarder role; its dead-letter queue is the watched queue. The platform's rule notifies the
 *   alarm topic (constructs/monitoring/tenant-dlq-alarms.ts).
 *
 * @throws Error when `path` is not lower-case letters, digits and dashes (at most 30, so the rule name fits EventBridge's 64 with a 24-character tenant id)
 */
export class TenantDlqAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: TenantDlqAlarmProps) {
    super(scope, id);
    if (!PATH.test(props.path)) throw new Error(`TenantDlqAlarm ${this.node.path}: path ${JSON.stringify(props.path)} must be lower-case letters, digits and dashes (at most 30)`);
    // The name the queue was given (with the TenantId parameter in it), not its GetAtt: readable in the template and the mail.
    const queueName = (props.deadLetterQueue.queue.node.defaultChild as sqs.CfnQueue).queueName ?? props.deadLetterQueue.queue.queueName;
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmName: tenantDlqAlarmName(props.tenantId, props.path),
      // What the person paged reads (the platform's notification carries it): whose queue, and how to look at it.
      alarmDescription: [
        `Tessera tenant ${props.tenantId}: dead-letter queue ${queueName} holds events EventBridge could not deliver to the platform bus.`,
        `Inspect with credentials of this account: tessera dlq list ${queueName} --prefix tessera-${props.tenantId}-dlq- --region ${Aws.REGION} --peek 5.`,
        `tessera dlq redrive cannot replay them (AWS service events); fix the cause, then delete them: tessera dlq purge ${queueName} --prefix tessera-${props.tenantId}-dlq- --region ${Aws.REGION} --yes (docs/resilience.md: Nothing lost in asynchronous paths).`,
      ].join(' '),
      metric: props.deadLetterQueue.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // Not NOT_BREACHING: a full queue left alone goes quiet after six hours (see above), and the alarm would clear.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    acknowledge(this.alarm, ['HIPAA.Security::HIPAA.Security-CloudWatchAlarmAction', 'NIST.800.53.R5::NIST.800.53.R5-CloudWatchAlarmAction'],
      'The tenant account has no alarm topic: the rule beside this alarm forwards its state changes to the platform bus, where the platform notifies its alarm topic.');
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: tenantDlqAlarmRuleName(props.tenantId, props.path),
      description: 'Tessera: state changes of this tenant\'s dead-letter queue alarm, to the platform bus',
      eventPattern: { source: [ALARM_STATE_CHANGE.source], detailType: [ALARM_STATE_CHANGE.detailType], resources: [this.alarm.alarmArn] },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'PlatformBus', props.platformEventBusArn), {
        role: props.forwarderRole, deadLetterQueue: props.deadLetterQueue.queue,
      })],
    });
  }
}

/** The service principal a forwarder role trusts: EventBridge for the named rules of this account and Region only. */
export function forwarderTrust(ruleNames: string[]): iam.IPrincipal {
  const arns = ruleNames.map((name) => `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${name}`);
  return new iam.ServicePrincipal('events.amazonaws.com').withConditions({
    StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': arns.length === 1 ? arns[0] : arns },
  });
}
