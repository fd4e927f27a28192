/**
 * The deploy preflight, end to end, for one config: per tier, the blueprint instantiated for
 * tenants in one account and region, handler permissions evaluated for the deploying principal,
 * name collisions and constraints, service rules, the service roles against the SCPs, and the
 * quota table. Pure (no printing); ./cli.ts prints, test/preflight/ asserts.
 */
import type { PlatformConfig } from '../config/schema.js';
import { ACCOUNT_BASELINE_STACK_NAME } from '../tenant-naming.js';
import type { CfnTemplate } from './cfn-template.js';
import type { LoadedBlueprints, TierBlueprints } from './blueprints.js';
import { checkHandlerPermissions, summarize, type Deployer, type PermissionCheck } from './handler-permissions.js';
import { findRole, identityOf } from './identity.js';
import { instantiate, type InstantiatedTemplate } from './instantiate.js';
import { checkNameConstraints, findCollisions, retainedResources, type NameCollision, type NameViolation, type RetainedResource } from './names.js';
import { ProviderSchemas } from './provider-schemas.js';
import { quotaTable, type TierQuotaSummary } from './quota-table.js';
import { scpsInForce, type ScpOverrides } from './scps.js';
import { checkServiceRoles, type ServiceRoleReport } from './service-roles.js';
import { checkServiceRules, SERVICE_RULES, type RuleResult, type ServiceRule } from './service-rules.js';

/** Where the tenants of the check live. Defaults: two placeholder accounts, the config's home Region. */
export interface PreflightTarget {
  /** Account of the tenant stacks (a vended account or the workload account). @default '333333333333' */
  readonly account?: string;
  /** @default config.homeRegion */
  readonly region?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Tenant ids instantiated together in one account and region. @default two ids plus the longest TENANT_ID_PATTERN allows */
  readonly tenantIds?: string[];
}

export interface PreflightOptions extends PreflightTarget {
  /** Replace SCP documents (self-tests). */
  readonly scpOverrides?: ScpOverrides;
  /** Mutate templates before the checks (self-tests plant defects). */
  readonly mutate?: (kind: 'tenant' | 'namespace' | 'baseline', tierName: string, template: CfnTemplate) => CfnTemplate;
  readonly rules?: readonly ServiceRule[];
  /** Check only these tiers. @default every tier of the config */
  readonly onlyTiers?: string[];
}

export interface BlueprintReport {
  readonly blueprint: string;
  readonly resources: number;
  readonly deployer: string;
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
}

/** Tenant ids: two ordinary ones and a 24-character one (TENANT_ID_PATTERN `^[a-z][a-z0-9-]{1,22}[a-z0-9]$`). */
export const DEFAULT_TENANT_IDS = ['acme', 'globex', 'a2345678901234567890123z'];

let sharedSchemas: ProviderSchemas | undefined;

export async function runPreflight(loaded: LoadedBlueprints, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const config = loaded.config;
  const schemas = (sharedSchemas ??= new ProviderSchemas());
  const account = opts.account ?? '333333333333';
  const region = opts.region ?? config.homeRegion;
  const partition = opts.partition ?? 'aws';
  const tenantIds = opts.tenantIds ?? DEFAULT_TENANT_IDS;
  const mutate = opts.mutate ?? ((_k, _t, t) => t);

  const baseline = loaded.baseline ? mutate('baseline', '', structuredClone(loaded.baseline)) : undefined;
  const deployerFor = (targetAccount: string): Deployer | undefined => {
    if (!baseline) return undefined;
    const inst = instantiate(baseline, { tenantId: 'baseline', vpcCidr: '10.0.0.0/16', account: targetAccount, region, partition, stackName: ACCOUNT_BASELINE_STACK_NAME });
    const role = findRole(inst, config.roles.blueprintExecutionRoleName);
    return role ? { principalArn: role.arn, identityPolicies: identityOf(inst, role).policies } : undefined;
  };

  const tiers: TierReport[] = [];
  for (const tier of loaded.tiers.filter((t) => !opts.onlyTiers || opts.onlyTiers.includes(t.tierName))) {
    tiers.push(await checkTier(tier, { config, schemas, account, region, partition, tenantIds, mutate, deployer: deployerFor(account), loaded, opts }));
  }
  return { tiers, baselinePresent: !!loaded.baseline, cfnLintVersion: schemas.version, cannotSee: CANNOT_SEE };
}

interface TierContext {
  config: PlatformConfig; schemas: ProviderSchemas; account: string; region: string; partition: string; tenantIds: string[];
  mutate: NonNullable<PreflightOptions['mutate']>; deployer?: Deployer; loaded: LoadedBlueprints; opts: PreflightOptions;
}

