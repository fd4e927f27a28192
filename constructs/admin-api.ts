import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { adminApiMethods } from '../lib/admin-routes.js';
import { auditStreamPrefix, REQUEST_AUDIT_STREAMS } from '../lib/audit-prefixes.js';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { KEYS_BY_CREATION_INDEX } from '../lib/identity/api-key.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import { MODEL_USAGE_INDEX } from '../lambdas/inference/stores/model-usage.js';
import { ENV } from '../lambdas/shared/environment.js';
import { STATEMENT_JOBS_TABLE_ENV } from '../lambdas/statements/environment.js';
import { TENANT_USER_POOL_ACTIONS } from './inference-api.js';
import { LambdaFunction } from './lambda-function.js';
import { costExplorerPolicy } from './tenant-statements.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

export interface AdminApiProps {
  readonly config: PlatformConfig;
  readonly encryptionKey: kms.IKey;
  readonly registry: dynamodb.ITableV2;
  /** The lifecycle control table: ending the operation of a dead lease holder gives its account-creation slot back. */
  readonly controlTable: dynamodb.ITableV2;
  /**
   * The lifecycle state machines the API starts; `drift`: POST /admin/drift starts a drift check now; `upgrade`: POST
   * /admin/upgrades starts a tier's rolling upgrade.
   */
  readonly workflows: { onboard: sfn.IStateMachine; change: sfn.IStateMachine; status: sfn.IStateMachine; offboard: sfn.IStateMachine; drift: sfn.IStateMachine; upgrade: sfn.IStateMachine };
  /**
   * The blueprint catalog (constructs/blueprint-catalog.ts) and the version this deployment publishes: POST /admin/upgrades
   * refuses a version the catalog does not publish for the tier (HeadObject under `blueprints/`), as *List tier tenants* does.
   */
  readonly blueprintCatalog: s3.IBucket;
  readonly blueprintVersion: string;
  /**
   * Tenant API keys (constructs/api-keys-table.ts): the admin API creates, lists, revokes and
   * rotates any tenant's keys with its own role (Query, GetItem, PutItem, UpdateItem; no delete).
   */
  readonly apiKeysTable: dynamodb.ITableV2;
  /** The gateway's usage table: `GET /admin/tenants/{id}/usage` reads a tenant's counters (GetItem, BatchGetItem). */
  readonly usageTable: dynamodb.ITableV2;
  /**
   * The platform's Cognito pool of tenant users, for `/admin/tenants/{id}/users`.
   * @default - none (external identity provider): the users routes answer 404 `no_user_pool` and no Cognito grant exists
   */
  readonly userPool?: cognito.IUserPool;
  /** The platform bus: tenant-user events (`Tenant User Created`, …). */
  readonly eventBus: events.IEventBus;
  /** Fine-tuning jobs: `GET /admin/tenants/{id}/usage?month=` reads a tenant's (Query, GetItem) for its statement's GPU hours. */
  readonly jobsTable: dynamodb.ITableV2;
  /**
   * The audit bucket: `GET /admin/tenants/{id}/requests/{requestId}` (`tessera requests show`) reads the gateway's
   * records (GetObject under `tessera-audit/{,dr-tier/}inference/` and `tessera-audit/{,dr-tier/}fine-tuning/`; the platform key's
   * decrypt is the handler's already).
   * @default - no request lookups: the route answers 500 (no bucket named)
   */
  readonly auditBucket?: s3.IBucket;
}

/**
 * The admin REST API: IAM-authenticated (SigV4; platform admins' roles need execute-api:Invoke),
 * request-validated, access- and execution-logged, traced. One Lambda routes the calls.
 */
