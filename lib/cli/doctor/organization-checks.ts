import { DescribeOrganizationCommand, paginateListAWSServiceAccessForOrganization, ListRootsCommand, type Root } from '@aws-sdk/client-organizations';
import { pages } from '../../aws-pages.js';
import { organizationTrailOf } from '../../config/organization-trail.js';
import { accountTierOptInRegions } from '../../config/region-opt-in.js';
import { configuredAlternateContactTypes } from '../../config/alternate-contacts.js';
import { describeAwsError, errorName, isAccessDenied } from '../aws-errors.js';
import { callFailed, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/**
 * Service principals the platform needs trusted access for, with the config condition that needs it.
 * Source: grep of lib/ and constructs/ for organization features:
 * - CloudTrail: the audit trail is an organization trail with `audit.organizationTrail` (absent: when the platform account
 *   is the management account; lib/config/organization-trail.ts), made by the management account or, from a member
 *   platform account, by CloudTrail's delegated administrator, which also needs trusted access (organization-trail-checks.ts
 *   checks the registration);
 * - Account Management (`account.amazonaws.com`): when an account tier uses an opt-in region (lib/config/region-opt-in.ts
 *   accountTierOptInRegions), *Enable regions* calls account:EnableRegion and account:GetRegionOptStatus with the tenant's
 *   `AccountId`, which needs "trusted access enabled for the Account Management service" (AWS Account Management API
 *   Reference, EnableRegion, `AccountId`: https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html).
 *   The same with a tier's `alternateContacts`: *Set alternate contacts* calls account:PutAlternateContact with the
 *   tenant's `AccountId` (API Reference, PutAlternateContact, `AccountId`).
 *   A documented step (docs/deploying.md), as CloudTrail's: TesseraOrganization has no custom resource calling
 *   Organizations, and enabling trusted access is an organization-wide decision the platform team makes once.
 * Nothing else uses a delegated administrator or service-managed StackSets; the lifecycle reaches Organizations
 * through its own role (TesseraOrganizationAccess).
 */
export const TRUSTED_SERVICES: ReadonlyArray<{ principal: string; needed: (c: DoctorContext['config']) => boolean; why: (c: DoctorContext['config']) => string; notNeeded: string }> = [
  {
    principal: 'cloudtrail.amazonaws.com',
    needed: (c) => organizationTrailOf(c).organizationTrail,
    why: (c) => organizationTrailOf(c).delegatedAdministrator
      ? 'the audit trail is an organization trail (audit.organizationTrail), created by the platform account as CloudTrail\'s delegated administrator'
      : 'the audit trail is an organization trail (platformAccountId is the management account)',
    notNeeded: 'not needed (trail in the platform account)',
  },
  {
    principal: 'account.amazonaws.com',
    needed: (c) => accountTierOptInRegions(c).length > 0 || configuredAlternateContactTypes(c.tiers).length > 0,
    why: (c) => [
      ...(accountTierOptInRegions(c).length > 0 ? [`the onboarding enables opt-in region ${accountTierOptInRegions(c).join(', ')} in each account-tier tenant's account (account:EnableRegion from the management account)`] : []),
      ...(configuredAlternateContactTypes(c.tiers).length > 0 ? [`the onboarding sets alternate contacts ${configuredAlternateContactTypes(c.tiers).join(', ')} in each tenant account of a tier with alternateContacts (account:PutAlternateContact from the management account)`] : []),
    ].join('; '),
    notNeeded: 'not needed (no account tier uses an opt-in region or sets alternateContacts)',
  },
];

/**
 * Check 1: the organization exists with all features, its management account and id match the
 * config, its root id matches and service control policies are enabled on it.
 * Calls: organizations:DescribeOrganization, organizations:ListRoots (management account).
 */
export async function organizationChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { organization: org } = ctx.config;
  const where = { account: ctx.callerAccount, region: ctx.region };
  const out: CheckResult[] = [];
  const id = 'organization';
  const title = 'Organization';
  try {
    const o = (await ctx.caller.organizations.send(new DescribeOrganizationCommand({}))).Organization;
    const problems: string[] = [];
    const fixes: string[] = [];
    if (o?.FeatureSet !== 'ALL') {
      problems.push(`feature set is ${o?.FeatureSet ?? 'unknown'}, not ALL`);
      fixes.push('aws organizations enable-all-features (then accept the handshake in every member account)');
    }
    if (o?.MasterAccountId !== org.managementAccountId) {
      problems.push(`management account is ${o?.MasterAccountId}, config says ${org.managementAccountId}`);
      fixes.push(`set organization.managementAccountId: "${o?.MasterAccountId}" in the config, or run doctor with credentials of the right organization`);
    }
    if (o?.Id !== org.organizationId) {
      problems.push(`organization id is ${o?.Id}, config says ${org.organizationId}`);
      fixes.push(`set organization.organizationId: ${o?.Id} in the config`);
    }
    out.push(problems.length === 0
      ? result(id, title, 'pass', `${o!.Id}, management account ${o!.MasterAccountId}, all features`, where)
      : result(id, title, 'fail', problems.join('; '), { ...where, fix: fixes.join('; ') }));
  } catch (e) {
    const name = errorName(e);
    if (name === 'AWSOrganizationsNotInUseException') {
      out.push(result(id, title, 'fail', `account ${ctx.callerAccount} is in no organization`, { ...where, fix: 'aws organizations create-organization --feature-set ALL (in the management account)' }));
    } else {
      out.push(callFailed(id, title, 'organizations:DescribeOrganization', e, `run doctor with credentials of the management account ${org.managementAccountId} (--profile)`, where));
    }
  }

  const rootId = 'organization-root';
  const rootTitle = 'Root and SCPs';
  try {
    const roots = (await ctx.caller.organizations.send(new ListRootsCommand({}))).Roots ?? [];
    const root: Root | undefined = roots.find((r) => r.Id === org.rootId);
    if (!root) {
      out.push(result(rootId, rootTitle, 'fail', `root ${org.rootId} not found (roots: ${roots.map((r) => r.Id).join(', ') || 'none'})`, { ...where, fix: roots[0]?.Id ? `set organization.rootId: ${roots[0].Id} in the config` : 'aws organizations list-roots' }));
    } else {
      const scp = root.PolicyTypes?.find((p) => p.Type === 'SERVICE_CONTROL_POLICY');
      out.push(scp?.Status === 'ENABLED'
        ? result(rootId, rootTitle, 'pass', `root ${root.Id}, SERVICE_CONTROL_POLICY enabled`, where)
        : result(rootId, rootTitle, 'fail', `root ${root.Id}: SERVICE_CONTROL_POLICY is ${scp?.Status ?? 'not enabled'} (TesseraOrganization attaches SCPs)`, {
          ...where, fix: `aws organizations enable-policy-type --root-id ${root.Id} --policy-type SERVICE_CONTROL_POLICY`,
        }));
    }
  } catch (e) {
    out.push(callFailed(rootId, rootTitle, 'organizations:ListRoots', e, `run doctor with credentials of the management account ${org.managementAccountId} (--profile)`, where));
  }
  return out;
}

