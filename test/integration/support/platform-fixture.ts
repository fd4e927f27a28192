import { AttachPolicyCommand, CreateOrganizationCommand, CreateOrganizationalUnitCommand, CreatePolicyCommand, EnableAWSServiceAccessCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { accountTierOptInRegions } from '../../../lib/config/region-opt-in.js';
import { configuredAlternateContactTypes } from '../../../lib/config/alternate-contacts.js';
import { APIGatewayClient, CreateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { guardrailPolicy, quarantinePolicy } from '../../../lib/guardrail-policies.js';
import { LIFECYCLE_EVENT_SOURCE } from '../../../lib/lifecycle-constants.js';
import { ORGANIZATION_ACCESS_ROLE_NAME } from '../../../lib/lifecycle-handlers.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { FINE_TUNING_ENV } from '../../../lambdas/fine-tuning/fine-tuning-env.js';
import { NAMESPACE_KUBECTL_HANDLER_ROLE_NAME } from '../../../lib/namespace-kubectl.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME, SHARED_CLUSTER_PARAMETERS } from '../../../lib/shared-cluster-parameters.js';
import type { NamespaceDeployerScope } from '../../../lib/namespace-deployer.js';
import { CreatePolicyCommand as CreateIamPolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { deriveCatalog, publishCatalog, readTemplateUrl, type PublishedBlueprint } from './blueprint-catalog.js';
import { createUsageTable } from './gateway-tables.js';
import { emulateCloudFormation, type CloudFormationEmulation } from './cloudformation-emulation.js';
import { jsonCall } from './moto-api.js';
import { emulateOrganizations, type OrganizationsEmulation } from './organizations-emulation.js';
import { routeS3ControlToMoto } from './s3-control-endpoint.js';
import { KEYS_TABLE_SCHEMA } from './keys-table.js';

export const BLUEPRINT_VERSION = '1.0.0';
/** The keys table, named as the platform stack names it (constructs/api-keys-table.ts). */
export const API_KEYS_TABLE = 'tessera-gateway-api-keys';
/** The fine-tuning jobs table (constructs/fine-tuning.ts names it so). */
export const FINE_TUNING_JOBS_TABLE = 'tessera-fine-tuning-jobs';
/**
 * The audit bucket (constructs/audit-trail.ts; its deployed name is CloudFormation's): Object Lock on, compliance mode for
 * `audit.objectLockRetentionDays` by default, as the platform stack makes it. The lifecycle Lambdas write their records
 * there (`tessera-audit/lifecycle/…`) and the admin API's `requests show` reads the gateway's (`tessera-audit/inference/…`).
 */
export const AUDIT_BUCKET = 'tessera-platform-audit';
/** The gateway's responses table and the Batch API's files bucket: the offboarding's erasure or expiry of the tenant's pooled gateway data reads both. */
export const POOLED_GATEWAY_DATA = { responsesTable: 'tessera-responses', batchFilesBucket: 'tessera-batch-files' } as const;

export interface PlatformFixture {
  readonly env: Record<string, string>;
  readonly platform: AwsCredentialIdentity;
  readonly management: AwsCredentialIdentity;
  /** Credentials in any account, as moto lets an assumed role switch accounts. */
  as(accountId: string, role?: string): Promise<AwsCredentialIdentity>;
  /** Lifecycle events received so far (detail-type and detail), read from an SQS queue on the bus. */
  events(): Promise<Array<{ detailType: string; detail: Record<string, unknown> }>>;
  /** The real blueprints as published to the catalog (derived for moto), with their derivation reports. */
  readonly catalog: readonly PublishedBlueprint[];
  /** CloudFormation's AWS behaviour over moto's (rollback, protections, termination protection, RoleARN, in-place updates): cloudformation-emulation.ts. */
  readonly cloudFormation: CloudFormationEmulation;
  /** Organizations' AWS behaviour over moto's (one account per email, IN_PROGRESS requests, `hold()`/`release()`): organizations-emulation.ts. */
  readonly organizations: OrganizationsEmulation;
}

/**
 * What the platform and organization stacks would have created, made in moto by API (moto's
 * CloudFormation cannot run those templates): registry and control tables with the same keys and
 * indexes, the lifecycle bus, the blueprint catalog (the real blueprints, derived for moto:
 * blueprint-catalog.ts), the shared cluster's SSM parameters the namespace blueprint reads, the
 * archive, the audit bucket (Object Lock, compliance-mode default retention), the organization with the Tessera OUs and SCPs. CloudFormation calls of the Lambdas go
 * through the AWS-behaviour emulation (cloudformation-emulation.ts).
 */
export async function createPlatformFixture(endpoint: string, config: PlatformConfig): Promise<PlatformFixture> {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = config.homeRegion;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  process.env.POWERTOOLS_DEV = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = process.env.TESSERA_TEST_LOG_LEVEL ?? 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';

  const root = new STSClient({});
  const as = async (accountId: string, role = 'tessera-test') => {
    const out = await root.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${role}`, RoleSessionName: 'fixture', DurationSeconds: 43200 }));
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
  };
  const platform = await as(config.platformAccountId, 'tessera-lifecycle-fixture');
  const management = await as(config.organization.managementAccountId, ORGANIZATION_ACCESS_ROLE_NAME);

  // The Lambdas' own identity: the platform account.
  process.env.AWS_ACCESS_KEY_ID = platform.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = platform.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = platform.sessionToken!;

  const ddb = new DynamoDBClient({ credentials: platform });
  const gsi = (name: string, key: string) => ({ IndexName: name, KeySchema: [{ AttributeName: key, KeyType: 'HASH' as const }, { AttributeName: 'tenantId', KeyType: 'RANGE' as const }], Projection: { ProjectionType: 'ALL' as const } });
  await ddb.send(new CreateTableCommand({
    TableName: 'tessera-tenants', BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'status', AttributeType: 'S' }, { AttributeName: 'tier', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [gsi('by-status', 'status'), gsi('by-tier', 'tier')],
  }));
  await ddb.send(new CreateTableCommand({
    TableName: 'tessera-lifecycle-control', BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  }));
  // Tenant API keys (constructs/api-keys-table.ts): offboarding deletes a tenant's.
  await ddb.send(new CreateTableCommand({
    TableName: API_KEYS_TABLE, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));

  // The gateway's usage table (constructs/inference-api.ts, with its ledger index), which TESSERA_USAGE_TABLE names below:
  // without it the admin API's usage routes (`tessera tenants usage`) answered 500 internal_error on a LocalPlatform.
  await createUsageTable('tessera-usage', ddb);

  // Fine-tuning jobs (constructs/fine-tuning.ts): offboarding's *Retire fine-tuned models* reads a tenant's, as the tenant.
  await ddb.send(new CreateTableCommand({
    TableName: FINE_TUNING_JOBS_TABLE, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'jobId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'jobId', KeyType: 'RANGE' }],
  }));

  const s3 = new S3Client({ credentials: platform, forcePathStyle: true });
  // The gateway's pooled stores, where offboarding's *Erase pooled gateway data* (offboarding.erasePooledGatewayData) or
  // *Expire pooled gateway data* (without it) runs: every offboarding reads both (it stopped there with
  // "TESSERA_RESPONSES_TABLE is not set" before the fixture made them).
  await ddb.send(new CreateTableCommand({
    TableName: POOLED_GATEWAY_DATA.responsesTable, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'responseId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'responseId', KeyType: 'RANGE' }],
  }));
  await s3.send(new CreateBucketCommand({ Bucket: POOLED_GATEWAY_DATA.batchFilesBucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'tessera-blueprints' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'tessera-archive', ObjectLockEnabledForBucket: true }));
  // The audit bucket: before, the fixture (and so `npm run local-platform`) had none, and `tessera requests show` answered
  // every lookup of an existing tenant with a 500 (TESSERA_AUDIT_BUCKET unset) where a deployed platform answers 404.
  await s3.send(new CreateBucketCommand({ Bucket: AUDIT_BUCKET, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({
    Bucket: AUDIT_BUCKET, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: config.audit.objectLockRetentionDays } } },
  }));
  // The lifecycle work bucket (constructs/tenant-lifecycle.ts): the rolling upgrade's *List tier tenants* writes its items there.
  await s3.send(new CreateBucketCommand({ Bucket: 'tessera-lifecycle-work' }));
  const { catalog, moto } = await deriveCatalog(config);
  await publishCatalog(s3, 'tessera-blueprints', catalog);
  // The platform stack's hand-over of the shared cluster to the namespace blueprints.
  await jsonCall(endpoint, platform, 'ssm', 'AmazonSSM.PutParameter', { Name: SHARED_CLUSTER_PARAMETERS.ClusterName, Value: 'tessera-shared', Type: 'String' });
  await jsonCall(endpoint, platform, 'ssm', 'AmazonSSM.PutParameter', {
    Name: SHARED_CLUSTER_PARAMETERS.KubectlServiceToken, Value: `arn:aws:lambda:${config.homeRegion}:${config.platformAccountId}:function:tessera-shared-cluster-kubectl`, Type: 'String',
  });
  // The namespace kubectl handler's role (constructs/namespace-kubectl-provider.ts): every tenant's kubectl role trusts it, and IAM
  // (moto too) refuses a trust naming a role that does not exist ("Invalid principal in policy").
  await new IAMClient({ credentials: platform }).send(new CreateRoleCommand({
    RoleName: NAMESPACE_KUBECTL_HANDLER_ROLE_NAME,
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  }));
  await jsonCall(endpoint, platform, 'ssm', 'AmazonSSM.PutParameter', {
    Name: SHARED_CLUSTER_PARAMETERS.NamespaceKubectlServiceToken, Value: `arn:aws:lambda:${config.homeRegion}:${config.platformAccountId}:function:tessera-shared-cluster-namespace-kubectl`, Type: 'String',
  });
  // The shared namespace deployer's policy, every tenant's namespace deployer's permissions boundary (constructs/shared-cluster.ts):
  // Deploy blueprint creates tessera-<tenant>-namespace-deployer with it. Its content is the platform stack's; moto evaluates no
  // boundary (test/isolation/namespace-deployer-per-tenant.test.ts does, through the simulator), so a stand-in document.
  const deployerBoundary = await new IAMClient({ credentials: platform }).send(new CreateIamPolicyCommand({
    PolicyName: 'TesseraPlatform-NamespaceDeployerPolicy-LOCAL',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'eks:DescribePodIdentityAssociation', Resource: '*' }] }),
  }));
  const namespaceDeployerScope: NamespaceDeployerScope = {
    boundaryArn: deployerBoundary.Policy!.Arn!,
    clusterArn: `arn:aws:eks:${config.homeRegion}:${config.platformAccountId}:cluster/tessera-shared`,
    kubectlServiceToken: `arn:aws:lambda:${config.homeRegion}:${config.platformAccountId}:function:tessera-shared-cluster-kubectl`,
    namespaceKubectlServiceToken: `arn:aws:lambda:${config.homeRegion}:${config.platformAccountId}:function:tessera-shared-cluster-namespace-kubectl`,
    podBridgeBoundaryArn: `arn:aws:iam::${config.platformAccountId}:policy/${POD_BRIDGE_BOUNDARY_POLICY_NAME}`,
  };
  const archiveKey = await new KMSClient({ credentials: platform }).send(new CreateKeyCommand({ Description: 'archive' }));
  const apigw = new APIGatewayClient({ credentials: platform });
  for (const tier of Object.keys(config.tiers)) await apigw.send(new CreateUsagePlanCommand({ name: `tessera-${tier}` }));

  const eb = new EventBridgeClient({ credentials: platform });
  const bus = await eb.send(new CreateEventBusCommand({ Name: 'tessera-lifecycle' }));
  const sqs = new SQSClient({ credentials: platform });
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'lifecycle-events' }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await eb.send(new PutRuleCommand({ Name: 'all', EventBusName: 'tessera-lifecycle', EventPattern: JSON.stringify({ source: [LIFECYCLE_EVENT_SOURCE] }) }));
  await eb.send(new PutTargetsCommand({ Rule: 'all', EventBusName: 'tessera-lifecycle', Targets: [{ Id: 'queue', Arn: queueArn }] }));

  const orgs = new OrganizationsClient({ credentials: management });
  await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  // The deploy guide's step for a config whose account tiers use an opt-in region or set alternateContacts (docs/deploying.md):
  // *Enable regions*' EnableRegion and GetRegionOptStatus, and *Set alternate contacts*' PutAlternateContact, with an AccountId
  // need it (moto's answer_account_regions refuses them without, as AWS).
  if (accountTierOptInRegions(config).length > 0 || configuredAlternateContactTypes(config.tiers).length > 0) await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
  const rootId = (await orgs.send(new ListRootsCommand({}))).Roots![0].Id!;
  const ous: string[] = [];
  for (const name of [...Object.keys(config.tiers).map((t) => `tessera-${t}`), config.organization.quarantineOuName, config.organization.suspendedOuName]) {
    ous.push((await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: name }))).OrganizationalUnit!.Id!);
  }
  const guardrails = await orgs.send(new CreatePolicyCommand({
    Name: 'tessera-guardrails', Type: 'SERVICE_CONTROL_POLICY', Description: 'guardrails',
    Content: JSON.stringify(guardrailPolicy({ allowedRegions: config.allowedRegions, provisioningRoleName: config.roles.provisioningRoleName, breakGlassRoleName: config.roles.breakGlassRoleName, blueprintExecutionRoleName: config.roles.blueprintExecutionRoleName })),
  }));
  await orgs.send(new CreatePolicyCommand({ Name: 'tessera-quarantine', Type: 'SERVICE_CONTROL_POLICY', Description: 'quarantine', Content: JSON.stringify(quarantinePolicy(config.roles)) }));
  for (const ou of ous) await orgs.send(new AttachPolicyCommand({ PolicyId: guardrails.Policy!.PolicySummary!.Id!, TargetId: ou }));

  const cloudFormation = emulateCloudFormation({ readTemplate: (url) => readTemplateUrl(s3, url), moto });
  const organizations = emulateOrganizations();
  // S3 Control's account-id host is no URL on moto's IP endpoint (*Set S3 Block Public Access*): s3-control-endpoint.ts.
  routeS3ControlToMoto();

  const received: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
  return {
    platform,
    management,
    as,
    catalog,
    cloudFormation,
    organizations,
    env: {
      [ENV.config]: JSON.stringify(config),
      [ENV.registryTable]: 'tessera-tenants',
      [ENV.controlTable]: 'tessera-lifecycle-control',
      [ENV.eventBus]: bus.EventBusArn ? 'tessera-lifecycle' : 'tessera-lifecycle',
      [ENV.blueprintBucket]: 'tessera-blueprints',
      [ENV.blueprintVersion]: BLUEPRINT_VERSION,
      [ENV.archiveBucket]: 'tessera-archive',
      [ENV.auditBucket]: AUDIT_BUCKET,
      [ENV.workBucket]: 'tessera-lifecycle-work',
      [ENV.archiveKeyArn]: archiveKey.KeyMetadata!.Arn!,
      [ENV.organizationRoleArn]: `arn:aws:iam::${config.organization.managementAccountId}:role/${ORGANIZATION_ACCESS_ROLE_NAME}`,
      [ENV.accountCreationCap]: '5',
      [ENV.keyDeletionWindowDays]: '7',
      [ENV.namespaceDeployerScope]: JSON.stringify(namespaceDeployerScope),
      // No TESSERA_USER_POOL_ID: moto's Cognito is not part of this harness, so offboarding revokes keys only (as with an external IdP).
      [GATEWAY_ENV.apiKeysTable]: API_KEYS_TABLE,
      // The fine-tuning events Lambda's (offboarding's *Retire fine-tuned models*): jobs and registry as the tenant, through
      // sessions of the tenant-data role (moto's STS); the usage table (made above) is the admin API's usage routes' too.
      [FINE_TUNING_ENV.jobsTable]: FINE_TUNING_JOBS_TABLE,
      [GATEWAY_ENV.tenantDataRole]: `arn:aws:iam::${config.platformAccountId}:role/tessera-tenant-data`,
      [GATEWAY_ENV.usageTable]: 'tessera-usage',
      [GATEWAY_ENV.responsesTable]: POOLED_GATEWAY_DATA.responsesTable, [GATEWAY_ENV.batchFilesBucket]: POOLED_GATEWAY_DATA.batchFilesBucket,
    },
    async events() {
      for (;;) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10 }));
        if (!out.Messages?.length) break;
        for (const m of out.Messages) {
          const body = JSON.parse(m.Body!) as { 'detail-type': string; detail: Record<string, unknown> };
          received.push({ detailType: body['detail-type'], detail: body.detail });
        }
      }
      return received;
    },
  };
}
