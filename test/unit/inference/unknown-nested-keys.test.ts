import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { fileSearchSpecOf } from '../../../lambdas/inference/responses/file-search.js';
import { gatewayUploadFiles } from '../../../lambdas/inference/uploads/gateway-uploads.js';
import type { BatchService } from '../../../lambdas/inference/batches/batch-service.js';
import { parseChunking } from '../../../lambdas/inference/vector-stores/chunking.js';
import { checkFilter } from '../../../lambdas/inference/vector-stores/filters.js';

/**
 * A key OpenAI does not define inside a request's objects, on the routes that check their own objects (vector stores'
 * chunking strategies and filters, a file_search tool, an upload's expires_after): OpenAI's 400 for one, "Unknown
 * parameter: '<path>'." (pydantic/pydantic-ai#3653: 'input[4].action.query'; songquanpeng/one-api#1319:
 * 'messages[1].tool_calls[0].index'), code unknown_parameter, param the path, then what the object takes. Until
 * 2026-12-07 each said "<path> is not a field of …" or `unknown parameter "<path>"` in the gateway's words.
 */
const refusal = (f: () => unknown): GatewayError => {
  try {
    f();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

const uploads = gatewayUploadFiles({} as BatchService);

describe('a nested key OpenAI does not define: "Unknown parameter: \'<path>\'.", code unknown_parameter', () => {
  it.each([
    ['chunking_strategy.foo', () => parseChunking({ type: 'auto', foo: 1 }), 'The auto strategy takes type only'],
    ['chunking_strategy.foo', () => parseChunking({ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, foo: 1 }), 'The static strategy takes type, static'],
    ['files[2].chunking_strategy.static.foo', () => parseChunking({ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400, foo: 1 } }, 'files[2].chunking_strategy'), 'Static chunking takes max_chunk_size_tokens, chunk_overlap_tokens'],
    ['filters.foo', () => checkFilter({ key: 'a', type: 'eq', value: 'b', foo: 1 }), 'This filter takes key, type, value'],
    ['filters.filters[1].foo', () => checkFilter({ type: 'and', filters: [{ key: 'a', type: 'eq', value: 'b' }, { type: 'or', filters: [], foo: 1 }] }), 'This filter takes type, filters'],
    ['tools[0].foo', () => fileSearchSpecOf([{ type: 'file_search', vector_store_ids: ['vs_1'], foo: 1 } as never]), 'A file_search tool takes vector_store_ids, max_num_results, filters, ranking_options'],
    ['tools[0].ranking_options.foo', () => fileSearchSpecOf([{ type: 'file_search', vector_store_ids: ['vs_1'], ranking_options: { foo: 1 } } as never]), "A file_search tool's ranking_options takes ranker, score_threshold, hybrid_search"],
    ['expires_after.foo', () => uploads.refuseCreate('batch', { filename: 'a.jsonl', mimeType: 'application/jsonl', bytes: 10, expiresAfter: { anchor: 'created_at', seconds: 3600, foo: 1 } }), 'expires_after takes anchor, seconds'],
  ])('%s', (param, call, hint) => {
    const e = refusal(call);
    expect({ status: e.status, type: e.type, code: e.code, param: e.param }).toEqual({ status: 400, type: 'invalid_request_error', code: 'unknown_parameter', param });
    expect(e.message).toBe(`Unknown parameter: '${param}'. ${hint}`);
  });

  it('a made-up key of 100,000 characters is shown cut (61 characters and ...), in the message and param', () => {
    const e = refusal(() => checkFilter({ key: 'a', type: 'eq', value: 'b', ['k'.repeat(100_000)]: 1 }));
    expect(e.param).toBe(`filters.${'k'.repeat(61)}...`);
    expect(e.message.length).toBeLessThan(200);
  });
});
