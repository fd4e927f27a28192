import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../../../lambdas/inference/request-body.js';
import { Metadata } from '../../../lib/openai-metadata.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('accepted');
};

describe('parseWith: a field a strict schema does not know', () => {
  // s31l: a top-level unknown field was param null with "(root) = {...}: Unrecognized key: \"model\"".
  it('top level: param is the field, code unknown_parameter, OpenAI\'s message and the route\'s hint', () => {
    const e = refusal(() => parseWith(z.strictObject({ metadata: z.record(z.string(), z.string()).nullable() }), { metadata: { a: 'b' }, model: 'x' }, 'update takes only metadata'));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'unknown_parameter', message: 'Unrecognized request argument supplied: model (update takes only metadata)' });
  });

  // OpenAI's words for a nested key it does not define ("Unknown parameter: 'input[4].action.query'.": pydantic/pydantic-ai#3653),
  // the first one named; until 2026-12-07 "Unrecognized request arguments supplied: a[0].c, a[0].d".
  it('nested: param is its whole path, in OpenAI\'s words for a nested key (the first named), then the route\'s hint', () => {
    const schema = z.object({ a: z.array(z.strictObject({ b: z.number() })) });
    expect(refusal(() => parseWith(schema, { a: [{ b: 1, c: 2, d: 3 }] }))).toMatchObject({ param: 'a[0].c', code: 'unknown_parameter', message: "Unknown parameter: 'a[0].c'." });
    expect(refusal(() => parseWith(schema, { a: [{ b: 1, c: 2 }] }, 'a takes b only'))).toMatchObject({ param: 'a[0].c', message: "Unknown parameter: 'a[0].c'. A takes b only." });
    // Tessera's own API (`words: tessera`) keeps its message.
    expect(refusal(() => parseWith(schema, { a: [{ b: 1, c: 2 }] }, undefined, 'tessera'))).toMatchObject({ param: 'a[0].c', code: 'unknown_parameter', message: 'Unrecognized request argument supplied: a[0].c' });
  });

  it('other problems keep their path, in OpenAI\'s words', () => {
    const e = refusal(() => parseWith(z.strictObject({ n: z.number() }), { n: 'x' }));
    expect(e).toMatchObject({ param: 'n', code: 'invalid_type', message: "Invalid type for 'n': expected a decimal, but got a string instead." });
  });
});

