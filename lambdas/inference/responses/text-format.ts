import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { invalid, quoted } from '../openai-errors.js';
import { checkType } from './tools.js';
import { strictSchemaRootProblem } from '../chat/strict-schema-root.js';
import { strictSchemaObjectsProblem } from '../chat/strict-schema-objects.js';

type Item = Record<string, any>;

/**
 * `text.format` as chat's `response_format`: `text` → none (plain text is chat's default);
 * `json_object` → `{type:'json_object'}`; `json_schema` `{name, schema, description, strict}` →
 * `{type:'json_schema', json_schema:{name, schema, description, strict}}`.
 * @throws GatewayError 400 naming `text.format.type` for another type, `text.format.name` / `.schema` when missing
 *   (a schema that is not an object: an array too), `text.format.strict` / `.description` of the wrong type,
 *   `text.format.schema` when strict and its root is not `type: "object"` (strictSchemaRootProblem) or one of its
 *   objects is open or has an optional key (strictSchemaObjectsProblem; code `invalid_json_schema`, as OpenAI's)
 */
export function textFormatToChat(format: Item | null | undefined): ChatCompletionCreateParams['response_format'] | undefined {
  if (format == null || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type !== 'json_schema') throw invalid(`text.format.type '${quoted(format.type)}' is not one of text, json_object, json_schema`, 'text.format.type');
  if (typeof format.name !== 'string' || !format.name) throw invalid('text.format.name is required for a json_schema format', 'text.format.name');
  if (format.schema == null || typeof format.schema !== 'object' || Array.isArray(format.schema)) throw invalid('text.format.schema is required for a json_schema format (a JSON Schema object)', 'text.format.schema');
  checkType(format.strict, 'boolean', 'text.format.strict');
  checkType(format.description, 'string', 'text.format.description');
  const problem = format.strict === true
    // OpenAI's Responses API names the schema as its chat API does (`Invalid schema for response_format 'name': …`, param
    // `text.format.schema`, code `invalid_json_schema`): the same validator.
    ? strictSchemaRootProblem('response_format', format.name, format.schema) ?? strictSchemaObjectsProblem(`response_format '${quoted(format.name, 64)}'`, format.schema)
    : undefined;
  if (problem) throw invalid(problem, 'text.format.schema', 'invalid_json_schema');
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name, schema: format.schema,
      ...(format.description != null ? { description: format.description } : {}),
      ...(format.strict != null ? { strict: format.strict } : {}),
    },
  };
}
