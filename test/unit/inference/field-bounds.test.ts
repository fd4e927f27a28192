import { describe, expect, it } from 'vitest';
import { checkExpiresAfter } from '../../../lambdas/inference/batches/batch-service.js';
import { checkMetadata } from '../../../lambdas/inference/metadata-check.js';
import { numberOutOfBounds } from '../../../lambdas/inference/openai-issues.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { fileSearchSpecOf } from '../../../lambdas/inference/responses/file-search.js';
import { parseChunking } from '../../../lambdas/inference/vector-stores/chunking.js';

/**
 * Fields a service checks itself (not through a zod schema, whose bounds request-body.ts words as OpenAI does) say a value
 * out of range in OpenAI's words and codes too: the file_search tool's `max_num_results` and an upload's
 * `expires_after.seconds` said `0 must be an integer from 1 to 50`, code `invalid_value`.
 */
const refusal = (f: () => unknown) => { try { f(); return undefined; } catch (e) { const g = e as GatewayError; return { status: g.status, param: g.param, code: g.code, message: g.message }; } };

describe('a service-checked field out of its bounds', () => {
  it('numberOutOfBounds says the bound as OpenAI does', () => {
    expect(numberOutOfBounds('n', 130, { max: 128 })).toEqual({ message: 'Invalid \'n\': integer above maximum value. Expected a value <= 128, but got 130 instead.', code: 'integer_above_max_value' });
    expect(numberOutOfBounds('temperature', -1, { min: 0 }, false)).toEqual({ message: 'Invalid \'temperature\': decimal below minimum value. Expected a value >= 0, but got -1 instead.', code: 'decimal_below_min_value' });
  });

  it('the file_search tool\'s max_num_results (1-50)', () => {
    const tool = (max: unknown) => () => fileSearchSpecOf([{ type: 'file_search', vector_store_ids: ['vs_1'], max_num_results: max } as never]);
    expect(refusal(tool(0))).toEqual({ status: 400, param: 'tools[0].max_num_results', code: 'integer_below_min_value', message: 'Invalid \'tools[0].max_num_results\': integer below minimum value. Expected a value >= 1, but got 0 instead.' });
    expect(refusal(tool(51))).toEqual({ status: 400, param: 'tools[0].max_num_results', code: 'integer_above_max_value', message: 'Invalid \'tools[0].max_num_results\': integer above maximum value. Expected a value <= 50, but got 51 instead.' });
    // No integer at all: its own words, invalid_value, as before.
    expect(refusal(tool(2.5))).toMatchObject({ param: 'tools[0].max_num_results', code: 'invalid_value' });
    expect(refusal(tool(50))).toBeUndefined();
  });

  it('expires_after.seconds of an upload (JSON) and expires_after[seconds] of a file (form field): 3600-2592000', () => {
    expect(refusal(() => checkExpiresAfter('created_at', 60, (p) => `expires_after.${p}`))).toEqual({
      status: 400, param: 'expires_after.seconds', code: 'integer_below_min_value', message: 'Invalid \'expires_after.seconds\': integer below minimum value. Expected a value >= 3600, but got 60 instead.',
    });
    expect(refusal(() => checkExpiresAfter('created_at', '2592001', (p) => `expires_after[${p}]`))).toEqual({
      status: 400, param: 'expires_after[seconds]', code: 'integer_above_max_value', message: 'Invalid \'expires_after[seconds]\': integer above maximum value. Expected a value <= 2592000, but got 2592001 instead.',
    });
    expect(refusal(() => checkExpiresAfter('created_at', 'soon', (p) => `expires_after[${p}]`))).toMatchObject({ param: 'expires_after[seconds]', code: 'invalid_value' });
    expect(checkExpiresAfter('created_at', 3600, (p) => `expires_after.${p}`)).toBe(3600);
  });

  it('a static chunking strategy\'s max_chunk_size_tokens (100-4096)', () => {
    const chunking = (max: unknown) => () => parseChunking({ type: 'static', static: { max_chunk_size_tokens: max, chunk_overlap_tokens: 0 } }, 'files[1].chunking_strategy');
    expect(refusal(chunking(99))).toEqual({
      status: 400, param: 'files[1].chunking_strategy.static.max_chunk_size_tokens', code: 'integer_below_min_value',
      message: 'Invalid \'files[1].chunking_strategy.static.max_chunk_size_tokens\': integer below minimum value. Expected a value >= 100, but got 99 instead.',
    });
    expect(refusal(chunking(4097))).toMatchObject({ code: 'integer_above_max_value', message: expect.stringContaining('Expected a value <= 4096, but got 4097 instead.') });
    expect(refusal(chunking('800'))).toMatchObject({ param: 'files[1].chunking_strategy.static.max_chunk_size_tokens', code: 'invalid_value' });
    expect(parseChunking({ type: 'static', static: { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 } })).toEqual({ max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 });
  });

  it('a batch\'s metadata past OpenAI\'s bounds: its words and codes, as the schema-read routes answer (it said `metadata has 17 keys; at most 16`, invalid_value)', () => {
    expect(refusal(() => checkMetadata(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))))).toEqual({
      status: 400, param: 'metadata', code: 'object_above_max_properties', message: 'Invalid \'metadata\': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.',
    });
    expect(refusal(() => checkMetadata({ ['k'.repeat(65)]: 'v' }))).toEqual({
      status: 400, param: 'metadata', code: 'property_name_above_max_length', message: 'Invalid property name in \'metadata\': \'kkk...kkk\' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.',
    });
    expect(refusal(() => checkMetadata({ k: 'v'.repeat(513) }))).toEqual({
      status: 400, param: 'metadata.k', code: 'string_above_max_length', message: 'Invalid \'metadata.k\': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.',
    });
    // A value of another kind: OpenAI's type words, as the schema-read routes (chat, responses) answer it (it was invalid_value, `metadata.k must be a string …`).
    expect(refusal(() => checkMetadata({ k: 1 }))).toEqual({ status: 400, param: 'metadata.k', code: 'invalid_type', message: 'Invalid type for \'metadata.k\': expected a string, but got an integer instead.' });
    expect(refusal(() => checkMetadata({ k: null }))).toEqual({ status: 400, param: 'metadata.k', code: 'invalid_type', message: 'Invalid type for \'metadata.k\': expected a string, but got null instead.' });
    expect(checkMetadata({ ['k'.repeat(64)]: 'v'.repeat(512) })).toEqual({ ['k'.repeat(64)]: 'v'.repeat(512) });
  });

  it('metadata is read by OpenAI\'s Metadata schema on the batch and vector store routes too: an empty key taken, `__proto__` refused, as chat\'s', () => {
    // A vector store refused an empty key (`metadata key "" must be 1 to 64 characters`) that every other route took.
    expect(checkMetadata({ '': 'v' })).toEqual({ '': 'v' });
    expect(checkMetadata(null)).toBeNull();
    expect(refusal(() => checkMetadata(JSON.parse('{"__proto__": "v"}')))).toMatchObject({ status: 400, param: 'metadata.__proto__' });
    expect(refusal(() => checkMetadata('tag'))).toEqual({ status: 400, param: 'metadata', code: 'invalid_type', message: 'Invalid type for \'metadata\': expected an object, but got a string instead.' });
  });
});
