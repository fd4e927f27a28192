import {
  DescribePolicyCommand,
  paginateListAWSServiceAccessForOrganization,
  paginateListOrganizationalUnitsForParent,
  paginateListPolicies,
  paginateListPoliciesForTarget,
  type OrganizationsClient,
  type PolicySummary,
} from '@aws-sdk/client-organizations';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { SERVICE_ROLE_PATH } from '../../tenant-naming.js';
import { pages } from '../../aws-pages.js';
import { describeAwsError, errorName, isAccessDenied } from '../aws-errors.js';
import { result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/**
 * Tessera beside AWS Control Tower and Landing Zone Accelerator (docs/control-tower.md): what in
 * the organization decides whether TesseraOrganization deploys and the lifecycle's CreateAccount,
 * AttachPolicy and MoveAccount calls work. Control Tower's controls reach Tessera's accounts as SCPs
 * on the OUs Control Tower registered, so doctor reads them through Organizations (the
 * `@aws-sdk/client-controltower` client is not a dependency of Tessera; the SCPs are what AWS
 * enforces, whatever the landing zone manifest says).
 */

/** Service principal of AWS Control Tower: trusted access for it means a landing zone was set up. */
export const CONTROL_TOWER_PRINCIPAL = 'controltower.amazonaws.com';

/**
 * SCPs attached to one root, OU or account at most.
 * Source: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
 * ("Maximum number of SCPs attached to a root, OU, or account": 5).
 */
export const SCP_QUOTA_PER_TARGET = 5;

/**
 * Prefix of the SCPs Control Tower attaches to the OUs it registered ("Managed SCPs have identifiers
 * that begin with aws-guardrails", https://repost.aws/knowledge-center/control-tower-landing-zone-drift).
 */
export const CONTROL_TOWER_SCP_PREFIX = 'aws-guardrails';

/**
 * SSM parameter Landing Zone Accelerator's installer writes in its home Region of the management
 * account (the default prefix `accelerator` and installer stack name `AWSAccelerator-InstallerStack`).
 * Source: awslabs/landing-zone-accelerator-on-aws, AWS_ACCELERATOR_INSTALLER_STACK_VERSION_SSM_PARAMETER_NAME.
 */
export const LZA_VERSION_PARAMETER = '/accelerator/AWSAccelerator-InstallerStack/version';

/**
 * The name of LZA's quarantine SCP in LZA's documentation: `quarantineNewAccounts.scpPolicyName` names an SCP of
 * organization-config.yaml's serviceControlPolicies, `QuarantineAccounts` in its example.
 * Source: https://awslabs.github.io/landing-zone-accelerator-on-aws/v1.13.1/typedocs/interfaces/___packages__aws_accelerator_config_lib_models_organization_config.IQuarantineNewAccountsConfig.html
 */
export const LZA_QUARANTINE_SCP_EXAMPLE = 'QuarantineAccounts';

/** The config key of the SCPs *Activate tenant* detaches from tenant accounts besides tessera-quarantine (lib/config/schema.ts). */
export const EXTERNAL_QUARANTINE_KEY = 'organization.externalQuarantinePolicies';

/** TesseraOrganization's stack name: `STACK_IDS.organization` in lib/tessera-app.ts (not imported: that module loads aws-cdk-lib). */
export const ORGANIZATION_STACK = 'TesseraOrganization';

/** The SCPs TesseraOrganization attaches (constructs/organization-guardrails.ts). */
const GUARDRAILS_SCP = 'tessera-guardrails';
const QUARANTINE_SCP = 'tessera-quarantine';

/** A Tessera OU and the Tessera SCPs attached to it (constructs/organization-guardrails.ts). */
interface TesseraOu {
  readonly name: string;
  readonly scps: readonly string[];
  /** What to change when another OU under the root already holds the name. */
  readonly rename: string;
  /** TesseraOrganization's output holding the OU's id (lib/organization-stack.ts). */
  readonly output: string;
}

/** Tessera's OUs, each with the SCPs TesseraOrganization attaches to it: guardrails everywhere, quarantine on Quarantine and Suspended. */
export function tesseraOus(config: DoctorContext['config']): TesseraOu[] {
  return [
    ...Object.keys(config.tiers).map((tier) => ({
      name: `tessera-${tier}`, scps: [GUARDRAILS_SCP], rename: `rename the tier ${tier} in tiers (its OU is tessera-<tier>), or the other OU`, output: `TierOu${tier.replace(/[^A-Za-z0-9]/g, '')}`,
    })),
    { name: config.organization.quarantineOuName, scps: [GUARDRAILS_SCP, QUARANTINE_SCP], rename: `set organization.quarantineOuName to another name (e.g. tessera-quarantine)`, output: 'QuarantineOu' },
    { name: config.organization.suspendedOuName, scps: [GUARDRAILS_SCP, QUARANTINE_SCP], rename: `set organization.suspendedOuName to another name (e.g. tessera-suspended)`, output: 'SuspendedOu' },
  ];
}

/**
 * The principals to exempt in LZA's quarantine SCP so that Tessera's onboarding works while it is
 * attached: the ones tessera-quarantine admits (lib/guardrail-policies.ts quarantinePolicy: the
 * provisioning role, the blueprint execution role, the AWS service roles on SERVICE_ROLE_PATH).
 * The tenant roles (`tessera-<id>-<purpose>`), break-glass and Identity Center users are not among
 * them: the SCP must be detached for those once the tenant is ACTIVE.
 * @returns IAM role ARN patterns, `arn:aws:iam::*:role/...`
 */
export function lzaQuarantineExemptions(config: DoctorContext['config']): string[] {
  return [
    `arn:aws:iam::*:role/${config.roles.provisioningRoleName}`,
    `arn:aws:iam::*:role/${config.roles.blueprintExecutionRoleName}`,
    `arn:aws:iam::*:role${SERVICE_ROLE_PATH}tessera-*`,
  ];
}

/** A Deny statement of an SCP that leaves only some Regions (`aws:RequestedRegion` StringNotEquals), as CT's Region deny controls do. */
export interface RegionDeny {
  /** The SCP's name. */
  readonly policy: string;
  /** The statement's Sid (`GRREGIONDENY` for the landing zone's control), if any. */
  readonly sid?: string;
  /** The Regions the statement leaves open. */
  readonly allowed: readonly string[];
}

/**
 * The Region deny statements of an SCP document: `Effect: Deny` with a `StringNotEquals` (or
 * `StringNotEqualsIgnoreCase`) condition on `aws:RequestedRegion`, the shape of Control Tower's landing
 * zone Region deny (`GRREGIONDENY`) and of its OU Region deny control CT.MULTISERVICE.PV.1.
 * Source: https://docs.aws.amazon.com/controltower/latest/userguide/primary-region-deny-policy.html
 * @param content - the SCP document as Organizations DescribePolicy returns it (JSON text)
 * @returns one entry per such statement; none for a document that is not JSON
 */
export function regionDenies(policy: string, content: string): RegionDeny[] {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(content) as { Statement?: unknown };
  } catch {
    return [];
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const out: RegionDeny[] = [];
  for (const s of statements as Array<{ Sid?: string; Effect?: string; Condition?: Record<string, Record<string, unknown>> }>) {
    if (s?.Effect !== 'Deny' || !s.Condition) continue;
    for (const [operator, keys] of Object.entries(s.Condition)) {
      if (!/^StringNotEquals(IgnoreCase)?$/.test(operator) || !keys) continue;
      const key = Object.keys(keys).find((k) => k.toLowerCase() === 'aws:requestedregion');
      if (!key) continue;
      const value = keys[key];
      out.push({ policy, ...(s.Sid ? { sid: s.Sid } : {}), allowed: (Array.isArray(value) ? value : [value]).map(String) });
    }
  }
  return out;
}

async function listAll<T>(iterate: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of iterate) out.push(page);
  return out;
}

