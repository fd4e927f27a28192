import { printable } from '../../../lib/printable.js';
import { shownKey } from '../../../lib/zod-issues.js';
import { GatewayError, invalid, unknownParameter } from '../openai-errors.js';
import type { StoredResponse } from '../stores/response-store.js';
import { responseIdOfItem } from './ids.js';
import type { InputItem } from './input-items.js';

type RawItem = Record<string, unknown>;

/** Stored responses read at once while resolving one request's references. */
const CONCURRENT_READS = 8;

/**
 * The most stored responses one request may reference items of: each is read (in DynamoDB a
 * consistent GetItem of up to 400 KB), and a conversation whose every turn is still storable
 * (390 KiB compressed) has far fewer turns.
 */
export const MAX_REFERENCED_RESPONSES = 1000;

/**
 * Whether a request's input item is an item reference (OpenAI's `ResponseInputItem.ItemReference`,
 * `{type: 'item_reference', id}`, where `type` may be left out: an item of `id` alone).
 */
export function isItemReference(raw: unknown): raw is RawItem {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const item = raw as RawItem;
  if (item.type === 'item_reference') return true;
  return item.type == null && 'id' in item && Object.entries(item).every(([k, v]) => k === 'id' || v == null);
}

/**
 * The request's `input` with each item reference written `{type: 'item_reference', id}` (also one
 * sent as `{id}` alone, which would otherwise read as a message), checked before anything is read
 * or counted: `id` is a non-empty string of at most 256 characters, and no other field is set
 * (a null counts as absent).
 * @param input the request's `input` (a string or absent: returned as is)
 * @throws GatewayError 400 naming `input[i].id` (missing or not a string); 400 `unknown_parameter` naming `input[i].<field>`,
 *   in OpenAI's words (`Unknown parameter: 'input[0].status'.`), for a key an ItemReference does not have
 */
export function normalizeItemReferences<T>(input: T): T {
  if (!Array.isArray(input)) return input;
  return input.map((raw, i) => {
    if (!isItemReference(raw)) return raw;
    for (const [k, v] of Object.entries(raw)) {
      if (k !== 'id' && k !== 'type' && v != null) throw unknownParameter(`input[${i}].${shownKey(k)}`, 'An item_reference has only type and id');
    }
    if (typeof raw.id !== 'string' || raw.id === '' || raw.id.length > 256) {
      throw invalid(`input[${i}].id: an item_reference needs the id of an item (a string of 1 to 256 characters), got ${typeof raw.id === 'string' ? `${raw.id.length} characters` : raw.id == null ? 'none' : Array.isArray(raw.id) ? 'a list' : typeof raw.id === 'object' ? 'an object' : `a ${typeof raw.id}`}`, `input[${i}].id`, raw.id == null ? 'missing_required_parameter' : 'invalid_type');
    }
    return { type: 'item_reference', id: raw.id };
  }) as T;
}

/**
 * The items with a stand-in for each item reference, at the same index: an empty assistant
 * message with the reference's id, which maps to chat without error. For the checks that run
 * before the references are resolved (after the rate limits: resolving reads the store), so that
 * every other item is still refused before anything is counted, under its own `input[i]` path.
 */
export const withReferenceStandIns = (items: InputItem[]): InputItem[] =>
  items.map((item) => (item.type === 'item_reference' ? { id: item.id, type: 'message', role: 'assistant', content: [] } : item));

