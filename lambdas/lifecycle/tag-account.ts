import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-organizations';
import { awsTags } from '../../lib/tenant-tags.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

/** What *Tag account* did: the keys it set (TagResource) and removed (UntagResource), each sorted. */
export interface AccountRetag { accountId: string; tagged: string[]; untagged: string[] }

/**
 * The Organizations calls that give an account tenant's AWS account the change's tags (`change.tags`, all of the tenant's
 * own tags after it) in place of the recorded ones (`record.tags`, which *Finish change* replaces afterwards): the keys
 * recorded but not in the new set are removed, the new set is put (TagResource replaces a key's value). Only the
 * tenant's own keys are touched: Tessera's `tessera:*` tags and any tag another tool put on the account stay.
 * A retry after a partial run does the same again: Organizations takes a TagResource of the same tags and an
 * UntagResource of a key already gone without error (both idempotent by what they name).
 * @returns the keys to remove and the tags to put (AWS SDK Tag list, in key order)
 */
export function accountRetag(recorded: Record<string, string> | undefined, next: Record<string, string>): { untag: string[]; tag: { Key: string; Value: string }[] } {
  return {
    untag: Object.keys(recorded ?? {}).filter((k) => !Object.hasOwn(next, k)).sort(),
    tag: awsTags(next),
  };
}

/**
 * *Tag account* (the `tessera-change` workflow, account tenants whose change gives tags: begin-change's `tagAccount`):
 * UntagResource of the tenant's recorded keys the change drops, then TagResource of its new tags, on the tenant's account,
 * as the organization access role in the management account (Organizations UntagResource / TagResource: "This operation
 * can be called only from the organization's management account"). Runs after the stacks are updated, so a change set
 * the guard refuses leaves the account as it was. A tenant without an account (none recorded) is an error: only account
 * tenants reach this step.
 * @throws Error naming the tenant when its record has no accountId; Organizations' own errors (ConstraintViolationException
 *   for too many tags on the account, AccessDeniedException) as they come, for *Record failure*
 */
export const handler = lifecycleHandler('Tag account', async (state: LifecycleState): Promise<AccountRetag> => {
  const record = await requireTenant(state.request.tenantId);
  if (!record.accountId) throw new Error(`tenant ${record.tenantId} has no AWS account recorded: Tag account runs for account tenants only`);
  const next = state.change?.tags ?? record.tags ?? {};
  const { untag, tag } = accountRetag(record.tags, next);
  const orgs = await organizationsClient();
  if (untag.length) await orgs.send(new UntagResourceCommand({ ResourceId: record.accountId, TagKeys: untag }));
  if (tag.length) await orgs.send(new TagResourceCommand({ ResourceId: record.accountId, Tags: tag }));
  return { accountId: record.accountId, tagged: tag.map((t) => t.Key), untagged: untag };
});
