import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import {
  BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME, VECTOR_STORE_FILES_DLQ_NAME, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME,
} from '../lambdas/inference/work-queues.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { decryptThrough } from './platform-key-decrypt.js';
import type { LambdaFunction } from './lambda-function.js';
import { secureBucketProps } from './secure-bucket-props.js';

/** The work queues' names (SQS; lambdas/inference/work-queues.ts, which the router's consumer reads too). */
export { BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME, VECTOR_STORE_FILES_DLQ_NAME, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME };
/** The batch queue's dead-letter queue's path: the queue is `tessera-dlq-batches` (DLQ_NAME_PREFIX), which `tessera dlq list|redrive` finds. */
export const BATCH_DLQ_NAME = 'batches';
/** The background responses queue's dead-letter queue's path: `tessera-dlq-background-responses` (DLQ_NAME_PREFIX), which `tessera dlq list|redrive` finds. */
export const BACKGROUND_RESPONSES_DLQ_NAME = 'background-responses';
/**
 * Where a tenant's gateway files that expire are kept: `tenants/<tenantId>/batch-files/<fileId>` (every `batch` and
 * `batch_output` file, any file uploaded with `expires_after`) and the worker's parts beside them; the lifecycle rule
 * `expire-batch-files` removes them after BATCH_FILES_EXPIRATION_DAYS.
 */
export const BATCH_FILES_ROOT = 'tenants/';
/** The key prefix of one tenant's expiring gateway files (`tenantId` may be a policy variable). */
export const batchFilesPrefix = (tenantId: string) => `${BATCH_FILES_ROOT}${tenantId}/batch-files/`;
/**
 * Where a tenant's gateway files kept until deleted are: `kept-files/<tenantId>/<fileId>` (`user_data`, `vision`,
 * `assistants` uploaded without `expires_after`: OpenAI keeps those until they are deleted). A root of its own, outside
 * BATCH_FILES_ROOT: S3 lifecycle prefixes have no wildcards, so one rule cannot tell `tenants/<t>/kept/` from
 * `tenants/<t>/batch-files/`; and a tag filter on the expiring rule would stop it expiring the untagged objects written
 * before 0.2.0. Removed only by the tenant's delete and by offboarding's erasure (erase-pooled-gateway-data.ts).
 */
export const KEPT_FILES_ROOT = 'kept-files/';
/** The key prefix of one tenant's kept gateway files (`tenantId` may be a policy variable). */
export const keptFilesPrefix = (tenantId: string) => `${KEPT_FILES_ROOT}${tenantId}/`;

/**
 * The longest a batch file lives, in seconds, from the write of its object: OpenAI's `expires_after` and
 * `output_expires_after` take at most 2,592,000 s, 30 days (Files API reference, "Upload file"; the gateway's bound,
 * lambdas/inference/batches/batch-service.ts, whose DEFAULT_FILE_TTL_SECONDS is the same 30 days), counted from the
 * upload or from the batch's end; a batch's output may be written in parts over its 24-hour completion window
 * (COMPLETION_WINDOW_SECONDS) before the file's clock starts.
 */
export const BATCH_FILE_MAX_LIFETIME_SECONDS = 2_592_000 + 24 * 3600;
/**
 * The lifecycle rule's expiration of `tenants/`, in days: the longest lifetime rounded up, and one day more. S3 counts
 * from the object's creation and rounds to the next midnight UTC, and expires asynchronously after that (S3 User
 * Guide, "Setting lifecycle configuration"), so an object outlives its rule by up to two days but never dies before
 * it; the gateway refuses an expired file itself (its `expires_at`), the rule only removes what nobody may read.
 */
export const BATCH_FILES_EXPIRATION_DAYS = Math.ceil(BATCH_FILE_MAX_LIFETIME_SECONDS / 86_400) + 1;

/**
 * The SQS event source's visibility timeout, as a multiple of the function's timeout: "at least six times the timeout
 * that you configure on your function" (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS", section
 * "Configuring a queue to use with Lambda"), so a message the function is still running is never handed out again.
 */
export const SQS_VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Receives before a chunk's message goes to the dead-letter queue. The Lambda Developer Guide advises at least 5
 * ("set the maxReceiveCount on the source queue's redrive policy to at least 5"): a delivery the router's reserved
 * concurrency throttles (taken by live traffic) counts as a receive. 5 receives, each followed by the 90-minute
 * visibility timeout when it fails, take 7.5 hours: a chunk that keeps failing is dead-lettered (and pages) well
 * inside the batch's 24-hour completion window, not after it.
 */
