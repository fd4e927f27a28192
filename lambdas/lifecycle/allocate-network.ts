import { blockCount, blockIndex, nthBlock, parseCidr } from '../../lib/config/cidr.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { cidrClaimsOf, claimCidr, claimReleasedCidr, dropClaimedCidr, nextPoolIndex, passPoolIndex, releaseCidr, releasedCidrs, returnPoolIndex } from '../shared/control-table.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { NetworkPoolExhaustedError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { checkQuotas, describeRequest, describeShortfall, mergeQuotaRequests, QuotaExceededError, tierTemplate } from './quota-check.js';
import type { LifecycleState } from './state.js';

/**
 * Fails before anything is claimed when one more tenant of the tier does not fit the target
 * account's quotas (lib/quotas.ts rules, counted from the tier's template in the catalog;
 * usage measured and applied values read through the provisioning session). Each shortfall gets
 * an increase request (usage + need) unless one is open; the error names every quota, and the
 * requests land in the registry's `quotaRequests`. Record failure puts the message in the
 * registry failure and the Tenant Lifecycle Failed event.
 */
async function assertQuotas(record: TenantRecord): Promise<{ checked: number; unchecked: string[] }> {
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  const template = await tierTemplate(record.tier);
  const credentials = await tenantAccountCredentials(record.accountId!, record.tenantId, 'quotas');
  const result = await checkQuotas(template, { accountId: record.accountId!, region, allowedRegions: platformConfig().allowedRegions, credentials });
  if (result.unchecked.length) logger.info('quotas not checked', { unchecked: result.unchecked });
  if (result.shortfalls.length) {
    const requests = result.shortfalls.flatMap((s) => (s.request ? [(({ alreadyOpen: _, ...r }) => r)(s.request)] : []));
    if (requests.length) await updateTenant(record.tenantId, { quotaRequests: mergeQuotaRequests(record.quotaRequests, requests) });
    const where = { accountId: record.accountId!, region, tier: record.tier };
    throw new QuotaExceededError(result.shortfalls.map((s) => `${describeShortfall(s.finding, where)}; ${describeRequest(s)}`).join('; '));
  }
  return { checked: result.findings.length, unchecked: result.unchecked.map((u) => u.key) };
}

/**
 * Gives the tenant a VPC range of its own from the tier's pool: a block an offboarded tenant gave back if one is listed
 * (claimReleasedBlock), else a conditional write claims the block
 * the pool's counter names, then the counter moves past it (claimNextBlock), so two tenants never share a range; the
 * registry write is conditional too, so two runs of one tenant end with one range (the loser's
 * claim is given back, and the pool's counter moved back to it: giveBack), and a claim an earlier attempt left behind is reused.
 * First, in both isolation modes, the target account's quotas must hold one more tenant (see
 * assertQuotas): a VPC tenant in the shared workload account at 5 of 5 VPCs fails here, naming
 * the quota, instead of an hour later in CloudFormation.
 */
export const handler = lifecycleHandler('Allocate network', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (record.vpcCidr) return { vpcCidr: record.vpcCidr };
  const quotas = await assertQuotas(record);
  // A range this tenant claimed in an earlier attempt that died before the registry write is reused.
  const earlier = (await cidrClaimsOf(record.tenantId))[0];
  const cidr = earlier ?? (await claimNextBlock(record));
  const fresh = await requireTenant(record.tenantId);
  if (fresh.vpcCidr) {
    if (fresh.vpcCidr !== cidr) await giveBack(record, cidr);
    return { vpcCidr: fresh.vpcCidr, quotas };
  }
  try {
    await updateTenant(record.tenantId, { vpcCidr: cidr }, { expectUpdatedAt: fresh.updatedAt });
    return { vpcCidr: cidr, quotas };
  } catch (e) {
    if ((e as Error).name !== 'RegistryContention') throw e;
    // Someone else wrote the record meanwhile: if it was a range, that one stands and ours goes back.
    const now = await requireTenant(record.tenantId);
    if (!now.vpcCidr) throw e;
    if (now.vpcCidr !== cidr) await giveBack(record, cidr);
    return { vpcCidr: now.vpcCidr, quotas };
  }
});