async function scpsOf(orgs: OrganizationsClient, targetId: string): Promise<PolicySummary[]> {
  const list = await listAll(paginateListPoliciesForTarget(pages(orgs), { TargetId: targetId, Filter: 'SERVICE_CONTROL_POLICY' }));
  return list.flatMap((p) => p.Policies ?? []);
}

/** Region deny statements of `policies`, read with DescribePolicy once per policy id (`cache`); AWS managed SCPs (FullAWSAccess) and Tessera's own are skipped. */
async function denialsOf(orgs: OrganizationsClient, policies: readonly PolicySummary[], cache: Map<string, RegionDeny[]>): Promise<RegionDeny[]> {
  const out: RegionDeny[] = [];
  for (const p of policies) {
    if (p.AwsManaged || !p.Id || p.Name === GUARDRAILS_SCP || p.Name === QUARANTINE_SCP) continue;
    if (!cache.has(p.Id)) {
      const content = (await orgs.send(new DescribePolicyCommand({ PolicyId: p.Id }))).Policy?.Content ?? '';
      cache.set(p.Id, regionDenies(p.Name ?? p.Id, content));
    }
    out.push(...cache.get(p.Id)!);
  }
  return out;
}

const DOC = 'docs/control-tower.md';

/**
 * `organization.externalQuarantinePolicies`, the SCPs *Activate tenant* detaches from each tenant account once the
 * tenant is ACTIVE (lambdas/lifecycle/external-quarantine.ts):
 * - none listed where LZA was found (`lza`): one warning, `external-quarantine-policies`, naming the key: with
 *   LZA's quarantineNewAccounts enabled its SCP stays on every tenant account. When an SCP of LZA's documented name
 *   (LZA_QUARANTINE_SCP_EXAMPLE) exists (ListPolicies), the fix gives its id.
 * - each one listed, whether or not LZA was found: a line `external-quarantine:<policy id>` that fails when
 *   DescribePolicy does not find it (PolicyNotFoundException: Activate tenant would find it on no account), when it
 *   is not a customer SCP (another policy type, AWS managed) or Tessera's own, or when the config's `name` is not
 *   its name (a wrong id); a refused or failed read is a warning.
 * Calls: organizations:ListPolicies (only with LZA and nothing listed), organizations:DescribePolicy per listed SCP.
 */
