import type { Tag } from '@aws-sdk/client-cloudformation';
import { expect } from 'vitest';
import { LIFECYCLE_OPERATIONS, type LifecycleKind, type TenantLease, type TenantRecord, type TenantStatus } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { namespaceDeployerTrust } from '../../../lib/namespace-deployer.js';
import { configWith } from '../../support/config-with.js';

export const config = configWith();

/**
 * The default config with professional's tenant network cut as starter's is (a /22 in 2 AZs, no
 * internet egress; its own pool): a tier change between the two keeps the tenant's VPC and
 * subnets, where the default tiers' would not (lambdas/lifecycle/tier-migration.ts).
 */
export const sameNetworkConfig = configWith({ tiers: { professional: { network: { tenantVpcPrefixLength: 22, internetEgress: false } } } });

/** Sets the Lambdas' config to `c` (setLifecycleEnv, as each beforeEach runs it, sets the default back). */
export function useConfig(c: typeof config): void {
  process.env[ENV.config] = JSON.stringify(c);
}

/** The environment the TenantLifecycle construct gives the Lambdas. */
export function setLifecycleEnv(): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'unit',
    AWS_SECRET_ACCESS_KEY: 'unit',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    [ENV.config]: JSON.stringify(config),
    [ENV.registryTable]: 'tessera-tenants',
    [ENV.controlTable]: 'tessera-lifecycle-control',
    [ENV.eventBus]: 'tessera-lifecycle',
    [ENV.blueprintBucket]: 'tessera-blueprints',
    [ENV.blueprintVersion]: '1.0.0',
    [ENV.archiveBucket]: 'tessera-archive',
    [ENV.archiveKeyArn]: 'arn:aws:kms:us-east-1:222222222222:key/archive',
    [ENV.organizationRoleArn]: 'arn:aws:iam::111111111111:role/TesseraOrganizationAccess',
    [ENV.accountCreationCap]: '5',
    [ENV.keyDeletionWindowDays]: '7',
    [ENV.workBucket]: 'tessera-lifecycle-work',
    [ENV.auditBucket]: 'tessera-audit',
  });
  // A platform without the shared cluster unless a test says otherwise (useNamespaceDeployerScope).
  delete process.env[ENV.namespaceDeployerScope];
}

// Set at import: handler modules create their logger when they are imported.
setLifecycleEnv();

export function tenant(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'admin@acme.example.com', accountId: '333333333333',
    status: 'PROVISIONING', requestId: 'req-acme-0001', createdAt: '2026-11-23T00:00:00.000Z', updatedAt: '2026-11-23T00:00:00.000Z',
    stackOutputs: {}, executions: [], vpcCidr: '10.64.0.0/22',
    ...overrides,
  };
}

/** The execution of `state()`: every registry write of a step it runs needs this execution to hold the tenant's lease. */
export const EXECUTION_ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:1';
/** Another execution (another operation, or an earlier attempt). */
export const OTHER_EXECUTION_ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:other';
export const LEASED_AT = '2026-11-23T00:00:00.000Z';
/**
 * The ClientRequestToken every DeleteStack of the lifecycle carries (lambdas/lifecycle/delete-token.ts): `tessera-delete-`,
 * the operation's hash, the stack's (id, status, step). CloudFormation's own rule (1-128 of `[a-zA-Z][-a-zA-Z0-9]*`) is
 * checked by the strict mocks (test/support/strict-mock.ts) on every call; this is Tessera's form of it.
 */
export const DELETE_TOKEN: unknown = expect.stringMatching(/^tessera-delete-[0-9a-f]{24}-[0-9a-f]{16}$/);

/** The status a tenant had before an operation of `kind` took its lease (the first of the kind's `from`, ACTIVE where allowed). */
const previousOf = (kind: LifecycleKind): TenantStatus => {
  const from = LIFECYCLE_OPERATIONS[kind].from as readonly TenantStatus[];
  return from.includes('ACTIVE') ? 'ACTIVE' : from[0];
};

/** The lease an operation of `kind` holds on acme. */
export function lease(kind: LifecycleKind = 'onboard', executionArn = EXECUTION_ARN, extra: Partial<TenantLease> = {}): TenantLease {
  return { kind, executionArn, requestId: 'req-acme-0001', acquiredAt: LEASED_AT, previousStatus: previousOf(kind), ...extra };
}

/**
 * A record as acquireLease leaves it for `kind` run by `executionArn` (default: the execution of
 * `state()`): the lease, the kind's `during` status, and the execution's RUNNING history entry.
 */
