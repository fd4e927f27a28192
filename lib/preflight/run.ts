/**
 * The deploy preflight, end to end, for one config: per tier, the blueprint instantiated for
 * tenants in one account and region (and its namespace blueprint for the same tenants in the
 * platform account), handler permissions evaluated for the deploying principal (the execution
 * role for the tier blueprint, the namespace deployer role for the namespace blueprint, the
 * provisioning role for the account baseline), name collisions and constraints, service rules,
 * the service roles against the SCPs, and the quota table. Pure (no printing); ./cli.ts prints,
 * test/preflight/ asserts.
 */
import { drRegionOf } from '../config/disaster-recovery.js';
import { modelShutdownFindings, SHUTDOWN_WARNING_DAYS, utcDay, type ModelShutdownFinding } from '../config/model-lifecycle.js';
import type { PlatformConfig } from '../config/schema.js';
import type { PolicyDocument } from '../guardrail-policies.js';
import { RESTORED_DATABASE_LOGICAL_ID, restoredDatabaseTemplate } from '../cli/failover-restored-database.js';
import { ACCOUNT_BASELINE_FILE_NAME, ACCOUNT_BASELINE_STACK_NAME, drRestoredInstanceIdentifier, failoverBlueprintStackId } from '../tenant-naming.js';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.js';
import type { CfnTemplate } from './cfn-template.js';
import type { LoadedBlueprints, TierBlueprints } from './blueprints.js';
import { checkHandlerPermissions, summarize, type Deployer, type PermissionCheck } from './handler-permissions.js';
import { findRole, identityOf } from './identity.js';
import { instantiate, type InstantiatedTemplate } from './instantiate.js';
import { uuid } from './resource-types.js';
import { checkNameConstraints, findCollisions, retainedResources, type NameCollision, type NameViolation, type RetainedResource } from './names.js';
import { ProviderSchemas } from './provider-schemas.js';
import { quotaTable, type TierQuotaSummary } from './quota-table.js';
import { platformDrRegionViolations, platformRegionViolations } from './region-availability.js';
import type { RegionOfferings } from './region-offerings.js';
import { platformDrRegion } from '../platform-dr-naming.js';
import { scpsInForce, type ScpContext, type ScpOverrides } from './scps.js';
import { checkServiceRoles, type ServiceRoleReport } from './service-roles.js';
import { checkServiceRules, SERVICE_RULES, type DeployedStack, type RuleResult, type ServiceRule } from './service-rules.js';
import { stackTagsFor } from './tags.js';
import { tenantNamespaceDeployer } from './tenant-namespace-deployer.js';

/** Where the tenants of the check live. Defaults: two placeholder accounts, the config's home Region. */
export interface PreflightTarget {
  /** Account of the tenant stacks (a vended account or the workload account). @default the config's workloadAccountId */
  readonly account?: string;
  /** @default config.homeRegion */
  readonly region?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Tenant ids instantiated together in one account and region. @default two ids plus the longest TENANT_ID_PATTERN allows */
  readonly tenantIds?: string[];
}

/** The templates the preflight instantiates, as `mutate` names them (`platformDr`: TesseraPlatformDr). */
export type PreflightTemplateKind = 'tenant' | 'namespace' | 'baseline' | 'dr' | 'failover' | 'platform' | 'platformDr';

export interface PreflightOptions extends PreflightTarget {
  /** Replace SCP documents (self-tests). */
  readonly scpOverrides?: ScpOverrides;
  /** Change the SCP documents built from the config before they are used (self-tests plant defects). */
  readonly mutateScp?: (name: 'guardrail' | 'quarantine', document: PolicyDocument) => PolicyDocument;
  /** Mutate templates before the checks (self-tests plant defects). */
  readonly mutate?: (kind: PreflightTemplateKind, tierName: string, template: CfnTemplate) => CfnTemplate;
  /**
   * The Region data rule `offered-in-region` reads for the platform stacks (TesseraPlatform, TesseraPlatformDr): self-tests
   * give a RegionOfferings over a planted cfn-lint data directory. @default regionOfferings() (cfn-lint in .venv)
   */
  readonly offerings?: RegionOfferings;
  readonly rules?: readonly ServiceRule[];
  /** Check only these tiers. @default every tier of the config */
  readonly onlyTiers?: string[];
  /** The day the model catalog's shutdown dates are judged from (rule `model-shutdown-dates`). @default the clock's (new Date()) */
  readonly today?: Date;
  /** Days before a shutdown date from which a catalog model warns. @default SHUTDOWN_WARNING_DAYS (90) */
  readonly warnWithinDays?: number;
}

export interface BlueprintReport {
  /** File name in the blueprint catalog (`<tier>.template.json`, `<tier>-namespace.template.json`, `account-baseline.template.json`). */
  readonly blueprint: string;
  readonly resources: number;
  /** ARN of the principal that deploys it. */
  readonly deployer: string;
  /** Short name of that principal for the counts line (the role name; a namespace blueprint's: its first tenant's `tessera-<tenant>-namespace-deployer`). */
  readonly deployerName: string;
  readonly checks: PermissionCheck[];
  readonly counts: ReturnType<typeof summarize>;
}

