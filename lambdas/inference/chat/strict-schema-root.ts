import { quoted } from '../openai-errors.js';

/**
 * OpenAI's structured outputs rule for the root of a strict JSON schema (the "Supported schemas" section of its
 * Structured Outputs guide: "the root level object of a schema must be an object, and not use anyOf"). OpenAI refuses
 * any other root with a 400, e.g. `Invalid schema for response_format 'query': schema must be a JSON Schema of
 * 'type: "object"', got 'type: "None"'.` (openai/openai-node#1092). A self-hosted server takes such a schema and
 * constrains the answer to it (a bare string), so the gateway refuses it for every provider, as OpenAI does.
 *
 * The usual sender: `zodResponseFormat` / `zodTextFormat` of `openai` 4.x and 5.x given a zod 4 schema (their
 * `helpers/zod` read zod 3's internals and write `{"type":"string"}` or `{}` for a zod 4 object; openai-node#1540).
 *
 * @param field how the error names the format: `response_format` (OpenAI's word for chat's and the Responses API's `text.format`)
 * @param name the format's `name`
 * @param schema the format's `schema`; not checked when absent (null or undefined)
 * @returns the error message when the root is not `type: "object"`, else undefined
 */
export function strictSchemaRootProblem(field: string, name: unknown, schema: unknown): string | undefined {
  if (schema == null) return undefined;
  const type = typeof schema === 'object' && !Array.isArray(schema) ? (schema as { type?: unknown }).type : undefined;
  if (type === 'object') return undefined;
  const got = type === undefined ? 'None' : quoted(type);
  return `Invalid schema for ${field} '${quoted(name, 64)}': schema must be a JSON Schema of 'type: "object"', got 'type: "${got}"'. `
    + 'A strict structured output needs an object at the root. The zod helpers of the openai npm package 4.x and 5.x '
    + '(zodResponseFormat, zodTextFormat) write such a schema from a zod 4 object: use openai 6 or later, or zod 3 with them.';
}
