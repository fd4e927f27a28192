/**
 * Names that the blueprint, the lifecycle workflow and the gateway must agree on. They work on
 * plain strings and on CloudFormation tokens alike (CDK concatenates string tokens).
 */

export const TENANT_ID_TAG = 'tessera:tenant-id';
export const TIER_TAG = 'tessera:tier';

/**
 * DNS-safe, short enough for every resource name built from it (IAM 64, ElastiCache user 40), and
 * without two hyphens in a row, which RDS refuses in a DB instance identifier (`tessera-<tenant>`).
 */
export const TENANT_ID_PATTERN = '^(?!.*--)[a-z][a-z0-9-]{1,22}[a-z0-9]$';

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

/** The tenant database's instance identifier (fixed, so its log groups can be created under the tenant key first). */
export function databaseInstanceIdentifier(tenantId: string): string {
  return `tessera-${tenantId}`;
}

export function dedicatedClusterName(tenantId: string): string {
  return `tessera-${tenantId}`;
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/**
 * IAM path of the AWS service roles a blueprint creates (EKS cluster and nodes, VPC flow logs, RDS
 * Enhanced Monitoring, AWS Backup). The quarantine SCP admits sessions of roles on this path, so
 * AWS can act for the tenant while its account is still fenced; tenant roles never carry it.
 */
export const SERVICE_ROLE_PATH = '/tessera/service-role/';

/** Stack of the per-account baseline (the blueprint execution role), deployed before any tenant stack of an account. */
export const ACCOUNT_BASELINE_STACK_NAME = 'tessera-account-baseline';

/** File name of the account baseline template in the blueprint catalog (`blueprints/<version>/<file>`). */
export const ACCOUNT_BASELINE_FILE_NAME = 'account-baseline.template.json';

/**
 * Tenant blueprint parameter that switches the database's deletion protection (`true` | `false`,
 * default `true`): the onboarding creates the stack with `false` and updates it to `true` once the
 * create has succeeded (see TenantStack).
 */
export const DATABASE_DELETION_PROTECTION_PARAMETER = 'DatabaseDeletionProtection';
