import { describe, expect, it } from 'vitest';
import { inputItemsPage } from '../../../../lambdas/inference/responses/input-items-list.js';

const items = ['a', 'b', 'c', 'd'].map((id) => ({ id, type: 'message' }));
const ids = (q: Record<string, string>) => inputItemsPage(items, q).data.map((i) => i.id);

describe('input_items pages', () => {
  it('default: newest first (desc), 20 per page', () => {
    expect(inputItemsPage(items, {})).toEqual({ object: 'list', data: [...items].reverse(), first_id: 'd', last_id: 'a', has_more: false });
  });
  it('order asc, limit and after page through', () => {
    expect(inputItemsPage(items, { order: 'asc', limit: '2' })).toMatchObject({ first_id: 'a', last_id: 'b', has_more: true });
    expect(ids({ order: 'asc', limit: '2', after: 'b' })).toEqual(['c', 'd']);
    expect(ids({ after: 'c' })).toEqual(['b', 'a']);
  });
  it('limit=02 is 2, as every list reads its limit', () => expect(ids({ order: 'asc', limit: '02' })).toEqual(['a', 'b']));
  it('an empty page has null ids', () => expect(inputItemsPage([], {})).toMatchObject({ data: [], first_id: null, last_id: null, has_more: false }));
  it.each([[{ limit: '0' }, 'limit'], [{ limit: '101' }, 'limit'], [{ limit: '1e1' }, 'limit'], [{ limit: '+2' }, 'limit'], [{ limit: '0x10' }, 'limit'], [{ limit: '5.0' }, 'limit'], [{ limit: ' 5' }, 'limit'], [{ order: 'up' }, 'order'], [{ after: 'zz' }, 'after']])('%j is a 400 naming %s', (q, param) => {
    expect(() => inputItemsPage(items, q)).toThrow(expect.objectContaining({ status: 400, param }));
  });
});
