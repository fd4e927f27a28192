import {
  GetQueueAttributesCommand, paginateListQueues, ListQueueTagsCommand, ReceiveMessageCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import { pages } from '../../aws-pages.js';
import { DLQ_SOURCE_TAG, EVENTBRIDGE_DLQ_ATTRIBUTES } from '../../dead-letters.js';
import { clientProfile, describeAwsError, isCredentialsError, missingProfileOf } from '../aws-errors.js';
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
  /**
   * How many of the (up to 10) peeked messages are AWS service events (`aws.*`) that failed on
   * their way to an event bus (see `awsServiceEventSource`): `tessera dlq redrive` cannot replay
   * these. 0 when the queue is empty.
   */
  readonly awsServiceEvents: number;
}

/**
 * The event's source when `m` is an AWS service's event (`aws.*`) that EventBridge dead-lettered
 * on its way to an event bus target (the tenant accounts' forwarding rules): such an event cannot
 * be replayed, since PutEvents refuses `aws.*` sources
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html) and
 * the service emits each event once. Undefined otherwise (including a schedule's `aws.events`
 * event for a Lambda or state machine target, which is replayed to that target).
 */
export function awsServiceEventSource(m: Message): string | undefined {
  const target = m.MessageAttributes?.[EVENTBRIDGE_DLQ_ATTRIBUTES.targetArn]?.StringValue;
  if (!m.MessageAttributes?.[EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn]?.StringValue || !target || !/^arn:[^:]+:events:[^:]*:[^:]*:event-bus\//.test(target)) return undefined;
  try {
    const source = (JSON.parse(m.Body ?? '') as { source?: unknown }).source;
    return typeof source === 'string' && source.startsWith('aws.') ? source : undefined;
  } catch {
    return undefined;
  }
}

/** The queue name of a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export const queueNameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * The dead-letter queues whose names start with `prefix` (SQS ListQueues with QueueNamePrefix,
 * every page), each with its depth, its oldest message's age, its source tag and how many of a
 * peek's messages cannot be replayed.
 * @throws CliError (1) naming the call and the queue that failed
 */
export async function listDeadLetterQueues(sqs: SQSClient, prefix: string, now = Date.now()): Promise<DeadLetterQueueInfo[]> {
  const urls: string[] = [];
  await call(`sqs:ListQueues (prefix ${prefix})`, async () => {
    for await (const page of paginateListQueues(pages(sqs, 1000), { QueueNamePrefix: prefix })) urls.push(...(page.QueueUrls ?? []));
  }, clientProfile(sqs));
  const infos: DeadLetterQueueInfo[] = [];
  for (const url of urls.sort()) {
    const name = queueNameOf(url);
    const attrs = (await call(`sqs:GetQueueAttributes on ${name}`, () => sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    })), clientProfile(sqs))).Attributes ?? {};
    const tags = (await call(`sqs:ListQueueTags on ${name}`, () => sqs.send(new ListQueueTagsCommand({ QueueUrl: url })), clientProfile(sqs))).Tags ?? {};
    const visible = Number(attrs.ApproximateNumberOfMessages ?? 0);
    const peeked = visible > 0 ? await peekMessages(sqs, url, 10) : [];
    infos.push({
      name, url, arn: attrs.QueueArn ?? '', visible, inFlight: Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0),
      oldestAgeSeconds: oldestMessageAge(peeked, now),
      source: tags[DLQ_SOURCE_TAG],
      awsServiceEvents: peeked.filter((m) => awsServiceEventSource(m) !== undefined).length,
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
    })), clientProfile(sqs));
    const before = seen.size;
    for (const m of got.Messages ?? []) if (m.MessageId && !seen.has(m.MessageId)) seen.set(m.MessageId, m);
    // Fewer than asked, or nothing new: stop (each further receive would count against the same messages).
    if (seen.size === before || (got.Messages?.length ?? 0) < asked) break;
  }
  return [...seen.values()].slice(0, count);
}

/**
 * Age in seconds of the oldest of the peeked messages (up to 10; their SentTimestamp). A lower bound on
 * the true oldest age (a peek samples servers); CloudWatch's ApproximateAgeOfOldestMessage is exact
 * but needs @aws-sdk/client-cloudwatch, which is not a dependency.
 */
function oldestMessageAge(peeked: Message[], now: number): number | undefined {
  const sent = peeked.map((m) => Number(m.Attributes?.SentTimestamp)).filter((t) => Number.isFinite(t) && t > 0);
  return sent.length ? Math.max(0, Math.round((now - Math.min(...sent)) / 1000)) : undefined;
}

/**
 * Runs one AWS call; its failure becomes a CliError (exit 1) naming the call, the queue and AWS's
 * error, or (exit 2) the missing region: the SDK found none in --region, AWS_REGION or the profile, or a missing
 * profile: `profile` (the client's, from --profile) or AWS_PROFILE is in neither shared file.
 */
export async function call<T>(what: string, send: () => Promise<T>, profile?: string): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (/Region is missing/.test((e as Error).message ?? '')) throw new CliError(`${what}: no AWS region: give --region (a global option: tessera --region us-east-1 dlq list), or set AWS_REGION or a region in your profile`, 2);
    // A profile that names no profile is a usage error (exit 2), as in doctor and the admin API commands.
    const missing = isCredentialsError(e) ? await missingProfileOf(profile) : undefined;
    // The SDK's error as the cause: `--json` reports its name, HTTP status and request id (json-error.ts).
    throw new CliError(describeAwsError(what, e, missing), missing ? 2 : 1, missing ? { type: 'credentials_error', code: 'profile_not_found' } : undefined, e);
  }
}
