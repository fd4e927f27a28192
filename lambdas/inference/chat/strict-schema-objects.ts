import { invalid, quoted } from '../openai-errors.js';
import { strictSchemaRootProblem } from './strict-schema-root.js';

/**
 * OpenAI's structured-outputs rules for every object of a strict JSON schema (the "Supported schemas" section of its
 * Structured Outputs guide: "additionalProperties: false must always be set in objects" and "all fields must be
 * required"). OpenAI refuses a strict schema that breaks either with a 400 naming the object by its place in the schema:
 * `Invalid schema for response_format 'plan': In context=('properties', 'issues', 'items'), 'required' is required to
 * be supplied and to be an array including every key in properties. Missing 'path'.` and `... In context=(),
 * 'additionalProperties' is required to be supplied and to be false.` (for a tool: `Invalid schema for function
 * 'get_weather': ...`). A self-hosted server (vLLM, SGLang) or Bedrock takes such a schema and may answer without the
 * optional key, so an app tried against the gateway would meet the 400 only in production on OpenAI: the gateway
 * refuses it for every provider, as OpenAI does. The root's `type` is strict-schema-root.ts's rule.
 *
 * Walks `properties`, `items` (a schema or a list), `prefixItems`, `anyOf` / `oneOf` / `allOf`, `$defs` and
 * `definitions`, with a stack rather than recursion (a hostile body may nest deeply). An object is a schema whose
 * `type` is `"object"` or a list naming it (`["object", "null"]`).
 *
 * The message quotes the caller's keys bounded (`quoted`): each key of the context at most 64 characters, the whole
 * context at most 500, a missing key at most 64, each with its length when cut, so a deep schema or a megabyte key is not
 * sent back.
 *
 * @param subject how OpenAI's message names the schema: `response_format 'plan'` (a Responses API `text.format` too, as
 *   OpenAI's message does), `function 'f'` (its name quoted by the caller with `quoted`)
 * @param schema the schema as sent; nothing is checked when it is not a JSON object
 * @returns the message of the first object breaking a rule (in walk order), else undefined
 */
