import { describe, expect, it } from 'vitest';
import { keptIncludes, refuseNotKept, responseWithIncluded, withIncluded } from '../../../../lambdas/inference/responses/included-fields.js';
import { checkIncludeQuery } from '../../../../lambdas/inference/responses/request-fields.js';
import { bodyOf, decodeStoredBody, encodeStoredBody, type StoredResponse } from '../../../../lambdas/inference/stores/response-store.js';
import { thrown } from './thrown.js';

/**
 * A retrieve's `include` (GET /v1/responses/{id}, its input_items, a conversation's items) is applied, not only checked:
 * a `file_search_call`'s results and an output text's logprobs show only when asked for (OpenAI's answer), and asking a
 * response for what its create did not keep is a 400 naming `include[i]`. The answer was the same with or without it.
 */
const results = [{ file_id: 'file_1', filename: 'a.txt', score: 0.9, text: 'alpha', attributes: {} }];
const logprobs = [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }];
const searchCall = { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['alpha'], results };
const message = { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi', annotations: [], logprobs }] };
const inputImage = { id: 'msg_0', type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' }] };
const asked = (...values: string[]) => values.map((value, i) => ({ value, field: `include[${i}]` }));
const stored = (output: unknown[], include?: string[]) => ({ responseId: 'resp_1', response: { id: 'resp_1', object: 'response', output }, ...(include ? { include } : {}) });

describe('withIncluded', () => {
  it('shows file_search_call results and output text logprobs only when include asks for them; image URLs and the rest as they are', () => {
    const items = [inputImage, searchCall, message];
    expect(withIncluded(items, [])).toEqual([inputImage, { ...searchCall, results: null }, { ...message, content: [{ ...message.content[0], logprobs: [] }] }]);
    expect(withIncluded(items, asked('file_search_call.results', 'message.output_text.logprobs'))).toEqual(items);
    expect(withIncluded(items, asked('message.output_text.logprobs'))).toEqual([inputImage, { ...searchCall, results: null }, message]);
    expect(withIncluded(items, asked('file_search_call.results'))[1]).toEqual(searchCall);
    expect(items[1]).toBe(searchCall); // not changed in place
    expect(searchCall.results).toBe(results);
  });

  it('responseWithIncluded: the Response object\'s output', () => {
    expect(responseWithIncluded({ id: 'resp_1', output: [searchCall] }, [])).toEqual({ id: 'resp_1', output: [{ ...searchCall, results: null }] });
    expect(responseWithIncluded({ id: 'resp_1', output: [searchCall] }, asked('file_search_call.results'))).toEqual({ id: 'resp_1', output: [searchCall] });
  });
});

describe('keptIncludes and refuseNotKept', () => {
  it('keptIncludes: the create\'s include as stored, else (responses stored before it was) what the output shows', () => {
    expect(keptIncludes(stored([message], ['message.output_text.logprobs']))).toEqual(['message.output_text.logprobs']);
    expect(keptIncludes(stored([searchCall, message]))).toEqual(['file_search_call.results', 'message.output_text.logprobs']);
    expect(keptIncludes(stored([{ ...searchCall, results: null }, { ...message, content: [{ ...message.content[0], logprobs: [] }] }]))).toEqual([]);
  });

  it('a value the create did not ask for, where the output has what it names, is a 400 naming include[i] and saying to ask at create', () => {
    const plain = { ...message, content: [{ ...message.content[0], logprobs: [] }] };
    const e = thrown(() => refuseNotKept(stored([plain]), asked('file_search_call.results', 'message.output_text.logprobs')));
    expect(e).toMatchObject({ status: 400, param: 'include[1]', code: 'unsupported_parameter' });
    expect(e.message).toBe("include[1] 'message.output_text.logprobs': not stored by this gateway for response 'resp_1', created without it (it keeps output text logprobs only when POST /v1/responses asks for them); ask for it at create time: include: ['message.output_text.logprobs']");
    expect(thrown(() => refuseNotKept(stored([{ ...searchCall, results: null }], []), asked('file_search_call.results')))).toMatchObject({ param: 'include[0]', message: expect.stringContaining('file_search_call results only when POST /v1/responses asks') });
  });

  it('passes what was kept, what names nothing in the output, and image URLs (always kept)', () => {
    expect(() => refuseNotKept(stored([message], ['message.output_text.logprobs']), asked('message.output_text.logprobs'))).not.toThrow();
    // Asked at create, answered with no logprobs by the upstream: kept (none), not refused.
    expect(() => refuseNotKept(stored([{ ...message, content: [{ ...message.content[0], logprobs: [] }] }], ['message.output_text.logprobs']), asked('message.output_text.logprobs'))).not.toThrow();
    expect(() => refuseNotKept(stored([message]), asked('file_search_call.results', 'message.input_image.image_url'))).not.toThrow();
    expect(() => refuseNotKept(stored([]), asked('message.output_text.logprobs'))).not.toThrow();
  });

  it('a stored response keeps its create\'s include through the stores\' encoding (bodyOf)', () => {
    const item: StoredResponse = { tenantId: 'acme', responseId: 'resp_1', response: {}, inputItems: [], messages: [], expiresAt: 1, include: ['file_search_call.results'] };
    expect(decodeStoredBody(encodeStoredBody(bodyOf(item))).include).toEqual(['file_search_call.results']);
    expect('include' in bodyOf({ ...item, include: undefined })).toBe(false);
  });
});

describe('checkIncludeQuery', () => {
  it('returns the values in order, each named include[i] (its place among the values given), and names a refused one so', () => {
    expect(checkIncludeQuery({ 'include[]': 'message.output_text.logprobs' }, { 'include[]': ['file_search_call.results', 'message.output_text.logprobs'] })).toEqual(asked('file_search_call.results', 'message.output_text.logprobs'));
    expect(checkIncludeQuery({ include: '' })).toEqual([]);
    expect(thrown(() => checkIncludeQuery({ 'include[]': 'x' }, { 'include[]': ['file_search_call.results', 'web_search_call.action.sources'] }))).toMatchObject({ status: 400, param: 'include[1]', code: 'unsupported_parameter', message: expect.stringMatching(/^include\[1\] 'web_search_call\.action\.sources' cannot be honoured/) });
  });
});
