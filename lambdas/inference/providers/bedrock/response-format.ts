import type { OutputFormat } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, invalidField, unsupported } from './refuse.js';

/**
 * OpenAI `response_format` → Converse `outputConfig.textFormat` (structured outputs).
 *
 *   {type:'text'}                                  → nothing (plain text is the default)
 *   {type:'json_schema', json_schema:{name, description?, schema, strict?}}
 *     → {type:'json_schema', structure:{jsonSchema:{schema: JSON.stringify(schema), name, description?}}}
 *   {type:'json_object'}                           → 400 `response_format`
 *
 * - Converse takes the schema as a JSON string. It always enforces it (constrained decoding), so
 *   `strict: false` (OpenAI: follow the schema without a guarantee) is served at least as well
 *   and is not forwarded. A schema Bedrock's structured outputs cannot compile is Bedrock's own
 *   400, relayed to the caller.
 * - A `json_schema` without `schema`: 400 at `response_format.json_schema.schema`.
 * - `json_object` (JSON mode: any valid JSON object) has no faithful Converse form: structured
 *   outputs need a schema, and Bedrock requires `additionalProperties: false` on every object, so
 *   the nearest schema `{type:'object'}` is either refused or allows only `{}`. Send json_schema.
 *
 * AWS references: OutputConfig, OutputFormat, JsonSchemaDefinition
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html) and the
 * structured-output guide (https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html).
 */
export function textFormat(body: ChatCompletionCreateParams): OutputFormat | undefined {
  const format = body.response_format;
  if (!given(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    throw unsupported('response_format', 'JSON mode has no Converse equivalent (structured outputs need a schema with additionalProperties false on every object); send response_format json_schema');
  }
  if (format.type === 'json_schema') {
    const { name, description, schema } = format.json_schema;
    if (!given(schema)) throw invalidField('response_format.json_schema.schema', 'is missing; Converse structured outputs need the schema');
    return { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name, ...(description ? { description } : {}) } } };
  }
  throw unsupported('response_format', `type ${String((format as { type: unknown }).type)} has no Converse equivalent`);
}