async function externalQuarantineLines(ctx: DoctorContext, lza: boolean, refusedFix: (call: string, e: unknown) => string): Promise<CheckResult[]> {
  const where = { account: ctx.callerAccount, region: ctx.region };
  const orgs = ctx.caller.organizations;
  const listed = ctx.config.organization.externalQuarantinePolicies;
  const title = 'LZA quarantine SCP';
  if (!listed.length) {
    if (!lza) return [];
    let found: PolicySummary | undefined;
    try {
      found = (await listAll(paginateListPolicies(pages(orgs), { Filter: 'SERVICE_CONTROL_POLICY' })))
        .flatMap((p) => p.Policies ?? []).find((p) => p.Name === LZA_QUARANTINE_SCP_EXAMPLE);
    } catch {
      // Only a hint for the fix: without it, the fix says how to find the id.
    }
    const later = 'then deploy TesseraOrganization (and TesseraPlatform when the platform account is the management account): Activate tenant detaches it from each tenant account once the tenant is ACTIVE; tenants ACTIVE before that keep it until you detach it (aws organizations detach-policy --policy-id <its id> --target-id <account id>)';
    return [result('external-quarantine-policies', title, 'warn',
      `${EXTERNAL_QUARANTINE_KEY} is empty: if LZA's quarantineNewAccounts is enabled, its SCP stays on every tenant account after the tenant is ACTIVE (LZA lifts it only from the accounts of accounts-config.yaml) and denies everyone it does not exempt there${found ? `; the organization has an SCP named ${found.Name} (${found.Id}), the name LZA's documentation gives it` : ''}`, {
        ...where,
        fix: found
          ? `if quarantineNewAccounts.scpPolicyName in organization-config.yaml is ${found.Name}, set ${EXTERNAL_QUARANTINE_KEY} to [{ policyId: ${found.Id}, name: ${found.Name} }], ${later}`
          : `if quarantineNewAccounts is enabled in organization-config.yaml, add its scpPolicyName SCP to ${EXTERNAL_QUARANTINE_KEY} as { policyId: <its id>, name: <its name> } (aws organizations list-policies --filter SERVICE_CONTROL_POLICY lists the ids), ${later}`,
      })];
  }
  const out: CheckResult[] = [];
  for (const [i, entry] of listed.entries()) {
    const id = `external-quarantine:${entry.policyId}`;
    const key = `${EXTERNAL_QUARANTINE_KEY}[${i}]`;
    let summary: PolicySummary | undefined;
    try {
      summary = (await orgs.send(new DescribePolicyCommand({ PolicyId: entry.policyId }))).Policy?.PolicySummary;
    } catch (e) {
      if (errorName(e) === 'PolicyNotFoundException') {
        out.push(result(id, title, 'fail', `${key}.policyId = ${entry.policyId}: no such policy in the organization (PolicyNotFoundException): Activate tenant would find it on no tenant account and detach nothing`, {
          ...where, fix: `set ${key}.policyId to the id aws organizations list-policies --filter SERVICE_CONTROL_POLICY shows for ${entry.name ?? 'the SCP'}, or remove the entry`,
        }));
      } else {
        out.push(result(id, title, 'warn', `could not read ${entry.policyId} (${key}): ${describeAwsError('organizations:DescribePolicy', e)}`, { ...where, fix: refusedFix('organizations:DescribePolicy', e) }));
      }
      continue;
    }
    const name = summary?.Name ?? '?';
    const problem = summary?.Type !== 'SERVICE_CONTROL_POLICY' ? `is a ${summary?.Type ?? 'policy of unknown type'}, not a service control policy`
      : summary.AwsManaged ? 'is AWS managed, not another tool\'s quarantine'
        : [GUARDRAILS_SCP, QUARANTINE_SCP].includes(name) ? `is Tessera's own ${name}, which the lifecycle attaches and detaches itself`
          : entry.name !== undefined && entry.name !== name ? `is named ${name}, not ${entry.name} (${key}.name): the id or the name is wrong`
            : undefined;
    if (problem) {
      out.push(result(id, title, 'fail', `${key}.policyId = ${entry.policyId}: ${problem}`, {
        ...where, fix: `set ${key}.policyId to the id of the SCP to detach (aws organizations list-policies --filter SERVICE_CONTROL_POLICY), or remove the entry`,
      }));
    } else {
      out.push(result(id, title, 'pass', `${entry.policyId} (${name}), an SCP of the organization: Activate tenant detaches it from each tenant account once the tenant is ACTIVE`, where));
    }
  }
  return out;
}

