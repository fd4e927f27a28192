import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { auditStreamPrefix } from '../lib/audit-prefixes.js';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { deployedLifecycleHandlers, lifecycleRoleName, ORGANIZATION_ACCESS_ROLE_NAME, type LifecycleHandlerName } from '../lib/lifecycle-handlers.js';
import { LIFECYCLE_EVENT_SOURCE, LIFECYCLE_EVENTS } from '../lib/tenant-record.js';
import { roleArn, TENANT_DATA_ROLE_NAME, TENANT_ID_TAG } from '../lib/tenant-naming.js';
import { namespaceDeployerRoleName, type NamespaceDeployerScope } from '../lib/namespace-deployer.js';
import { ENV } from '../lambdas/shared/environment.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { platformKeyStatements, platformKeyUsesName, type PlatformKeyUse } from './lifecycle-platform-key.js';
import { ruleScopeFor } from './event-rule-home.js';
import { LambdaFunction, policyScopeFor, type AsyncInvocation } from './lambda-function.js';
import { accountTagsStatements, alternateContactStatements, memberAccountArns, organizationResourceArns, organizationsStatements, QUARANTINE_SCP_ARN_PARAMETER, regionOptInStatements } from './organization-access-role.js';
import { accountTierOptInRegions } from '../lib/config/region-opt-in.js';
import { configuredAlternateContactTypes } from '../lib/config/alternate-contacts.js';
import { LifecycleWorkflows } from './lifecycle-workflows.js';
import { secureBucketProps } from './secure-bucket-props.js';
import { TenantArchive } from './tenant-archive.js';
import { LIFECYCLE_RESERVED_CONCURRENCY } from '../lib/lambda-concurrency.js';

export interface TenantLifecycleProps {
  readonly config: PlatformConfig;
  readonly blueprintVersion: string;
  /** The platform key: control table, archive, logs. */
  readonly encryptionKey: kms.IKey;
  readonly registry: dynamodb.ITableV2;
  readonly eventBus: events.IEventBus;
  readonly blueprintBucket: s3.IBucket;
  readonly accessLogsBucket: s3.IBucket;
  /**
   * The shared CloudFormation service role of the namespace stacks deployed before each tenant got its own (they keep it until
   * their next update); absent when no tier uses shared compute.
   */
  readonly namespaceDeployerRole?: iam.IRole;
  /**
   * What each tenant's own namespace deployer is made of (lib/namespace-deployer.ts): the lifecycle creates
   * `tessera-<tenant>-namespace-deployer` with this boundary and passes it as the tenant's namespace stack's RoleARN. Given with
   * `namespaceDeployerRole`.
   */
  readonly namespaceDeployerScope?: NamespaceDeployerScope;
  /**
   * Concurrent account creations, organization-wide; extra requests queue.
   * @default 5
   */
  readonly accountCreationCap?: number;
  /**
   * Waiting period of a tenant key scheduled for deletion at offboarding.
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * The platform's immutable audit bucket (Object Lock). The lifecycle writes one JSON record per
   * protection it lifts (offboarding, and the removal of a dead tenant stack) under
   * `tessera-audit/lifecycle/<tenant>/`, or `tessera-audit/dr-tier/lifecycle/<tenant>/` for a tenant whose
   * tier has a DR region (replicated with `platformDisasterRecovery`: lib/audit-prefixes.ts).
   * @default - no lifecycle records in the audit bucket (the registry and the bus still carry them)
   */
  readonly auditBucket?: s3.IBucket;
  /**
   * How long rolling-upgrade item lists and results stay in the lifecycle work bucket.
   * @default Duration.days(90)
   */
  readonly workRetention?: Duration;
  /**
   * Tenant API keys (constructs/api-keys-table.ts): offboarding deletes the tenant's
   * (`revoke-tenant-identities`: Query, then BatchWriteItem deletes).
   */
  readonly apiKeysTable: dynamodb.ITableV2;
  /**
   * The platform's Cognito pool of tenant users: offboarding disables and signs out the tenant's.
   * @default - none (external identity provider): the step deletes keys only
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * When the drift workflow runs (DetectStackDrift on every ACTIVE tenant's stacks).
   * @default - daily at 03:00 UTC
   */
  readonly driftSchedule?: events.Schedule;
  /**
   * The fine-tuning events Lambda (constructs/fine-tuning.ts FineTuning.eventsFunction): offboarding
   * invokes it to retire the tenant's fine-tuned models and training jobs before its stacks are deleted.
   */
  readonly fineTuningEvents: lambda.IFunction;
  /**
   * The gateway's pooled stores that *Erase pooled gateway data* empties of the tenant's items (with
   * `offboarding.erasePooledGatewayData`), or whose items of the tenant *Expire pooled gateway data* gives an expiry
   * (without it): the responses table (stored responses, conversations, batches, file and vector store records) and
   * the batch files bucket. The step reaches them only as the tenant-data role's session of the tenant
   * (constructs/tenant-data-access-role.ts, which trusts `tenantDataFunctions`); its own role holds no grant on them.
   * @default - none: required, as one of the two steps is always deployed (Error naming it otherwise)
   */
  readonly pooledGatewayData?: { responsesTable: dynamodb.ITableV2; batchFilesBucket: s3.IBucket };
}

type Capability = 'registry' | 'control' | 'events' | 'organizations' | 'tenantAccounts' | 'namespaceStacks' | 'namespaceDeployers' | 'namespaceDeployerRemoval' | 'archive' | 'archiveExport' | 'templates' | 'usageKeys' | 'usagePlanKeys' | 'upgradeItems' | 'audit' | 'startChange' | 'leases' | 'identities' | 'upgradeResults' | 'namespaceDrift' | 'firstAdmin' | 'regionOptIn' | 'alternateContacts' | 'accountTags' | 'interimTemplates' | 'stoppedHistory';