/**
 * Check 2: trusted access for each service the config needs in the organization (TRUSTED_SERVICES).
 * Calls: organizations:ListAWSServiceAccessForOrganization (management account), only when needed.
 */
export async function trustedAccessChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const where = { account: ctx.callerAccount, region: ctx.region };
  const needed = TRUSTED_SERVICES.filter((s) => s.needed(ctx.config));
  const out = TRUSTED_SERVICES.filter((s) => !s.needed(ctx.config)).map((s) => result(`trusted-access:${s.principal}`, `Trusted access ${s.principal}`, 'pass', s.notNeeded, where));
  // One line per service, in TRUSTED_SERVICES' order, whichever are needed.
  const ordered = (lines: CheckResult[]) => TRUSTED_SERVICES.flatMap((s) => lines.filter((l) => l.id === `trusted-access:${s.principal}`));
  if (needed.length === 0) return ordered(out);
  let enabled: Set<string>;
  try {
    const principals: string[] = [];
    for await (const page of paginateListAWSServiceAccessForOrganization(pages(ctx.caller.organizations), {})) {
      principals.push(...(page.EnabledServicePrincipals ?? []).map((p) => p.ServicePrincipal ?? ''));
    }
    enabled = new Set(principals);
  } catch (e) {
    const fix = isAccessDenied(e) ? `run doctor with credentials of the management account ${ctx.config.organization.managementAccountId} (--profile)` : 'retry; see the error';
    return ordered([...out, ...needed.map((s) => result(`trusted-access:${s.principal}`, `Trusted access ${s.principal}`, 'fail', describeAwsError('organizations:ListAWSServiceAccessForOrganization', e), { ...where, fix }))]);
  }
  for (const s of needed) {
    out.push(enabled.has(s.principal)
      ? result(`trusted-access:${s.principal}`, `Trusted access ${s.principal}`, 'pass', `enabled (${s.why(ctx.config)})`, where)
      : result(`trusted-access:${s.principal}`, `Trusted access ${s.principal}`, 'fail', `not enabled, and ${s.why(ctx.config)}`, { ...where, fix: `aws organizations enable-aws-service-access --service-principal ${s.principal}` }));
  }
  return ordered(out);
}
