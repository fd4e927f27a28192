import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { GatewayPolicy as GatewayPolicySchema, LIFECYCLE_EVENTS, REQUEST_REASON, TenantStatus, type GatewayPolicy, type LifecycleExecution, type TenantRecord } from '../../lib/tenant-record.js';
import { nearest } from '../../lib/config/nearest.js';
import { describeIssues, formatPath, leafIssues, paramPath, shownKey, valueAt } from '../../lib/zod-issues.js';
import { ApiError } from '../shared/api-errors.js';
import { ENV, platformConfig } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { getTenant, RegistryContentionError, TenantConflictError, TenantNotFoundError, updateTenant, withExecution } from '../shared/registry.js';
import { adminCaller, bodyOf, parse, shownValue, tenantOr404 } from './admin-http.js';
import { header, ifMatchOf, ifMatchValue, shownHeader, tenantEtag } from './tenant-etag.js';
import { refuseUnknownModels } from './gateway-policy-models.js';
import { mergePatch, parseGatewayPolicy, policyKeysAt, unknownRemovedKey } from './gateway-policy-request.js';
import { serviceLogger } from '../shared/service-logger.js';

// The admin API runs as a lifecycle handler (admin-api.ts): its service's logger, with the step, tenant and Lambda context it appends.
const logger = serviceLogger('tessera-lifecycle');

/** Statuses whose gateway policy may be set: all but a tenant being or already offboarded (it is never served again). */
export const POLICY_STATUSES: readonly TenantStatus[] = TenantStatus.options.filter((s) => s !== 'OFFBOARDING' && s !== 'OFFBOARDED');

/**
 * How many times a policy write reads, changes and writes the policy when another write of the tenant's record came in
 * between (its condition on the version read failed): each attempt is one GetItem and one UpdateItem, so a write of
 * another key (a PATCH of another admin) lands on the next attempt; 5 losses in a row mean a writer far busier than people.
 */
export const POLICY_WRITE_ATTEMPTS = 5;

/** The query of `PUT` and `PATCH /admin/tenants/{id}/gateway`: an optional `reason`, recorded with the write (REQUEST_REASON). */
export const GatewayPolicyQuery = z.strictObject({ reason: REQUEST_REASON.optional() });

/** The content types a `PATCH /admin/tenants/{id}/gateway` body may have (its parameters, e.g. `; charset=utf-8`, aside). */
export const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/json'] as const;

/** The policy's version: `gatewayChange.version`, 0 for a record without one (the policy as onboarded). */
export const policyVersion = (record: Pick<TenantRecord, 'gatewayChange'>): number => record.gatewayChange?.version ?? 0;

/** The policy's ETag (RFC 9110 §8.8.3, a strong one): its version in quotes, `"3"`. */
export const policyEtag = (record: Pick<TenantRecord, 'gatewayChange'>): string => `"${policyVersion(record)}"`;

/**
 * Whether `ifMatch` holds for `record`'s policy: `*`, or one of the tags equal by strong comparison (a weak tag `W/"3"`
 * never does: RFC 9110 §13.1.1) to the policy's ETag (`"3"`) or to the tenant's (tenant-etag.ts tenantEtag, which
 * `GET /admin/tenants/{id}` answers: the record unchanged since that read, so its policy too).
 */
const matches = (ifMatch: '*' | string[], record: TenantRecord): boolean => ifMatch === '*' || ifMatch.includes(policyEtag(record)) || ifMatch.includes(tenantEtag(record));

/**
 * Refuses a `PATCH` body of a content type other than MERGE_PATCH_TYPES: 415 `unsupported_media_type` naming it, with
 * `Accept-Patch` (RFC 5789 §2.2). A JSON Patch (`application/json-patch+json`, an array of operations) read as a merge
 * patch would replace the whole policy with the array; plain `application/json` is taken as a merge patch because it is
 * what curl, SDKs and the CLI's other calls send, and this route takes no other patch format. No content type is taken too.
 */
export function refusePatchType(event: Pick<APIGatewayProxyEvent, 'headers'>): void {
  const type = header(event, 'content-type');
  if (type === undefined) return;
  const media = type.split(';')[0]!.trim().toLowerCase();
  if ((MERGE_PATCH_TYPES as readonly string[]).includes(media)) return;
  throw new ApiError(415, `Content-Type = ${shownValue(type)}: PATCH /admin/tenants/{id}/gateway takes a JSON Merge Patch (RFC 7396): application/merge-patch+json (or application/json)`, 'invalid_request_error', 'unsupported_media_type', 'Content-Type', { acceptPatch: MERGE_PATCH_TYPES.join(', ') });
}

