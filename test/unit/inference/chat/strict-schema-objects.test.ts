import { describe, expect, it } from 'vitest';
import { checkStrictChatResponseFormat, checkStrictChatToolSchemas, strictSchemaObjectsProblem } from '../../../../lambdas/inference/chat/strict-schema-objects.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

const closed = (properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false, ...extra });
const problem = (schema: unknown) => strictSchemaObjectsProblem("response_format 'x'", schema);

describe('strictSchemaObjectsProblem: OpenAI\'s strict rules for every object of a schema', () => {
  it('a closed schema, every key required, nested objects, arrays, anyOf with null and $defs: no problem', () => {
    expect(problem(closed({ a: { type: 'string' }, b: closed({ c: { type: ['integer', 'null'] } }), d: { type: 'array', items: closed({ e: { type: 'string', enum: ['x'] } }) }, f: { anyOf: [closed({ g: { type: 'number' } }), { type: 'null' }] }, h: { $ref: '#/$defs/H' } }, { $defs: { H: closed({ i: { type: 'boolean' } }) } }))).toBeUndefined();
  });

  it.each([
    ['the root without additionalProperties', { type: 'object', properties: {} }, "In context=(), 'additionalProperties' is required to be supplied and to be false."],
    ['additionalProperties true', closed({}, { additionalProperties: true }), "In context=(), 'additionalProperties' is required to be supplied and to be false."],
    ['additionalProperties a schema (a free-form map)', closed({}, { additionalProperties: { type: 'string' } }), "In context=(), 'additionalProperties' is required to be supplied and to be false."],
    ['a key missing from required', { ...closed({ a: { type: 'string' }, b: { type: 'string' } }), required: ['a'] }, "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'."],
    ['no required at all', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, "Missing 'a'."],
    ['an open object in a property', closed({ addr: { type: 'object', properties: {} } }), "In context=('properties', 'addr'), 'additionalProperties'"],
    ['an open object as ["object", "null"]', closed({ addr: { type: ['object', 'null'], properties: {} } }), "In context=('properties', 'addr'), 'additionalProperties'"],
    ['an optional key in array items', closed({ list: { type: 'array', items: { ...closed({ p: { type: 'string' } }), required: [] } } }), "In context=('properties', 'list', 'items'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'p'."],
    ['an open object in anyOf', closed({ u: { anyOf: [{ type: 'null' }, { type: 'object', properties: {} }] } }), "In context=('properties', 'u', 'anyOf', '1'),"],
    ['an open object in $defs', { ...closed({ h: { $ref: '#/$defs/H' } }), $defs: { H: { type: 'object', properties: { i: { type: 'string' } }, required: ['i'] } } }, "In context=('$defs', 'H'),"],
    ['an open object in prefixItems', closed({ t: { type: 'array', prefixItems: [{ type: 'object' }] } }), "In context=('properties', 't', 'prefixItems', '0'),"],
  ])('%s: OpenAI\'s message, naming the object by its place', (_name, schema, message) => {
    const out = problem(schema);
    expect(out).toMatch(/^Invalid schema for response_format 'x': In context=/);
    expect(out).toContain(message);
  });

  it('after OpenAI\'s words, what to do: make an optional key required and nullable; close an open object', () => {
    expect(problem({ ...closed({ a: { type: 'string' }, b: { type: 'string' } }), required: ['a'] })).toMatch(/Missing 'b'\. To keep 'b' optional, list it in 'required' and let it be null: .*\["string", "null"\]/);
    expect(problem({ type: 'object', properties: {} })).toMatch(/to be false\. Add "additionalProperties": false to this object .*strict: false/);
  });

  it('the first object in reading order is named: properties in order, before $defs', () => {
    expect(problem({ ...closed({ a: { type: 'object' }, b: { type: 'object' } }), $defs: { Z: { type: 'object' } } })).toContain("context=('properties', 'a')");
  });

  it('a single-element context prints as Python\'s one-tuple', () => {
    expect(problem({ type: 'array', items: { type: 'object' } })).toContain("In context=('items',), ");
  });

  it('not an object schema (absent, a string schema, an array): nothing to say', () => {
    expect(problem(undefined)).toBeUndefined();
    expect(problem({ type: 'string' })).toBeUndefined();
    expect(problem([{ type: 'object' }])).toBeUndefined();
  });

  it('a deeply nested schema is walked without recursion', () => {
    let schema: Record<string, unknown> = { type: 'object' };
    for (let i = 0; i < 20_000; i++) schema = closed({ n: schema });
    expect(problem(schema)).toContain("'additionalProperties' is required");
  });
});

