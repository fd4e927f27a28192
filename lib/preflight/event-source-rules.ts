/**
 * What Lambda and SQS refuse, when CloudFormation creates an event source mapping or a queue, in how a queue is
 * wired to a function or to its dead-letter queue, which moto (the integration tests' fake) takes as given: service
 * rules (lib/preflight/service-rules.ts) over every stack of a tier and the platform stack (TesseraPlatform, where
 * the SQS event sources are: the batch, background-response and vector-store file queues, the fine-tuning endpoint
 * checks, the infrastructure budget alerts).
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import { numberOr, referencedAt, resourcesOf, stacksOf } from './rule-stacks.js';
import type { ServiceRule } from './service-rules.js';

/** A queue's VisibilityTimeout when the template sets none: "Default: 30" (AWS::SQS::Queue VisibilityTimeout). */
export const SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;
/** A function's Timeout when the template sets none: "The default is 3 seconds" (AWS::Lambda::Function Timeout). */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
/** The largest SQS BatchSize Lambda takes without a batching window (CreateEventSourceMapping, BatchSize). */
export const SQS_BATCH_SIZE_WITHOUT_WINDOW = 10;

const ESM = 'AWS::Lambda::EventSourceMapping';
const QUEUE = 'AWS::SQS::Queue';
const FUNCTION = 'AWS::Lambda::Function';

/** The queue of the stack an event source mapping reads, when its source is one (else a stream, or a queue elsewhere). */
const sourceQueueOf = (inst: InstantiatedTemplate, esm: InstantiatedResource) => referencedAt(inst, esm, 'EventSourceArn', QUEUE);

/** Whether a queue is a FIFO queue (FifoQueue true, or "true" as a resolved string). */
const isFifo = (queue: InstantiatedResource) => queue.props.FifoQueue === true || queue.props.FifoQueue === 'true';

/**
 * Why Lambda refuses the SQS event source mapping `esm` of `inst`, or nothing: the function's Timeout (default 3 s)
 * above the queue's VisibilityTimeout (default 30 s); a BatchSize above 10 without MaximumBatchingWindowInSeconds ≥ 1.
 * Sources: Lambda Developer Guide, "Creating and configuring an Amazon SQS event source mapping" ("Your function's
 * timeout must be less than or equal to the queue's visibility timeout. Lambda validates this requirement when you
 * create or update an event source mapping and will return an error if the function timeout exceeds the queue's
 * visibility timeout", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); Lambda API
 * Reference, CreateEventSourceMapping, BatchSize ("When you set BatchSize to a value greater than 10, you must set
 * MaximumBatchingWindowInSeconds to at least 1", https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
 */
export function sqsEventSourceProblems(inst: InstantiatedTemplate, esm: InstantiatedResource): string[] {
  const queue = sourceQueueOf(inst, esm);
  if (!queue) return [];
  const out: string[] = [];
  const fn = referencedAt(inst, esm, 'FunctionName', FUNCTION);
  if (fn) {
    const visibility = numberOr(queue.props.VisibilityTimeout, SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS);
    const timeout = numberOr(fn.props.Timeout, LAMBDA_DEFAULT_TIMEOUT_SECONDS);
    if (!(timeout <= visibility)) out.push(`${esm.logicalId}: function ${fn.logicalId}'s Timeout ${timeout} s exceeds queue ${queue.logicalId}'s VisibilityTimeout ${visibility} s`);
  }
  const batch = numberOr(esm.props.BatchSize, SQS_BATCH_SIZE_WITHOUT_WINDOW);
  const window = numberOr(esm.props.MaximumBatchingWindowInSeconds, 0);
  if (batch > SQS_BATCH_SIZE_WITHOUT_WINDOW && !(window >= 1)) out.push(`${esm.logicalId}: BatchSize ${batch} on queue ${queue.logicalId} without MaximumBatchingWindowInSeconds ≥ 1 (${esm.props.MaximumBatchingWindowInSeconds === undefined ? 'none' : String(esm.props.MaximumBatchingWindowInSeconds)})`);
  return out;
}

/**
 * Why SQS refuses `queue`'s redrive policy, or nothing: its dead-letter queue (a queue of the same stack) is FIFO where
 * the queue is standard, or standard where it is FIFO. Source: Amazon SQS Developer Guide, "Using dead-letter queues"
 * ("The dead-letter queue of a FIFO queue must also be a FIFO queue. Similarly, the dead-letter queue of a standard
 * queue must also be a standard queue", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export function deadLetterQueueTypeProblems(inst: InstantiatedTemplate, queue: InstantiatedResource): string[] {
  if (queue.props.RedrivePolicy === undefined) return [];
  const dlq = referencedAt(inst, queue, 'RedrivePolicy.deadLetterTargetArn', QUEUE);
  if (!dlq || isFifo(dlq) === isFifo(queue)) return [];
  const kind = (q: InstantiatedResource) => (isFifo(q) ? 'FIFO' : 'standard');
  return [`${queue.logicalId} (${kind(queue)}) redrives to ${dlq.logicalId} (${kind(dlq)}): a queue's dead-letter queue is of its own type`];
}

export const EVENT_SOURCE_RULES: readonly ServiceRule[] = [
  {
    id: 'lambda-sqs-event-source',
    statement: `An SQS event source mapping's function times out within the queue's visibility timeout (defaults: function ${LAMBDA_DEFAULT_TIMEOUT_SECONDS} s, queue ${SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS} s), and a BatchSize above ${SQS_BATCH_SIZE_WITHOUT_WINDOW} comes with MaximumBatchingWindowInSeconds ≥ 1, in every stack of the tier and in the platform stack.`,
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html ("Lambda validates this requirement when you create or update an event source mapping"); https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (BatchSize)',
    appliesTo: [ESM],
    readsEveryStack: true,
    check: (ctx) => stacksOf(ctx, { platform: true }).flatMap(({ label, inst }) => resourcesOf(inst, ESM).flatMap((esm) => sqsEventSourceProblems(inst, esm).map((v) => `${label}${v}`))),
  },
  {
    id: 'sqs-dead-letter-queue-type',
    statement: 'A queue\'s dead-letter queue is of its own type (FIFO for a FIFO queue, standard for a standard one), in every stack of the tier and in the platform stack.',
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
    appliesTo: [QUEUE],
    readsEveryStack: true,
    check: (ctx) => stacksOf(ctx, { platform: true }).flatMap(({ label, inst }) => resourcesOf(inst, QUEUE).flatMap((q) => deadLetterQueueTypeProblems(inst, q).map((v) => `${label}${v}`))),
  },
];