export const BATCH_MAX_RECEIVE_COUNT = 5;
/**
 * The event source mapping's maximum concurrency: at most this many chunks run at once, whatever the backlog (the
 * mapping does not poll past it: AWS Compute Blog, "Introducing maximum concurrency of AWS Lambda functions when
 * using Amazon SQS as an event source"; 2 to 1,000). 20 of the router's 200 reserved executions
 * (lib/lambda-concurrency.ts): live requests keep 180, and the providers see at most 20 chunks' requests at a time on
 * top of live traffic; each request still passes the tenant's own rate limit. The queue is an SQS fair queue (every
 * message in its tenant's group: lambdas/inference/work-queues.ts fairQueueGroup): below the 30 messages in flight
 * that SQS's in-flight measure of a noisy tenant needs, so it tells one by its share of processing time (over 10%),
 * which chunks of minutes reach; a consumer that frees then takes another tenant's waiting chunk first.
 */
export const BATCH_MAX_CONCURRENCY = 20;
/**
 * Receives before a background response's message goes to the dead-letter queue: 5, the Lambda Developer Guide's
 * minimum, for the same reason as BATCH_MAX_RECEIVE_COUNT (a delivery throttled by the router's reserved concurrency
 * counts as a receive). A response is claimed once: a redelivery after a run that crashed or timed out settles it
 * `failed` (responses/background.ts), so the receives past the first only ever retry a delivery that failed before
 * its claim (the responses table or the tenant-data role unreachable). 5 receives 90 minutes apart take 7.5 hours;
 * a message dead-lettered leaves its response `queued` (its creator sees it so, and may cancel it) until an operator
 * redrives it (`tessera dlq redrive tessera-dlq-background-responses`), which then runs it if still queued.
 */
export const BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT = 5;
/**
 * The background responses mapping's maximum concurrency: at most this many background responses run at once, apart
 * from (and on top of) the BATCH_MAX_CONCURRENCY batch chunks, so a batch's backlog of chunks never holds one up.
 * The router reserves 200 executions (lib/lambda-concurrency.ts PLATFORM_FUNCTIONS.router): 200 − 20 batch chunks −
 * 20 background responses leaves live requests 160 (80%) when both queues are full, and the queues together take at
 * most a quarter (40 ≤ 50). A maximum, not a reservation: without a backlog live requests may use all 200. A
 * background response is one model call (minutes at most, bounded by the router's 15-minute timeout), so 20 at once
 * start a backlog's next within about a run's time; each passes its tenant's own rate limit and budget when it runs.
 */
export const BACKGROUND_RESPONSES_MAX_CONCURRENCY = 20;

/** A work queue the router consumes (routerWorkQueue). */
export interface RouterWorkQueueProps {
  /** The queue's name (SQS QueueName). */
  readonly queueName: string;
  /** Its dead-letter queue's path (DeadLetterQueue `name`: `tessera-dlq-<path>`). */
  readonly deadLetterName: string;
  /** Receives before a message moves to the dead-letter queue (redrive policy maxReceiveCount). */
  readonly maxReceiveCount: number;
  /** The event source mapping's maximum concurrency (SQS: 2 to 1,000). */
  readonly maxConcurrency: number;
  /** The router's policy statement id of its four actions on this queue. */
  readonly sid: string;
  /** The platform key (SSE-KMS of the queue and its DLQ). */
  readonly encryptionKey: kms.IKey;
  /** The router Lambda: it sends to the queue and consumes it. */
  readonly router: LambdaFunction;
}

/**
 * A work queue of the router, made in `scope` as children `DeadLetters` (its DeadLetterQueue, which the platform
 * monitoring alarms on), `Queue` and `QueueSource` (ids kept from BatchWork's first queue: a named queue's logical id
 * must not change): SSE-KMS with the platform key, TLS only, its visibility timeout SQS_VISIBILITY_TIMEOUT_FACTOR times
 * the router's timeout, SQS's default 4 days' retention, a redrive policy to its dead-letter queue; consumed by the
 * router (an event source mapping: batch size 1, ReportBatchItemFailures, `maxConcurrency`). The router's role gets
 * `sqs:SendMessage` and the mapping's three actions on this queue only, in one statement `sid`, and the platform key
 * through SQS for this queue only (`PlatformKeyThroughSQSFor<sid>` in its policy `WorkQueuesKey`: kms:GenerateDataKey
 * and kms:Decrypt, `kms:ViaService` SQS and the encryption context `aws:sqs:arn` = the queue).
 * @throws Error when the router function has no timeout
 */