export function strictSchemaObjectsProblem(subject: string, schema: unknown): string | undefined {
  const stack: Place[] = [{ node: schema }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    const node = place.node;
    if (!isObject(node)) continue;
    const problem = objectProblem(node);
    if (problem) return `Invalid schema for ${subject}: In context=${quoted(pythonTuple(contextOf(place)), MAX_CONTEXT_CHARS)}, ${problem}`;
    const children: Place[] = [];
    for (const key of ['properties', '$defs', 'definitions'] as const) {
      const map = node[key];
      if (isObject(map)) for (const [name, child] of Object.entries(map)) children.push({ node: child, parent: place, steps: [key, name] });
    }
    for (const key of ['items', 'prefixItems', 'anyOf', 'oneOf', 'allOf'] as const) {
      const value = node[key];
      if (Array.isArray(value)) value.forEach((child, i) => children.push({ node: child, parent: place, steps: [key, String(i)] }));
      else if (isObject(value)) children.push({ node: value, parent: place, steps: [key] });
    }
    // Pushed in reverse: the first child is looked at first, as a reader of the schema would find it.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}

/** The most characters of a context tuple (and of one key in it) a message shows. */
const MAX_CONTEXT_CHARS = 500;
const MAX_KEY_CHARS = 64;

/** A schema node and how it was reached: its parent's place and the keys from there (linked, not copied: linear in depth). */
interface Place { node: unknown; parent?: Place; steps?: string[] }

/** The keys from the root to a place, as OpenAI's message lists them. */
function contextOf(place: Place): string[] {
  const parts: string[][] = [];
  for (let p: Place | undefined = place; p; p = p.parent) if (p.steps) parts.push(p.steps);
  return parts.reverse().flat();
}

/**
 * What to do, after OpenAI's words (its message says only what is wrong): a closed object, and an optional key made a
 * required nullable one, as OpenAI's Structured Outputs guide ("Supported schemas": "emulate an optional parameter")
 * advises. The `openai` clients' helpers (pydantic via `parse`, zod via `zodResponseFormat`) already send such schemas.
 */
const OPEN_ADVICE = ' Add "additionalProperties": false to this object (a map with free keys has no strict form: send strict: false, or list its entries as objects with fixed keys).';
function optionalAdvice(key: string): string {
  return ` To keep '${key}' optional, list it in 'required' and let it be null: its type a list with "null" (["string", "null"]) or anyOf with {"type": "null"}.`;
}

/** The rule an object schema breaks (its message's end, in OpenAI's words), else undefined; not an object: undefined. */
function objectProblem(node: Record<string, unknown>): string | undefined {
  const type = node.type;
  const isObjectType = type === 'object' || (Array.isArray(type) && type.includes('object'));
  if (!isObjectType) return undefined;
  if (node.additionalProperties !== false) return `'additionalProperties' is required to be supplied and to be false.${OPEN_ADVICE}`;
  const properties = isObject(node.properties) ? Object.keys(node.properties) : [];
  // A Set: a list scanned for each key is quadratic, and a body of gateway.maxRequestBytes can hold some 100,000 keys,
  // which took the event loop for seconds.
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  const missing = properties.find((p) => !required.has(p));
  if (missing !== undefined) return `'required' is required to be supplied and to be an array including every key in properties. Missing '${quoted(missing, MAX_KEY_CHARS)}'.${optionalAdvice(quoted(missing, MAX_KEY_CHARS))}`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value);
}

/** A path as Python prints a tuple of strings, as OpenAI's message does: `()`, `('items',)`, `('properties', 'a')`. */
function pythonTuple(parts: string[]): string {
  const each = parts.map((p) => `'${quoted(p, MAX_KEY_CHARS)}'`);
  return each.length === 1 ? `(${each[0]},)` : `(${each.join(', ')})`;
}

/**
 * Checks the `parameters` of each chat function tool sent with `strict: true` (`tools[i].function`) by
 * strictSchemaObjectsProblem, as OpenAI does for every tool before the model runs.
 * @param body the request as parsed by ChatCompletionRequest, its tool types already checked (tool-types.ts)
 * @throws GatewayError 400 `invalid_function_parameters` naming `tools[i].function.parameters`
 */
export function checkStrictChatToolSchemas(body: { tools?: ReadonlyArray<{ type?: unknown; function?: unknown }> | null }): void {
  (body.tools ?? []).forEach((tool, i) => {
    const fn = tool.type === 'function' && isObject(tool.function) ? tool.function : undefined;
    if (fn?.strict !== true) return;
    const problem = strictSchemaObjectsProblem(`function '${quoted(fn.name, MAX_KEY_CHARS)}'`, fn.parameters);
    if (problem) throw invalid(problem, `tools[${i}].function.parameters`, 'invalid_function_parameters');
  });
}

/**
 * Checks a chat `response_format` of type `json_schema` sent with `strict: true`, as OpenAI does before the model runs: its
 * root (strictSchemaRootProblem: `type: "object"`), then its objects (strictSchemaObjectsProblem). Refused as OpenAI's chat
 * API refuses it: param `response_format`, code null (`{"message": "Invalid schema for response_format 'x': In context=(),
 * 'additionalProperties' is required to be supplied and to be false.", "type": "invalid_request_error", "param":
 * "response_format", "code": null}`, as applications and the openai-python issues quote it), the message whole, in OpenAI's
 * words then what to do, not a line of parseWith's 400 cut at 300 characters. (The Responses API names `text.format.schema`,
 * code `invalid_json_schema`: responses/text-format.ts.)
 * @param body the request as parsed by ChatCompletionRequest
 * @throws GatewayError 400 naming `response_format` (code null on the wire; `invalid_json_schema` in the audit record)
 */
export function checkStrictChatResponseFormat(body: { response_format?: unknown }): void {
  const format = body.response_format;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.json_schema) || format.json_schema.strict !== true) return;
  const problem = strictSchemaRootProblem('response_format', format.json_schema.name, format.json_schema.schema)
    ?? strictSchemaObjectsProblem(`response_format '${quoted(format.json_schema.name, MAX_KEY_CHARS)}'`, format.json_schema.schema);
  if (!problem) return;
  const e = invalid(problem, 'response_format', 'invalid_json_schema');
  e.wireCode = null;
  throw e;
}
