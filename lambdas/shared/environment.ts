import { PlatformConfigSchema, type PlatformConfig, type TierConfig } from '../../lib/config/schema.js';

/** Environment of the lifecycle Lambdas, set by the TenantLifecycle construct (and by tests). */
export const ENV = {
  config: 'TESSERA_PLATFORM_CONFIG',
  registryTable: 'TESSERA_REGISTRY_TABLE',
  controlTable: 'TESSERA_CONTROL_TABLE',
  eventBus: 'TESSERA_EVENT_BUS',
  blueprintBucket: 'TESSERA_BLUEPRINT_BUCKET',
  blueprintVersion: 'TESSERA_BLUEPRINT_VERSION',
  archiveBucket: 'TESSERA_ARCHIVE_BUCKET',
  archiveKeyArn: 'TESSERA_ARCHIVE_KEY_ARN',
  organizationRoleArn: 'TESSERA_ORGANIZATION_ROLE_ARN',
  /** The shared cluster and boundaries of the per-tenant namespace deployers (JSON, lib/namespace-deployer.ts NamespaceDeployerScope). */
  namespaceDeployerScope: 'TESSERA_NAMESPACE_DEPLOYER_SCOPE',
  accountCreationCap: 'TESSERA_ACCOUNT_CREATION_CAP',
  keyDeletionWindowDays: 'TESSERA_KEY_DELETION_WINDOW_DAYS',
  onboardStateMachineArn: 'TESSERA_ONBOARD_STATE_MACHINE_ARN',
  changeStateMachineArn: 'TESSERA_CHANGE_STATE_MACHINE_ARN',
  statusStateMachineArn: 'TESSERA_STATUS_STATE_MACHINE_ARN',
  offboardStateMachineArn: 'TESSERA_OFFBOARD_STATE_MACHINE_ARN',
  /** The drift workflow (tessera-drift): the admin API's POST /admin/drift starts it. */
  driftStateMachineArn: 'TESSERA_DRIFT_STATE_MACHINE_ARN',
  /** The rolling upgrade (tessera-upgrade): the admin API's POST /admin/upgrades starts it, GET /admin/upgrades/{upgradeId} reads it. */
  upgradeStateMachineArn: 'TESSERA_UPGRADE_STATE_MACHINE_ARN',
  /** The lifecycle work bucket: rolling-upgrade item lists (`upgrades/<requestId>/items.json`) and results. */
  workBucket: 'TESSERA_LIFECYCLE_WORK_BUCKET',
  /** The immutable audit bucket; lifecycle records go under `tessera-audit/lifecycle/<tenant>/` (`tessera-audit/dr-tier/lifecycle/<tenant>/` for tiers with a DR region). Optional. */
  auditBucket: 'TESSERA_AUDIT_BUCKET',
  /** The tenant API keys table (partition key `tenantId`, sort key `keyHash`): the admin API's keys routes. */
  apiKeysTable: 'TESSERA_API_KEYS_TABLE',
  /** The platform's Cognito pool of tenant users (admin API users routes, offboarding); unset with an external identity provider. */
  userPoolId: 'TESSERA_USER_POOL_ID',
} as const;

/** The partition of the region the Lambda runs in (`aws`, `aws-cn`, `aws-us-gov`): ARNs built at run time use it. */
export function partition(region = process.env.AWS_REGION ?? ''): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * An environment variable the deployed stack sets is missing (or empty): the function's configuration is wrong, not the
 * request. The message stays `environment variable <NAME> is not set`; `variable` names it for the handlers that answer
 * with it (the admin API: 500 `configuration_error` naming it, logged as a configuration error).
 */
export class MissingEnvironmentError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
  }
}

/**
 * The value of environment variable `name`.
 * @throws MissingEnvironmentError when it is unset or empty
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new MissingEnvironmentError(name);
  return value;
}

let cachedConfig: { raw: string; config: PlatformConfig } | undefined;

/** The platform config the app was synthesized with (validated again: a bad value fails loudly). */
export function platformConfig(): PlatformConfig {
  // Spelled out (not process.env[name]) so that esbuild's `define` can inline it at bundling:
  // the config is larger than Lambda's 4 KB environment allows.
  const raw = process.env.TESSERA_PLATFORM_CONFIG;
  if (!raw) throw new Error(`environment variable ${ENV.config} is not set`);
  if (cachedConfig?.raw !== raw) cachedConfig = { raw, config: PlatformConfigSchema.parse(JSON.parse(raw)) };
  return cachedConfig.config;
}

/**
 * Why this platform has no tenant user pool (`ENV.userPoolId` unset), for the messages that must say so: with
 * `gateway.jwt` configured an external identity provider owns the tenant users; without it no tenant user can be made
 * here at all: a deployed platform without `gateway.jwt` always has the pool (constructs/inference-api.ts), so this is
 * a local platform or a demo (`npm run local-platform`, `npm run demo:onboarding`).
 * @throws Error when the platform config is not set (platformConfig)
 */
export function noUserPoolReason(): string {
  const jwt = platformConfig().gateway.jwt;
  return jwt
    ? `the platform has no user pool (${ENV.userPoolId} is not set): it uses an external identity provider (gateway.jwt, issuer ${jwt.issuer}), whose users are managed there, not by Tessera`
    : `the platform has no user pool (${ENV.userPoolId} is not set) and no external identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local platform or a demo, which have no pool`;
}

export class UnknownTierError extends Error {
  override readonly name = 'InvalidRequest';
}

export function tierConfig(tier: string): TierConfig {
  const config = platformConfig();
  const t = config.tiers[tier];
  if (!t) throw new UnknownTierError(`tier "${tier}" does not exist (tiers: ${Object.keys(config.tiers).join(', ')})`);
  return t;
}

export function numberEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`environment variable ${name} must be a number, got "${v}"`);
  return n;
}