export function leased(kind: LifecycleKind = 'onboard', overrides: Partial<TenantRecord> = {}, executionArn = EXECUTION_ARN): TenantRecord {
  const held = overrides.lease ?? lease(kind, executionArn);
  return tenant({
    status: LIFECYCLE_OPERATIONS[kind].during,
    lease: held,
    executions: [{ kind, requestId: held.requestId, executionArn: held.executionArn, startedAt: held.acquiredAt, status: 'RUNNING' }],
    ...overrides,
  });
}

/** The tags every tenant or namespace stack Tessera creates for acme carries (stack-ownership.ts). */
export const ownedTags = (tenantId = 'acme', requestId = 'req-acme-0001'): Tag[] => [
  { Key: 'tessera:tenant-id', Value: tenantId }, { Key: 'tessera:request-id', Value: requestId },
];

export const state = (tenantId = 'acme', extra: Record<string, unknown> = {}) => ({
  executionArn: EXECUTION_ARN,
  request: { tenantId, name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com', requestId: 'req-acme-0001', isolation: 'vpc' as const, computeMode: 'shared' as const },
  ...extra,
});

export const credentials = { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3600_000) };

/**
 * DescribeAvailabilityZones in the tenant's account (Deploy blueprint chooses the tenant VPC's zones:
 * lambdas/lifecycle/availability-zones.ts): moto's us-east-1 names and IDs, none EKS refuses among them.
 */
export const ACCOUNT_ZONES = {
  AvailabilityZones: [['a', 'use1-az6'], ['b', 'use1-az1'], ['c', 'use1-az2']].map(([letter, id]) => ({
    ZoneName: `us-east-1${letter}`, ZoneId: id, ZoneType: 'availability-zone', State: 'available' as const, RegionName: 'us-east-1',
  })),
};

/**
 * A DescribeInstanceTypeOfferings answer (LocationType `availability-zone`, filter `instance-type`)
 * in which each of `zones` offers every type asked for, except the types `lacking` names for a zone:
 * what *Deploy blueprint* reads before choosing a dedicated-cluster tenant's zones
 * (lambdas/lifecycle/instance-offerings.ts). One page, as AWS answers a short list.
 */
export function offeringsIn(zones: readonly string[], lacking: Record<string, readonly string[]> = {}) {
  return (input: { Filters?: Array<{ Name?: string; Values?: string[] }> }) => {
    const types = input.Filters?.find((f) => f.Name === 'instance-type')?.Values ?? [];
    return {
      InstanceTypeOfferings: zones.flatMap((z) => types.filter((t) => !lacking[z]?.includes(t)).map((t) => ({ InstanceType: t, LocationType: 'availability-zone' as const, Location: z }))),
    };
  };
}

/**
 * GetObject of a tier blueprint from the catalog (*Deploy blueprint* reads the template it deploys to
 * see whether it declares AvailabilityZones): a template declaring `parameters`; by default the
 * current blueprints' tenant parameters, AvailabilityZones among them.
 */
export function blueprintObject(parameters: readonly string[] = ['TenantId', 'VpcCidr', 'AvailabilityZones', 'DatabaseDeletionProtection', 'GpuNodesMinSize', 'GpuNodesDesiredSize'], zoneCount?: number, versions: { kubernetesVersion?: string; engineVersion?: string; allocatedStorageGiB?: number; maxAllocatedStorageGiB?: number; cacheNodes?: number; cacheAutomaticFailover?: boolean; cacheEngineVersion?: string; logGroupNames?: Record<string, unknown> } = {}) {
  // With `zoneCount`: a data and a compute subnet per zone, placed as constructs/network.ts does (element i of the
  // AvailabilityZones parameter, or of Fn::GetAZs in a template without it).
  const list = parameters.includes('AvailabilityZones') ? { Ref: 'AvailabilityZones' } : { 'Fn::GetAZs': '' };
  const Resources = Object.fromEntries(['data', 'compute'].flatMap((g) => Array.from({ length: zoneCount ?? 0 }, (_, i) => [
    `NetworkVpc${g}Subnet${i + 1}SubnetA1B2C3D4`, { Type: 'AWS::EC2::Subnet', Properties: { AvailabilityZone: { 'Fn::Select': [i, list] } } },
  ])));
  // With `versions`: the cluster's and the database's versions and the database's storage (version-change.ts compares them).
  if (versions.kubernetesVersion) Resources.ComputeCluster4F8E5F81 = { Type: 'AWS::EKS::Cluster', Properties: { Version: versions.kubernetesVersion } } as never;
  // (AllocatedStorage a string and MaxAllocatedStorage a number, as aws-cdk-lib renders them.)
  if (versions.engineVersion || versions.allocatedStorageGiB !== undefined || versions.maxAllocatedStorageGiB !== undefined) {
    Resources.DatabaseInstance02E622FB = { Type: 'AWS::RDS::DBInstance', Properties: {
      ...(versions.engineVersion ? { EngineVersion: versions.engineVersion } : {}),
      ...(versions.allocatedStorageGiB !== undefined ? { AllocatedStorage: String(versions.allocatedStorageGiB) } : {}),
      ...(versions.maxAllocatedStorageGiB !== undefined ? { MaxAllocatedStorage: versions.maxAllocatedStorageGiB } : {}),
    } } as never;
  }
  // (NumCacheClusters a number and AutomaticFailoverEnabled a boolean, as aws-cdk-lib renders them.)
  if (versions.cacheNodes !== undefined || versions.cacheAutomaticFailover !== undefined || versions.cacheEngineVersion) {
    Resources.CacheReplicationGroupBFE59FF3 = { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: {
      ...(versions.cacheNodes !== undefined ? { NumCacheClusters: versions.cacheNodes } : {}),
      ...(versions.cacheAutomaticFailover !== undefined ? { AutomaticFailoverEnabled: versions.cacheAutomaticFailover, MultiAZEnabled: versions.cacheAutomaticFailover } : {}),
      ...(versions.cacheEngineVersion ? { Engine: 'valkey', EngineVersion: versions.cacheEngineVersion } : {}),
    } } as never;
  }
  // With `logGroupNames`: a named AWS::Logs::LogGroup per logical id (retained-log-groups.ts).
  for (const [id, name] of Object.entries(versions.logGroupNames ?? {})) Resources[id] = { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: name } } as never;
  const body = JSON.stringify({ Parameters: Object.fromEntries(parameters.map((p) => [p, { Type: 'String' }])), Resources });
  return { Body: { transformToString: async () => body } } as never;
}

