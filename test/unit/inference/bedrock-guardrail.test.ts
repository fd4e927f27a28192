import { mockBedrockRuntime } from '../../support/bedrock-strict.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { logSpy } from '../../support/service-log.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
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

  it('hands the request\'s deadline to the SDK as the call\'s abortSignal (a stalled ApplyGuardrail is stopped, not waited for past the Lambda timeout)', async () => {
    const { applyBedrockGuardrail } = await import('../../../lambdas/inference/bedrock-guardrail.js');
    const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
    bedrock.on(ApplyGuardrailCommand).resolves({ action: 'NONE', outputs: [], usage: undefined as never, assessments: [] });
    const deadline = new AbortController();
    await applyBedrockGuardrail('abc123', ['an answer'], 'OUTPUT', deadline.signal);
    expect((bedrock.commandCalls(ApplyGuardrailCommand)[0].args as unknown[])[1]).toMatchObject({ abortSignal: deadline.signal });
  });

  it('makes no call for no texts (an image-only message or moderation input): nothing for its text policies to read', async () => {
    const { applyBedrockGuardrail } = await import('../../../lambdas/inference/bedrock-guardrail.js');
    const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
    bedrock.on(ApplyGuardrailCommand).resolves({ action: 'GUARDRAIL_INTERVENED', outputs: [], usage: undefined as never, assessments: [] });
    await expect(applyBedrockGuardrail('abc123', [])).resolves.toEqual({ blocked: false });
    expect(bedrock.commandCalls(ApplyGuardrailCommand)).toEqual([]);
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

  describe('tells a masking from a block by the assessments (Bedrock answers GUARDRAIL_INTERVENED for both)', () => {
    const email = (action: string) => ({ type: 'EMAIL', match: 'bob@example.com', action, detected: true });
    const texts = ['mail bob@example.com', 'no address here'];
    const masked = [{ text: 'mail {EMAIL}' }, { text: 'no address here' }];
    async function verdict(answer: Record<string, unknown>, sent = texts) {
      const { applyBedrockGuardrail } = await import('../../../lambdas/inference/bedrock-guardrail.js');
      const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
      bedrock.on(ApplyGuardrailCommand).resolves({ usage: undefined as never, ...answer } as never);
      return applyBedrockGuardrail('abc123', sent);
    }

    it('only ANONYMIZED entities (NONE entries ignored), one output per text: not blocked, the masked texts in order', async () => {
      const assessments = [{ sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED'), { type: 'NAME', match: 'Bob', action: 'NONE', detected: true }], regexes: [{ name: 'ticket', match: 'T-1', regex: 'T-\\d', action: 'ANONYMIZED', detected: true }] }, invocationMetrics: { guardrailProcessingLatency: 80 } }];
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: masked, assessments })).resolves.toEqual({ blocked: false, masked: ['mail {EMAIL}', 'no address here'] });
    });

    it('a BLOCKED entity, or a BLOCKED policy beside an ANONYMIZED entity: blocked with the guardrail\'s message', async () => {
      const blockedMessage = [{ text: 'Sorry, I cannot help with that.' }];
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: blockedMessage, assessments: [{ sensitiveInformationPolicy: { piiEntities: [email('BLOCKED')], regexes: [] } }] })).resolves.toEqual({ blocked: true, reason: 'Sorry, I cannot help with that.' });
      const mixed = [{ sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED')], regexes: [] }, topicPolicy: { topics: [{ name: 'Investing', type: 'DENY', action: 'BLOCKED', detected: true }] } }];
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: blockedMessage, assessments: mixed })).resolves.toEqual({ blocked: true, reason: 'Sorry, I cannot help with that.' });
      const word = [{ sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED')], regexes: [] } }, { wordPolicy: { customWords: [{ match: 'darn', action: 'BLOCKED' }], managedWordLists: [] } }];
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: masked, assessments: word })).resolves.toMatchObject({ blocked: true });
    });

    it('NONE-only detections: passed when Bedrock did not intervene, blocked when it intervened with nothing to explain it', async () => {
      const detectOnly = [{ sensitiveInformationPolicy: { piiEntities: [email('NONE')], regexes: [] }, contentPolicy: { filters: [{ type: 'INSULTS', confidence: 'LOW', action: 'NONE', detected: false }] } }];
      await expect(verdict({ action: 'NONE', outputs: [], assessments: detectOnly })).resolves.toEqual({ blocked: false });
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: masked, assessments: detectOnly })).resolves.toMatchObject({ blocked: true });
      await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: masked, assessments: [] })).resolves.toMatchObject({ blocked: true });
    });

    it('ANONYMIZED only, but outputs that do not line up with the texts sent: blocked (fail closed), with a warning saying why', async () => {
      const warn = logSpy('tessera-gateway', 'warn');
      try {
        const assessments = [{ sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED')], regexes: [] } }];
        await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'mail {EMAIL}' }], assessments })).resolves.toEqual({ blocked: true });
        expect(warn.lines()[0]).toMatchObject({ level: 'WARN', guardrailId: 'abc123', source: 'INPUT', texts: 2, outputs: 1 });
        await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'mail {EMAIL}' }, {}], assessments })).resolves.toMatchObject({ blocked: true });
      } finally {
        warn.mockRestore();
      }
    });

    it('an assessment it cannot classify (an unknown policy, list or action; automated reasoning findings): blocked', async () => {
      const anonymized = { sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED')], regexes: [] } };
      for (const extra of [
        { futurePolicy: { items: [{ action: 'NONE' }] } },
        { sensitiveInformationPolicy: { piiEntities: [email('ANONYMIZED')], regexes: [], futureList: [{ action: 'ANONYMIZED' }] } },
        { contentPolicy: { filters: [{ type: 'HATE', confidence: 'HIGH', action: 'REDACTED', detected: true }] } },
        { topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'ANONYMIZED' }] } },
        { automatedReasoningPolicy: { findings: [{ invalid: {} }] } },
      ]) {
        await expect(verdict({ action: 'GUARDRAIL_INTERVENED', outputs: masked, assessments: [anonymized, extra] }), JSON.stringify(extra)).resolves.toMatchObject({ blocked: true });
      }
    });
  });
});

