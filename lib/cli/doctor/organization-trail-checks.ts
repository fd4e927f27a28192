import { DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand, type GetEventSelectorsCommandOutput, type Trail } from '@aws-sdk/client-cloudtrail';
import { paginateListDelegatedAdministrators } from '@aws-sdk/client-organizations';
import { pages } from '../../aws-pages.js';
import { ORGANIZATION_TRAIL_NAME, organizationTrailOf } from '../../config/organization-trail.js';
import { describeAwsError, isAccessDenied } from '../aws-errors.js';
import { callFailed, grantOrRerun, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';

/**
 * Checks that the organization's accounts reach an audit trail (the management account's credentials, `ctx.region`):
 * - `cloudtrail-delegated-admin`: with `audit.organizationTrail` true and the platform in a member account, the platform
 *   account must be CloudTrail's delegated administrator, or CreateTrail with IsOrganizationTrail fails in
 *   `cdk deploy TesseraPlatform` (lib/config/organization-trail.ts). A fail naming
 *   `aws cloudtrail register-organization-delegated-admin` (CloudTrail's API: it also creates CloudTrail's service-linked
 *   role in the management account, which Organizations' RegisterDelegatedAdministrator does not,
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html).
 *   Calls organizations:ListDelegatedAdministrators (ServicePrincipal cloudtrail.amazonaws.com).
 * - `organization-trail`: some organization trail ({@link coverage}: IsOrganizationTrail, IsMultiRegionTrail, logging,
 *   management events read and write) covers the tenant accounts: Tessera's, Control Tower's, LZA's, any. Needed when a
 *   tier uses account isolation: without one, what is done in those accounts (break-glass sessions included) stays in
 *   each account's 90-day event history and never reaches an Object Lock bucket. None: a warning naming the fix. Calls
 *   cloudtrail:DescribeTrails (includeShadowTrails: the management account sees every organization trail, those a
 *   delegated administrator created included, since it owns them), cloudtrail:GetTrailStatus and, for a trail with
 *   custom event selectors, cloudtrail:GetEventSelectors, each by the trail's ARN (a shadow trail's status is asked by
 *   ARN: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html).
 */
export async function organizationTrailChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  return [await delegatedAdminLine(ctx), await coverageLine(ctx)];
}

async function delegatedAdminLine(ctx: DoctorContext): Promise<CheckResult> {
  const { config } = ctx;
  const id = 'cloudtrail-delegated-admin';
  const title = 'CloudTrail delegated administrator';
  const where = { account: ctx.callerAccount, region: ctx.region };
  const trail = organizationTrailOf(config);
  if (!trail.delegatedAdministrator) {
    return result(id, title, 'pass', trail.organizationTrail
      ? 'not needed (the platform account is the management account, which creates the organization trail itself)'
      : 'not needed (the audit trail is the platform account\'s: audit.organizationTrail is not true)', where);
  }
  let admins: string[];
  try {
    admins = [];
    for await (const page of paginateListDelegatedAdministrators(pages(ctx.caller.organizations), { ServicePrincipal: CLOUDTRAIL })) {
      admins.push(...(page.DelegatedAdministrators ?? []).map((a) => a.Id ?? ''));
    }
  } catch (e) {
    return callFailed(id, title, 'organizations:ListDelegatedAdministrators', e,
      isAccessDenied(e) ? `run doctor with credentials of the management account ${config.organization.managementAccountId} (--profile)` : 'retry; see the error', where);
  }
  const platform = config.platformAccountId;
  return admins.includes(platform)
    ? result(id, title, 'pass', `platform account ${platform} is CloudTrail's delegated administrator (audit.organizationTrail: it creates the organization trail ${ORGANIZATION_TRAIL_NAME})`, where)
    : result(id, title, 'fail', `platform account ${platform} is not CloudTrail's delegated administrator (registered: ${admins.join(', ') || 'none'}), and audit.organizationTrail makes TesseraPlatform create an organization trail from it: CloudTrail refuses that to any other member account`, {
      ...where,
      fix: `aws cloudtrail register-organization-delegated-admin --member-account-id ${platform} (with credentials of the management account ${config.organization.managementAccountId}; CloudTrail allows 3 delegated administrators)`,
    });
}

/** Why `trail` does not cover every account in every Region with management events, or undefined when it does. */
async function coverage(ctx: DoctorContext, trail: Trail): Promise<string | undefined> {
  if (!trail.IsMultiRegionTrail) return `its home Region ${trail.HomeRegion} only`;
  const arn = trail.TrailARN!;
  let logging: boolean | undefined;
  try {
    logging = (await ctx.caller.cloudTrail.send(new GetTrailStatusCommand({ Name: arn }))).IsLogging;
  } catch (e) {
    return `status unreadable: ${describeAwsError('cloudtrail:GetTrailStatus', e)}`;
  }
  if (!logging) return 'not logging';
  if (!trail.HasCustomEventSelectors) return undefined; // the default: all management events, read and write
  let selectors: GetEventSelectorsCommandOutput;
  try {
    selectors = await ctx.caller.cloudTrail.send(new GetEventSelectorsCommand({ TrailName: arn }));
  } catch (e) {
    return `event selectors unreadable: ${describeAwsError('cloudtrail:GetEventSelectors', e)}`;
  }
  return logsManagementEvents(selectors) ? undefined : 'its event selectors leave out management events, their reads or writes, or some of their sources';
}

