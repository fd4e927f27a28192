import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RECLAIM_ENV, RECLAIM_READ_ATTRIBUTES, RECLAIM_SCHEDULE, RECLAIM_WRITE_ATTRIBUTES } from '../lambdas/inference/reclaim/environment.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { LambdaFunction } from './lambda-function.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

export interface ReservationReclaimProps {
  /** The platform key: the function's logs and environment, its dead-letter queue; the tables are encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** The tenant registry: every tenant is listed (Scan). */
  readonly registry: dynamodb.ITableV2;
  /** The gateway's usage table. */
  readonly usageTable: dynamodb.ITableV2;
}

/** Role of the reservation reclaim Lambda: in the gateway roles' family (`tessera-gateway-*`, a prefix no tenant id may take). */
export const RESERVATION_RECLAIM_ROLE_NAME = PLATFORM_FUNCTIONS.reservationReclaim.roleName;

/**
 * The daily reservation reclaim (lambdas/inference/reclaim/), in the platform's Operations nested
 * stack beside the monthly statements job (lib/platform-stack.ts): an EventBridge schedule at 00:30 UTC
 * (RECLAIM_SCHEDULE) invokes a Lambda that releases what the day before's usage items still hold,
 * the reservations of router Lambdas that died before they settled.
 *
 * Its role: Scan and GetItem of the registry; on the usage table, only items under `usage#`
 * (`dynamodb:LeadingKeys`, never the rate windows), read with the held amounts and the month's
 * subject set projected (`dynamodb:Attributes`: GetItem and BatchGetItem), and written with
 * UpdateItem of `tokens`, `heldTokens`, `costNanos` and `heldNanos` (and `costMicros`, `heldMicros` of items
 * written before nano-dollars) only, returning nothing. A
 * TransactWriteItems is authorized as the UpdateItem of each of its items (DynamoDB Developer Guide,
 * "Using IAM with DynamoDB transactions"): no action of its own. The platform key only through
 * DynamoDB for the two tables.
 *
 * Delivery: EventBridge retries for an hour (2 tries), Lambda retries a failed run twice; then the
 * event is kept in the dead-letter queue (platform key, 14 days; the platform monitoring alarms on
 * it, and on the function's errors). Every release is conditional, so a retry releases nothing
 * twice, and tomorrow's run does not pick up a day a failed run missed: re-run it by hand with
 * `{"day": "YYYY-MM-DD"}` (docs/gateway.md "Reservations whose Lambda died").
 */
export class ReservationReclaim extends Construct {
  readonly function: LambdaFunction;
  /** Scheduled runs that failed every attempt (the platform monitoring alarms on its depth). */
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ReservationReclaimProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'reservation-reclaim', source: 'schedule Daily to reservation reclaim Lambda', encryptionKey: props.encryptionKey,
    });
    this.deadLetterQueue = deadLetters.queue;

    const fn = new LambdaFunction(this, 'Job', {
      handlerFile: 'inference/reclaim/reclaim-handler', roleName: RESERVATION_RECLAIM_ROLE_NAME, encryptionKey: props.encryptionKey,
      environment: { [RECLAIM_ENV.registryTable]: props.registry.tableName, [RECLAIM_ENV.usageTable]: props.usageTable.tableName },
      memorySize: 256, timeout: Duration.minutes(15), reservedConcurrency: PLATFORM_FUNCTIONS.reservationReclaim.reservedConcurrency,
      invocation: 'by its daily EventBridge schedule, asynchronously: Lambda retries a failed run twice, then its dead-letter queue keeps the event',
      asyncInvocation: { deadLetterQueue: deadLetters, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'every release is conditional on what it read, so a retry releases nothing twice; a day a failed run missed is re-run by hand' },
      outsideVpcReason: 'calls only the DynamoDB API; it reaches no resource inside a VPC.',
    });
    this.function = fn;
    fn.addToPolicy(new iam.PolicyStatement({ sid: 'ListTenants', actions: ['dynamodb:Scan', 'dynamodb:GetItem'], resources: [props.registry.tableArn] }));
    const usageItems = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['usage#*'] } };
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadHeldAmounts', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources: [props.usageTable.tableArn],
      conditions: {
        ...usageItems, 'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...RECLAIM_READ_ATTRIBUTES] },
        Null: { 'dynamodb:LeadingKeys': 'false', 'dynamodb:Attributes': 'false' },
        StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
      },
    }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'ReleaseHeldAmounts', actions: ['dynamodb:UpdateItem'], resources: [props.usageTable.tableArn],
      conditions: {
        ...usageItems, 'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...RECLAIM_WRITE_ATTRIBUTES] },
        Null: { 'dynamodb:LeadingKeys': 'false', 'dynamodb:Attributes': 'false' },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'TablesKeyThroughDynamoDB', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`,
          'kms:EncryptionContext:aws:dynamodb:tableName': [props.registry.tableName, props.usageTable.tableName],
          'kms:EncryptionContext:aws:dynamodb:subscriberId': stack.account,
        },
      },
    }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'DescribeKeyThroughDynamoDB', actions: ['kms:DescribeKey'], resources: [props.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    }));

    this.schedule = new events.Rule(this, 'Daily', {
      description: 'Releases what the day before\'s usage items still hold: reservations of router Lambdas that died before they settled (00:30 UTC: the router\'s 15-minute longest invocation and as much again)',
      schedule: events.Schedule.cron(RECLAIM_SCHEDULE),
      // Daily and conditional: two delivery retries within the hour, then the DLQ.
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.queue })],
    });
  }
}
