import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import type { LambdaFunction } from './lambda-function.js';
import { secureBucketProps } from './secure-bucket-props.js';

/** The work queue's name (SQS): one message per batch chunk to run. */
export const BATCH_QUEUE_NAME = 'tessera-batches';
/** Its dead-letter queue's path: the queue is `tessera-dlq-batches` (DLQ_NAME_PREFIX), which `tessera dlq list|redrive` finds. */
export const BATCH_DLQ_NAME = 'batches';
/** Where a tenant's batch files are kept: `tenants/<tenantId>/batch-files/<fileId>` (the tenant-data role's only prefix). */
export const BATCH_FILES_ROOT = 'tenants/';
/** The key prefix of one tenant's batch files (`tenantId` may be a policy variable). */
export const batchFilesPrefix = (tenantId: string) => `${BATCH_FILES_ROOT}${tenantId}/batch-files/`;

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
 * top of live traffic; each request still passes the tenant's own rate limit.
 */
export const BATCH_MAX_CONCURRENCY = 20;

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
 * batch size 1, ReportBatchItemFailures, BATCH_MAX_CONCURRENCY), and the bucket of batch files
 * (`tenants/<tenantId>/batch-files/<fileId>`), read and written only as the tenant (the tenant-data role).
 *
 * The router's role gets `sqs:SendMessage` (a create enqueues its chunks) and the mapping's three actions on this
 * queue only; nothing on the bucket. The bucket's SSE-KMS uses no S3 Bucket Key: with one, S3's KMS encryption
 * context is the bucket's ARN instead of the object's (S3 User Guide, "Configuring your bucket to use an S3 Bucket
 * Key"), and the tenant-data role's use of the key could not be bound to the session tenant's prefix. Batch files are
 * few and large, so one KMS request per object read or write costs little.
 *
 * The same queue carries the Responses API's background responses (`{kind: 'response', tenantId, responseId}`,
 * lambdas/inference/responses/background.ts): they share its dead-letter queue, alarm and the mapping's concurrency.
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
    const routerTimeout = router.function.timeout;
    if (!routerTimeout) throw new Error(`BatchWork ${this.node.path}: the router function has no timeout to derive the queue's visibility timeout from`);

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      name: BATCH_DLQ_NAME, source: `queue ${BATCH_QUEUE_NAME} to router Lambda`, encryptionKey: props.encryptionKey,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: BATCH_QUEUE_NAME,
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(1), enforceSSL: true,
      visibilityTimeout: Duration.seconds(routerTimeout.toSeconds() * SQS_VISIBILITY_TIMEOUT_FACTOR),
      // SQS's default, named: longer than a batch's 24-hour window and its chunks' 7.5 hours of receives, shorter than
      // the dead-letter queue's 14 days (a moved message keeps its first enqueue time: SQS Developer Guide, "Using
      // dead-letter queues").
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: BATCH_MAX_RECEIVE_COUNT },
    });

    // The router's own statements (its role takes no grants): SendMessage for a create's chunks, and the mapping's
    // three (SQS Developer Guide, "Configuring an Amazon SQS queue to trigger an AWS Lambda function": ReceiveMessage,
    // DeleteMessage, GetQueueAttributes). The platform key's use is the router's PlatformKey statement. A mapping of
    // its own, as the fine-tuning endpoint checks': SqsEventSource would grant through the key's policy.
    router.addToPolicy(new iam.PolicyStatement({
      sid: 'BatchQueue', actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: [this.queue.queueArn],
    }));
    new lambda.EventSourceMapping(this, 'QueueSource', {
      target: router.function, eventSourceArn: this.queue.queueArn,
      // One chunk per invocation: a chunk may run for most of the router's 15 minutes, and a second one in the same
      // invocation would share its deadline.
      batchSize: 1, reportBatchItemFailures: true, maxConcurrency: BATCH_MAX_CONCURRENCY,
    }).node.addDependency(router.managedPolicy);

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
      `Batch API files live at most ${BATCH_FILES_EXPIRATION_DAYS} days (OpenAI's 30-day file lifetime) and belong to batches that end within 24 hours; a batch in flight is not resumed in another region, so a replica would serve nothing.`);

    this.environment = { [GATEWAY_ENV.batchQueueUrl]: this.queue.queueUrl, [GATEWAY_ENV.batchFilesBucket]: this.bucket.bucketName };
    for (const [name, value] of Object.entries(this.environment)) router.function.addEnvironment(name, value);
  }
}
