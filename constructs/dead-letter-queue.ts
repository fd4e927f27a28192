import { Aws, Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { DLQ_NAME_PREFIX, DLQ_RETENTION_DAYS, DLQ_SOURCE_TAG } from '../lib/dead-letters.js';

export { DLQ_NAME_PREFIX, DLQ_SOURCE_TAG };

/** SQS's longest retention, 14 days (SQS quotas: MessageRetentionPeriod 60 s to 1,209,600 s). */
export const DLQ_RETENTION = Duration.days(DLQ_RETENTION_DAYS);

export interface DeadLetterQueueProps {
  /**
   * Short name of the async path, lower-case letters, digits and dashes: the queue is named
   * `tessera-dlq-<name>` (the prefix is how `tessera dlq list` finds the platform's queues).
   */
  readonly name: string;
  /** What dead-letters into it, in words (tag `tessera:dlq-source`, shown by `tessera dlq list`), e.g. `rule OnboardingRequested to onboard state machine` (a tag value: letters, digits, spaces, `_.:/=+-@`). */
  readonly source: string;
  /**
   * The key the queue is encrypted with. Its policy gains, once per key, EventBridge's use of it
   * for this account's rules (`kms:GenerateDataKey`, `kms:Decrypt`: EventBridge encrypts what it
   * sends to an SSE-KMS queue as itself). Source: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
   * (dead-letter queues encrypted with a customer managed key).
   * @default - an SQS-managed key (SSE-SQS): no key policy to edit; for queues outside the platform account
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Full queue name, when the `tessera-dlq-` prefix does not fit (a tenant account's queue, named per tenant).
   * @default `tessera-dlq-<name>`
   */
  readonly queueName?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,66}$/;
/** CloudFormation's pattern for a tag value (AWS::SQS::Queue Tags), at most 256 characters. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;
const keysWithEventBridgeUse = new WeakSet<kms.IKey>();

/**
 * A dead-letter queue of one asynchronous path (EventBridge rule targets, an asynchronously invoked
 * Lambda): SQS, SSE-KMS with the given key (or SSE-SQS), 14 days' retention, TLS-only queue policy,
 * retained on stack deletion. The queue's construct id is `Dlq`, so the platform monitoring finds
 * it (`/fail|dead|dlq/i`) and alarms on one visible message.
 *
 * Senders are added where they are wired: an EventBridge target given `deadLetterQueue: dlq.queue`
 * adds the queue policy statement allowing `events.amazonaws.com` with `aws:SourceArn` = that rule
 * (aws-events-targets); an asynchronously invoked `LambdaFunction` with `deadLetterQueue` gets
 * `sqs:SendMessage` on this queue (and the key) in its own policy.
 *
 * @throws Error when `name` is not lower-case letters, digits and dashes (at most 67, so the queue name fits SQS's 80), or `source` is not a valid tag value
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;
  /** The key, when SSE-KMS (callers' roles need GenerateDataKey and Decrypt on it to send). */
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    if (!NAME.test(props.name)) throw new Error(`DeadLetterQueue ${this.node.path}: name ${JSON.stringify(props.name)} must be lower-case letters, digits and dashes (at most 67)`);
    if (!TAG_VALUE.test(props.source)) throw new Error(`DeadLetterQueue ${this.node.path}: source ${JSON.stringify(props.source)} must be 1-256 letters, digits, spaces and _ . : / = + - @ (a tag value)`);
    this.encryptionKey = props.encryptionKey;
    this.queue = new sqs.Queue(this, 'Dlq', {
      queueName: props.queueName ?? `${DLQ_NAME_PREFIX}${props.name}`,
      ...(props.encryptionKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(1) }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Tags.of(this.queue).add(DLQ_SOURCE_TAG, props.source);
    acknowledge(this.queue, ['AwsSolutions::AwsSolutions-SQS3'],
      `This queue is itself the dead-letter queue of ${props.source}: it keeps what failed every retry for an operator (tessera dlq list|redrive); nothing consumes it, so a further queue would stay empty.`);
    if (props.encryptionKey) allowEventBridgeDeadLetters(props.encryptionKey);
  }
}

/**
 * Adds to the key's policy (once per key) EventBridge's use of it for the dead-letter queues of
 * this account's rules. Only rules of this account and Region (`aws:SourceArn`, `aws:SourceAccount`).
 * A key imported by ARN has no policy here: its owner must add the statement.
 */
function allowEventBridgeDeadLetters(key: kms.IKey): void {
  if (keysWithEventBridgeUse.has(key)) return;
  keysWithEventBridgeUse.add(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'EventBridgeEncryptsDeadLetters',
    principals: [new iam.ServicePrincipal('events.amazonaws.com')],
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/*` },
    },
  }));
}