export interface TierReport {
  readonly tierName: string;
  readonly isolation: 'account' | 'vpc';
  readonly blueprints: BlueprintReport[];
  readonly collisions: NameCollision[];
  readonly nameViolations: NameViolation[];
  readonly retained: RetainedResource[];
  readonly rules: RuleResult[];
  /** Retained resources whose DeletionPolicy is plain `Retain` (decision 5: RetainExceptOnCreate or Snapshot): failures. */
  readonly plainRetain: RetainedResource[];
  readonly serviceRoles: ServiceRoleReport;
  readonly quotas: TierQuotaSummary;
  /** Problems that stop checks from running as intended (a missing baseline, an unresolvable template). */
  readonly blockers: string[];
}

export interface PreflightReport {
  readonly tiers: TierReport[];
  readonly baselinePresent: boolean;
  readonly cfnLintVersion: string;
  readonly cannotSee: readonly string[];
  /**
   * Rule `offered-in-region` over the platform stack (TesseraPlatform and its nested stacks) in `homeRegion`
   * (./region-availability.ts platformRegionViolations): the shared cluster's node group instance types and every
   * resource type. A violation fails the preflight (exit 1).
   */
  readonly platform: { readonly region: string; readonly violations: string[] };
  /**
   * Rule `offered-in-region` over the platform's DR stack (TesseraPlatformDr) in `platformDisasterRecovery.region`
   * (./region-availability.ts platformDrRegionViolations): every resource type. A violation fails the preflight (exit 1).
   * Undefined with `platformDisasterRecovery: 'none'` (no such stack).
   */
  readonly platformDr?: { readonly region: string; readonly violations: string[] };
  /**
   * Rule `model-shutdown-dates` over `gateway.models` (lib/config/model-lifecycle.ts): a `fail` finding fails the
   * preflight (exit 1), a `warn` or `info` finding is reported only (exit 0).
   */
  readonly modelShutdowns: {
    /** `YYYY-MM-DD` (UTC) the dates were judged from. */
    readonly today: string;
    readonly warnWithinDays: number;
    readonly findings: ModelShutdownFinding[];
  };
}

/** Tenant ids: two ordinary ones and a 24-character one (TENANT_ID_PATTERN `^[a-z][a-z0-9-]{1,22}[a-z0-9]$`). */
export const DEFAULT_TENANT_IDS = ['acme', 'globex', 'a2345678901234567890123z'];

let sharedSchemas: ProviderSchemas | undefined;

export async function runPreflight(loaded: LoadedBlueprints, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const config = loaded.config;
  const schemas = (sharedSchemas ??= new ProviderSchemas());
  const account = opts.account ?? config.workloadAccountId;
  const region = opts.region ?? config.homeRegion;
  const partition = opts.partition ?? 'aws';
  const tenantIds = opts.tenantIds ?? DEFAULT_TENANT_IDS;
  const mutate = opts.mutate ?? ((_k, _t, t) => t);

  const baseline = loaded.baseline ? mutate('baseline', '', structuredClone(loaded.baseline)) : undefined;
  const baselineInstance = baseline ? instantiate(baseline, { tenantId: 'baseline', vpcCidr: '10.0.0.0/16', account, region, partition, stackName: ACCOUNT_BASELINE_STACK_NAME }) : undefined;
  const executionRole = baselineInstance ? findRole(baselineInstance, config.roles.blueprintExecutionRoleName) : undefined;
  const deployer = baselineInstance && executionRole ? { principalArn: executionRole.arn, identityPolicies: identityOf(baselineInstance, executionRole).policies } : undefined;

  // The platform stack (with its nested stacks) in the platform account, deployed before every tenant-side
  // stack: the roles tenant stacks name there (platform-principals-exist), and the roles stacks in that account
  // find existing (resource-policy-principals-exist). Only its IAM roles and users are read.
  const platformInstance = instantiate(mutate('platform', '', structuredClone(loaded.platform)), {
    tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: config.platformAccountId, region: config.homeRegion, partition, stackName: 'TesseraPlatform', lenient: true,
  });

  const c: RunContext = { config, schemas, account, region, partition, tenantIds, mutate, deployer, baselineInstance, platformInstance, loaded, opts, baselineChecks: new Map() };
  const tiers: TierReport[] = [];
  for (const tier of loaded.tiers.filter((t) => !opts.onlyTiers || opts.onlyTiers.includes(t.tierName))) tiers.push(await checkTier(tier, c));
  const today = opts.today ?? new Date();
  const warnWithinDays = opts.warnWithinDays ?? SHUTDOWN_WARNING_DAYS;
  const modelShutdowns = { today: utcDay(today), warnWithinDays, findings: modelShutdownFindings(config.gateway.models, { today, warnWithinDays, aliases: config.gateway.modelAliases }) };
  const platform = { region: config.homeRegion, violations: platformRegionViolations(platformInstance, config, opts.offerings) };
  const platformDr = platformDrCheck(loaded, partition, mutate, opts.offerings);
  return { tiers, baselinePresent: !!loaded.baseline, cfnLintVersion: schemas.version, cannotSee: CANNOT_SEE, platform, ...(platformDr ? { platformDr } : {}), modelShutdowns };
}