export function routerWorkQueue(scope: Construct, props: RouterWorkQueueProps): { queue: sqs.Queue; deadLetterQueue: DeadLetterQueue } {
  const { router } = props;
  const routerTimeout = router.function.timeout;
  if (!routerTimeout) throw new Error(`${scope.node.path}: the router function has no timeout to derive the visibility timeout of queue ${props.queueName} from`);
  const deadLetterQueue = new DeadLetterQueue(scope, 'DeadLetters', {
    name: props.deadLetterName, source: `queue ${props.queueName} to router Lambda`, encryptionKey: props.encryptionKey,
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    queueName: props.queueName,
    encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(1), enforceSSL: true,
    visibilityTimeout: Duration.seconds(routerTimeout.toSeconds() * SQS_VISIBILITY_TIMEOUT_FACTOR),
    // SQS's default, named: longer than a batch's 24-hour window and the messages' 7.5 hours of receives, shorter than
    // the dead-letter queue's 14 days (a moved message keeps its first enqueue time: SQS Developer Guide, "Using
    // dead-letter queues").
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue.queue, maxReceiveCount: props.maxReceiveCount },
  });
  // The router's own statements (its role takes no grants): SendMessage, and the mapping's three (SQS Developer
  // Guide, "Configuring an Amazon SQS queue to trigger an AWS Lambda function": ReceiveMessage, DeleteMessage,
  // GetQueueAttributes). A mapping of its own, as the fine-tuning endpoint checks': SqsEventSource would grant through
  // the key's policy.
  router.addToPolicy(new iam.PolicyStatement({
    sid: props.sid, actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: [queue.queueArn],
  }));
  // SQS asks AWS KMS for the platform key as the router, on its sends (kms:GenerateDataKey, kms:Decrypt) and on the
  // mapping's receives (kms:Decrypt, with the function's execution role): through SQS, for this queue only (decryptThrough).
  workQueuesKeyPolicy(router).addStatements(decryptThrough(scope, `PlatformKeyThroughSQSFor${props.sid}`, props.encryptionKey.keyArn, { service: 'sqs', queueArns: [queue.queueArn], actions: ['kms:GenerateDataKey', 'kms:Decrypt'] }));
  new lambda.EventSourceMapping(scope, 'QueueSource', {
    target: router.function, eventSourceArn: queue.queueArn,
    // One message per invocation: its work may run for most of the router's 15 minutes, and a second one in the same
    // invocation would share its deadline.
    batchSize: 1, reportBatchItemFailures: true, maxConcurrency: props.maxConcurrency,
  }).node.addDependency(router.managedPolicy, workQueuesKeyPolicy(router));
  return { queue, deadLetterQueue };
}

const workQueuesKeyPolicies = new WeakMap<LambdaFunction, iam.ManagedPolicy>();

/**
 * The router's managed policy `WorkQueuesKey` (beside its function policy, made once): its use of the platform
 * key for its work queues, one statement per queue, beside its function policy, which has no room left for them under
 * IAM's 6,144 characters of a managed policy (test/infra/iam-policy-sizes.test.ts).
 */
function workQueuesKeyPolicy(router: LambdaFunction): iam.ManagedPolicy {
  let policy = workQueuesKeyPolicies.get(router);
  if (!policy) {
    // Beside the function policy, in FunctionPolicies (policyHome): only the router and its queues' event source mappings
    // wait for it, and it leaves TesseraPlatform room (test/infra/platform-headroom.test.ts).
    policy = new iam.ManagedPolicy(router.policyHome, 'WorkQueuesKey', {
      description: 'Tessera router: the platform key through SQS for its work queues (their sends and receives)', roles: [router.role],
    });
    workQueuesKeyPolicies.set(router, policy);
  }
  return policy;
}

export interface BatchWorkProps {
  /** The platform key: the queues (SSE-KMS) and the bucket (SSE-KMS). */
  readonly encryptionKey: kms.IKey;
  /** The router Lambda: it enqueues a batch's chunks and consumes them (the queue's event source mapping). */
  readonly router: LambdaFunction;
  /** Target of the bucket's server access logs (prefix `batch-files/`). */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * The principals that may touch the bucket's objects (its policy denies every other `aws:PrincipalArn`): the
   * tenant-data role, by ARN, and the break-glass role.
   */
  readonly dataPrincipalArns: string[];
}

