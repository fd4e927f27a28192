/**
 * Names shared by the dead-letter queue construct (constructs/dead-letter-queue.ts) and
 * `tessera dlq` (lib/cli/dlq-command.ts). No aws-cdk-lib here: the CLI imports it.
 */

/** Every platform dead-letter queue is named `tessera-dlq-<path>`; `tessera dlq list` lists by this prefix (SQS ListQueues QueueNamePrefix). */
export const DLQ_NAME_PREFIX = 'tessera-dlq-';

/** Queue tag naming, in words, what dead-letters into the queue. */
export const DLQ_SOURCE_TAG = 'tessera:dlq-source';
/** How long a dead-letter queue keeps a message (SQS MessageRetentionPeriod; SQS's maximum, 14 days). */
export const DLQ_RETENTION_DAYS = 14;

/**
 * Message attributes EventBridge sets on an event it dead-letters (the body is the event itself).
 * Source: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html ("Event attributes").
 */
export const EVENTBRIDGE_DLQ_ATTRIBUTES = {
  ruleArn: 'RULE_ARN',
  targetArn: 'TARGET_ARN',
  errorCode: 'ERROR_CODE',
  errorMessage: 'ERROR_MESSAGE',
  exhaustedRetryConditions: 'EXHAUSTED_RETRY_CONDITION',
  retryAttempts: 'RETRY_ATTEMPTS',
} as const;

/**
 * Message attributes Lambda sets on an asynchronous event it dead-letters (the body is the event).
 * Source: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (dead-letter queues).
 */
export const LAMBDA_DLQ_ATTRIBUTES = { requestId: 'RequestID', errorCode: 'ErrorCode', errorMessage: 'ErrorMessage' } as const;
