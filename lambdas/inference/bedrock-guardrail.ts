import { ApplyGuardrailCommand, BedrockRuntimeClient, type ApplyGuardrailResponse } from '@aws-sdk/client-bedrock-runtime';
import { platformClient } from '../shared/aws-clients.js';
import { guardrailReference } from './guardrail-reference.js';
import type { GuardrailVerdict } from './pipeline.js';
import { serviceLogger } from '../shared/service-logger.js';
import { requestLogKeys } from '../shared/request-log-context.js';

const logger = serviceLogger('tessera-gateway');

// The id's parsing has its own module (no SDK): the response cache reads it on every request, before any guardrail runs.
export { guardrailReference };

/** One ApplyGuardrail answer, the parts `guardrailVerdict` reads. */
type GuardrailAnswer = Pick<ApplyGuardrailResponse, 'action' | 'outputs' | 'assessments'>;

/** Assessment keys that report no policy's action (how long it took, which guardrail ran). */
const METADATA = new Set(['invocationMetrics', 'appliedGuardrailDetails']);

/** The entries of each policy whose `action` says what the policy did, by policy and list. */
const ENTRIES: Record<string, readonly string[]> = {
  topicPolicy: ['topics'],
  contentPolicy: ['filters'],
  wordPolicy: ['customWords', 'managedWordLists'],
  sensitiveInformationPolicy: ['piiEntities', 'regexes'],
  contextualGroundingPolicy: ['filters'],
};

/**
 * Why an intervention cannot pass as a masking, or undefined when every entry of `assessments`
 * that acted says ANONYMIZED (NONE entries, a policy's detect-only mode, are ignored; so are the
 * `detected` flags: an entry's `action` is what was done). Not a masking: any BLOCKED; an
 * ANONYMIZED outside the sensitive information policy (only its entities can be masked); an
 * action, list or policy this code does not know (a policy added to Bedrock after this was written,
 * or `automatedReasoningPolicy` with findings, which carry no action); no ANONYMIZED at all (an
 * intervention without an assessment that explains it).
 */
export function notMasking(assessments: GuardrailAnswer['assessments']): string | undefined {
  let anonymized = 0;
  for (const assessment of assessments ?? []) {
    for (const [policy, value] of Object.entries(assessment ?? {})) {
      if (value == null || METADATA.has(policy)) continue;
      if (policy === 'automatedReasoningPolicy') {
        if ((value as { findings?: unknown[] }).findings?.length) return 'automatedReasoningPolicy findings (no action to read)';
        continue;
      }
      const lists = ENTRIES[policy];
      if (!lists) return `unknown assessment ${policy}`;
      for (const [list, entries] of Object.entries(value as Record<string, unknown>)) {
        if (entries == null) continue;
        if (!lists.includes(list) || !Array.isArray(entries)) return `unknown assessment ${policy}.${list}`;
        for (const entry of entries as Array<{ action?: string }>) {
          const action = entry?.action;
          if (action === 'NONE') continue;
          if (action === 'ANONYMIZED' && policy === 'sensitiveInformationPolicy') anonymized += 1;
          else return `${policy}.${list} ${action ?? 'without an action'}`;
        }
      }
    }
  }
  return anonymized ? undefined : 'an intervention with no ANONYMIZED assessment';
}