/**
 * The key paths whose value differs between two policies, each as parsed with its defaults (`guardrails.redactPii`,
 * `monthlyTokenBudget`; an array is one path, `fallbacks`, `allowedOrigins`; a key added or removed counts), sorted. The
 * paths, never the values: what a history entry and the `Tenant Gateway Policy Changed` event carry.
 */
export function changedPolicyPaths(before: GatewayPolicy | undefined, after: GatewayPolicy): string[] {
  const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (plain(a) && plain(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], path ? `${path}.${key}` : key);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path || '(root)');
  };
  walk(GatewayPolicySchema.parse(before ?? {}), GatewayPolicySchema.parse(after), '');
  return out.sort();
}

/**
 * Announces a policy write on the platform bus (`Tenant Gateway Policy Changed`, source `tessera.lifecycle`), as the
 * lifecycle operations announce theirs: `{ tenantId, version, method, actor, reason?, paths, at }`, the changed key
 * paths without their values (a system prompt can be 8,000 characters, or hold what its author would not broadcast).
 * The write has happened: a failed PutEvents is logged and answered with the write's 200 and `eventNotSent` (the
 * registry's history entry has it all; retrying the write would make another version).
 * @returns undefined when the event was put, else the error's one-line description
 */
async function announcePolicyChange(detail: Record<string, unknown>): Promise<string | undefined> {
  try {
    await emitLifecycleEvent(LIFECYCLE_EVENTS.gatewayPolicyChanged, detail);
    return undefined;
  } catch (e) {
    const error = e as Error;
    const why = `the "${LIFECYCLE_EVENTS.gatewayPolicyChanged}" event did not reach the platform bus ${process.env[ENV.eventBus] ?? ''} (EventBridge PutEvents: ${error.name}: ${String(error.message).split('\n')[0]}); the policy was written and its history entry records the change`;
    logger.warn('gateway policy event not sent', { tenantId: detail.tenantId, version: detail.version, error: why });
    return why;
  }
}

/** 409 for a tenant whose status refuses a policy write (POLICY_STATUSES). */
const refused = (id: string, status: string) => new ApiError(409, `tenant "${id}" is ${status}: its gateway policy can no longer change (it is not served again)`, 'conflict_error', 'invalid_status', 'status');

/**
 * Writes a tenant's gateway policy: reads the record, checks `If-Match` against the policy's ETag (412
 * `precondition_failed`, nothing written), computes the new policy from the one read (`next`, which throws the 400s),
 * and writes `gateway`, `gatewayChange` (version + 1, the caller, the method, the `?reason=`), a `gateway-policy` entry
 * of the tenant's history (`executions`: actor, reason, the changed key paths, the version) and `updatedAt` on
 * condition that the version and `updatedAt` are still the ones read and the status one of POLICY_STATUSES (no lease condition: a
 * lifecycle operation in flight is not disturbed). When another write of the policy came in between, reads and computes
 * again (POLICY_WRITE_ATTEMPTS times): a PATCH of one key lands over another admin's PATCH of another key, and an
 * If-Match read before that other write is then a 412. Then announces it: `Tenant Gateway Policy Changed` (announcePolicyChange).
 * @param next the new policy from the current one (undefined: none set yet)
 * @returns 200 `{ tenantId, status, gateway, version, updatedAt }` with the new `ETag`
 * @throws ApiError 404 unknown tenant, 409 `invalid_status` (OFFBOARDING, OFFBOARDED), 412 `precondition_failed` (a
 *   weak tag of the current version, `W/"3"`, is told so rather than called stale),
 *   409 `policy_contention` after POLICY_WRITE_ATTEMPTS lost races, 400 `unknown_model` for a `defaultModel` or
 *   `fallbacks[i]` the write changes that names no model of the platform (refuseUnknownModels), and what `next` throws
 */
