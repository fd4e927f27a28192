import { CfnOutput, NestedStack, Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import { AccessLogsBucket } from '../constructs/access-logs-bucket.js';
import { AdminApi } from '../constructs/admin-api.js';
import { ApiKeysTable } from '../constructs/api-keys-table.js';
import { InferenceApi } from '../constructs/inference-api.js';
import { FineTuning } from '../constructs/fine-tuning.js';
import { AuditTrail } from '../constructs/audit-trail.js';
import { organizationTrailOf } from './config/organization-trail.js';
import { BlueprintCatalog } from '../constructs/blueprint-catalog.js';
import { BreakGlassRole } from '../constructs/break-glass-role.js';
import { CorsOriginIndex } from '../constructs/cors-origin-index.js';
import { placeEventRulesIn } from '../constructs/event-rule-home.js';
import { placeFunctionPoliciesIn } from '../constructs/lambda-function.js';
import { LifecycleEventBus } from '../constructs/lifecycle-event-bus.js';
import { PlatformAdminAccess } from '../constructs/platform-admin-access.js';
import { PlatformKey } from '../constructs/platform-key.js';
import { PlatformMonitoring } from '../constructs/platform-monitoring.js';
import { ResponsesTable } from '../constructs/responses-table.js';
import { SharedCluster } from '../constructs/shared-cluster.js';
import { TenantLifecycle } from '../constructs/tenant-lifecycle.js';
import { TenantStatements } from '../constructs/tenant-statements.js';
import { ReservationReclaim } from '../constructs/reservation-reclaim.js';
import { TenantDataAccessRole } from '../constructs/tenant-data-access-role.js';
import { TenantRegistry } from '../constructs/tenant-registry.js';
import { RestoreTestRecorder } from '../constructs/restore-test-recorder.js';
import { InfrastructureBudgetEvents } from '../constructs/infrastructure-budget-events.js';
import { disasterRecoveryOf } from './config/disaster-recovery.js';
import { configuredZones, stackZones } from './config/availability-zones.js';
import type { PlatformConfig } from './config/schema.js';
import { platformDrRegion } from './platform-dr-naming.js';
import { WORKLOAD_PROVISIONING_FILE_NAME } from './tenant-naming.js';

export interface PlatformStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** Blueprint templates by file name, published to the catalog. */
  readonly blueprintTemplates: Record<string, unknown>;
  readonly blueprintVersion: string;
}

/** The platform account: registry, lifecycle bus, audit trail, break-glass, shared cluster, blueprint catalog, inference API (with its responses, API keys and CORS origin tables, and the tenant user pool's role groups). */
export class PlatformStack extends Stack {
  readonly registry: TenantRegistry;
  readonly events: LifecycleEventBus;
  readonly audit: AuditTrail;
  readonly catalog: BlueprintCatalog;
  readonly lifecycle: TenantLifecycle;
  /** The platform's KMS key (registry, bus, audit, catalog, tables, queues, topics). */
  readonly key: IKey;
  readonly inference: InferenceApi;
  readonly admin: AdminApi;
  readonly fineTuning: FineTuning;
  readonly apiKeys: ApiKeysTable;
  readonly responses: ResponsesTable;
  readonly corsOrigins: CorsOriginIndex;
  /**
   * Operations (dashboards, alarms, tenant statements) in a nested stack: the platform stack is
   * close to CloudFormation's 500 resources per stack, and a nested stack takes references from
   * its parent as parameters (no cross-stack exports that would pin the platform's resources).
   */
  readonly operations: NestedStack;
  /**
   * The managed policy of every Lambda of this stack (LambdaFunction), in a nested stack: their
   * permissions, one unnamed policy per function (docs/measured.md "Room in TesseraPlatform").
   */
  readonly functionPolicies: NestedStack;
  /**
   * The platform's EventBridge rules (the lifecycle's schedules and event rules, fine-tuning's state changes, the
   * budget alert mail's) with their Lambda invoke permissions, in a nested stack: unnamed and stateless, so they move
   * without a replacement of anything that holds data (constructs/event-rule-home.ts; docs/measured.md "Room in
   * TesseraPlatform").
   */
  readonly eventRules: NestedStack;
  /**
   * The tenants' namespace kubectl provider (constructs/namespace-kubectl-provider.ts: its handler, role, policy, AWS CLI
   * layer, provider framework), its SSM parameter and the kubectl layer the shared cluster's provider runs with too, in a
   * nested stack, with a tier of shared compute only: stateless, and 11 resources TesseraPlatform has no room for
   * (docs/measured.md "Room in TesseraPlatform"). Undefined without a tier of shared compute.
   */
  readonly namespaceKubectl?: NestedStack;
  /** The shared cluster's Cluster Autoscaler (constructs/cluster-autoscaler.ts), with a tier of shared compute only. */
  readonly clusterAutoscaler?: NestedStack;
  /** Monthly tenant statements (bucket, job, dead-letter queue), in the operations stack. */
  readonly statements: TenantStatements;
  /** The daily release of reservations whose router Lambda died (constructs/reservation-reclaim.ts), in Operations. */
  readonly reservationReclaim: ReservationReclaim;
  private zones: string[] = [];