describe('parseWith: OpenAI\'s words and codes for a field out of bounds, of the wrong kind, missing or outside an enum', () => {
  const Body = z.looseObject({
    model: z.string().min(1).max(256),
    messages: z.array(z.discriminatedUnion('role', [
      z.looseObject({ role: z.literal('user'), content: z.union([z.string(), z.array(z.looseObject({ type: z.literal('text'), text: z.string() }))]) }),
      z.looseObject({ role: z.literal('system'), content: z.string() }),
    ])).min(1),
    temperature: z.number().min(0).max(2).nullish(),
    n: z.number().int().min(1).max(128).nullish(),
    top_logprobs: z.number().int().gt(-1).lt(21).nullish(),
    seed_ratio: z.number().positive().nullish(),
    user: z.string().max(64).nullish(),
    stop: z.array(z.string()).max(4).nullish(),
    store: z.boolean().nullish(),
    metadata: z.record(z.string(), z.string().max(512)).nullish(),
    service_tier: z.enum(['auto', 'default', 'flex']).nullish(),
    tool_choice: z.enum(['none', 'auto']).nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean() }).nullish(),
  });
  const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const answer = (body: unknown) => refusal(() => parseWith(Body, body));

  it.each([
    ['a decimal above its maximum', { temperature: 3 }, 'temperature', 'decimal_above_max_value', "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."],
    ['a decimal below its minimum', { temperature: -0.5 }, 'temperature', 'decimal_below_min_value', "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -0.5 instead."],
    ['an integer below its minimum', { n: 0 }, 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    ['an integer above its maximum', { n: 129 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead."],
    ['an integer past an exclusive bound (said as OpenAI\'s inclusive one)', { top_logprobs: 21 }, 'top_logprobs', 'integer_above_max_value', "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead."],
    ['an integer under an exclusive bound (.positive())', { top_logprobs: -1 }, 'top_logprobs', 'integer_below_min_value', "Invalid 'top_logprobs': integer below minimum value. Expected a value >= 0, but got -1 instead."],
    ['a decimal past an exclusive bound', { seed_ratio: 0 }, 'seed_ratio', 'decimal_below_min_value', "Invalid 'seed_ratio': decimal below minimum value. Expected a value > 0, but got 0 instead."],
    ['a string too long', { user: 'u'.repeat(65) }, 'user', 'string_above_max_length', "Invalid 'user': string too long. Expected a string with maximum length 64, but got a string with length 65 instead."],
    ['a string too short', { model: '' }, 'model', 'string_below_min_length', "Invalid 'model': string too short. Expected a string with minimum length 1, but got an empty string instead."],
    ['an array too long', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'array_above_max_length', "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead."],
    ['an empty array', { messages: [] }, 'messages', 'empty_array', "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."],
    ['a missing field', { messages: undefined }, 'messages', 'missing_required_parameter', "Missing required parameter: 'messages'."],
    ['a missing nested field', { stream_options: {} }, 'stream_options.include_usage', 'missing_required_parameter', "Missing required parameter: 'stream_options.include_usage'."],
    ['a missing discriminator', { messages: [{ content: 'hi' }] }, 'messages[0].role', 'missing_required_parameter', "Missing required parameter: 'messages[0].role'."],
    ['a discriminator outside its values', { messages: [{ role: 'bogus', content: 'hi' }] }, 'messages[0].role', 'invalid_value', "Invalid value: 'bogus'. Supported values are: 'user' and 'system'."],
    ['a string for a decimal', { temperature: 'hot' }, 'temperature', 'invalid_type', "Invalid type for 'temperature': expected a decimal, but got a string instead."],
    ['a string for an integer', { n: '2' }, 'n', 'invalid_type', "Invalid type for 'n': expected an integer, but got a string instead."],
    ['a decimal for an integer', { n: 1.5 }, 'n', 'invalid_type', "Invalid type for 'n': expected an integer, but got a decimal number instead."],
    ['a string for a boolean', { store: 'yes' }, 'store', 'invalid_type', "Invalid type for 'store': expected a boolean, but got a string instead."],
    ['an object for a string', { user: { a: 1 } }, 'user', 'invalid_type', "Invalid type for 'user': expected a string, but got an object instead."],
    ['a string for an array', { stop: 'x' }, 'stop', 'invalid_type', "Invalid type for 'stop': expected an array, but got a string instead."],
    ['an array for an object', { stream_options: [] }, 'stream_options', 'invalid_type', "Invalid type for 'stream_options': expected an object, but got an array instead."],
    ['an integer in a record of strings', { metadata: { k: 7 } }, 'metadata.k', 'invalid_type', "Invalid type for 'metadata.k': expected a string, but got an integer instead."],
    ['a record value too long', { metadata: { k: 'x'.repeat(600) } }, 'metadata.k', 'string_above_max_length', "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a string with length 600 instead."],
    ['a union none of whose shapes takes the kind', { messages: [{ role: 'user', content: 7 }] }, 'messages[0].content', 'invalid_type', "Invalid type for 'messages[0].content': expected one of a string or an array, but got an integer instead."],
    ['a union\'s list shape failing inside', { messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages[0].content[0].text', 'invalid_type', "Invalid type for 'messages[0].content[0].text': expected a string, but got an integer instead."],
    ['a value outside an enum', { service_tier: 'bogus' }, 'service_tier', 'invalid_value', "Invalid value: 'bogus'. Supported values are: 'auto', 'default', and 'flex'."],
    ['two supported values', { tool_choice: 'bogus' }, 'tool_choice', 'invalid_value', "Invalid value: 'bogus'. Supported values are: 'none' and 'auto'."],
    ['an enum given an object', { service_tier: { a: 1 } }, 'service_tier', 'invalid_type', "Invalid type for 'service_tier': expected one of 'auto', 'default', or 'flex', but got an object instead."],
  ])('%s', (_name, fields, param, code, message) => {
    const e = answer({ ...ok, ...fields });
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param, code, message });
    expect(JSON.parse(e.body()).error).toEqual({ message, type: 'invalid_request_error', param, code });
  });

  // The schema's own words after OpenAI's sentence (metadata's advice for a list) ended without a full stop, and the next
  // issue ran on: `… x-tessera-tags: a, b Also: Invalid 'n' …`.
  it('the schema\'s own words end as a sentence before Also:', () => {
    const e = refusal(() => parseWith(z.object({ metadata: Metadata, n: z.number().int().min(1) }), { metadata: { tags: ['a', 'b'] }, n: 0 }));
    expect(e).toMatchObject({ param: 'metadata.tags', code: 'invalid_type' });
    expect(e.message).toMatch(/send the tags in the x-tessera-tags header instead: x-tessera-tags: a, b\. Also: Invalid 'n': integer below minimum value\./);
  });

  it('the first issue\'s sentence starts the message; the others follow in OpenAI\'s words where it has them, else as path = value: what is wrong', () => {
    const e = answer({ ...ok, temperature: 3, n: 0, model: 5, messages: [{ role: 'user', content: 'hi', name: 'x' }], extra: 1 });
    expect(e).toMatchObject({ param: 'model', code: 'invalid_type' });
    expect(e.message).toBe("Invalid type for 'model': expected a string, but got an integer instead. Also: Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead. Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.");
    const refined = refusal(() => parseWith(z.object({ a: z.string().refine((v) => v !== 'x', 'must not be x'), b: z.number().max(1) }), { a: 'x', b: 2 }));
    expect(refined).toMatchObject({ param: 'a', code: 'invalid_request', message: 'a = "x": must not be x; b = 2: Too big: expected number to be <=1' });
  });

  it('the schema\'s own message for the first issue follows OpenAI\'s sentence (what to do instead); not for an enum\'s, whose sentence lists the values', () => {
    const own = refusal(() => parseWith(z.object({ input: z.array(z.string()).max(2, 'split the inputs over several requests') }), { input: ['a', 'b', 'c'] }));
    expect(own).toMatchObject({ code: 'array_above_max_length', message: "Invalid 'input': array too long. Expected an array with maximum length 2, but got an array with length 3 instead. Split the inputs over several requests" });
    const enumOwn = refusal(() => parseWith(z.object({ v: z.enum(['low', 'high'], { error: 'must be low or high' }) }), { v: 'mid' }));
    expect(enumOwn).toMatchObject({ code: 'invalid_value', message: "Invalid value: 'mid'. Supported values are: 'low' and 'high'." });
  });

  it('stays bounded: a long value is quoted cut, a long key cut in the sentence (whole in param), many issues counted', () => {
    const long = refusal(() => parseWith(z.object({ v: z.enum(['a', 'b']) }), { v: 'x'.repeat(100_000) }));
    expect(long.message).toBe(`Invalid value: '${'x'.repeat(200)}… (100000 characters)'. Supported values are: 'a' and 'b'.`);
    const key = 'k'.repeat(100);
    const keyed = refusal(() => parseWith(z.object({ metadata: z.record(z.string(), z.string()) }), { metadata: { [key]: 1 } }));
    expect(keyed).toMatchObject({ param: `metadata.${key}`, message: `Invalid type for 'metadata.${'k'.repeat(61)}...': expected a string, but got an integer instead.` });
    const many = refusal(() => parseWith(z.object({ xs: z.array(z.number().max(1)) }), { xs: Array.from({ length: 50 }, () => 5) }));
    expect(many.message.length).toBeLessThan(2_000);
    expect(many.message).toMatch(/^Invalid 'xs\[0\]': decimal above maximum value\. .* Invalid 'xs\[9\]': decimal above maximum value\. Expected a value <= 1, but got 5 instead\. And 40 more issues\.$/);
  });

  // A number past 2^53 under z.number().int() is zod's safe-integer bound (its issue's origin `int`, not `number`): it was
  // answered `max_tokens = 100000000000000000000: Too big: expected int to be <=9007199254740991`, code invalid_request.
  it('an integer past the safe range is OpenAI\'s integer bound, the field\'s own bound shown when it has one', () => {
    const unbounded = refusal(() => parseWith(z.object({ max_tokens: z.number().int().min(1) }), { max_tokens: 1e20 }));
    expect(unbounded).toMatchObject({ param: 'max_tokens', code: 'integer_above_max_value', message: "Invalid 'max_tokens': integer above maximum value. Expected a value <= 9007199254740991, but got 100000000000000000000 instead." });
    const below = refusal(() => parseWith(z.object({ seed: z.number().int() }), { seed: -1e20 }));
    expect(below).toMatchObject({ param: 'seed', code: 'integer_below_min_value', message: "Invalid 'seed': integer below minimum value. Expected a value >= -9007199254740991, but got -100000000000000000000 instead." });
    const bounded = refusal(() => parseWith(z.object({ n: z.number().int().min(1).max(128) }), { n: 1e300 }));
    expect(bounded).toMatchObject({ param: 'n', code: 'integer_above_max_value', message: "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 1e+300 instead." });
    const inUnion = refusal(() => parseWith(z.object({ input: z.union([z.string(), z.array(z.number().int().min(0).max(100))]) }), { input: [1, 1e300] }));
    expect(inUnion).toMatchObject({ param: 'input[1]', code: 'integer_above_max_value', message: "Invalid 'input[1]': integer above maximum value. Expected a value <= 100, but got 1e+300 instead." });
  });

  // JSON.parse reads 1e400 as Infinity, which zod refuses as a type: it was `expected a decimal, but got a decimal number instead`.
  it('a number too large for a double (1e400) is said as one, not as the kind the field expects', () => {
    const e = refusal(() => parseWith(z.object({ temperature: z.number().max(2), n: z.number().int() }), JSON.parse('{"temperature": 1e400, "n": -1e400}')));
    expect(e).toMatchObject({ param: 'temperature', code: 'invalid_type', message: "Invalid type for 'temperature': expected a decimal, but got a number out of range instead. Also: Invalid type for 'n': expected an integer, but got a number out of range instead." });
  });

  it('OpenAI\'s Metadata: more than 16 keys, a key over 64 characters, a value over 512, in OpenAI\'s words and codes (the first two said `metadata has at most 16 keys (17 given)`, `a metadata key has at most 64 characters`, code invalid_request)', () => {
    const schema = z.object({ metadata: Metadata.nullish() });
    const said = (metadata: unknown) => { const e = refusal(() => parseWith(schema, { metadata })); return [e.param, e.code, e.message]; };
    expect(said(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])))).toEqual(['metadata', 'object_above_max_properties',
      "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead."]);
    const key = `abc${'k'.repeat(64)}xyz`;
    // `param` names the object, as OpenAI's answer does (it was `metadata.<key>`, the whole key however long).
    expect(said({ [key]: 'v' })).toEqual(['metadata', 'property_name_above_max_length',
      "Invalid property name in 'metadata': 'abc...xyz' is too long. Expected a string with maximum length 64, but got a string with length 70 instead."]);
    // A value's length as the bound counted it: code points (it said 1026, the UTF-16 units of 513 emoji); the bound said
    // once, as the batch and vector store routes say it (the schema's own message repeated it after OpenAI's sentence).
    expect(said({ run: '😀'.repeat(513) })).toEqual(['metadata.run', 'string_above_max_length',
      "Invalid 'metadata.run': string too long. Expected a string with maximum length 512, but got a string with length 513 instead."]);
    expect(parseWith(schema, { metadata: { ['😀'.repeat(64)]: 'v' } })).toEqual({ metadata: { ['😀'.repeat(64)]: 'v' } });
  });

  it('a kind OpenAI has no word for here (a field that must be absent: z.never) keeps path = value: what is wrong', () => {
    const e = refusal(() => parseWith(z.object({ legacy: z.never().optional() }), { legacy: 1 }));
    expect(e).toMatchObject({ param: 'legacy', code: 'invalid_request', message: expect.stringMatching(/^legacy = 1: /) });
  });

  it('Tessera\'s own tenant API keeps its words: path = value: what is wrong, code invalid_request', () => {
    const e = refusal(() => parseWith(z.object({ role: z.enum(['admin', 'member']) }), { role: 'owner' }, undefined, 'tessera'));
    expect(e).toMatchObject({ param: 'role', code: 'invalid_request', message: expect.stringMatching(/^role = "owner": /) });
  });
});
