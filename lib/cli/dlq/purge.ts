import { GetQueueAttributesCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { clientProfile } from '../aws-errors.js';
import { call } from './queues.js';

/** What `tessera dlq purge` did, or (dry run) would do. */
export interface PurgeReport {
  readonly queue: string;
  readonly dryRun: boolean;
  /** ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible + ApproximateNumberOfMessagesDelayed just before the purge: what it deletes. */
  readonly messages: number;
  /** PurgeQueue was called (never in a dry run, nor for an empty queue). */
  readonly purged: boolean;
}

/**
 * Counts a queue's messages and, unless `dryRun` or the queue is empty, deletes them all with SQS
 * PurgeQueue. SQS rules (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html):
 * the deletion takes up to 60 seconds; messages sent during that minute may be deleted too; a second
 * PurgeQueue on the queue within 60 seconds fails with PurgeQueueInProgress (reported as a CliError).
 * The count is approximate (SQS's Approximate* attributes).
 * @throws CliError (1) naming the call and the queue when GetQueueAttributes or PurgeQueue fails
 */
export async function purgeQueue(sqs: SQSClient, queue: { name: string; url: string }, dryRun: boolean): Promise<PurgeReport> {
  const counts = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const attrs = (await call(`sqs:GetQueueAttributes on ${queue.name}`, () => sqs.send(new GetQueueAttributesCommand({
    QueueUrl: queue.url, AttributeNames: [...counts],
  })), clientProfile(sqs))).Attributes ?? {};
  const messages = counts.reduce((n, k) => n + Number(attrs[k] ?? 0), 0);
  if (dryRun || messages === 0) return { queue: queue.name, dryRun, messages, purged: false };
  await call(`sqs:PurgeQueue on ${queue.name}`, () => sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url })), clientProfile(sqs));
  return { queue: queue.name, dryRun, messages, purged: true };
}