/**
 * Control Tower and Landing Zone Accelerator beside Tessera, in the management account:
 * - `control-tower`: whether Control Tower is set up (trusted access for controltower.amazonaws.com).
 * - `control-tower-ou:<ou>` (with Control Tower or LZA): each OU of a Tessera name under the root.
 *   One that is not TesseraOrganization's (its id is not among the stack's outputs, read in
 *   homeRegion) fails: the deploy would fail with DuplicateOrganizationalUnitException, and the fix
 *   is another name in the config, never a change to that OU. Tessera's own: whether Control Tower
 *   registered it (an `aws-guardrails-*` SCP attached: its controls reach the accounts Tessera moves
 *   in, and auto-enrollment enrolls them, a warning), and its SCP count plus the Tessera SCPs not
 *   yet attached against the 5 per target (over: a failure, TesseraOrganization's AttachPolicy
 *   would be refused).
 * - `control-tower-region-deny` (with Control Tower or LZA): the Region deny SCPs on the root and
 *   Tessera's OUs against `allowedRegions` (a Region they close fails: the lifecycle deploys there);
 *   with none there, the landing zone's own Region deny (AWS-GR_REGION_DENY, Sid `GRREGIONDENY`, on
 *   the OUs CT registered) is a warning for the day the Tessera OUs are registered.
 * - `landing-zone-accelerator`: LZA's installer version parameter in `ctx.region` under the default
 *   prefix (a warning naming the ignore list and the quarantine SCP steps). Not found is a warning
 *   where Control Tower is enabled or unknown (LZA mostly runs over a landing zone), a pass naming what
 *   it could not see otherwise: the parameter exists only in LZA's home Region and under its prefix.
 * - `external-quarantine-policies` / `external-quarantine:<policy id>`: organization.externalQuarantinePolicies,
 *   empty where LZA was found (a warning), or each listed SCP checked to exist (externalQuarantineLines).
 * Calls (management account): organizations:ListAWSServiceAccessForOrganization,
 * organizations:ListOrganizationalUnitsForParent, organizations:ListPoliciesForTarget,
 * organizations:ListPolicies, organizations:DescribePolicy, ssm:GetParameter,
 * cloudformation:DescribeStacks (TesseraOrganization, only when an OU of a Tessera name exists).
 * Never throws for an AWS error: a refused read is a warning naming the call.
 */
