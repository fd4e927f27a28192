import { ApplyGuardrailCommand, BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { platformClient } from '../shared/aws-clients.js';

/**
 * Bedrock ApplyGuardrail on a tenant's input or a model's answer (`guardrailId` or `id:version`,
 * default version DRAFT).
 * Blocked when Bedrock intervenes; the reason is the guardrail's configured output message.
 */
export async function applyBedrockGuardrail(guardrailId: string, texts: string[], source: 'INPUT' | 'OUTPUT' = 'INPUT'): Promise<{ blocked: boolean; reason?: string }> {
  const [identifier, version = 'DRAFT'] = guardrailId.split(':');
  const out = await platformClient(BedrockRuntimeClient).send(new ApplyGuardrailCommand({
    guardrailIdentifier: identifier, guardrailVersion: version, source,
    content: texts.map((text) => ({ text: { text } })),
  }));
  return { blocked: out.action === 'GUARDRAIL_INTERVENED', reason: out.outputs?.map((o) => o.text).filter(Boolean).join(' ') || undefined };
}
