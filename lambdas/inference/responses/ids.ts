import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * Prefixes of the ids the gateway makes: `resp_…` responses, `msg_…` messages, `fc_…` function calls, `fco_…` function-call
 * outputs, `ctc_…` custom tool calls (OpenAI's prefix for them), `ctco_…` custom tool call outputs, `rs_…` reasoning,
 * `item_…` other input items.
 */
export type IdPrefix = 'resp' | 'msg' | 'fc' | 'fco' | 'ctc' | 'ctco' | 'rs' | 'fs' | 'item';

/** The items of one response: its 48 hex characters and the next index. */
interface ItemIdScope {
  hex: string;
  next: number;
}

const scope = new AsyncLocalStorage<ItemIdScope>();

/** Item ids derived from one response: 4 hex characters of index after its 48. */
const INDEX_DIGITS = 4;
const MAX_INDEX = 16 ** INDEX_DIGITS - 1;
const DERIVED_ITEM_ID = /^[a-z]+_([0-9a-f]{48})[0-9a-f]{4}$/;

/**
 * Ids in OpenAI's shapes, a prefix and hex characters, none of which says anything about the tenant:
 * - a response id (`resp_`) is 48 random hex characters (24 bytes from the CSPRNG), so it cannot be guessed;
 * - an item id made while a response is being made (`withItemIdsOf`: its input items that came
 *   without an id, its output items) is `<prefix>_<the response's 48 hex><4 hex index>`, index 0, 1, …
 *   in the order the ids are made, so it is as unguessable as the response id, unique within the
 *   response, and leads to the response that holds the item (`responseIdOfItem`: how an
 *   `item_reference` is resolved without an index of items). Past index ffff (65,536 ids), or
 *   outside such a scope, an item id is 48 random hex characters and cannot be referenced.
 */
export function newId(prefix: IdPrefix): string {
  const within = prefix === 'resp' ? undefined : scope.getStore();
  if (within && within.next <= MAX_INDEX) return `${prefix}_${within.hex}${(within.next++).toString(16).padStart(INDEX_DIGITS, '0')}`;
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/**
 * Runs `f` with item ids derived from `responseId` (see `newId`): every `newId` of an item in `f`,
 * and in what `f` starts and awaits (Node's AsyncLocalStorage follows the request through its
 * awaits, stream callbacks included), gets the next index. Concurrent requests each have their own.
 * @param responseId a response id the gateway made (`resp_` and 48 hex characters)
 * @throws Error when `responseId` is not one
 */
export function withItemIdsOf<T>(responseId: string, f: () => T): T {
  if (!isResponseId(responseId)) throw new Error(`item ids are derived from a response id the gateway made (resp_ and 48 hex characters), not '${responseId}'`);
  return scope.run({ hex: responseId.slice('resp_'.length), next: 0 }, f);
}

/**
 * The response an item id was derived from (`resp_` and the id's 48 hex characters after its
 * prefix), or undefined for an id the gateway did not derive: a caller's own id, an item id of a
 * response stored before item ids were derived (random, 48 hex), or anything else.
 */
export function responseIdOfItem(itemId: string): string | undefined {
  const m = DERIVED_ITEM_ID.exec(itemId);
  return m ? `resp_${m[1]}` : undefined;
}

/** Whether `id` can be a response id the gateway made (`resp_` and 48 hex characters). */
export const isResponseId = (id: string) => /^resp_[0-9a-f]{48}$/.test(id);

/**
 * A tool call's `call_id` for a call whose upstream gave it none (or an empty one): `call_` and 24
 * random hex characters, the shape of OpenAI's call ids. Not an item id (a function_call item's `id`
 * is `fc_…`): it is not derived from the response, as it names the call, not an item of it.
 */
export const newCallId = (): string => `call_${randomBytes(12).toString('hex')}`;

/**
 * `value` (a Response, or one of its stream events, as JSON values) with every item id derived from response `from`
 * (`<prefix>_<from's 48 hex><4 hex index>`, see `newId`) derived from response `to` instead, at the same index: a
 * response cache HIT answers the kept Response under its own id (response-cache/), and its items must lead to it, as a
 * fresh answer's do (`responseIdOfItem`), not to the response of another request (another caller's, with the cache's
 * `scope: tenant`). Only whole strings of that shape change (`id`, `item_id`, …); text, ids the caller sent and call ids
 * stay. A new value; `value` is not changed.
 * @param from the response id the items were derived from (`resp_` and 48 hex characters)
 * @param to the response id to derive them from
 * @returns `value` itself when `from` is not a response id the gateway made, or is `to`
 */
export function rederivedItemIds<T>(value: T, from: string, to: string): T {
  if (!isResponseId(from) || !isResponseId(to) || from === to) return value;
  const [oldHex, newHex] = [from.slice('resp_'.length), to.slice('resp_'.length)];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = DERIVED_ITEM_ID.exec(v);
      return m && m[1] === oldHex ? `${v.slice(0, v.indexOf('_') + 1)}${newHex}${v.slice(-INDEX_DIGITS)}` : v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
