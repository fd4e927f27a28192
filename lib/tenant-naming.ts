/**
 * Names that the blueprint, the lifecycle workflow and the gateway must agree on. They work on
 * plain strings and on CloudFormation tokens alike (CDK concatenates string tokens).
 */

export const TENANT_ID_TAG = 'tessera:tenant-id';
export const TIER_TAG = 'tessera:tier';

/** DNS-safe, short enough for every resource name built from it (IAM 64, ElastiCache user 40). */
export const TENANT_ID_PATTERN = '^[a-z][a-z0-9-]{1,22}[a-z0-9]$';

export type TenantRolePurpose = 'workload' | 'admin' | 'training' | 'training-launcher' | 'model-invoker' | 'break-glass' | 'pod-bridge';

export function tenantRoleName(tenantId: string, purpose: TenantRolePurpose): string {
  return `tessera-${tenantId}-${purpose}`;
}

/** The tenant's namespace on the shared cluster; also the value of the `kubernetes-namespace` session tag. */
export function tenantNamespace(tenantId: string): string {
  return `tenant-${tenantId}`;
}

export function tenantLogGroupPrefix(tenantId: string): string {
  return `/tessera/${tenantId}`;
}

export function dedicatedClusterName(tenantId: string): string {
  return `tessera-${tenantId}`;
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
