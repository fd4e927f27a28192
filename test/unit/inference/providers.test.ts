import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BedrockProvider } from '../../../lambdas/inference/providers/bedrock.js';
import type { ProviderRequest } from '../../../lambdas/inference/providers/provider.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockClient(BedrockRuntimeClient);
beforeEach(() => {
  bedrock.reset();
});

const request = (upstream: string): ProviderRequest => ({
  model: { id: 'bedrock/x', upstream, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 },
  messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: [{ type: 'text', text: 'again' }] }],
  maxTokens: 50, temperature: 0.2, stop: 'END', tenantId: 'acme', signal: new AbortController().signal,
});

describe('Bedrock provider (Converse)', () => {
  it('sends system prompts apart, maps the stop reason and the usage', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'fine' }] } }, stopReason: 'max_tokens', usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 }, metrics: { latencyMs: 1 } });
    const out = await new BedrockProvider().complete(request('amazon.nova-lite-v1:0'));
    expect(out).toEqual({ content: 'fine', finishReason: 'length', usage: { promptTokens: 12, completionTokens: 3 } });
    expect(bedrock.commandCalls(ConverseCommand)[0].args[0].input).toEqual({
      modelId: 'amazon.nova-lite-v1:0',
      system: [{ text: 'be brief' }],
      messages: [{ role: 'user', content: [{ text: 'hi' }] }, { role: 'assistant', content: [{ text: 'hello' }] }, { role: 'user', content: [{ text: 'again' }] }],
      inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: undefined, stopSequences: ['END'] },
    });
  });

  it('streams deltas, the stop reason and the usage from ConverseStream', async () => {
    async function* events() {
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'he' } } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'llo' } } };
      yield { messageStop: { stopReason: 'end_turn' } };
      yield { metadata: { usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 }, metrics: { latencyMs: 1 } } };
    }
    bedrock.on(ConverseStreamCommand).resolves({ stream: events() as never });
    const chunks = [];
    for await (const c of new BedrockProvider().stream(request('anthropic.claude'))) chunks.push(c);
    expect(chunks).toEqual([{ delta: 'he' }, { delta: 'llo' }, { finishReason: 'stop' }, { usage: { promptTokens: 5, completionTokens: 2 } }]);
  });

  it('marks throttling retryable and validation errors not', async () => {
    bedrock.on(ConverseCommand).rejectsOnce(Object.assign(new Error('slow'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } }))
      .rejectsOnce(Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    await expect(new BedrockProvider().complete(request('m'))).rejects.toMatchObject({ retryable: true, status: 429 });
    await expect(new BedrockProvider().complete(request('m'))).rejects.toMatchObject({ retryable: false, status: 400 });
  });
});

describe('Bedrock guardrail', () => {
  it('applies the tenant guardrail to the input and reports an intervention with its message', async () => {
    const { applyBedrockGuardrail } = await import('../../../lambdas/inference/bedrock-guardrail.js');
    const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
    bedrock.on(ApplyGuardrailCommand).resolves({ action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'This topic is not allowed.' }], usage: undefined as never, assessments: [] });
    await expect(applyBedrockGuardrail('gr-123:2', ['how do I launder money'])).resolves.toEqual({ blocked: true, reason: 'This topic is not allowed.' });
    expect(bedrock.commandCalls(ApplyGuardrailCommand)[0].args[0].input).toEqual({ guardrailIdentifier: 'gr-123', guardrailVersion: '2', source: 'INPUT', content: [{ text: { text: 'how do I launder money' } }] });
  });
});