/**
 * The verdict of one ApplyGuardrail answer on `texts` (sent one content block each, in order).
 * - action NONE: not blocked, nothing masked.
 * - GUARDRAIL_INTERVENED with only ANONYMIZED entities (`notMasking`) and one output per text:
 *   not blocked, `masked` = the outputs' texts.
 * - GUARDRAIL_INTERVENED otherwise: blocked, `reason` = the outputs' texts joined (the guardrail's
 *   configured blocked message), as every intervention was before masking was honoured. An
 *   ANONYMIZED-only answer whose outputs do not line up with the texts is blocked too (fail closed:
 *   the gateway cannot tell which masked text belongs where, and must never pass what the
 *   guardrail wanted hidden), without a reason (its outputs are masked texts, not a message) and
 *   with a warning in the log.
 *
 * Sources (Bedrock user guide and API reference, read through the docs search): "Use the
 * ApplyGuardrail API in your application" (guardrails-use-independent-api: `action` is
 * GUARDRAIL_INTERVENED or NONE, whatever the policy did; its sample response lists `outputs` after
 * a comment on what they hold when the guardrail intervened, which the copy found cuts off);
 * "Remove PII from conversations by using sensitive information filters"
 * (guardrails-sensitive-filters: Block, or Mask, which replaces the entity by its type, `{NAME}`
 * `{EMAIL}`); GuardrailPiiEntityFilter and GuardrailRegexFilter (runtime: `action` ANONYMIZED |
 * BLOCKED | NONE, and `detected`); GuardrailPiiEntity (configured action BLOCK | ANONYMIZE | NONE,
 * NONE = "take no action but return detection information"); ApplyGuardrail (`outputScope` FULL
 * also lists non-detected entries; the gateway sends the default, interventions only). The SDK's
 * GuardrailAssessment: topic, content, word, sensitive information and contextual grounding
 * policies with an `action` per entry, automated reasoning findings without one.
 * Unconfirmed (not stated in what was found): that a masking's `outputs` hold the masked texts,
 * one per content block sent, `outputs[i]` being block i's, also when only some blocks were masked
 * (LiteLLM and api7/aisix#719 rely on it; the length check guards the count, not the order).
 */
export function guardrailVerdict(out: GuardrailAnswer, texts: string[], log: Record<string, unknown> = {}): GuardrailVerdict {
  if (out.action !== 'GUARDRAIL_INTERVENED') return { blocked: false };
  const outputs = out.outputs ?? [];
  const blocked = { blocked: true, reason: outputs.map((o) => o.text).filter(Boolean).join(' ') || undefined };
  if (notMasking(out.assessments) !== undefined) return blocked;
  if (outputs.length !== texts.length || outputs.some((o) => typeof o?.text !== 'string')) {
    logger.warn('ApplyGuardrail masked, but its outputs do not line up with the texts sent: blocked (fail closed)', { ...requestLogKeys(), ...log, texts: texts.length, outputs: outputs.length });
    return { blocked: true }; // no reason: the outputs are masked texts, not a message for the caller
  }
  return { blocked: false, masked: outputs.map((o) => o.text!) };
}

/**
 * The SDK's attempts per ApplyGuardrail call: its default 3, with its backoff (throttling waits
 * from 500 ms), on purpose. Unlike Converse (BedrockProvider: 1 attempt), ApplyGuardrail has no
 * retry layer of the gateway around it (UpstreamCalls retries models, not the guardrail) and no
 * first-byte timeout that the SDK's retries could outlast, and a guardrail that cannot be applied
 * fails the request (502 `guardrail_unavailable`, never an answer let through unchecked): the
 * SDK's retries are all that absorb a short throttle. A separate cached client from the provider's.
 */
export const GUARDRAIL_SDK_ATTEMPTS = 3;

/**
 * Bedrock ApplyGuardrail on a tenant's input or a model's answer (`guardrailId`: the id or ARN,
 * optionally `:version`, guardrailReference), one content block per text: `guardrailVerdict`.
 * No texts (an image-only chat message or moderation input: images are not sent): no call, not blocked;
 * there is nothing for the guardrail's text policies to read, and an ApplyGuardrail with no content
 * block is a call whose answer nothing documents.
 * @param signal aborts the call (the SDK's `abortSignal`: the request's deadline) @default - none
 */
export async function applyBedrockGuardrail(guardrailId: string, texts: string[], source: 'INPUT' | 'OUTPUT' = 'INPUT', signal?: AbortSignal): Promise<GuardrailVerdict> {
  if (texts.length === 0) return { blocked: false };
  const { identifier, version } = guardrailReference(guardrailId);
  // The `model` HTTP timeouts (lib/aws-http-timeouts.ts): a long text's check is not cut by a socket timeout and sent again; `signal` bounds it.
  const out = await platformClient(BedrockRuntimeClient, 'guardrail', { maxAttempts: GUARDRAIL_SDK_ATTEMPTS, http: 'model' }).send(new ApplyGuardrailCommand({
    guardrailIdentifier: identifier, guardrailVersion: version, source,
    content: texts.map((text) => ({ text: { text } })),
  }), { abortSignal: signal });
  return guardrailVerdict(out, texts, { guardrailId, source });
}