/**
 * Whether the selectors log every management event, read and write, together (CloudTrail logs an event that any of a
 * trail's selectors selects, so a ReadOnly selector beside a WriteOnly one logs both):
 * - a basic selector with IncludeManagementEvents (true by default) and no ExcludeManagementEventSources logs the reads,
 *   the writes or both (ReadWriteType `ReadOnly`, `WriteOnly`, `All`: the default);
 * - an advanced selector whose fields are `eventCategory` equal to `Management` and at most `readOnly` equal to `true`
 *   or `false` logs the reads, the writes, or both (without `readOnly`); another field (`eventSource` leaving out
 *   AWS KMS or Amazon RDS Data API events) narrows it, as ExcludeManagementEventSources narrows a basic one.
 * Source: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
 */
export function logsManagementEvents(selectors: Pick<GetEventSelectorsCommandOutput, 'EventSelectors' | 'AdvancedEventSelectors'>): boolean {
  let reads = false;
  let writes = false;
  const log = (readOnly: 'All' | 'ReadOnly' | 'WriteOnly') => {
    if (readOnly !== 'WriteOnly') reads = true;
    if (readOnly !== 'ReadOnly') writes = true;
  };
  for (const s of selectors.EventSelectors ?? []) {
    if (s.IncludeManagementEvents === false || (s.ExcludeManagementEventSources ?? []).length > 0) continue;
    log(s.ReadWriteType ?? 'All');
  }
  for (const s of selectors.AdvancedEventSelectors ?? []) {
    const fields = s.FieldSelectors ?? [];
    const category = fields.filter((f) => f.Field === 'eventCategory');
    const readOnly = fields.filter((f) => f.Field === 'readOnly');
    if (category.length !== 1 || readOnly.length > 1 || category.length + readOnly.length !== fields.length || !equalsOnly(category[0]!, 'Management')) continue;
    if (readOnly.length === 0) log('All');
    else if (equalsOnly(readOnly[0]!, 'true')) log('ReadOnly');
    else if (equalsOnly(readOnly[0]!, 'false')) log('WriteOnly');
  }
  return reads && writes;
}

/** Whether an advanced field selector matches `value` only: `Equals` [value], no other operator. */
function equalsOnly(field: NonNullable<NonNullable<GetEventSelectorsCommandOutput['AdvancedEventSelectors']>[number]['FieldSelectors']>[number], value: string): boolean {
  const { Field: _field, Equals, ...others } = field;
  return Equals?.length === 1 && Equals[0] === value && Object.values(others).every((o) => o === undefined || (Array.isArray(o) && o.length === 0));
}

async function coverageLine(ctx: DoctorContext): Promise<CheckResult> {
  const { config } = ctx;
  const id = 'organization-trail';
  const title = 'Organization trail';
  const where = { account: ctx.callerAccount, region: ctx.region };
  const accountTiers = Object.entries(config.tiers).filter(([, t]) => t.isolation === 'account').map(([name]) => name);
  let trails: Trail[];
  try {
    trails = (await ctx.caller.cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
  } catch (e) {
    return result(id, title, 'warn', `not checked: ${describeAwsError('cloudtrail:DescribeTrails', e)}`, {
      ...where,
      fix: grantOrRerun(e, 'grant cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus and cloudtrail:GetEventSelectors to your credentials (ReadOnlyAccess has them)',
        `in account ${ctx.callerAccount}: aws cloudtrail describe-trails --include-shadow-trails --region ${ctx.region}`),
    });
  }
  const organizationTrails = trails.filter((t) => t.IsOrganizationTrail);
  const judged = await Promise.all(organizationTrails.map(async (t) => ({ trail: t, gap: await coverage(ctx, t) })));
  const covering = judged.filter((j) => j.gap === undefined).map((j) => j.trail);
  if (covering.length > 0) {
    return result(id, title, 'pass', `${covering.map((t) => `${t.Name} (${t.TrailARN})`).join(', ')}: organization trail, every Region, logging management events`, where);
  }
  const seen = judged.map((j) => `${j.trail.Name}: ${j.gap}`).join('; ');
  if (accountTiers.length === 0) {
    return result(id, title, 'pass', `not needed (no tier uses account isolation); ${seen ? `organization trails: ${seen}` : 'no organization trail'}`, where);
  }
  const mine = organizationTrailOf(config);
  const stopped = judged.find((j) => j.gap === 'not logging');
  const management = config.organization.managementAccountId;
  const fix = stopped
    ? `aws cloudtrail start-logging --name ${stopped.trail.TrailARN} (from the account that manages it: the management account ${management} or CloudTrail's delegated administrator)`
    : mine.organizationTrail
      ? `npx cdk deploy TesseraPlatform (audit.organizationTrail makes its trail ${ORGANIZATION_TRAIL_NAME} an organization trail${mine.delegatedAdministrator ? '; see the cloudtrail-delegated-admin line first' : ''})`
      : mine.ownerAccountId === management
        ? 'remove audit.organizationTrail: false from the config and redeploy TesseraPlatform, or turn on Control Tower\'s or LZA\'s organization trail'
        : `set audit.organizationTrail: true, register the platform account as CloudTrail's delegated administrator (aws cloudtrail register-organization-delegated-admin --member-account-id ${config.platformAccountId}, management account) and redeploy TesseraPlatform; or turn on Control Tower's or LZA's organization trail`;
  return result(id, title, 'warn',
    `no organization trail logs management events in every Region (${seen ? `organization trails: ${seen}` : 'none found'}), and tier ${accountTiers.join(', ')} ${accountTiers.length > 1 ? 'use' : 'uses'} account isolation: what is done in those tenants' accounts, break-glass sessions included, stays in each account's 90-day CloudTrail event history and reaches no audit bucket`,
    { ...where, fix });
}
