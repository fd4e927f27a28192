import { Stack, Stage, type App } from 'aws-cdk-lib';
import { AccountBaselineStack } from './account-baseline-stack.js';
import { applyCompliancePacks } from './compliance.js';
import type { PlaceholderFinding } from './config/placeholders.js';
import type { PlatformConfig } from './config/schema.js';
import { OrganizationStack } from './organization-stack.js';
import { addPlaceholderGuard } from './placeholder-guard.js';
import { PlatformDrStack } from './platform-dr-stack.js';
import { PLATFORM_DR_STACK_ID, platformDrRegion } from './platform-dr-naming.js';
import { PlatformStack } from './platform-stack.js';
import { TenantNamespaceStack } from './tenant-namespace-stack.js';
import { blueprintFileName } from './config/blueprint-file-names.js';
import { readAccountCustomizations } from './config/customization-templates.js';
import { ACCOUNT_BASELINE_FILE_NAME, failoverBlueprintStackId, WORKLOAD_PROVISIONING_FILE_NAME } from './tenant-naming.js';
import { disasterRecoveryOf } from './config/disaster-recovery.js';
import { TenantDrStack } from './tenant-dr-stack.js';
import { TenantFailoverStack } from './tenant-failover-stack.js';
import { TenantStack } from './tenant-stack.js';
import { WorkloadProvisioningStack } from './workload-provisioning-stack.js';

export interface TesseraApp {
  readonly organization: OrganizationStack;
  readonly platform: PlatformStack;
  /** The platform's DR-region stack (`TesseraPlatformDr`), with `platformDisasterRecovery: { region }` only. */
  readonly platformDr?: PlatformDrStack;
  /** Tier name → blueprint stack. */
  readonly blueprints: Record<string, TenantStack>;
  /** Tier name → namespace blueprint (shared-compute tiers only). */
  readonly namespaceBlueprints: Record<string, TenantNamespaceStack>;
  /** Tier name → DR blueprint (tiers with `disasterRecovery` only), deployed in the tier's DR region. */
  readonly drBlueprints: Record<string, TenantDrStack>;
  /**
   * Tier name → failover variant of the tier blueprint (tiers with `disasterRecovery` only): the runbook
   * deploys it in the DR region from `cdk.out`; not in the catalog (lib/tenant-failover-stack.ts).
   */
  readonly failoverBlueprints: Record<string, TenantFailoverStack>;
  /** The blueprint catalog the platform publishes: file name (`blueprints/<version>/<file>`) → template. */
  readonly blueprintTemplates: Readonly<Record<string, unknown>>;
  /** The per-account baseline (blueprint execution role), deployed before any tenant stack of an account. */
  readonly accountBaseline: AccountBaselineStack;
  /** The workload account's provisioning role, deployed once by the engineer from the catalog. */
  readonly workloadProvisioning: WorkloadProvisioningStack;
  readonly blueprintStage: Stage;
}

/** Construct ids of the stacks; they are the stack names, so they are a contract with deployed accounts. */
export const STACK_IDS = { organization: 'TesseraOrganization', platform: 'TesseraPlatform', blueprintStage: 'Blueprints' } as const;
export const blueprintStackId = (tier: string) => `TesseraTenant-${tier}`;
export const namespaceBlueprintStackId = (tier: string) => `TesseraTenantNamespace-${tier}`;
/** Construct id of a DR tier's DR blueprint (lib/tenant-dr-stack.ts). */
export const drBlueprintStackId = (tier: string) => `TesseraTenantDr-${tier}`;
export { failoverBlueprintStackId };
export const ACCOUNT_BASELINE_STACK_ID = 'TesseraAccountBaseline';
export const WORKLOAD_PROVISIONING_STACK_ID = 'TesseraWorkloadProvisioning';
/** File name of a blueprint template in the catalog (`blueprints/<version>/<file>`); the workflow builds the same name (lib/config/blueprint-file-names.ts, where the config schema keeps tiers' files apart). */
export { blueprintFileName };

export interface BuildOptions {
  /**
   * Placeholders of the embedded default still in the config: every stack (organization,
   * platform, and the blueprints, which `cdk deploy` could put in any account) then carries a
   * template rule that refuses every deployment (lib/placeholder-guard.ts).
   * @default - none
   */
  readonly placeholders?: readonly PlaceholderFinding[];
  /**
   * Where the config came from (the config file, or the sources loadConfig merged), named in a ConfigError of the
   * account customizations' templates as other config errors name it.
   * @default - none named
   */
  readonly configSource?: string;
}

/**
 * Builds the whole Tessera app: one blueprint per tier (plus a namespace blueprint per
 * shared-compute tier, and the account baseline) in a nested `Blueprints` stage, then the
 * organization and platform stacks.
 * The blueprint stage is synthesized first so the platform stack can publish its templates.
 * Nothing here depends on how many tenants exist.
 */
