import { describe, expect, it } from 'vitest';
import { s3VectorsFilter } from '../../../../lambdas/inference/vector-stores/s3-vectors-filter.js';
import type { VectorFilter } from '../../../../lambdas/inference/vector-stores/vector-index.js';

// OpenAI's ComparisonFilter / CompoundFilter (openai/resources/shared) → S3 Vectors' metadata filter
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-metadata-filtering.html).
describe('s3VectorsFilter: one operator at a time', () => {
  it.each<[string, VectorFilter, Record<string, unknown>]>([
    ['eq', { type: 'eq', key: 'genre', value: 'doc' }, { genre: { $eq: 'doc' } }],
    ['eq on a boolean', { type: 'eq', key: 'draft', value: false }, { draft: { $eq: false } }],
    ['ne (an absent key matches)', { type: 'ne', key: 'genre', value: 'drama' }, { $or: [{ genre: { $exists: false } }, { genre: { $ne: 'drama' } }] }],
    ['gt', { type: 'gt', key: 'year', value: 2019 }, { year: { $gt: 2019 } }],
    ['gte', { type: 'gte', key: 'year', value: 2020 }, { year: { $gte: 2020 } }],
    ['lt', { type: 'lt', key: 'year', value: 2020 }, { year: { $lt: 2020 } }],
    ['lte', { type: 'lte', key: 'year', value: 2020.5 }, { year: { $lte: 2020.5 } }],
    ['in', { type: 'in', key: 'genre', value: ['comedy', 'doc', 3] }, { genre: { $in: ['comedy', 'doc', 3] } }],
    ['nin (an absent key matches)', { type: 'nin', key: 'genre', value: ['comedy'] }, { $or: [{ genre: { $exists: false } }, { genre: { $nin: ['comedy'] } }] }],
    ['and', { type: 'and', filters: [{ type: 'eq', key: 'a', value: 1 }, { type: 'lt', key: 'b', value: 2 }] }, { $and: [{ a: { $eq: 1 } }, { b: { $lt: 2 } }] }],
    ['or', { type: 'or', filters: [{ type: 'eq', key: 'a', value: 'x' }, { type: 'gte', key: 'b', value: 0 }] }, { $or: [{ a: { $eq: 'x' } }, { b: { $gte: 0 } }] }],
  ])('%s', (_op, filter, expected) => {
    expect(s3VectorsFilter(filter)).toEqual(expected);
  });

  it('nests compound filters', () => {
    expect(s3VectorsFilter({ type: 'and', filters: [{ type: 'or', filters: [{ type: 'eq', key: 'a', value: 1 }, { type: 'in', key: 'b', value: ['x'] }] }, { type: 'gt', key: 'c', value: 3 }] }))
      .toEqual({ $and: [{ $or: [{ a: { $eq: 1 } }, { b: { $in: ['x'] } }] }, { c: { $gt: 3 } }] });
  });
});

describe('s3VectorsFilter: what S3 Vectors refuses is a 400 naming the filter\'s field', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['a range on a string', { type: 'gt', key: 'year', value: '2019' }, 'filters.value', /"gt" compares numbers only/],
    ['a range on a boolean', { type: 'lte', key: 'draft', value: true }, 'filters.value', /"lte" compares numbers only/],
    ['eq with an array', { type: 'eq', key: 'genre', value: ['a'] }, 'filters.value', /"eq" compares a string, number or boolean/],
    ['in with a scalar', { type: 'in', key: 'genre', value: 'a' }, 'filters.value', /non-empty array/],
    ['nin with an empty array', { type: 'nin', key: 'genre', value: [] }, 'filters.value', /non-empty array/],
    ['an empty and', { type: 'and', filters: [] }, 'filters.filters', /non-empty array of filters/],
    ['an unknown type', { type: 'regex', key: 'a', value: 'x' }, 'filters.type', /must be one of eq, ne/],
    ['a key that is an operator', { type: 'eq', key: '$or', value: 'x' }, 'filters.key', /must not begin with "\$"/],
    ['a nested bad filter', { type: 'or', filters: [{ type: 'eq', key: 'a', value: 1 }, { type: 'gt', key: 'b', value: 'x' }] }, 'filters.filters[1].value', /compares numbers only/],
  ])('%s', (_what, filter, param, message) => {
    expect(() => s3VectorsFilter(filter as VectorFilter)).toThrow(expect.objectContaining({ status: 400, param }));
    expect(() => s3VectorsFilter(filter as VectorFilter)).toThrow(message);
  });
});
