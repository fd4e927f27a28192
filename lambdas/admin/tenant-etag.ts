import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { isLifecycleEntry, type LifecycleExecution, type TenantRecord } from '../../lib/tenant-record.js';
import { describeDigest } from '../../lib/change-digest.js';
import { ApiError } from '../shared/api-errors.js';
import { shownValue } from './admin-http.js';

/**
 * The tenant resource's entity tag (`GET /admin/tenants/{id}` answers it as `ETag`, `GET /admin/tenants` as `etags`) and
 * the `If-Match` precondition of `PATCH /admin/tenants/{id}` (RFC 9110 §8.8.3, §13.1.1).
 */

/** JSON with every object's keys sorted: the same record whatever order DynamoDB's answer gave its map attributes. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The tenant's ETag, a strong validator of its record (RFC 9110 §8.8.1: it changes whenever the record a GET answers
 * changes): `"<updatedAt in ms, base 36>.<16 hex of the sha256 of the record's canonical JSON>"`, e.g.
 * `"miu2k1xs.4f1c0d2a9b8e7f60"`. The time part lets a 412 name the history entries written since (tenantPreconditionFailed);
 * the hash makes any other change a new tag (a write that keeps `updatedAt`, as recordRefusal's). Opaque to clients: send it
 * back as it came. Not the gateway policy's `"<version>"` (gateway-policy-write.ts policyEtag), which the policy's routes
 * take as well.
 */
export function tenantEtag(record: TenantRecord): string {
  const at = Date.parse(record.updatedAt);
  return `"${Number.isFinite(at) ? at.toString(36) : '0'}.${createHash('sha256').update(canonicalJson(record)).digest('hex').slice(0, 16)}"`;
}

/** A header of the request by its name in any case (API Gateway keeps the case the client sent). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const found = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return found?.[1] ?? undefined;
}

/** A header's value as a message shows it: as sent (its quotes are its own), cut at 120 characters. */
export const shownHeader = (value: string): string => (value.length > 120 ? `${value.slice(0, 117)}...` : value);

/**
 * The request's `If-Match` field value as RFC 9110 §5.3 reads one sent on several field lines: the lines joined with
 * `, ` in their order. API Gateway's REST proxy event keeps only the last line in `headers`, every line in
 * `multiValueHeaders` (API Gateway developer guide, "Lambda proxy integration: multi-value headers").
 */
export function ifMatchValue(event: Pick<APIGatewayProxyEvent, 'headers'> & Partial<Pick<APIGatewayProxyEvent, 'multiValueHeaders'>>): string | undefined {
  const lines = Object.entries(event.multiValueHeaders ?? {}).find(([k]) => k.toLowerCase() === 'if-match')?.[1];
  return lines?.length ? lines.join(', ') : header(event, 'if-match');
}

/**
 * One list element of `If-Match` (RFC 9110 §8.8.3 `entity-tag = [ W/ ] DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E /
 * obs-text`: a comma is part of the tag inside its quotes, a space or control character is not), or an empty element,
 * with the optional whitespace around it and the comma or end after it.
 */
const ENTITY_TAG_ELEMENT = /[ \t]*((?:W\/)?"[\x21\x23-\x7E\x80-\u{10FFFF}]*")?[ \t]*(,|$)/uy;

/** The entity tags of an `#entity-tag` list (empty elements skipped, RFC 9110 §5.6.1.2), or undefined when it is not one. */
function entityTags(value: string): string[] | undefined {
  const tags: string[] = [];
  for (let at = 0; at < value.length;) {
    ENTITY_TAG_ELEMENT.lastIndex = at;
    const m = ENTITY_TAG_ELEMENT.exec(value);
    if (!m) return undefined;
    if (m[1] !== undefined) tags.push(m[1]);
    if (m[2] === '') break;
    at = ENTITY_TAG_ELEMENT.lastIndex;
  }
  return tags;
}

/**
 * The request's `If-Match` (RFC 9110 §13.1.1): undefined without one, `*` (any current representation), or its entity tags,
 * read from every `If-Match` line sent (ifMatchValue) as RFC 9110's list grammar reads them (a quoted comma is the tag's).
 * @param what what the tag was read from, for the 400's hint @default "the tenant's last read (GET /admin/tenants/{id})"
 * @throws ApiError 400 `invalid_header` naming `If-Match` and its value when it is not `*` or an entity tag list (`3` for
 *   `"3"`, a tag with a space in it, `*` in a list, no tag at all)
 */
export function ifMatchOf(event: Pick<APIGatewayProxyEvent, 'headers'> & Partial<Pick<APIGatewayProxyEvent, 'multiValueHeaders'>>, what = 'the tenant\'s last read (GET /admin/tenants/{id})'): '*' | string[] | undefined {
  const value = ifMatchValue(event);
  if (value === undefined) return undefined;
  if (value.trim() === '*') return '*';
  const tags = entityTags(value);
  if (!tags?.length) {
    throw new ApiError(400, `If-Match = ${shownValue(value)}: not an entity tag list; send the ETag of ${what} as it came, quotes included, or *`, 'invalid_request_error', 'invalid_header', 'If-Match');
  }
  return tags;
}

