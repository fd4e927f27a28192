import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AUTH_CACHE_MS } from '../lambdas/inference/auth.js';
import { O200K_RANKS_ASSET, o200kRanksModulePath } from '../lambdas/inference/token-count.js';
import { CL100K_RANKS_ASSET, ranksModulePath } from '../lambdas/inference/token-decode.js';
import { ROLE_PERMISSIONS, ROLES, groupOf, type Role } from '../lib/identity/roles.js';
import { catalogFoundationModelArns, deploymentProfileRegions } from '../lib/bedrock-models.js';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';
import { roleArn, TENANT_DATA_ROLE_NAME } from '../lib/tenant-naming.js';
import { GATEWAY_ENV } from '../lambdas/inference/gateway-env.js';
import { GATEWAY_RESPONSE_MAPPED_HEADERS, GATEWAY_RESPONSES, gatewayResponseTemplate } from '../lambdas/inference/gateway-responses.js';
import { MODEL_USAGE_INDEX } from '../lambdas/inference/stores/model-usage.js';
import { EXISTENCE_ATTRIBUTES } from '../lambdas/inference/stores/tenant-existence.js';
import { BINARY_MEDIA_TYPES } from '../lambdas/inference/routes.js';
import { GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT } from '../lambdas/inference/request-events.js';
import { ROUTER_API_METHODS, type InferenceApiLambda, type InferenceApiMethod } from '../lib/inference-api-methods.js';
import { BackgroundResponseWork, BatchWork, VectorStoreFileWork } from './batch-work.js';
import { decryptThrough } from './platform-key-decrypt.js';
import { reasoningSealSecret } from './reasoning-seal-secret.js';
import { LambdaFunction } from './lambda-function.js';
import { TenantBudgetAlerts } from './tenant-budget-alerts.js';
import { tenantUserPoolProps } from './tenant-user-pool-props.js';
import { secureTableProps } from './secure-table-props.js';
import { auditStreamPrefix } from '../lib/audit-prefixes.js';

/**
 * The tokenizers' ranks the router's bundle ships beside its entry, read on first use (not at cold start): o200k for
 * budget counts (token-count.ts), cl100k to decode the token-id inputs of OpenAI's embedding models for a guarded
 * tenant's guardrails (token-decode.ts). Each is a copy of gpt-tokenizer's ESM module under the name the loader looks for.
 */
export function routerRanksAssets(): Array<{ from: string; name: string }> {
  return [{ from: o200kRanksModulePath(), name: O200K_RANKS_ASSET }, { from: ranksModulePath('cl100k_base'), name: CL100K_RANKS_ASSET }];
}

export interface InferenceApiProps {
  readonly config: PlatformConfig;
  readonly encryptionKey: kms.IKey;
  readonly registry: dynamodb.ITableV2;
  /** The immutable audit bucket: one record per request under `tessera-audit/inference/` (`tessera-audit/dr-tier/inference/` for tiers with a DR region). */
  readonly auditBucket: s3.IBucket;
  /**
   * Stored Responses API answers (constructs/responses-table.ts). The router reaches it only
   * through the tenant-data role (constructs/tenant-data-access-role.ts): no grant of its own.
   */
  readonly responsesTable: dynamodb.ITableV2;
  /**
   * The CORS origin index (constructs/cors-origin-index.ts), which the router queries with its own
   * role to answer preflights: a preflight carries no credentials, so there is no tenant to act as.
   */
  readonly corsOriginsTable: dynamodb.ITableV2;
  /**
   * Tenant API keys (constructs/api-keys-table.ts). The authorizer, the router and the fine-tuning
   * API reach it only through the tenant-data role: no grant of their own.
   */
  readonly apiKeysTable: dynamodb.ITableV2;
  /**
   * The platform bus: `/v1/tenant/users` emits `Tenant User Created`, `… Disabled`, `… Role
   * Changed` on it (lambdas/identity/identity-events.ts).
   * @default - no bus: the tenant-users Lambda is given none (its events are not sent)
   */
  readonly eventBus?: events.IEventBus;
  /** Target of the batch files bucket's server access logs (BatchWork). */
  readonly accessLogsBucket: s3.IBucket;
  /** The break-glass role, which alone beside the tenant-data role may touch the batch files' objects (BatchWork). */
  readonly breakGlassRoleArn: string;
}

/**
 * The key revocation window tenants are promised (docs/identity.md): a revoked or expired `tsk_` key stops
 * working within this many seconds. Two caches stand between a revocation and a refused request:
 * the authorizer Lambda's own (lambdas/inference/auth.ts AUTH_CACHE_MS) and API Gateway's cache of
 * the authorizer's answer (`resultsCacheTtl`); their sum stays within the window.
 */
export const KEY_REVOCATION_WINDOW_SECONDS = 60;

/**
 * The rules of AWS's core rule set (AWSManagedRulesCommonRuleSet) that inspect the request body,
 * counted instead of blocking on the inference API (AWS WAF Developer Guide, "Core rule set (CRS)
 * managed rule group"): prompts and training data are text about code, paths and URLs.
 */
export const WAF_COUNTED_BODY_RULES = ['SizeRestrictions_BODY', 'CrossSiteScripting_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY', 'EC2MetaDataSSRF_BODY'] as const;

