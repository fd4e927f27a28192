import { describe, expect, it } from 'vitest';
import { cursorPage } from '../../../lambdas/inference/cursor-page.js';

/** Items 0-9 in the list's order; a page as [ids, first_id, last_id, has_more]. */
const items = Array.from({ length: 10 }, (_, i) => `obj_${i}`);
const pageOf = (bounds: { start?: number; end?: number }, limit = 3) => {
  const p = cursorPage(items, limit, bounds, (id) => id);
  return [p.data.map((id) => Number(id.slice(4))), p.first_id, p.last_id, p.has_more];
};

describe('cursorPage: OpenAI list cursors', () => {
  it('with after (or no cursor): the first limit items after it, has_more while items follow', () => {
    expect(pageOf({})).toEqual([[0, 1, 2], 'obj_0', 'obj_2', true]);
    expect(pageOf({ start: 3 })).toEqual([[3, 4, 5], 'obj_3', 'obj_5', true]);
    expect(pageOf({ start: 7 })).toEqual([[7, 8, 9], 'obj_7', 'obj_9', false]);
    expect(pageOf({ start: 10 })).toEqual([[], null, null, false]);
  });

  it('with before: the previous page, the limit items just before the cursor in the list\'s order, not the list\'s first', () => {
    // before=obj_7: items 4, 5, 6 (the page before the one starting at 7); items 0-3 remain before it.
    expect(pageOf({ end: 7 })).toEqual([[4, 5, 6], 'obj_4', 'obj_6', true]);
    expect(pageOf({ end: 4 })).toEqual([[1, 2, 3], 'obj_1', 'obj_3', true]);
    expect(pageOf({ end: 3 })).toEqual([[0, 1, 2], 'obj_0', 'obj_2', false]);
    expect(pageOf({ end: 1 })).toEqual([[0], 'obj_0', 'obj_0', false]);
    expect(pageOf({ end: 0 })).toEqual([[], null, null, false]);
  });

  it('pages backwards from the end to the start with before=first_id, every item once, as forwards with after=last_id', () => {
    const back: number[][] = [];
    let end = items.length;
    for (let more = true; more;) {
      const p = cursorPage(items, 4, { end }, (id) => id);
      back.unshift(p.data.map((id) => Number(id.slice(4))));
      more = p.has_more;
      end = items.indexOf(p.first_id!);
    }
    expect(back).toEqual([[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]);
  });

  it('with after and before: the items between them, paged from after; has_more while items remain before the before cursor', () => {
    expect(pageOf({ start: 2, end: 8 })).toEqual([[2, 3, 4], 'obj_2', 'obj_4', true]);
    expect(pageOf({ start: 5, end: 8 })).toEqual([[5, 6, 7], 'obj_5', 'obj_7', false]);
    expect(pageOf({ start: 6, end: 4 })).toEqual([[], null, null, false]);
  });
});
