import { invalid } from '../openai-errors.js';

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
 * @param subject how OpenAI's message names the schema: `response_format 'plan'` (a Responses API `text.format` too, as
 *   OpenAI's message does), `function 'f'`
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
    if (problem) return `Invalid schema for ${subject}: In context=${pythonTuple(contextOf(place))}, ${problem}`;
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

/** A schema node and how it was reached: its parent's place and the keys from there (linked, not copied: linear in depth). */
interface Place { node: unknown; parent?: Place; steps?: string[] }

/** The keys from the root to a place, as OpenAI's message lists them. */
function contextOf(place: Place): string[] {
  const parts: string[][] = [];
  for (let p: Place | undefined = place; p; p = p.parent) if (p.steps) parts.push(p.steps);
  return parts.reverse().flat();
}

/** The rule an object schema breaks (its message's end, in OpenAI's words), else undefined; not an object: undefined. */
function objectProblem(node: Record<string, unknown>): string | undefined {
  const type = node.type;
  const isObjectType = type === 'object' || (Array.isArray(type) && type.includes('object'));
  if (!isObjectType) return undefined;
  if (node.additionalProperties !== false) return "'additionalProperties' is required to be supplied and to be false.";
  const properties = isObject(node.properties) ? Object.keys(node.properties) : [];
  // A Set: a list scanned for each key is quadratic, and a body of gateway.maxRequestBytes (up to 6 MB) can hold some
  // 300,000 keys, which took the event loop for seconds to minutes.
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  const missing = properties.find((p) => !required.has(p));
  if (missing !== undefined) return `'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value);
}

/** A path as Python prints a tuple of strings, as OpenAI's message does: `()`, `('items',)`, `('properties', 'a')`. */
function pythonTuple(parts: string[]): string {
  const quoted = parts.map((p) => `'${p}'`);
  return quoted.length === 1 ? `(${quoted[0]},)` : `(${quoted.join(', ')})`;
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
    const problem = strictSchemaObjectsProblem(`function '${String(fn.name)}'`, fn.parameters);
    if (problem) throw invalid(problem, `tools[${i}].function.parameters`, 'invalid_function_parameters');
  });
}
