import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { CORS_ORIGINS_BY_TENANT_INDEX, CORS_ORIGINS_TABLE_ENV } from '../lambdas/inference/cors-origin-index.js';
import { LambdaFunction } from './lambda-function.js';
import { decryptThrough } from './platform-key-decrypt.js';
import { secureTableProps } from './secure-table-props.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

export interface CorsOriginIndexProps {
  /** The platform key: encrypts the index table, the failure queue and the maintainer's logs (and decrypts the registry's stream). */
  readonly encryptionKey: kms.IKey;
  /** The tenant registry; its DynamoDB stream (NEW_AND_OLD_IMAGES) feeds the index. */
  readonly registry: dynamodb.ITableV2;
  /**
   * Table name, in the `tessera-gateway-` family whose tenant ids are reserved (lib/tenant-naming.ts).
   * @default 'tessera-gateway-cors-origins'
   */
  readonly tableName?: string;
  /**
   * Times the event source mapping retries a failing batch (bisecting it) before it sends the
   * batch's stream coordinates to the failure queue and moves on.
   * @default 10
   */
  readonly retryAttempts?: number;
}

/**
 * The CORS origin index: which tenants allow a browser origin, for answering preflights (`OPTIONS`
 * carries no credentials, so the tenant is unknown; the router asks "does some tenant allow this
 * origin?"). One item `{ origin, tenantId }` per pair (partition key `origin`, sort key
 * `tenantId`; keys-only index `by-tenant` for the maintainer), encrypted with the platform key,
 * point-in-time recovery, deletion protection, retained.
 *
 * A small Lambda keeps it equal to the tenants' `gateway.allowedOrigins` from the registry's
 * DynamoDB stream (lambdas/inference/cors-origin-index-handler.ts): starting at the trim horizon
 * (the stream's last 24 hours), in order per shard, batch item failures reported, a failing batch
 * bisected and retried `retryAttempts` times, then its coordinates (shard, sequence numbers) sent
 * to an encrypted SQS queue kept 14 days. Each record sets the tenant's items to what its new
 * image allows, so records are idempotent and the newest image decides.
 */
