import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, unknownParameter } from '../openai-errors.js';
import type { ComparisonFilter } from 'openai/resources/shared';
import { RUN_METADATA_KEY, TEXT_METADATA_KEY, type VectorFilter, type VectorMetadataValue } from './vector-index.js';

/**
 * OpenAI's attribute filters (openai shared ComparisonFilter, CompoundFilter), as `/v1/vector_stores/{id}/search`
 * takes them in `filters`: a comparison `{key, type: eq|ne|gt|gte|lt|lte|in|nin, value}` or a compound
 * `{type: and|or, filters: [...]}`. checkFilter refuses a malformed one naming where it is; matchesFilter evaluates one.
 */

const COMPARISONS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'] as const;
const COMPOUNDS = ['and', 'or'] as const;
/** Nesting of compound filters this gateway takes (a filter is the caller's JSON: bounded, as S3 Vectors bounds its own). */
export const MAX_FILTER_DEPTH = 8;
const quoted = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 100);
const isScalar = (v: unknown): v is VectorMetadataValue => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';

/**
 * Checks a filter's shape.
 * @param field where it is in the request (`filters`, `filters.filters[1]`), as the 400 names it
 * @throws GatewayError 400 naming the field and the value: an unknown `type`, a missing `key`, a `value` of the wrong
 *   kind (`in`/`nin` take a list of strings and numbers, `gt`… a number or string, `eq`/`ne` a string, number or boolean)
 */
export function checkFilter(filter: unknown, field = 'filters', depth = 0): VectorFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw invalid(`${field} must be an object (a comparison {key, type, value} or a compound {type: "and"|"or", filters})`, field, 'invalid_type');
  const f = filter as Record<string, unknown>;
  const fields = (COMPOUNDS as readonly unknown[]).includes(f.type) ? ['type', 'filters'] : ['key', 'type', 'value'];
  const extra = Object.keys(f).find((k) => !fields.includes(k));
  if (extra) throw unknownParameter(`${field}.${shownKey(extra)}`, `This filter takes ${fields.join(', ')}`);
  if ((COMPOUNDS as readonly unknown[]).includes(f.type)) {
    if (depth >= MAX_FILTER_DEPTH) throw invalid(`${field} nests compound filters more than ${MAX_FILTER_DEPTH} deep`, field, 'invalid_value');
    if (!Array.isArray(f.filters) || f.filters.length === 0) throw invalid(`${field}.filters must be a non-empty list of filters`, `${field}.filters`, 'invalid_value');
    f.filters.forEach((inner, i) => checkFilter(inner, `${field}.filters[${i}]`, depth + 1));
    return filter as VectorFilter;
  }
  if (!(COMPARISONS as readonly unknown[]).includes(f.type)) {
    throw invalid(`${field}.type ${quoted(f.type)} is not a filter type: one of ${[...COMPARISONS, ...COMPOUNDS].join(', ')}`, `${field}.type`, 'invalid_value');
  }
  if (typeof f.key !== 'string' || !f.key) throw invalid(`${field}.key must be a non-empty string (the attribute compared)`, `${field}.key`, 'invalid_value');
  // The index keeps a chunk's run and text beside the attributes under these names: no attribute may have them (checked at attach), and a filter naming one would read the gateway's, not the tenant's.
  if (f.key === RUN_METADATA_KEY || f.key === TEXT_METADATA_KEY) throw invalid(`${field}.key ${quoted(f.key)} is reserved by this gateway (no file's attributes can have it); filter on another attribute`, `${field}.key`, 'invalid_value');
  const v = f.value;
  if (f.type === 'in' || f.type === 'nin') {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) throw invalid(`${field}.value ${quoted(v)} must be a list of strings and numbers for "${f.type as string}"`, `${field}.value`, 'invalid_value');
  } else if (!isScalar(v) || (f.type !== 'eq' && f.type !== 'ne' && typeof v === 'boolean')) {
    throw invalid(`${field}.value ${quoted(v)} must be ${f.type === 'eq' || f.type === 'ne' ? 'a string, number or boolean' : 'a number or string'} for "${f.type as string}"`, `${field}.value`, 'invalid_value');
  }
  return filter as VectorFilter;
}

/** Orders two values of one kind (numbers as numbers, strings by code unit); undefined for different kinds. */
const order = (a: VectorMetadataValue, b: VectorMetadataValue): number | undefined =>
  typeof a !== typeof b || typeof a === 'boolean' ? undefined : a < b ? -1 : a > b ? 1 : 0;

/**
 * Whether metadata matches a filter (checked by checkFilter). A comparison on an absent key matches only `ne` and
 * `nin`; `gt`/`gte`/`lt`/`lte` of values of different kinds (a number and a string) do not match.
 */
export function matchesFilter(metadata: Record<string, VectorMetadataValue>, compound: VectorFilter): boolean {
  if (compound.type === 'and') return (compound.filters as VectorFilter[]).every((f) => matchesFilter(metadata, f));
  if (compound.type === 'or') return (compound.filters as VectorFilter[]).some((f) => matchesFilter(metadata, f));
  const filter = compound as ComparisonFilter;
  const has = Object.hasOwn(metadata, filter.key);
  const actual = metadata[filter.key];
  const value = filter.value;
  switch (filter.type) {
    case 'eq': return has && actual === value;
    case 'ne': return !has || actual !== value;
    case 'in': return has && (value as Array<string | number>).includes(actual as string | number);
    case 'nin': return !has || !(value as Array<string | number>).includes(actual as string | number);
    default: {
      if (!has) return false;
      const o = order(actual!, value as VectorMetadataValue);
      if (o === undefined) return false;
      return filter.type === 'gt' ? o > 0 : filter.type === 'gte' ? o >= 0 : filter.type === 'lt' ? o < 0 : o <= 0;
    }
  }
}
