import { describe, expect, it } from 'vitest';
import { openAiServiceTier, serviceTier } from '../../../../lambdas/inference/providers/bedrock/service-tier.js';
import { body, expectUnsupported } from './refusal.js';

describe('service tiers', () => {
  it('maps OpenAI’s tiers to Converse’s, auto to Bedrock’s default', () => {
    expect(serviceTier(body({ service_tier: 'flex' }))).toEqual({ type: 'flex' });
    expect(serviceTier(body({ service_tier: 'priority' }))).toEqual({ type: 'priority' });
    expect(serviceTier(body({ service_tier: 'default' }))).toEqual({ type: 'default' });
    expect(serviceTier(body({ service_tier: 'scale' }))).toEqual({ type: 'reserved' });
    // openai 7's `fast`: OpenAI serves it as priority (its answer says 'priority'), so does Converse.
    expect(serviceTier(body({ service_tier: 'fast' }))).toEqual({ type: 'priority' });
    expect(serviceTier(body({ service_tier: 'auto' }))).toBeUndefined();
    expect(serviceTier(body())).toBeUndefined();
    expectUnsupported(() => serviceTier(body({ service_tier: 'turbo' })), 'service_tier');
    // Responses' `ultrafast` is no chat tier, and Converse has no such tier either.
    expectUnsupported(() => serviceTier(body({ service_tier: 'ultrafast' as 'auto' })), 'service_tier');
  });

  it('names the tier Bedrock used in OpenAI’s words', () => {
    expect(openAiServiceTier({ type: 'reserved' })).toBe('scale');
    expect(openAiServiceTier({ type: 'flex' })).toBe('flex');
    expect(openAiServiceTier(undefined)).toBeUndefined();
  });
});
