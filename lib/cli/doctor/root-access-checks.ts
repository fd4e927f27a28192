import { ListOrganizationsFeaturesCommand } from '@aws-sdk/client-iam';
import { paginateListAWSServiceAccessForOrganization } from '@aws-sdk/client-organizations';
import { pages } from '../../aws-pages.js';
import { describeAwsError } from '../aws-errors.js';
import { grantOrRerun, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** IAM's service principal, whose trusted access centralized root access needs. */
export const IAM_PRINCIPAL = 'iam.amazonaws.com';

/** The centralized root access features (IAM ListOrganizationsFeatures `EnabledFeatures`), with the call that enables each. */
export const ROOT_ACCESS_FEATURES = [
  { feature: 'RootCredentialsManagement', enable: 'aws iam enable-organizations-root-credentials-management' },
  { feature: 'RootSessions', enable: 'aws iam enable-organizations-root-sessions' },
] as const;

/**
 * Whether Organizations' centralized root access is on, when a tier uses account isolation: IAM's trusted access
 * (`iam.amazonaws.com` among ListAWSServiceAccessForOrganization's principals) and both of IAM's features
 * (ListOrganizationsFeatures: `RootCredentialsManagement`, with which the management account can remove member accounts'
 * root credentials, and `RootSessions`, with which it performs the root-only tasks in a member account itself,
 * `sts:AssumeRoot`). A tenant account's root email is the platform's (`organization.accountEmail`), but
 * its root password can still be reset through that mailbox: with centralized root access it need not exist at all.
 * A `warn`, not a `fail`: nothing Tessera deploys needs it. Source: IAM User Guide, "Centrally manage root access for
 * member accounts"; IAM API Reference, EnableOrganizationsRootCredentialsManagement and EnableOrganizationsRootSessions
 * (both need IAM's trusted access in Organizations first).
 * Calls: organizations:ListAWSServiceAccessForOrganization, iam:ListOrganizationsFeatures (management account).
 */
export async function rootAccessChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const id = 'centralized-root-access';
  const title = 'Centralized root access';
  const where = { account: ctx.callerAccount, region: ctx.region };
  if (!Object.values(ctx.config.tiers).some((t) => t.isolation === 'account')) {
    return [result(id, title, 'pass', 'not needed (no tier uses account isolation: Tessera creates no member account)', where)];
  }
  const management = ctx.config.organization.managementAccountId;
  let trusted: boolean;
  try {
    trusted = false;
    for await (const page of paginateListAWSServiceAccessForOrganization(pages(ctx.caller.organizations), {})) {
      if ((page.EnabledServicePrincipals ?? []).some((p) => p.ServicePrincipal === IAM_PRINCIPAL)) trusted = true;
    }
  } catch (e) {
    return [result(id, title, 'warn', `not checked: ${describeAwsError('organizations:ListAWSServiceAccessForOrganization', e)}`, {
      ...where, fix: grantOrRerun(e, `run doctor with credentials of the management account ${management} (--profile)`, 'aws organizations list-aws-service-access-for-organization'),
    })];
  }
  let enabled: Set<string> = new Set();
  if (trusted) {
    try {
      enabled = new Set((await ctx.caller.iam.send(new ListOrganizationsFeaturesCommand({}))).EnabledFeatures ?? []);
    } catch (e) {
      return [result(id, title, 'warn', `not checked: ${describeAwsError('iam:ListOrganizationsFeatures', e)}`, {
        ...where, fix: grantOrRerun(e, `run doctor with credentials of the management account ${management} (--profile), allowed iam:ListOrganizationsFeatures`, 'aws iam list-organizations-features'),
      })];
    }
  }
  const missing = ROOT_ACCESS_FEATURES.filter((f) => !enabled.has(f.feature));
  if (trusted && missing.length === 0) {
    return [result(id, title, 'pass', `enabled (${ROOT_ACCESS_FEATURES.map((f) => f.feature).join(', ')}): the management account can remove tenant accounts' root credentials`, where)];
  }
  const problems = [...(trusted ? [] : [`trusted access for ${IAM_PRINCIPAL} is not enabled`]), `${missing.map((f) => f.feature).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} off`];
  const fix = [...(trusted ? [] : [`aws organizations enable-aws-service-access --service-principal ${IAM_PRINCIPAL}`]), ...missing.map((f) => f.enable)].join('; then ');
  return [result(id, title, 'warn', `${problems.join('; ')}: each account tenant's account has root credentials, whose password the root email's mailbox (organization.accountEmail) can reset`, {
    ...where, fix: `in the management account ${management}: ${fix}`,
  })];
}
