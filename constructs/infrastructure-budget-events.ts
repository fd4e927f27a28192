import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/environment.js';
import { INFRASTRUCTURE_BUDGET_EXCEEDED, INFRASTRUCTURE_BUDGET_QUEUE_NAME, infrastructureBudgetTopicName } from '../lib/infrastructure-budget-events.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';
import { LIFECYCLE_EVENT_SOURCE } from '../lib/lifecycle-constants.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { LambdaFunction } from './lambda-function.js';
import { decryptThrough } from './platform-key-decrypt.js';

/** Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive policy). */
export const INFRASTRUCTURE_BUDGET_MAX_RECEIVES = 5;

export interface InfrastructureBudgetEventsProps {
  /** The platform key: the queue, its dead-letter queue, the function's environment and logs; the registry is encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** The tenant registry: GetItem of the topic's tenant (its account and tier). */
  readonly registry: dynamodb.ITableV2;
  /** The platform bus the events go on. */
  readonly eventBus: events.IEventBus;
  /** The organization whose accounts' topics may deliver (`aws:SourceOrgID`). */
  readonly organizationId: string;
}

/**
 * The platform side of the tenant infrastructure budget alerts (the tenant side: constructs/tenant-infrastructure-budget.ts):
 *
 * - the queue `tessera-infrastructure-budget-alerts` (platform key, TLS only, 14 days) that every tenant's
 *   `tessera-<tenant>-infrastructure-budget` topic delivers to: its policy lets `sns.amazonaws.com` send only for topics
 *   of that name (`aws:SourceArn`) in the organization's accounts (`aws:SourceOrgID`); the platform key's policy gains
 *   `SnsEncryptsInfrastructureBudgetAlerts` (kms:GenerateDataKey*, kms:Decrypt under the same conditions), without which
 *   SNS cannot deliver to an SSE-KMS queue (Amazon SNS Developer Guide, "Enable compatibility between event sources from
 *   AWS services and encrypted topics"/encrypted SQS subscribers);
 * - the forwarder (lambdas/budgets/infrastructure-budget-events.ts), polling it one message at a time: it verifies SNS's
 *   signature of each message (SignatureVersion 2, with SNS's certificate fetched over HTTPS from sns.<region>.amazonaws.com),
 *   confirms each tenant topic's subscription and puts `Tenant Infrastructure Budget Exceeded` (source `tessera.lifecycle`, that detail
 *   type only: `events:source`/`events:detail-type` on its PutEvents) for each alert of a registered tenant's topic in
 *   the tenant's account; it reads the registry (GetItem) and decrypts only the queue's messages and the registry's items;
 * - the dead-letter queue `tessera-dlq-infrastructure-budget-alerts` (platform key) for a message that failed
 *   {@link INFRASTRUCTURE_BUDGET_MAX_RECEIVES} receives (a refused alert, or the certificate fetch, EventBridge, DynamoDB
 *   or the confirmation failing that long), which the platform monitoring alarms on (one visible message) and `tessera dlq redrive` replays.
 */
export class InfrastructureBudgetEvents extends Construct {
  readonly queue: sqs.Queue;
  readonly function: LambdaFunction;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: InfrastructureBudgetEventsProps) {
    super(scope, id);
    const timeout = Duration.seconds(30);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'infrastructure-budget-alerts', encryptionKey: props.encryptionKey,
      source: `queue ${INFRASTRUCTURE_BUDGET_QUEUE_NAME} after ${INFRASTRUCTURE_BUDGET_MAX_RECEIVES} receives by the infrastructure-budget-events Lambda`,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: INFRASTRUCTURE_BUDGET_QUEUE_NAME,
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Lambda's advice for an SQS event source: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: INFRASTRUCTURE_BUDGET_MAX_RECEIVES },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const fromTenantTopics = {
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:sns:*:*:${infrastructureBudgetTopicName('*')}` },
      StringEquals: { 'aws:SourceOrgID': props.organizationId },
    };
    const sns = new iam.ServicePrincipal('sns.amazonaws.com');
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'TenantBudgetTopicsDeliver', principals: [sns], actions: ['sqs:SendMessage'], resources: [this.queue.queueArn], conditions: fromTenantTopics,
    }));
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'SnsEncryptsInfrastructureBudgetAlerts', principals: [sns], actions: ['kms:GenerateDataKey*', 'kms:Decrypt'], resources: ['*'], conditions: fromTenantTopics,
    }));

    this.function = new LambdaFunction(this, 'Function', {
      handlerFile: 'budgets/infrastructure-budget-events',
      roleName: PLATFORM_FUNCTIONS.infrastructureBudgetEvents.roleName,
      encryptionKey: props.encryptionKey,
      timeout,
      reservedConcurrency: PLATFORM_FUNCTIONS.infrastructureBudgetEvents.reservedConcurrency,
      invocation: `by its SQS event source mapping on ${INFRASTRUCTURE_BUDGET_QUEUE_NAME}, synchronously: a failed message returns to the queue and after ${INFRASTRUCTURE_BUDGET_MAX_RECEIVES} receives moves to the queue's dead-letter queue`,
      environment: { [ENV.registryTable]: props.registry.tableName, [ENV.eventBus]: props.eventBus.eventBusName },
    });
    new lambda.EventSourceMapping(this, 'Source', { target: this.function.function, eventSourceArn: this.queue.queueArn, batchSize: 1 });
    // The mapping polls with the function's role (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS": execution role permissions).
    this.function.addToPolicy(new iam.PolicyStatement({
      sid: 'PollAlerts', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], resources: [this.queue.queueArn],
    }));
    this.function.addToPolicy(decryptThrough(this, 'PlatformKeyThroughSQSForAlerts', props.encryptionKey.keyArn, { service: 'sqs', queueArns: [this.queue.queueArn] }));
    this.function.addToPolicy(new iam.PolicyStatement({ sid: 'ReadTenant', actions: ['dynamodb:GetItem'], resources: [props.registry.tableArn] }));
    this.function.addToPolicy(decryptThrough(this, 'PlatformKeyThroughDynamoDB', props.encryptionKey.keyArn, { service: 'dynamodb', tables: [props.registry.tableName] }));
    this.function.addToPolicy(new iam.PolicyStatement({
      sid: 'InfrastructureBudgetEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn],
      conditions: {
        'ForAllValues:StringEquals': { 'events:source': [LIFECYCLE_EVENT_SOURCE], 'events:detail-type': [INFRASTRUCTURE_BUDGET_EXCEEDED] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    }));
  }
}