/** Whether `ifMatch` holds for the tenant: `*`, or one of its tags equal to tenantEtag by strong comparison (a weak `W/"…"` never does). */
export const tenantMatches = (ifMatch: '*' | string[], record: TenantRecord): boolean => ifMatch === '*' || ifMatch.includes(tenantEtag(record));

/** The latest time a Date holds (ms since the epoch: ECMAScript's time values, ±8.64e15). */
const MAX_DATE_MS = 8.64e15;

/** The history entries a 412 names at most, the newest (a tag taken long ago would name the whole history). */
const MAX_NAMED_ENTRIES = 10;

/** The time (ms) a tenant ETag was taken at (its first part), undefined for a tag that is not one of tenantEtag's. */
function etagTime(tag: string): number | undefined {
  const m = /^"([0-9a-z]{1,12})\.[0-9a-f]{16}"$/.exec(tag);
  const ms = m ? parseInt(m[1]!, 36) : NaN;
  // A time a Date can hold (ECMAScript: ±8.64e15 ms): twelve base-36 digits reach 4.7e18, whose toISOString threw (a 500).
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_DATE_MS ? ms : undefined;
}

/** One history entry as a 412 names it: `change {"tier":"professional"} by admin:… at 2026-…, RUNNING`. */
function describeEntry(e: LifecycleExecution): string {
  const what = e.change ? `${e.kind} ${JSON.stringify(e.change)}` : e.changeDigest ? `${e.kind} ${describeDigest(e.changeDigest)}` : e.policyChange ? `gateway policy v${e.policyChange.version} (${e.policyChange.method} ${e.policyChange.paths.join(', ') || 'no key changed'})` : e.kind;
  return `${what}${e.actor ? ` by ${e.actor}` : ''} at ${e.startedAt}, ${e.status}${e.executionArn ? ` (execution ${e.executionArn})` : ''}`;
}

/**
 * The 412 `precondition_failed` of a request whose `If-Match` does not hold for the tenant (tenantMatches), naming what
 * changed: the tier, blueprint version and status the tenant has now, the operation holding it, and each history entry
 * (lifecycle operation or gateway policy write) started or ended after the time of the tag sent (a tag of tenantEtag's
 * form; the newest MAX_NAMED_ENTRIES, with the number of the others); a weak tag of the current record is told that a weak
 * tag never matches. The body has the ETag now (`etag`) and
 * the state (`tenant: { tier, blueprintVersion, status, tags }`; `tags` the tenant's own as recorded, `{}` for none, since
 * 2026-12-07: a tags change's 412 named no tags).
 * @param sent the If-Match header as sent
 */
export function tenantPreconditionFailed(record: TenantRecord, ifMatch: string[], sent: string): ApiError {
  const now = tenantEtag(record);
  const extra = { etag: now, tenant: { tier: record.tier, blueprintVersion: record.blueprintVersion ?? null, status: record.status, tags: record.tags ?? {} } };
  if (ifMatch.includes(`W/${now}`)) {
    return new ApiError(412, `If-Match: ${shownHeader(sent)} is a weak entity tag, which never matches (RFC 9110 strong comparison): send the tenant's ETag as it came, If-Match: ${now}; nothing was started`,
      'conflict_error', 'precondition_failed', 'If-Match', extra);
  }
  const since = Math.min(...ifMatch.map((t) => etagTime(t.replace(/^W\//, '')) ?? Infinity));
  const entries = Number.isFinite(since)
    ? record.executions.filter((e) => (isLifecycleEntry(e) || e.kind === 'gateway-policy') && [e.startedAt, e.endedAt].some((t) => t !== undefined && Date.parse(t) > since))
    : [];
  const state = `tier "${record.tier}", blueprintVersion "${record.blueprintVersion ?? '(none)'}", status ${record.status}${record.lease ? `, a ${record.lease.kind} running (execution ${record.lease.executionArn})` : ''}, tags ${JSON.stringify(record.tags ?? {})}`;
  const named = entries.slice(-MAX_NAMED_ENTRIES).map(describeEntry).join('; ');
  const earlier = entries.length > MAX_NAMED_ENTRIES ? ` (and ${entries.length - MAX_NAMED_ENTRIES} earlier: GET /admin/tenants/${record.tenantId})` : '';
  const changed = entries.length ? `; since that ETag (${new Date(since).toISOString()}): ${named}${earlier}` : Number.isFinite(since) ? `; its record was written at ${record.updatedAt}, after that ETag (${new Date(since).toISOString()})` : '';
  return new ApiError(412, `If-Match: ${shownHeader(sent)} is stale: tenant "${record.tenantId}" has changed since that ETag; it is now ${state} (ETag ${now})${changed}. Nothing was started: read the tenant again (GET /admin/tenants/${record.tenantId}; tessera tenants apply plans again on each run), decide on what it is now, and send the request with its ETag`,
    'conflict_error', 'precondition_failed', 'If-Match', extra);
}
