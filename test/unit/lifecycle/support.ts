import type { TenantRecord } from '../../../lib/tenant-record.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { configWith } from '../../support/synth.js';

export const config = configWith();

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

export const state = (tenantId = 'acme', extra: Record<string, unknown> = {}) => ({
  executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:1',
  request: { tenantId, name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com', requestId: 'req-acme-0001', isolation: 'vpc' as const, computeMode: 'shared' as const },
  ...extra,
});

export const credentials = { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3600_000) };
