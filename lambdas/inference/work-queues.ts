// The router's SQS work queues, by name: in a module of their own (no aws-cdk-lib), read by the constructs that make
// the queues (constructs/batch-work.ts re-exports them) and by the router's queue consumer (batches/queue-handler.ts),
// which tells the queues apart by a record's `eventSourceARN`.

/** The Batch API's work queue (SQS): one message per batch chunk to run. */
export const BATCH_QUEUE_NAME = 'tessera-batches';
/**
 * The background responses' work queue (SQS): one message `{kind: 'response', tenantId, responseId}` per background
 * response (`background: true`) to run, apart from the Batch API's chunks, so that a batch's backlog never delays one.
 */
export const BACKGROUND_RESPONSES_QUEUE_NAME = 'tessera-background-responses';

/**
 * The queue name of an SQS queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`, its sixth field).
 * @returns undefined when `arn` is not an SQS queue ARN
 */
export function queueNameOfArn(arn: string | undefined): string | undefined {
  const parts = (arn ?? '').split(':');
  return parts.length === 6 && parts[0] === 'arn' && parts[2] === 'sqs' && parts[5] ? parts[5] : undefined;
}
