import type { TenantRecord } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { logger } from '../shared/handler.js';
import { getTenant, updateTenant } from '../shared/registry.js';
import { clipReason, MAX_REASON_BYTES } from './catch-reason.js';
import { utf8Length } from '../shared/utf8.js';
import { boundDetail, putEventsEntrySize } from '../shared/event-entry-size.js';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/lifecycle-constants.js';

export type OwedAnnouncement = NonNullable<TenantRecord['owedAnnouncements']>[number];

/**
 * The most UTF-8 bytes the record's owed announcements take in all (`owedAnnouncements` as JSON, which counts more than
 * DynamoDB does). An owed announcement keeps its whole event detail, and nothing bounded how many are owed: one per
 * operation completed while PutEvents fails (a bus policy that refuses the platform, for days), each kept until sent. The
 * tenant item is capped at 400 KB by DynamoDB ("Item sizes and formats": the UTF-8 bytes of attribute names and values),
 * and an operation's completing write, which owes its announcement, was refused past it (ValidationException "Item size
 * has exceeded the maximum allowed size"): the operation took effect in AWS and its record never said so. 64 KB holds the
 * largest detail the lifecycle writes (`Tenant Activated` or `Tenant Changed` with 40 tags of 128 + 256 characters, about
 * 46 KB in CJK, and a request reason of 500 characters) beside the item's other bounded parts (lib/tenant-record.ts).
 */
export const MAX_OWED_BYTES = 64 * 1024;

/**
 * The least UTF-8 bytes a newly owed announcement's detail is cut to once the earlier owed ones fill MAX_OWED_BYTES: its
 * short fields (the tenant, the execution, the tier, the status) whole, its longer strings clipped. The list then grows by
 * at most this much per operation completed while the bus still refuses, until `tessera tenants retry` sends them.
 */
export const MIN_OWED_DETAIL_BYTES = 2 * 1024;

/** What a cut owed detail fits, as its clipped fields' markers say (event-entry-size.ts boundDetail). */
const OWED_FIT = 'the tenant record\'s owed announcements';

/**
 * The outbox of the steps that complete an operation (*Activate tenant*, *Finish change*, *Finish
 * offboarding*, *Set status*) and of those that end one failed (*Record failure*, *End stopped execution*: `Tenant
 * Lifecycle Failed`): the announcement is written as owed with the registry write that completes the
 * step (`owe`, passed to completeOperation), then sent and removed (`sendOwed`). An announcement
 * whose PutEvents failed stays on the record: a retry of the step, *Record failure* or
 * `tessera tenants retry` sends it again, so a change that took effect is never left unannounced.
 * The detail is kept within what the earlier owed announcements leave of MAX_OWED_BYTES (at least MIN_OWED_DETAIL_BYTES):
 * its largest strings clipped (` … (<length> characters; cut to fit the tenant record's owed announcements)`), its lists
 * shortened (`<field>Omitted` the count of the rest), as event-entry-size.ts boundDetail cuts an event for EventBridge;
 * the announcement sent is the one kept, cut as said in it.
 */
export function owe(record: TenantRecord, detailType: string, detail: Record<string, unknown>, executionArn?: string): Pick<TenantRecord, 'owedAnnouncements'> {
  const earlier = (record.owedAnnouncements ?? []).filter((a) => !(a.executionArn === executionArn && a.detailType === detailType));
  const entry = { detailType, detail: {}, ...(executionArn ? { executionArn } : {}), at: new Date().toISOString() };
  const taken = utf8Length(JSON.stringify([...earlier, entry]));
  const room = Math.max(MIN_OWED_DETAIL_BYTES, MAX_OWED_BYTES - taken);
  // boundDetail bounds an entry (source, detail type and detail): the detail alone is given `room`
  const { detail: bounded, cut } = boundDetail(LIFECYCLE_EVENT_SOURCE, detailType, detail, room + putEventsEntrySize({ Source: LIFECYCLE_EVENT_SOURCE, DetailType: detailType }), OWED_FIT);
  if (cut.fields.length) logger.warn('owed announcement cut to fit the tenant record', { tenantId: record.tenantId, detailType, fields: cut.fields, bytesBefore: cut.before, bytesAfter: cut.after, earlierOwed: earlier.length });
  return { owedAnnouncements: [...earlier, { ...entry, detail: bounded }] };
}

/**
 * Writes `detailType` owed for `executionArn` on the tenant's record as it is now (owe: bounded as every owed announcement
 * is), replacing the one owed for that execution: from a fresh read, conditional on it, again on contention (three
 * attempts). For an announcement whose detail is known only after the write that ended the operation (`Tenant Lifecycle
 * Failed` with the usage key's settlement, made once the failure is written), or owed by a run that finds the ending
 * written already (*Record failure* run again, *End stopped execution*).
 * @param onlyIfOwed replace an announcement still owed only (one sent meanwhile is not owed again)
 * @returns the record as written; undefined when nothing was written (no tenant; `onlyIfOwed` and nothing owed)
 * @throws the registry's error, and TenantConflict or RegistryContention after the third attempt
 */