export class AdminApi extends Construct {
  readonly api: apigw.RestApi;
  readonly handler: LambdaFunction;
  /**
   * API Gateway's account setting for the Region (`AWS::ApiGateway::Account`): the CloudWatch Logs role
   * every stage's execution and access logging writes through. API Gateway refuses a stage that turns
   * logging on before the setting names a role ("CloudWatch Logs role ARN must be set in account settings
   * to enable logging"), so any other logging stage of the stack must depend on it (lib/platform-stack.ts).
   */
  readonly cloudWatchLogsAccountSetting: apigw.CfnAccount;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const machines = [props.workflows.onboard, props.workflows.change, props.workflows.status, props.workflows.offboard];
    this.handler = new LambdaFunction(this, 'Handler', {
      handlerFile: 'admin/admin-api',
      roleName: PLATFORM_FUNCTIONS.adminApi.roleName,
      reservedConcurrency: PLATFORM_FUNCTIONS.adminApi.reservedConcurrency,
      encryptionKey: props.encryptionKey,
      policyBesideRole: 'it may start the lifecycle state machines, which invoke the lifecycle Lambdas: a policy of the nested stack naming them would make the nested stack depend on Lambdas that depend on it',
      invocation: 'by API Gateway, which returns every error to the caller',
      environment: {
        [ENV.registryTable]: props.registry.tableName,
        [ENV.controlTable]: props.controlTable.tableName,
        [ENV.onboardStateMachineArn]: props.workflows.onboard.stateMachineArn,
        [ENV.changeStateMachineArn]: props.workflows.change.stateMachineArn,
        [ENV.statusStateMachineArn]: props.workflows.status.stateMachineArn,
        [ENV.offboardStateMachineArn]: props.workflows.offboard.stateMachineArn,
        [ENV.driftStateMachineArn]: props.workflows.drift.stateMachineArn,
        [ENV.upgradeStateMachineArn]: props.workflows.upgrade.stateMachineArn,
        [ENV.blueprintBucket]: props.blueprintCatalog.bucketName,
        [ENV.blueprintVersion]: props.blueprintVersion,
        [ENV.eventBus]: props.eventBus.eventBusName,
        [ENV.apiKeysTable]: props.apiKeysTable.tableName,
        [GATEWAY_ENV.usageTable]: props.usageTable.tableName,
        [STATEMENT_JOBS_TABLE_ENV]: props.jobsTable.tableName,
        ...(props.userPool ? { [ENV.userPoolId]: props.userPool.userPoolId } : {}),
        ...(props.auditBucket ? { [ENV.auditBucket]: props.auditBucket.bucketName } : {}),
      },
      define: { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify(props.config)) },
    });
    // The lifecycle state machines are named tessera-<workflow> (LifecycleWorkflows); a lease may
    // also name a child execution of the rolling upgrade (tessera-upgrade/<map run>:<name>).
    const executions = [...(['onboard', 'change', 'status', 'offboard'] as const).map((name) =>
      stack.formatArn({ service: 'states', resource: 'execution', resourceName: `tessera-${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
    stack.formatArn({ service: 'states', resource: 'execution', resourceName: 'tessera-upgrade*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })];
    this.handler.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadRegistry', actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
      resources: [props.registry.tableArn, `${props.registry.tableArn}/index/by-status`, `${props.registry.tableArn}/index/by-tier`],
    }));
    // Leases: a new tenant's record (conditional put), the lease of the execution about to start
    // (conditional update), and its removal when Step Functions refuses the start.
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'TenantLeases', actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [props.registry.tableArn] }));
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'AccountSlots', actions: ['dynamodb:UpdateItem'], resources: [props.controlTable.tableArn] }));
    // Tenant identities (issue 15): any tenant's keys with the platform's own role (an operator
    // acts across tenants; the routes check the tenant exists), usage counters read-only, the
    // pool's users (Cognito actions by name, on the one pool), and the users' events.
    // With the creation index (key lists in creation order), in one statement: the managed policy is near IAM's 6,144
    // characters, and an index takes only Query and Scan, so the item actions grant nothing more on it.
    this.handler.addToPolicy(new iam.PolicyStatement({
      sid: 'TenantApiKeys', actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: [props.apiKeysTable.tableArn, `${props.apiKeysTable.tableArn}/index/${KEYS_BY_CREATION_INDEX.name}`],
    }));
    // The fence of a key write (DynamoDbApiKeyStore.put) and of a user's token revocation: the write's transaction checks the tenant's registry status.
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'TenantKeyWriteFence', actions: ['dynamodb:ConditionCheckItem'], resources: [props.registry.tableArn] }));
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadUsage', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources: [props.usageTable.tableArn] }));
    // The usage ledger by model and day (statements): Query of its index only, no Scan.
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadModelUsage', actions: ['dynamodb:Query'], resources: [`${props.usageTable.tableArn}/index/${MODEL_USAGE_INDEX.name}`] }));
    if (props.userPool) this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'TenantUsers', actions: [...TENANT_USER_POOL_ACTIONS], resources: [props.userPool.userPoolArn] }));
    // Tenant statements (issue 16): a tenant's fine-tuning jobs, and its infrastructure cost from Cost Explorer.
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadTrainingJobs', actions: ['dynamodb:Query', 'dynamodb:GetItem'], resources: [props.jobsTable.tableArn] }));
    this.handler.function.node.addDependency(costExplorerPolicy(this, 'CostExplorerRead', this.handler.role, 'Tessera admin API: ce:GetCostAndUsage for tenant statements'));
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'TenantUserEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }));
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'RegistryKey', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] }));
    // What the handler decrypts with the platform key: the items of its tables (DynamoDB decrypts for the caller: kms:ViaService
    // dynamodb.<region>.amazonaws.com, encryption context aws:dynamodb:tableName = the table; AWS KMS Developer Guide, "How
    // Amazon DynamoDB uses AWS KMS") and the gateway's audit records (S3 with a bucket key: aws:s3:arn = the bucket; Amazon S3
    // User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": encryption context). The blueprint catalog is SSE-S3, the
    // state machines and Cognito use no key of ours, and the platform bus is EventBridge's to decrypt (its key policy statement):
    // nothing else. Its environment has a statement of its own (EnvironmentKey, through Lambda).
    const adminTables = [props.registry, props.controlTable, props.apiKeysTable, props.usageTable, props.jobsTable].map((t) => t.tableName);
    this.handler.addToPolicy(new iam.PolicyStatement({
      sid: 'PlatformKeyThroughDynamoDB', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:dynamodb:tableName': adminTables } },
    }));
    if (props.auditBucket) {
      this.handler.addToPolicy(new iam.PolicyStatement({
        sid: 'PlatformKeyThroughS3ForAuditRecords', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': props.auditBucket.bucketArn } },
      }));
    }
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'StartLifecycle', actions: ['states:StartExecution'], resources: machines.map((m) => m.stateMachineArn) }));
    // POST /admin/drift: a drift check now, on the drift state machine only.
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'StartDriftCheck', actions: ['states:StartExecution'], resources: [props.workflows.drift.stateMachineArn] }));
    // Its 409 drift_check_exists says whether the check its start met ended SUCCEEDED (its result is the registry's), FAILED,
    // or still runs, and GET /admin/drift?executionArn= answers a run's status (tenants drift --detect --wait): DescribeExecution only (no history), on the drift machine's own executions only: `tessera-drift:*`
    // admits neither another machine's (the colon) nor the Distributed Map's child executions (`tessera-drift/<map run>:…`).
    const driftExecutions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: 'tessera-drift:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadDriftChecks', actions: ['states:DescribeExecution'], resources: [driftExecutions] }));
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: executions }));
    // POST /admin/upgrades: a tier's rolling upgrade, on the upgrade state machine only (its ARN, no wildcard); ListExecutions
    // (RUNNING) on it finds an upgrade of the same tier that runs, whoever started it (409). Its executions are read through
    // ReadExecutions (`tessera-upgrade*`: DescribeExecution and GetExecutionHistory, for the replay, the 409 and GET /admin/upgrades/{upgradeId}).
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'StartUpgrade', actions: ['states:StartExecution', 'states:ListExecutions'], resources: [props.workflows.upgrade.stateMachineArn] }));
    // GET /admin/upgrades/{upgradeId}: the tenants' counts of the upgrade's Distributed Map run, which Step Functions names at run time.
    const upgradeMapRuns = stack.formatArn({ service: 'states', resource: 'mapRun', resourceName: 'tessera-upgrade/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadUpgradeMapRuns', actions: ['states:DescribeMapRun'], resources: [upgradeMapRuns] }));
    // POST /admin/upgrades refuses a version the catalog does not publish: HeadObject (s3:GetObject) of the templates, as *List tier tenants* reads them.
    const templates = props.blueprintCatalog.arnForObjects('blueprints/*');
    this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadBlueprintCatalog', actions: ['s3:GetObject'], resources: [templates] }));
    if (props.auditBucket) {
      // GET /admin/tenants/{id}/requests/{requestId} (tessera requests show): the gateway's records of any tenant (the router's and
      // the fine-tuning API's streams: REQUEST_AUDIT_STREAMS), read only; not CloudTrail's files, not the lifecycle stream, no
      // listing (a missing record is then S3's 403, read as absent).
      const gatewayRecords = REQUEST_AUDIT_STREAMS.flatMap((stream) => [false, true].map((drTier) => props.auditBucket!.arnForObjects(`${auditStreamPrefix(stream, drTier)}*`)));
      this.handler.addToPolicy(new iam.PolicyStatement({ sid: 'ReadGatewayAuditRecords', actions: ['s3:GetObject'], resources: gatewayRecords }));
      acknowledge(this.handler.managedPolicy, gatewayRecords.map((arn) => wildcardResourceFinding(this, arn)),
        'The gateway writes one audit record per request under tessera-audit/[dr-tier/]{inference,fine-tuning}/<tenant>/<day>/<request id>.json (the router\'s and the fine-tuning API\'s streams), keyed at run time; the operator\'s lookup (tessera requests show) reads those four prefixes only, GetObject only.');
    }
    acknowledge(this.handler.managedPolicy, executions.map((arn) => wildcardResourceFinding(this, arn)),
      'Executions are named per attempt at run time; the patterns admit executions of the lifecycle state machines only (the rolling upgrade\'s children included), for reading their progress and whether a lease holder still runs.');
    acknowledge(this.handler.managedPolicy, [wildcardResourceFinding(this, upgradeMapRuns)],
      'Step Functions names a Distributed Map run at run time (its label and id); the pattern admits the map runs of the upgrade state machine only, and only DescribeMapRun: how many of its tenants are done.');
    acknowledge(this.handler.managedPolicy, [wildcardResourceFinding(this, templates)],
      'Blueprint templates are published under blueprints/<version>/ by each deployment; the admin API reads only that prefix of the catalog, to refuse an upgrade to a version it does not publish.');
    acknowledge(this.handler.managedPolicy, [wildcardResourceFinding(this, driftExecutions)],
      'Drift checks are named per tenant and 5-minute window at run time (POST /admin/drift); the pattern admits executions of the drift state machine only, and only DescribeExecution: the status of the check a start met, for its 409, and of a run followed by GET /admin/drift?executionArn=.');

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { encryptionKey: props.encryptionKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: 'tessera-admin',
      description: 'Tessera admin API: tenant lifecycle (IAM auth)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        metricsEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    });
    // RestApi({ cloudWatchRole: true }) creates the setting as its child `Account` (and makes its own stage depend on it).
    this.cloudWatchLogsAccountSetting = this.api.node.findChild('Account') as apigw.CfnAccount;
    const validator = this.api.addRequestValidator('Validator', { validateRequestBody: true, validateRequestParameters: true });
    // One invoke permission for the API (any stage, method and path) instead of two per method (the
    // method's and the console's test-invoke): every method here integrates the one handler, and 20
    // methods would take 40 AWS::Lambda::Permission resources of the platform stack's 500.
    const integration = new apigw.LambdaIntegration(this.handler.function, { scopePermissionToMethod: false });
    // The resources and methods of lib/admin-routes.ts: one method per resource, ANY where several routes share one
    // (adminApiMethods; the handler answers another method 405). Resources keep the construct ids (path parts) and a
    // one-route resource its method's id, so their logical ids are those the API had when each was declared here by hand.
    const resourceAt = (path: string): apigw.IResource => path.split('/').slice(1).reduce<apigw.IResource>((parent, part) => parent.getResource(part) ?? parent.addResource(part), this.api.root);
    for (const [path, verb] of adminApiMethods()) resourceAt(path).addMethod(verb, integration, { requestValidator: validator });

    const stage = this.api.deploymentStage.node.defaultChild!;
    acknowledge(stage, ['AwsSolutions::AwsSolutions-APIG3', 'NIST.800.53.R5::NIST.800.53.R5-APIGWAssociatedWithWAF'],
      'The admin API accepts only SigV4-signed calls from platform admin roles (IAM auth on every method) and is throttled at 20 rps; there is no anonymous traffic for a WAF to filter.');
    acknowledge(stage, ['NIST.800.53.R5::NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'HIPAA.Security::HIPAA.Security-APIGWCacheEnabledAndEncrypted'],
      'Admin responses reflect the registry at the moment of the call (status, current step); caching them would show stale lifecycle state, so no cache exists to encrypt.');
    acknowledge(stage, ['NIST.800.53.R5::NIST.800.53.R5-APIGWSSLEnabled', 'HIPAA.Security::HIPAA.Security-APIGWSSLEnabled'],
      'The only backend is a Lambda integration invoked by API Gateway through AWS; there is no HTTP backend to present a client certificate to.');
    for (const m of this.api.methods) {
      acknowledge(m, ['AwsSolutions::AwsSolutions-COG4'],
        'Admin calls are authorized by IAM (SigV4) against platform admin roles, the AWS-native control for an operator API; a Cognito user pool would add a second identity store.');
    }
    const cwRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cwRole) {
      acknowledge(cwRole, ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]'],
        'API Gateway\'s account-level logging role uses the AWS-managed push-to-CloudWatch policy AWS documents for it.');
    }
  }
}
