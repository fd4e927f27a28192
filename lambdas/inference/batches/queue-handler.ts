import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaDeadline, type RemainingTime } from '../lambda-deadline.js';
import { runBackgroundResponse, type BackgroundRunDeps } from '../responses/background.js';
import { parseBatchMessage, runBatchChunk, type BatchWorkerDeps } from './worker.js';

/**
 * A message of the work queue that runs a background response (`background: true`): the second kind of message on the
 * Batch API's queue, beside BatchMessage (which has no `kind`).
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
 * A message of kind `response` (BackgroundResponseMessage) runs a background response instead
 * (responses/background.ts runBackgroundResponse, leased for the invocation's remaining time): a duplicate delivery
 * runs nothing, one after a run's lease ended unsettled settles it `failed`.
 *
 * The Batch API's work queue on the router Lambda (an SQS event source mapping with `ReportBatchItemFailures`): each
 * record's chunk runs (worker.ts runBatchChunk), the records at once, each as long as the invocation's remaining time
 * allows; the gateway's calls are cut at the invocation's deadline (lambda-deadline.ts) so that they settle. A record
 * whose chunk ran, ended the batch or was skipped (a duplicate delivery) succeeds; one that threw for a reason not of
 * one request (a store or the queue unreachable, a message that is not a batch's) is reported in `batchItemFailures`,
 * so SQS delivers it again after its visibility timeout (by then the chunk's lease, at most the invocation's time, has
 * expired) and, past the queue's maxReceiveCount, moves it to the dead-letter queue.
 * @param worker the worker's dependencies, built on first use
 */
export async function handleBatchQueue(event: SQSEvent, context: RemainingTime, worker: () => Promise<BatchWorkerDeps>, options: { marginMs?: number; responses?: () => Promise<BackgroundRunDeps> } = {}): Promise<SQSBatchResponse> {
  const deadline = lambdaDeadline(context);
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  try {
    await Promise.all(event.Records.map(async (record) => {
      try {
        const response = parseResponseMessage(record.body);
        if (response) {
          if (!options.responses) throw new Error('a background response message reached a consumer that runs none');
          // Its lease: the invocation's time (a redelivery after it settles it failed: runBackgroundResponse).
          const outcome = await runBackgroundResponse(await options.responses(), response.tenantId, response.responseId, context.getRemainingTimeInMillis(), { signal: deadline.signal });
          console.log(JSON.stringify({ level: 'INFO', message: 'background response', messageId: record.messageId, responseId: response.responseId, outcome }));
          return;
        }
        const outcome = await runBatchChunk(await worker(), parseBatchMessage(record.body), () => context.getRemainingTimeInMillis(), { marginMs: options.marginMs, signal: deadline.signal });
        console.log(JSON.stringify({ level: 'INFO', message: 'batch chunk', messageId: record.messageId, outcome }));
      } catch (e) {
        console.error(JSON.stringify({ level: 'ERROR', message: 'batch chunk failed: the message is delivered again', messageId: record.messageId, error: (e as Error).message }));
        failures.push({ itemIdentifier: record.messageId });
      }
    }));
  } finally {
    deadline.dispose();
  }
  return { batchItemFailures: failures };
}
