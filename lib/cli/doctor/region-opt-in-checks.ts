import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { drRegionOf } from '../../config/disaster-recovery.js';
import { isOptInRegion } from '../../config/region.js';
import { errorName } from '../aws-errors.js';
import { callFailed, grantOrRerun, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** An account Tessera deploys into itself (not a vended tenant account) and the Regions it needs there, each with what goes there. */
interface AccountRegions {
  readonly role: 'platform' | 'workload';
  readonly account: string;
  /** Region → what is deployed there (named in the line). */
  readonly regions: Map<string, string[]>;
}

/**
 * The Regions the platform and workload accounts must have enabled: the platform account's `homeRegion`
 * (TesseraPlatform) and `platformDisasterRecovery.region` (TesseraPlatformDr); the workload account's `homeRegion`
 * (TesseraWorkloadProvisioning, every VPC tier's tenant blueprints) and the `disasterRecovery.region` of each VPC tier
 * (its tenants' DR and failover blueprints). Account tiers' home and DR regions are in the accounts the onboarding creates,
 * where *Enable regions* (lambdas/lifecycle/enable-regions.ts) enables an opt-in one, so they are not listed here
 * (trusted access for account.amazonaws.com, which that step needs, is organization-checks.ts's line).
 * When the two accounts are one, their Regions are merged into one entry (role `platform`).
 * @param homeRegion the Region doctor checks (`--region`, @default - config homeRegion)
 */
export function accountRegions(config: DoctorContext['config'], homeRegion: string): AccountRegions[] {
  const add = (regions: Map<string, string[]>, region: string, what: string) => regions.set(region, [...(regions.get(region) ?? []), what]);
  const platform = new Map<string, string[]>();
  add(platform, homeRegion, 'TesseraPlatform');
  const platformDr = config.platformDisasterRecovery;
  if (platformDr !== 'none') add(platform, platformDr.region, 'TesseraPlatformDr');
  const workload = new Map<string, string[]>();
  add(workload, homeRegion, 'TesseraWorkloadProvisioning and VPC tier blueprints');
  for (const [tier, t] of Object.entries(config.tiers)) {
    const dr = t.isolation === 'vpc' ? drRegionOf(t) : undefined;
    if (dr) add(workload, dr, `tier ${tier} DR and failover blueprints`);
  }
  if (config.platformAccountId === config.workloadAccountId) {
    for (const [region, what] of workload) for (const w of what) add(platform, region, w);
    return [{ role: 'platform', account: config.platformAccountId, regions: platform }];
  }
  return [
    { role: 'platform', account: config.platformAccountId, regions: platform },
    { role: 'workload', account: config.workloadAccountId, regions: workload },
  ];
}

/** The command that enables `region` in `account`, run in the management account (or in the account itself, without --account-id). */
export const enableRegionCommand = (account: string, region: string) => `aws account enable-region --account-id ${account} --region-name ${region}`;

/**
 * Whether the home Region and each DR Region are enabled in the platform and workload accounts: one line per account
 * and Region ({@link accountRegions}). A Region launched after 20 March 2019 (an opt-in Region) is disabled in an
 * account until enabled (AWS Account Management Reference Guide, "Specify which AWS Regions your account can use",
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html), and `cdk deploy` or the lifecycle's
 * stack there fails.
 *
 * Read with ec2:DescribeRegions (RegionNames: "You can specify any Regions, whether they are enabled and disabled for
 * your account"; `OptInStatus`: `opt-in-not-required`, `opted-in` or `not-opted-in`; EC2 API Reference, DescribeRegions,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html) in each account, with the clients
 * doctor reads it with (the CDK lookup role has ReadOnlyAccess). Not account:GetRegionOptStatus, the Account Management
 * API's call: @aws-sdk/client-account is not among the project's dependencies, and DescribeRegions answers the same
 * per account with a client doctor already has. `opted-in` and `opt-in-not-required` pass; `not-opted-in` fails
 * (a Region being enabled reads so until it is done); a Region the answer lacks is a warning.
 * Calls (in each account, in the Region doctor checks): ec2:DescribeRegions.
 */
export async function regionOptInChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const target of accountRegions(ctx.config, ctx.region)) {
    const regions = [...target.regions.keys()];
    const id = (region: string) => `region-enabled:${target.role}:${region}`;
    const title = (region: string) => `Region ${region} (${target.role} account)`;
    const where = (region: string) => ({ account: target.account, region });
    const access = await ctx.clientsIn(target.account);
    if (!access.ok) {
      // The lookup role is per Region (cdk bootstrap creates it there): an opt-in home Region not enabled has none.
      const maybe = isOptInRegion(ctx.region) ? `; ${ctx.region} is an opt-in Region: if it is not enabled in this account, enable it first (${enableRegionCommand(target.account, ctx.region)}), then bootstrap` : '';
      for (const region of regions) out.push(result(id(region), title(region), 'fail', `not checked: ${access.detail}`, { ...where(region), fix: `${access.fix}${maybe}` }));
      continue;
    }
    let answer: Array<{ RegionName?: string; OptInStatus?: string }>;
    try {
      answer = (await access.clients.ec2.send(new DescribeRegionsCommand({ AllRegions: true, RegionNames: regions }))).Regions ?? [];
    } catch (e) {
      const look = `in account ${target.account}: aws ec2 describe-regions --all-regions --region-names ${regions.join(' ')} --query "Regions[].[RegionName,OptInStatus]" --output text`;
      for (const region of regions) {
        out.push(errorName(e) === 'OptInRequired' || (errorName(e) === 'AuthFailure' && isOptInRegion(ctx.region))
          ? result(id(region), title(region), 'fail', `ec2:DescribeRegions in ${ctx.region} answered ${errorName(e)}: ${ctx.region} is likely not enabled in account ${target.account}`, { ...where(region), fix: `enable it from the management account: ${enableRegionCommand(target.account, ctx.region)}` })
          : callFailed(id(region), title(region), 'ec2:DescribeRegions', e, grantOrRerun(e, `grant ec2:DescribeRegions to ${access.via}`, look), where(region)));
      }
      continue;
    }
    for (const region of regions) {
      const what = target.regions.get(region)!.join(', ');
      const status = answer.find((r) => r.RegionName === region)?.OptInStatus;
      if (status === 'opt-in-not-required' || status === 'opted-in') {
        out.push(result(id(region), title(region), 'pass', `${status === 'opted-in' ? 'enabled (opted in)' : 'enabled by default'}: ${what}`, where(region)));
      } else if (status === 'not-opted-in') {
        out.push(result(id(region), title(region), 'fail', `not enabled in account ${target.account} (not-opted-in): ${what} cannot be deployed there`, {
          ...where(region), fix: `enable it from the management account: ${enableRegionCommand(target.account, region)} (or in the account itself, without --account-id; enabling takes minutes to hours), then run doctor again`,
        }));
      } else {
        out.push(result(id(region), title(region), 'warn', `ec2:DescribeRegions did not report ${region}${status ? ` (opt-in status ${status})` : ''}: not known whether it is enabled for ${what}`, {
          ...where(region), fix: `check it in account ${target.account}: aws account get-region-opt-status --region-name ${region}`,
        }));
      }
    }
  }
  return out;
}