/**
 * OpenAI's Batch API on AWS, the infrastructure: a work queue (SSE-KMS with the platform key, TLS only, a redrive
 * policy to its dead-letter queue `tessera-dlq-batches`) consumed by the router itself (an event source mapping:
 * batch size 1, ReportBatchItemFailures, BATCH_MAX_CONCURRENCY), and the bucket of the gateway's files (the Files
 * API's purposes but `fine-tune`): `tenants/<tenantId>/batch-files/<fileId>` for files that expire (lifecycle rule
 * after BATCH_FILES_EXPIRATION_DAYS), `kept-files/<tenantId>/<fileId>` for files kept until deleted (no expiration),
 * read and written only as the tenant (the tenant-data role).
 *
 * The router's role gets `sqs:SendMessage` (a create enqueues its chunks) and the mapping's three actions on this
 * queue only; nothing on the bucket. The bucket's SSE-KMS uses no S3 Bucket Key: with one, S3's KMS encryption
 * context is the bucket's ARN instead of the object's (S3 User Guide, "Configuring your bucket to use an S3 Bucket
 * Key"), and the tenant-data role's use of the key could not be bound to the session tenant's prefix. Batch files are
 * few and large, so one KMS request per object read or write costs little.
 *
 * Background responses have a queue of their own (BackgroundResponseWork); a router deployed before it sent them here
 * (`{kind: 'response', tenantId, responseId}`), and the consumer still runs those (batches/queue-handler.ts).
 */
export class BatchWork extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly bucket: s3.Bucket;
  /** The Lambda environment of the functions that serve the Batch API (GATEWAY_ENV.batchQueueUrl, batchFilesBucket). */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: BatchWorkProps) {
    super(scope, id);
    const { router } = props;
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = routerWorkQueue(this, {
      queueName: BATCH_QUEUE_NAME, deadLetterName: BATCH_DLQ_NAME, maxReceiveCount: BATCH_MAX_RECEIVE_COUNT, maxConcurrency: BATCH_MAX_CONCURRENCY,
      sid: 'BatchQueue', encryptionKey: props.encryptionKey, router,
    }));

    this.bucket = new s3.Bucket(this, 'Files', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: props.accessLogsBucket, accessLogsPrefix: 'batch-files/' }),
      bucketKeyEnabled: false,
      lifecycleRules: [
        {
          id: 'expire-batch-files', prefix: BATCH_FILES_ROOT,
          expiration: Duration.days(BATCH_FILES_EXPIRATION_DAYS),
          // A deleted or expired file's data: gone a day after (the gateway's delete is OpenAI's, immediate to the caller).
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        // S3 refuses ExpiredObjectDeleteMarker beside Days in one rule: the markers left once their versions are gone.
        { id: 'remove-expired-delete-markers', prefix: BATCH_FILES_ROOT, expiredObjectDeleteMarker: true },
        // Kept files: no expiration of current objects (OpenAI keeps them until deleted); a deleted one's data goes
        // as an expiring file's does, and its delete marker with it (beside NoncurrentDays S3 takes the marker flag).
        {
          id: 'remove-deleted-kept-files', prefix: KEPT_FILES_ROOT,
          noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    // Deny statements keyed on aws:PrincipalArn (as a tenant bucket's, constructs/tenant-storage.ts): they hold even
    // against an identity policy with s3:* in this account.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyObjectAccessToAllButTenantDataRole', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:RestoreObject', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads',
        's3:ListMultipartUploadParts', 's3:AbortMultipartUpload', 's3:ReplicateObject'],
      resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': props.dataPrincipalArns } },
    }));
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyObjectsNotEncryptedWithPlatformKey', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')],
      conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': props.encryptionKey.keyArn } },
    }));
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      `Batch API files live at most ${BATCH_FILES_EXPIRATION_DAYS} days (OpenAI's 30-day file lifetime) and belong to batches that end within 24 hours; a batch in flight is not resumed in another region, so a replica would serve nothing. Files kept until deleted (user_data, vision, assistants) are the tenant's uploads, which it uploads again after a failover, as it attaches its vector stores' files again (docs/resilience.md).`);

    this.environment = { [GATEWAY_ENV.batchQueueUrl]: this.queue.queueUrl, [GATEWAY_ENV.batchFilesBucket]: this.bucket.bucketName };
    for (const [name, value] of Object.entries(this.environment)) router.function.addEnvironment(name, value);
  }
}