/**
 * TesseraPlatformDr instantiated where it is deployed (the platform account, `platformDisasterRecovery.region`) and checked
 * by rule `offered-in-region`; undefined when the config builds no such stack. A config with a DR Region whose blueprints
 * hold no DR stack is one violation saying so (the loader and the config disagree).
 */
function platformDrCheck(loaded: LoadedBlueprints, partition: string, mutate: NonNullable<PreflightOptions['mutate']>, offerings: RegionOfferings | undefined): PreflightReport['platformDr'] {
  const region = platformDrRegion(loaded.config);
  if (!region) return undefined;
  if (!loaded.platformDr) return { region, violations: [`TesseraPlatformDr (${region}): no template of the stack in the loaded blueprints although platformDisasterRecovery.region is ${region}`] };
  const inst = instantiate(mutate('platformDr', '', structuredClone(loaded.platformDr)), {
    tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: loaded.config.platformAccountId, region, partition, stackName: 'TesseraPlatformDr', lenient: true,
  });
  return { region, violations: platformDrRegionViolations(inst, offerings) };
}

interface RunContext {
  config: PlatformConfig; schemas: ProviderSchemas; account: string; region: string; partition: string; tenantIds: string[];
  mutate: NonNullable<PreflightOptions['mutate']>; deployer?: Deployer; baselineInstance?: InstantiatedTemplate; platformInstance: InstantiatedTemplate; loaded: LoadedBlueprints; opts: PreflightOptions;
  /** The baseline's check per SCP context (the same for every tier of a mode). */
  baselineChecks: Map<ScpContext, Promise<BlueprintReport>>;
}

function scpsFor(c: RunContext, context: ScpContext) {
  return scpsInForce(c.config, context, c.opts.scpOverrides, c.opts.mutateScp);
}

