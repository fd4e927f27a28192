import { invalid } from '../openai-errors.js';

/** What a JSON value is, as a type error names it ("a string", "an array", "null"). */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`;
}

/**
 * OpenAI's rule for a tool's name, function and custom tools alike: 1 to 64 letters, digits, `_` and `-`
 * (`FunctionDefinition.name` of the `openai` package: "Must be a-z, A-Z, 0-9, or contain underscores and dashes, with a
 * maximum length of 64"; the package documents none for `CustomTool.name`, but OpenAI's Responses API refuses any tool
 * name outside `^[a-zA-Z0-9_-]+$`: openai/codex#8694, "The Responses API requires that all tool names conform to
 * '^[a-zA-Z0-9_-]+$'"; its chat answer is quoted in brekkylab/ailoy#109: "Invalid 'tools[0].function.name': string
 * does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", code `invalid_value`).
 */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
/** The longest tool name OpenAI takes (`FunctionDefinition.name`: "a maximum length of 64"). */
export const MAX_TOOL_NAME_LENGTH = 64;

/**
 * Checks a tool's `name` as OpenAI does, for every provider, before anything is counted or sent, in OpenAI's words:
 * absent (or empty) → 400 `missing_required_parameter` ("Missing required parameter: 'tools[0].name'."); not a string
 * (`5`) → `invalid_type` ("Invalid type for 'tools[0].name': expected a string, but got a number instead.");
 * outside `TOOL_NAME_PATTERN` → `invalid_value`; longer than 64 → `string_above_max_length`. Each names `path`.
 * @param what the tool, in the message ("a function tool", "a custom tool")
 * @throws GatewayError 400 naming `path`
 */
export function checkToolName(name: unknown, path: string, what: string): asserts name is string {
  if (name == null || name === '') throw invalid(`Missing required parameter: '${path}'. ${what} needs a name (1 to 64 letters, digits, _ and -).`, path, 'missing_required_parameter');
  if (typeof name !== 'string') throw invalid(`Invalid type for '${path}': expected a string, but got ${kindOf(name)} instead (${JSON.stringify(name)?.slice(0, 60)}).`, path, 'invalid_type');
  const suggested = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, MAX_TOOL_NAME_LENGTH);
  if (!TOOL_NAME_PATTERN.test(name)) throw invalid(`Invalid '${path}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' (${JSON.stringify(name.slice(0, 80))}); rename the tool, e.g. ${JSON.stringify(suggested)}.`, path, 'invalid_value');
  if (name.length > MAX_TOOL_NAME_LENGTH) throw invalid(`Invalid '${path}': string too long. Expected a string with maximum length ${MAX_TOOL_NAME_LENGTH}, but got a string with length ${name.length} instead; rename the tool, e.g. ${JSON.stringify(suggested)}.`, path, 'string_above_max_length');
}

/**
 * Checks the names of a chat request's tools (`tools[i].function.name`, `tools[i].custom.name`) with `checkToolName`:
 * the gateway relays them to the upstream otherwise, which may take a name OpenAI refuses (or answer 5 as a name).
 * A tool whose `function` / `custom` object is missing is left to the schema and the provider.
 * @param body the request as parsed by ChatCompletionRequest, its tool types already checked (tool-types.ts)
 * @throws GatewayError 400 naming `tools[i].function.name` or `tools[i].custom.name`
 */
export function checkChatToolNames(body: { tools?: ReadonlyArray<{ type?: unknown; function?: unknown; custom?: unknown }> | null }): void {
  (body.tools ?? []).forEach((tool, i) => {
    const key = tool.type === 'custom' ? 'custom' : 'function';
    const def = tool[key];
    if (def == null || typeof def !== 'object') return;
    checkToolName((def as { name?: unknown }).name, `tools[${i}].${key}.name`, key === 'custom' ? 'A custom tool' : 'A function tool');
  });
}
