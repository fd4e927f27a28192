/**
 * OpenAI's list page (`{object: "list", data, first_id, last_id, has_more}`) of items already in the list's order
 * (`order` applied), cut by the cursors `after` and `before` (OpenAI API reference, e.g. "List vector stores": `after`
 * "ending with obj_foo, your subsequent call can include after=obj_foo in order to fetch the next page of the list";
 * `before` "starting with obj_foo, ... before=obj_foo in order to fetch the previous page of the list").
 *
 * - `after` only (or neither): the first `limit` items after the cursor (from the list's start); `has_more` when items
 *   follow the page.
 * - `before` only: the previous page, the `limit` items immediately preceding the cursor, still in the list's order
 *   (not the first `limit` from the list's start); `has_more` when items precede the page, the way back being the
 *   direction of travel: a client paging backwards sends `before=first_id` while `has_more` is true.
 * - both: the items strictly between the two cursors, paged from `after` as `after` alone (OpenAI's reference does not
 *   say what it does with both; the gateway bounds the next page by `before`, and `has_more` says items remain before it).
 *
 * `first_id`/`last_id` are the page's first and last item (null for an empty page), whichever the direction.
 * @param ordered the whole list in its answered order
 * @param limit the page size (the caller checked it: 1-100)
 * @param bounds `start`: the index of the first item after the `after` cursor (undefined: no `after`); `end`: the
 *   index of the first item at or past the `before` cursor, i.e. the items kept are those before it (undefined: no
 *   `before`). A cursor that names no item of the list is the caller's to answer (a 404, or no bound)
 * @param idOf an item's id, as `first_id`/`last_id` name it
 */
export function cursorPage<T>(ordered: readonly T[], limit: number, bounds: { start?: number; end?: number }, idOf: (item: T) => string): CursorPage<T> {
  const start = Math.max(0, bounds.start ?? 0);
  const end = Math.max(start, Math.min(ordered.length, bounds.end ?? ordered.length));
  const window = ordered.slice(start, end);
  const backwards = bounds.end !== undefined && bounds.start === undefined;
  const data = backwards ? window.slice(Math.max(0, window.length - limit)) : window.slice(0, limit);
  return { object: 'list', data, first_id: data.length ? idOf(data[0]!) : null, last_id: data.length ? idOf(data.at(-1)!) : null, has_more: window.length > limit };
}

/** OpenAI's cursor page (the `openai` package's CursorPage response: `data`, `first_id`, `last_id`, `has_more`). */
export interface CursorPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}
