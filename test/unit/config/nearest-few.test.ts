import { describe, expect, it } from 'vitest';
import { closeModelNames } from '../../../lambdas/admin/gateway-policy-models.js';
import { nearest, nearestFew } from '../../../lib/config/nearest.js';

describe('nearestFew: the close candidates, closest first (lib/config/nearest.ts)', () => {
  const tiers = ['starter', 'professional', 'enterprise', 'profesionals', 'Professional'];

  it('orders by distance, ties in the candidates\' order, within nearest\'s bound, and never names the word itself', () => {
    // 'profesional': 1 edit from professional and Professional (case-insensitive), 1 from profesionals; starter is far
    expect(nearestFew('profesional', tiers)).toEqual(['professional', 'profesionals', 'Professional']);
    expect(nearestFew('profesional', tiers, { limit: 2 })).toEqual(['professional', 'profesionals']);
    expect(nearestFew('professional', tiers)).toEqual(['Professional', 'profesionals']);
    expect(nearestFew('xyz', tiers)).toEqual([]);
    expect(nearestFew('entreprise', tiers, { maxEdits: 1 })).toEqual([]);
    expect(nearestFew('entreprise', tiers)).toEqual(['enterprise']);
  });

  it('nearest is its first answer', () => {
    for (const word of ['profesional', 'professional', 'Starter', 'xyz', 'entreprise', 'a']) expect(nearest(word, tiers), word).toBe(nearestFew(word, tiers)[0]);
  });
});

describe('closeModelNames (the admin gateway policy\'s "did you mean") through nearestFew', () => {
  const models = [{ id: 'openai/gpt-4o-mini' }, { id: 'openai/gpt-4o' }, { id: 'openai/gpt-4.1-mini' }, { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0' }];
  const known = new Set([...models.map((m) => m.id), 'gpt-4o-mini']);

  it('up to three: the upstream\'s and provider-prefixed ids first, then the nearest by distance (ties in localeCompare order)', () => {
    // Bound 6 edits for 18 letters: 2 to openai/gpt-4o-mini, then openai/gpt-4.1-mini and openai/gpt-4o
    expect(closeModelNames('openai/gpt-4o-mnii', known, models)).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4.1-mini', 'openai/gpt-4o']);
    expect(closeModelNames('openai/gpt-40', known, models)).toEqual(['openai/gpt-4o']);
    expect(closeModelNames('amazon.nova-lite-v1:0', known, models)).toEqual(['bedrock/amazon.nova-lite']);
    expect(closeModelNames('gpt-4o-mini', new Set(models.map((m) => m.id)), models)).toEqual(['openai/gpt-4o-mini']);
    expect(closeModelNames('GPT-4O-MIN', known, models)).toEqual(['gpt-4o-mini']);
    expect(closeModelNames('zzz', known, models)).toEqual([]);
  });
});
