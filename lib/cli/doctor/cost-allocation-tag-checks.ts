import { ListCostAllocationTagsCommand } from '@aws-sdk/client-cost-explorer';
import { TENANT_ID_TAG } from '../../tenant-naming.js';
import { callFailed, grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'cost-allocation-tag';
const TITLE = `Cost allocation tag ${TENANT_ID_TAG}`;

/**
 * Check `cost-allocation-tag`: a vpc tier's infrastructure budget (`tiers.<tier>.infrastructureBudget`) filters the
 * workload account's costs by the user-defined tag `tessera:tenant-id`, which AWS counts only once it is activated as
 * a cost allocation tag in the management (payer) account, and only for costs incurred after that: until then the
 * budget sees $0 and never notifies. CloudFormation has no resource that activates one, so doctor reads it:
 * Cost Explorer ListCostAllocationTags (TagKeys `tessera:tenant-id`, Type UserDefined) in the management account,
 * at Cost Explorer's one endpoint of the partition (us-east-1).
 * - `pass`: Status Active; also when no vpc tier sets `infrastructureBudget` (no call made: nothing filters by the tag).
 * - `warn`: Inactive (the fix activates it), or not listed yet (Billing lists a tag key only after a resource carrying
 *   it has reported usage, up to 24 hours after the first vpc tenant is onboarded).
 * - `fail`: the call failed (the fix grants ce:ListCostAllocationTags, or reruns).
 * Source: AWS Cost Explorer API Reference, ListCostAllocationTags and UpdateCostAllocationTagsStatus; AWS Billing User
 * Guide, "Activating user-defined cost allocation tags".
 */
export async function costAllocationTagChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const management = ctx.config.organization.managementAccountId;
  const region = costExplorerRegionOf(ctx.region);
  const where = { account: management, region };
  const tiers = Object.entries(ctx.config.tiers).filter(([, t]) => t.isolation === 'vpc' && t.infrastructureBudget).map(([name]) => name);
  if (tiers.length === 0) {
    return [result(ID, TITLE, 'pass', 'no vpc tier sets infrastructureBudget: no budget filters by the tag, no Cost Explorer call made', where)];
  }
  const used = `the infrastructure budget of tier${tiers.length > 1 ? 's' : ''} ${tiers.join(', ')} counts only costs tagged ${TENANT_ID_TAG}`;
  const activate = `in account ${management}: aws ce update-cost-allocation-tags-status --region ${region} --cost-allocation-tags-status TagKey=${TENANT_ID_TAG},Status=Active (or Billing and Cost Management → Cost allocation tags → User-defined → ${TENANT_ID_TAG} → Activate)`;
  const access = await ctx.clientsIn(management);
  if (!access.ok) return [unreadable(ID, TITLE, access, management, region)];
  const list = `in account ${management}: aws ce list-cost-allocation-tags --region ${region} --tag-keys ${TENANT_ID_TAG} --type UserDefined`;
  try {
    const out = await access.clients.costExplorer.send(new ListCostAllocationTagsCommand({ TagKeys: [TENANT_ID_TAG], Type: 'UserDefined' }));
    const tag = out.CostAllocationTags?.find((t) => t.TagKey === TENANT_ID_TAG);
    if (tag?.Status === 'Active') return [result(ID, TITLE, 'pass', `Active in the management account (${used})`, where)];
    if (tag) {
      return [result(ID, TITLE, 'warn', `${tag.Status ?? 'no Status'}: ${used}, so its budgets see $0 until it is activated (and then only costs from then on)`, { ...where, fix: activate })];
    }
    return [result(ID, TITLE, 'warn', `not listed yet: Billing lists a tag key once a resource carrying it has reported usage (up to 24 hours after the first vpc tenant is onboarded); ${used}, so its budgets see $0 until it is activated`, { ...where, fix: `once listed (${list}), ${activate}` })];
  } catch (e) {
    return [callFailed(ID, TITLE, 'ce:ListCostAllocationTags', e, grantOrRerun(e, `grant ce:ListCostAllocationTags to ${access.via}`, list), where)];
  }
}

/**
 * Cost Explorer's endpoint: one per partition, in us-east-1 (cn-northwest-1 in China), whatever region calls it (the
 * rule of lambdas/statements/cost-explorer.ts costExplorerRegion; https://docs.aws.amazon.com/general/latest/gr/billing.html).
 */
export const costExplorerRegionOf = (region: string) => (region.startsWith('cn-') ? 'cn-northwest-1' : 'us-east-1');