/**
 * Claims a free block of the tier's pool: first a block an offboarded tenant gave back (claimReleasedBlock), else the
 * block the pool's counter names: reads the counter, claims that block (a
 * conditional write, the tenant's own claim found as its own on a retry), then moves the counter past
 * it; a block another tenant holds is passed too. Every write is idempotent per tenant, so a write
 * the SDK sends again after a lost answer skips no block (an `ADD` counter did: the block in between
 * was handed to no one, for good).
 * @throws NetworkPoolExhaustedError when every block of the pool is held by a tenant at this moment
 */
async function claimNextBlock(record: TenantRecord): Promise<string> {
  const { network } = tierConfig(record.tier);
  const pool = parseCidr(network.tenantCidrPool)!;
  const count = blockCount(pool, network.tenantVpcPrefixLength);
  const released = await claimReleasedBlock(record);
  if (released) return released;
  for (;;) {
    const index = await nextPoolIndex(record.tier);
    if (index >= count) {
      throw new NetworkPoolExhaustedError(`tier ${record.tier}: pool ${network.tenantCidrPool} has no free /${network.tenantVpcPrefixLength} left: all ${count} are held by tenants now (this counts tenants at once: an offboarded tenant's range comes back to the pool); offboard a tenant of the tier, or widen tiers.${record.tier}.network.tenantCidrPool`);
    }
    const cidr = nthBlock(pool, network.tenantVpcPrefixLength, index);
    const mine = await claimCidr(cidr, record.tenantId);
    await passPoolIndex(record.tier, index);
    if (mine) return cidr;
  }
}

/**
 * Claims the lowest block of the tier's pool (as configured now) that offboarding gave back (releasedCidrs), claim and
 * delisting in one transaction (claimReleasedCidr), so two onboardings at once never get the same one; a listed block
 * another tenant holds (the counter walked over it) is taken off the list (dropClaimedCidr) and the next is tried.
 * Each try takes one block off the list, so the calls are bounded by the list's length: about 4 per block tried.
 * @returns the range claimed, or undefined when no released block is listed (the counter's block is next)
 */
async function claimReleasedBlock(record: TenantRecord): Promise<string | undefined> {
  const { network } = tierConfig(record.tier);
  const pool = parseCidr(network.tenantCidrPool)!;
  for (;;) {
    const listed = (await releasedCidrs(record.tier))
      .map((cidr) => ({ cidr, index: blockIndex(pool, network.tenantVpcPrefixLength, cidr) }))
      .filter((b): b is { cidr: string; index: number } => b.index !== undefined)
      .sort((a, b) => a.index - b.index);
    if (listed.length === 0) return undefined;
    const { cidr } = listed[0];
    const outcome = await claimReleasedCidr(record.tier, cidr, record.tenantId);
    if (outcome === 'claimed') return cidr;
    if (outcome === 'held') await dropClaimedCidr(record.tier, cidr);
  }
}

/**
 * Gives back a range `record`'s tenant claimed and does not use (another run of the same tenant recorded another one):
 * the claim is deleted (releaseCidr), then the tier's counter is moved back to its block (returnPoolIndex) when the
 * range is a block of the tier's pool as configured now, so the next allocation hands it out instead of leaving it
 * behind the counter for good. A run that ends between the two writes leaves the block free behind the counter
 * (given to no one); the claim is never left on a range no record holds.
 */
async function giveBack(record: TenantRecord, cidr: string): Promise<void> {
  await releaseCidr(cidr, record.tenantId);
  const { network } = tierConfig(record.tier);
  const pool = parseCidr(network.tenantCidrPool);
  const index = pool && blockIndex(pool, network.tenantVpcPrefixLength, cidr);
  if (index !== undefined) await returnPoolIndex(record.tier, index);
}