export async function oweOnRecord(tenantId: string, detailType: string, detail: Record<string, unknown>, executionArn: string | undefined, onlyIfOwed = false): Promise<TenantRecord | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    const now = await getTenant(tenantId);
    if (!now) return undefined;
    if (onlyIfOwed && !now.owedAnnouncements?.some((a) => a.executionArn === executionArn && a.detailType === detailType)) return undefined;
    try {
      return await updateTenant(tenantId, owe(now, detailType, detail, executionArn), { holder: null, expectUpdatedAt: now.updatedAt });
    } catch (e) {
      if (attempt >= 3 || ((e as Error).name !== 'TenantConflict' && (e as Error).name !== 'RegistryContention')) throw e;
    }
  }
}

const same = (a: OwedAnnouncement, b: OwedAnnouncement) => a.detailType === b.detailType && a.executionArn === b.executionArn && a.at === b.at;

/** Writes the outbox after `sent` left it and `failed` (if any) failed with `error`: from a fresh read, conditional on it. */
async function settle(tenantId: string, sent: OwedAnnouncement[], failed?: { item: OwedAnnouncement; error: string }): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const now = await getTenant(tenantId);
    if (!now) return;
    const left = (now.owedAnnouncements ?? []).filter((a) => !sent.some((s) => same(a, s))).map((a) => (failed && same(a, failed.item) ? { ...a, error: failed.error } : a));
    try {
      await updateTenant(tenantId, { owedAnnouncements: left.length ? left : undefined }, { holder: null, expectUpdatedAt: now.updatedAt });
      return;
    } catch (e) {
      if ((e as Error).name !== 'TenantConflict' && (e as Error).name !== 'RegistryContention') throw e;
    }
  }
}

/**
 * Sends the record's owed announcements, oldest first, and removes each one sent. A PutEvents
 * failure is recorded on that announcement (`error`) and rethrown: it and the ones after it stay owed.
 */
export async function sendOwed(record: TenantRecord): Promise<string[]> {
  const owed = record.owedAnnouncements ?? [];
  const sent: OwedAnnouncement[] = [];
  for (const item of owed) {
    try {
      await emitLifecycleEvent(item.detailType, item.detail);
    } catch (e) {
      const error = clipReason(`${(e as Error).name}: ${(e as Error).message}`, MAX_REASON_BYTES, SENT_ERROR_KEPT);
      logger.error('announcement not sent; it stays owed on the tenant record', { tenantId: record.tenantId, detailType: item.detailType, error: e as Error });
      await settle(record.tenantId, sent, { item, error }).catch((w) => logger.warn('could not record the owed announcement\'s failure', { error: w as Error }));
      throw e;
    }
    sent.push(item);
  }
  if (sent.length) await settle(record.tenantId, sent).catch((w) => logger.warn('announcements sent but still listed as owed (sent again later)', { tenantId: record.tenantId, error: w as Error }));
  return sent.map((s) => s.detailType);
}

/** Where a failed send's whole error is kept (clipReason's marker): sendOwed and Record failure log it whole. */
const SENT_ERROR_KEPT = 'the log of the Lambda function that sent it';

/**
 * The reason a SUCCEEDED history entry keeps when its operation's owed announcement failed again (*Record failure*): what
 * took effect, which announcement is owed, the step's error (`reason`) and the send's (`again`: the SDK's name and
 * message), and how it gets sent. At most MAX_REASON_BYTES UTF-8 bytes, as every history reason is (an item holds 50
 * entries, DynamoDB's limit is 400 KB): the SDK's message went in whole, so a long one made the record unwritable and
 * the note unrecorded. When too long, `again` keeps at least half of the room and `reason` the rest, each clipped
 * (clipReason, its marker naming the whole length and where the whole is: the Lambda's log for the send's error, logged
 * whole by sendOwed and Record failure; the execution's history for the step's).
 * @param kind the operation (`offboard`, `suspend`, …)
 * @param owed the detail types still owed, joined (`Tenant Offboarded`)
 */
export function owedAnnouncementNote(kind: string, owed: string, reason: string, again: string, tenantId: string): string {
  const note = (r: string, a: string) => `the ${kind} took effect; its announcement ${owed} was not sent (${r}; again: ${a}): `
    + `owed on the record (owedAnnouncements), sent by tessera tenants retry ${tenantId}`;
  const room = MAX_REASON_BYTES - utf8Length(note('', ''));
  const a = clipReason(again, Math.max(80, room - Math.min(utf8Length(reason), Math.floor(room / 2))), SENT_ERROR_KEPT);
  return note(clipReason(reason, Math.max(80, room - utf8Length(a))), a);
}
