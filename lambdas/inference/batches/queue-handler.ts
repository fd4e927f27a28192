import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DLQ_NAME_PREFIX } from '../../../lib/dead-letters.js';
import { lambdaDeadline, type RemainingTime } from '../lambda-deadline.js';
import { runBackgroundResponse, type BackgroundRunDeps } from '../responses/background.js';
import { parseVectorStoreFileMessage, runVectorStoreFileMessage } from '../vector-stores/file-queue.js';
import type { ProcessingDeps } from '../vector-stores/processing.js';
import { BACKGROUND_RESPONSES_QUEUE_NAME, VECTOR_STORE_FILES_DLQ_NAME, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME, queueNameOfArn } from '../work-queues.js';
import { parseBatchMessage, runBatchChunk, type BatchWorkerDeps } from './worker.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * A message that runs a background response (`background: true`), on the background responses' queue
 * (BACKGROUND_RESPONSES_QUEUE_NAME). A router deployed before that queue sent it to the Batch API's queue, beside
 * BatchMessage (which has no `kind`): one still there is run too (an upgrade loses none).
 */
export interface BackgroundResponseMessage {
  kind: 'response';
  tenantId: string;
  responseId: string;
}

/** The background response message of a queue message's body, or undefined when it is not one (a batch's, parsed by parseBatchMessage). @throws Error for a `kind: 'response'` message without its ids */
export function parseResponseMessage(body: string): BackgroundResponseMessage | undefined {
  let m: Partial<BackgroundResponseMessage>;
  try {
    m = JSON.parse(body) as Partial<BackgroundResponseMessage>;
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || m.kind !== 'response') return undefined;
  if (typeof m.tenantId !== 'string' || typeof m.responseId !== 'string') throw new Error(`not a background response message {kind: 'response', tenantId, responseId}: ${body.slice(0, 200)}`);
  return { kind: 'response', tenantId: m.tenantId, responseId: m.responseId };
}

/** Whether a Lambda event is an SQS event source mapping's (every record's `eventSource` is `aws:sqs`). */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

/**
 * The router's SQS work queues (event source mappings with `ReportBatchItemFailures`), told apart by each record's
 * `eventSourceARN`:
 * - The background responses' queue (BACKGROUND_RESPONSES_QUEUE_NAME): a BackgroundResponseMessage runs the response
 *   (responses/background.ts runBackgroundResponse, leased for the invocation's remaining time: a duplicate delivery
 *   runs nothing, one after a run's lease ended unsettled settles it `failed`). Any other message (a batch chunk's,
 *   e.g. redriven to the wrong queue) is not run: it is reported failed, with an ERROR log line naming the queue and
 *   the message, and so reaches this queue's dead-letter queue after its receives.
 * - The vector store files' queue (VECTOR_STORE_FILES_QUEUE_NAME): a VectorStoreFileMessage processes the file
 *   (vector-stores/file-queue.ts runVectorStoreFileMessage: idempotent; on the record's last receive, its
 *   `ApproximateReceiveCount` at VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, a failure also leaves the file `failed` with
 *   `last_error`). Any other message there is not run: reported failed with an ERROR log line, as above.
 * - Any other queue, the Batch API's: each record's chunk runs (worker.ts runBatchChunk) as long as the invocation's
 *   remaining time allows. A BackgroundResponseMessage there (sent by a router deployed before the background
 *   responses' queue) still runs as above.
 * The records run at once; the gateway's calls are cut at the invocation's deadline (lambda-deadline.ts) so that they
 * settle. A record whose work ran, ended or was skipped (a duplicate delivery) succeeds; one that threw for a reason
 * not of one request (a store or the queue unreachable, a message of the wrong kind) is reported in
 * `batchItemFailures`, so SQS delivers it again after its visibility timeout (by then a chunk's or response's lease, at
 * most the invocation's time, has expired) and, past the queue's maxReceiveCount, moves it to its dead-letter queue.
 * @param worker the batch worker's dependencies, built on first use
 * @param options.responses the background response worker's dependencies, built on first use @default - none: a
 *   background response message is reported failed
 * @param options.vectorStoreFiles the vector store file worker's dependencies, built on first use @default - none: a
 *   vector store file message is reported failed
 */
export async function handleBatchQueue(event: SQSEvent, context: RemainingTime, worker: () => Promise<BatchWorkerDeps>, options: { marginMs?: number; responses?: () => Promise<BackgroundRunDeps>; vectorStoreFiles?: () => Promise<ProcessingDeps> } = {}): Promise<SQSBatchResponse> {
  const deadline = lambdaDeadline(context);
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  try {
    await Promise.all(event.Records.map(async (record) => {
      const queue = queueNameOfArn(record.eventSourceARN);
      try {
        const file = parseVectorStoreFileMessage(record.body);
        if (!file && queue === VECTOR_STORE_FILES_QUEUE_NAME) {
          logger.error('a message that is not a vector store file\'s on the vector store files\' queue: not run, reported failed (it reaches the queue\'s dead-letter queue after its receives)', { queue, messageId: record.messageId, body: record.body.slice(0, 200) });
          failures.push({ itemIdentifier: record.messageId });
          return;
        }
        if (file) {
          if (!options.vectorStoreFiles) throw new Error('a vector store file message reached a consumer that processes none');
          const lastAttempt = Number(record.attributes?.ApproximateReceiveCount ?? 0) >= VECTOR_STORE_FILES_MAX_RECEIVE_COUNT;
          const outcome = await runVectorStoreFileMessage(await options.vectorStoreFiles(), file, { lastAttempt, deadLetterQueue: `${DLQ_NAME_PREFIX}${VECTOR_STORE_FILES_DLQ_NAME}` });
          logger.info('vector store file', { queue, messageId: record.messageId, storeId: file.storeId, fileId: file.fileId, outcome });
          return;
        }
        const response = parseResponseMessage(record.body);
        if (!response && queue === BACKGROUND_RESPONSES_QUEUE_NAME) {
          logger.error('a message that is not a background response on the background responses\' queue: not run, reported failed (it reaches the queue\'s dead-letter queue after its receives)', { queue, messageId: record.messageId, body: record.body.slice(0, 200) });
          failures.push({ itemIdentifier: record.messageId });
          return;
        }
        if (response) {
          if (!options.responses) throw new Error('a background response message reached a consumer that runs none');
          // Its lease: the invocation's time (a redelivery after it settles it failed: runBackgroundResponse).
          const outcome = await runBackgroundResponse(await options.responses(), response.tenantId, response.responseId, context.getRemainingTimeInMillis(), { signal: deadline.signal });
          logger.info('background response', { queue, messageId: record.messageId, responseId: response.responseId, outcome });
          return;
        }
        const outcome = await runBatchChunk(await worker(), parseBatchMessage(record.body), () => context.getRemainingTimeInMillis(), { marginMs: options.marginMs, signal: deadline.signal });
        logger.info('batch chunk', { queue, messageId: record.messageId, outcome });
      } catch (e) {
        logger.error('work queue message failed: it is delivered again', { queue, messageId: record.messageId, error: (e as Error).message });
        failures.push({ itemIdentifier: record.messageId });
      }
    }));
  } finally {
    deadline.dispose();
  }
  return { batchItemFailures: failures };
}
