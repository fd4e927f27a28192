import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

/** The config error's line for `tiers.starter.models.allowed[<i>]`, from the key path on (after its source). */
const lineOf = (message: string, i: number) => {
  const line = message.split('\n').find((l) => l.startsWith(`  - context tessera:config: tiers.starter.models.allowed[${i}] = `));
  return line?.slice('  - context tessera:config: '.length);
};
const allowed = (ids: string[], providers?: string[]) => ({ tiers: { starter: { models: { allowed: ids, ...(providers ? { providers } : {}) } } } });

// Until session 44 a tier's models.allowed took any string: a typo allowed nothing, and synth said nothing (the gateway
// serves the catalog models the list names: lambdas/inference/policy.ts resolvePolicy).
describe('a tier\'s models.allowed names catalog models of its providers (lib/config/tier-models.ts)', () => {
  it('a misspelt catalog id fails synth naming the key, the value and the id it is nearest', () => {
    const message = configErrorOf(allowed(['openai/gpt-5.4-mini', 'openai/gpt-4o-mni']));
    expect(lineOf(message, 1)).toMatch(/^tiers\.starter\.models\.allowed\[1\] = "openai\/gpt-4o-mni": is not a model of the catalog \(gateway\.models\), so it allows nothing: did you mean "openai\/gpt-4o-mini"\? write a catalog id of the tier's providers \(.+\), "\*" for every model of the tier's providers, or add the model to gateway\.models$/);
    expect(lineOf(message, 0)).toBeUndefined();
  });

  it('an id nothing is near fails synth too, listing the catalog ids of the tier\'s providers to write', () => {
    expect(lineOf(configErrorOf(allowed(['gpt-9'])), 0)).toMatch(/^tiers\.starter\.models\.allowed\[0\] = "gpt-9": is not a model of the catalog \(gateway\.models\), so it allows nothing: write a catalog id of the tier's providers \(bedrock\/.*and \d+ more\), "\*"/);
    const line = lineOf(configErrorOf(allowed(['gpt-9'], ['openai-compatible'])), 0);
    expect(line).toContain('write a catalog id of the tier\'s providers (openai-compatible/default, openai-compatible/embeddings), "*"');
  });

  it('a catalog id of a provider the tier does not list fails synth naming the provider and the tier\'s providers', () => {
    expect(lineOf(configErrorOf(allowed(['openai/gpt-5.4-mini'], ['bedrock'])), 0)).toBe('tiers.starter.models.allowed[0] = "openai/gpt-5.4-mini": is a model of provider openai, which tiers.starter.models.providers (bedrock) does not list, so it allows nothing: add openai to the providers or remove the model');
  });

  it('takes "*" and catalog ids of the tier\'s providers', () => {
    expect(loadConfig({ overrides: allowed(['openai/gpt-5.4-mini', 'bedrock/amazon.nova-lite']) }).tiers.starter.models.allowed).toEqual(['openai/gpt-5.4-mini', 'bedrock/amazon.nova-lite']);
    expect(loadConfig({ overrides: allowed(['*']) }).tiers.starter.models.allowed).toEqual(['*']);
  });
});