/**
 * Each item reference replaced by the item it names, as OpenAI resolves `item_reference`: an item
 * of one of the CALLER'S tenant's stored responses, found through its id. An id the gateway made
 * for a response's item leads to that response (`responseIdOfItem`, ids.ts), which is read with
 * `load` (the response store's tenant-scoped get: another tenant's response is never read); the
 * item is looked for among its output items, then its input items. Each response is read once per
 * request, at most 8 at a time, and reading stops at the first that is not found.
 *
 * Not found, with one answer for all (so it never says whether another tenant has such an item):
 * an id the gateway did not derive (a caller's own, an item of a response stored before item ids
 * were derived, which were random), a response that was not stored (`store: false`), has expired,
 * was deleted or is another tenant's, and an id its response does not hold.
 *
 * Ids stay unique: a resolved item keeps the reference's id, so a reference to an item that is also
 * in `input`, or two references to one item, are refused by `checkUniqueItemIds` (references.ts)
 * as duplicates, like any repeated id.
 * @param items the request's input items (`inputItemsOf` of `normalizeItemReferences`'s input)
 * @param load the caller's tenant's stored response, or undefined (unknown, expired, another
 *   tenant's); absent when the gateway keeps no responses (then no reference resolves)
 * @returns the items with references resolved (the same array when there are none)
 * @throws ItemNotFoundError (400 naming `input[i].id`, code `item_not_found`) for the first reference that does not resolve
 * @throws GatewayError 400 `too_many_item_references` naming the reference to a response past the first `MAX_REFERENCED_RESPONSES`
 */
export async function resolveItemReferences(items: InputItem[], load: ((responseId: string) => Promise<StoredResponse | undefined>) | undefined): Promise<InputItem[]> {
  const refs = items.flatMap((item, i) => (item.type === 'item_reference' ? [{ i, responseId: responseIdOfItem(item.id) }] : []));
  if (!refs.length) return items;
  // The responses to read, in the order they are first referenced, up to the first id that names none (not found, whatever else is read).
  const order = new Set<string>();
  for (const { i, responseId } of refs) {
    if (responseId === undefined) break;
    order.add(responseId);
    if (order.size > MAX_REFERENCED_RESPONSES) throw invalid(`input[${i}].id: a request may reference items of at most ${MAX_REFERENCED_RESPONSES} stored responses (each is read); send the earlier items themselves, or chain with previous_response_id`, `input[${i}].id`, 'too_many_item_references');
  }
  const stored = load ? await readInOrder([...order], load) : new Map<string, StoredResponse | undefined>();
  return items.map((item, i) => {
    if (item.type !== 'item_reference') return item;
    const responseId = responseIdOfItem(item.id);
    const found = responseId === undefined ? undefined : itemOf(stored.get(responseId), item.id);
    if (!found) throw new ItemNotFoundError(item.id, i, load !== undefined);
    return structuredClone(found) as InputItem;
  });
}

/**
 * The responses, read `CONCURRENT_READS` at a time in the given order; reading stops (after the
 * reads under way) once one is not found: every response before it has been read, so the first
 * reference that does not resolve is still the one named, and a request full of unknown ids costs
 * a few reads, not one per id.
 */
async function readInOrder(responseIds: string[], load: (responseId: string) => Promise<StoredResponse | undefined>): Promise<Map<string, StoredResponse | undefined>> {
  const stored = new Map<string, StoredResponse | undefined>();
  let next = 0;
  let missing = false;
  const reader = async () => {
    while (next < responseIds.length && !missing) {
      const id = responseIds[next++];
      const response = await load(id);
      stored.set(id, response);
      if (!response) missing = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, responseIds.length) }, reader));
  return stored;
}

/** The item `id` of a stored response: an output item, else an input item. */
function itemOf(response: StoredResponse | undefined, id: string): RawItem | undefined {
  if (!response) return undefined;
  const output = Array.isArray(response.response.output) ? (response.response.output as RawItem[]) : [];
  return output.find((item) => item?.id === id) ?? response.inputItems.find((item) => item?.id === id);
}

/**
 * 400 `item_not_found` naming `input[i].id`, in OpenAI's words ("Item with id '…' not found."), one
 * message for every cause; `itemId` (as sent, at most 256 characters) is for the audit record.
 */
export class ItemNotFoundError extends GatewayError {
  constructor(readonly itemId: string, index: number, storing: boolean) {
    super(400, `Item with id '${printable(itemId.slice(0, 100))}' not found (input[${index}].id). ` + (storing
      ? 'An item_reference names an item of one of your stored responses (store: true, not expired or deleted); items of responses sent with store: false are not kept. Send the item itself instead, or chain with previous_response_id.'
      : 'This gateway stores no responses, so items cannot be referenced: send the item itself instead.'),
    'invalid_request_error', 'item_not_found', `input[${index}].id`);
  }
}

