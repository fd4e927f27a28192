import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { MODEL_USAGE_INDEX } from '../lambdas/inference/stores/model-usage.js';
import { ENV } from '../lambdas/shared/environment.js';
import { STATEMENT_JOBS_TABLE_ENV, STATEMENT_USAGE_TABLE_ENV, STATEMENTS_BUCKET_ENV } from '../lambdas/statements/environment.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { LambdaFunction } from './lambda-function.js';
import { decryptThrough } from './platform-key-decrypt.js';
import { secureBucketProps } from './secure-bucket-props.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

export interface TenantStatementsProps {
  /** The platform key: the statements bucket, the dead-letter queue, the function's logs. */
  readonly encryptionKey: kms.IKey;
  /** Where the statements bucket's server access logs go (prefix `statements-bucket/`). */
  readonly accessLogsBucket: s3.IBucket;
  /** The tenant registry: the job lists every tenant (Scan). */
  readonly registry: dynamodb.ITableV2;
  /** The gateway's usage table: subject counters (GetItem, BatchGetItem) and the model-usage ledger index (Query). */
  readonly usageTable: dynamodb.ITableV2;
  /** The fine-tuning jobs table (Query, GetItem). */
  readonly jobsTable: dynamodb.ITableV2;
  /** The platform bus: one `Tenant Usage Reported` per tenant and month. */
  readonly eventBus: events.IEventBus;
  /**
   * Cron days of the month on which the job reports the previous month, at 06:00 UTC. The 3rd
   * gives Cost Explorer's last day of the month at least 48 h to arrive (it refreshes at least
   * every 24 h: https://docs.aws.amazon.com/cost-management/latest/userguide/ce-exploring-data.html);
   * the 10th reports again only the tenants whose figures changed since (finalised after the
   * 3rd), with the next revision, and nothing for the rest (the job is idempotent).
   * @default ['3', '10']
   */
  readonly daysOfMonth?: string[];
}

/**
 * The monthly tenant statements: a scheduled Lambda (lambdas/statements/monthly-statements.ts)
 * writes each tenant's statement of the previous month as JSON and CSV to the statements
 * bucket (`statements/<YYYY-MM>/<tenantId>.json|.csv`; SSE-KMS with the platform key, versioned,
 * TLS only, access-logged, retained) and emits `Tenant Usage Reported` on the platform bus.
 * Failed invocations (after Lambda's two retries of an asynchronous call) land in an encrypted
 * dead-letter queue.
 */
