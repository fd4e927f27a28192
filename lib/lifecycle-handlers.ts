import { accountTierOptInRegions } from './config/region-opt-in.js';

/**
 * The lifecycle Lambdas: one handler file each under lambdas/lifecycle/. The CDK construct makes
 * one function per entry; the integration tests map each state of a synthesized state machine to
 * the same file to run the real handler locally.
 */
export const LIFECYCLE_HANDLERS = [
  'validate-request', 'register-tenant', 'acquire-account-slot', 'release-account-slot', 'create-account',
  'check-account-status', 'quarantine-account', 'verify-provisioning-access', 'allocate-network', 'deploy-blueprint',
  'check-stack', 'wire-tenant', 'activate-tenant', 'record-failure', 'set-status', 'begin-change', 'finish-change',
  'list-tier-tenants', 'begin-offboarding', 'export-tenant-data', 'snapshot-database', 'delete-tenant-stacks',
  'schedule-key-deletion', 'retire-account', 'finish-offboarding', 'process-closure-queue', 'manage-usage-key',
  'request-compute-quotas', 'lift-protections', 'inventory-retained-stores', 'process-key-deletion-queue', 'process-quota-requests',
  'end-stopped-execution', 'revoke-tenant-identities', 'summarize-upgrade', 'list-drift-tenants', 'detect-drift', 'check-drift',
  'invite-tenant-admin', 'enable-regions', 'erase-pooled-gateway-data', 'expire-pooled-gateway-data', 'deploy-customizations',
  'check-rebuilt-stack', 'delete-default-vpcs', 'enable-ebs-encryption', 'set-alternate-contacts',
  'set-s3-public-access-block', 'tag-account',
] as const;
export type LifecycleHandlerName = (typeof LIFECYCLE_HANDLERS)[number];

/**
 * The lifecycle handlers TesseraPlatform deploys with a config: every one but `enable-regions`, which exists only when an
 * account tier needs an opt-in region (lib/config/region-opt-in.ts accountTierOptInRegions: `homeRegion` or a tier's DR
 * region). Without it the onboarding and change workflows have no *Enable regions* states, the platform no function,
 * role or reserved concurrency for it, and TesseraOrganizationAccess no Account Management grant: the default config is
 * as it was. And `erase-pooled-gateway-data` only with `offboarding.erasePooledGatewayData` (lib/config/schema.ts): without
 * it the offboarding has no *Erase pooled gateway data* state and the tenant-data role does not trust the function;
 * `expire-pooled-gateway-data` only without it (the default): the offboarding's *Expire pooled gateway data* in its place,
 * which gives what the tenant leaves in the pooled stores an expiry. One of the two is always deployed. And
 * `deploy-customizations` only when a tier has `accountCustomizations`: without, no *Deploy customizations* states. And
 * `delete-default-vpcs` only when a tier has `deleteDefaultVpcs`: without, no *Delete default VPCs* state. And
 * `enable-ebs-encryption` only when a tier has `ebsEncryptionByDefault`: without, no *Enable EBS encryption by default* state.
 * And `set-alternate-contacts` only when a tier has `alternateContacts`: without, no *Set alternate contacts* state.
 * And `set-s3-public-access-block` only when a tier has `s3PublicAccessBlock`: without, no *Set S3 Block Public Access* state.
 */
export function deployedLifecycleHandlers(config: Parameters<typeof accountTierOptInRegions>[0] & { offboarding?: { erasePooledGatewayData?: boolean }; tiers: Record<string, { accountCustomizations?: readonly unknown[]; deleteDefaultVpcs?: boolean; ebsEncryptionByDefault?: boolean; alternateContacts?: object; s3PublicAccessBlock?: boolean }> }): LifecycleHandlerName[] {
  const optIn = accountTierOptInRegions(config).length > 0;
  const erase = config.offboarding?.erasePooledGatewayData === true;
  const customized = Object.values(config.tiers).some((t) => (t.accountCustomizations?.length ?? 0) > 0);
  const defaultVpcs = Object.values(config.tiers).some((t) => t.deleteDefaultVpcs === true);
  const ebsEncryption = Object.values(config.tiers).some((t) => t.ebsEncryptionByDefault === true);
  const alternateContacts = Object.values(config.tiers).some((t) => t.alternateContacts !== undefined);
  const s3PublicAccessBlock = Object.values(config.tiers).some((t) => t.s3PublicAccessBlock === true);
  return LIFECYCLE_HANDLERS.filter((h) => (h !== 'enable-regions' || optIn) && (h !== 'erase-pooled-gateway-data' || erase) && (h !== 'expire-pooled-gateway-data' || !erase)
    && (h !== 'deploy-customizations' || customized) && (h !== 'delete-default-vpcs' || defaultVpcs)
    && (h !== 'enable-ebs-encryption' || ebsEncryption) && (h !== 'set-alternate-contacts' || alternateContacts)
    && (h !== 'set-s3-public-access-block' || s3PublicAccessBlock));
}

/** Role names of the lifecycle functions; the organization access role trusts this prefix. */
export const LIFECYCLE_ROLE_PREFIX = 'tessera-lifecycle-';
export const lifecycleRoleName = (handler: LifecycleHandlerName) => `${LIFECYCLE_ROLE_PREFIX}${handler}`;

/** The role in the management account through which the platform calls Organizations. */
export const ORGANIZATION_ACCESS_ROLE_NAME = 'TesseraOrganizationAccess';