export async function controlTowerChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const where = { account: ctx.callerAccount, region: ctx.region };
  const orgs = ctx.caller.organizations;
  const { config } = ctx;
  const out: CheckResult[] = [];
  const refusedFix = (call: string, e: unknown) => isAccessDenied(e)
    ? `grant ${call} to your credentials in the management account ${config.organization.managementAccountId} (or use ReadOnlyAccess), then run doctor again`
    : 'run doctor again; if it persists, see the error';

  // Control Tower: trusted access for its principal (set when a landing zone is created).
  let controlTower: boolean | undefined;
  try {
    const principals = (await listAll(paginateListAWSServiceAccessForOrganization(pages(orgs), {})))
      .flatMap((p) => (p.EnabledServicePrincipals ?? []).map((s) => s.ServicePrincipal));
    controlTower = principals.includes(CONTROL_TOWER_PRINCIPAL);
    out.push(result('control-tower', 'Control Tower', 'pass', controlTower
      ? `enabled (${CONTROL_TOWER_PRINCIPAL} has trusted access): Tessera vends accounts with Organizations CreateAccount, not Account Factory, and moves them into its own OUs; with auto-enrollment (landing zone 3.1 and later) that MoveAccount enrolls an account whose OU is registered, so keep the Tessera OUs unregistered; the lines below say which are (${DOC})`
      : `not enabled (${CONTROL_TOWER_PRINCIPAL} has no trusted access)`, where));
  } catch (e) {
    out.push(result('control-tower', 'Control Tower', 'warn', `could not tell whether Control Tower is enabled: ${describeAwsError('organizations:ListAWSServiceAccessForOrganization', e)}`, {
      ...where, fix: refusedFix('organizations:ListAWSServiceAccessForOrganization', e),
    }));
  }

  // Landing Zone Accelerator: its installer's version parameter, in this Region and under the default prefix only.
  let lza = false;
  const { breakGlassRoleName } = config.roles;
  const listedIds = config.organization.externalQuarantinePolicies.map((p) => p.policyId);
  try {
    const version = (await ctx.caller.ssm.send(new GetParameterCommand({ Name: LZA_VERSION_PARAMETER }))).Parameter?.Value;
    lza = true;
    const ous = tesseraOus(config).map((o) => o.name);
    out.push(result('landing-zone-accelerator', 'Landing Zone Accelerator', 'warn',
      `installed (${LZA_VERSION_PARAMETER} = ${version ?? '?'}): its pipeline manages the OUs and accounts of organization-config.yaml and accounts-config.yaml, and with quarantineNewAccounts enabled it attaches its quarantine SCP to every new account, Tessera's included, and does not detach it from accounts outside accounts-config.yaml`, {
        ...where,
        fix: `in organization-config.yaml add ${ous.map((n) => `{ name: ${n}, ignore: true }`).join(', ')} under organizationalUnits; if quarantineNewAccounts is enabled, exempt ${lzaQuarantineExemptions(config).join(', ')} in its scpPolicyName SCP (or onboarding stops at verify-provisioning-access), and ${listedIds.length ? `check that ${EXTERNAL_QUARANTINE_KEY} (${listedIds.join(', ')}) names that SCP` : `list that SCP in ${EXTERNAL_QUARANTINE_KEY}`}: Activate tenant detaches it from each tenant account once the tenant is ACTIVE; until then it denies everyone else there, ${breakGlassRoleName} and your Identity Center users included (${DOC})`,
      }));
  } catch (e) {
    if (errorName(e) === 'ParameterNotFound') {
      // LZA deploys over a Control Tower landing zone in most organizations: with Control Tower on (or unknown), its
      // absence here is no sign, a warning; without Control Tower a pass that says what it did not see.
      out.push(result('landing-zone-accelerator', 'Landing Zone Accelerator', controlTower === false ? 'pass' : 'warn', `not found in ${ctx.region} (no ${LZA_VERSION_PARAMETER}): ${controlTower === false ? 'an LZA installed with another home Region or acceleratorPrefix would not be seen here' : 'doctor cannot tell whether LZA runs in this organization'}, because the parameter lives only in LZA's home Region and its name carries LZA's prefix (accelerator unless acceleratorPrefix was changed)`, {
        ...where,
        fix: `if LZA runs in this organization (its installer stack, AWSAccelerator-InstallerStack by default, is in CloudFormation in its home Region), follow What LZA sees in ${DOC}; otherwise nothing to do`,
      }));
    } else {
      out.push(result('landing-zone-accelerator', 'Landing Zone Accelerator', 'warn', `could not tell whether LZA is installed: ${describeAwsError('ssm:GetParameter', e)}`, {
        ...where, fix: refusedFix('ssm:GetParameter', e),
      }));
    }
  }
  out.push(...await externalQuarantineLines(ctx, lza, refusedFix));
  if (!controlTower && !lza) return out;

  // The Tessera OUs under the root (TesseraOrganization creates them there; the lifecycle finds them by name).
  const rootId = config.organization.rootId;
  const existing = new Map<string, string>();
  const cache = new Map<string, RegionDeny[]>();
  const denials: Array<RegionDeny & { target: string }> = [];
  const step = { call: 'organizations:ListOrganizationalUnitsForParent' };
  try {
    for (const page of await listAll(paginateListOrganizationalUnitsForParent(pages(orgs), { ParentId: rootId }))) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Name && ou.Id) existing.set(ou.Name, ou.Id);
    }
    step.call = 'organizations:ListPoliciesForTarget';
    const rootScps = await scpsOf(orgs, rootId);
    step.call = 'organizations:DescribePolicy';
    denials.push(...(await denialsOf(orgs, rootScps, cache)).map((d) => ({ ...d, target: `root ${rootId}` })));
  } catch (e) {
    out.push(result('control-tower-ous', 'Tessera OUs', 'warn', `could not read the OUs and SCPs under ${rootId}: ${describeAwsError(step.call, e)}`, { ...where, fix: refusedFix(step.call, e) }));
    return out;
  }

  // Which OUs are Tessera's: the ids in TesseraOrganization's outputs (an OU of the same name may be
  // the organization's own, e.g. a Control Tower or LZA `Suspended`; Organizations refuses a second
  // OU of one name under one parent, DuplicateOrganizationalUnitException).
  const ous = tesseraOus(config);
  let tesseraIds: Set<string> | undefined;
  let outputsError: unknown;
  if (ous.some((o) => existing.has(o.name))) {
    try {
      const stack = (await ctx.callerIn(config.homeRegion).cloudFormation.send(new DescribeStacksCommand({ StackName: ORGANIZATION_STACK }))).Stacks?.[0];
      tesseraIds = new Set((stack?.Outputs ?? []).filter((o) => ous.some((t) => t.output === o.OutputKey)).map((o) => o.OutputValue ?? ''));
    } catch (e) {
      if (errorName(e) === 'ValidationError' && /does not exist/.test(String((e as Error).message))) tesseraIds = new Set();
      else outputsError = e;
    }
  }

  for (const ou of ous) {
    const id = `control-tower-ou:${ou.name}`;
    const title = `OU ${ou.name}`;
    const ouId = existing.get(ou.name);
    if (!ouId) {
      out.push(result(id, title, 'pass', `not created yet: TesseraOrganization creates it under ${rootId}, unregistered, with ${ou.scps.length + 1} SCPs (FullAWSAccess, ${ou.scps.join(', ')}) of ${SCP_QUOTA_PER_TARGET}`, where));
      continue;
    }
    if (!tesseraIds) {
      out.push(result(id, title, 'warn', `an OU named ${ou.name} (${ouId}) exists under ${rootId}; could not tell whether it is Tessera's: ${describeAwsError(`cloudformation:DescribeStacks ${ORGANIZATION_STACK}`, outputsError)}`, {
        ...where, fix: refusedFix('cloudformation:DescribeStacks', outputsError),
      }));
      continue;
    }
    if (!tesseraIds.has(ouId)) {
      out.push(result(id, title, 'fail', `an OU named ${ou.name} (${ouId}) exists under ${rootId} and is not Tessera's (not among ${ORGANIZATION_STACK}'s outputs): the deploy of ${ORGANIZATION_STACK} fails creating its own (DuplicateOrganizationalUnitException)`, {
        ...where, fix: `${ou.rename}; leave ${ouId} as it is`,
      }));
      continue;
    }
    let attached: PolicySummary[];
    try {
      attached = await scpsOf(orgs, ouId);
      denials.push(...(await denialsOf(orgs, attached, cache)).map((d) => ({ ...d, target: `${ou.name} (${ouId})` })));
    } catch (e) {
      out.push(result(id, title, 'warn', `could not read its SCPs: ${describeAwsError('organizations:ListPoliciesForTarget', e)}`, { ...where, fix: refusedFix('organizations:ListPoliciesForTarget, organizations:DescribePolicy', e) }));
      continue;
    }
    const names = attached.map((p) => p.Name ?? p.Id ?? '?');
    const toAttach = ou.scps.filter((n) => !names.includes(n));
    const total = names.length + toAttach.length;
    const ctScps = names.filter((n) => n.startsWith(CONTROL_TOWER_SCP_PREFIX));
    const count = `${names.length} SCPs attached (${names.join(', ') || 'none'})${toAttach.length ? ` + ${toAttach.join(', ')} that TesseraOrganization attaches = ${total}` : ''} of ${SCP_QUOTA_PER_TARGET}`;
    if (total > SCP_QUOTA_PER_TARGET) {
      out.push(result(id, title, 'fail', `${ouId}: ${count}: ${toAttach.length ? `the deploy of TesseraOrganization fails attaching ${toAttach.join(', ')}` : 'over the quota'} (ConstraintViolationException MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)`, {
        ...where, fix: `make room for ${total - SCP_QUOTA_PER_TARGET} on ${ouId}: detach an SCP or merge two (aws organizations list-policies-for-target --target-id ${ouId} --filter SERVICE_CONTROL_POLICY)${ctScps.length ? `; Control Tower's ${ctScps.join(', ')} come with the OU's registration: deregister it to drop them` : ''}`,
      }));
    } else if (ctScps.length) {
      out.push(result(id, title, 'warn', `${ouId} is registered with Control Tower (${ctScps.join(', ')}): its preventive controls apply to every tenant account Tessera moves in, and with auto-enrollment (landing zone 3.1 and later) that move enrolls the account while tessera-quarantine still denies Control Tower's roles there; ${count}`, {
        ...where, fix: `deregister ${ou.name} in the Control Tower console (Organization, ${ou.name}, Deregister) so Tessera's SCPs alone govern it (${DOC})`,
      }));
    } else {
      out.push(result(id, title, 'pass', `${ouId}, not registered with Control Tower; ${count}`, where));
    }
  }

  // Region deny: on the root or a Tessera OU it applies to the tenant accounts now.
  const regionLine = (status: 'pass' | 'warn' | 'fail', detail: string, fix?: string) => result('control-tower-region-deny', 'Region deny', status, detail, { ...where, ...(fix ? { fix } : {}) });
  const closing = denials.map((d) => ({ ...d, missing: config.allowedRegions.filter((r) => !d.allowed.includes(r)) }));
  const blocking = closing.filter((d) => d.missing.length);
  if (blocking.length) {
    const missing = [...new Set(blocking.flatMap((d) => d.missing))];
    out.push(regionLine('fail', blocking.map((d) => `${d.policy}${d.sid ? ` (${d.sid})` : ''} on ${d.target} allows only ${d.allowed.join(', ')}`).join('; ') + `: allowedRegions ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} denied there, so deploys of tenants there fail`,
      `add ${missing.join(', ')} to the landing zone's governed Regions (Control Tower, Landing zone settings) or the OU's Region deny control, or remove ${missing.length === 1 ? 'it' : 'them'} from allowedRegions`));
  } else if (closing.length) {
    out.push(regionLine('pass', `${[...new Set(closing.map((d) => d.policy))].join(', ')} allow every allowedRegion (${config.allowedRegions.join(', ')})`));
  } else if (controlTower) {
    // Nothing on Tessera's OUs: the landing zone's Region deny (on the OUs CT registered) matters the day they are registered.
    try {
      const ctPolicies = (await listAll(paginateListPolicies(pages(orgs), { Filter: 'SERVICE_CONTROL_POLICY' })))
        .flatMap((p) => p.Policies ?? []).filter((p) => p.Name?.startsWith(CONTROL_TOWER_SCP_PREFIX));
      const landingZone = (await denialsOf(orgs, ctPolicies, cache)).map((d) => ({ ...d, missing: config.allowedRegions.filter((r) => !d.allowed.includes(r)) }));
      const narrow = landingZone.filter((d) => d.missing.length);
      if (narrow.length) {
        const missing = [...new Set(narrow.flatMap((d) => d.missing))];
        out.push(regionLine('warn', `no Region deny on the root or the Tessera OUs; Control Tower's ${narrow.map((d) => `${d.policy}${d.sid ? ` (${d.sid})` : ''}`).join(', ')} allows only ${narrow[0].allowed.join(', ')}: registering a Tessera OU would deny allowedRegions ${missing.join(', ')} to its tenants`,
          `keep the Tessera OUs unregistered, or add ${missing.join(', ')} to the landing zone's governed Regions before registering them`));
      } else {
        out.push(regionLine('pass', `no Region deny on the root or the Tessera OUs${landingZone.length ? `; Control Tower's allows every allowedRegion (${config.allowedRegions.join(', ')})` : ''}`));
      }
    } catch (e) {
      out.push(regionLine('warn', `could not read Control Tower's SCPs: ${describeAwsError('organizations:ListPolicies / DescribePolicy', e)}`, refusedFix('organizations:ListPolicies, organizations:DescribePolicy', e)));
    }
  } else {
    out.push(regionLine('pass', 'no Region deny on the root or the Tessera OUs'));
  }
  return out;
}