export class CorsOriginIndex extends Construct {
  readonly table: dynamodb.TableV2;
  readonly maintainer: LambdaFunction;
  /** The event source mapping's on-failure destination. */
  readonly failures: sqs.Queue;
  readonly eventSource: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: CorsOriginIndexProps) {
    super(scope, id);
    if (!props.registry.tableStreamArn) throw new Error(`CorsOriginIndex: registry ${props.registry.node.path} has no stream; give it dynamoStream NEW_AND_OLD_IMAGES`);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName ?? 'tessera-gateway-cors-origins',
      partitionKey: { name: 'origin', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [{
        indexName: CORS_ORIGINS_BY_TENANT_INDEX, projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'origin', type: dynamodb.AttributeType.STRING },
      }],
      ...secureTableProps({ encryptionKey: props.encryptionKey }),
    });
    acknowledge(this.table, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'The origin index is derived data: every item is rebuilt from the tenant registry (backed up daily by AWS Backup) by writing a tenant\'s gateway policy again; point-in-time recovery covers mistakes.');

    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, enforceSSL: true,
      retentionPeriod: Duration.days(14), removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.failures, ['AwsSolutions::AwsSolutions-SQS3'],
      'This queue is itself the on-failure destination of the origin index\'s stream mapping; it holds the coordinates of batches that kept failing, for an operator to replay, and has no consumer whose failures a further queue would catch.');

    this.maintainer = new LambdaFunction(this, 'Maintainer', {
      handlerFile: 'inference/cors-origin-index-handler', roleName: PLATFORM_FUNCTIONS.corsOriginIndex.roleName, encryptionKey: props.encryptionKey,
      environment: { [CORS_ORIGINS_TABLE_ENV]: this.table.tableName }, memorySize: 256, timeout: Duration.seconds(60), reservedConcurrency: PLATFORM_FUNCTIONS.corsOriginIndex.reservedConcurrency,
      invocation: 'by its DynamoDB Streams event source mapping, which retries a failing batch and then sends its stream coordinates to the on-failure SQS queue',
      outsideVpcReason: 'reads the registry\'s stream and writes the origin index (DynamoDB APIs only); it reaches no resource inside a VPC.',
    });
    this.maintainer.addToPolicy(new iam.PolicyStatement({ sid: 'WriteIndex', actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [this.table.tableArn] }));
    this.maintainer.addToPolicy(new iam.PolicyStatement({ sid: 'FindTenantItems', actions: ['dynamodb:Query'], resources: [`${this.table.tableArn}/index/${CORS_ORIGINS_BY_TENANT_INDEX}`] }));
    this.maintainer.addToPolicy(new iam.PolicyStatement({ sid: 'ReadRegistryStream', actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], resources: [props.registry.tableStreamArn] }));
    this.maintainer.addToPolicy(new iam.PolicyStatement({ sid: 'ReportFailures', actions: ['sqs:SendMessage'], resources: [this.failures.queueArn] }));
    this.maintainer.addToPolicy(new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] }));
    // Its Decrypt with the platform key: the registry's stream records (read by Lambda's poller as this role; DynamoDB decrypts
    // them under the registry's table context) and the index's items, through DynamoDB; the on-failure queue's sends, through SQS.
    this.maintainer.addToPolicy(decryptThrough(this, 'PlatformKeyThroughDynamoDBForRegistryStreamAndIndex', props.encryptionKey.keyArn, { service: 'dynamodb', tables: [props.registry.tableName, this.table.tableName] }));
    this.maintainer.addToPolicy(decryptThrough(this, 'PlatformKeyThroughSQSForFailures', props.encryptionKey.keyArn, { service: 'sqs', queueArns: [this.failures.queueArn] }));
    // dynamodb:ListStreams has no resource type (Service Authorization Reference): its own policy, so
    // the function policy's acknowledgement of "*" (X-Ray only) stays true. Beside that policy, in FunctionPolicies (policyHome):
    // only the function waits for it, and it leaves TesseraPlatform room (test/infra/platform-headroom.test.ts).
    const listStreams = new iam.ManagedPolicy(this.maintainer.policyHome, 'ListStreams', {
      roles: [this.maintainer.role], description: 'Tessera CORS origin index: dynamodb:ListStreams, which Lambda\'s DynamoDB stream poller calls',
      statements: [new iam.PolicyStatement({ sid: 'ListStreams', actions: ['dynamodb:ListStreams'], resources: ['*'] })],
    });
    acknowledge(listStreams, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'dynamodb:ListStreams has no resource type, so it can only be granted on "*"; it lists stream ARNs, never records (GetRecords is granted on the registry\'s stream only).');
    this.maintainer.function.node.addDependency(listStreams);

    // An EventSourceMapping of its own rather than DynamoEventSource + SqsDlq: those grant stream
    // read and queue send through the platform key's policy (the role takes no policy updates, so
    // CDK falls back to the key), where the role's own statements above already grant both.
    this.eventSource = new lambda.EventSourceMapping(this, 'RegistryStream', {
      target: this.maintainer.function,
      eventSourceArn: props.registry.tableStreamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 10,
      maxRecordAge: Duration.days(1),
      parallelizationFactor: 1,
      reportBatchItemFailures: true,
      onFailure: new GrantedSqsDestination(this.failures),
    });
  }
}

/**
 * The stream mapping's on-failure queue, without `SqsDlq`'s grants: those would add a statement
 * for the maintainer role to the platform key's policy (the queue's key), where the role's own
 * policy already grants what sending needs (`ReportFailures`, `PlatformKey`). The platform key's
 * policy keeps only the statements the platform writes on purpose.
 */
class GrantedSqsDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(): lambda.DlqDestinationConfig {
    return { destination: this.queue.queueArn };
  }
}
