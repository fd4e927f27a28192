import { describe, expect, it } from 'vitest';
import { converseRequest } from '../../../../lambdas/inference/providers/bedrock/converse-request.js';
import { body, expectUnsupported } from './refusal.js';

const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

describe('converseRequest', () => {
  it('assembles every rule into one Converse input', () => {
    expect(converseRequest(body({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters: schema } }],
      tool_choice: 'required',
      max_completion_tokens: 200, temperature: 0.3, stop: 'END',
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema } },
      reasoning_effort: 'high', service_tier: 'priority', user: 'jane', metadata: { app: 'crm' },
      stream: true, stream_options: { include_usage: true },
    }), 'us.anthropic.claude-sonnet-4-5-v1:0')).toEqual({
      modelId: 'us.anthropic.claude-sonnet-4-5-v1:0',
      messages: [{ role: 'user', content: [{ text: 'Weather?' }] }],
      system: [{ text: 'Be brief.' }],
      toolConfig: { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: schema } } }], toolChoice: { any: {} } },
      inferenceConfig: { maxTokens: 200, temperature: 0.3, stopSequences: ['END'] },
      outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'out' } } }, effort: 'high' },
      serviceTier: { type: 'priority' },
      requestMetadata: { app: 'crm', user: 'jane' },
    });
  });

  it('sends only modelId and messages for a bare request', () => {
    expect(converseRequest(body(), 'amazon.nova-lite-v1:0')).toEqual({ modelId: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  });

  it('refuses tool_choice none when the conversation holds tool calls', () => {
    expectUnsupported(() => converseRequest(body({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't', content: 'ok' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'none',
    }), 'm'), 'tool_choice');
  });

  it('refuses an unsupported field before mapping anything else', () => {
    expectUnsupported(() => converseRequest(body({ n: 3, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }), 'm'), 'n');
  });
});