/** What each lifecycle function may touch; everything else is denied by omission. */
const CAPABILITIES: Record<LifecycleHandlerName, Capability[]> = {
  'validate-request': [],
  // Leases: the steps that take a tenant's lease ask Step Functions whether a holder has ended, and end its operation (slot release);
  // stoppedHistory: the state a dead lease's execution ended in, which its failure names (lease.ts endDeadLease, stopped-step.ts).
  'register-tenant': ['registry', 'leases', 'stoppedHistory'],
  'acquire-account-slot': ['registry', 'control'],
  'release-account-slot': ['registry', 'control'],
  'create-account': ['registry', 'organizations'],
  'check-account-status': ['registry', 'organizations'],
  'quarantine-account': ['registry', 'organizations'],
  'verify-provisioning-access': ['registry', 'tenantAccounts'],
  'allocate-network': ['registry', 'control', 'tenantAccounts', 'templates'],
  // Events and audit: the protections it lifts to remove a dead tenant stack. interimTemplates: the interim template it
  // writes beside a published one (the cache's failover off while its first replica is added: cache-failover-interim.ts).
  'deploy-blueprint': ['registry', 'tenantAccounts', 'namespaceStacks', 'namespaceDeployers', 'templates', 'interimTemplates', 'events', 'audit'],
  // Events and audit: the account baseline's termination protection it lifts (a baseline that turned ROLLBACK_COMPLETE).
  'check-stack': ['registry', 'tenantAccounts', 'namespaceStacks', 'events', 'audit'],
  'wire-tenant': ['registry', 'tenantAccounts'],
  'activate-tenant': ['registry', 'organizations', 'events'],
  // usagePlanKeys: a change's tier recorded from its stack's standing moves the usage key into that tier's plan (manage-usage-key.ts settleUsageKey).
  'record-failure': ['registry', 'control', 'organizations', 'tenantAccounts', 'namespaceStacks', 'events', 'audit', 'usagePlanKeys'],
  'set-status': ['registry', 'events', 'leases', 'stoppedHistory'],
  // Templates: whether the target tier is published at the version the change deploys (HeadObject).
  'begin-change': ['registry', 'leases', 'stoppedHistory', 'templates'],
  'finish-change': ['registry', 'events'],
  // Organizations TagResource / UntagResource of an account tenant's own tags (tag-account.ts), as the organization access role.
  'tag-account': ['registry', 'organizations', 'accountTags'],
  // Templates: whether the upgrade's tier is published at its version (HeadObject), before any tenant is listed.
  'list-tier-tenants': ['registry', 'upgradeItems', 'templates'],
  'begin-offboarding': ['registry', 'leases', 'stoppedHistory'],
  // Before Begin offboarding / Begin change: whether the tenant was rebuilt in its DR region (DescribeStacks of tessera-<id>
  // there as the provisioning role, rebuilt-stack.ts). A step of its own, without leases: the lease-taking steps end a dead
  // lease without fencing it and must not reach the organization access role (test/isolation/lifecycle-role-grants.test.ts).
  'check-rebuilt-stack': ['registry', 'tenantAccounts'],
  // Its own archive capability: multipart copies, and the verification's reads and listing of its export.
  // Audit: it records what *Retire fine-tuned models* reported (retired-fine-tuning.ts) in the lifecycle audit records.
  'export-tenant-data': ['registry', 'tenantAccounts', 'archiveExport', 'audit'],
  'snapshot-database': ['registry', 'tenantAccounts', 'archive'],
  // Events and audit: the termination protection it lifts (the namespace and DR stacks'), recorded as Lift protections' are.
  // Control: once the stacks are gone, the tenant's VPC range claim deleted and the range listed as free (release-network.ts).
  'delete-tenant-stacks': ['registry', 'control', 'tenantAccounts', 'namespaceStacks', 'namespaceDeployerRemoval', 'events', 'audit'],
  'schedule-key-deletion': ['registry', 'control', 'tenantAccounts', 'events'],
  'retire-account': ['registry', 'control', 'organizations', 'events'],
  'finish-offboarding': ['registry', 'events'],
  'process-closure-queue': ['control', 'organizations'],
  'manage-usage-key': ['registry', 'usageKeys'],
  'request-compute-quotas': ['registry', 'tenantAccounts'],
  'lift-protections': ['registry', 'tenantAccounts', 'events', 'audit'],
  'inventory-retained-stores': ['registry', 'tenantAccounts', 'archive'],
  'process-key-deletion-queue': ['registry', 'control', 'tenantAccounts', 'events'],
  'process-quota-requests': ['registry', 'tenantAccounts', 'events', 'startChange'],
  // tenantAccounts: the tenant stack of a stopped change, read for the tier and version it completed an update to (stack-standing.ts);
  // usagePlanKeys: the usage key moved into that tier's plan (manage-usage-key.ts settleUsageKey);
  // leases: its daily sweep asks Step Functions whether each lease's execution has ended (dead-lease-sweep.ts).
  // stoppedHistory: the stopped execution's last events, for the state it stopped in (stopped-step.ts).
  'end-stopped-execution': ['registry', 'control', 'events', 'organizations', 'tenantAccounts', 'usagePlanKeys', 'leases', 'stoppedHistory'],
  // Offboarding, first thing: deletes the tenant's API keys and disables its users (one event each).
  'revoke-tenant-identities': ['registry', 'events', 'identities'],
  // Offboarding, with offboarding.erasePooledGatewayData: the registry (its record) only; the tenant's pooled items and batch
  // files as the tenant-data role's session of the tenant (TenantDataAccessRole adds the AssumeRole with the tenant tag).
  'erase-pooled-gateway-data': ['registry'],
  // Offboarding, without offboarding.erasePooledGatewayData: the same, giving the tenant's pooled items a TTL and moving its
  // kept files' content to the expiring prefix as the tenant-data role's session of the tenant.
  'expire-pooled-gateway-data': ['registry'],
  // The rolling upgrade's result: reads the Distributed Map's manifest and result files.
  'summarize-upgrade': ['upgradeResults'],
  // The daily drift workflow: lists ACTIVE tenants, starts and reads drift detections, records them.
  'list-drift-tenants': ['registry'],
  'detect-drift': ['registry', 'tenantAccounts', 'namespaceDrift'],
  // usagePlanKeys: the usage key moved into the plan of the tier a standing recorded, or of a move owed (usageKey.movePending).
  'check-drift': ['registry', 'tenantAccounts', 'namespaceDrift', 'events', 'usagePlanKeys'],
  // Onboarding, just before Activate tenant: invites the tenant's first admin into the platform pool (Tenant User Created on the bus).
  'invite-tenant-admin': ['registry', 'events', 'firstAdmin'],
  // Enables an account tier's opt-in regions in the tenant's new account (account:EnableRegion, from the management account).
  'enable-regions': ['registry', 'regionOptIn'],
  // Only with tiers.<tier>.accountCustomizations: each customization stack in the tenant's account (provisioning session,
  // stacks run as the blueprint execution role); templates: its catalog object. Events and audit: a dead one's protection lifted.
  'deploy-customizations': ['registry', 'tenantAccounts', 'templates', 'events', 'audit'],
  // Only with a tier's deleteDefaultVpcs: the tenant account's default VPCs, as the provisioning role under the session
  // policy of lambdas/lifecycle/default-vpcs.ts (the EC2 calls are the assumed session's, not this role's).
  'delete-default-vpcs': ['registry', 'tenantAccounts'],
  // Only with a tier's ebsEncryptionByDefault: EBS encryption by default in the tenant account, as the provisioning role
  // under the session policy of lambdas/lifecycle/ebs-encryption.ts (the EC2 calls are the assumed session's).
  'enable-ebs-encryption': ['registry', 'tenantAccounts'],
  // Only with a tier's alternateContacts: account:PutAlternateContact on the tenant's account, from the management account
  // (AccountId), for the configured contact types only.
  'set-alternate-contacts': ['registry', 'alternateContacts'],
  // Only with a tier's s3PublicAccessBlock: account-level S3 Block Public Access in the tenant account, as the provisioning
  // role under the session policy of lambdas/lifecycle/s3-public-access-block.ts (the S3 Control call is the assumed session's).
  'set-s3-public-access-block': ['registry', 'tenantAccounts'],
};

/**
 * Cognito actions of the offboarding step on the platform pool, each by name: it pages through the
 * pool's enabled users (ListUsers; ListUsersInGroup for a role's group), reads a user and its
 * groups (the event names the role), disables it and ends its sessions.
 */
export const OFFBOARDING_USER_POOL_ACTIONS = [
  'cognito-idp:ListUsers', 'cognito-idp:ListUsersInGroup', 'cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:AdminDisableUser', 'cognito-idp:AdminUserGlobalSignOut',
] as const;

