import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { configErrorOf } from '../../support/config-errors.js';
import { tempDir } from '../../support/temp-dirs.js';

const aliases = (modelAliases: Record<string, unknown>) => ({ gateway: { modelAliases } });
/** The config error's line for `gateway.modelAliases.<alias>`, from the key path on (after its source, `context tessera:config: `). */
const lineOf = (message: string, alias: string) => {
  const line = message.split('\n').find((l) => l.startsWith(`  - context tessera:config: gateway.modelAliases.${alias} = `));
  return line?.slice('  - context tessera:config: '.length);
};

describe('gateway.modelAliases (lib/config/model-aliases.ts)', () => {
  it('the embedded default names every openai/* catalog model by its bare OpenAI name (the model unchanged OpenAI code sends), and nothing else', () => {
    const config = loadConfig();
    const openai = config.gateway.models.filter((m) => m.id.startsWith('openai/'));
    expect(openai.map((m) => m.kind ?? 'chat')).toEqual(expect.arrayContaining(['chat', 'embedding', 'moderation', 'image']));
    expect(config.gateway.modelAliases).toEqual(Object.fromEntries(openai.map((m) => [m.id.slice('openai/'.length), m.id])));
    expect(config.gateway.modelAliases).toMatchObject({ 'gpt-5.4-mini': 'openai/gpt-5.4-mini', 'text-embedding-3-small': 'openai/text-embedding-3-small' });
  });

  it('takes aliases of catalog ids, `default` among them, beside the embedded ones', () => {
    const config = loadConfig({ overrides: aliases({ 'gpt-4o-mini': 'openai/gpt-4o-mini', 'claude-haiku': 'bedrock/anthropic.claude-3-5-haiku', default: 'bedrock/amazon.nova-lite', 'text-embedding-3-small': 'openai/text-embedding-3-small' }) });
    expect(config.gateway.modelAliases).toMatchObject({ 'gpt-4o-mini': 'openai/gpt-4o-mini', 'claude-haiku': 'bedrock/anthropic.claude-3-5-haiku', default: 'bedrock/amazon.nova-lite', 'text-embedding-3-small': 'openai/text-embedding-3-small', 'gpt-5.4-mini': 'openai/gpt-5.4-mini' });
  });

  it('a config file replacing gateway.models keeps the embedded aliases of the models it keeps and drops the others (their targets are gone with them)', () => {
    const file = join(tempDir('tessera-aliases-'), 'tessera.config.yaml');
    writeFileSync(file, 'gateway:\n  models:\n    - { id: openai/gpt-5.4-mini, upstream: gpt-5.4-mini, inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, maxOutputTokens: 128000 }\n    - { id: bedrock/amazon.nova-lite, upstream: amazon.nova-lite-v1:0, inputPricePer1k: 0.00006, outputPricePer1k: 0.00024, maxOutputTokens: 5000 }\n');
    expect(loadConfig({ file }).gateway.modelAliases).toEqual({ 'gpt-5.4-mini': 'openai/gpt-5.4-mini' });
  });

  it('null removes one embedded alias, or all of them (modelAliases: null)', () => {
    expect(loadConfig({ overrides: aliases({ 'gpt-4o-mini': null }) }).gateway.modelAliases).not.toHaveProperty('gpt-4o-mini');
    expect(loadConfig({ overrides: aliases({ 'gpt-4o-mini': null }) }).gateway.modelAliases).toHaveProperty('gpt-5.4-mini', 'openai/gpt-5.4-mini');
    expect(loadConfig({ overrides: { gateway: { modelAliases: null } } }).gateway.modelAliases).toBeUndefined();
  });

  it('an alias the config sets itself, whose target its catalog lacks, fails synth naming the key and how to remove it (and the embedded ones)', () => {
    const models = [{ id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini', inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, maxOutputTokens: 128000 }];
    const message = configErrorOf({ gateway: { models, modelAliases: { 'gpt-4o-mini': 'openai/gpt-4o-mini' } } });
    expect(lineOf(message, 'gpt-4o-mini')).toBe('gateway.modelAliases.gpt-4o-mini = "openai/gpt-4o-mini": is not a model of the catalog (gateway.models): use the id of one of gateway.models (openai/gpt-5.4-mini), add the model to gateway.models, or remove the alias (gateway: { modelAliases: { gpt-4o-mini: null } }; modelAliases: null removes every alias, the embedded default\'s bare OpenAI names too)');
    expect(message.split('\n').filter((l) => l.includes('gateway.modelAliases.'))).toHaveLength(1);
  });

  it('a bare OpenAI name in a tier\'s models.allowed fails synth naming the catalog id to write (the embedded alias makes it one)', () => {
    const message = configErrorOf({ tiers: { starter: { models: { allowed: ['gpt-5.4-mini'] } } } });
    expect(message).toContain('tiers.starter.models.allowed[0] = "gpt-5.4-mini": "gpt-5.4-mini" is an alias (gateway.modelAliases.gpt-5.4-mini), and a tier\'s allowed models are catalog ids (calls by alias are checked against the model it names): write "openai/gpt-5.4-mini"');
  });

  it('survives the deployed Lambdas\' read of the config (the JSON the build defines, parsed by PlatformConfigSchema: lambda-deps.ts lambdaConfig)', () => {
    const config = loadConfig({ overrides: aliases({ 'gpt-4o-mini': 'openai/gpt-4o-mini' }) });
    expect(PlatformConfigSchema.parse(JSON.parse(JSON.stringify(config))).gateway.modelAliases).toEqual(loadConfig().gateway.modelAliases);
  });

  it('a target outside the catalog fails synth naming the key path and value; a bare target gets the catalog id with its provider', () => {
    const message = configErrorOf(aliases({ 'gpt-4o-mini': 'gpt-4o-mini-typo', embed: 'text-embedding-3-small' }));
    expect(lineOf(message, 'gpt-4o-mini')).toMatch(/^gateway\.modelAliases\.gpt-4o-mini = "gpt-4o-mini-typo": is not a model of the catalog \(gateway\.models\): use the id of one of gateway\.models \(bedrock\/anthropic\.claude-3-5-haiku, .* and \d+ more\), add the model to gateway\.models, or remove the alias \(gateway: \{ modelAliases: \{ gpt-4o-mini: null \} \}; modelAliases: null removes every alias, the embedded default's bare OpenAI names too\)$/);
    expect(lineOf(message, 'embed')).toBe('gateway.modelAliases.embed = "text-embedding-3-small": names another alias ("text-embedding-3-small"), not a catalog model: aliases do not chain: write "openai/text-embedding-3-small", the model it names');
    expect(lineOf(configErrorOf(aliases({ local: 'default' })), 'local')).toBe('gateway.modelAliases.local = "default": is not a model of the catalog (gateway.models): did you mean "openai-compatible/default"? Catalog ids name their provider');
  });

  it('an alias that is a catalog id fails synth: it must not collide', () => {
    const message = configErrorOf(aliases({ 'openai/gpt-4o-mini': 'bedrock/amazon.nova-lite' }));
    expect(lineOf(message, 'openai/gpt-4o-mini')).toBe('gateway.modelAliases.openai/gpt-4o-mini = "bedrock/amazon.nova-lite": is an alias named as catalog model gateway.models[2] ("openai/gpt-4o-mini"): an alias must not collide with a catalog id (a request for it would reach one or the other); rename the alias or remove it');
  });

  it('an alias of an alias, or of itself, fails synth: aliases name catalog ids, one step', () => {
    const message = configErrorOf(aliases({ mini: 'openai/gpt-4o-mini', small: 'mini', 'gpt-4o-mini': 'gpt-4o-mini' }));
    expect(lineOf(message, 'small')).toBe('gateway.modelAliases.small = "mini": names another alias ("mini"), not a catalog model: aliases do not chain: write "openai/gpt-4o-mini", the model it names');
    expect(lineOf(message, 'gpt-4o-mini')).toBe('gateway.modelAliases.gpt-4o-mini = "gpt-4o-mini": names the alias itself: did you mean "openai/gpt-4o-mini"? Catalog ids name their provider');
    expect(lineOf(message, 'mini')).toBeUndefined();
  });

  it.each([['ft:gpt-4o-mini:acme:x', 'the fine-tuned ids\' form'], ['gpt 4o', 'a space'], ['-mini', 'a leading -'], ['a'.repeat(129), '129 characters']])('refuses the alias name %s (%s), naming the rule', (alias) => {
    expect(configErrorOf(aliases({ [alias]: 'openai/gpt-4o-mini' }))).toContain(`: is not a valid alias: an alias is 1-128 characters of letters, digits and . _ - : / @ +, starting with a letter or digit, and not starting with "ft:" (the fine-tuned models' ids)`);
  });

  it('context tessera:config adds to the file\'s aliases and removes one with null (objects merge key by key)', () => {
    const file = join(tempDir('tessera-aliases-'), 'tessera.config.yaml');
    writeFileSync(file, 'gateway:\n  modelAliases:\n    gpt-4o-mini: openai/gpt-4o-mini\n    mini: openai/gpt-4o-mini\n');
    const config = loadConfig({ file, overrides: aliases({ mini: null, nova: 'bedrock/amazon.nova-lite' }) });
    expect(config.gateway.modelAliases).toEqual({ ...loadConfig().gateway.modelAliases, 'gpt-4o-mini': 'openai/gpt-4o-mini', nova: 'bedrock/amazon.nova-lite' });
  });

  it('an alias in a tier\'s models.allowed fails synth naming the catalog id to write (tiers list catalog ids; a call by alias is checked on its target)', () => {
    const message = configErrorOf({ gateway: { modelAliases: { mini: 'openai/gpt-4o-mini' } }, tiers: { starter: { models: { allowed: ['bedrock/amazon.nova-lite', 'mini'] } } } });
    expect(message).toContain('tiers.starter.models.allowed[1] = "mini": "mini" is an alias (gateway.modelAliases.mini), and a tier\'s allowed models are catalog ids (calls by alias are checked against the model it names): write "openai/gpt-4o-mini"');
  });
});