export interface BackgroundResponseWorkProps {
  /** The platform key: the queue and its dead-letter queue (SSE-KMS). */
  readonly encryptionKey: kms.IKey;
  /** The router Lambda: a create with `background: true` enqueues the response, and the router consumes the queue. */
  readonly router: LambdaFunction;
}

/**
 * The Responses API's background responses (`background: true`) on AWS: their own work queue
 * `tessera-background-responses` (routerWorkQueue: SSE-KMS, TLS only, dead-letter queue
 * `tessera-dlq-background-responses` after BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT receives, consumed by the router with
 * BACKGROUND_RESPONSES_MAX_CONCURRENCY), apart from the Batch API's queue, whose chunks (up to ~13 minutes each, up to
 * BATCH_MAX_CONCURRENCY at once, hundreds queued by one tenant's batch) would otherwise delay every tenant's
 * background responses. The router gets GATEWAY_ENV.backgroundResponsesQueueUrl, and `sqs:SendMessage` plus the
 * mapping's actions on this queue only (statement `BackgroundResponseQueue`).
 */
export class BackgroundResponseWork extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: BackgroundResponseWorkProps) {
    super(scope, id);
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = routerWorkQueue(this, {
      queueName: BACKGROUND_RESPONSES_QUEUE_NAME, deadLetterName: BACKGROUND_RESPONSES_DLQ_NAME,
      maxReceiveCount: BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT, maxConcurrency: BACKGROUND_RESPONSES_MAX_CONCURRENCY,
      sid: 'BackgroundResponseQueue', encryptionKey: props.encryptionKey, router: props.router,
    }));
    props.router.function.addEnvironment(GATEWAY_ENV.backgroundResponsesQueueUrl, this.queue.queueUrl);
  }
}

/**
 * The vector store files mapping's maximum concurrency: at most this many files are processed at once, on top of the
 * BATCH_MAX_CONCURRENCY batch chunks and the BACKGROUND_RESPONSES_MAX_CONCURRENCY background responses. A file's run
 * is mostly embedding calls (32 chunks each, through the tenant's own rate limit and budget) and S3 Vectors writes,
 * seconds to a few minutes. 10 of the router's 200 reserved executions (lib/lambda-concurrency.ts): with every queue
 * full, live requests keep 150 (75%), and the three queues together take at most a quarter (50).
 */
export const VECTOR_STORE_FILES_MAX_CONCURRENCY = 10;

export interface VectorStoreFileWorkProps {
  /** The platform key: the queue and its dead-letter queue (SSE-KMS). */
  readonly encryptionKey: kms.IKey;
  /** The router Lambda: attaching a file to a vector store enqueues it, and the router consumes the queue. */
  readonly router: LambdaFunction;
}

/**
 * OpenAI's Vector Stores API on AWS, its processing off the request: the work queue `tessera-vector-store-files`
 * (routerWorkQueue: SSE-KMS with the platform key, TLS only, visibility SQS_VISIBILITY_TIMEOUT_FACTOR times the
 * router's timeout, dead-letter queue `tessera-dlq-vector-store-files` after VECTOR_STORE_FILES_MAX_RECEIVE_COUNT
 * receives, which the platform monitoring alarms on; consumed by the router with VECTOR_STORE_FILES_MAX_CONCURRENCY).
 * One message per file attached (lambdas/inference/vector-stores/file-queue.ts). The router gets
 * GATEWAY_ENV.vectorStoreFilesQueueUrl, and `sqs:SendMessage` plus the mapping's actions on this queue only (statement
 * `VectorStoreFileQueue`).
 */
export class VectorStoreFileWork extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: VectorStoreFileWorkProps) {
    super(scope, id);
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = routerWorkQueue(this, {
      queueName: VECTOR_STORE_FILES_QUEUE_NAME, deadLetterName: VECTOR_STORE_FILES_DLQ_NAME,
      maxReceiveCount: VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, maxConcurrency: VECTOR_STORE_FILES_MAX_CONCURRENCY,
      sid: 'VectorStoreFileQueue', encryptionKey: props.encryptionKey, router: props.router,
    }));
    props.router.function.addEnvironment(GATEWAY_ENV.vectorStoreFilesQueueUrl, this.queue.queueUrl);
  }
}
