import { invalid } from '../openai-errors.js';
import { integerQuery } from '../query-parameters.js';

/** OpenAI's list of input items (`ResponseItemList`). */
export interface ItemList {
  object: 'list';
  data: Record<string, unknown>[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * A page of a response's input items, as `GET /v1/responses/{id}/input_items` answers:
 * `order` `desc` (OpenAI's default: the last item first) or `asc`; `after`: an item id, the page
 * starts after it; `limit` 1 to 100 (default 20). `first_id`/`last_id` are null for an empty page.
 * @throws GatewayError 400 naming `limit`, `order` or `after` when it is not valid (`after`: not an item of this response)
 */
export function inputItemsPage(items: Record<string, unknown>[], query: Record<string, string | undefined>): ItemList {
  const limit = integerQuery(query, 'limit', { min: 1, max: 100, fallback: 20 });
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid(`order must be asc or desc, got '${order}'`, 'order');
  const ordered = order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex((i) => i.id === query.after);
    if (at < 0) throw invalid(`after '${query.after}' is not an input item of this response`, 'after');
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, first_id: (data[0]?.id as string) ?? null, last_id: (data.at(-1)?.id as string) ?? null, has_more: start + limit < ordered.length };
}
