import type { ServiceTier, ServiceTierType } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletion, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, unsupported } from './refuse.js';

type OpenAiTier = NonNullable<ChatCompletion['service_tier']>;

/**
 * OpenAI `service_tier` ↔ Converse `serviceTier`, both ways.
 *
 *   request  'auto' → nothing (Bedrock's default tier, as OpenAI's project default)
 *            'default' → {type:'default'}, 'flex' → {type:'flex'}, 'priority' → {type:'priority'}
 *            'fast' → {type:'priority'} (OpenAI's fast mode is its priority tier: an answer to
 *              either says `service_tier: 'priority'`, per the `openai` package's `service_tier` doc)
 *            'scale' → {type:'reserved'} (both are capacity bought ahead, overflowing to the default tier)
 *   response {type:'default'|'flex'|'priority'} → the same, {type:'reserved'} → 'scale'
 *
 * A tier the model or Region does not offer is Bedrock's own 400 (ValidationException).
 * AWS references: ServiceTier (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ServiceTier.html),
 * service tiers guide (https://docs.aws.amazon.com/bedrock/latest/userguide/service-tiers-inference.html).
 */
export function serviceTier(body: ChatCompletionCreateParams): ServiceTier | undefined {
  const tier = body.service_tier;
  if (!given(tier) || tier === 'auto') return undefined;
  const type = TO_BEDROCK[tier as keyof typeof TO_BEDROCK] as ServiceTierType | undefined;
  if (!type) throw unsupported('service_tier', `Converse tiers are default, flex, priority and reserved (scale); ${String(tier)} has no equivalent`);
  return { type };
}

export function openAiServiceTier(tier: ServiceTier | undefined): OpenAiTier | undefined {
  return tier?.type ? FROM_BEDROCK[tier.type] : undefined;
}

const TO_BEDROCK: Record<Exclude<OpenAiTier, 'auto'>, ServiceTierType> = { default: 'default', flex: 'flex', priority: 'priority', fast: 'priority', scale: 'reserved' };
const FROM_BEDROCK: Record<string, OpenAiTier> = { default: 'default', flex: 'flex', priority: 'priority', reserved: 'scale' };
