import { beforeAll, describe, expect, it } from 'vitest';
import {
  BACKGROUND_RESPONSES_MAX_CONCURRENCY, BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT, BACKGROUND_RESPONSES_QUEUE_NAME,
  BATCH_FILES_EXPIRATION_DAYS, BATCH_MAX_CONCURRENCY, BATCH_MAX_RECEIVE_COUNT, BATCH_QUEUE_NAME, SQS_VISIBILITY_TIMEOUT_FACTOR,
  VECTOR_STORE_FILES_MAX_CONCURRENCY, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME,
} from '../../constructs/batch-work.js';
import { DLQ_NAME_PREFIX, DLQ_SOURCE_TAG } from '../../lib/dead-letters.js';
import { PLATFORM_FUNCTIONS } from '../../lib/lambda-concurrency.js';
import { COMPLETION_WINDOW_SECONDS, DEFAULT_FILE_TTL_SECONDS } from '../../lambdas/inference/batches/batch-service.js';
import { batchFileKey, batchPartKey, keptFileKey } from '../../lambdas/inference/batches/s3-batch-file-store.js';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { BATCH_ROUTES, routeRoot } from '../../lambdas/inference/routes.js';
import { defaultAppTemplates } from '../support/default-app.js';

type Resource = { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Resources = Record<string, Resource>;
type Statement = { Sid?: string; Effect?: string; Action: string | string[]; Resource?: unknown; Condition?: any; Principal?: unknown };

let platform: Resources;
/** The platform with FunctionPolicies' managed policies merged in, parameters replaced by the platform's values. */
let withPolicies: Resources;
let ops: Resources;
let opsParameters: Record<string, any>;
beforeAll(() => {
  const app = defaultAppTemplates();
  platform = app.platform.toJSON().Resources;
  withPolicies = app.platformWithPolicies.toJSON().Resources;
  ops = app.operations.toJSON().Resources;
  opsParameters = Object.entries(platform).find(([id, r]) => r.Type === 'AWS::CloudFormation::Stack' && id.startsWith('OperationsNestedStack'))![1].Properties.Parameters;
}, 240_000);

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refOf = (v: any): string | undefined => v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
const actions = (s: Statement) => ([] as string[]).concat(s.Action);
const queueNamed = (name: string) => ofType(platform, 'AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName === name)!;
const platformKey = () => ofType(platform, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))![0];
const roleIdNamed = (roleName: string) => ofType(withPolicies, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === roleName)![0];
const statementsOfRole = (roleName: string): Statement[] => {
  const roleId = roleIdNamed(roleName);
  return ofType(withPolicies, 'AWS::IAM::ManagedPolicy').filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => refOf(r) === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
};
const functionOfRole = (roleName: string) => {
  const roleId = roleIdNamed(roleName);
  return ofType(platform, 'AWS::Lambda::Function').find(([, f]) => refOf(f.Properties.Role) === roleId)!;
};
/** Whether statement `st` grants an `sqs:` action on queue `queueId` (a key statement naming the queue in its condition grants none). */
const grantsSqsOn = (st: Statement, queueId: string) => actions(st).some((a) => a.startsWith('sqs:')) && JSON.stringify(st.Resource ?? null).includes(`"${queueId}"`);
/** The policies with a statement granting an `sqs:` action on queue `queueId`. */
const sqsGrantsOn = (queueId: string) => ofType(withPolicies, 'AWS::IAM::ManagedPolicy').concat(ofType(withPolicies, 'AWS::IAM::Policy'))
  .filter(([, p]) => (p.Properties.PolicyDocument.Statement as Statement[]).some((st) => grantsSqsOn(st, queueId)));
const batchBucket = () => ofType(platform, 'AWS::S3::Bucket').find(([id]) => id.startsWith('InferenceBatchesFiles'))!;

describe('the Batch API\'s work queue (default app)', () => {
  it('is SSE-KMS with the platform key, TLS only, its visibility timeout six times the router\'s timeout, redriven to tessera-dlq-batches after 5 receives', () => {
    const [queueId, queue] = queueNamed(BATCH_QUEUE_NAME);
    const [dlqId] = queueNamed(`${DLQ_NAME_PREFIX}batches`);
    const [, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    expect(refOf(queue.Properties.KmsMasterKeyId)).toBe(platformKey());
    // Lambda Developer Guide, "Using Lambda with Amazon SQS": at least six times the function's timeout.
    expect(SQS_VISIBILITY_TIMEOUT_FACTOR).toBe(6);
    expect(router.Properties.Timeout).toBe(900);
    expect(queue.Properties.VisibilityTimeout).toBe(6 * router.Properties.Timeout);
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: BATCH_MAX_RECEIVE_COUNT });
    expect(BATCH_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(5);
    // Every receive failing takes its visibility timeout: the chunk is dead-lettered inside the 24-hour window.
    expect(BATCH_MAX_RECEIVE_COUNT * queue.Properties.VisibilityTimeout).toBeLessThan(COMPLETION_WINDOW_SECONDS);
    // Retention outlasts the window and the receives; a moved message keeps its enqueue time, so the DLQ keeps it longer.
    expect(queue.Properties.MessageRetentionPeriod).toBeGreaterThan(COMPLETION_WINDOW_SECONDS + BATCH_MAX_RECEIVE_COUNT * queue.Properties.VisibilityTimeout);
    const tlsOnly = ofType(platform, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties.Queues.some((q: any) => refOf(q) === queueId));
    expect(tlsOnly).toHaveLength(1);
    expect(tlsOnly[0]![1].Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
  });

  it('dead-letters into a platform DLQ (tessera dlq list finds it by name; 14 days; platform key; retained) with a Critical alarm on one message', () => {
    const [dlqId, dlq] = queueNamed(`${DLQ_NAME_PREFIX}batches`);
    expect(dlq).toMatchObject({ DeletionPolicy: 'Retain', Properties: { MessageRetentionPeriod: 14 * 86_400, KmsMasterKeyId: { 'Fn::GetAtt': [platformKey(), 'Arn'] } } });
    expect(dlq.Properties.Tags).toContainEqual({ Key: DLQ_SOURCE_TAG, Value: `queue ${BATCH_QUEUE_NAME} to router Lambda` });
    const metricOf = (a: any) => a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? a;
    const alarms = ofType(ops, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties)
      .filter((a) => metricOf(a).MetricName === 'ApproximateNumberOfMessagesVisible' && metricOf(a).Dimensions?.some((d: any) => d.Name === 'QueueName' && refOf(opsParameters[d.Value?.Ref]) === dlqId));
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    // The page names the command that replays it (the queue's name is a reference to it in the template).
    expect(JSON.stringify(alarms[0].AlarmDescription)).toContain('tessera dlq redrive ');
  });

  it('is consumed by the router function itself: one mapping, batch size 1, ReportBatchItemFailures, bounded concurrency within the router\'s reservation', () => {
    const [queueId] = queueNamed(BATCH_QUEUE_NAME);
    const [routerId, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    const mappings = ofType(platform, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refOf(m.Properties.EventSourceArn) === queueId);
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, FunctionName: { Ref: routerId },
      BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: BATCH_MAX_CONCURRENCY },
    });
    // SQS's bounds of MaximumConcurrency, and live traffic keeps most of the router's reserved executions.
    expect(BATCH_MAX_CONCURRENCY).toBeGreaterThanOrEqual(2);
    expect(BATCH_MAX_CONCURRENCY).toBeLessThanOrEqual(router.Properties.ReservedConcurrentExecutions / 4);
  });

  it('the router may send to, receive from and delete on that queue only (no other SQS action or queue), and holds nothing on the batch files bucket', () => {
    const [queueId] = queueNamed(BATCH_QUEUE_NAME);
    const [bucketId] = batchBucket();
    const statements = statementsOfRole(PLATFORM_FUNCTIONS.router.roleName);
    const [backgroundId] = queueNamed(BACKGROUND_RESPONSES_QUEUE_NAME);
    const sqs = statements.filter((s) => actions(s).some((a) => a.startsWith('sqs:')));
    const four = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'];
    expect(sqs).toEqual([
      { Sid: 'BatchQueue', Effect: 'Allow', Action: four, Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      { Sid: 'BackgroundResponseQueue', Effect: 'Allow', Action: four, Resource: { 'Fn::GetAtt': [backgroundId, 'Arn'] } },
      { Sid: 'VectorStoreFileQueue', Effect: 'Allow', Action: four, Resource: { 'Fn::GetAtt': [queueNamed(VECTOR_STORE_FILES_QUEUE_NAME)[0], 'Arn'] } },
    ]);
    expect(JSON.stringify(statements)).not.toContain(bucketId);
  });

  it('sets the queue URL, the bucket name and the responses table (the file and batch records) on the router and the fine-tuning API function (and on no function that does not serve batches)', () => {
    const [queueId] = queueNamed(BATCH_QUEUE_NAME);
    const [bucketId] = batchBucket();
    const table = functionOfRole(PLATFORM_FUNCTIONS.router.roleName)[1].Properties.Environment.Variables[GATEWAY_ENV.responsesTable];
    expect(table).toBeDefined();
    for (const roleName of [PLATFORM_FUNCTIONS.router.roleName, PLATFORM_FUNCTIONS.fineTuningApi.roleName]) {
      const [, fn] = functionOfRole(roleName);
      // lambda-deps.ts batchesServed: without all three the Batch API is not served by that function (fine-tuning's had no table).
      expect(fn.Properties.Environment.Variables, roleName).toMatchObject({ [GATEWAY_ENV.batchQueueUrl]: { Ref: queueId }, [GATEWAY_ENV.batchFilesBucket]: { Ref: bucketId }, [GATEWAY_ENV.responsesTable]: table });
    }
    for (const roleName of [PLATFORM_FUNCTIONS.authorizer.roleName, PLATFORM_FUNCTIONS.fineTuningEvents.roleName, PLATFORM_FUNCTIONS.tenantUsers.roleName]) {
      const [, fn] = functionOfRole(roleName);
      expect(Object.keys(fn.Properties.Environment.Variables), roleName).not.toContain(GATEWAY_ENV.batchQueueUrl);
    }
  });
});

describe('the background responses\' work queue (default app)', () => {
  const alarmsOn = (dlqId: string) => {
    const metricOf = (a: any) => a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? a;
    return ofType(ops, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties)
      .filter((a) => metricOf(a).MetricName === 'ApproximateNumberOfMessagesVisible' && metricOf(a).Dimensions?.some((d: any) => d.Name === 'QueueName' && refOf(opsParameters[d.Value?.Ref]) === dlqId));
  };

  it('is a queue of its own, as the batch queue is: SSE-KMS with the platform key, TLS only, visibility six times the router\'s timeout, 4 days, redriven to tessera-dlq-background-responses', () => {
    expect(BACKGROUND_RESPONSES_QUEUE_NAME).toBe('tessera-background-responses');
    const [queueId, queue] = queueNamed(BACKGROUND_RESPONSES_QUEUE_NAME);
    const [batchId] = queueNamed(BATCH_QUEUE_NAME);
    expect(queueId).not.toBe(batchId);
    const [dlqId] = queueNamed(`${DLQ_NAME_PREFIX}background-responses`);
    const [, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    expect(refOf(queue.Properties.KmsMasterKeyId)).toBe(platformKey());
    expect(queue.Properties.VisibilityTimeout).toBe(SQS_VISIBILITY_TIMEOUT_FACTOR * router.Properties.Timeout);
    expect(queue.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT });
    // The Lambda Developer Guide's minimum (a throttled delivery counts as a receive); every receive inside the retention.
    expect(BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(5);
    expect(BACKGROUND_RESPONSES_MAX_RECEIVE_COUNT * queue.Properties.VisibilityTimeout).toBeLessThan(queue.Properties.MessageRetentionPeriod);
    const tlsOnly = ofType(platform, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties.Queues.some((q: any) => refOf(q) === queueId));
    expect(tlsOnly).toHaveLength(1);
    expect(tlsOnly[0]![1].Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
  });

  it('dead-letters into a platform DLQ of its own (tessera dlq list finds it by its prefix and shows its source) with a Critical alarm on one message', () => {
    const [dlqId, dlq] = queueNamed(`${DLQ_NAME_PREFIX}background-responses`);
    expect(dlq).toMatchObject({ DeletionPolicy: 'Retain', Properties: { MessageRetentionPeriod: 14 * 86_400, KmsMasterKeyId: { 'Fn::GetAtt': [platformKey(), 'Arn'] } } });
    expect(dlq.Properties.Tags).toContainEqual({ Key: DLQ_SOURCE_TAG, Value: `queue ${BACKGROUND_RESPONSES_QUEUE_NAME} to router Lambda` });
    const alarms = alarmsOn(dlqId);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    expect(JSON.stringify(alarms[0].AlarmDescription)).toContain('tessera dlq redrive ');
  });

  it('is consumed by the router through a mapping of its own (batch size 1, ReportBatchItemFailures, its own maximum concurrency); both queues together leave live requests three quarters of the router\'s reservation', () => {
    const [queueId] = queueNamed(BACKGROUND_RESPONSES_QUEUE_NAME);
    const [routerId, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    const mappings = ofType(platform, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refOf(m.Properties.EventSourceArn) === queueId);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, FunctionName: { Ref: routerId },
      BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: BACKGROUND_RESPONSES_MAX_CONCURRENCY },
    });
    // The router consumes exactly its three work queues (the vector store files' below).
    const routerMappings = ofType(platform, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refOf(m.Properties.FunctionName) === routerId);
    expect(routerMappings.map(([, m]) => refOf(m.Properties.EventSourceArn)).sort()).toEqual([queueId, queueNamed(BATCH_QUEUE_NAME)[0], queueNamed(VECTOR_STORE_FILES_QUEUE_NAME)[0]].sort());
    expect(BACKGROUND_RESPONSES_MAX_CONCURRENCY).toBeGreaterThanOrEqual(2);
    expect(BATCH_MAX_CONCURRENCY + BACKGROUND_RESPONSES_MAX_CONCURRENCY).toBeLessThanOrEqual(router.Properties.ReservedConcurrentExecutions / 4);
  });

  it('sets its URL on the router only (the fine-tuning API serves no /v1/responses)', () => {
    const [queueId] = queueNamed(BACKGROUND_RESPONSES_QUEUE_NAME);
    expect(functionOfRole(PLATFORM_FUNCTIONS.router.roleName)[1].Properties.Environment.Variables).toMatchObject({ [GATEWAY_ENV.backgroundResponsesQueueUrl]: { Ref: queueId } });
    const others = ofType(platform, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.[GATEWAY_ENV.backgroundResponsesQueueUrl] !== undefined);
    expect(others.map(([id]) => id)).toEqual([functionOfRole(PLATFORM_FUNCTIONS.router.roleName)[0]]);
  });

  it('no other role may send to it (the router\'s statement is its only grant)', () => {
    const [queueId] = queueNamed(BACKGROUND_RESPONSES_QUEUE_NAME);
    const grants = sqsGrantsOn(queueId);
    expect(grants).toHaveLength(1);
    expect(grants[0]![1].Properties.Roles.map(refOf)).toEqual([roleIdNamed(PLATFORM_FUNCTIONS.router.roleName)]);
  });
});

describe('the vector store files\' work queue (default app)', () => {
  const alarmsOn = (dlqId: string) => {
    const metricOf = (a: any) => a.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? a;
    return ofType(ops, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties)
      .filter((a) => metricOf(a).MetricName === 'ApproximateNumberOfMessagesVisible' && metricOf(a).Dimensions?.some((d: any) => d.Name === 'QueueName' && refOf(opsParameters[d.Value?.Ref]) === dlqId));
  };

  it('is a queue of its own: SSE-KMS with the platform key, TLS only, visibility six times the router\'s timeout, 4 days, redriven to tessera-dlq-vector-store-files after the worker\'s receive count', () => {
    expect(VECTOR_STORE_FILES_QUEUE_NAME).toBe('tessera-vector-store-files');
    const [queueId, queue] = queueNamed(VECTOR_STORE_FILES_QUEUE_NAME);
    const [dlqId] = queueNamed(`${DLQ_NAME_PREFIX}vector-store-files`);
    const [, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    expect(refOf(queue.Properties.KmsMasterKeyId)).toBe(platformKey());
    // At least the worker's timeout (the router's: the mapping invokes it), six times as the Lambda Developer Guide says.
    expect(queue.Properties.VisibilityTimeout).toBe(SQS_VISIBILITY_TIMEOUT_FACTOR * router.Properties.Timeout);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(router.Properties.Timeout);
    expect(queue.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
    // Explicit retries: the worker marks the file failed on this same receive count (ApproximateReceiveCount), so the two must agree.
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: VECTOR_STORE_FILES_MAX_RECEIVE_COUNT });
    expect(VECTOR_STORE_FILES_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(5);
    expect(VECTOR_STORE_FILES_MAX_RECEIVE_COUNT * queue.Properties.VisibilityTimeout).toBeLessThan(queue.Properties.MessageRetentionPeriod);
    const tlsOnly = ofType(platform, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties.Queues.some((q: any) => refOf(q) === queueId));
    expect(tlsOnly).toHaveLength(1);
    expect(tlsOnly[0]![1].Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
  });

  it('dead-letters into a platform DLQ of its own (14 days, the platform key, retained; tessera dlq list finds it by its prefix) with a Critical alarm on one message', () => {
    const [dlqId, dlq] = queueNamed(`${DLQ_NAME_PREFIX}vector-store-files`);
    expect(dlq).toMatchObject({ DeletionPolicy: 'Retain', Properties: { MessageRetentionPeriod: 14 * 86_400, KmsMasterKeyId: { 'Fn::GetAtt': [platformKey(), 'Arn'] } } });
    expect(dlq.Properties.Tags).toContainEqual({ Key: DLQ_SOURCE_TAG, Value: `queue ${VECTOR_STORE_FILES_QUEUE_NAME} to router Lambda` });
    const alarms = alarmsOn(dlqId);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, DatapointsToAlarm: 1 });
    expect(JSON.stringify(alarms[0].AlarmDescription)).toContain('tessera dlq redrive ');
  });

  it('is consumed by the router through a mapping of its own; the three queues together leave live requests three quarters of the router\'s reservation', () => {
    const [queueId] = queueNamed(VECTOR_STORE_FILES_QUEUE_NAME);
    const [routerId, router] = functionOfRole(PLATFORM_FUNCTIONS.router.roleName);
    const mappings = ofType(platform, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refOf(m.Properties.EventSourceArn) === queueId);
    expect(mappings.map(([, m]) => m.Properties)).toEqual([{
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, FunctionName: { Ref: routerId },
      BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: VECTOR_STORE_FILES_MAX_CONCURRENCY },
    }]);
    expect(VECTOR_STORE_FILES_MAX_CONCURRENCY).toBeGreaterThanOrEqual(2);
    expect(BATCH_MAX_CONCURRENCY + BACKGROUND_RESPONSES_MAX_CONCURRENCY + VECTOR_STORE_FILES_MAX_CONCURRENCY).toBeLessThanOrEqual(router.Properties.ReservedConcurrentExecutions / 4);
  });

  it('sets its URL on the router only, and only the router may send to it (its VectorStoreFileQueue statement, the queue by name, is the one grant)', () => {
    const [queueId] = queueNamed(VECTOR_STORE_FILES_QUEUE_NAME);
    expect(functionOfRole(PLATFORM_FUNCTIONS.router.roleName)[1].Properties.Environment.Variables).toMatchObject({ [GATEWAY_ENV.vectorStoreFilesQueueUrl]: { Ref: queueId } });
    const others = ofType(platform, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.[GATEWAY_ENV.vectorStoreFilesQueueUrl] !== undefined);
    expect(others.map(([id]) => id)).toEqual([functionOfRole(PLATFORM_FUNCTIONS.router.roleName)[0]]);
    const grants = sqsGrantsOn(queueId);
    expect(grants).toHaveLength(1);
    expect(grants[0]![1].Properties.Roles.map(refOf)).toEqual([roleIdNamed(PLATFORM_FUNCTIONS.router.roleName)]);
    const statements = (grants[0]![1].Properties.PolicyDocument.Statement as Statement[]).filter((st) => grantsSqsOn(st, queueId));
    expect(statements).toEqual([{ Sid: 'VectorStoreFileQueue', Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'], Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } }]);
  });

  it('the router assumes only tenants\' vector-store roles by name, within the organization, for the S3 Vectors indexes (no S3 Vectors action on its own role)', () => {
    const statements = statementsOfRole(PLATFORM_FUNCTIONS.router.roleName);
    const assume = statements.find((st) => st.Sid === 'TenantVectorStores');
    expect(assume).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: 'arn:aws:iam::*:role/tessera-*-vector-store' });
    expect(Object.keys(assume!.Condition.StringEquals)).toEqual(['aws:ResourceOrgID']);
    expect(statements.flatMap(actions).filter((a) => a.startsWith('s3vectors:'))).toEqual([]);
  });
});

describe('the Batch API\'s files bucket (default app)', () => {
  it('is a secure platform bucket: SSE-KMS with the platform key and no S3 Bucket Key, versioned, never public, access-logged, retained', () => {
    const [, bucket] = batchBucket();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{
      // No bucket key: its encryption context would be the bucket's ARN, and the tenant-data role's KMS condition on the prefix would never hold.
      BucketKeyEnabled: false, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [platformKey(), 'Arn'] } },
    }]);
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^AccessLogsBucket/) }, LogFilePrefix: 'batch-files/' },
    });
  });

  it('expires tenants/ after the longest file lifetime the API allows and a margin, noncurrent versions a day after', () => {
    const [, bucket] = batchBucket();
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    const expiry = rules.find((r: any) => r.Id === 'expire-batch-files');
    expect(expiry).toMatchObject({ Prefix: 'tenants/', Status: 'Enabled', ExpirationInDays: BATCH_FILES_EXPIRATION_DAYS, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
    // The gateway's longest file lifetime (30 days: OpenAI's bound, the default too) counted from a write that may come
    // up to the 24-hour completion window before the file's clock starts: never expired by S3 while still served.
    expect(BATCH_FILES_EXPIRATION_DAYS * 86_400).toBeGreaterThan(DEFAULT_FILE_TTL_SECONDS + COMPLETION_WINDOW_SECONDS);
    expect(BATCH_FILES_EXPIRATION_DAYS).toBe(32);
    expect(rules.find((r: any) => r.Id === 'remove-expired-delete-markers')).toMatchObject({ Prefix: 'tenants/', ExpiredObjectDeleteMarker: true });
  });

  it('expires no file kept until deleted (kept-files/<tenant>/…, OpenAI keeps those): no rule that expires current objects matches its key; an expiring file\'s and a part\'s keys are matched', () => {
    const [, bucket] = batchBucket();
    const rules: any[] = bucket.Properties.LifecycleConfiguration.Rules;
    // A rule's filter as S3 reads it: a prefix (Prefix, or Filter.Prefix / Filter.And.Prefix) and tags (TagFilters, Filter.Tag, Filter.And.Tags).
    const prefixOf = (r: any): string => r.Prefix ?? r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? '';
    const tagsOf = (r: any): unknown[] => [...(r.TagFilters ?? []), ...(r.Filter?.Tag ? [r.Filter.Tag] : []), ...(r.Filter?.And?.Tags ?? [])];
    // The gateway writes no tags: a rule with a tag filter matches none of its objects.
    const matches = (r: any, key: string) => r.Status === 'Enabled' && key.startsWith(prefixOf(r)) && tagsOf(r).length === 0;
    const expiresCurrent = (r: any) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined;
    const id = `file-${'a'.repeat(24)}`;
    const kept = keptFileKey('a123456789-123456789-xyz', id);
    expect(rules.filter((r) => expiresCurrent(r) && matches(r, kept))).toEqual([]);
    // Its deleted versions and delete markers are removed as an expiring file's are.
    expect(rules.filter((r) => matches(r, kept)).map((r) => r.Id)).toEqual(['remove-deleted-kept-files']);
    expect(rules.find((r) => r.Id === 'remove-deleted-kept-files')).toMatchObject({ Prefix: 'kept-files/', NoncurrentVersionExpiration: { NoncurrentDays: 1 }, ExpiredObjectDeleteMarker: true, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
    for (const key of [batchFileKey('acme', id), batchPartKey('acme', `batch_${'b'.repeat(24)}`, 0)]) {
      expect(rules.filter((r) => expiresCurrent(r) && matches(r, key)).map((r) => r.Id), key).toEqual(['expire-batch-files']);
    }
  });

  it('denies every object action to all but the tenant-data role and break-glass, and objects under another key; allows nothing', () => {
    const [bucketId] = batchBucket();
    const [, policy] = ofType(platform, 'AWS::S3::BucketPolicy').find(([, p]) => refOf(p.Properties.Bucket) === bucketId)!;
    const statements: Statement[] = policy.Properties.PolicyDocument.Statement;
    expect(statements.filter((s) => s.Effect !== 'Deny')).toEqual([]);
    const objects = statements.find((s) => s.Sid === 'DenyObjectAccessToAllButTenantDataRole')!;
    expect(actions(objects)).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:ListBucketVersions']));
    expect(objects.Resource).toEqual([{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }]);
    const breakGlass = ofType(platform, 'AWS::IAM::Role').find(([id]) => id.startsWith('BreakGlass'))![0];
    expect(objects.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/tessera-tenant-data', { 'Fn::GetAtt': [breakGlass, 'Arn'] }] } });
    expect(statements.find((s) => s.Sid === 'DenyObjectsNotEncryptedWithPlatformKey')).toMatchObject({
      Action: 's3:PutObject', Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [platformKey(), 'Arn'] } } },
    });
  });

  it('the tenant-data role reads, writes and deletes the session tenant\'s tenants/<tenant>/batch-files/ and kept-files/<tenant>/ only, and uses the key only through S3 for those objects', () => {
    const [bucketId] = batchBucket();
    const statements = statementsOfRole('tessera-tenant-data');
    const own = expect.arrayContaining([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/tenants/${aws:PrincipalTag/tessera:tenant-id}/batch-files/*']] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/kept-files/${aws:PrincipalTag/tessera:tenant-id}/*']] },
    ]);
    const onBucket = statements.filter((s) => JSON.stringify(s).includes(bucketId));
    expect(onBucket).toEqual([
      { Sid: 'OwnBatchFiles', Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: own },
      // Listing only the session tenant's uploads' parts (the Uploads API), never the bucket.
      { Sid: 'ListOwnUploads', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'tenants/${aws:PrincipalTag/tessera:tenant-id}/batch-files/uploads/*' } } },
      {
        Sid: 'PlatformKeyForOwnBatchFiles', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [platformKey(), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }, StringLike: { 'kms:EncryptionContext:aws:s3:arn': own } },
      },
    ]);
    // No other S3 grant: no other listing, no other prefix, no other bucket; but the session tenant's own gateway audit records
    // (GET /v1/tenant/requests/{request_id}: GetObject on the audit bucket's inference and fine-tuning prefixes of that tenant).
    const audit = statements.filter((s) => s.Sid === 'AuditOwnRequests');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ Action: 's3:GetObject' });
    for (const r of [audit[0]!.Resource].flat()) expect(JSON.stringify(r)).toMatch(/AuditBucket.*\/tessera-audit\/(dr-tier\/)?(inference|fine-tuning)\/\$\{aws:PrincipalTag\/tessera:tenant-id\}\/\*"/);
    expect(statements.filter((s) => actions(s).some((a) => a.startsWith('s3:')))).toEqual([onBucket[0], onBucket[1], audit[0]]);
    for (const s of onBucket.filter((x) => x.Sid !== 'ListOwnUploads')) expect([s.Resource, s.Condition?.StringLike?.['kms:EncryptionContext:aws:s3:arn']].flat().filter((r) => r !== undefined && JSON.stringify(r).includes(bucketId)), s.Sid).toHaveLength(2);
  });
});

describe('API Gateway\'s own 404 (MISSING_AUTHENTICATION_TOKEN) on the deployed API', () => {
  it('lists the Batch API\'s routes, from routes.ts BATCH_ROUTES', () => {
    const [, response] = ofType(platform, 'AWS::ApiGateway::GatewayResponse').find(([, r]) => r.Properties.ResponseType === 'MISSING_AUTHENTICATION_TOKEN' && /^InferenceApi/.test(r.Properties.RestApiId.Ref))!;
    const message: string = JSON.parse(response.Properties.ResponseTemplates['application/json']).error.message;
    for (const root of new Set(BATCH_ROUTES.map(routeRoot))) expect(message, root).toMatch(new RegExp(`[ ,]${root.replace(/\//g, '\\/')}[ ,]`));
    expect(message).toContain('/v1/batches');
  });
});
