import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { ENDPOINT_STATE_CHANGE, TRAINING_STATE_CHANGE } from '../lib/fine-tuning.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';
import { SERVICE_ROLE_PATH, tenantRoleName } from '../lib/tenant-naming.js';
import { FINE_TUNING_ENV } from '../lambdas/fine-tuning/fine-tuning-env.js';
import type { InferenceApi } from './inference-api.js';
import { FINE_TUNING_API_METHODS } from '../lib/inference-api-methods.js';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { ruleScopeFor } from './event-rule-home.js';
import { LambdaFunction } from './lambda-function.js';
import { decryptThrough } from './platform-key-decrypt.js';
import { StatementOnlyEventBusPolicy } from './statement-only-event-bus-policy.js';
import { auditStreamPrefix } from '../lib/audit-prefixes.js';

export interface FineTuningProps {
  readonly config: PlatformConfig;
  readonly encryptionKey: kms.IKey;
  readonly inference: InferenceApi;
  /** The platform bus, where tenant blueprints forward SageMaker training state changes. */
  readonly eventBus: events.EventBus;
  /** Audit records under `tessera-audit/fine-tuning/` (`tessera-audit/dr-tier/fine-tuning/` for tiers with a DR region). */
  readonly auditBucket: s3.IBucket;
}

/**
 * OpenAI's fine-tuning API and its Files API on the inference API (same JWT authorizer and usage
 * plans), the jobs table, and the Lambda that follows SageMaker's state changes. Both Lambdas reach
 * tenant accounts only through each tenant's training-launcher role, whose IAM conditions pin the
 * isolation settings; the API Lambda reaches the tenant's uploaded files only through its
 * training-files role (training-data/files/ of the tenant bucket).
 */
export class FineTuning extends Construct {
  readonly jobsTable: dynamodb.TableV2;
  /** The functions that read and write a tenant's pooled items as that tenant (TenantDataAccessRole). */
  readonly tenantDataFunctions: LambdaFunction[];
  /** Training state changes that EventBridge could not deliver or the events Lambda failed to record. */
  readonly deadLetterQueue: DeadLetterQueue;
  /**
   * The events Lambda: SageMaker's state changes (EventBridge), and offboarding's direct invocation
   * that retires a tenant's fine-tuned models (the lifecycle's offboarding state machine).
   */
  readonly eventsFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: FineTuningProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.jobsTable = new dynamodb.TableV2(this, 'Jobs', {
      tableName: 'tessera-fine-tuning-jobs',
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'jobId', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.jobsTable, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'Fine-tuning job records (status, events, names; no training data) are covered by point-in-time recovery; every job action is also in the immutable audit bucket.');

    const environment = { ...props.inference.gatewayEnvironment, [FINE_TUNING_ENV.jobsTable]: this.jobsTable.tableName };
    // The API Lambda answers the fine-tuning routes' browser preflights itself, from the origin index.
    // It answers /v1/files for the Batch API's purposes too (batch, batch_output), from the batch files bucket as the tenant.
    // Batch file records are items of the responses table (lambdas/inference/batches/s3-batch-file-store.ts): without it the Batch API is not served there.
    const apiEnvironment = { ...environment, [GATEWAY_ENV.corsOriginsTable]: props.inference.corsOriginsTable.tableName, [GATEWAY_ENV.responsesTable]: props.inference.responsesTable.tableName, ...props.inference.batches.environment };
    const define = { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify(props.config)) };
    const outsideVpcReason = 'calls DynamoDB, S3, STS and, as each tenant\'s training-launcher role, the SageMaker control plane; it reaches no resource inside a VPC.';
    const api = new LambdaFunction(this, 'Api', {
      handlerFile: 'fine-tuning/api-handler', roleName: PLATFORM_FUNCTIONS.fineTuningApi.roleName, encryptionKey: props.encryptionKey,
      environment: apiEnvironment, define, memorySize: 512, timeout: Duration.seconds(29), reservedConcurrency: PLATFORM_FUNCTIONS.fineTuningApi.reservedConcurrency,
      invocation: 'by API Gateway (proxy integration); every error is answered to the caller in OpenAI\'s shape', outsideVpcReason,
    });
    // Training state changes: one dead-letter queue for the rule's delivery failures and the function's failed runs.
    const deadLetters = this.deadLetterQueue = new DeadLetterQueue(this, 'TrainingStateChangesDeadLetters', {
      name: 'training-state-changes', source: 'rule TrainingStateChanges to fine-tuning events Lambda', encryptionKey: props.encryptionKey,
    });
    // Delayed looks at a deployment's endpoint, for when its state change event does not come (lambdas/fine-tuning/endpoint-checks.ts):
    // each message is delivered 15 minutes after its send; a look that fails five deliveries waits in a dead-letter queue of its own
    // (not the one above: `tessera dlq redrive` moves a source queue's dead letters back to it with StartMessageMoveTask, which would
    // move the rule's and the function's events into the looks' queue).
    const checkDeadLetters = new DeadLetterQueue(this, 'EndpointChecksDeadLetters', {
      name: 'fine-tuning-endpoint-checks', source: 'queue tessera-fine-tuning-endpoint-checks to fine-tuning events Lambda', encryptionKey: props.encryptionKey,
    });
    const endpointChecks = new sqs.Queue(this, 'EndpointChecks', {
      queueName: 'tessera-fine-tuning-endpoint-checks',
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(1), enforceSSL: true,
      // Six times the function's timeout (AWS's advice for an SQS event source), so a delivery in flight is never handed out again.
      visibilityTimeout: Duration.minutes(6),
      // Five receives, as the Lambda Developer Guide advises for an SQS event source ("at least 5"): a delivery the function's
      // reserved concurrency throttles (taken by a burst of training events) counts as a receive, and a look that never ran
      // would otherwise page as a dead letter after three.
      deadLetterQueue: { queue: checkDeadLetters.queue, maxReceiveCount: 5 },
    });
    const stateChanges = new LambdaFunction(this, 'Events', {
      handlerFile: 'fine-tuning/training-events-handler', roleName: PLATFORM_FUNCTIONS.fineTuningEvents.roleName, encryptionKey: props.encryptionKey,
      environment: { ...environment, [FINE_TUNING_ENV.endpointChecksQueue]: endpointChecks.queueUrl }, define, memorySize: 512, timeout: Duration.minutes(1), reservedConcurrency: PLATFORM_FUNCTIONS.fineTuningEvents.reservedConcurrency,
      invocation: 'by EventBridge, which retries it for up to 6 hours; a job whose events never arrive stays visibly queued or running in the API (and synchronously by the offboarding state machine, whose Retry and Catch handle every error; and by its endpoint checks queue\'s event source mapping, which reports failed messages and dead-letters them after 5 receives)', outsideVpcReason,
      asyncInvocation: { deadLetterQueue: deadLetters, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'recording a state change is idempotent (the job item is keyed by job); six hours matches EventBridge\'s delivery window' },
    });