/**
 * A standing tenant stack's subnets (ListStackResources, CDK's logical IDs `…<group>Subnet<n>Subnet<hash>`)
 * and their zones (DescribeSubnets): subnet `n` of each group in `zones[n-1]`.
 */
export function standingSubnets(zones: readonly string[] = ['us-east-1a', 'us-east-1b'], groups: readonly string[] = ['data', 'compute']) {
  const subnets = groups.flatMap((g) => zones.map((zone, i) => ({ logicalId: `NetworkVpc${g}Subnet${i + 1}SubnetA1B2C3D4`, id: `subnet-${g}${i + 1}`, zone })));
  return {
    resources: { StackResourceSummaries: [
      { LogicalResourceId: 'NetworkVpc8A1E7E9F', PhysicalResourceId: 'vpc-1', ResourceType: 'AWS::EC2::VPC', ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() },
      ...subnets.map((s) => ({ LogicalResourceId: s.logicalId, PhysicalResourceId: s.id, ResourceType: 'AWS::EC2::Subnet', ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() })),
    ] },
    subnets: { Subnets: subnets.map((s) => ({ SubnetId: s.id, AvailabilityZone: s.zone })) },
  };
}

/** What the platform stack hands the lifecycle for each tenant's own namespace deployer (lib/namespace-deployer.ts). */
export const NAMESPACE_DEPLOYER_SCOPE = {
  boundaryArn: 'arn:aws:iam::222222222222:policy/TesseraPlatform-NamespaceDeployerPolicy-ABC123',
  clusterArn: 'arn:aws:eks:us-east-1:222222222222:cluster/tessera-shared',
  kubectlServiceToken: 'arn:aws:lambda:us-east-1:222222222222:function:TesseraPlatform-KubectlProviderframeworkonEvent-XYZ',
  namespaceKubectlServiceToken: 'arn:aws:lambda:us-east-1:222222222222:function:TesseraPlatform-NamespaceKubectlProviderframeworkonEvent-UVW',
  podBridgeBoundaryArn: 'arn:aws:iam::222222222222:policy/TesseraPodBridgeBoundary',
};

/** Sets TESSERA_NAMESPACE_DEPLOYER_SCOPE, as the TenantLifecycle construct does on a platform with the shared cluster. */
export function useNamespaceDeployerScope(): void {
  process.env[ENV.namespaceDeployerScope] = JSON.stringify(NAMESPACE_DEPLOYER_SCOPE);
}

/**
 * GetRole's (and CreateRole's) answer for tenant `tenantId`'s namespace deployer, made by the lifecycle: its boundary the
 * scope's, its trust the lifecycle's (CloudFormation of the platform account), URL-encoded as IAM answers it.
 */
export function namespaceDeployerRole(tenantId: string) {
  const name = `tessera-${tenantId}-namespace-deployer`;
  return {
    Role: {
      RoleName: name, Arn: `arn:aws:iam::222222222222:role/${name}`, Path: '/', RoleId: 'AROAEXAMPLE000000000', CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(namespaceDeployerTrust('222222222222'))),
      PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: NAMESPACE_DEPLOYER_SCOPE.boundaryArn },
    },
  };
}
