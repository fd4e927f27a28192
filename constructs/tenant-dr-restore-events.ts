import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { forwarderTrust, TenantDlqAlarm, tenantDlqAlarmRuleName } from './tenant-dlq-alarm.js';

/** The detail type AWS Backup gives restore job events (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html). */
export const RESTORE_JOB_STATE_CHANGE = 'Restore Job State Change';

export interface TenantRestoreEventsForwarderProps {
  readonly tenantId: string;
  /** ARN of the role the tenant's restore tests run as: only restore jobs of that role are forwarded. */
  readonly restoreRoleArn: string;
  /** The platform account's event bus, where the platform records restore-test results. */
  readonly platformEventBusArn: string;
}

/**
 * Forwards the state changes of this tenant's restore-test jobs (AWS Backup's `Restore Job State
 * Change`, `source` `aws.backup`, run as the tenant's restore-testing role) from the account's default
 * bus to the platform bus, like the training events (constructs/training-events-forwarder.ts). The
 * workload account hosts many tenants: the role in the pattern keeps each rule to its tenant's jobs,
 * so the platform gets each event once. Only AWS Backup can emit `aws.backup` events, and EventBridge
 * keeps the source account on the forwarded event.
 *
 * Events the platform bus does not take land in `tessera-<tenant>-dlq-restore-events` in this account,
 * as the training events do (SSE-SQS, not the tenant key: the messages are job metadata the platform
 * records anyway, and the tenant key's policy does not admit EventBridge); EventBridge retries an
 * event bus target with its default (24 hours, 185 attempts) first. An alarm watches that queue,
 * and `tessera-<tenant>-restore-events-alarm` forwards its state changes to the platform bus with
 * the same role and queue (constructs/tenant-dlq-alarm.ts).
 */
export class TenantRestoreEventsForwarder extends Construct {
  /** Restore events the platform bus did not take. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** The alarm on `deadLetterQueue` and the rule forwarding its state changes. */
  readonly deadLetterAlarm: TenantDlqAlarm;

  constructor(scope: Construct, id: string, props: TenantRestoreEventsForwarderProps) {
    super(scope, id);
    // Fixed name, so the role's trust can name the rule (aws:SourceArn) before it exists.
    const ruleName = `tessera-${props.tenantId}-restore-events`;
    const alarmRuleName = tenantDlqAlarmRuleName(props.tenantId, 'restore-events');
    const role = new iam.Role(this, 'Role', {
      path: SERVICE_ROLE_PATH,
      assumedBy: forwarderTrust([ruleName, alarmRuleName]),
      description: 'Tessera: forwards this tenant\'s restore-test results to the platform bus',
    });
    new iam.ManagedPolicy(this, 'Policy', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [props.platformEventBusArn] })],
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'restore-events', queueName: `tessera-${props.tenantId}-dlq-restore-events`,
      source: 'rules tessera-TENANT-restore-events and tessera-TENANT-restore-events-alarm to the platform event bus',
    });
    new events.Rule(this, 'Rule', {
      ruleName,
      description: 'Tessera: this tenant\'s AWS Backup restore-test job state changes, to the platform bus',
      eventPattern: { source: ['aws.backup'], detailType: [RESTORE_JOB_STATE_CHANGE], detail: { iamRoleArn: [props.restoreRoleArn] } },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'PlatformBus', props.platformEventBusArn), { role: role.withoutPolicyUpdates(), deadLetterQueue: this.deadLetterQueue.queue })],
    });
    this.deadLetterAlarm = new TenantDlqAlarm(this, 'DeadLetterAlarm', {
      tenantId: props.tenantId, path: 'restore-events', deadLetterQueue: this.deadLetterQueue,
      forwarderRole: role.withoutPolicyUpdates(), platformEventBusArn: props.platformEventBusArn,
    });
  }
}
