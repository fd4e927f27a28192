import { blockCount, nthBlock, parseCidr } from '../../lib/config/cidr.js';
import { claimCidr, nextPoolIndex } from '../shared/control-table.js';
import { tierConfig } from '../shared/environment.js';
import { NetworkPoolExhaustedError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/**
 * Gives the tenant a VPC range of its own from the tier's pool: an atomic counter hands out the
 * next block and a conditional write records the claim, so two tenants never share a range.
 */
export const handler = lifecycleHandler('Allocate network', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (record.vpcCidr) return { vpcCidr: record.vpcCidr };
  const { network } = tierConfig(record.tier);
  const pool = parseCidr(network.tenantCidrPool)!;
  const count = blockCount(pool, network.tenantVpcPrefixLength);
  for (;;) {
    const index = await nextPoolIndex(record.tier);
    if (index >= count) {
      throw new NetworkPoolExhaustedError(`tier ${record.tier}: pool ${network.tenantCidrPool} has no free /${network.tenantVpcPrefixLength} left (${count} handed out); widen tiers.${record.tier}.network.tenantCidrPool`);
    }
    const cidr = nthBlock(pool, network.tenantVpcPrefixLength, index);
    if (await claimCidr(cidr, record.tenantId)) {
      await updateTenant(record.tenantId, { vpcCidr: cidr });
      return { vpcCidr: cidr };
    }
  }
});