async function checkTier(tier: TierBlueprints, c: TierContext): Promise<TierReport> {
  const blockers: string[] = [];
  const tenantTemplate = c.mutate('tenant', tier.tierName, structuredClone(tier.tenant));
  const scpContext = tier.tier.isolation === 'account' ? 'account-mode' : 'vpc-mode';
  const scps = scpsInForce(c.config, scpContext, c.opts.scpOverrides);
  if (!c.deployer) blockers.push(`account baseline ${c.loaded.baseline ? `has no role ${c.config.roles.blueprintExecutionRoleName}` : 'template missing (no TesseraAccountBaseline stack in the Blueprints stage)'}: tenant stacks have no execution role, every handler permission is denied`);
  const deployer: Deployer = c.deployer ?? { principalArn: `arn:${c.partition}:iam::${c.account}:role/${c.config.roles.blueprintExecutionRoleName}`, identityPolicies: [] };

  const instances: InstantiatedTemplate[] = c.tenantIds.map((tenantId, i) => instantiate(tenantTemplate, {
    tenantId, account: c.account, region: c.region, partition: c.partition, vpcCidr: vpcCidrFor(tier, i),
  }));
  const first = instances[0];
  const blueprints: BlueprintReport[] = [];
  const tenantChecks = await checkHandlerPermissions({ inst: first, schemas: c.schemas, deployer, scps, organizationId: c.config.organization.organizationId });
  blueprints.push({ blueprint: `${tier.tierName}.template.json`, resources: Object.keys(first.resources).length, deployer: deployer.principalArn, checks: tenantChecks, counts: summarize(tenantChecks) });

  if (tier.namespace) {
    const ns = checkNamespace(tier, c);
    if (typeof ns === 'string') blockers.push(ns);
    else blueprints.push(await ns);
  }

  const rules = await checkServiceRules({ inst: first, tierName: tier.tierName, tier: tier.tier, config: c.config, deployer: c.deployer }, c.opts.rules ?? SERVICE_RULES);
  return {
    tierName: tier.tierName,
    isolation: tier.tier.isolation,
    blueprints,
    collisions: findCollisions(instances),
    nameViolations: instances.flatMap((inst) => checkNameConstraints(inst, c.schemas)),
    retained: retainedResources(first),
    rules,
    serviceRoles: await checkServiceRoles(first, scps),
    quotas: quotaTable(tier.tierName, tier.tier, tenantTemplate, tier.namespace),
    blockers,
  };
}

/** The namespace blueprint in the platform account, deployed by the namespace deployer role. */
function checkNamespace(tier: TierBlueprints, c: TierContext): Promise<BlueprintReport> | string {
  const deployerTemplate = c.loaded.namespaceDeployer;
  if (!deployerTemplate) return `${tier.tierName}: namespace blueprint present but the platform stack has no NamespaceDeployerRole`;
  const platformAccount = c.config.platformAccountId;
  const platform = instantiate(deployerTemplate.template, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: platformAccount, region: c.region, partition: c.partition, stackName: 'TesseraPlatform', lenient: true });
  const role = platform.resources[deployerTemplate.roleLogicalId];
  const cluster = Object.values(platform.resources).find((r) => r.type === 'AWS::EKS::Cluster');
  const kubectl = Object.values(platform.resources).find((r) => r.type === 'AWS::Lambda::Function');
  const template = c.mutate('namespace', tier.tierName, structuredClone(tier.namespace!));
  const ssmParams = Object.entries(template.Parameters ?? {}).filter(([, p]) => p.Type.startsWith('AWS::SSM::Parameter::Value'));
  const inst = instantiate(template, {
    tenantId: c.tenantIds[0], vpcCidr: vpcCidrFor(tier, 0), account: platformAccount, region: c.region, partition: c.partition,
    stackName: `tessera-${c.tenantIds[0]}-namespace`,
    parameters: { TenantAccountId: c.account, TenantVpcCidr: vpcCidrFor(tier, 0), ClusterName: cluster?.physicalId ?? 'tessera-shared', KubectlServiceToken: kubectl?.arn ?? 'unknown' },
  });
  return checkHandlerPermissions({
    inst, schemas: c.schemas,
    deployer: { principalArn: role.arn, identityPolicies: identityOf(platform, role).policies },
    scps: scpsInForce(c.config, 'platform', c.opts.scpOverrides),
    organizationId: c.config.organization.organizationId,
    // CloudFormation reads SSM-typed parameters with the stack's role.
    stackLevel: ssmParams.map(([, p]) => ({ action: 'ssm:GetParameters', resource: `arn:${c.partition}:ssm:${c.region}:${platformAccount}:parameter/${String(p.Default).replace(/^\//, '')}` })),
  }).then((checks) => ({ blueprint: `${tier.tierName}-namespace.template.json`, resources: Object.keys(inst.resources).length, deployer: role.arn, checks, counts: summarize(checks) }));
}