  /** The home region's zones from the config (`availabilityZones`), never a lookup: synth needs no credentials. */
  override get availabilityZones(): string[] {
    return this.zones;
  }

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.zones = stackZones(config, config.homeRegion);
    this.functionPolicies = new NestedStack(this, 'FunctionPolicies', { description: 'Tessera: the managed policy of each platform Lambda (its permissions), and of the break-glass and tenant-data roles' });
    placeFunctionPoliciesIn(this, this.functionPolicies);
    this.eventRules = new NestedStack(this, 'EventRules', { description: 'Tessera: the platform\'s EventBridge rules (lifecycle schedules and events, fine-tuning state changes, budget alert mail) and their Lambda invoke permissions' });
    placeEventRulesIn(this, this.eventRules);
    const key = this.key = new PlatformKey(this, 'PlatformKey', {
      archiveCopiers: { organizationId: config.organization.organizationId, provisioningRoleName: config.roles.provisioningRoleName },
    }).key;
    const accessLogs = new AccessLogsBucket(this, 'AccessLogs', { logsOf: 'the audit, blueprint and batch files buckets' }).bucket;

    // platformDisasterRecovery: registry backups copied and audit objects replicated to TesseraPlatformDr's resources.
    const drRegion = platformDrRegion(config);
    this.registry = new TenantRegistry(this, 'Registry', { encryptionKey: key, drRegion });
    this.events = new LifecycleEventBus(this, 'LifecycleEvents', { encryptionKey: key });
    this.audit = new AuditTrail(this, 'Audit', {
      encryptionKey: key,
      accessLogsBucket: accessLogs,
      objectLockRetentionDays: config.audit.objectLockRetentionDays,
      logRetention: config.audit.logRetentionDays,
      organizationTrail: organizationTrailOf(config).organizationTrail,
      organizationId: config.organization.organizationId,
      managementAccountId: config.organization.managementAccountId,
      replicationRegion: drRegion,
    });
    const breakGlass = new BreakGlassRole(this, 'BreakGlass', { roleName: config.roles.breakGlassRoleName, organizationId: config.organization.organizationId });

    // Created before the shared cluster, which puts its Cluster Autoscaler's nested stack in it.
    this.operations = new NestedStack(this, 'Operations', { description: 'Tessera operations: dashboards, alarms, tenant statements' });
    let shared: SharedCluster | undefined;
    if (Object.values(config.tiers).some((t) => t.compute.mode === 'shared')) {
      shared = new SharedCluster(this, 'SharedCompute', {
        cluster: config.sharedCluster,
        cidr: config.platformNetwork.cidr,
        maxAzs: config.platformNetwork.maxAzs,
        availabilityZones: configuredZones(config, config.homeRegion),
        encryptionKey: key,
        adminRoleArns: [breakGlass.role.roleArn],
        namespaceKubectlScope: this.namespaceKubectl = new NestedStack(this, 'NamespaceKubectl', {
          description: 'Tessera: the kubectl provider of the tenants\' namespaced objects (acts as each tenant\'s namespace-scoped kubectl role)',
        }),
        // In Operations, not beside it: TesseraPlatform keeps its room (docs/measured.md "Room in TesseraPlatform").
        clusterAutoscalerScope: this.clusterAutoscaler = new NestedStack(this.operations, 'ClusterAutoscaler', {
          description: 'Tessera: the shared cluster\'s Cluster Autoscaler (image cache, Pod Identity role and policy, kube-system manifest)',
        }),
      });
    }

