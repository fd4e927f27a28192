import type { ComparisonFilter, CompoundFilter } from 'openai/resources/shared';
import { invalid } from '../openai-errors.js';
import type { VectorFilter } from './vector-index.js';

/**
 * OpenAI's attribute filter (`filters` of `/v1/vector_stores/{id}/search`: ComparisonFilter, CompoundFilter) as an
 * S3 Vectors metadata filter (QueryVectors `filter`; operators of
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-metadata-filtering.html).
 *
 * | OpenAI | S3 Vectors |
 * |---|---|
 * | `eq` (string, number, boolean) | `{key: {$eq: v}}` |
 * | `ne` (string, number, boolean) | `{$or: [{key: {$exists: false}}, {key: {$ne: v}}]}` |
 * | `gt` `gte` `lt` `lte` (number) | `{key: {$gt: v}}` … |
 * | `in` (non-empty array of strings and numbers) | `{key: {$in: [...]}}` |
 * | `nin` (non-empty array) | `{$or: [{key: {$exists: false}}, {key: {$nin: [...]}}]}` |
 * | `and` / `or` (non-empty array of filters) | `{$and: [...]}` / `{$or: [...]}` |
 *
 * Absent keys: `eq`, the ranges and `in` never match a record without the key; `ne` and `nin` do (a file without the
 * attribute is not equal to the value). S3 Vectors' documentation does not say what `$ne` / `$nin` do with an absent
 * key, so the translation says it with `$exists`: the answer is the same whatever the service does, and the local
 * index of `tessera serve` must match absent keys the same way.
 *
 * What S3 Vectors refuses is refused here first, as a 400 naming `filters` and the value: a range on a string or a
 * boolean (S3 Vectors: `$gt`… take numbers), an array for `eq`/`ne`, a scalar or an empty array for `in`/`nin`, an
 * empty compound filter, an unknown `type`.
 * @throws GatewayError 400 `invalid_request_error` naming `filters`
 */
export function s3VectorsFilter(filter: VectorFilter, path = 'filters'): Record<string, unknown> {
  if (typeof filter !== 'object' || filter === null) throw bad(path, `must be a comparison or compound filter, got ${show(filter)}`);
  if (filter.type === 'and' || filter.type === 'or') return compound(filter as CompoundFilter, path);
  return comparison(filter as ComparisonFilter, path);
}

const RANGE = { gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte' } as const;

function compound(filter: CompoundFilter, path: string): Record<string, unknown> {
  if (!Array.isArray(filter.filters) || filter.filters.length === 0) throw bad(`${path}.filters`, `a "${filter.type}" filter needs a non-empty array of filters, got ${show(filter.filters)}`);
  return { [`$${filter.type}`]: filter.filters.map((f, i) => s3VectorsFilter(f as VectorFilter, `${path}.filters[${i}]`)) };
}

function comparison(filter: ComparisonFilter, path: string): Record<string, unknown> {
  const { key, type, value } = filter;
  if (typeof key !== 'string' || key.length === 0) throw bad(`${path}.key`, `must be a non-empty string, got ${show(key)}`);
  if (key.startsWith('$')) throw bad(`${path}.key`, `must not begin with "$" (an S3 Vectors operator), got ${show(key)}`);
  switch (type) {
    case 'eq':
    case 'ne': {
      if (!isScalar(value)) throw bad(`${path}.value`, `"${type}" compares a string, number or boolean, got ${show(value)}`);
      return type === 'eq' ? { [key]: { $eq: value } } : absentOr(key, { $ne: value });
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`${path}.value`, `"${type}" compares numbers only (S3 Vectors' ${RANGE[type]}), got ${show(value)}`);
      return { [key]: { [RANGE[type]]: value } };
    }
    case 'in':
    case 'nin': {
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
        throw bad(`${path}.value`, `"${type}" takes a non-empty array of strings and numbers, got ${show(value)}`);
      }
      return type === 'in' ? { [key]: { $in: value } } : absentOr(key, { $nin: value });
    }
    default:
      throw bad(`${path}.type`, `must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or; got ${show(type)}`);
  }
}

/** Matches records without `key` or whose `key` matches `condition`. */
const absentOr = (key: string, condition: Record<string, unknown>) => ({ $or: [{ [key]: { $exists: false } }, { [key]: condition }] });

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 200);

const bad = (param: string, message: string) => invalid(`${param} ${message}`, param);