export class TenantStatements extends Construct {
  readonly bucket: s3.Bucket;
  readonly job: LambdaFunction;
  /** Scheduled invocations that failed every attempt (for an alarm on its depth). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TenantStatementsProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: props.accessLogsBucket, accessLogsPrefix: 'statements-bucket/' }));
    acknowledge(this.bucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'Statements are derived data: the job rebuilds any month from the usage ledger, the jobs table and Cost Explorer (which keeps 13 months, up to 38 with multi-year data); versioning keeps every revision.');

    // One dead-letter queue for the schedules' delivery failures and the job's failed runs.
    const deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'monthly-statements', source: 'schedules Day3/Day10 to monthly statements Lambda', encryptionKey: props.encryptionKey,
    });
    this.deadLetterQueue = deadLetters.queue;

    this.job = new LambdaFunction(this, 'Job', {
      handlerFile: 'statements/monthly-statements',
      roleName: PLATFORM_FUNCTIONS.tenantStatements.roleName,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(15),
      memorySize: 512,
      reservedConcurrency: PLATFORM_FUNCTIONS.tenantStatements.reservedConcurrency,
      invocation: 'by its monthly EventBridge schedule, asynchronously: Lambda retries a failed run twice, then its dead-letter queue keeps the event',
      asyncInvocation: { deadLetterQueue: deadLetters, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'a statement run is idempotent (revisions only on changed figures) and a second schedule day follows a week later' },
      outsideVpcReason: 'calls only AWS APIs (DynamoDB, Cost Explorer, S3, EventBridge); it reaches no resource inside a VPC, and Cost Explorer has no VPC endpoint.',
      environment: {
        [ENV.registryTable]: props.registry.tableName,
        [STATEMENT_USAGE_TABLE_ENV]: props.usageTable.tableName,
        [STATEMENT_JOBS_TABLE_ENV]: props.jobsTable.tableName,
        [STATEMENTS_BUCKET_ENV]: this.bucket.bucketName,
        [ENV.eventBus]: props.eventBus.eventBusName,
      },
    });
    const job = this.job;
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ListTenants', actions: ['dynamodb:Scan', 'dynamodb:GetItem'], resources: [props.registry.tableArn] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ReadSubjectUsage', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources: [props.usageTable.tableArn] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ReadModelUsage', actions: ['dynamodb:Query'], resources: [`${props.usageTable.tableArn}/index/${MODEL_USAGE_INDEX.name}`] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ReadTrainingJobs', actions: ['dynamodb:Query', 'dynamodb:GetItem'], resources: [props.jobsTable.tableArn] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'WriteStatements', actions: ['s3:PutObject', 's3:GetObject'], resources: [this.bucket.arnForObjects('statements/*')] }));
    // HeadObject of a statement not written yet (every tenant's first run of a month) answers 404 only to a caller
    // with s3:ListBucket on the bucket, 403 Forbidden otherwise (S3 API reference, HeadObject, Permissions), which the
    // job cannot tell from a refusal. No s3:prefix condition: HeadObject carries no prefix to match. The bucket holds
    // nothing but the statements the job writes.
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ListStatements', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'ReportUsage', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }));
    job.addToPolicy(new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] }));
    // Its Decrypt with the platform key: the three tables' items through DynamoDB and the statements (HeadObject, GetObject)
    // through S3 (the bucket has a bucket key: secureBucketProps). PutEvents needs none: EventBridge decrypts the bus's events
    // as itself, by the key policy (Amazon EventBridge User Guide, "Authorizing EventBridge to use a customer managed key").
    job.addToPolicy(decryptThrough(this, 'PlatformKeyThroughDynamoDB', props.encryptionKey.keyArn, { service: 'dynamodb', tables: [props.registry.tableName, props.usageTable.tableName, props.jobsTable.tableName] }));
    job.addToPolicy(decryptThrough(this, 'PlatformKeyThroughS3ForStatements', props.encryptionKey.keyArn, { service: 's3', bucketArn: this.bucket.bucketArn }));
    acknowledge(job.managedPolicy, [`AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/statements/*]`],
      'The job writes one object per tenant and month under statements/, named at run time; it reads (HeadObject) only those to skip unchanged statements.');
    const costs = costExplorerPolicy(this, 'CostExplorerRead', job.role, 'Tessera monthly statements: ce:GetCostAndUsage');
    job.function.node.addDependency(costs);

    for (const day of props.daysOfMonth ?? ['3', '10']) {
      new events.Rule(this, `Day${day}`, {
        description: `Writes every tenant's statement of the previous month (day ${day}, 06:00 UTC) and emits Tenant Usage Reported for new or changed figures`,
        schedule: events.Schedule.cron({ day, hour: '6', minute: '0' }),
        // Monthly and idempotent: two delivery retries within 6 hours, then the DLQ.
        targets: [new targets.LambdaFunction(job.function, { retryAttempts: 2, maxEventAge: Duration.hours(6), deadLetterQueue: deadLetters.queue })],
      });
    }
  }
}

/**
 * ce:GetCostAndUsage in a managed policy of its own, on "*": its one resource type, `billingview`,
 * is optional and applies to requests that name a BillingViewArn (Service Authorization
 * Reference, "Actions defined by AWS Cost Explorer Service"); these requests name none, so no ARN
 * can scope them. A policy of its own keeps the function policy's acknowledgement of "*" (X-Ray
 * only) true.
 */
export function costExplorerPolicy(scope: Construct, id: string, role: iam.IRole, description: string): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(scope, id, {
    roles: [role], description,
    statements: [new iam.PolicyStatement({ sid: 'CostAndUsage', actions: ['ce:GetCostAndUsage'], resources: ['*'] })],
  });
  acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
    'ce:GetCostAndUsage offers only an optional billingview resource, for requests that name a billing view; statements name none, so no resource-level permission can scope the call and it is granted on "*". It reads cost figures, nothing else.');
  return policy;
}