/** Role of the function behind `/v1/tenant/users` (in the reserved `tessera-gateway-` family). */
export const TENANT_USERS_ROLE_NAME = PLATFORM_FUNCTIONS.tenantUsers.roleName;

/**
 * API Gateway's authorizer result cache, in seconds: what the window leaves after the authorizer
 * Lambda's own cache (0 turns API Gateway's cache off: every request reaches the authorizer, which
 * answers a repeated token or key from memory).
 * @throws Error when the Lambda's cache alone is longer than the window
 */
export function authorizerCacheTtlSeconds(lambdaCacheMs = AUTH_CACHE_MS, windowSeconds = KEY_REVOCATION_WINDOW_SECONDS): number {
  const left = windowSeconds - Math.ceil(lambdaCacheMs / 1000);
  if (left < 0) throw new Error(`the authorizer Lambda caches verdicts ${lambdaCacheMs} ms, longer than the key revocation window of ${windowSeconds} s: lower AUTH_CACHE_MS (lambdas/inference/auth.ts)`);
  return left;
}

/**
 * The description of a role's Cognito group: its permissions, from the one permission table
 * (lib/identity/roles.ts), so the console says what membership grants and never drifts from it.
 */
export const roleGroupDescription = (role: Role) => `Tessera tenant ${role}: ${ROLE_PERMISSIONS[role].join(', ')}`.slice(0, 2048);

/** Cognito's actions on the platform pool that the tenant-users routes call (lambdas/identity/cognito-tenant-users.ts), each by name. */
export const TENANT_USER_POOL_ACTIONS = [
  'cognito-idp:AdminCreateUser', 'cognito-idp:AdminGetUser', 'cognito-idp:AdminAddUserToGroup', 'cognito-idp:AdminRemoveUserFromGroup',
  'cognito-idp:AdminListGroupsForUser', 'cognito-idp:AdminDisableUser', 'cognito-idp:AdminUserGlobalSignOut', 'cognito-idp:AdminDeleteUser',
  'cognito-idp:ListUsers', 'cognito-idp:ListUsersInGroup',
] as const;

/**
 * The OpenAI-compatible inference API: API Gateway REST (TLS only, WAF, access logs) with a
 * Lambda REQUEST authorizer (JWT from the platform's Cognito user pool unless `gateway.jwt` names
 * another issuer) and the router Lambda behind response streaming; the usage table holds request
 * counters and budgets.
 */
export class InferenceApi extends Construct {
  readonly api: apigw.RestApi;
  readonly usageTable: dynamodb.TableV2;
  readonly userPool?: cognito.UserPool;
  /** `/v1`, for other APIs served behind the same authorizer (fine-tuning). */
  readonly v1: apigw.Resource;
  /** The JWT authorizer, request validator and usage-key requirement every `/v1` method uses. */
  readonly methodOptions: apigw.MethodOptions;
  /** Environment the gateway code needs (tables, audit bucket, JWT issuer, tenant-data role). */
  readonly gatewayEnvironment: Record<string, string>;
  /** The functions that read and write a tenant's pooled items as that tenant (TenantDataAccessRole). */
  readonly tenantDataFunctions: LambdaFunction[];
  /** The router Lambda (every OpenAI route, the API keys routes and every preflight). */
  readonly router: LambdaFunction;
  /** The platform's secret of the reasoning seal (`include: ["reasoning.encrypted_content"]`), read by the router only. */
  readonly reasoningSealSecret: secretsmanager.Secret;
  /**
   * The function behind `/v1/tenant/users` (the router's code, with the Cognito grants the router
   * does not have); absent with an external identity provider (`gateway.jwt`).
   */
  readonly tenantUsers?: LambdaFunction;
  /** The `OPTIONS` methods (no authorizer, no API key), by resource path. */
  readonly preflights = new Map<string, apigw.Method>();
  /** The CORS origin index (`{ origin, tenantId }`), for other Lambdas behind this API that answer their own preflights (fine-tuning). */
  readonly corsOriginsTable: dynamodb.ITableV2;
  /** The stored responses table, for other Lambdas behind this API that keep tenant items in it (fine-tuning's batch file records), as the tenant. */
  readonly responsesTable: dynamodb.ITableV2;
  private readonly routerIntegration: apigw.LambdaIntegration;
  /** Tenant budget alerts: the mail Lambda and its dead-letter queue when a tier mails its admins. */
  readonly budgetAlerts: TenantBudgetAlerts;
  /** OpenAI's Batch API: the router's work queue (and its dead-letter queue) and the batch files bucket. */
  readonly batches: BatchWork;
  /** The background responses' work queue (`background: true` on /v1/responses), consumed by the router. */
  readonly backgroundResponses: BackgroundResponseWork;
  /** The vector store files' work queue (VectorStoreFileWork), consumed by the router. */
  readonly vectorStoreFiles: VectorStoreFileWork;