async function checkTier(tier: TierBlueprints, c: RunContext): Promise<TierReport> {
  const blockers: string[] = [];
  const tenantTemplate = c.mutate('tenant', tier.tierName, structuredClone(tier.tenant));
  const scpContext: ScpContext = tier.tier.isolation === 'account' ? 'account-mode' : 'vpc-mode';
  const scps = scpsFor(c, scpContext);
  if (!c.deployer) blockers.push(`account baseline ${c.loaded.baseline ? `has no role ${c.config.roles.blueprintExecutionRoleName}` : 'template missing (no TesseraAccountBaseline stack in the Blueprints stage)'}: tenant stacks have no execution role, every handler permission is denied`);
  const deployer: Deployer = c.deployer ?? { principalArn: `arn:${c.partition}:iam::${c.account}:role/${c.config.roles.blueprintExecutionRoleName}`, identityPolicies: [] };
  const version = c.loaded.blueprintVersion;

  const instances: InstantiatedTemplate[] = c.tenantIds.map((tenantId, i) => instantiate(tenantTemplate, {
    tenantId, account: c.account, region: c.region, partition: c.partition, vpcCidr: vpcCidrFor(tier, i),
  }));
  const first = instances[0];
  const blueprints: BlueprintReport[] = [];
  // The tier's other stacks as deployed, each with the stacks deployed before it (for the rules that check every stack:
  // resource-policy-principals-exist): the baseline first, then the DR blueprint, the tier blueprint, its namespace.
  // With the tenants in the platform account (workloadAccountId = platformAccountId), the platform stack's roles exist before theirs.
  const platformBefore = c.account === c.config.platformAccountId ? [c.platformInstance] : [];
  const baselineBefore = [...platformBefore, ...(c.baselineInstance ? [c.baselineInstance] : [])];
  const alsoDeployed: DeployedStack[] = c.baselineInstance ? [{ blueprint: ACCOUNT_BASELINE_FILE_NAME, inst: c.baselineInstance, deployedBefore: platformBefore }] : [];
  const tenantChecks = await checkHandlerPermissions({
    inst: first, schemas: c.schemas, deployer, scps, organizationId: c.config.organization.organizationId,
    stackTags: stackTagsFor('tenant', { tenantId: first.tenantId, tierName: tier.tierName, version }),
  });
  blueprints.push({ blueprint: `${tier.tierName}.template.json`, resources: Object.keys(first.resources).length, deployer: deployer.principalArn, deployerName: c.config.roles.blueprintExecutionRoleName, checks: tenantChecks, counts: summarize(tenantChecks) });

  // A DR tier's DR blueprint: the same execution role deploys it in the tier's DR region (its
  // DisasterRecovery policy), before the primary.
  const drRegion = drRegionOf(tier.tier);
  if (tier.dr && drRegion) {
    const drTemplate = c.mutate('dr', tier.tierName, structuredClone(tier.dr));
    const dr = instantiate(drTemplate, { tenantId: first.tenantId, account: c.account, region: drRegion, partition: c.partition, vpcCidr: vpcCidrFor(tier, 0) });
    alsoDeployed.push({ blueprint: `${tier.tierName}-dr.template.json`, inst: dr, deployedBefore: baselineBefore }); // before the primary
    const drChecks = await checkHandlerPermissions({
      inst: dr, schemas: c.schemas, deployer, scps, organizationId: c.config.organization.organizationId,
      stackTags: stackTagsFor('tenant', { tenantId: first.tenantId, tierName: tier.tierName, version }),
    });
    blueprints.push({ blueprint: `${tier.tierName}-dr.template.json`, resources: Object.keys(dr.resources).length, deployer: deployer.principalArn, deployerName: c.config.roles.blueprintExecutionRoleName, checks: drChecks, counts: summarize(drChecks) });
  }

  // The failover runbook (lib/cli/tenants-failover-command.ts): the failover blueprint deployed as the
  // execution role in the DR region, as stack tessera-<id> (step 5, then step 8 with the restored
  // instance's values: its conditional grants are in), and step 7's modify of the restored instance
  // through CloudFormation (lib/cli/failover-restored-database.ts), with the rebuilt tenant key's policy.
  if (tier.failover && drRegion) {
    const failoverTemplate = c.mutate('failover', tier.tierName, withRestoredDatabase(structuredClone(tier.failover)));
    const failover = instantiate(failoverTemplate, {
      tenantId: first.tenantId, account: c.account, region: drRegion, partition: c.partition, vpcCidr: vpcCidrFor(tier, 0),
      parameters: restoredDatabaseParameters(first.tenantId, c.account, drRegion, c.partition),
    });
    // Deployed when the home Region failed: the home stack's roles (IAM is global) and the baseline's exist.
    alsoDeployed.push({ blueprint: `${tier.tierName}-failover`, inst: failover, deployedBefore: [...baselineBefore, first] });
    const failoverChecks = await checkHandlerPermissions({
      inst: failover, schemas: c.schemas, deployer, scps, organizationId: c.config.organization.organizationId,
      stackTags: stackTagsFor('tenant', { tenantId: first.tenantId, tierName: tier.tierName, version }),
    });
    blueprints.push({ blueprint: `${tier.tierName}-failover (cdk.out ${failoverBlueprintStackId(tier.tierName)}, runbook steps 5, 7, 8)`, resources: Object.keys(failover.resources).length, deployer: deployer.principalArn, deployerName: c.config.roles.blueprintExecutionRoleName, checks: failoverChecks, counts: summarize(failoverChecks) });
  }

  let namespaceInstances: InstantiatedTemplate[] = [];
  if (tier.namespace) {
    const ns = await checkNamespace(tier, c);
    if (typeof ns === 'string') blockers.push(ns);
    else {
      blueprints.push(ns.report);
      namespaceInstances = ns.instances;
      // In the platform account, after the tier blueprint and the platform stack.
      alsoDeployed.push({ blueprint: `${tier.tierName}-namespace.template.json`, inst: ns.instances[0], deployedBefore: [c.platformInstance] });
    }
  }

  if (c.baselineInstance) {
    if (!c.baselineChecks.has(scpContext)) c.baselineChecks.set(scpContext, checkBaseline(c, c.baselineInstance, scps));
    blueprints.push(await c.baselineChecks.get(scpContext)!);
  }

  const rules = await checkServiceRules({ inst: first, tierName: tier.tierName, tier: tier.tier, config: c.config, deployer: c.deployer, deployedBefore: baselineBefore, alsoDeployed, platform: c.platformInstance, blueprint: `${tier.tierName}.template.json` }, c.opts.rules ?? SERVICE_RULES);
  const retained = retainedResources(first);
  return {
    tierName: tier.tierName,
    isolation: tier.tier.isolation,
    blueprints,
    collisions: findCollisions([...instances, ...namespaceInstances]),
    nameViolations: [...instances, ...namespaceInstances].flatMap((inst) => checkNameConstraints(inst, c.schemas)),
    retained,
    rules,
    plainRetain: retained.filter((r) => r.deletionPolicy === 'Retain' && !KUBECTL_MANIFEST_TYPES.has(r.type)),
    serviceRoles: await checkServiceRoles(first, scps),
    quotas: quotaTable(tier.tierName, tier.tier, tenantTemplate, tier.namespace),
    blockers,
  };
}

