import { bedrockRefusal, mockBedrockRuntime, refusedBedrockRequests } from '../../../support/bedrock-strict.js';
import { ConverseCommand, CountTokensCommand, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { beforeEach, describe, expect, it } from 'vitest';
import { BedrockProvider } from '../../../../lambdas/inference/providers/bedrock.js';
import { countTokensRequest } from '../../../../lambdas/inference/providers/bedrock/count-tokens.js';
import { ProviderError, type InputTokensProviderRequest } from '../../../../lambdas/inference/providers/provider.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
beforeEach(() => {
  bedrock.reset();
});

const weatherTool = { type: 'function' as const, function: { name: 'weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const BODY = {
  model: 'bedrock/claude',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in Oslo?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '3°C' },
  ],
  tools: [weatherTool],
  temperature: 0.2,
  max_completion_tokens: 50,
} as ChatCompletionCreateParams;

const request = (upstream = 'anthropic.claude-haiku-4-5-20251001-v1:0'): InputTokensProviderRequest => ({
  model: { id: 'bedrock/claude', upstream, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 },
  body: BODY, responses: {}, tenantId: 'acme', signal: new AbortController().signal,
});

describe('countTokensRequest', () => {
  it('is Converse\'s messages, system and toolConfig under input.converse, nothing that is no input token (inference settings)', () => {
    const input = countTokensRequest(BODY, 'anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(input).toEqual({
      modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
      input: {
        converse: {
          system: [{ text: 'Be brief.' }],
          messages: [
            { role: 'user', content: [{ text: 'Weather in Oslo?' }] },
            { role: 'assistant', content: [{ toolUse: { toolUseId: 'call_1', name: 'weather', input: { city: 'Oslo' } } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: '3°C' }] } }] },
          ],
          toolConfig: { tools: [{ toolSpec: { name: 'weather', description: 'The weather', inputSchema: { json: weatherTool.function.parameters } } }] },
        },
      },
    });
  });
});

describe('BedrockProvider.countInputTokens', () => {
  it('sends CountTokens (checked by the strict mock) and answers its inputTokens', async () => {
    bedrock.on(CountTokensCommand).resolves({ inputTokens: 57 });
    const before = refusedBedrockRequests.length;
    expect(await new BedrockProvider().countInputTokens(request())).toBe(57);
    expect(refusedBedrockRequests).toHaveLength(before);
    const sent = bedrock.commandCalls(CountTokensCommand)[0]!.args[0].input;
    expect(sent).toEqual(countTokensRequest(BODY, 'anthropic.claude-haiku-4-5-20251001-v1:0'));
  });

  it('answers undefined for a model Bedrock counts no tokens for (its ValidationException), for the gateway to estimate', async () => {
    bedrock.on(CountTokensCommand).rejects(new ValidationException({ message: "The provided model doesn't support counting tokens.", $metadata: {} }));
    expect(await new BedrockProvider().countInputTokens(request('amazon.nova-lite-v1:0'))).toBeUndefined();
  });

  it('turns another failure into a ProviderError (a throttle is a retryable 429)', async () => {
    bedrock.on(CountTokensCommand).rejects(new ThrottlingException({ message: 'Too many requests', $metadata: {} }));
    const e = await new BedrockProvider().countInputTokens(request()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ status: 429 });
  });

  it('is checked by the strict mock under Converse\'s rules (a conversation that opens with the assistant is refused)', () => {
    const command = new CountTokensCommand({ modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', input: { converse: { messages: [{ role: 'assistant', content: [{ text: 'Hi' }] }] } } });
    expect(bedrockRefusal(command)).toBe(bedrockRefusal(new ConverseCommand({ modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', messages: [{ role: 'assistant', content: [{ text: 'Hi' }] }] })));
    expect(bedrockRefusal(command)).toBeDefined();
  });
});
