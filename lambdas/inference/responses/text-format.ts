import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { invalid, quoted } from '../openai-errors.js';
import { missingParameter, refuse } from '../openai-issues.js';
import { checkType } from './tools.js';
import { strictSchemaRootProblem } from '../chat/strict-schema-root.js';
import { strictSchemaObjectsProblem } from '../chat/strict-schema-objects.js';

type Item = Record<string, any>;

/** OpenAI's 400 for a required field that is absent: `Missing required parameter: 'text.format.name'.` */
const missing = (param: string): never => refuse(missingParameter(param), param);

/**
 * `text.format` as chat's `response_format`: `text` → none (plain text is chat's default);
 * `json_object` → `{type:'json_object'}`; `json_schema` `{name, schema, description, strict}` →
 * `{type:'json_schema', json_schema:{name, schema, description, strict}}`.
 * @throws GatewayError 400 in OpenAI's words and code: `text.format.type` absent (`missing_required_parameter`) or another
 *   type (`invalid_value`, `Invalid value: 'xml'. Supported values are: …`), `text.format.name` / `.schema` when absent
 *   (`missing_required_parameter`), a name outside `^[a-zA-Z0-9_-]+$` (before session 50 these
 *   were the gateway's own words, code `invalid_request`, and any name went on), a schema that is not an object (an array too), `text.format.strict` / `.description` of the wrong type,
 *   `text.format.schema` when strict and its root is not `type: "object"` (strictSchemaRootProblem) or one of its
 *   objects is open or has an optional key (strictSchemaObjectsProblem; code `invalid_json_schema`, as OpenAI's)
 */
export function textFormatToChat(format: Item | null | undefined): ChatCompletionCreateParams['response_format'] | undefined {
  if (format == null || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type == null) missing('text.format.type');
  if (format.type !== 'json_schema') throw invalid(`Invalid value: '${quoted(format.type)}'. Supported values are: 'text', 'json_object', and 'json_schema'.`, 'text.format.type', 'invalid_value');
  if (format.name == null || format.name === '') missing('text.format.name');
  checkType(format.name, 'string', 'text.format.name');
  if (!/^[a-zA-Z0-9_-]+$/.test(format.name)) throw invalid("Invalid 'text.format.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", 'text.format.name', 'invalid_value');
  if (format.schema == null) missing('text.format.schema');
  if (typeof format.schema !== 'object' || Array.isArray(format.schema)) throw invalid('text.format.schema is required for a json_schema format (a JSON Schema object)', 'text.format.schema');
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