/** Stand-ins for step 8's three parameters of the failover blueprint (the restored instance's values; each matches its pattern). */
export function restoredDatabaseParameters(tenantId: string, account: string, region: string, partition: string): Record<string, string> {
  return {
    RestoredDbiResourceId: 'db-RESTOREDPREFLIGHT0000000000',
    RestoredDatabaseEndpoint: `${drRestoredInstanceIdentifier(tenantId)}.c0preflight.${region}.rds.amazonaws.com`,
    RestoredDatabaseCredentialsArn: `arn:${partition}:secretsmanager:${region}:${account}:secret:rds!db-restoredpreflight-AbCdEf`,
  };
}

/**
 * The failover template with step 7's restored instance beside its resources (the runbook's
 * `restoredDatabaseTemplate()` as it is after the update: IAM authentication on, managed master
 * secret under the failover stack's own tenant key), so that the RDS handlers' permissions on
 * `db:tessera-<id>-restored` and the secret's KMS calls are evaluated with that key's policy.
 * @throws Error when the failover template has no tenant key (an `AWS::KMS::Alias` `alias/tessera/<id>`)
 */
export function withRestoredDatabase(template: CfnTemplate): CfnTemplate {
  const resources = template.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const alias = Object.values(resources).find((r) => r.Type === 'AWS::KMS::Alias' && JSON.stringify(r.Properties?.AliasName ?? '').includes('alias/tessera/'));
  const keyId = (alias?.Properties?.TargetKeyId as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined);
  const keyLogicalId = keyId?.['Fn::GetAtt']?.[0] ?? keyId?.Ref;
  if (!keyLogicalId || resources[keyLogicalId]?.Type !== 'AWS::KMS::Key') throw new Error('preflight: the failover blueprint has no tenant key (AWS::KMS::Alias alias/tessera/<TenantId> on an AWS::KMS::Key)');
  const restored = restoredDatabaseTemplate().Resources as Record<string, { Properties: Record<string, unknown> }>;
  const resource = structuredClone(restored[RESTORED_DATABASE_LOGICAL_ID]);
  resource.Properties = {
    ...resource.Properties, EnableIAMDatabaseAuthentication: true, ManageMasterUserPassword: true,
    MasterUserSecret: { KmsKeyId: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] } }, DeletionProtection: true,
  };
  if (resources[RESTORED_DATABASE_LOGICAL_ID]) throw new Error(`preflight: the failover blueprint already has a resource ${RESTORED_DATABASE_LOGICAL_ID}`);
  resources[RESTORED_DATABASE_LOGICAL_ID] = resource as unknown as (typeof resources)[string];
  return template;
}

/**
 * The account baseline's own deploy: CreateStack/UpdateStack with the provisioning role's session
 * (no RoleARN, decision 1 of the issue 9 plan), under the SCPs of the account it goes to. The
 * provisioning role is the one Organizations creates in a vended account, with the AWS-managed
 * AdministratorAccess policy (and the same role in the workload account).
 */
function checkBaseline(c: RunContext, inst: InstantiatedTemplate, scps: ReturnType<typeof scpsInForce>): Promise<BlueprintReport> {
  const principalArn = `arn:${c.partition}:iam::${c.account}:role/${c.config.roles.provisioningRoleName}`;
  const stackTags = stackTagsFor('baseline', { version: c.loaded.blueprintVersion });
  const stackArn = `arn:${c.partition}:cloudformation:${c.region}:${c.account}:stack/${inst.env.stackName}/${uuid(inst.env.stackName)}`;
  const executionRole = findRole(inst, c.config.roles.blueprintExecutionRoleName);
  return checkHandlerPermissions({
    inst, schemas: c.schemas, scps, organizationId: c.config.organization.organizationId,
    deployer: { principalArn, identityPolicies: [{ name: 'AdministratorAccess', policy: AWS_MANAGED_POLICIES.AdministratorAccess.document }] },
    stackTags,
    // Deploy blueprint's calls on the baseline stack (lambdas/lifecycle/deploy-blueprint.ts deployBaseline),
    // and the RoleARN it then passes for every tenant stack of the account.
    stackLevel: [
      ...['cloudformation:CreateStack', 'cloudformation:UpdateStack'].map((action) => ({ action, resource: stackArn, requestTags: stackTags })),
      ...['cloudformation:DeleteStack', 'cloudformation:UpdateTerminationProtection'].map((action) => ({ action, resource: stackArn })),
      ...(executionRole ? [{ action: 'iam:PassRole', resource: executionRole.arn, passedTo: 'cloudformation.amazonaws.com', why: 'RoleARN of the tenant stacks' }] : []),
    ],
  }).then((checks) => ({ blueprint: ACCOUNT_BASELINE_FILE_NAME, resources: Object.keys(inst.resources).length, deployer: principalArn, deployerName: c.config.roles.provisioningRoleName, checks, counts: summarize(checks) }));
}

/**
 * The namespace blueprint in the platform account, deployed by the tenant's own namespace deployer
 * (`tessera-<tenant>-namespace-deployer`: the inline policy the lifecycle writes for it, under the
 * platform's shared namespace deployer policy as its permissions boundary; lib/namespace-deployer.ts):
 * instantiated for every tenant id (their names share the platform account), handler permissions
 * evaluated for the first, as the first's deployer.
 */
