import type { Tag } from '@aws-sdk/client-cloudformation';
import { LIFECYCLE_OPERATIONS, type LifecycleKind, type TenantLease, type TenantRecord, type TenantStatus } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
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