/**
 * Cognito actions of the onboarding's *Invite tenant admin* on the platform pool, each by name
 * (lambdas/lifecycle/invite-tenant-admin.ts through CognitoTenantUsers): it creates the first admin (AdminCreateUser) and
 * puts it in `tenant-admin` (AdminAddUserToGroup), deletes it again when the group cannot be joined (AdminDeleteUser:
 * no user without a role is left), and on UsernameExistsException reads the user and its groups back (AdminGetUser,
 * AdminListGroupsForUser). Nothing that lists the pool, disables, signs out or removes a user from a group.
 */
export const FIRST_ADMIN_USER_POOL_ACTIONS = [
  'cognito-idp:AdminCreateUser', 'cognito-idp:AdminAddUserToGroup', 'cognito-idp:AdminDeleteUser', 'cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser',
] as const;

/** Functions run by a daily EventBridge schedule rather than by a state machine. */
const DAILY_JOBS: readonly LifecycleHandlerName[] = ['process-closure-queue', 'process-key-deletion-queue', 'process-quota-requests'];

/** Longer timeouts for the functions that move data. */
const TIMEOUTS: Partial<Record<LifecycleHandlerName, Duration>> = {
  'export-tenant-data': Duration.minutes(10),
  'process-closure-queue': Duration.minutes(5),
  'process-key-deletion-queue': Duration.minutes(5),
  // MAX_ITEMS_PER_RUN deletes take seconds; a slow run stops paging with a minute left (TIME_MARGIN_MS).
  'erase-pooled-gateway-data': Duration.minutes(5),
  // As the erasure's; a kept file's server-side copy takes seconds (up to 512 MB), and a run checks the time after each group.
  'expire-pooled-gateway-data': Duration.minutes(5),
  'inventory-retained-stores': Duration.minutes(2),
  'allocate-network': Duration.minutes(2),
  // Every enabled region (17 by default), four at a time, about 8 EC2 calls each.
  'delete-default-vpcs': Duration.minutes(5),
  // Every enabled region in allowedRegions, four at a time, one EC2 call each.
  'enable-ebs-encryption': Duration.minutes(2),
  // Two role assumptions and one S3 Control call.
  'set-s3-public-access-block': Duration.minutes(1),
};

/**
 * The tenant lifecycle: one Lambda per step, each with only the permissions its step needs, the
 * state machines that run them, the control table (account-creation slots, CIDR allocations,
 * closure queue), the admin archive, and the triggers: `Tenant Onboarding Requested` on the
 * platform bus, and a daily run of the account-closure queue.
 */
export class TenantLifecycle extends Construct {
  /** One function per deployed handler (deployedLifecycleHandlers: `enable-regions` only when an account tier needs an opt-in region). */
  readonly functions: Record<LifecycleHandlerName, LambdaFunction>;
  readonly workflows: LifecycleWorkflows;
  /** Dead-letter queues of the lifecycle's rules and their asynchronously invoked Lambdas (one per rule). */
  readonly deadLetterQueues: DeadLetterQueue[];
  readonly controlTable: dynamodb.TableV2;
  readonly archive: TenantArchive;
  /** Rolling-upgrade item lists and results (`upgrades/<requestId>/`), platform key, expiring. */
  readonly workBucket: s3.Bucket;
  /**
   * The lifecycle functions that act as one tenant through the tenant-data role (TenantDataAccessRole's
   * `trustedFunctions`): *Erase pooled gateway data* with `offboarding.erasePooledGatewayData`, *Expire pooled gateway
   * data* without it.
   */
  readonly tenantDataFunctions: LambdaFunction[];

