import {
  GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, ReceiveMessageCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import { DLQ_SOURCE_TAG } from '../../dead-letters.js';
import { describeAwsError } from '../aws-errors.js';
import { CliError } from '../cli-error.js';

/** One dead-letter queue as `tessera dlq list` shows it. */
export interface DeadLetterQueueInfo {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** ApproximateNumberOfMessages: waiting to be read or redriven. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and not yet deleted (a redrive in progress, a peek's 0 s lease). */
  readonly inFlight: number;
  /** Age in seconds of the oldest message seen by a peek of up to 10 (see `oldestMessageAge`); undefined when the queue is empty. */
  readonly oldestAgeSeconds?: number;
  /** The `tessera:dlq-source` tag: what dead-letters into it. */
  readonly source?: string;
}

/** The queue name of a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export const queueNameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * The dead-letter queues whose names start with `prefix` (SQS ListQueues with QueueNamePrefix,
 * every page), each with its depth, its oldest message's age and its source tag.
 * @throws CliError (1) naming the call and the queue that failed
 */
export async function listDeadLetterQueues(sqs: SQSClient, prefix: string, now = Date.now()): Promise<DeadLetterQueueInfo[]> {
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await call(`sqs:ListQueues (prefix ${prefix})`, () => sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: token, MaxResults: 1000 })));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  const infos: DeadLetterQueueInfo[] = [];
  for (const url of urls.sort()) {
    const name = queueNameOf(url);
    const attrs = (await call(`sqs:GetQueueAttributes on ${name}`, () => sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    })))).Attributes ?? {};
    const tags = (await call(`sqs:ListQueueTags on ${name}`, () => sqs.send(new ListQueueTagsCommand({ QueueUrl: url })))).Tags ?? {};
    const visible = Number(attrs.ApproximateNumberOfMessages ?? 0);
    infos.push({
      name, url, arn: attrs.QueueArn ?? '', visible, inFlight: Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0),
      oldestAgeSeconds: visible > 0 ? await oldestMessageAge(sqs, url, now) : undefined,
      source: tags[DLQ_SOURCE_TAG],
    });
  }
  return infos;
}

/**
 * Up to `count` messages of a queue, without deleting them: ReceiveMessage with VisibilityTimeout 0,
 * so they stay visible to everyone else. Caveats (SQS semantics): a standard queue answers from a
 * sample of its servers, so a peek may return fewer than `count` (or none of a small queue) and
 * repeat messages across calls; each receive adds 1 to a message's ApproximateReceiveCount (these
 * queues have no redrive policy of their own, so nothing moves because of it).
 * @throws CliError (1) naming the queue when the call fails
 */
export async function peekMessages(sqs: SQSClient, url: string, count: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  // Up to 10 per call (SQS's maximum); a few calls, since each samples a subset of servers.
  for (let attempt = 0; attempt < Math.ceil(count / 10) + 2 && seen.size < count; attempt++) {
    const asked = Math.min(10, count - seen.size);
    const got = await call(`sqs:ReceiveMessage on ${queueNameOf(url)}`, () => sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: asked, VisibilityTimeout: 0, WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
    })));
    const before = seen.size;
    for (const m of got.Messages ?? []) if (m.MessageId && !seen.has(m.MessageId)) seen.set(m.MessageId, m);
    // Fewer than asked, or nothing new: stop (each further receive would count against the same messages).
    if (seen.size === before || (got.Messages?.length ?? 0) < asked) break;
  }
  return [...seen.values()].slice(0, count);
}

/**
 * Age in seconds of the oldest of up to 10 peeked messages (their SentTimestamp). A lower bound on
 * the true oldest age (a peek samples servers); CloudWatch's ApproximateAgeOfOldestMessage is exact
 * but needs @aws-sdk/client-cloudwatch, which is not a dependency.
 */
async function oldestMessageAge(sqs: SQSClient, url: string, now: number): Promise<number | undefined> {
  const sent = (await peekMessages(sqs, url, 10)).map((m) => Number(m.Attributes?.SentTimestamp)).filter((t) => Number.isFinite(t) && t > 0);
  return sent.length ? Math.max(0, Math.round((now - Math.min(...sent)) / 1000)) : undefined;
}

/**
 * Runs one AWS call; its failure becomes a CliError (exit 1) naming the call, the queue and AWS's
 * error, or (exit 2) the missing region: the SDK found none in --region, AWS_REGION or the profile.
 */
export async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (/Region is missing/.test((e as Error).message ?? '')) throw new CliError(`${what}: no AWS region: give --region (a global option: tessera --region us-east-1 dlq list), or set AWS_REGION or a region in your profile`, 2);
    throw new CliError(describeAwsError(what, e), 1);
  }
}