/** The i-th tenant VPC range of the tier's pool at its prefix length. */
function vpcCidrFor(tier: TierBlueprints, i: number): string {
  const [ip, poolPrefix] = tier.tier.network.tenantCidrPool.split('/');
  const base = ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - tier.tier.network.tenantVpcPrefixLength);
  const n = base + (i % 2 ** (tier.tier.network.tenantVpcPrefixLength - Number(poolPrefix))) * size;
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${tier.tier.network.tenantVpcPrefixLength}`;
}

/** Whether the tier passes: 0 denied, 0 collisions, 0 name violations, every rule, no service-role denial, no blocker. */
export function tierPasses(t: TierReport): boolean {
  return t.blockers.length === 0 && t.blueprints.every((b) => b.counts.denied === 0) && t.collisions.length === 0
    && t.nameViolations.length === 0 && t.rules.every((r) => r.violations.length === 0) && t.serviceRoles.denials.length === 0;
}

/** What the preflight cannot see: modelling assumptions and what needs a real account to confirm. */
export const CANNOT_SEE: readonly string[] = [
  'Handler permissions are those the CloudFormation provider schemas list (cfn-lint 1.58.0 data); a handler that calls more than its schema says, or a service that checks permissions it does not document, is invisible.',
  'Resource ARNs: own-service actions are checked on the resource and on the template resources it refers to whose type the action takes; tagging actions on the resource only; actions without a resource type on "*"; an AWS-named resource the template cannot name (e.g. an RDS-managed secret) on a deterministic stand-in ARN.',
  'kms actions of another service\'s handler are modelled as calls that service makes for the deployer (kms:ViaService = <service>.<region>.amazonaws.com, aws:ViaAWSService = true, kms:GrantIsForAWSResource = true for CreateGrant); the service chosen is the resource\'s own (RDS-managed secrets may go through secretsmanager instead).',
  'iam:PassedToService is taken as the service principal the passed role trusts; iam:AWSServiceName from a table of service-linked roles per resource type.',
  'Handler actions for features the blueprint leaves off (S3 metadata tables, Firehose delivery, EKS Auto Mode instance profiles, cross-Region endpoints, seeding a cache from S3) are counted "not exercised", like kms actions of a resource that names no key; S3 API operation names in the schemas are evaluated as the IAM action that authorizes them (ACTION_ALIASES); other strings that are not IAM actions of the Service Authorization Reference (s3:REST.PUT.OBJECT, backup-storage:Mount, vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation) are counted "not an action".',
  'A bucket policy is not in force while its bucket is created or deleted (CloudFormation creates and deletes it separately); a key policy is in force for every action on the key after CreateKey.',
  'SCPs: account mode = root [FullAWSAccess], tier OU [FullAWSAccess, guardrails], account [FullAWSAccess, quarantine]; VPC mode = root, an OU with [FullAWSAccess, guardrails] (the strict assumption), account [FullAWSAccess]; the platform account only root [FullAWSAccess]. Where the workload and platform accounts really sit is the platform team\'s choice.',
  'Service roles are checked against SCPs only, with the AWS-managed policies\' actions from an embedded excerpt (lib/preflight/aws-managed-policies.ts; only AmazonEKSClusterPolicy was read in full in AWS\'s reference); the SCPs here deny by principal and region, so an excerpt changes counts, not verdicts.',
  'Names CloudFormation generates are modelled as <stack>-<LogicalId>-<13 chars> cut to the name property\'s maxLength; ids and Fn::GetAZs (<region>a, b, c) are deterministic stand-ins. AWS\'s real truncation rules per type are not published in full.',
  'Quotas are AWS defaults; the applied values of a real account (Service Quotas), and the GPU vCPU quota of a new account (often 0), are not known offline. Quota codes are given only where an AWS source confirmed them.',
  'RDS engine versions per Region come from a small catalog read from AWS\'s release calendar (service-rules.ts), not from DescribeDBEngineVersions.',
  'Not modelled at all: RCPs, permission boundaries, VPC endpoint policies on the deploy path, IAM eventual consistency (a role used seconds after creation), service capacity (InsufficientInstanceCapacity for GPU types in an AZ), and account-level settings (EBS encryption by default, S3 account public access block).',
  'First real deployment checklist: deploy the account baseline and one tenant per tier into a sandbox organization with the SCPs attached; confirm the quarantined account\'s EKS, flow-log, RDS monitoring and Backup roles work; confirm the execution role completes create, update (a tier change) and delete; read the CloudTrail AccessDenied events of the run; compare the applied Service Quotas with the defaults above; confirm the generated names of the second tenant in the workload account.',
];
