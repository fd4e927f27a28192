import { describe, expect, it } from 'vitest';
import { inputPath, inputsOf, withTexts } from '../../../../lambdas/inference/embeddings/inputs.js';
import { EmbeddingRequest, MAX_INPUTS, TOO_MANY_INPUTS_MESSAGE } from '../../../../lambdas/inference/embeddings/request-schema.js';
import { base64ToFloats, encodeVector, floatsToBase64 } from '../../../../lambdas/inference/embeddings/vector-encoding.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { parseWith } from '../../../../lambdas/inference/request-body.js';

const parse = (body: unknown) => parseWith(EmbeddingRequest, body);
const refusal = (body: unknown): GatewayError => {
  try {
    parse(body);
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
};

describe('embeddings request schema (OpenAI EmbeddingCreateParams)', () => {
  it.each([
    ['a string', 'hello'],
    ['strings', ['a', 'b']],
    ['token ids', [1, 2, 3]],
    ['arrays of token ids', [[1, 2], [3]]],
  ])('takes input as %s', (_name, input) => {
    expect(parse({ model: 'm', input }).input).toEqual(input);
  });

  it('accepts null for every optional field and keeps fields it does not read', () => {
    // GIVEN a body with nulls and a TEI field
    const body = parse({ model: 'm', input: 'x', encoding_format: null, dimensions: null, user: null, truncate: true });
    // THEN nothing is dropped
    expect(body).toEqual({ model: 'm', input: 'x', encoding_format: null, dimensions: null, user: null, truncate: true });
  });

  it.each([
    ['an empty string', { model: 'm', input: '' }, 'input', 'string_below_min_length'],
    ['an empty string in a list', { model: 'm', input: ['a', ''] }, 'input[1]', 'string_below_min_length'],
    ['an empty list', { model: 'm', input: [] }, 'input', 'empty_array'],
    ['a mixed list', { model: 'm', input: ['a', 1] }, 'input', 'invalid_request'],
    ['a negative token id', { model: 'm', input: [1, -2] }, 'input[1]', 'integer_below_min_value'],
    ['too many inputs', { model: 'm', input: Array.from({ length: MAX_INPUTS + 1 }, () => 'a') }, 'input', 'array_above_max_length'],
    ['an unknown encoding', { model: 'm', input: 'a', encoding_format: 'int8' }, 'encoding_format', 'invalid_value'],
    ['zero dimensions', { model: 'm', input: 'a', dimensions: 0 }, 'dimensions', 'integer_below_min_value'],
    ['no model', { input: 'a' }, 'model', 'missing_required_parameter'],
    ['a model id over 256 characters (chat\'s bound too)', { model: 'm'.repeat(257), input: 'a' }, 'model', 'string_above_max_length'],
  ])('refuses %s with a 400 naming the field, OpenAI\'s code where it has one', (_name, body, param, code) => {
    const e = refusal(body);
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    expect(e.code).toBe(code);
  });

  it('says what to do with more than 2,048 inputs after OpenAI\'s words (the openai-dotnet#317 message), for texts and token-id lists alike', () => {
    for (const input of [Array.from({ length: MAX_INPUTS + 1 }, () => 'a'), Array.from({ length: MAX_INPUTS + 1 }, () => [1])]) {
      expect(refusal({ model: 'm', input }).message).toBe(`Invalid 'input': array too long. Expected an array with maximum length 2048, but got an array with length 2049 instead. ${TOO_MANY_INPUTS_MESSAGE}`);
    }
    expect(TOO_MANY_INPUTS_MESSAGE).toMatch(/^Split the inputs over several requests of at most 2,048 each/);
  });
});

it('an empty input (LangChain\'s embedDocuments of an empty document) is refused as OpenAI refuses it, the message saying what to do', () => {
  for (const [input, param] of [['', 'input'], [['alpha', ''], 'input[1]']] as const) {
    const e = refusal({ model: 'm', input });
    expect(e).toMatchObject({ status: 400, param, code: 'string_below_min_length' });
    // OpenAI's words for a text under its minimum length, then what to do.
    expect(e.message).toMatch(new RegExp(`^Invalid '${param.replace(/[[\]]/g, '\\$&')}': string too short\\. Expected a string with minimum length 1, but got an empty string instead\\. `
      + 'Must not be an empty string .*leave empty texts out of the request .*filter empty documents before embedDocuments'));
  }
});

describe('embedding inputs', () => {
  it('lists the inputs and names each by its path', () => {
    expect(inputsOf('a')).toEqual({ kind: 'text', texts: ['a'] });
    expect(inputsOf(['a', 'b'])).toEqual({ kind: 'text', texts: ['a', 'b'] });
    expect(inputsOf([5, 6])).toEqual({ kind: 'tokens', tokens: [[5, 6]] });
    expect(inputsOf([[5], [6]])).toEqual({ kind: 'tokens', tokens: [[5], [6]] });
    expect(inputPath('a', 0)).toBe('input');
    expect(inputPath(['a', 'b'], 1)).toBe('input[1]');
    expect(inputPath([5, 6], 0)).toBe('input');
    expect(withTexts('a', ['b'])).toBe('b');
    expect(withTexts(['a', 'c'], ['b', 'd'])).toEqual(['b', 'd']);
  });
});

describe("base64 vectors as OpenAI encodes them (little-endian float32)", () => {
  it('writes the float32 bytes little-endian', () => {
    // 1.0 is 0x3f800000: little-endian bytes 00 00 80 3f; -2.5 is 0xc0200000
    expect(Buffer.from(floatsToBase64([1, -2.5]), 'base64')).toEqual(Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]));
  });

  it('round-trips float32 values exactly and rounds others to float32, as the SDKs decode them', () => {
    const exact = [0.5, -0.25, 0.125, 3];
    expect(base64ToFloats(floatsToBase64(exact))).toEqual(exact);
    expect(base64ToFloats(floatsToBase64([0.1]))).toEqual([Math.fround(0.1)]);
    // What openai-node's toFloat32Array reads
    const buf = Buffer.from(floatsToBase64(exact), 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))).toEqual(exact);
  });

  it('answers the format asked whatever the provider returned', () => {
    const b64 = floatsToBase64([0.5, 1]);
    expect(encodeVector([0.5, 1], 'base64')).toBe(b64);
    expect(encodeVector(b64, 'float')).toEqual([0.5, 1]);
    expect(encodeVector(b64, 'base64')).toBe(b64);
    expect(encodeVector([0.5, 1], 'float')).toEqual([0.5, 1]);
  });

  it('refuses what is no vector', () => {
    expect(() => encodeVector(['x'] as unknown as number[], 'float')).toThrow(/neither an array of numbers/);
    expect(() => base64ToFloats(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/3 bytes/);
  });
});