  constructor(scope: Construct, id: string, props: InferenceApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    this.corsOriginsTable = props.corsOriginsTable;
    this.responsesTable = props.responsesTable;

    this.usageTable = new dynamodb.TableV2(this, 'UsageTable', {
      tableName: 'tessera-usage',
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      ...secureTableProps({ encryptionKey: props.encryptionKey, timeToLiveAttribute: 'expiresAt' }),
    });
    // The usage ledger by model and day (issue 16): a sparse index of the ledger items only, so a
    // tenant's month is one Query (lambdas/inference/stores/model-usage.ts). Adding an index updates
    // the table in place; the key schema, and the retained counters, stay.
    this.usageTable.addGlobalSecondaryIndex({
      indexName: MODEL_USAGE_INDEX.name,
      partitionKey: { name: MODEL_USAGE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: MODEL_USAGE_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    });
    acknowledge(this.usageTable, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'The usage table holds counters (rate windows that expire in two days, day and month token totals); point-in-time recovery covers it, and the audit bucket keeps every request record.');

    let jwt = config.gateway.jwt;
    if (!jwt) {
      // Props in one function (constructs/tenant-user-pool-props.ts), under the same id: the pool keeps its logical id.
      this.userPool = new cognito.UserPool(this, 'UserPool', tenantUserPoolProps(config));
      // The ID token carries every attribute the client may read: the tenant (custom:tenant_id) and
      // the email, named here so no later attribute leaks into tokens. `cognito:groups` (the role)
      // is always in Cognito's ID and access tokens.
      const readAttributes = new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }).withCustomAttributes('tenant_id');
      // Users sign in with SRP only (InitiateAuth USER_SRP_AUTH: `tessera login`, lib/cli/users/sign-in.ts, and
      // any SDK), never through OAuth: the pool has no domain, so no /oauth2/authorize endpoint exists. Without
      // disableOAuth, aws-cdk-lib fills in its placeholders (implicit and code grant, callback
      // https://example.com): an implicit flow to an unowned URL the day someone adds a domain.
      // What a signed-in user may change of their own (UpdateUserAttributes): the email only, under keepOriginal above. An
      // app client without WriteAttributes may write every standard attribute (Cognito's default, an empty list too):
      // email_verified, phone_number and the rest are the admins' (AdminUpdateUserAttributes, the users routes).
      const writeAttributes = new cognito.ClientAttributes().withStandardAttributes({ email: true });
      const client = this.userPool.addClient('GatewayClient', {
        authFlows: { userSrp: true }, disableOAuth: true, generateSecret: false, idTokenValidity: Duration.hours(1), accessTokenValidity: Duration.hours(1), readAttributes, writeAttributes,
      });
      // One group per role (lib/identity/roles.ts groupOf): membership is the role (roleOfClaims
      // reads `cognito:groups`). Precedence admin 0 … viewer 3 orders the groups for Cognito
      // (`cognito:preferred_role`, the console); the gateway ignores it: a user in two groups gets
      // the role with fewer permissions (roleOfClaims), and the users routes keep one group a user.
      ROLES.forEach((role, precedence) => new cognito.CfnUserPoolGroup(this.userPool!, `Group-${role}`, {
        userPoolId: this.userPool!.userPoolId, groupName: groupOf(role), description: roleGroupDescription(role), precedence,
      }));
      const issuer = `https://cognito-idp.${stack.region}.amazonaws.com/${this.userPool.userPoolId}`;
      jwt = { issuer, jwksUri: `${issuer}/.well-known/jwks.json`, audience: client.userPoolClientId };
    }
    const environment = {
      [GATEWAY_ENV.registryTable]: props.registry.tableName,
      [GATEWAY_ENV.usageTable]: this.usageTable.tableName,
      [GATEWAY_ENV.auditBucket]: props.auditBucket.bucketName,
      [GATEWAY_ENV.jwtIssuer]: jwt.issuer,
      [GATEWAY_ENV.jwtAudience]: jwt.audience,
      [GATEWAY_ENV.jwksUri]: jwt.jwksUri,
      [GATEWAY_ENV.tenantDataRole]: roleArn(stack.partition, stack.account, TENANT_DATA_ROLE_NAME),
      // Read and written as the tenant (TenantDataAccessRole), by the authorizer, the router and the fine-tuning API.
      [GATEWAY_ENV.apiKeysTable]: props.apiKeysTable.tableName,
    };
    const define = { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify(config)) };
    const useKey = new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] });
    // The router's and the tenant users function's Decrypt with the platform key: only as the service that holds the ciphertext
    // asks it, for that resource. DynamoDB: the origin index (encryption context aws:dynamodb:tableName; AWS KMS Developer
    // Guide, "How Amazon DynamoDB uses AWS KMS"); S3: the audit bucket, whose bucket key makes the context the bucket's ARN
    // (S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"; a multipart PutObject decrypts the data key).
    const decryptOriginIndex = decryptThrough(this, 'PlatformKeyThroughDynamoDBForOriginIndex', props.encryptionKey.keyArn, { service: 'dynamodb', tables: [props.corsOriginsTable.tableName] });
    const decryptAuditRecords = decryptThrough(this, 'PlatformKeyThroughS3ForAuditRecords', props.encryptionKey.keyArn, { service: 's3', bucketArn: props.auditBucket.bucketArn });

    const authorizerFn = new LambdaFunction(this, 'Authorizer', {
      handlerFile: 'inference/authorizer-handler', roleName: PLATFORM_FUNCTIONS.authorizer.roleName, encryptionKey: props.encryptionKey,
      environment, define, memorySize: 512, timeout: Duration.seconds(10), reservedConcurrency: PLATFORM_FUNCTIONS.authorizer.reservedConcurrency,
      invocation: 'by API Gateway as a REQUEST authorizer, which answers 401/403 itself',
      outsideVpcReason: 'verifies tokens against the issuer\'s public JWKS and reads the registry (DynamoDB); it reaches no resource inside a VPC.',
    });
    // The authorizer reads the caller's tenant record as that tenant only (TenantDataAccessRole). Its own
    // grant on the registry answers one question, whether a tenant id is registered, before it reads a
    // key as the key prefix's tenant (a random prefix would cost an STS AssumeRole each): GetItem of the
    // key attribute only (the documented attribute-level pattern, IAM User Guide "Amazon DynamoDB: Allows
    // access to specific attributes"; Null makes ForAllValues fail when no attribute list is sent).
    authorizerFn.addToPolicy(new iam.PolicyStatement({
      sid: 'RegistryTenantExists', actions: ['dynamodb:GetItem'], resources: [props.registry.tableArn],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...EXISTENCE_ATTRIBUTES] },
        Null: { 'dynamodb:Attributes': 'false' },
        StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
      },
    }));
    authorizerFn.addToPolicy(new iam.PolicyStatement({
      sid: 'RegistryKeyThroughDynamoDB', actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    }));

    const router = new LambdaFunction(this, 'Router', {
      handlerFile: 'inference/router-handler', roleName: PLATFORM_FUNCTIONS.router.roleName, encryptionKey: props.encryptionKey,
      // API Gateway's longest stream is 15 minutes; a healthy stream is cut only by the upstream's idle timeout, or 15 s
      // before this timeout by the router itself, which then settles the reservation (lambdas/inference/lambda-deadline.ts).
      environment: { ...environment, [GATEWAY_ENV.responsesTable]: props.responsesTable.tableName, [GATEWAY_ENV.corsOriginsTable]: props.corsOriginsTable.tableName },
      define, memorySize: 1024, timeout: Duration.minutes(15), reservedConcurrency: PLATFORM_FUNCTIONS.router.reservedConcurrency,
      assets: routerRanksAssets(),
      invocation: 'by API Gateway with response streaming; every error is answered to the caller in OpenAI\'s shape',
      outsideVpcReason: 'calls Bedrock, SageMaker runtime, DynamoDB, S3 and Secrets Manager APIs and external model providers (OpenAI, HuggingFace) over HTTPS; in a VPC it would need NAT for the latter and gain no isolation (tenant data stores are not reached from here).',
    });
    this.router = router;
    // Registry, usage counters, stored responses and tenants' own provider keys: as the tenant only
    // (TenantDataAccessRole). The platform key stays for the audit bucket, the platform's provider
    // secrets and the origin index.
    router.addToPolicy(useKey);
    router.addToPolicy(decryptOriginIndex);
    router.addToPolicy(decryptAuditRecords);
    // Preflights carry no credentials, so no tenant: the router asks the origin index with its own
    // role whether SOME tenant allows the origin. The index holds only (origin, tenant id) pairs,
    // the origins every browser of those tenants' apps sends anyway; no tenant data is in it.
    // Query on the table only (not its by-tenant index): the router looks an origin up, it never lists a tenant's.
    router.addToPolicy(new iam.PolicyStatement({ sid: 'CorsOriginIndex', actions: ['dynamodb:Query'], resources: [props.corsOriginsTable.tableArn] }));
    // Home-only records, and those of DR tiers (tessera-audit/dr-tier/, replicated with platformDisasterRecovery): lib/audit-prefixes.ts.
    const auditRecords = [false, true].map((drTier) => props.auditBucket.arnForObjects(`${auditStreamPrefix('inference', drTier)}*`));
    router.addToPolicy(new iam.PolicyStatement({ sid: 'AuditRecords', actions: ['s3:PutObject'], resources: auditRecords }));
    // The catalog's foundation models only (config at synth; no Bedrock model is added at run time): IAM
    // authorizes an invocation on the foundation model also when it names an inference profile, so the
    // profiles (tenants' application profiles, recorded at run time) reach no model outside the catalog.
    // A deployment in another region (gateway.models[].deployments[].region) is granted its model there, and, when it
    // calls a cross-region profile, the profiles of that region: no region no deployment names.
    const profileRegions = deploymentProfileRegions(config.gateway.models, config.homeRegion);
    const deploymentProfiles = profileRegions.map((region) => stack.formatArn({ service: 'bedrock', region, resource: 'inference-profile', resourceName: '*' }));
    const bedrock = [
      ...catalogFoundationModelArns(config.gateway.models, stack.partition, stack.region),
      stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: '*' }),
      ...deploymentProfiles,
      stack.formatArn({ service: 'bedrock', resource: 'application-inference-profile', resourceName: '*' }),
    ];
    router.addToPolicy(new iam.PolicyStatement({ sid: 'Bedrock', actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], resources: bedrock }));
    if (deploymentProfiles.length) {
      acknowledge(router.managedPolicy, deploymentProfiles.map((arn) => wildcardResourceFinding(this, arn)),
        `gateway.models[].deployments call a cross-region inference profile in ${profileRegions.join(', ')}: a system profile's ARN holds the account and region it is called in (inference-profile/<geo>.<model id>), one per model and geography; the pattern is this account's profiles in those regions only, and the call is also authorized on the profile's foundation model, which the statement names per catalog model.`);
    }
    const guardrails = stack.formatArn({ service: 'bedrock', resource: 'guardrail', resourceName: '*' });
    router.addToPolicy(new iam.PolicyStatement({ sid: 'TenantGuardrails', actions: ['bedrock:ApplyGuardrail'], resources: [guardrails] }));
    const endpoints = stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: 'tessera-*' });
    router.addToPolicy(new iam.PolicyStatement({ sid: 'TenantEndpoints', actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'], resources: [endpoints] }));
    const secrets = [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: 'tessera/providers/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })];
    router.addToPolicy(new iam.PolicyStatement({ sid: 'ProviderKeys', actions: ['secretsmanager:GetSecretValue'], resources: secrets }));
    // Secrets Manager decrypts a secret's value for the caller with the encryption context SecretARN = the secret (AWS KMS
    // Developer Guide, "How AWS Secrets Manager uses AWS KMS"): the platform's provider keys only.
    router.addToPolicy(decryptThrough(this, 'PlatformKeyThroughSecretsManagerForProviderKeys', props.encryptionKey.keyArn, { service: 'secretsmanager', secretArnPattern: secrets[0] }));
    this.reasoningSealSecret = reasoningSealSecret(this, router, props.encryptionKey);
    // A tenant's fine-tuned models run in the tenant's account: invoked as its model-invoker role.
    const invokers = `arn:${stack.partition}:iam::*:role/tessera-*-model-invoker`;
    router.addToPolicy(new iam.PolicyStatement({
      sid: 'TenantModelInvokers', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [invokers],
      conditions: { StringEquals: { 'aws:ResourceOrgID': config.organization.organizationId } },
    }));
    acknowledge(router.managedPolicy, [wildcardResourceFinding(this, invokers)],
      'Each tenant account holds one model-invoker role named tessera-<tenant>-model-invoker (invoke-only on that tenant\'s endpoints), in accounts created at run time and limited to this organization (aws:ResourceOrgID).');
    // A tenant's vector stores live in its vector bucket, in its account: reached as its vector-store role (constructs/tenant-vector-bucket.ts).
    const vectorStores = `arn:${stack.partition}:iam::*:role/tessera-*-vector-store`;
    router.addToPolicy(new iam.PolicyStatement({
      sid: 'TenantVectorStores', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [vectorStores],
      conditions: { StringEquals: { 'aws:ResourceOrgID': config.organization.organizationId } },
    }));
    acknowledge(router.managedPolicy, [wildcardResourceFinding(this, vectorStores)],
      'Each tenant account holds one vector-store role named tessera-<tenant>-vector-store (the indexes of that tenant\'s vector bucket only), in accounts created at run time and limited to this organization (aws:ResourceOrgID).');
    // One acknowledgement per kind of resource, each saying why its pattern cannot name the resources (test/infra/platform-key-decrypt.test.ts).
    acknowledge(router.managedPolicy, auditRecords.map((arn) => wildcardResourceFinding(this, arn)),
      'Audit records: the router writes one object per request under tessera-audit/inference/<tenant>/<day>/<request id>.json (tessera-audit/dr-tier/inference/ for tiers with a DR region), keyed at run time; PutObject only, under those two prefixes of the audit bucket only.');
    const homeProfiles = bedrock.filter((arn) => arn.includes(':inference-profile/') && !deploymentProfiles.includes(arn));
    acknowledge(router.managedPolicy, homeProfiles.map((arn) => wildcardResourceFinding(this, arn)),
      'Inference profiles of the home region: a cross-region (system) profile\'s ARN is inference-profile/<geography>.<model id> in this account and region, the geography chosen by AWS per region; the pattern is this account\'s profiles in the home region only, and Bedrock also authorizes the call on the profile\'s foundation model, which the statement names per catalog model.');
    const applicationProfiles = bedrock.filter((arn) => arn.includes(':application-inference-profile/'));
    acknowledge(router.managedPolicy, applicationProfiles.map((arn) => wildcardResourceFinding(this, arn)),
      'Application inference profiles: a tenant\'s record names its cost-allocation profiles at run time (bedrockInferenceProfiles), whose ARNs end in an id Bedrock generates (application-inference-profile/<id>); the pattern is this account\'s in the home region only, and the call is also authorized on the profile\'s foundation model, named per catalog model.');
    const wildcardModels = bedrock.filter((arn) => arn.includes(':foundation-model/') && arn.includes('*'));
    if (wildcardModels.length) {
      acknowledge(router.managedPolicy, wildcardModels.map((arn) => wildcardResourceFinding(this, arn)),
        'Foundation models of the catalog named with a wildcard: a cross-region profile\'s model in any of the Regions Bedrock routes the call to (bedrock:*::foundation-model/<model id>, the model named), or every model of the home region for an upstream that is an application inference profile, whose ARN does not say its model (lib/bedrock-models.ts).');
    }
    acknowledge(router.managedPolicy, [wildcardResourceFinding(this, guardrails)],
      'Guardrails: a tenant\'s policy names its guardrail at run time (guardrails.bedrockGuardrailId), and Bedrock names a guardrail by an id it generates (guardrail/<id>); the pattern is this account\'s guardrails in the home region only, and only ApplyGuardrail.');
    acknowledge(router.managedPolicy, [wildcardResourceFinding(this, endpoints)],
      'SageMaker endpoints: the models of the catalog and of tenants\' records name their endpoints, chosen per request at run time; the pattern admits endpoints named tessera-* in this account and region only, and only the two invoke actions.');
    acknowledge(router.managedPolicy, secrets.map((arn) => wildcardResourceFinding(this, arn)),
      'Provider keys: the platform\'s own upstream API keys are secrets named tessera/providers/<provider>, and Secrets Manager appends six random characters to a secret\'s ARN; the pattern is that prefix only (tenants\' own keys are read as the tenant), GetSecretValue only.');

    // `/v1/tenant/users` calls Cognito's admin API on the platform pool. Cognito has no condition
    // key that confines a call to one tenant's users (the code checks each user's custom:tenant_id),
    // so those grants stay off the router, which handles every model call and upstream answer: a
    // small function of the same code serves only the users routes (API Gateway sends it nothing
    // else). With an external identity provider there is no pool: the router answers those routes
    // (404 no_user_pool) and nobody holds a Cognito grant.
    let tenantUsersFn: LambdaFunction | undefined;
    if (this.userPool) {
      const pool = this.userPool;
      tenantUsersFn = new LambdaFunction(this, 'TenantUsers', {
        handlerFile: 'inference/router-handler', roleName: TENANT_USERS_ROLE_NAME, encryptionKey: props.encryptionKey,
        environment: {
          ...environment, [GATEWAY_ENV.corsOriginsTable]: props.corsOriginsTable.tableName, [GATEWAY_ENV.userPoolId]: pool.userPoolId,
          ...(props.eventBus ? { [GATEWAY_ENV.eventBus]: props.eventBus.eventBusName } : {}),
        },
        define, memorySize: 512, timeout: Duration.seconds(30), reservedConcurrency: PLATFORM_FUNCTIONS.tenantUsers.reservedConcurrency,
        invocation: 'by API Gateway with response streaming (the /v1/tenant/users routes only); every error is answered to the caller in OpenAI\'s shape',
        outsideVpcReason: 'calls the Cognito, DynamoDB, S3 and EventBridge APIs over HTTPS; it reaches no resource inside a VPC.',
      });
      tenantUsersFn.addToPolicy(useKey);
      tenantUsersFn.addToPolicy(decryptOriginIndex);
      tenantUsersFn.addToPolicy(decryptAuditRecords);
      tenantUsersFn.addToPolicy(new iam.PolicyStatement({ sid: 'CorsOriginIndex', actions: ['dynamodb:Query'], resources: [props.corsOriginsTable.tableArn] }));
      tenantUsersFn.addToPolicy(new iam.PolicyStatement({ sid: 'AuditRecords', actions: ['s3:PutObject'], resources: auditRecords }));
      tenantUsersFn.addToPolicy(new iam.PolicyStatement({ sid: 'TenantUserPool', actions: [...TENANT_USER_POOL_ACTIONS], resources: [pool.userPoolArn] }));
      if (props.eventBus) tenantUsersFn.addToPolicy(new iam.PolicyStatement({ sid: 'TenantUserEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }));
      acknowledge(tenantUsersFn.managedPolicy, auditRecords.map((arn) => wildcardResourceFinding(this, arn)),
        'Audit records are keyed per request under tessera-audit/inference/ (tessera-audit/dr-tier/inference/ for tiers with a DR region), chosen at run time; nothing else in the audit bucket.');
    }
    this.tenantUsers = tenantUsersFn;
    // Tenant budget alerts: the router's PutEvents grant and bus, and the optional mail Lambda (constructs/tenant-budget-alerts.ts).
    this.budgetAlerts = new TenantBudgetAlerts(this, 'BudgetAlerts', { config, eventBus: props.eventBus, gatewayFunctions: [router], userPool: this.userPool, encryptionKey: props.encryptionKey, usageTable: this.usageTable });
    // Request events (lambdas/inference/request-events.ts): the router puts `Gateway Request Completed` from `tessera.gateway`
    // on the same bus (TESSERA_EVENT_BUS, set above) for the tenants whose policy (or the platform's) wants them; only those
    // entries (every entry of a call must match: the keys are multivalued), as the budget alerts' grant is only theirs.
    if (props.eventBus) {
      router.addToPolicy(new iam.PolicyStatement({
        sid: 'GatewayRequestEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn],
        conditions: {
          'ForAllValues:StringEquals': { 'events:source': [GATEWAY_EVENT_SOURCE], 'events:detail-type': [REQUEST_COMPLETED_EVENT] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      }));
    }

    // OpenAI's Batch API (/v1/batches, through /v1/{proxy+}): the router enqueues a batch's chunks and runs them from
    // its own queue; the files are read and written as the tenant (the tenant-data role, whose ARN is fixed by name).
    this.batches = new BatchWork(this, 'Batches', {
      encryptionKey: props.encryptionKey, router, accessLogsBucket: props.accessLogsBucket,
      dataPrincipalArns: [roleArn(stack.partition, stack.account, TENANT_DATA_ROLE_NAME), props.breakGlassRoleArn],
    });
    // Background responses: a queue of their own, so that a batch's chunks never delay them.
    this.backgroundResponses = new BackgroundResponseWork(this, 'BackgroundResponses', { encryptionKey: props.encryptionKey, router });
    // Vector stores (/v1/vector_stores, through /v1/{proxy+}): each file attached is processed from a queue of its own,
    // off the request; records in the responses table as the tenant, vectors in the tenant's vector bucket as its
    // vector-store role (TenantVectorStores above).
    this.vectorStoreFiles = new VectorStoreFileWork(this, 'VectorStoreFiles', { encryptionKey: props.encryptionKey, router });

    this.tenantDataFunctions = tenantUsersFn ? [authorizerFn, router, tenantUsersFn] : [authorizerFn, router];

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { encryptionKey: props.encryptionKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: 'tessera-inference',
      description: 'Tessera OpenAI-compatible inference API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // The authorizer names the tenant's usage key, which sits in its tier's usage plan.
      apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER,
      // POST /v1/files (OpenAI's Files API) uploads multipart/form-data: API Gateway hands a body of a type
      // listed here to Lambda byte-exact, base64-encoded (isBase64Encoded), and any other as text. Every
      // Lambda behind this API decodes isBase64Encoded; no route answers a multipart media type, so no
      // response is converted (API Gateway converts a Lambda proxy response only when it is base64 and
      // the request's Accept names a type listed here).
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    // API Gateway's own errors (refused credentials, usage-plan throttle and quota, WAF, unknown
    // routes, its payload limit and timeouts) in OpenAI's error shape, as the router answers its own.
    for (const spec of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(`Error-${spec.type}`, {
        type: apigw.ResponseType.of(spec.type),
        statusCode: spec.statusCode === undefined ? undefined : String(spec.statusCode),
        responseHeaders: { ...Object.fromEntries(Object.entries(spec.headers ?? {}).map(([name, value]) => [name, `'${value}'`])), ...GATEWAY_RESPONSE_MAPPED_HEADERS },
        templates: { 'application/json': gatewayResponseTemplate(spec) },
      });
    }
    const authorizer = new apigw.RequestAuthorizer(this, 'JwtAuthorizer', {
      handler: authorizerFn.function,
      identitySources: [apigw.IdentitySource.header('Authorization')],
      // Within the key revocation window, with the authorizer Lambda's own cache (see authorizerCacheTtlSeconds).
      resultsCacheTtl: Duration.seconds(authorizerCacheTtlSeconds()),
    });
    const validator = this.api.addRequestValidator('Validator', { validateRequestBody: false, validateRequestParameters: true });
    // One invoke permission for the API (any stage, method and path) instead of two per method:
    // every method here integrates the router, and the platform stack stays far from CloudFormation's
    // 500-resource limit (17 router methods would take 34 AWS::Lambda::Permission resources).
    const integration = new apigw.LambdaIntegration(router.function, { responseTransferMode: apigw.ResponseTransferMode.STREAM, timeout: Duration.minutes(15), scopePermissionToMethod: false });
    this.routerIntegration = integration;
    const v1 = this.api.root.addResource('v1');
    const options = { authorizer, requestValidator: validator, apiKeyRequired: true };
    this.v1 = v1;
    this.methodOptions = options;
    this.gatewayEnvironment = environment;
    // Tenant self-service (issue 15): API keys through the router (as the tenant, via the tenant-data role), users
    // through the tenant-users function when the platform pool exists (else the router's, which answers them 404).
    const usersIntegration = tenantUsersFn
      ? new apigw.LambdaIntegration(tenantUsersFn.function, { responseTransferMode: apigw.ResponseTransferMode.STREAM, timeout: Duration.seconds(29), scopePermissionToMethod: false })
      : integration;
    // One greedy resource /v1/{proxy+} (ANY and its preflight) for every route the router serves, routed by the path
    // itself (router-handler.ts gatewayPath; the router answers a path it does not serve 404 route_not_found naming what
    // is served, a method 405 with Allow); explicit resources only where another Lambda serves a path, and the router's
    // methods on those it shares (lib/inference-api-methods.ts). One resource with a method and a preflight per route
    // took 52 of TesseraPlatform's resources, and each new route 3 more (docs/measured.md "Room in TesseraPlatform").
    this.addMethods(ROUTER_API_METHODS, { router: integration, tenantUsers: usersIntegration });
    // One usage plan per tier (rate, burst and daily quota at the edge); the lifecycle puts each
    // tenant's usage key in its tier's plan. Exact per-tenant limits and budgets are the router's.
    for (const [tier, t] of Object.entries(config.tiers)) {
      this.api.addUsagePlan(`Plan-${tier}`, {
        name: `tessera-${tier}`,
        description: `Tier ${tier}: ${t.limits.requestsPerMinute}/min, ${t.limits.requestsPerDay}/day`,
        throttle: { rateLimit: Math.max(1, Math.ceil(t.limits.requestsPerMinute / 60)), burstLimit: Math.max(10, Math.ceil(t.limits.requestsPerMinute / 6)) },
        quota: { limit: t.limits.requestsPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
    }

    const waf = new wafv2.CfnWebACL(this, 'Waf', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'tessera-inference', sampledRequestsEnabled: true },
      rules: [
        {
          name: 'common', priority: 0, overrideAction: { none: {} },
          // The body rules count instead of blocking (their URI, query, cookie and header variants still
          // block): a body here is a prompt, an answer to be checked or training data, text the gateway
          // only parses as JSON (Lines), never renders, resolves or fetches. Blocked, an app asking about
          // an HTML page (`<script>`), a path (`../`) or the instance metadata address failed with a 403,
          // and so did a fine-tuning file of such examples. The 8 KB rule would block ordinary prompts;
          // the gateway enforces its own body limits. Counted matches stay in the WAF's metrics and logs.
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet', ruleActionOverrides: WAF_COUNTED_BODY_RULES.map((name) => ({ name, actionToUse: { count: {} } })) } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'common', sampledRequestsEnabled: true },
        },
        {
          name: 'known-bad-inputs', priority: 1, overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'known-bad-inputs', sampledRequestsEnabled: true },
        },
        {
          name: 'per-ip-rate', priority: 2, action: { block: {} },
          statement: { rateBasedStatement: { limit: 20_000, aggregateKeyType: 'IP' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'per-ip-rate', sampledRequestsEnabled: true },
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WafAssociation', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: waf.attrArn });
    const wafLogs = new logs.LogGroup(this, 'WafLogs', {
      logGroupName: 'aws-waf-logs-tessera-inference', // WAF delivers only to groups named aws-waf-logs-*
      encryptionKey: props.encryptionKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: waf.attrArn,
      logDestinationConfigs: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: wafLogs.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });

    const stage = this.api.deploymentStage.node.defaultChild!;
    acknowledge(stage, ['NIST.800.53.R5::NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'HIPAA.Security::HIPAA.Security-APIGWCacheEnabledAndEncrypted'],
      'Chat completions are per-request generations (and streamed); caching them would leak one caller\'s answer to another, so no response cache exists to encrypt.');
    acknowledge(stage, ['NIST.800.53.R5::NIST.800.53.R5-APIGWSSLEnabled', 'HIPAA.Security::HIPAA.Security-APIGWSSLEnabled'],
      'The only backend is a Lambda integration (response streaming) invoked by API Gateway through AWS; there is no HTTP backend to present a client certificate to.');
    acknowledge(this.api, ['AwsSolutions::AwsSolutions-APIG2'], 'Requests are validated by the router against the OpenAI schema (zod) so that errors come back in OpenAI\'s shape, naming the field and the value; an API Gateway model would answer in its own shape.');
  }

  /**
   * Builds `methods` (lib/inference-api-methods.ts) on this API: each resource by its path (created with its parents
   * where missing, `/v1/models/{proxy+}` once whoever adds it first), each method with the Lambda integration of its
   * `lambda`. A method other than OPTIONS takes the JWT authorizer, the request validator and the usage key
   * (methodOptions); an OPTIONS is the router's preflight (addPreflight) or, integrated with another Lambda, that
   * Lambda's (addPreflightMethod).
   * @param integrations the integration of each Lambda the methods name
   * @throws Error when a method names a Lambda `integrations` lacks
   */
  addMethods(methods: readonly InferenceApiMethod[], integrations: Partial<Record<InferenceApiLambda, apigw.Integration>>, answeredBy = 'the router'): apigw.Method[] {
    return methods.map(({ verb, resource: path, lambda }) => {
      const integration = integrations[lambda];
      if (!integration) throw new Error(`${verb} ${path} integrates the ${lambda} Lambda, which addMethods was given no integration for`);
      const resource = this.api.root.resourceForPath(path.slice(1));
      if (verb === 'OPTIONS') return integration === this.routerIntegration ? this.addPreflight(resource) : addPreflightMethod(resource, integration, answeredBy);
      const method = resource.addMethod(verb, integration, this.methodOptions);
      acknowledgeJwtAuthorizer(method);
      return method;
    });
  }

  /**
   * Adds the CORS preflight method (`OPTIONS`) to `resource`: no authorizer and no API key (a
   * browser's preflight carries neither: Fetch standard, CORS-preflight request), integrated with
   * the router, which answers from the origin index (204 with the CORS headers for an origin some
   * tenant allows, none for any other). A MOCK integration could not: the answer depends on the
   * origin. Idempotent per resource.
   *
   * Only for resources the router serves: it lists a route's methods in
   * `Access-Control-Allow-Methods` (lambdas/inference/routes.ts).
   */
  addPreflight(resource: apigw.Resource): apigw.Method {
    const existing = this.preflights.get(resource.path);
    if (existing) return existing;
    const method = addPreflightMethod(resource, this.routerIntegration, 'the router');
    this.preflights.set(resource.path, method);
    return method;
  }
}

/**
 * `OPTIONS` on `resource` with no authorizer and no API key (a browser's preflight carries neither:
 * Fetch standard, CORS-preflight request), integrated with the Lambda that serves the resource's
 * other methods: it answers from the origin index only.
 */
export function addPreflightMethod(resource: apigw.Resource, integration: apigw.Integration, answeredBy: string): apigw.Method {
  const method = resource.addMethod('OPTIONS', integration, { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: false });
  acknowledge(method, ['AwsSolutions::AwsSolutions-APIG4', 'AwsSolutions::AwsSolutions-COG4'],
    `A CORS preflight is sent by the browser itself, without the Authorization header or any credential (Fetch standard), so no authorizer can run; ${answeredBy} answers it with CORS headers or none, from the origin index only, and serves no model or tenant data on OPTIONS.`);
  return method;
}

/** cdk-nag COG4 on a method behind the gateway's JWT authorizer. */
export function acknowledgeJwtAuthorizer(method: apigw.Method): void {
  acknowledge(method, ['AwsSolutions::AwsSolutions-COG4'],
    'Tenant calls carry a JWT verified by the Lambda authorizer (signature, issuer, audience, expiry, tenant status); the default issuer is this stack\'s Cognito user pool, and an external IdP can replace it, which a Cognito authorizer could not.');
}