export async function writeGatewayPolicy(event: APIGatewayProxyEvent, id: string, method: 'PUT' | 'PATCH', next: (current: GatewayPolicy | undefined) => GatewayPolicy): Promise<APIGatewayProxyResult> {
  const { reason } = parse(GatewayPolicyQuery, event.queryStringParameters ?? {});
  const ifMatch = ifMatchOf(event, 'the policy\'s last read (If-Match: "3": its gatewayChange.version) or of the tenant\'s (GET /admin/tenants/{id})');
  for (let attempt = 0; attempt < POLICY_WRITE_ATTEMPTS; attempt++) {
    const record = await tenantOr404(id);
    if (!POLICY_STATUSES.includes(record.status)) throw refused(id, record.status);
    if (ifMatch && !matches(ifMatch, record)) {
      const weak = ifMatch !== '*' && ifMatch.includes(`W/${policyEtag(record)}`);
      if (weak) throw new ApiError(412, `If-Match: ${shownHeader(ifMatchValue(event)!)} is a weak entity tag, which never matches (RFC 9110 strong comparison): send the policy's ETag as it came, If-Match: ${policyEtag(record)}; nothing was written`,
        'conflict_error', 'precondition_failed', 'If-Match', { etag: policyEtag(record) });
      throw new ApiError(412, `If-Match: ${shownHeader(ifMatchValue(event)!)} is stale: the gateway policy of tenant "${id}" is now at ETag ${policyEtag(record)} (written ${record.gatewayChange?.at ?? 'at onboarding'} by ${record.gatewayChange?.actor ?? 'the onboarding'}); nothing was written: read it again (tessera --json tenants show ${id}), redo the change on it, and send it with the new ETag`,
        'conflict_error', 'precondition_failed', 'If-Match', { etag: policyEtag(record) });
    }
    const gateway = next(record.gateway);
    // A fallback or defaultModel the platform has no model by (only those this write changes: gateway-policy-models.ts).
    refuseUnknownModels(gateway, record.gateway, platformConfig(), record);
    const version = policyVersion(record) + 1;
    const change = { version, at: new Date().toISOString(), actor: adminCaller(event), method, ...(reason !== undefined ? { reason } : {}) };
    const paths = changedPolicyPaths(record.gateway, gateway);
    // The tenant's history keeps the last GATEWAY_POLICY_ENTRIES writes, not only the last one gatewayChange holds: who,
    // why, which keys, which version; bounded apart from the lifecycle operations' entries, which it never pushes out.
    const entry: LifecycleExecution = {
      kind: 'gateway-policy', requestId: `gateway-policy-v${version}`, // one per version: withExecution replaces an entry of the same kind and requestId
       startedAt: change.at, endedAt: change.at, status: 'SUCCEEDED',
      actor: change.actor, ...(reason !== undefined ? { requestReason: reason } : {}), policyChange: { version, method, paths },
    };
    try {
      // expectUpdatedAt too: the history is read-modify-written, and a lifecycle step's entry written meanwhile must not be lost (a miss is contention: read again).
      const updated = await updateTenant(id, { gateway, gatewayChange: change, executions: withExecution(record, entry) },
        { holder: null, expectStatus: POLICY_STATUSES, expectGatewayVersion: policyVersion(record), expectUpdatedAt: record.updatedAt });
      const eventNotSent = await announcePolicyChange({ tenantId: id, version, method, actor: change.actor, ...(reason !== undefined ? { reason } : {}), paths, at: change.at });
      return {
        statusCode: 200, headers: { 'content-type': 'application/json', etag: policyEtag(updated) },
        body: JSON.stringify({ tenantId: id, status: updated.status, gateway: updated.gateway, version: policyVersion(updated), updatedAt: updated.updatedAt, ...(eventNotSent ? { eventNotSent } : {}) }),
      };
    } catch (e) {
      if (e instanceof RegistryContentionError) continue;
      if (e instanceof TenantConflictError) throw refused(id, (await getTenant(id))?.status ?? 'gone');
      if (e instanceof TenantNotFoundError) throw new ApiError(404, `tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', 'id');
      throw e;
    }
  }
  throw new ApiError(409, `tenant "${id}": its gateway policy changed under each of ${POLICY_WRITE_ATTEMPTS} attempts to write it; nothing was written by this request: send it again`, 'conflict_error', 'policy_contention', 'id');
}

/**
 * `PUT /admin/tenants/{id}/gateway`: the body, strictly parsed (parseGatewayPolicy), replaces the policy. A key it does
 * not know is refused as PATCH refuses one (unknownKeyRefusal: the key's path and value, the nearest key, the keys
 * there); another issue as parse() says it (the path and value).
 */
export function putGatewayPolicy(event: APIGatewayProxyEvent, id: string): Promise<APIGatewayProxyResult> {
  const gateway = parse<GatewayPolicy>({ safeParse: (body: unknown) => {
    const parsed = parseGatewayPolicy(body);
    const unknown = parsed.success ? undefined : unknownKeyRefusal(parsed.error, body, '');
    if (unknown) throw unknown;
    return parsed;
  } }, bodyOf(event));
  return writeGatewayPolicy(event, id, 'PUT', () => gateway);
}

/**
 * The 400 `unknown_parameter` for a policy holding a key the policy does not have, PUT's body or PATCH's merged policy
 * alike: `<what>budget = 5: the gateway policy has no such key (did you mean …?) (its keys: …); nothing was written`
 * (unknownKeyIssue), `param` the key's whole path (`guardrails.redactPII`). Before 2026-12-06 PUT said zod's
 * `(root) = {…}: Unrecognized key: "budget"` with `param` the key alone.
 * @param error the policy's parse error (parseGatewayPolicy)
 * @param policy what was parsed, whose value at the key the message shows
 * @param what the message's lead (PATCH: `the policy after the merge patch: `; PUT: none)
 * @returns undefined when the first issue is not an unknown key
 */
function unknownKeyRefusal(error: z.ZodError, policy: unknown, what: string): ApiError | undefined {
  const first = leafIssues(error)[0];
  if (first?.code !== 'unrecognized_keys') return undefined;
  return new ApiError(400, `${what}${unknownKeyIssue(first.path, first.keys, policy)}; nothing was written`, 'invalid_request_error',
    'unknown_parameter', paramPath([...first.path, first.keys[0]!]));
}

/**
 * A policy's unknown key (a merge patch's, or PUT's body's) as a 400 says it: `budget = 5: the gateway policy has no such
 * key (did you mean …?) (its keys: …)`, the key's own path and the value given it, not the whole policy around it (describeIssues shows the
 * object holding the key, which for a top-level key is the policy, cut at 120 characters before the key showed). The
 * nearest known key is named as `unknownTier` names a tier (lib/config/nearest.ts).
 * @param at the path of the object holding the unknown keys (zod's unrecognized_keys issue path)
 * @param keys the unknown keys, in the patch's order: the first is described, the others counted
 * @param merged the policy (PATCH's merged policy, whose value at each key is the patch's; PUT's body)
 */
function unknownKeyIssue(at: readonly PropertyKey[], keys: readonly string[], merged: unknown): string {
  const key = keys[0]!;
  const known = policyKeysAt(at);
  const near = key.length <= 64 ? nearest(key, known) : undefined;
  const where = at.length ? `${formatPath(at)} has` : 'the gateway policy has';
  const more = keys.length > 1 ? ` (and ${keys.length - 1} more unknown key${keys.length > 2 ? 's' : ''} there: ${keys.slice(1, 6).map((k) => `"${shownKey(k)}"`).join(', ')}${keys.length > 6 ? ', ...' : ''})` : '';
  return `${formatPath([...at, key])} = ${shownValue(valueAt(merged, [...at, key]))}: ${where} no such key${near ? ` (did you mean ${near}?)` : ''} (its keys: ${known.join(', ')})${more}`;
}

/**
 * `PATCH /admin/tenants/{id}/gateway`: the body is a JSON Merge Patch (RFC 7396) of the policy: its objects merge key
 * by key, `null` removes a key (it takes its default), an array or a value replaces the one there. The merged policy is
 * parsed as PUT's body is (400 naming the merged path and its value); a `null` for a key the policy does not know is
 * a 400 too (RFC 7396 would drop it: a typo would change nothing and say nothing).
 */
export function patchGatewayPolicy(event: APIGatewayProxyEvent, id: string): Promise<APIGatewayProxyResult> {
  refusePatchType(event);
  const patch = bodyOf(event, MERGE_PATCH_TYPES);
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new ApiError(400, `(root) = ${shownValue(patch)}: a merge patch of the gateway policy is a JSON object of the keys to change ({"monthlyTokenBudget": 500000}; null removes a key)`, 'invalid_request_error', 'invalid_request');
  }
  const unknown = unknownRemovedKey(patch);
  if (unknown) throw new ApiError(400, `${unknown} = null: the gateway policy has no such key to remove`, 'invalid_request_error', 'unknown_parameter', unknown);
  return writeGatewayPolicy(event, id, 'PATCH', (current) => {
    const merged = mergePatch(current ?? {}, patch);
    const parsed = parseGatewayPolicy(merged);
    if (parsed.success) return parsed.data;
    const what = 'the policy after the merge patch: ';
    const unknown = unknownKeyRefusal(parsed.error, merged, what);
    if (unknown) throw unknown;
    throw new ApiError(400, `${what}${describeIssues(parsed.error, merged).join('; ')}; nothing was written`, 'invalid_request_error',
      'invalid_request', paramPath(leafIssues(parsed.error)[0]?.path ?? []) || undefined);
  });
}
