import type { TenantRecord } from '../../lib/tenant-record.js';
import { TenantConflictError } from '../shared/registry.js';
import { utf8Length } from '../shared/utf8.js';
import { MAX_OWED_BYTES } from './announcements.js';

/**
 * Why a new operation may not start while the tenant owes announcements filling MAX_OWED_BYTES (`owedAnnouncements` as
 * JSON), or undefined when it may. Each operation that completes while PutEvents fails owes one more: owe() cuts it to what
 * the earlier ones leave, but to no less than MIN_OWED_DETAIL_BYTES, so the list grew by about 2 KB per operation without
 * end (a day of suspends and resumes while a bus policy refused the platform) until the tenant item passed DynamoDB's
 * 400 KB and an operation's completing write was refused, the operation having taken effect. Refused before it starts
 * (acquireLease), nothing changes; the owed announcements go out by `tessera tenants retry <id>` once the bus takes them,
 * and the operation can be asked again. The list then holds at most MAX_OWED_BYTES and the one operation's announcement
 * that was running when it filled (at most MIN_OWED_DETAIL_BYTES of detail).
 */
export function owedRefusal(record: TenantRecord): string | undefined {
  const owed = record.owedAnnouncements ?? [];
  const bytes = utf8Length(JSON.stringify(owed));
  if (bytes < MAX_OWED_BYTES) return undefined;
  return `tenant "${record.tenantId}" owes ${owed.length} announcements (${owed.map((a) => a.detailType).filter((t, i, all) => all.indexOf(t) === i).join(', ')}; `
    + `owedAnnouncements, ${bytes} bytes, the most the record keeps is ${MAX_OWED_BYTES}) that EventBridge has not taken${owed[0]?.error ? ` (${owed[0].error.slice(0, 300)})` : ''}: `
    + `no operation starts until they are sent; tessera tenants retry ${record.tenantId} (POST /admin/tenants/${record.tenantId}/retry) sends them, then ask again`;
}

/** acquireLease's refusal of an operation while the owed announcements fill their bound (owedRefusal): the admin API answers it 409 `announcements_owed`, param `owedAnnouncements`. */
export class OwedAnnouncementsFullError extends TenantConflictError {}