    this.catalog = new BlueprintCatalog(this, 'Blueprints', {
      organizationId: config.organization.organizationId,
      accessLogsBucket: accessLogs,
      encryptionKey: key,
      version: props.blueprintVersion,
      templates: props.blueprintTemplates,
    });

    // Tenant API keys: the gateway (as the tenant), the admin API and offboarding reach them.
    const apiKeys = this.apiKeys = new ApiKeysTable(this, 'ApiKeys', { encryptionKey: key });
    // A failover keeps the tenants' keys: the table's hourly copies go to the DR region with the registry's.
    this.registry.copyToDrRegion(apiKeys.table);
    const responses = this.responses = new ResponsesTable(this, 'Responses', { encryptionKey: key });
    const corsOrigins = this.corsOrigins = new CorsOriginIndex(this, 'CorsOrigins', { encryptionKey: key, registry: this.registry.table });
    const inference = this.inference = new InferenceApi(this, 'Inference', {
      config, encryptionKey: key, registry: this.registry.table, auditBucket: this.audit.bucket, responsesTable: responses.table, corsOriginsTable: corsOrigins.table,
      apiKeysTable: apiKeys.table, eventBus: this.events.bus, accessLogsBucket: accessLogs, breakGlassRoleArn: breakGlass.role.roleArn,
    });

    // Budgets survive a failover: the usage ledger's hourly copies go to the DR region with the
    // registry's (restored with it: tessera tenants failover-plan step 3), so spending counts from
    // at most an hour back instead of from zero.
    this.registry.copyToDrRegion(inference.usageTable);

    // Before the lifecycle (offboarding invokes its events Lambda) and the admin API (its statement route reads the jobs table).
    const fineTuning = this.fineTuning = new FineTuning(this, 'FineTuning', { config, encryptionKey: key, inference, eventBus: this.events.bus, auditBucket: this.audit.bucket });
    this.lifecycle = new TenantLifecycle(this, 'Lifecycle', {
      config,
      blueprintVersion: props.blueprintVersion,
      encryptionKey: key,
      registry: this.registry.table,
      eventBus: this.events.bus,
      blueprintBucket: this.catalog.bucket,
      accessLogsBucket: accessLogs,
      namespaceDeployerRole: shared?.namespaceDeployerRole,
      namespaceDeployerScope: shared?.namespaceDeployerScope,
      auditBucket: this.audit.bucket,
      apiKeysTable: apiKeys.table,
      userPool: inference.userPool,
      fineTuningEvents: fineTuning.eventsFunction,
      pooledGatewayData: { responsesTable: responses.table, batchFilesBucket: inference.batches.bucket },
    });

