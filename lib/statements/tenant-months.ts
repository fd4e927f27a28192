import { HISTORY_ENTRIES, isLifecycleEntry, type TenantRecord } from '../tenant-record.js';
import { monthBounds } from './schema.js';

/**
 * Which months a tenant has a statement of, and which tier(s) it had in each: the one rule of the admin API's on-demand
 * statement (`GET /admin/tenants/{id}/usage?month=`, lambdas/admin/usage-routes.ts) and the monthly job
 * (lambdas/statements/monthly-statements.ts), both through lambdas/statements/statement-sources.ts tenantStatement.
 */

/** The month (`YYYY-MM`, UTC) of the tenant's `createdAt`: its first month with a statement. */
export const firstStatementMonth = (t: Pick<TenantRecord, 'createdAt'>): string => new Date(t.createdAt).toISOString().slice(0, 7);

/**
 * Why `month` has no statement of the tenant because it ended before the tenant was created, undefined when it has one
 * (`createdAt` before the month's end). The monthly job skips such a month (reportable); on demand it is refused with this.
 * @returns e.g. `month = "2026-09": is before tenant "acme" existed: its first month is 2026-10 (created 2026-10-14T09:00:00.000Z)`
 */
export function monthBeforeTenant(t: Pick<TenantRecord, 'tenantId' | 'createdAt'>, month: string): string | undefined {
  if (Date.parse(t.createdAt) < Date.parse(`${monthBounds(month).end}T00:00:00Z`)) return undefined;
  return `month = "${month}": is before tenant "${t.tenantId}" existed: its first month is ${firstStatementMonth(t)} (created ${t.createdAt}); it has no statement of an earlier month`;
}

/** A tier the tenant had during part of a month: `from` inclusive, `to` exclusive, ISO 8601 instants inside the month. */
export interface TierPeriod { tier: string; from: string; to: string }

/** The tier label of a time the registry's history does not say (TIER_UNRECORDED_NOTE). */
export const UNRECORDED_TIER = 'unrecorded';

/** The instants the tenant's tier changed, from its history, oldest first, each with the tiers before and after (`from` undefined: not recorded). */
function tierChanges(t: Pick<TenantRecord, 'executions'>): Array<{ at: number; from?: string; to: string }> {
  const done = t.executions
    .filter((e) => e.kind === 'change' && e.status === 'SUCCEEDED' && e.endedAt !== undefined && (e.tierChange !== undefined || (e.change ?? e.changeDigest)?.tier !== undefined))
    // An entry whose request is kept as its digest (lib/change-digest.ts) keeps the tier asked in its summary.
    .map((e) => ({ at: Date.parse(e.endedAt!), from: e.tierChange?.from, to: e.tierChange?.to ?? (e.change ?? e.changeDigest)!.tier! }))
    .filter((c) => Number.isFinite(c.at))
    .sort((a, b) => a.at - b.at);
  // An entry recorded before `tierChange` names only the tier it asked for: the tier before it is the earlier change's.
  return done.map((c, i) => ({ ...c, from: c.from ?? done[i - 1]?.to })).filter((c) => c.from !== c.to);
}

/**
 * The tier(s) the tenant had in `month` (UTC), from its registry history: each SUCCEEDED tier change (`executions[]` of
 * kind `change`) takes effect at its `endedAt` (when *Finish change* recorded the new tier, the usage key already in the new
 * tier's plan); the tier after the last change is the record's `tier`; the tier before a change is its entry's
 * `tierChange.from`, or, for an entry recorded before that was kept, the tier the change before it moved to, else
 * UNRECORDED_TIER. Walked back from the record's tier. A history at its cap (HISTORY_ENTRIES: the registry keeps the last
 * 50 operations' entries, gateway policy writes bounded apart) may have dropped older entries, tier changes among them: the time before its oldest operation entry's `startedAt` is
 * UNRECORDED_TIER. Before, it took the tier before the oldest change kept (or the record's tier, with none kept), so a
 * tenant with more changes in a month than the history keeps (or one whose only tier change was pushed out by later
 * suspends and resumes) had a month labelled with a tier it did not have then, and no note.
 * @param t the record's `tier` and `executions`; with its `createdAt`, the first period of the tenant's first month starts
 *   then, not on the 1st (a createdAt after the month's end, or after `asOf`, is not read: the month is the caller's to refuse)
 * @param asOf the end of the running month's part so far @default the month's end
 * @returns `tier`: the tier at the end of the month (or of `asOf`), the statement's label; `tiers`: every tier in the month
 *   with its period, in order (one entry when the tier did not change); `unrecorded`: whether a period's tier is not known
 */
export function tiersInMonth(t: Pick<TenantRecord, 'tier' | 'executions'> & Partial<Pick<TenantRecord, 'createdAt'>>, month: string, asOf?: Date): { tier: string; tiers: TierPeriod[]; unrecorded: boolean } {
  const { start, end } = monthBounds(month);
  const created = t.createdAt !== undefined ? Date.parse(t.createdAt) : NaN;
  const bound = Math.min(Date.parse(`${end}T00:00:00Z`), asOf?.getTime() ?? Infinity);
  // The tenant's first month starts when it was created (its periods said it had its tier from the 1st).
  const monthStart = Math.max(Date.parse(`${start}T00:00:00Z`), Number.isFinite(created) && created < bound ? created : -Infinity);
  const monthEnd = Math.max(monthStart + 1, bound);
  const segments: Array<{ tier: string; from: number; to: number }> = [];
  let tier = t.tier;
  let until = Infinity;
  for (const change of [...tierChanges(t)].reverse()) {
    segments.unshift({ tier, from: change.at, to: until });
    until = change.at;
    tier = change.from ?? UNRECORDED_TIER;
  }
  // An entry still RUNNING is kept past the cap (registry.ts withExecution): it does not say from when the history is whole.
  // Gateway policy writes have their own bound and change no tier: the lifecycle entries say from when the history is whole.
  const operations = t.executions.filter(isLifecycleEntry);
  const recordedSince = operations.length >= HISTORY_ENTRIES
    ? Math.min(until, ...operations.filter((e) => e.status !== 'RUNNING').map((e) => Date.parse(e.startedAt)).filter(Number.isFinite)) : -Infinity;
  segments.unshift({ tier, from: recordedSince, to: until });
  if (recordedSince > -Infinity) segments.unshift({ tier: UNRECORDED_TIER, from: -Infinity, to: recordedSince });
  const tiers = segments
    .map((s) => ({ tier: s.tier, from: Math.max(s.from, monthStart), to: Math.min(s.to, monthEnd) }))
    .filter((s) => s.to > s.from)
    .map((s) => ({ tier: s.tier, from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() }));
  return { tier: tiers.at(-1)!.tier, tiers, unrecorded: tiers.some((p) => p.tier === UNRECORDED_TIER) };
}

/** The statement's note for a period whose tier the history does not record. */
export const TIER_UNRECORDED_NOTE = `the tier of a part of the month is not recorded (${UNRECORDED_TIER}): a tier change recorded before the field existed (2026-12-05) names only the tier it moved to, and the tenant changed tier before it; or the part is older than the oldest entry the registry's history keeps (its last ${HISTORY_ENTRIES})`;
