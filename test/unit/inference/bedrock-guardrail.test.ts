import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockClient(BedrockRuntimeClient);
beforeEach(() => {
  bedrock.reset();
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