    this.eventsFunction = stateChanges.function;
    // The looks: scheduled (sent) and received by the events Lambda, its role's own statements (the role takes no grants;
    // the platform key's use is its PlatformKey statement below). A mapping of its own, as CorsOriginIndex's: SqsEventSource would grant through the key's policy.
    stateChanges.addToPolicy(new iam.PolicyStatement({
      // SendMessage for the next look; the mapping's three (SQS Developer Guide, "Configuring an Amazon SQS queue to trigger an AWS
      // Lambda function": ReceiveMessage, DeleteMessage, GetQueueAttributes). No ChangeMessageVisibility: a failed look is reported
      // (ReportBatchItemFailures) and comes back after the queue's visibility timeout; nothing here changes one.
      sid: 'EndpointChecks', actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: [endpointChecks.queueArn],
    }));
    // The looks' messages are decrypted by SQS for this role, on its sends and its mapping's receives (decryptThrough).
    stateChanges.addToPolicy(decryptThrough(this, 'PlatformKeyThroughSQSForEndpointChecks', props.encryptionKey.keyArn, { service: 'sqs', queueArns: [endpointChecks.queueArn] }));
    new lambda.EventSourceMapping(this, 'EndpointChecksSource', {
      // At most 2 of the function's 10 reserved executions for the looks (the mapping's own limit, which it does not poll past:
      // AWS Compute Blog, "Introducing maximum concurrency of AWS Lambda functions when using Amazon SQS as an event source"):
      // a backlog of looks never takes the slots the state change events need.
      target: stateChanges.function, eventSourceArn: endpointChecks.queueArn, batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2,
    }).node.addDependency(stateChanges.managedPolicy);