async function checkNamespace(tier: TierBlueprints, c: RunContext): Promise<{ report: BlueprintReport; instances: InstantiatedTemplate[] } | string> {
  const deployerTemplate = c.loaded.namespaceDeployer;
  if (!deployerTemplate) return `${tier.tierName}: namespace blueprint present but the platform stack has no NamespaceDeployerRole`;
  const platformAccount = c.config.platformAccountId;
  const { platform, parameters } = namespaceDeployerInstance(deployerTemplate, platformAccount, c.region, c.partition);
  const template = c.mutate('namespace', tier.tierName, structuredClone(tier.namespace!));
  const ssmParams = Object.entries(template.Parameters ?? {}).filter(([, p]) => p.Type.startsWith('AWS::SSM::Parameter::Value'));
  const instances = c.tenantIds.map((tenantId, i) => instantiate(template, {
    tenantId, vpcCidr: vpcCidrFor(tier, i), account: platformAccount, region: c.region, partition: c.partition,
    stackName: namespaceStackName(tenantId),
    parameters: { ...parameters, TenantAccountId: c.account, TenantVpcCidr: vpcCidrFor(tier, i) },
  }));
  const inst = instances[0];
  const deployer = tenantNamespaceDeployer(platform, deployerTemplate.roleLogicalId, parameters, inst.tenantId);
  const checks = await checkHandlerPermissions({
    inst, schemas: c.schemas,
    deployer: { principalArn: deployer.arn, identityPolicies: deployer.identityPolicies, permissionBoundaries: deployer.permissionBoundaries },
    scps: scpsFor(c, 'platform'),
    organizationId: c.config.organization.organizationId,
    stackTags: stackTagsFor('namespace', { tenantId: inst.tenantId, tierName: tier.tierName, version: c.loaded.blueprintVersion }),
    // CloudFormation reads SSM-typed parameters with the stack's role.
    stackLevel: ssmParams.map(([, p]) => ({ action: 'ssm:GetParameters', resource: `arn:${c.partition}:ssm:${c.region}:${platformAccount}:parameter/${String(p.Default).replace(/^\//, '')}` })),
  });
  return { report: { blueprint: `${tier.tierName}-namespace.template.json`, resources: Object.keys(inst.resources).length, deployer: deployer.arn, deployerName: deployer.roleName, checks, counts: summarize(checks) }, instances };
}

/**
 * Resource types whose plain `Retain` the gate takes: a kubectl manifest (aws-eks' custom resource) holds no AWS resource and
 * no name, so one left behind by a rolled-back create is only a record, while its delete runs `kubectl delete` on its
 * objects: the namespace blueprint's `TenantObjects` is retained so that a rolled-back upgrade does not delete the
 * NetworkPolicies the earlier manifest has just re-applied (constructs/tenant-namespace.ts).
 */
const KUBECTL_MANIFEST_TYPES: ReadonlySet<string> = new Set(['Custom::AWSCDK-EKS-KubernetesResource']);

/** Stack name of a tenant's namespace blueprint (lambdas/lifecycle/blueprints.ts). */
export const namespaceStackName = (tenantId: string) => `tessera-${tenantId}-namespace`;

/**
 * The platform stack's namespace deployer excerpt instantiated for the platform account, and the
 * parameters every namespace blueprint gets from it (the shared cluster's name, the two kubectl providers).
 */
export function namespaceDeployerInstance(deployer: NonNullable<LoadedBlueprints['namespaceDeployer']>, platformAccount: string, region: string, partition: string) {
  const platform = instantiate(deployer.template, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: platformAccount, region, partition, stackName: 'TesseraPlatform', lenient: true });
  const cluster = Object.values(platform.resources).find((r) => r.type === 'AWS::EKS::Cluster');
  // Two provider functions: the shared cluster's (KubectlProvider, cluster admin) and the tenants' (NamespaceKubectl). The
  // latter is in the platform's NamespaceKubectl nested stack; the excerpt, unsynthesized, names it by its logical id there
  // (lib/preflight/blueprints.ts namespaceDeployerOf), as the deployer policy's statement does.
  const functions = Object.values(platform.resources).filter((r) => r.type === 'AWS::Lambda::Function');
  const kubectl = functions.find((r) => !r.logicalId.includes('NamespaceKubectl'));
  const namespaceKubectl = functions.find((r) => r.logicalId.includes('NamespaceKubectl'));
  return { platform, parameters: { ClusterName: cluster?.physicalId ?? 'tessera-shared', KubectlServiceToken: kubectl?.arn ?? 'unknown', NamespaceKubectlServiceToken: namespaceKubectl?.arn ?? 'unknown' } };
}

