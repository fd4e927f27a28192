import { z } from 'zod';
import { KEY_LIST_LIMIT } from '../../lib/identity/api-key-record.js';
import { integerQueryValue } from '../inference/query-parameters.js';
import { IdentityError } from './identity-error.js';

/**
 * The query of a key list (`GET /v1/tenant/keys`, `GET /admin/tenants/{id}/keys`), in OpenAI's cursor-list terms
 * (its admin API keys list, `GET /organization/admin_api_keys`: `limit` 1-100 default 20, `after`, `order` asc|desc
 * default asc), in OpenAI's order: by creation time (`createdAt`; keys made in the same millisecond by key id), oldest
 * first for `asc` (the keys table's index KEYS_BY_CREATION_INDEX; docs/identity.md, "Listing keys").
 */
export interface KeyPageRequest {
  /** Keys on the page, 1-100. @default 20 */
  readonly limit: number;
  /** The last key id of the page before: a key of the tenant (the store refuses one it has not, UnknownAfterKeyError). @default - the first page */
  readonly after?: string;
  /** Oldest first (`asc`) or newest first (`desc`), by creation time then key id. @default 'asc' */
  readonly order: 'asc' | 'desc';
}


const NAMES = ['limit', 'after', 'order'];

/** The names a key list's query takes (the admin route's `query`); their values are checked by parseKeyListQuery. */
export const KeyListQuery = z.strictObject({ limit: z.string().optional(), after: z.string().optional(), order: z.string().optional() });
const KEY_ID = /^key_[0-9a-f]{16}$/;

/**
 * A key list's query string as a KeyPageRequest.
 * @param query the request's query string parameters (undefined: none)
 * @throws IdentityError 400 `unknown_parameter` naming a parameter other than limit, after, order
 * @throws IdentityError 400 param `limit`: read by integerQueryValue, as every list route of the gateway reads it (leading
 *   zeros taken: `05`; outside 1-100 `integer_below_min_value`, `integer_above_max_value` in OpenAI's words; the key
 *   list's `limit` is OpenAI's cursor-list parameter, paged by the SDKs' getAPIList); anything else `invalid_value`
 * @throws IdentityError 400 `invalid_value`, param `after`, for an empty value or one that is not a key id (`key_` and 16 hex)
 * @throws IdentityError 400 `invalid_value`, param `order`, for anything but `asc` or `desc`
 */
export function parseKeyListQuery(query: Record<string, string | undefined> | null | undefined): KeyPageRequest {
  const q = query ?? {};
  const unknown = Object.keys(q).find((name) => !NAMES.includes(name));
  if (unknown !== undefined) throw new IdentityError(400, `unknown query parameter "${unknown.slice(0, 100)}": a key list takes limit, after, order`, 'unknown_parameter', unknown.slice(0, 100));
  // Read as every list route of the gateway reads its `limit` (query-parameters.ts integerQueryValue): one parser, one answer.
  const read = integerQueryValue('limit', q.limit, KEY_LIST_LIMIT);
  if ('refusal' in read) throw new IdentityError(400, read.refusal.message, read.refusal.code, 'limit');
  const limit = read.value;
  if (q.after !== undefined && !KEY_ID.test(q.after)) {
    throw new IdentityError(400, q.after === '' ? 'after is empty: give the id of the last key of the page before (last_id), or leave after out for the first page' : `after "${q.after.slice(0, 100)}" is not a key id: give the last_id of the page before (key_ and 16 hex digits)`, 'invalid_value', 'after');
  }
  const order = q.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw new IdentityError(400, `order "${order.slice(0, 100)}" must be "asc" or "desc"`, 'invalid_value', 'order');
  return { limit, ...(q.after === undefined ? {} : { after: q.after }), order };
}
