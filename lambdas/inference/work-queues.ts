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

/**
 * The vector store files' work queue (SQS): one message `{kind: 'vector_store_file', tenantId, storeId, fileId,
 * batchId?}` per file attached to a vector store (or updated, and so processed again), run off the request (API
 * Gateway's 29-second limit on the answer; a file's chunks are embedded in calls of 32), apart from the Batch API's and
 * the background responses' queues.
 */
export const VECTOR_STORE_FILES_QUEUE_NAME = 'tessera-vector-store-files';
/**
 * Receives before a vector store file's message goes to its dead-letter queue: 5, the Lambda Developer Guide's minimum
 * (a delivery throttled by the router's reserved concurrency counts as a receive), as the other work queues'. The
 * worker reads a record's `ApproximateReceiveCount`: on this receive a failure also leaves the file `failed` with its
 * `last_error` (vector-stores/file-queue.ts), so no file stays `in_progress` once its message is dead-lettered.
 */
export const VECTOR_STORE_FILES_MAX_RECEIVE_COUNT = 5;
/** The vector store files queue's dead-letter queue's path: `tessera-dlq-vector-store-files` (lib/dead-letters.ts DLQ_NAME_PREFIX), which `tessera dlq list|redrive` finds. */
export const VECTOR_STORE_FILES_DLQ_NAME = 'vector-store-files';

/**
 * The SendMessage fields that make a router work queue (a standard queue) a fair queue for a tenant's message:
 * `MessageGroupId` = the tenant id. Amazon SQS fair queues (SQS Developer Guide, "Amazon SQS fair queues" and "How
 * Amazon SQS fair queues work": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html)
 * take a standard queue's MessageGroupId as the message's tenant: once a tenant holds a disproportionate share of the
 * consumers (more than 10% of the messages in flight with at least 30 of its own, or more than 10% of the recent
 * processing time), the queue delivers the other tenants' waiting messages first (a tenant with fewest in flight first
 * among several such), and that tenant's only when none of theirs waits; nothing is dropped or throttled, messages
 * of one group still run in parallel (not FIFO's one at a time), and DelaySeconds stays per message. A message without
 * a MessageGroupId is a tenant of its own, so the Batch API's chunks of one tenant's many batches were as many
 * tenants, and another tenant's chunk waited behind their backlog (oldest first). A tenant id (TENANT_ID_PATTERN: 3
 * to 24 of `a-z0-9-`) is a valid group id (1 to 128 alphanumeric or punctuation characters: SendMessage, `MessageGroupId`).
 * A message redriven from the queue's DLQ keeps its group: `tessera dlq redrive` uses SQS's StartMessageMoveTask, which
 * moves messages unmodified (a new MessageId and enqueue time only: SQS Developer Guide, "Configuring a dead-letter
 * queue redrive"), not a receive and send of its own (lib/cli/dlq/redrive.ts; docs/resilience.md).
 */
export const fairQueueGroup = (tenantId: string): { MessageGroupId: string } => ({ MessageGroupId: tenantId });