/** The i-th tenant VPC range of the tier's pool at its prefix length. */
export function vpcCidrFor(tier: TierBlueprints, i: number): string {
  const [ip, poolPrefix] = tier.tier.network.tenantCidrPool.split('/');
  const base = ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - tier.tier.network.tenantVpcPrefixLength);
  const n = base + (i % 2 ** (tier.tier.network.tenantVpcPrefixLength - Number(poolPrefix))) * size;
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${tier.tier.network.tenantVpcPrefixLength}`;
}

/**
 * Whether the tier passes: no blocker, 0 denied in every blueprint (tier, namespace, account
 * baseline), 0 collisions, 0 name violations, every applicable rule, no plain `Retain`, no
 * service-role SCP denial and no service-role check the simulator could not evaluate.
 * The same conditions as test/preflight/preflight.test.ts.
 */
export function tierPasses(t: TierReport): boolean {
  return t.blockers.length === 0 && t.blueprints.every((b) => b.counts.denied === 0) && t.collisions.length === 0
    && t.nameViolations.length === 0 && t.rules.every((r) => r.violations.length === 0) && t.plainRetain.length === 0
    && t.serviceRoles.denials.length === 0 && t.serviceRoles.errors.length === 0;
}

/**
 * Whether the whole preflight passes (the CLI's exit 0): the account baseline is present, every tier passes
 * ({@link tierPasses}), the platform stack's Region offers what it creates (`platform.violations` empty), so does the platform DR stack's
 * (`platformDr.violations` empty, when there is one), and no catalog model is routed to an OpenAI model on or past its shutdown date
 * (`model-shutdown-dates` findings of severity `fail`; warnings do not fail it).
 */
export function preflightPasses(report: Pick<PreflightReport, 'tiers' | 'baselinePresent' | 'platform' | 'platformDr' | 'modelShutdowns'>): boolean {
  return report.baselinePresent && report.tiers.every(tierPasses) && report.platform.violations.length === 0 && !report.platformDr?.violations.length && !report.modelShutdowns.findings.some((f) => f.severity === 'fail');
}

/** What the preflight cannot see: modelling assumptions and what needs a real account to confirm. */
export const CANNOT_SEE: readonly string[] = [
  'Handler permissions are those the CloudFormation provider schemas list (cfn-lint 1.58.0 data); a handler that calls more than its schema says, or a service that checks permissions it does not document, is invisible.',
  'Resource ARNs: own-service actions are checked on the resource and on the template resources it refers to whose type the action takes; tagging actions on the resource only; actions without a resource type on "*"; an AWS-named resource the template cannot name (e.g. an RDS-managed secret) on a deterministic stand-in ARN.',
  'kms actions of another service\'s handler are modelled as calls that service makes for the deployer (kms:ViaService = <service>.<region>.amazonaws.com, aws:ViaAWSService = true, kms:GrantIsForAWSResource = true for CreateGrant); the service chosen is the resource\'s own. Calls no schema lists are added where AWS documents them (MODELLED_CALLS in handler-permissions.ts): a DB instance with ManageMasterUserPassword and MasterUserSecret.KmsKeyId also needs kms:GenerateDataKey and kms:Decrypt on that key with kms:ViaService = secretsmanager.<region>.amazonaws.com (create and update handlers), since Secrets Manager encrypts the RDS-managed secret for the caller.',
  'Tags: a request on a template resource that exists at that moment (update and delete handlers, resources it refers to, its own create handler after the creating call) carries aws:ResourceTag/<key> for the stack tags Deploy blueprint sets (tenant and namespace stacks: tessera:tenant-id, tessera:tier, tessera:blueprint-version; the baseline: tessera:blueprint-version, tessera:component) on taggable types, overlaid with the template\'s tags; the creating call and tagging calls carry aws:RequestTag/<key> and aws:TagKeys for actions that take them. CloudFormation\'s aws:cloudformation:* tags and tags AWS adds itself are not modelled, nor do tags reach resources outside the template.',
  'Principals: tenant stacks are deployed by the blueprint execution role (identity policies from the account baseline template); the account baseline by the provisioning role with AdministratorAccess (the role Organizations creates in a vended account; the same is assumed for the workload account), under the SCPs of its account, together with Deploy blueprint\'s own calls on the baseline stack (cloudformation:CreateStack, UpdateStack, DeleteStack, UpdateTerminationProtection) and iam:PassRole of the execution role to CloudFormation (the tenant stacks\' RoleARN; the tenant stacks\' own CreateStack/UpdateStack/DeleteStack calls are not evaluated); namespace stacks by the first tenant\'s own namespace deployer in the platform account (tessera-<tenant>-namespace-deployer: the inline policy the lifecycle writes, under the shared deployer policy as its permissions boundary). Handler permissions are evaluated for the first tenant id; names of every tenant id (tier and namespace blueprints) are checked for collisions and schema constraints.',
  'iam:PassedToService is taken as the service principal the passed role trusts; iam:AWSServiceName from a table of service-linked roles per resource type.',
  'Handler actions for features the blueprint leaves off (S3 metadata tables, Firehose delivery, EKS Auto Mode instance profiles, cross-Region endpoints, seeding a cache from S3) are counted "not exercised", like kms actions of a resource that names no key; S3 API operation names in the schemas are evaluated as the IAM action that authorizes them (ACTION_ALIASES); other strings that are not IAM actions of the Service Authorization Reference (s3:REST.PUT.OBJECT, backup-storage:Mount, vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation) are counted "not an action".',
  'A bucket policy is not in force while its bucket is created or deleted (CloudFormation creates and deletes it separately); a key policy is in force for every action on the key after CreateKey.',
  'SCPs: account mode = root [FullAWSAccess], tier OU [FullAWSAccess, guardrails], account [FullAWSAccess, quarantine]; VPC mode = root, an OU with [FullAWSAccess, guardrails] (the strict assumption), account [FullAWSAccess]; the platform account only root [FullAWSAccess]. Where the workload and platform accounts really sit is the platform team\'s choice.',
  'Service roles are checked against SCPs only, with the AWS-managed policies\' actions from an embedded excerpt (lib/preflight/aws-managed-policies.ts; only AmazonEKSClusterPolicy was read in full in AWS\'s reference); the SCPs here deny by principal and region, so an excerpt changes counts, not verdicts. An action the simulator cannot evaluate (unknown to IAM, an invalid policy) is a failure ("not evaluable"); actions of a service IAM does not know are listed as "unknown services".',
  'A DR tier\'s failover blueprint (runbook steps 5 and 8) is checked once, in the DR region, with step 8\'s three Restored* parameters set (a superset of step 5\'s resources) and with step 7\'s restored instance (lib/cli/failover-restored-database.ts, as after its update) added to the same template so that the tenant key\'s policy is evaluated; the import itself (the read handler) and what the RDS handler does with an imported instance are not modelled. The runbook\'s other calls (AWS Backup restore, S3 copy) are not checked.',
  'Names CloudFormation generates are modelled as <stack>-<LogicalId>-<13 chars> cut to the name property\'s maxLength; ids, Fn::GetAZs and the AvailabilityZones parameter of the blueprints (<region>a, b, c) are deterministic stand-ins. AWS\'s real truncation rules per type are not published in full.',
  'Quotas are AWS defaults; the applied values of a real account (Service Quotas), and the GPU vCPU quota of a new account (often 0), are not known offline. Quota codes are given only where an AWS source confirmed them.',
  'RDS engine versions per Region come from a small catalog read from AWS\'s release calendar (service-rules.ts), not from DescribeDBEngineVersions.',
  'What a Region offers (offered-in-region) is cfn-lint\'s bundled Region data: resource types from the CloudFormation registry per Region, DB instance classes, cache node types and EC2 instance types from AWS\'s pricing data, as of the pinned cfn-lint release; a type or class launched since is reported missing, one withdrawn since passes, and capacity in a zone is not known (`tessera doctor` asks AWS where it has credentials). The Regions checked are the tier\'s stacks\' own (homeRegion or --region; the DR and failover stacks in disasterRecovery.region), the platform stack\'s (TesseraPlatform with the shared cluster\'s node groups, in homeRegion) and the platform DR stack\'s (TesseraPlatformDr\'s resource types, in platformDisasterRecovery.region); allowedRegions alone places no stack and is not checked. Whether AWS Backup offers cross-Region copy between homeRegion and a DR Region (its feature-availability table, not in cfn-lint\'s data) is not checked: a Region pair without it fails the first copy job, not the deploy. A tier\'s SageMaker endpoint instance types (training.endpointInstanceTypes) are checked against cfn-lint\'s SageMaker hosting data; its training instance types (training.instanceTypes) are not: the data has none for training jobs.',
  'Account customizations (tiers.<tier>.accountCustomizations) are not checked here: synth reads their templates (parameters, size and resource quotas, no nested stack, no role named like Tessera\'s), but their stacks, deployed as tessera-account-customizations with the tier\'s accountCustomizationsRole policies under its permissions boundary, are not instantiated nor their handlers\' calls evaluated against those policies or the SCPs; a customization stack that needs more fails at Deploy customizations.',
  'Not modelled at all: RCPs, permission boundaries (but the namespace deployer\'s), VPC endpoint policies on the deploy path, IAM eventual consistency (a role used seconds after creation), service capacity (InsufficientInstanceCapacity for GPU types in an AZ), and account-level settings (EBS encryption by default, S3 account public access block).',
  'First real deployment checklist: deploy the account baseline and one tenant per tier into a sandbox organization with the SCPs attached; confirm the quarantined account\'s EKS, flow-log, RDS monitoring and Backup roles work; confirm the execution role completes create, update (a tier change) and delete; read the CloudTrail AccessDenied events of the run; compare the applied Service Quotas with the defaults above; confirm the generated names of the second tenant in the workload account.',
];