    const auditRecords = [false, true].map((drTier) => props.auditBucket.arnForObjects(`${auditStreamPrefix('fine-tuning', drTier)}*`));
    const launchers = `arn:${stack.partition}:iam::*:role/tessera-*-training-launcher`;
    for (const fn of [api, stateChanges]) {
      // Registry, usage and jobs items: as the tenant only (TenantDataAccessRole). The key stays for the audit bucket (its Decrypt
      // through S3 for that bucket only), the origin index (the API's, below) and the endpoint checks queue (the events function's, above).
      fn.addToPolicy(new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] }));
      fn.addToPolicy(decryptThrough(this, 'PlatformKeyThroughS3ForAuditRecords', props.encryptionKey.keyArn, { service: 's3', bucketArn: props.auditBucket.bucketArn }));
      fn.addToPolicy(new iam.PolicyStatement({ sid: 'AuditRecords', actions: ['s3:PutObject'], resources: auditRecords }));
      fn.addToPolicy(new iam.PolicyStatement({
        sid: 'TenantTrainingLaunchers', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [launchers],
        conditions: { StringEquals: { 'aws:ResourceOrgID': props.config.organization.organizationId } },
      }));
      acknowledge(fn.managedPolicy, [...auditRecords, launchers].map((arn) => wildcardResourceFinding(this, arn)),
        'Audit records are keyed per job action; each tenant account holds one training-launcher role named tessera-<tenant>-training-launcher, in accounts created at run time and limited to this organization (aws:ResourceOrgID).');
    }
    // The Files API (/v1/files): the API Lambda alone reaches a tenant's training-data/files/ objects, as the
    // tenant's training-files role (the events Lambda never touches files).
    const filesRoles = `arn:${stack.partition}:iam::*:role/${tenantRoleName('*', 'training-files')}`;
    api.addToPolicy(new iam.PolicyStatement({
      sid: 'TenantTrainingFiles', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [filesRoles],
      conditions: { StringEquals: { 'aws:ResourceOrgID': props.config.organization.organizationId } },
    }));
    acknowledge(api.managedPolicy, [wildcardResourceFinding(this, filesRoles)],
      'Each tenant account holds one training-files role named tessera-<tenant>-training-files (its bucket\'s training-data/files/ only), in accounts created at run time and limited to this organization (aws:ResourceOrgID).');
    this.tenantDataFunctions = [api, stateChanges];

    // Tenant accounts of this organization forward their SageMaker training (and endpoint) events here, through
    // their blueprints' forwarder roles (on the service-role path). Only those events: the lifecycle
    // rules on this bus act on `tessera.lifecycle` events, which no tenant account may put.
    // Rendered as EventBus.addToResourcePolicy would (same construct path, so the same logical ID and
    // Sid: a replaced policy resource would remove the statement it shares a StatementId with), through
    // a CfnEventBusPolicy that does not answer its deprecated props (StatementOnlyEventBusPolicy).
    const forwardsSid = 'cdk-OrganizationForwardsTrainingEvents';
    new StatementOnlyEventBusPolicy(new Construct(props.eventBus, forwardsSid), 'Resource', {
      eventBusName: props.eventBus.eventBusName, statementId: forwardsSid,
      statement: new iam.PolicyStatement({
        sid: forwardsSid, principals: [new iam.AnyPrincipal()], actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn],
        // events:source and events:detail-type are multivalued (one per entry of the call): every
        // entry must match, and the keys must be present (ForAllValues is true of an empty set).
        conditions: {
          StringEquals: { 'aws:PrincipalOrgID': props.config.organization.organizationId },
          'ForAllValues:StringEquals': { 'events:source': ['aws.sagemaker'], 'events:detail-type': [TRAINING_STATE_CHANGE, ENDPOINT_STATE_CHANGE] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
          ArnLike: { 'aws:PrincipalArn': `arn:${Stack.of(this).partition}:iam::*:role${SERVICE_ROLE_PATH}*` },
        },
      }).toJSON(),
    });
    new events.Rule(ruleScopeFor(this), 'TrainingStateChanges', {
      eventBus: props.eventBus,
      description: 'SageMaker training job and endpoint state changes of tenant fine-tuning jobs',
      // One rule for both (the endpoint's ends a deployment's wait: endpoint-events.ts): no resource more in this stack.
      eventPattern: { source: ['aws.sagemaker'], detailType: [TRAINING_STATE_CHANGE, ENDPOINT_STATE_CHANGE] },
      // A lost state change leaves a job visibly stuck: 8 delivery tries over up to 6 hours, then the DLQ.
      targets: [new targets.LambdaFunction(stateChanges.function, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: deadLetters.queue })],
    });

    // One API-scoped invoke permission, not two per method (the platform stack stays far from CloudFormation's 500 resources).
    const integration = new apigw.LambdaIntegration(api.function, { timeout: Duration.seconds(29), scopePermissionToMethod: false });
    api.addToPolicy(new iam.PolicyStatement({ sid: 'CorsOriginIndex', actions: ['dynamodb:Query'], resources: [props.inference.corsOriginsTable.tableArn] }));
    api.addToPolicy(decryptThrough(this, 'PlatformKeyThroughDynamoDBForOriginIndex', props.encryptionKey.keyArn, { service: 'dynamodb', tables: [props.inference.corsOriginsTable.tableName] }));
    // Its methods (lib/inference-api-methods.ts FINE_TUNING_API_METHODS): the jobs' four resources; OpenAI's Files API,
    // /v1/files (GET, POST) and, under one greedy resource, /v1/files/{file_id} (GET, DELETE) and
    // /v1/files/{file_id}/content (GET): API Gateway forwards GET and DELETE of any deeper path (and DELETE of
    // .../content) to the Lambda, which refuses what it does not serve as the gateway does any route (404
    // route_not_found, or 405 with Allow); each resource's preflight is the Lambda's own (it reads the origin index).
    // And OpenAI's client.models.delete of a fine-tuned model (lambdas/fine-tuning/model-deletion.ts), one DELETE on the
    // router's /v1/models/{proxy+}, whose preflight is the router's (it lists DELETE there). The API-scoped invoke
    // permission above covers every method, and the launcher role the Lambda assumes already describes and deletes the
    // tenant's endpoints (retirement).
    props.inference.addMethods(FINE_TUNING_API_METHODS, { fineTuning: integration }, 'the fine-tuning API Lambda');
  }
}
