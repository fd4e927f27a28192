import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/environment.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { LambdaFunction } from './lambda-function.js';
import { OrganizationForwardedEvents } from './lifecycle-event-bus.js';
import { RESTORE_JOB_STATE_CHANGE } from './tenant-dr-restore-events.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

/** Statement id on the platform bus's policy: the DR tiers' forwarded restore-job events. */
export const RESTORE_EVENTS_BUS_SID = 'OrganizationForwardsRestoreTestResults';
/** The source AWS Backup gives its events (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html). */
export const BACKUP_EVENT_SOURCE = 'aws.backup';

export interface RestoreTestRecorderProps {
  /** The platform key: the function's environment and logs, the dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** The tenant registry: GetItem and UpdateItem of the tenant whose restore test ran. */
  readonly registry: dynamodb.ITableV2;
  /** The platform bus, where the DR tiers' rules forward AWS Backup's restore-job events. */
  readonly eventBus: events.IEventBus;
  /** The organization whose accounts forward them (`aws:PrincipalOrgID` on the bus policy statement). */
  readonly organizationId: string;
}

/**
 * Records each tenant's latest DR restore test in the registry (`disasterRecovery.latestRestoreTest`,
 * lambdas/dr/record-restore-test.ts): a rule on the platform bus takes AWS Backup's `Restore Job
 * State Change` (forwarded from the tenant accounts by constructs/tenant-dr-restore-events.ts) to a
 * Lambda, invoked asynchronously; delivery failures and failed runs land in one dead-letter queue.
 *
 * The platform bus's policy gains `OrganizationForwardsRestoreTestResults`: the organization's
 * forwarder roles (service-role path) may put `aws.backup` / `Restore Job State Change` events and
 * nothing else in the same call (constructs/lifecycle-event-bus.ts's OrganizationForwardedEvents,
 * as the tenant DLQ alarms' statement). Without it, EventBridge refuses the tenant accounts'
 * PutEvents (a bus admits another account only through its policy), every restore event lands in
 * the tenant's `tessera-<tenant>-dlq-restore-events`, and its alarm pages. The statement is an
 * `AWS::Events::EventBusPolicy` beside the rule (the Operations nested stack in the app), so the
 * platform stack gains no resource.
 */
export class RestoreTestRecorder extends Construct {
  readonly function: LambdaFunction;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: RestoreTestRecorderProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'restore-test-results', source: 'rule RestoreTestResults to record-restore-test Lambda', encryptionKey: props.encryptionKey,
    });
    this.function = new LambdaFunction(this, 'Function', {
      handlerFile: 'dr/record-restore-test',
      roleName: PLATFORM_FUNCTIONS.restoreTestRecorder.roleName,
      encryptionKey: props.encryptionKey,
      timeout: Duration.seconds(30),
      reservedConcurrency: PLATFORM_FUNCTIONS.restoreTestRecorder.reservedConcurrency,
      invocation: 'by EventBridge (AWS Backup restore-job events on the platform bus), asynchronously: Lambda retries a failed run twice, then its dead-letter queue keeps the event',
      asyncInvocation: { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'recording a restore test is idempotent (the latest job state wins) and a month passes between tests' },
      environment: { [ENV.registryTable]: props.registry.tableName },
    });
    this.function.addToPolicy(new iam.PolicyStatement({ sid: 'RecordRestoreTests', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.registry.tableArn] }));
    this.function.addToPolicy(new iam.PolicyStatement({ sid: 'RegistryKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn] }));
    new OrganizationForwardedEvents(this, 'BusPolicy', {
      eventBus: props.eventBus, statementId: RESTORE_EVENTS_BUS_SID, organizationId: props.organizationId,
      sources: [BACKUP_EVENT_SOURCE], detailTypes: [RESTORE_JOB_STATE_CHANGE],
    });
    new events.Rule(this, 'RestoreTestResults', {
      eventBus: props.eventBus,
      description: 'AWS Backup restore-test job state changes of DR tenants, recorded in the registry',
      eventPattern: { source: [BACKUP_EVENT_SOURCE], detailType: [RESTORE_JOB_STATE_CHANGE] },
      // Idempotent: EventBridge's delivery retries for up to 6 hours, then the DLQ.
      targets: [new targets.LambdaFunction(this.function.function, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue.queue })],
    });
  }
}
