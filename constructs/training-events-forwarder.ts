import { Aws } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { forwarderTrust, TenantDlqAlarm, tenantDlqAlarmRuleName } from './tenant-dlq-alarm.js';
import { ENDPOINT_STATE_CHANGE, sageMakerNamePrefix, TRAINING_STATE_CHANGE } from '../lib/fine-tuning.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';

export interface TrainingEventsForwarderProps {
  readonly tenantId: string;
  /** The platform account's event bus, where the fine-tuning events Lambda listens. */
  readonly platformEventBusArn: string;
}

/**
 * Forwards this tenant's SageMaker training job state changes (names `<tenant>-ft-*`) from the
 * account's default bus to the platform bus, and, by a second rule `tessera-<tenant>-endpoint-events`,
 * the state changes of its fine-tuned models' endpoints (same names: a job's deployment waits for its
 * endpoint to be InService, lambdas/fine-tuning/endpoint-events.ts). EventBridge keeps the source account
 * on the forwarded event, and only SageMaker can emit `aws.sagemaker` events.
 *
 * Events EventBridge cannot deliver to the platform bus (its policy refuses, the bus is gone)
 * land in a dead-letter queue in this (the tenant's) account, `tessera-<tenant>-dlq-training-events`,
 * 14 days, TLS only, only this rule may send. It is encrypted with an SQS-managed key, not the
 * tenant key: EventBridge would need the tenant key's policy to let `events.amazonaws.com` use it,
 * and the messages are job state metadata (name, status, times) that the platform records anyway,
 * not tenant data. No retry policy is set: CDK's event bus target has none, and EventBridge
 * retries an event bus target with its default (24 hours, 185 attempts).
 *
 * An alarm watches that queue (one visible message), and a second rule,
 * `tessera-<tenant>-training-events-alarm`, forwards the alarm's state changes to the platform bus
 * with the same role and queue, where the platform notifies its alarm topic (constructs/tenant-dlq-alarm.ts).
 */
export class TrainingEventsForwarder extends Construct {
  /** Training events the platform bus did not take. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** The alarm on `deadLetterQueue` and the rule forwarding its state changes. */
  readonly deadLetterAlarm: TenantDlqAlarm;

  constructor(scope: Construct, id: string, props: TrainingEventsForwarderProps) {
    super(scope, id);
    // The rule's name is fixed (account-unique through the tenant id) so that the role's trust can name
    // the rule before it exists: for event bus rule targets EventBridge sends aws:SourceArn = the rule ARN
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
    const ruleName = `tessera-${props.tenantId}-training-events`;
    const endpointRuleName = endpointEventsRuleName(props.tenantId);
    const alarmRuleName = tenantDlqAlarmRuleName(props.tenantId, 'training-events');
    // Its own role with a managed policy naming the one bus (the target's default role gets an inline policy).
    const role = new iam.Role(this, 'Role', {
      path: SERVICE_ROLE_PATH,
      assumedBy: forwarderTrust([ruleName, endpointRuleName, alarmRuleName]),
      description: 'Tessera: forwards this tenant\'s training events to the platform bus',
    });
    new iam.ManagedPolicy(this, 'Policy', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [props.platformEventBusArn] })],
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'training-events', queueName: `tessera-${props.tenantId}-dlq-training-events`,
      source: 'rules tessera-TENANT-training-events + tessera-TENANT-endpoint-events + tessera-TENANT-training-events-alarm to the platform event bus',
    });
    new events.Rule(this, 'Rule', {
      ruleName,
      description: 'Tessera: this tenant\'s SageMaker training job state changes, to the platform bus',
      eventPattern: { source: ['aws.sagemaker'], detailType: [TRAINING_STATE_CHANGE], detail: { TrainingJobName: [{ prefix: sageMakerNamePrefix(props.tenantId) }] } },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'PlatformBus', props.platformEventBusArn), { role: role.withoutPolicyUpdates(), deadLetterQueue: this.deadLetterQueue.queue })],
    });
    // The endpoints of this tenant's fine-tuned models only (named after their training jobs): the same role, bus and dead-letter queue.
    new events.Rule(this, 'EndpointRule', {
      ruleName: endpointRuleName,
      description: 'Tessera: this tenant\'s fine-tuned model endpoint state changes, to the platform bus',
      eventPattern: { source: ['aws.sagemaker'], detailType: [ENDPOINT_STATE_CHANGE], detail: { EndpointName: [{ prefix: sageMakerNamePrefix(props.tenantId) }] } },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'PlatformBusForEndpoints', props.platformEventBusArn), { role: role.withoutPolicyUpdates(), deadLetterQueue: this.deadLetterQueue.queue })],
    });
    this.deadLetterAlarm = new TenantDlqAlarm(this, 'DeadLetterAlarm', {
      tenantId: props.tenantId, path: 'training-events', deadLetterQueue: this.deadLetterQueue,
      forwarderRole: role.withoutPolicyUpdates(), platformEventBusArn: props.platformEventBusArn,
    });
  }
}

/** The rule forwarding a tenant's endpoint state changes (named so that the forwarder role's trust names it before it exists). */
export const endpointEventsRuleName = (tenantId: string) => `tessera-${tenantId}-endpoint-events`;

export const platformEventBusArn = (platformAccountId: string, region: string, busName: string) => `arn:${Aws.PARTITION}:events:${region}:${platformAccountId}:event-bus/${busName}`;
