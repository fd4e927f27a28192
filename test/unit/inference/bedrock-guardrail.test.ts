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
    await expect(applyBedrockGuardrail('abc123:2', ['how do I launder money'])).resolves.toEqual({ blocked: true, reason: 'This topic is not allowed.' });
    expect(bedrock.commandCalls(ApplyGuardrailCommand)[0].args[0].input).toEqual({ guardrailIdentifier: 'abc123', guardrailVersion: '2', source: 'INPUT', content: [{ text: { text: 'how do I launder money' } }] });
  });

  it('takes the guardrail as an id or an ARN, with its version after the last colon (DRAFT without one), as ApplyGuardrail does', async () => {
    const { guardrailReference } = await import('../../../lambdas/inference/bedrock-guardrail.js');
    const arn = 'arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123def456';
    expect(guardrailReference('abc123def456')).toEqual({ identifier: 'abc123def456', version: 'DRAFT' });
    expect(guardrailReference('abc123def456:DRAFT')).toEqual({ identifier: 'abc123def456', version: 'DRAFT' });
    expect(guardrailReference(arn)).toEqual({ identifier: arn, version: 'DRAFT' }); // not { identifier: 'arn', version: 'aws' }
    expect(guardrailReference(`${arn}:12`)).toEqual({ identifier: arn, version: '12' });
  });

  it('refuses, where a tenant\'s policy is written, a value ApplyGuardrail would refuse, naming the field; a record stored before the check stays readable', async () => {
    const { GatewayPolicy } = await import('../../../lib/tenant-record.js');
    const { GatewayPolicyRequest } = await import('../../../lambdas/admin/gateway-policy-request.js');
    expect(GatewayPolicy.safeParse({ guardrails: { bedrockGuardrailId: 'gr-abc123' } }).success).toBe(true); // read: legacy records
    const accepted = ['abc123def456', 'abc123def456:3', 'abc123def456:DRAFT', 'arn:aws:bedrock:eu-west-1:111122223333:guardrail/abc123def456', 'arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:guardrail/abc123def456:99999999'];
    for (const bedrockGuardrailId of accepted) expect(GatewayPolicyRequest.safeParse({ guardrails: { bedrockGuardrailId } }).success, bedrockGuardrailId).toBe(true);
    for (const bedrockGuardrailId of ['gr-123', 'abc:0', 'abc:latest', 'ABC123', 'arn:aws:bedrock:us-east-1:111122223333:guardrail/abc:v1', 'arn:aws:s3:::bucket', '']) {
      const out = GatewayPolicyRequest.safeParse({ guardrails: { bedrockGuardrailId } });
      expect(out.success, bedrockGuardrailId).toBe(false);
      expect(out.error!.issues[0].path).toEqual(['guardrails', 'bedrockGuardrailId']);
    }
  });
});