    const admin = this.admin = new AdminApi(this, 'Admin', {
      config, encryptionKey: key, registry: this.registry.table, controlTable: this.lifecycle.controlTable, workflows: this.lifecycle.workflows,
      blueprintCatalog: this.catalog.bucket, blueprintVersion: props.blueprintVersion,
      apiKeysTable: apiKeys.table, usageTable: inference.usageTable, userPool: inference.userPool, eventBus: this.events.bus, jobsTable: fineTuning.jobsTable,
      auditBucket: this.audit.bucket,
    });
    // The inference API's stage logs (execution and access logs) through the Region's API Gateway account setting,
    // which the admin API creates: on a first deploy it must exist first, or API Gateway refuses the stage with
    // "CloudWatch Logs role ARN must be set in account settings to enable logging"
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html: "To enable CloudWatch Logs,
    // you must grant API Gateway permission to read and write logs to CloudWatch for your account").
    inference.api.deploymentStage.node.addDependency(admin.cloudWatchLogsAccountSetting);
    new CfnOutput(this, 'AdminApiUrl', { value: admin.api.url });
    const adminAccess = new PlatformAdminAccess(this, 'PlatformAdmins', { adminApi: admin.api });
    new CfnOutput(this, 'PlatformAdminPolicyArn', { value: adminAccess.policy.managedPolicyArn, description: 'Customer-managed policy of the TesseraPlatformAdmin permission set (tessera admins create)' });
    new CfnOutput(this, 'InferenceApiUrl', { value: `${inference.api.url}v1` });
    new TenantDataAccessRole(this, 'TenantData', {
      registry: this.registry.table, usageTable: inference.usageTable, jobsTable: fineTuning.jobsTable, responsesTable: responses.table, apiKeysTable: apiKeys.table, encryptionKey: key,
      batchFilesBucket: inference.batches.bucket,
      // GET /v1/tenant/requests/{request_id}: the router reads a tenant's own gateway records as that tenant.
      auditBucket: this.audit.bucket,
      // With offboarding.erasePooledGatewayData, the offboarding's *Erase pooled gateway data* acts as each tenant it erases.
      trustedFunctions: [...inference.tenantDataFunctions, ...fineTuning.tenantDataFunctions, ...this.lifecycle.tenantDataFunctions],
    });
    // audit.dataEvents: the pooled tenant data of the platform account is the Batch API's files and the offboarding archive.
    this.audit.recordDataEvents(config.audit.dataEvents, [inference.batches.bucket, this.lifecycle.archive.bucket]);
    this.statements = new TenantStatements(this.operations, 'Statements', { encryptionKey: key, accessLogsBucket: accessLogs, registry: this.registry.table, usageTable: inference.usageTable, jobsTable: fineTuning.jobsTable, eventBus: this.events.bus });
    // The gateway's daily job beside the monthly one, in Operations (TesseraPlatform's room: docs/measured.md "Room in TesseraPlatform").
    this.reservationReclaim = new ReservationReclaim(this.operations, 'ReservationReclaim', { encryptionKey: key, registry: this.registry.table, usageTable: inference.usageTable });
    // DR tiers' restore tests (AWS Backup events forwarded to the bus) recorded in the registry.
    if (Object.values(config.tiers).some((t) => disasterRecoveryOf(t))) new RestoreTestRecorder(this.operations, 'RestoreTests', { encryptionKey: key, registry: this.registry.table, eventBus: this.events.bus, organizationId: config.organization.organizationId });
    // Tiers' infrastructure budget alerts (each tenant's topic delivers to the queue) forwarded to the bus.
    if (Object.values(config.tiers).some((t) => t.infrastructureBudget)) new InfrastructureBudgetEvents(this.operations, 'InfrastructureBudgetEvents', { encryptionKey: key, registry: this.registry.table, eventBus: this.events.bus, organizationId: config.organization.organizationId });
    new PlatformMonitoring(this.operations, 'Monitoring', { config, encryptionKey: key, inference, admin, lifecycle: this.lifecycle, fineTuning });
    if (inference.userPool) new CfnOutput(this, 'TenantUserPoolId', { value: inference.userPool.userPoolId });
    // The gateway's app client (InferenceApi adds it as the pool's child `GatewayClient`): `tessera login` signs in through it.
    const gatewayClient = inference.userPool?.node.tryFindChild('GatewayClient') as UserPoolClient | undefined;
    if (gatewayClient) new CfnOutput(this, 'TenantUserPoolClientId', { value: gatewayClient.userPoolClientId });
    new CfnOutput(this, 'OnboardStateMachineArn', { value: this.lifecycle.workflows.onboard.stateMachineArn });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'LifecycleEventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'AuditBucketName', { value: this.audit.bucket.bucketName });
    new CfnOutput(this, 'BlueprintBucketName', { value: this.catalog.bucket.bucketName });
    new CfnOutput(this, 'BlueprintPrefix', { value: this.catalog.prefix });
    new CfnOutput(this, 'WorkloadProvisioningRoleTemplateUrl', {
      value: `https://${this.catalog.bucket.bucketRegionalDomainName}/${this.catalog.prefix}${WORKLOAD_PROVISIONING_FILE_NAME}`,
      description: 'Template of the workload account\'s provisioning role: deploy it there once (parameter BlueprintBucketName)',
    });
  }
}
