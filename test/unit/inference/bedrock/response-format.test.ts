import { describe, expect, it } from 'vitest';
import { textFormat } from '../../../../lambdas/inference/providers/bedrock/response-format.js';
import { body, expectInvalid, expectUnsupported } from './refusal.js';

const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };

describe('textFormat', () => {
  it('maps json_schema to Converse structured output, the schema as a JSON string', () => {
    expect(textFormat(body({ response_format: { type: 'json_schema', json_schema: { name: 'answer', description: 'The answer', schema, strict: true } } })))
      .toEqual({ type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'answer', description: 'The answer' } } });
    expect(textFormat(body({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: false } } })))
      .toEqual({ type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'answer' } } });
  });

  it('sends nothing for text or no response_format', () => {
    expect(textFormat(body({ response_format: { type: 'text' } }))).toBeUndefined();
    expect(textFormat(body())).toBeUndefined();
    expect(textFormat(body({ response_format: null }))).toBeUndefined();
  });

  it('refuses JSON mode and a json_schema without a schema', () => {
    expectUnsupported(() => textFormat(body({ response_format: { type: 'json_object' } })), 'response_format');
    expectInvalid(() => textFormat(body({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } })), 'response_format.json_schema.schema');
    expectUnsupported(() => textFormat(body({ response_format: { type: 'grammar', grammar: 'x' } })), 'response_format');
  });
});
