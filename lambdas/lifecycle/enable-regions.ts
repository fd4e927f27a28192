import { EnableRegionCommand, GetRegionOptStatusCommand, type AccountClient } from '@aws-sdk/client-account';
import { tenantOptInRegions, tierOptInRegions } from '../../lib/config/region-opt-in.js';
import { lifecycleRoleName } from '../../lib/lifecycle-handlers.js';
import { ENV, platformConfig, tierConfig } from '../shared/environment.js';
import { RegionOptInFailedError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { accountClient } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

/**
 * How long *Enable regions* waits, from its first call in one execution, for every opt-in region of the tenant's account to
 * be ENABLED before the operation fails naming the region, the account and the status: 8 hours. Enabling "takes a few
 * minutes for most accounts, but it can take several hours" (AWS Account Management API Reference, EnableRegion,
 * https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html); 8 hours is past that, inside the onboarding's
 * 2-day and a change's 1-day timeout (constructs/lifecycle-workflows.ts), and at one poll a minute (~8 history events each)
 * about 3,900 of Step Functions' 25,000 events per execution.
 */
export const REGION_ENABLE_WAIT_MS = 8 * 3600 * 1000;

/** One region's opt-in status as the step last read it (RegionOptStatus), and what the step did about it. */
export interface RegionProgress {
  region: string;
  /** `ENABLED`, `ENABLED_BY_DEFAULT`, `ENABLING`, `DISABLING` or `DISABLED` (GetRegionOptStatus). */
  status: string;
  /** `requested`: EnableRegion was called by this poll; `retry`: it was refused for now (ConflictException, TooManyRequestsException). */
  action?: 'requested' | 'retry';
  /** Why the EnableRegion of this poll must be tried again (the error's name and message). */
  note?: string;
}

/** The step's result (`$.regions`): `ENABLED` when every region is, else `WAITING` (the state machine waits and polls again). */
export interface RegionOptInProgress {
  state: 'ENABLED' | 'WAITING';
  accountId: string;
  /** ISO time of the execution's first poll: the bound REGION_ENABLE_WAIT_MS runs from it. */
  since: string;
  regions: RegionProgress[];
}

const DONE = new Set(['ENABLED', 'ENABLED_BY_DEFAULT']);

/**
 * Enables, in the tenant's account, the opt-in regions its tier needs ({@link tierOptInRegions}: `homeRegion`, the tier's
 * DR region), before anything calls into them (STS, CloudFormation, KMS there answer nothing until the region is ENABLED).
 * Per region, GetRegionOptStatus (RegionOptStatus ENABLED | ENABLING | DISABLING | DISABLED | ENABLED_BY_DEFAULT), then:
 * - `ENABLED`, `ENABLED_BY_DEFAULT`: nothing to do;
 * - `DISABLED`: EnableRegion (one request per region; the account may have 6 region-opt requests in progress, the
 *   organization 50: AWS Account Management quotas, https://docs.aws.amazon.com/accounts/latest/reference/quotas.html),
 *   then wait for ENABLING to end;
 * - `ENABLING`: wait;
 * - `DISABLING` (someone disabled it in the tenant's account): wait until it is DISABLED, then enable it again. EnableRegion
 *   on a region being disabled answers ConflictException (API Reference, Errors), and the disabling cannot be cancelled;
 *   the tier needs the region, so the step re-enables it rather than failing the operation.
 * EnableRegion's ConflictException and TooManyRequestsException (after the SDK's own retries; the organization-wide quota of
 * 50 requests in progress can last minutes) are retried at the next poll, within the bound. AccessDeniedException fails
 * at once naming the two causes: trusted access for account.amazonaws.com not enabled in Organizations, or the caller
 * lacking account:EnableRegion / account:GetRegionOptStatus on this account and region. Past REGION_ENABLE_WAIT_MS
 * from `previous.since` the step fails (RegionOptInFailed) naming each region not yet ENABLED, the account and its status.
 * The state machine waits between polls (a Wait state), never this Lambda.
 * Called from the management account: EnableRegion and GetRegionOptStatus with `AccountId` need the management account or a
 * delegated administrator (API Reference, EnableRegion, `AccountId`).
 * @param accountId the tenant's member account (12 digits)
 * @param regions the opt-in regions to enable there
 * @param previous the previous poll's result (`$.regions`), absent on the first: its `since` starts the bound
 * @throws RegionOptInFailedError on AccessDenied, or past REGION_ENABLE_WAIT_MS
 */
export async function enableRegions(client: AccountClient, accountId: string, regions: readonly string[], previous?: Pick<RegionOptInProgress, 'since'>): Promise<RegionOptInProgress> {
  const since = previous?.since ?? new Date().toISOString();
  const out: RegionProgress[] = [];
  for (const region of regions) {
    const status = await call(() => client.send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: region })), 'GetRegionOptStatus', accountId, region);
    const read = status.RegionOptStatus ?? 'UNKNOWN';
    if (read !== 'DISABLED') {
      out.push({ region, status: read });
      continue;
    }
    try {
      await call(() => client.send(new EnableRegionCommand({ AccountId: accountId, RegionName: region })), 'EnableRegion', accountId, region);
      out.push({ region, status: 'ENABLING', action: 'requested' });
    } catch (e) {
      const name = (e as Error).name;
      if (name !== 'ConflictException' && name !== 'TooManyRequestsException') throw e;
      out.push({ region, status: read, action: 'retry', note: `${name}: ${(e as Error).message}` });
    }
  }
  const state = out.every((r) => DONE.has(r.status)) ? 'ENABLED' : 'WAITING';
  const waited = Date.now() - Date.parse(since);
  if (state === 'WAITING' && Number.isFinite(waited) && waited > REGION_ENABLE_WAIT_MS) {
    const pending = out.filter((r) => !DONE.has(r.status)).map((r) => `${r.region} is ${r.status}${r.note ? ` (EnableRegion: ${r.note})` : ''}`);
    throw new RegionOptInFailedError(`opt-in region not enabled in account ${accountId} ${Math.round(waited / 60_000)} minutes after the step began (limit ${REGION_ENABLE_WAIT_MS / 60_000}): ${pending.join('; ')}; `
      + `check it from the management account (aws account get-region-opt-status --account-id ${accountId} --region-name <region>), then retry the operation`);
  }
  return { state, accountId, since, regions: out };
}