describe('checkStrictChatToolSchemas', () => {
  const tool = (parameters: unknown, strict?: boolean) => ({ type: 'function', function: { name: 'f', parameters, ...(strict === undefined ? {} : { strict }) } });
  it('a strict tool with an open schema is a 400 invalid_function_parameters naming tools[i].function.parameters', () => {
    let e: unknown;
    try { checkStrictChatToolSchemas({ tools: [tool(closed(), true), tool({ type: 'object', properties: {} }, true)] }); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 400, param: 'tools[1].function.parameters', code: 'invalid_function_parameters', message: "Invalid schema for function 'f': In context=(), 'additionalProperties' is required to be supplied and to be false. Add \"additionalProperties\": false to this object (a map with free keys has no strict form: send strict: false, or list its entries as objects with fixed keys)." });
  });
  it('a non-strict tool, a custom tool or no tools: no check', () => {
    expect(() => checkStrictChatToolSchemas({ tools: [tool({ type: 'object', properties: {} }), tool({ type: 'object' }, false), { type: 'custom', custom: { name: 'g' } } as never] })).not.toThrow();
    expect(() => checkStrictChatToolSchemas({})).not.toThrow();
  });
});

describe('strictSchemaObjectsProblem on a wide object', () => {
  it('reads an object\'s `required` list a bounded number of times per key, not once per key per key (linear, not quadratic)', () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
    let reads = 0;
    // Counts element reads of `required`: scanning it for each property key (the old check) reads it about n²/2 times
    // (2 million here; a 0.92 MB body of 45,000 keys held a `tessera serve` process for 1.1 s), a Set built once n times.
    const required = new Proxy([...keys].reverse(), {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const schema = { type: 'object', properties: Object.fromEntries(keys.map((k) => [k, { type: 'string' }])), required, additionalProperties: false };
    expect(strictSchemaObjectsProblem("response_format 'x'", schema)).toBeUndefined();
    expect(reads).toBeGreaterThanOrEqual(keys.length);
    expect(reads).toBeLessThanOrEqual(4 * keys.length);
  });
});

describe('checkStrictChatResponseFormat', () => {
  const format = (schema: unknown, strict?: boolean) => ({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, ...(strict === undefined ? {} : { strict }) } } });
  it('a strict json_schema with an optional key is a 400 naming response_format, code null on the wire (OpenAI\'s chat API), in OpenAI\'s words whole', () => {
    let e: unknown;
    try { checkStrictChatResponseFormat(format({ ...closed({ a: { type: 'string' }, b: { type: 'string' } }), required: ['a'] }, true)); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(GatewayError);
    expect(JSON.parse((e as GatewayError).body()).error).toMatchObject({ param: 'response_format', code: null });
    expect(e).toMatchObject({ status: 400, param: 'response_format', code: 'invalid_json_schema', message: "Invalid schema for response_format 'x': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'. To keep 'b' optional, list it in 'required' and let it be null: its type a list with \"null\" ([\"string\", \"null\"]) or anyOf with {\"type\": \"null\"}." });
  });
  // What zodResponseFormat of openai 4.x/5.x writes from a zod 4 object (and from a zod/v3 one next to zod 4): OpenAI's 400.
  it.each([
    ['whose root is a string', { type: 'string', $schema: 'http://json-schema.org/draft-07/schema#' }, 'string'],
    ['without a root type', { $schema: 'http://json-schema.org/draft-07/schema#' }, 'None'],
    ['whose root is anyOf', { anyOf: [{ type: 'object' }, { type: 'null' }] }, 'None'],
  ])('a strict json_schema %s is a 400 naming response_format, OpenAI\'s rule and the zod helper that writes it', (_name, schema, got) => {
    let e: unknown;
    try { checkStrictChatResponseFormat(format(schema, true)); } catch (x) { e = x; }
    expect(e).toMatchObject({ status: 400, param: 'response_format', wireCode: null });
    expect((e as GatewayError).message).toMatch(new RegExp(`^Invalid schema for response_format 'x': schema must be a JSON Schema of 'type: "object"', got 'type: "${got}"'\\. .*zodResponseFormat`));
    expect(() => checkStrictChatResponseFormat(format(schema, false))).not.toThrow();
  });
  it('not strict, another format type or none: no check', () => {
    expect(() => checkStrictChatResponseFormat(format({ type: 'object', properties: { a: {} } }))).not.toThrow();
    expect(() => checkStrictChatResponseFormat(format({ type: 'object', properties: { a: {} } }, false))).not.toThrow();
    expect(() => checkStrictChatResponseFormat({ response_format: { type: 'json_object' } })).not.toThrow();
    expect(() => checkStrictChatResponseFormat({})).not.toThrow();
  });
});
