import { describe, expect, it } from 'vitest';
import { isMultiModal, resultCount, textsOf, withTexts } from '../../../../lambdas/inference/moderations/inputs.js';
import { ModerationRequest } from '../../../../lambdas/inference/moderations/request-schema.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { parseStrictWith } from '../../../../lambdas/inference/request-body.js';

const parse = (body: unknown) => parseStrictWith(ModerationRequest, body);
const refusal = (body: unknown): GatewayError => {
  try {
    parse(body);
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
};
const PARTS = [{ type: 'text', text: 'look at this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: 'and this' }];

describe('moderations request schema (OpenAI ModerationCreateParams)', () => {
  it.each([
    ['a string', 'hello'],
    ['an empty string (OpenAI answers for it)', ''],
    ['strings', ['a', 'b']],
    ['text and image parts (ModerationMultiModalInput)', PARTS],
    ['an https image', [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }]],
  ])('takes input as %s', (_name, input) => {
    expect(parse({ model: 'openai/omni-moderation-latest', input })).toEqual({ model: 'openai/omni-moderation-latest', input });
  });

  it('takes no model, or model null (the default model then)', () => {
    expect(parse({ input: 'x' })).toEqual({ input: 'x' });
    expect(parse({ input: 'x', model: null })).toEqual({ input: 'x', model: null });
  });

  it.each([
    ['a field OpenAI does not name', { input: 'x', threshold: 0.5 }, 'threshold'],
    ['a field in a text part', { input: [{ type: 'text', text: 'x', lang: 'en' }] }, 'input[0].lang'],
    ['a field in an image part\'s image_url', { input: [{ type: 'image_url', image_url: { url: 'https://e.com/a.png', detail: 'high' } }] }, 'input[0].image_url.detail'],
  ])('refuses %s: 400 unknown_parameter naming it', (_name, body, param) => {
    const e = refusal(body);
    expect(e).toMatchObject({ status: 400, code: 'unknown_parameter', param });
    // OpenAI's words: a top-level field "Unrecognized request argument supplied: …", a nested key "Unknown parameter: '…'.".
    expect(e.message).toBe(param.includes('.') ? `Unknown parameter: '${param}'.` : `Unrecognized request argument supplied: ${param}`);
  });

  it.each([
    ['no input', { model: 'm' }, 'input', 'missing_required_parameter', /^Missing required parameter: 'input'\.$/],
    ['an empty list (OpenAI\'s param name: input)', { input: [] }, 'input', 'empty_array', /^Invalid 'input': empty array\. Expected an array with minimum length 1, but got an empty array instead\. .*at least one input/],
    ['a list of strings and parts', { input: ['a', { type: 'text', text: 'b' }] }, 'input', 'invalid_request', /./],
    ['a part of another type', { input: [{ type: 'input_audio', input_audio: {} }] }, 'input', 'invalid_request', /input\[0\]\.type: Invalid discriminator value\. Expected 'text' \| 'image_url'/],
    ['an http image (the upstream would fetch it)', { input: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/' } }] }, 'input[0].image_url.url', 'invalid_request', /data URL .* or an https URL/],
    ['an empty model', { input: 'x', model: '' }, 'model', 'string_below_min_length', /^Invalid 'model': string too short\. Expected a string with minimum length 1, but got an empty string instead\.$/],
    ['a model id of 257 characters', { input: 'x', model: 'm'.repeat(257) }, 'model', 'string_above_max_length', /^Invalid 'model': string too long\. Expected a string with maximum length 256, but got a string with length 257 instead\.$/],
  ])('refuses %s: 400 naming the field, in OpenAI\'s words and code where it has them', (_name, body, param, code, message) => {
    const e = refusal(body);
    expect(e).toMatchObject({ status: 400, code, param });
    expect(e.message).toMatch(message);
  });
});

describe('moderations inputs', () => {
  it('finds the texts with their paths: a string, each string, each text part (images hold none)', () => {
    expect(textsOf('a')).toEqual([{ text: 'a', path: 'input' }]);
    expect(textsOf(['a', 'b'])).toEqual([{ text: 'a', path: 'input[0]' }, { text: 'b', path: 'input[1]' }]);
    expect(textsOf(PARTS as never)).toEqual([{ text: 'look at this', path: 'input[0].text' }, { text: 'and this', path: 'input[2].text' }]);
  });

  it('puts texts back in the caller\'s shape, images untouched', () => {
    expect(withTexts('a', ['A'])).toBe('A');
    expect(withTexts(['a', 'b'], ['A', 'B'])).toEqual(['A', 'B']);
    expect(withTexts(PARTS as never, ['X', 'Y'])).toEqual([{ type: 'text', text: 'X' }, PARTS[1], { type: 'text', text: 'Y' }]);
  });

  it('expects one result per string of a list, one for a string or for parts together', () => {
    expect([resultCount('a'), resultCount(['a', 'b', 'c']), resultCount(PARTS as never)]).toEqual([1, 3, 1]);
    expect([isMultiModal('a'), isMultiModal(['a']), isMultiModal(PARTS as never)]).toEqual([false, false, true]);
  });
});