/**
 * Who holds the `EnableOptInRegions` grant the denial names: the role TesseraOrganization deploys in the management account
 * (TesseraOrganizationAccess, which this function assumes: ENV.organizationRoleArn set), or, when the platform account is the
 * management account (no role to assume), this function's own role, deployed by TesseraPlatform (constructs/tenant-lifecycle.ts
 * `regionOptIn`).
 */
const grantHolder = Object.assign(
  () => (process.env[ENV.organizationRoleArn]
    ? 'the lifecycle\'s role in the management account (TesseraOrganizationAccess, deployed by TesseraOrganization)'
    : `the enable-regions function's role (${lifecycleRoleName('enable-regions')}, deployed by TesseraPlatform: the platform account is the management account)`),
  { stack: () => (process.env[ENV.organizationRoleArn] ? 'TesseraOrganization' : 'TesseraPlatform') },
);

/** One Account Management call; AccessDeniedException becomes RegionOptInFailed naming trusted access and the grant. */
async function call<T>(send: () => Promise<T>, action: string, accountId: string, region: string): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if ((e as Error).name === 'AccessDeniedException' || (e as Error).name === 'AccessDenied') {
      throw new RegionOptInFailedError(`account:${action} for region ${region} in account ${accountId} was denied (${(e as Error).message}): `
        + 'the organization needs trusted access for account.amazonaws.com (from the management account: aws organizations enable-aws-service-access --service-principal account.amazonaws.com), '
        + `and ${grantHolder()} account:${action} on this account with account:TargetRegion ${region}: redeploy ${grantHolder.stack()} after adding the region to the config, then retry`);
    }
    throw e;
  }
}

/**
 * *Enable regions* / *Check regions* (stateName): the onboarding's step after the account exists and before *Verify provisioning
 * access*, and a change's after *Begin change* — only for a tier with `isolation: account` that needs an opt-in region
 * (validate-request.ts and begin-change.ts set `optInRegions`; without it the state machine skips the step, no call made).
 * The tier's regions are derived from the config here, not taken from the payload. In the offboarding (`offboarding`, Begin
 * offboarding's answer, set only there: it sets `optInRegions`), after *Revoke usage key* and before the first call into the
 * tenant's account: the regions that hold the tenant's resources as its record says (tenantOptInRegions: the home region,
 * the recorded DR region), enabled again if someone disabled one since the onboarding (a disabled region's resources are
 * unreachable: its export, snapshot, stack deletion, key deletion would fail with an authentication error naming nothing).
 */
export const handler = lifecycleHandler('Enable regions', async (state: LifecycleState & { regions?: Pick<RegionOptInProgress, 'since'>; offboarding?: object }): Promise<RegionOptInProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const tierName = state.change?.tier ?? state.request.tier ?? record.tier;
  const regions = state.offboarding ? tenantOptInRegions(platformConfig().homeRegion, record) : tierOptInRegions(platformConfig().homeRegion, tierConfig(tierName));
  if (!record.accountId) throw new RegionOptInFailedError(`tenant ${record.tenantId} has no account recorded: no region of tier ${tierName} (${regions.join(', ') || 'none opt-in'}) can be enabled`);
  if (regions.length === 0) return { state: 'ENABLED', accountId: record.accountId, since: state.regions?.since ?? new Date().toISOString(), regions: [] };
  return enableRegions(await accountClient(), record.accountId, regions, state.regions);
});