export function buildTesseraApp(app: App, config: PlatformConfig, blueprintVersion: string, options: BuildOptions = {}): TesseraApp {
  const blueprintStage = new Stage(app, STACK_IDS.blueprintStage);
  applyCompliancePacks(blueprintStage);
  const blueprints: Record<string, TenantStack> = {};
  const namespaceBlueprints: Record<string, TenantNamespaceStack> = {};
  const drBlueprints: Record<string, TenantDrStack> = {};
  const failoverBlueprints: Record<string, TenantFailoverStack> = {};
  for (const [tierName, tier] of Object.entries(config.tiers)) {
    const disasterRecovery = disasterRecoveryOf(tier);
    if (disasterRecovery) {
      drBlueprints[tierName] = new TenantDrStack(blueprintStage, drBlueprintStackId(tierName), { tierName, tier, disasterRecovery, config, blueprintVersion });
    }
    blueprints[tierName] = new TenantStack(blueprintStage, blueprintStackId(tierName), { tierName, tier, config, blueprintVersion });
    if (disasterRecovery) {
      failoverBlueprints[tierName] = new TenantFailoverStack(blueprintStage, failoverBlueprintStackId(tierName), { tierName, tier, disasterRecovery, config, blueprintVersion });
    }
    if (tier.compute.mode === 'shared') {
      namespaceBlueprints[tierName] = new TenantNamespaceStack(blueprintStage, namespaceBlueprintStackId(tierName), { tierName, tier, config, blueprintVersion });
    }
  }
  const accountBaseline = new AccountBaselineStack(blueprintStage, ACCOUNT_BASELINE_STACK_ID, { config, blueprintVersion });
  const workloadProvisioning = new WorkloadProvisioningStack(blueprintStage, WORKLOAD_PROVISIONING_STACK_ID, { config, blueprintVersion });
  // Blueprints are environment-agnostic: `cdk deploy Blueprints/...` would put them in any account,
  // so they carry the guard too (the lifecycle never deploys from a config with placeholders).
  for (const stack of blueprintStage.node.children) if (stack instanceof Stack) addPlaceholderGuard(stack, options.placeholders ?? []);
  const assembly = blueprintStage.synth();
  const template = (stack: Stack) => assembly.getStackArtifact(stack.artifactId).template as unknown;
  const blueprintTemplates = Object.fromEntries([
    [ACCOUNT_BASELINE_FILE_NAME, template(accountBaseline)],
    [WORKLOAD_PROVISIONING_FILE_NAME, template(workloadProvisioning)],
    ...Object.entries(blueprints).map(([tier, stack]) => [blueprintFileName(tier, 'tenant'), template(stack)]),
    ...Object.entries(namespaceBlueprints).map(([tier, stack]) => [blueprintFileName(tier, 'namespace'), template(stack)]),
    ...Object.entries(drBlueprints).map(([tier, stack]) => [blueprintFileName(tier, 'dr'), template(stack)]),
    // Account tiers' customizations (tiers.<tier>.accountCustomizations), read and checked now: a bad one fails synth naming its key.
    ...readAccountCustomizations(config, process.cwd(), options.configSource).map((c) => [c.file, c.template]),
  ]);

  const organization = new OrganizationStack(app, STACK_IDS.organization, {
    env: { account: config.organization.managementAccountId, region: config.homeRegion },
    config,
    description: 'Tessera organization: OUs per tier, Quarantine, Suspended, and their SCPs',
  });
  const platform = new PlatformStack(app, STACK_IDS.platform, {
    env: { account: config.platformAccountId, region: config.homeRegion },
    config,
    blueprintTemplates,
    blueprintVersion,
    description: 'Tessera platform: tenant registry, lifecycle, audit trail, shared cluster, blueprint catalog',
  });
  const drRegion = platformDrRegion(config);
  const platformDr = drRegion ? new PlatformDrStack(app, PLATFORM_DR_STACK_ID, {
    env: { account: config.platformAccountId, region: drRegion },
    config,
    description: 'Tessera platform, DR region: replica audit bucket (Object Lock), its key, the registry backup vault',
  }) : undefined;
  // Ordering only (no reference): S3 refuses a replication rule whose destination bucket does not exist yet.
  if (platformDr) platform.addStackDependency(platformDr, 'the audit replication and the registry backup copy target TesseraPlatformDr\'s bucket and vault');
  // Ordering only: with the platform in the management account, TesseraPlatform reads tessera-quarantine's ARN from the
  // SSM parameter TesseraOrganization writes (QUARANTINE_SCP_ARN_PARAMETER); CloudFormation refuses a stack whose SSM
  // parameter does not exist yet, so `cdk deploy --all` must create the organization stack first.
  if (config.platformAccountId === config.organization.managementAccountId) platform.addStackDependency(organization, 'TesseraPlatform reads tessera-quarantine\'s ARN from the SSM parameter TesseraOrganization writes');
  for (const stack of [organization, platform, ...(platformDr ? [platformDr] : [])]) addPlaceholderGuard(stack, options.placeholders ?? []);
  applyCompliancePacks(app);
  return { organization, platform, platformDr, blueprints, namespaceBlueprints, drBlueprints, failoverBlueprints, blueprintTemplates, accountBaseline, workloadProvisioning, blueprintStage };
}