  constructor(scope: Construct, id: string, props: TenantLifecycleProps) {
    super(scope, id);
    const { config } = props;

    this.controlTable = new dynamodb.TableV2(this, 'ControlTable', {
      tableName: 'tessera-lifecycle-control',
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.controlTable, ['NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan', 'HIPAA.Security::HIPAA.Security-DynamoDBInBackupPlan'],
      'The control table holds only coordination state (slots, CIDR claims, closure queue) that is rebuilt from the registry; point-in-time recovery covers mistakes.');

    this.archive = new TenantArchive(this, 'Archive', {
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      retentionDays: config.audit.objectLockRetentionDays,
    });

    this.workBucket = new s3.Bucket(this, 'WorkBucket', {
      ...secureBucketProps({ encryptionKey: props.encryptionKey, accessLogsBucket: props.accessLogsBucket, accessLogsPrefix: 'lifecycle-work/' }),
      lifecycleRules: [{
        id: 'expire-upgrade-work',
        expiration: props.workRetention ?? Duration.days(90),
        noncurrentVersionExpiration: Duration.days(7),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    acknowledge(this.workBucket, ['NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled'],
      'Working copies of rolling-upgrade item lists and results, rebuilt from the registry on the next run and expired after their retention; nothing here needs a second region.');

    const environment: Record<string, string> = {
      [ENV.registryTable]: props.registry.tableName,
      [ENV.controlTable]: this.controlTable.tableName,
      [ENV.eventBus]: props.eventBus.eventBusName,
      [ENV.blueprintBucket]: props.blueprintBucket.bucketName,
      [ENV.blueprintVersion]: props.blueprintVersion,
      [ENV.archiveBucket]: this.archive.bucket.bucketName,
      [ENV.archiveKeyArn]: props.encryptionKey.keyArn,
      [ENV.accountCreationCap]: String(props.accountCreationCap ?? 5),
      [ENV.keyDeletionWindowDays]: String(props.keyDeletionWindowDays ?? 30),
      [ENV.workBucket]: this.workBucket.bucketName,
      // By name, not by reference: the change machine's definition references these functions.
      [ENV.changeStateMachineArn]: changeStateMachineArn(this),
    };
    if (props.auditBucket) environment[ENV.auditBucket] = props.auditBucket.bucketName;
    const organizationRole = roleArn(Aws.PARTITION, config.organization.managementAccountId, ORGANIZATION_ACCESS_ROLE_NAME);
    const platformIsManagement = config.platformAccountId === config.organization.managementAccountId;
    if (!platformIsManagement) environment[ENV.organizationRoleArn] = organizationRole;
    if (props.namespaceDeployerRole && !props.namespaceDeployerScope) throw new Error('TenantLifecycle: namespaceDeployerRole needs namespaceDeployerScope (each tenant\'s own namespace deployer)');
    if (props.namespaceDeployerScope) environment[ENV.namespaceDeployerScope] = Stack.of(this).toJsonString(props.namespaceDeployerScope);

    // Dead-letter queues of the asynchronous paths (issue 17): one per rule, shared by the rule's
    // target (EventBridge delivery failures) and, for a Lambda target, the function (failed runs).
    const dlq = (id: string, name: string, source: string) => new DeadLetterQueue(this, id, { name, source, encryptionKey: props.encryptionKey });
    const deadLetters = {
      onboardingRequested: dlq('OnboardingRequestedDeadLetters', 'onboarding-requested', 'rule OnboardingRequested to onboard state machine'),
      stoppedExecutions: dlq('StoppedExecutionsDeadLetters', 'end-stopped-execution', 'rule StoppedExecutions to end-stopped-execution Lambda'),
      closureQueue: dlq('DailyClosureQueueDeadLetters', 'process-closure-queue', 'schedule DailyClosureQueue to process-closure-queue Lambda'),
      quotaRequests: dlq('DailyQuotaRequestsDeadLetters', 'process-quota-requests', 'schedule DailyQuotaRequests to process-quota-requests Lambda'),
      drift: dlq('DailyDriftDetectionDeadLetters', 'drift-detection', 'schedule DailyDriftDetection to drift state machine'),
      keyDeletionQueue: dlq('DailyKeyDeletionQueueDeadLetters', 'process-key-deletion-queue', 'schedule DailyKeyDeletionQueue to process-key-deletion-queue Lambda'),
    };
    // Lambda's own retries of a failed asynchronous run: two (its most), within the event's age.
    const daily: Omit<AsyncInvocation, 'deadLetterQueue'> = { retryAttempts: 2, maxEventAge: Duration.hours(1), reason: 'a daily job is idempotent and the next day\'s run picks up what this one missed; an hour of retries, then the DLQ tells the operator today\'s run failed' };
    const asyncInvocations: Partial<Record<LifecycleHandlerName, AsyncInvocation>> = {
      'end-stopped-execution': { deadLetterQueue: deadLetters.stoppedExecutions, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'ending a stopped operation is idempotent; six hours matches EventBridge\'s delivery window' },
      'process-closure-queue': { deadLetterQueue: deadLetters.closureQueue, ...daily },
      'process-quota-requests': { deadLetterQueue: deadLetters.quotaRequests, ...daily },
      'process-key-deletion-queue': { deadLetterQueue: deadLetters.keyDeletionQueue, ...daily },
    };
    this.deadLetterQueues = Object.values(deadLetters);

    this.functions = Object.fromEntries(
      deployedLifecycleHandlers(props.config).map((handler) => [handler, new LambdaFunction(this, handler, {
        asyncInvocation: asyncInvocations[handler],
        handlerFile: `lifecycle/${handler}`,
        roleName: lifecycleRoleName(handler),
        encryptionKey: props.encryptionKey,
        environment,
        define: { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify(config)) },
        timeout: TIMEOUTS[handler],
        reservedConcurrency: LIFECYCLE_RESERVED_CONCURRENCY,
        invocation: DAILY_JOBS.includes(handler) ? 'by its daily EventBridge schedule, which retries'
          : handler === 'end-stopped-execution' ? 'by EventBridge (Step Functions status changes), which retries it for up to 6 hours; an operation it misses is ended by the next request that meets the tenant\'s lease (lease.ts)'
            : 'by the lifecycle state machines, whose Retry and Catch handle every error',
      })]),
    ) as Record<LifecycleHandlerName, LambdaFunction>;

    // The erasure of the tenant's pooled gateway data (with offboarding.erasePooledGatewayData), or its expiry (without):
    // the names of the stores; each reaches them as the tenant-data role's session of the tenant only (TenantDataAccessRole
    // trusts it: tenantDataFunctions).
    const pooled = this.functions['erase-pooled-gateway-data'] ?? this.functions['expire-pooled-gateway-data'];
    if (pooled && !props.pooledGatewayData) throw new Error('TenantLifecycle: the offboarding erases or expires the tenant\'s pooled gateway data but pooledGatewayData (the responses table and batch files bucket) was not given');
    if (pooled && props.pooledGatewayData) {
      pooled.function.addEnvironment('TESSERA_RESPONSES_TABLE', props.pooledGatewayData.responsesTable.tableName);
      pooled.function.addEnvironment('TESSERA_BATCH_FILES_BUCKET', props.pooledGatewayData.batchFilesBucket.bucketName);
      pooled.function.addEnvironment('TESSERA_TENANT_DATA_ROLE_ARN', roleArn(Stack.of(this).partition, Stack.of(this).account, TENANT_DATA_ROLE_NAME));
    }
    this.tenantDataFunctions = pooled ? [pooled] : [];

    // Only the step that revokes a tenant's identities knows where they are.
    const identities = this.functions['revoke-tenant-identities'].function;
    identities.addEnvironment(ENV.apiKeysTable, props.apiKeysTable.tableName);
    if (props.userPool) identities.addEnvironment(ENV.userPoolId, props.userPool.userPoolId);
    // And the onboarding's first-admin invitation: without a pool (external IdP) it records the invitation SKIPPED.
    if (props.userPool) this.functions['invite-tenant-admin'].function.addEnvironment(ENV.userPoolId, props.userPool.userPoolId);
    // Register tenant compares a replayed onboarding's inviteAdmin as it would run: left out, the pool decides its default.
    if (props.userPool) this.functions['register-tenant'].function.addEnvironment(ENV.userPoolId, props.userPool.userPoolId);

    const grants = this.grants(props, organizationRole, platformIsManagement);
    const keyUses = this.platformKeyUses(props);
    const keyUsers = new Map<string, { uses: PlatformKeyUse[]; functions: LambdaFunction[] }>();
    for (const [handler, caps] of Object.entries(CAPABILITIES) as Array<[LifecycleHandlerName, Capability[]]>) {
      const fn = this.functions[handler];
      if (!fn) continue; // not deployed with this config (deployedLifecycleHandlers)
      for (const cap of caps) for (const statement of grants[cap]) fn.addToPolicy(statement);
      const uses = caps.flatMap((cap) => keyUses[cap] ?? []);
      if (uses.length > 0) {
        const name = platformKeyUsesName(uses);
        keyUsers.set(name, { uses, functions: [...(keyUsers.get(name)?.functions ?? []), fn] });
      }
      this.acknowledgeWildcards(fn, caps, props, platformIsManagement);
    }
    // The platform key only as DynamoDB and S3 ask it, for the tables and buckets of a handler's capabilities: one managed
    // policy per set of uses, shared by the handlers with that set. Not in each function's policy: with the Organizations
    // statements, Record failure's would pass IAM's 6,144 characters (test/infra/iam-policy-sizes.test.ts).
    for (const [name, { uses, functions }] of keyUsers) {
      const policy = new iam.ManagedPolicy(this.nestedPolicies(), name, {
        roles: functions.map((f) => f.role),
        description: `Tessera lifecycle: the platform key through DynamoDB and S3 only (${name.slice('PlatformKeyFor'.length)})`,
        statements: platformKeyStatements(this, props.encryptionKey.keyArn, uses),
      });
      for (const fn of functions) fn.function.node.addDependency(policy);
    }

    this.workflows = new LifecycleWorkflows(this, 'Workflows', {
      functions: Object.fromEntries(Object.entries(this.functions).map(([k, v]) => [k, v.function])) as unknown as Record<LifecycleHandlerName, lambda.IFunction>,
      encryptionKey: props.encryptionKey,
      workBucket: this.workBucket,
      fineTuningEvents: props.fineTuningEvents,
    });

    new events.Rule(ruleScopeFor(this), 'OnboardingRequested', {
      eventBus: props.eventBus,
      description: 'Tenant Onboarding Requested starts the onboarding workflow with the event detail as its request',
      eventPattern: { source: [LIFECYCLE_EVENT_SOURCE], detailType: [LIFECYCLE_EVENTS.onboardingRequested] },
      // StartExecution fails only transiently (throttling, a service error): 8 tries over up to 6 hours, then the DLQ.
      targets: [new targets.SfnStateMachine(this.workflows.onboard, { input: events.RuleTargetInput.fromEventPath('$.detail'), role: this.eventsRole(), deadLetterQueue: deadLetters.onboardingRequested.queue, retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    // Executions that stop without their Catch (StopExecution, timeout) still hold their tenant's lease: end their operation.
    new events.Rule(ruleScopeFor(this), 'StoppedExecutions', {
      description: 'Ends the operation of a lifecycle execution that stopped (aborted, timed out, failed in Step Functions) while holding its tenant\'s lease',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: [{ prefix: Stack.of(this).formatArn({ service: 'states', resource: 'stateMachine', resourceName: 'tessera-', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) }],
        },
      },
      // A stopped execution holds its tenant's lease until this runs: keep trying for EventBridge's 6 hours, then the DLQ.
      targets: [new targets.LambdaFunction(this.functions['end-stopped-execution'].function, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: deadLetters.stoppedExecutions.queue })],
    });
    // Step Functions' status-change events are best effort: a lease whose event never came is ended by a daily sweep.
    new events.Rule(ruleScopeFor(this), 'DailyDeadLeaseSweep', {
      description: 'Ends the operation of each lifecycle execution that ended while holding its tenant\'s lease without a status-change event reaching the rule',
      schedule: events.Schedule.cron({ hour: '5', minute: '30' }),
      // Daily and idempotent: two delivery retries within the hour, then the stopped executions' DLQ; tomorrow's run catches up.
      targets: [new targets.LambdaFunction(this.functions['end-stopped-execution'].function, { event: events.RuleTargetInput.fromObject({ sweep: true }), retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.stoppedExecutions.queue })],
    });
    new events.Rule(ruleScopeFor(this), 'DailyClosureQueue', {
      description: 'Closes queued tenant accounts as the 30-day closure quota frees up',
      schedule: events.Schedule.cron({ hour: '6', minute: '0' }),
      // Daily and idempotent: two delivery retries within the hour, then the DLQ; tomorrow's run catches up.
      targets: [new targets.LambdaFunction(this.functions['process-closure-queue'].function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.closureQueue.queue })],
    });
    new events.Rule(ruleScopeFor(this), 'DailyQuotaRequests', {
      description: 'Starts a change that scales up the GPU node group of each tenant whose GPU vCPU quota was granted',
      schedule: events.Schedule.cron({ hour: '7', minute: '0' }),
      // Daily and idempotent: two delivery retries within the hour, then the DLQ; tomorrow's run catches up.
      targets: [new targets.LambdaFunction(this.functions['process-quota-requests'].function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.quotaRequests.queue })],
    });
    // Drift by hand is found within a day, without spending the accounts' API rate on it every hour:
    // a detection reads every resource of a tenant stack (minutes per stack).
    new events.Rule(ruleScopeFor(this), 'DailyDriftDetection', {
      description: 'Runs drift detection on every ACTIVE tenant\'s stacks and records it in the registry',
      schedule: props.driftSchedule ?? events.Schedule.cron({ hour: '3', minute: '0' }),
      // Daily: two delivery retries within the hour, then the DLQ; tomorrow's run checks again.
      targets: [new targets.SfnStateMachine(this.workflows.drift, { input: events.RuleTargetInput.fromObject({}), role: this.driftScheduleRole(), retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.drift.queue })],
    });
    new events.Rule(ruleScopeFor(this), 'DailyKeyDeletionQueue', {
      description: 'Schedules the deletion of offboarded tenants\' keys once the last store under each has expired',
      schedule: events.Schedule.cron({ hour: '6', minute: '30' }),
      // Daily and idempotent: two delivery retries within the hour, then the DLQ; tomorrow's run catches up.
      targets: [new targets.LambdaFunction(this.functions['process-key-deletion-queue'].function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: deadLetters.keyDeletionQueue.queue })],
    });
  }

  private nestedPoliciesScope?: Construct;

  /**
   * Where the EventBridge roles' managed policies and the lifecycle handlers' platform-key policies go: the stack's policy
   * home (a nested stack: policyScopeFor of constructs/lambda-function.ts), one scope for all. Nothing in TesseraPlatform
   * waits for the EventBridge roles' (EventBridge reads the role when it delivers, not when the rule is created) and they
   * name no Lambda function, so they count against the nested stack's 500 resources instead of TesseraPlatform's: the room
   * the onboarding's *Invite tenant admin* function (its role, log group and function: 3 resources) took. Unnamed, so the
   * move is a create in the nested stack and a delete in the parent: the role has both for a moment, never neither.
   */
  private nestedPolicies(): Construct {
    this.nestedPoliciesScope ??= policyScopeFor(this);
    return this.nestedPoliciesScope;
  }

  /** EventBridge's role for starting the daily drift workflow, with a managed (not inline) policy. */
  private driftScheduleRole(): iam.IRole {
    const role = new iam.Role(this, 'DriftScheduleRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Stack.of(this).account } }),
      description: 'Starts the daily drift detection workflow',
    });
    new iam.ManagedPolicy(this.nestedPolicies(), 'DriftSchedulePolicy', {
      roles: [role],
      // By name, not by reference: the nested stack holding the policy must not wait for the state machine (which waits for the functions, which wait for it).
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArnByName(this, 'tessera-drift')] })],
    });
    return iam.Role.fromRoleArn(this, 'DriftScheduleRoleRef', role.roleArn, { mutable: false });
  }

  /** EventBridge's role for starting onboardings, with a managed (not inline) policy. */
  private eventsRole(): iam.IRole {
    const role = new iam.Role(this, 'EventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Stack.of(this).account } }),
      description: 'Starts the onboarding workflow for Tenant Onboarding Requested events',
    });
    new iam.ManagedPolicy(this.nestedPolicies(), 'EventsPolicy', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArnByName(this, 'tessera-onboard')] })],
    });
    return iam.Role.fromRoleArn(this, 'EventsRoleRef', role.roleArn, { mutable: false });
  }

  private grants(props: TenantLifecycleProps, organizationRole: string, platformIsManagement: boolean): Record<Capability, iam.PolicyStatement[]> {
    const provisioningRoles = roleArn(Aws.PARTITION, '*', props.config.roles.provisioningRoleName);
    const table = (sid: string, arn: string, indexes: string[] = []) => new iam.PolicyStatement({
      sid,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'],
      resources: [arn, ...indexes.map((i) => `${arn}/index/${i}`)],
    });
    const namespaceStacks = namespaceStackArns(this);
    const namespaceDeployerRoles = Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: namespaceDeployerRoleName('*') });
    return {
      registry: [table('Registry', props.registry.tableArn, ['by-status', 'by-tier'])],
      control: [table('ControlTable', this.controlTable.tableArn)],
      events: [new iam.PolicyStatement({ sid: 'LifecycleEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] })],
      organizations: platformIsManagement
        ? organizationsStatements(props.config.organization.managementAccountId, props.config.organization.organizationId,
          // TesseraOrganization's tessera-quarantine, read at deploy (it is deployed first: docs/deploying.md).
          ssm.StringParameter.valueForStringParameter(Stack.of(this), QUARANTINE_SCP_ARN_PARAMETER),
          props.config.organization.externalQuarantinePolicies.map((p) => p.policyId))
        : [new iam.PolicyStatement({ sid: 'OrganizationAccessRole', actions: ['sts:AssumeRole'], resources: [organizationRole] })],
      // *Tag account*'s UntagResource: in the management account, as the Organizations calls; through the organization
      // access role (its `organizations` AssumeRole) otherwise, whose policy has the statement.
      accountTags: platformIsManagement ? accountTagsStatements(props.config.organization.managementAccountId, props.config.organization.organizationId) : [],
      // The Account Management calls of *Enable regions*: in the management account, as the Organizations ones.
      regionOptIn: platformIsManagement
        ? regionOptInStatements(props.config.organization.managementAccountId, props.config.organization.organizationId, accountTierOptInRegions(props.config))
        : [new iam.PolicyStatement({ sid: 'OrganizationAccessRoleForRegions', actions: ['sts:AssumeRole'], resources: [organizationRole] })],
      // The Account Management call of *Set alternate contacts*: in the management account, as *Enable regions*' ones.
      alternateContacts: platformIsManagement
        ? alternateContactStatements(props.config.organization.managementAccountId, props.config.organization.organizationId, configuredAlternateContactTypes(props.config.tiers))
        : [new iam.PolicyStatement({ sid: 'OrganizationAccessRoleForContacts', actions: ['sts:AssumeRole'], resources: [organizationRole] })],
      tenantAccounts: [platformIsManagement
        ? new iam.PolicyStatement({ sid: 'TenantProvisioningRoles', actions: ['sts:AssumeRole'], resources: [provisioningRoles] })
        : new iam.PolicyStatement({ sid: 'OrganizationAccessRoleForTenantAccounts', actions: ['sts:AssumeRole'], resources: [organizationRole] })],
      namespaceStacks: props.namespaceDeployerRole
        ? [
            new iam.PolicyStatement({
              sid: 'NamespaceStacks',
              actions: ['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents', 'cloudformation:UpdateTerminationProtection'],
              resources: [namespaceStacks],
            }),
            // Changes and upgrades update through a change set (lambdas/lifecycle/change-set-guard.ts); IAM addresses change-set actions by their stack.
            new iam.PolicyStatement({
              sid: 'NamespaceChangeSets',
              actions: ['cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet'],
              resources: [namespaceStacks],
            }),
            // Each tenant's own deployer (its stack's RoleARN), and the shared one the stacks deployed before keep until their next update.
            new iam.PolicyStatement({
              sid: 'PassNamespaceDeployerRoles', actions: ['iam:PassRole'], resources: [props.namespaceDeployerRole.roleArn, namespaceDeployerRoles],
              conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
            }),
          ]
        : [],
      // Deploy blueprint makes a tenant's namespace deployer (lambdas/lifecycle/namespace-deployer.ts): created, and its inline policy
      // written, only with the shared deployer policy as its boundary (iam:PermissionsBoundary, listed for CreateRole and PutRolePolicy
      // in the Service Authorization Reference), so whatever it writes, the role can do no more than the shared deployer; tagged with
      // its tenant only (CreateRole with Tags needs iam:TagRole too).
      namespaceDeployers: props.namespaceDeployerScope
        ? [
            new iam.PolicyStatement({ sid: 'ReadNamespaceDeployers', actions: ['iam:GetRole'], resources: [namespaceDeployerRoles] }),
            new iam.PolicyStatement({
              sid: 'NamespaceDeployersWithTheBoundaryOnly', actions: ['iam:CreateRole', 'iam:PutRolePolicy'], resources: [namespaceDeployerRoles],
              conditions: { StringEquals: { 'iam:PermissionsBoundary': props.namespaceDeployerScope.boundaryArn } },
            }),
            new iam.PolicyStatement({
              sid: 'TagNamespaceDeployersWithTheirTenant', actions: ['iam:TagRole'], resources: [namespaceDeployerRoles],
              conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_ID_TAG] } },
            }),
          ]
        : [],
      // Delete tenant stacks removes it after the namespace stack: only a role with that boundary (iam:PermissionsBoundary, listed for
      // DetachRolePolicy, DeleteRolePolicy and DeleteRole). IAM refuses DeleteRole while a policy is attached or inline, or the role is
      // in an instance profile (DeleteConflict), so it lists them (ListAttachedRolePolicies, ListRolePolicies and
      // ListInstanceProfilesForRole take no condition key: on those role names only) and removes each policy, someone else's included
      // (lambdas/lifecycle/namespace-deployer.ts). No RemoveRoleFromInstanceProfile: its one resource is the instance profile and it
      // takes no condition key (Service Authorization Reference, IAM), so it could only be granted on every instance profile of the
      // platform account (the shared cluster's nodes' among them); a deployer in one stops the step with the fix, nothing removed.
      namespaceDeployerRemoval: props.namespaceDeployerScope
        ? [
            new iam.PolicyStatement({ sid: 'ListNamespaceDeployerPolicies', actions: ['iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:ListInstanceProfilesForRole'], resources: [namespaceDeployerRoles] }),
            new iam.PolicyStatement({
              sid: 'RemoveNamespaceDeployers', actions: ['iam:DetachRolePolicy', 'iam:DeleteRolePolicy', 'iam:DeleteRole'], resources: [namespaceDeployerRoles],
              conditions: { StringEquals: { 'iam:PermissionsBoundary': props.namespaceDeployerScope.boundaryArn } },
            }),
          ]
        : [],
      templates: [new iam.PolicyStatement({ sid: 'ReadBlueprintTemplates', actions: ['s3:GetObject'], resources: [props.blueprintBucket.arnForObjects('blueprints/*')] })],
      interimTemplates: [new iam.PolicyStatement({ sid: 'WriteInterimTemplates', actions: ['s3:PutObject'], resources: [props.blueprintBucket.arnForObjects('blueprints/*/interim/*')] })],
      usageKeys: [
        new iam.PolicyStatement({ sid: 'ListUsagePlans', actions: ['apigateway:GET'], resources: [apigatewayArn('/usageplans')] }),
        // GetApiKeys by name: a key an earlier attempt created but did not record (manage-usage-key.ts).
        new iam.PolicyStatement({ sid: 'FindUsageKeys', actions: ['apigateway:GET'], resources: [apigatewayArn('/apikeys')] }),
        new iam.PolicyStatement({ sid: 'CreateUsageKeys', actions: ['apigateway:POST'], resources: [apigatewayArn('/apikeys')] }),
        new iam.PolicyStatement({ sid: 'TagUsageKeys', actions: ['apigateway:PUT'], resources: [apigatewayArn('/tags/*')] }),
        new iam.PolicyStatement({ sid: 'DeleteUsageKeys', actions: ['apigateway:DELETE'], resources: [apigatewayArn('/apikeys/*')] }),
        new iam.PolicyStatement({ sid: 'PlanKeys', actions: ['apigateway:POST', 'apigateway:DELETE'], resources: [apigatewayArn('/usageplans/*/keys'), apigatewayArn('/usageplans/*/keys/*')] }),
      ],
      // Moving an existing usage key between plans only (manage-usage-key.ts settleUsageKey): no key is created, tagged or deleted.
      usagePlanKeys: [
        new iam.PolicyStatement({ sid: 'ListUsagePlans', actions: ['apigateway:GET'], resources: [apigatewayArn('/usageplans')] }),
        new iam.PolicyStatement({ sid: 'PlanKeys', actions: ['apigateway:POST', 'apigateway:DELETE'], resources: [apigatewayArn('/usageplans/*/keys'), apigatewayArn('/usageplans/*/keys/*')] }),
      ],
      archive: [
        new iam.PolicyStatement({ sid: 'WriteArchive', actions: ['s3:PutObject'], resources: [this.archive.bucket.arnForObjects('*')] }),
      ],
      // The offboarding export: PutObject covers CreateMultipartUpload, UploadPart and
      // CompleteMultipartUpload; ListParts recovers part ETags; Abort cleans up a failed copy. Its
      // verification reads back the manifest parts and lists one export prefix (<tenant>/<time>/),
      // never the whole archive.
      archiveExport: [
        new iam.PolicyStatement({
          sid: 'WriteExport', actions: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [this.archive.bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({ sid: 'ReadExportManifestParts', actions: ['s3:GetObject'], resources: [this.archive.bucket.arnForObjects(EXPORT_MANIFEST_PARTS)] }),
        new iam.PolicyStatement({
          sid: 'ListOneExport', actions: ['s3:ListBucket'], resources: [this.archive.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': EXPORT_PREFIX_PATTERN } },
        }),
      ],
      upgradeResults: [
        new iam.PolicyStatement({ sid: 'ReadUpgradeResults', actions: ['s3:GetObject'], resources: [this.workBucket.arnForObjects('upgrades/*/results/*')] }),
      ],
      namespaceDrift: props.namespaceDeployerRole
        ? [
            new iam.PolicyStatement({ sid: 'NamespaceDrift', actions: ['cloudformation:DetectStackDrift', 'cloudformation:DescribeStackResourceDrifts'], resources: [namespaceStacks] }),
            // DescribeStackDriftDetectionStatus takes a detection id, not a stack: it has no resource type (Service Authorization Reference, AWS CloudFormation).
            new iam.PolicyStatement({ sid: 'DriftDetectionStatus', actions: ['cloudformation:DescribeStackDriftDetectionStatus'], resources: ['*'] }),
          ]
        : [],
      upgradeItems: [
        new iam.PolicyStatement({ sid: 'WriteUpgradeItems', actions: ['s3:PutObject'], resources: [this.workBucket.arnForObjects('upgrades/*/items.json')] }),
      ],
      startChange: [new iam.PolicyStatement({ sid: 'StartScaleUpChange', actions: ['states:StartExecution'], resources: [changeStateMachineArn(this)] })],
      // The executions of the workflows that hold leases only (not the drift workflow's), each state machine by name.
      stoppedHistory: [new iam.PolicyStatement({ sid: 'StoppedExecutionHistory', actions: ['states:GetExecutionHistory'], resources: leaseWorkflowExecutionArns(this) })],
      leases: [
        new iam.PolicyStatement({ sid: 'LeaseHolders', actions: ['states:DescribeExecution'], resources: [lifecycleExecutionArns(this)] }),
        table('ControlTableForLeases', this.controlTable.tableArn),
      ],
      // The platform's own role, not a tenant's session: deleting is what the tenant-data role may not do.
      identities: [
        new iam.PolicyStatement({ sid: 'DeleteTenantApiKeys', actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'], resources: [props.apiKeysTable.tableArn] }),
        ...(props.userPool ? [new iam.PolicyStatement({ sid: 'DisableTenantUsers', actions: [...OFFBOARDING_USER_POOL_ACTIONS], resources: [props.userPool.userPoolArn] })] : []),
      ],
      firstAdmin: props.userPool ? [new iam.PolicyStatement({ sid: 'InviteFirstAdmin', actions: [...FIRST_ADMIN_USER_POOL_ACTIONS], resources: [props.userPool.userPoolArn] })] : [],
      audit: props.auditBucket
        ? [new iam.PolicyStatement({ sid: 'WriteLifecycleAudit', actions: ['s3:PutObject'], resources: lifecycleAuditRecords(props.auditBucket) })]
        : [],
    };
  }

  /**
   * What each capability has AWS KMS do with the platform key, and through which service ({@link PlatformKeyUse}): the
   * registry, control and API keys tables through DynamoDB; the archive, the work bucket and the audit bucket through S3,
   * writes (PutObject) with kms:GenerateDataKey, reads (GetObject) and the export's multipart uploads with kms:Decrypt too.
   */
  private platformKeyUses(props: TenantLifecycleProps): Partial<Record<Capability, PlatformKeyUse[]>> {
    const table = (name: string, t: dynamodb.ITableV2): PlatformKeyUse => ({ service: 'dynamodb', name, table: t.tableName });
    const bucket = (name: string, b: s3.IBucket, actions: Array<'kms:Decrypt' | 'kms:GenerateDataKey'>): PlatformKeyUse => ({ service: 's3', name, bucketArn: b.bucketArn, actions });
    return {
      registry: [table('Registry', props.registry)],
      control: [table('Control', this.controlTable)],
      leases: [table('Control', this.controlTable)],
      identities: [table('ApiKeys', props.apiKeysTable)],
      archive: [bucket('Archive', this.archive.bucket, ['kms:GenerateDataKey'])],
      archiveExport: [bucket('Archive', this.archive.bucket, ['kms:Decrypt', 'kms:GenerateDataKey'])],
      upgradeItems: [bucket('LifecycleWork', this.workBucket, ['kms:GenerateDataKey'])],
      upgradeResults: [bucket('LifecycleWork', this.workBucket, ['kms:Decrypt'])],
      audit: props.auditBucket ? [bucket('AuditRecords', props.auditBucket, ['kms:GenerateDataKey'])] : [],
    };
  }

  /** Each wildcard a capability needs, acknowledged on the one policy that carries it. */
  private acknowledgeWildcards(fn: LambdaFunction, caps: Capability[], props: TenantLifecycleProps, platformIsManagement: boolean): void {
    const wildcard = (arn: string, reason: string) => acknowledge(fn.managedPolicy, [wildcardResourceFinding(this, arn)], reason);
    if (caps.includes('tenantAccounts') && platformIsManagement) {
      wildcard(roleArn(Aws.PARTITION, '*', props.config.roles.provisioningRoleName),
        'Tenant accounts are created at run time; the pattern admits only the provisioning role Organizations creates in each of them, and each session is named after its tenant and step.');
    }
    if (caps.includes('organizations') && platformIsManagement) {
      const { managementAccountId, organizationId } = props.config.organization;
      acknowledge(fn.managedPolicy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]', ...organizationResourceArns(managementAccountId, organizationId).map((arn) => wildcardResourceFinding(this, arn))],
        'CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus, ListRoots, ListPolicies and ListAccounts have no resource type; every other Organizations action is scoped to this organization\'s accounts, OUs and root, which exist only at run time, and to tessera-quarantine (and the listed external quarantine SCPs) by ARN.');
    }
    if (caps.includes('regionOptIn') && platformIsManagement && accountTierOptInRegions(props.config).length > 0) {
      wildcard(memberAccountArns(props.config.organization.managementAccountId, props.config.organization.organizationId),
        'Tenant accounts are created at run time: account:EnableRegion and account:GetRegionOptStatus on this organization\'s member accounts only, for the opt-in regions the config\'s account tiers use (account:TargetRegion).');
    }
    if (caps.includes('alternateContacts') && platformIsManagement && configuredAlternateContactTypes(props.config.tiers).length > 0) {
      wildcard(memberAccountArns(props.config.organization.managementAccountId, props.config.organization.organizationId),
        'Tenant accounts are created at run time: account:PutAlternateContact on this organization\'s member accounts only, for the contact types the config\'s tiers set (account:AlternateContactTypes).');
    }
    if (caps.includes('namespaceStacks') && props.namespaceDeployerRole) {
      wildcard(namespaceStackArns(this),
        'Namespace stacks are named tessera-<tenant>-namespace and created per tenant at run time; the pattern admits nothing else, and CloudFormation appends a stack id.');
    }
    if ((caps.includes('namespaceStacks') && props.namespaceDeployerRole) || ((caps.includes('namespaceDeployers') || caps.includes('namespaceDeployerRemoval')) && props.namespaceDeployerScope)) {
      wildcard(Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: namespaceDeployerRoleName('*') }),
        'Each shared-compute tenant gets its own namespace deployer, tessera-<tenant>-namespace-deployer, made at run time; the pattern admits only those names, created and deleted only with the shared deployer policy as their boundary, passed only to CloudFormation.');
    }
    if (caps.includes('templates')) {
      wildcard(props.blueprintBucket.arnForObjects('blueprints/*'), 'Blueprint templates are published under blueprints/<version>/ by each deployment; reads are limited to that prefix of the catalog.');
    }
    if (caps.includes('interimTemplates')) {
      wildcard(props.blueprintBucket.arnForObjects('blueprints/*/interim/*'), 'Interim templates (a published tier template with the cache\'s failover off, lambdas/lifecycle/cache-failover-interim.ts) are written beside it under blueprints/<version>/interim/; writes are limited to those folders of the catalog.');
    }
    if (caps.includes('usageKeys')) {
      acknowledge(fn.managedPolicy, ['/tags/*', '/apikeys/*', '/usageplans/*/keys', '/usageplans/*/keys/*'].map((path) => wildcardResourceFinding(this, apigatewayArn(path))),
        'Usage keys and their plan memberships are created per tenant at run time; API Gateway names them by generated ids, so the paths are patterns within this region\'s API Gateway only.');
    }
    if (caps.includes('usagePlanKeys')) {
      acknowledge(fn.managedPolicy, ['/usageplans/*/keys', '/usageplans/*/keys/*'].map((path) => wildcardResourceFinding(this, apigatewayArn(path))),
        'A tenant\'s usage key moves between the tiers\' usage plans when a tier is recorded from its stack\'s standing; API Gateway names plans and keys by generated ids, so the paths are patterns within this region\'s API Gateway only (no key is created or deleted).');
    }
    if (caps.includes('upgradeResults')) {
      wildcard(this.workBucket.arnForObjects('upgrades/*/results/*'), 'Each rolling upgrade\'s Distributed Map writes its manifest and result files under upgrades/<requestId>/results/<map run id>/, named at run time; only reads, only there.');
    }
    if (caps.includes('namespaceDrift') && props.namespaceDeployerRole) {
      acknowledge(fn.managedPolicy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
        'cloudformation:DescribeStackDriftDetectionStatus is addressed by a detection id and has no resource type; it only reads the status of a drift detection.');
      if (!caps.includes('namespaceStacks')) {
        wildcard(namespaceStackArns(this), 'Namespace stacks are named tessera-<tenant>-namespace and created per tenant at run time; drift detection may only read them.');
      }
    }
    if (caps.includes('upgradeItems')) {
      wildcard(this.workBucket.arnForObjects('upgrades/*/items.json'), 'Each rolling upgrade writes its item list under its own prefix upgrades/<requestId>/, chosen at run time; nothing else in the work bucket.');
    }
    if (caps.includes('leases')) {
      wildcard(lifecycleExecutionArns(this), 'A lease names the execution holding a tenant; executions of the tessera-* state machines (and the upgrade\'s child executions) are named per attempt at run time; only DescribeExecution is allowed on them.');
    }
    if (caps.includes('stoppedHistory')) {
      for (const arn of leaseWorkflowExecutionArns(this)) {
        wildcard(arn, 'The executions of one lease-holding lifecycle workflow (and the rolling upgrade\'s child executions), named per attempt at run time; only GetExecutionHistory, to name the state a stopped execution was in.');
      }
    }
    if (caps.includes('audit') && props.auditBucket) {
      acknowledge(fn.managedPolicy, lifecycleAuditRecords(props.auditBucket).map((arn) => wildcardResourceFinding(this, arn)), 'Lifecycle audit records are written one object per action under tessera-audit/lifecycle/<tenant>/ (tessera-audit/dr-tier/lifecycle/<tenant>/ for tiers with a DR region), keys chosen at run time; the bucket\'s Object Lock makes them immutable.');
    }
    if (caps.includes('archive')) {
      wildcard(this.archive.bucket.arnForObjects('*'), 'Exports are written under <tenant>/<date>/ keys chosen at run time, in the archive bucket and nowhere else.');
    }
    if (caps.includes('archiveExport')) {
      wildcard(this.archive.bucket.arnForObjects('*'),
        'The offboarding export writes (whole or by multipart upload, listing and aborting its own uploads) under <tenant>/<time>/ keys named after the tenant\'s objects at run time, in the archive bucket and nowhere else; Object Lock keeps what it wrote.');
      wildcard(this.archive.bucket.arnForObjects(EXPORT_MANIFEST_PARTS),
        'The export\'s verification reads back the manifest parts it wrote, <tenant>/<time>/manifest/part-<n>.jsonl, named at run time; no other archive object is readable.');
    }
  }
}

/** Where the lifecycle writes its audit records: the home-only prefix and the DR tiers' (replicated with platformDisasterRecovery), lib/audit-prefixes.ts. */
const lifecycleAuditRecords = (bucket: s3.IBucket): string[] => [false, true].map((drTier) => bucket.arnForObjects(`${auditStreamPrefix('lifecycle', drTier)}*`));

/** The manifest parts of every export (`<tenant>/<time>/manifest/part-<nnnnn>.jsonl`): the one thing in the archive the export reads. */
const EXPORT_MANIFEST_PARTS = '*/manifest/part-*.jsonl';
/** ListBucket on the archive only under one export's prefix (`<tenant>/<time>/`), never the whole bucket. */
const EXPORT_PREFIX_PATTERN = '?*/?*/';

const apigatewayArn = (path: string) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::${path}`;

/** A lifecycle state machine's ARN from the name LifecycleWorkflows gives it (`tessera-<name>`), without a reference to it. */
const stateMachineArnByName = (scope: Construct, name: `tessera-${string}`) => Stack.of(scope).formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

/** The change state machine (LifecycleWorkflows names it tessera-change). */
const changeStateMachineArn = (scope: Construct) => stateMachineArnByName(scope, 'tessera-change');

/** Every execution of the lifecycle state machines (tessera-*), the rolling upgrade's children included. */
export const lifecycleExecutionArns = (scope: Construct) => Stack.of(scope).formatArn({ service: 'states', resource: 'execution', resourceName: 'tessera-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });

/** The state machines whose executions take a tenant's lease (LifecycleWorkflows' names; the drift workflow takes none). */
const LEASE_WORKFLOWS = ['tessera-onboard', 'tessera-change', 'tessera-status', 'tessera-offboard', 'tessera-upgrade'] as const;

/**
 * The executions of the lease-holding workflows, each `arn:<partition>:states:<region>:<account>:execution:<state machine>:*`,
 * and the rolling upgrade's child executions (its Distributed Map's, `execution:tessera-upgrade/<map run>:<name>`).
 */
const leaseWorkflowExecutionArns = (scope: Construct): string[] => [
  ...LEASE_WORKFLOWS.map((name) => Stack.of(scope).formatArn({ service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
  Stack.of(scope).formatArn({ service: 'states', resource: 'execution', resourceName: 'tessera-upgrade/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
];

const namespaceStackArns = (scope: Construct) => Stack.of(scope).formatArn({ service: 'cloudformation', resource: 'stack', resourceName: 'tessera-*-namespace/*' });
