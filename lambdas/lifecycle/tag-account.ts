import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-organizations';
import { TIER_TAG } from '../../lib/tenant-naming.js';
import { awsTags } from '../../lib/tenant-tags.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { type AccountMove, moveToTierOu } from './move-account.js';
import type { LifecycleState } from './state.js';

/** What *Tag account* did: the keys it set (TagResource: `tessera:tier` first when the tier changed, then the tenant's, sorted) and removed (UntagResource, sorted). */
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
 * The tenant's own tags its account carries once `untag` is removed from the `recorded` ones: what the record says after
 * UntagResource went through and TagResource has not (yet). Undefined for none left (the record then has no `tags`).
 */
export function afterUntag(recorded: Record<string, string> | undefined, untag: readonly string[]): Record<string, string> | undefined {
  const left = Object.fromEntries(Object.entries(recorded ?? {}).filter(([k]) => !untag.includes(k)));
  return Object.keys(left).length ? left : undefined;
}

/**
 * *Tag account* (the `tessera-change` workflow, account tenants whose change gives tags or another tier, or a repair:
 * begin-change's `tagAccount`): UntagResource of the tenant's recorded keys the change drops, then TagResource of its new
 * tags (with `tessera:tier` the new tier when the tier changes: tierMoved; a tier change alone puts that tag only; a
 * repair puts `tessera:tier` and the recorded tags again, so an account moved before session 46, or retagged by hand,
 * is put right; a change after a failed operation, begin-change's `afterFailure`, puts `tessera:tier` too, which that
 * operation may have left on the tier before), on the tenant's account,
 * as the organization access role in the management account (Organizations UntagResource / TagResource: "This operation
 * can be called only from the organization's management account"). Runs after the stacks are updated, so a change set
 * the guard refuses leaves the account as it was. A tenant without an account (none recorded) is an error: only account
 * tenants reach this step.
 *
 * The record's `tags` follow the account, call by call (each write under the execution's lease): after UntagResource the
 * recorded tags without the dropped keys, after TagResource the new set. So a failure of either call (TagResource's
 * ConstraintViolationException for an account past 50 tags, an SCP's AccessDenied, throttling past the retries), or of a
 * later step, leaves `tessera tenants show` naming the tags the account carries, never ones it lacks. Before, the record
 * kept the old tags until *Finish change*: a failure after UntagResource showed keys the account no longer had, and one
 * after TagResource (at *Move usage key*, say) the old set while the account and the stacks carried the new.
 * @throws Error naming the tenant when its record has no accountId; Organizations' own errors (ConstraintViolationException
 *   for too many tags on the account, AccessDeniedException) as they come, for *Record failure*
 *
 * The same function runs *Move account* (the event's `accountStep: 'move'`, `stateName: 'Move account'`): the account put
 * in its tier's OU (move-account.ts moveToTierOu), before the stacks. One function for the change workflow's Organizations
 * calls on the tenant's account: its role already holds MoveAccount (organizationsStatements' FindMoveAndCloseAccounts,
 * on this organization's accounts, OUs and root), and no function is added to the reserved concurrency.
 */
export const handler = lifecycleHandler('Tag account', async (state: LifecycleState & { accountStep?: 'tag' | 'move' }): Promise<AccountRetag | AccountMove> => (
  state.accountStep === 'move' ? moveToTierOu(state) : retagAccount(state)));

async function retagAccount(state: LifecycleState): Promise<AccountRetag> {
  const record = await requireTenant(state.request.tenantId);
  if (!record.accountId) throw new Error(`tenant ${record.tenantId} has no AWS account recorded: Tag account runs for account tenants only`);
  // The tenant's own tags when the change gives them; a tier change alone leaves them as they are; a repair puts the
  // recorded ones again (removing none: a key the record lacks may be another tool's).
  const tagsChange = state.change?.tags !== undefined;
  const repair = state.change?.repair === true;
  const next = state.change?.tags ?? record.tags ?? {};
  const { untag, tag } = tagsChange ? accountRetag(record.tags, next) : { untag: [], tag: repair ? awsTags(record.tags) : [] };
  // After a failed operation (begin-change's afterFailure) as for a repair: that tier change may have failed before this step.
  const tierTag = tierMoved(state.change) || repair || state.change?.afterFailure === true ? [{ Key: TIER_TAG, Value: state.change?.tier ?? record.tier }] : [];
  const orgs = await organizationsClient();
  if (untag.length) {
    await orgs.send(new UntagResourceCommand({ ResourceId: record.accountId, TagKeys: untag }));
    await updateTenant(record.tenantId, { tags: afterUntag(record.tags, untag) });
  }
  if (tag.length || tierTag.length) {
    await orgs.send(new TagResourceCommand({ ResourceId: record.accountId, Tags: [...tierTag, ...tag] }));
    if (tagsChange) await updateTenant(record.tenantId, { tags: Object.keys(next).length ? next : undefined });
  }
  return { accountId: record.accountId, tagged: [...tierTag, ...tag].map((t) => t.Key), untagged: untag };
}

/**
 * Whether the change moves the tenant to another tier (begin-change's `tier` and `previousTier` differ): its account's
 * `tessera:tier` tag, which CreateAccount set to the tier of the onboarding, is put to the new tier. Before, only a tags
 * change reached *Tag account*, so an account tenant moved to another tier kept its old tier's tag on its account for
 * good (cost allocation and any `aws:ResourceTag/tessera:tier` condition read the old tier).
 */
export const tierMoved = (change: LifecycleState['change']): boolean =>
  !!change?.tier && !!change.previousTier && change.tier !== change.previousTier;
