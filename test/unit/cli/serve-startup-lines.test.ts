import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { aliasesLine, configLine, registryLabel } from '../../../lib/cli/serve-setup.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * s25: `tessera serve` reads a config only with --config, and did not say which it read nor the aliases it serves: a user
 * who wrote gateway.modelAliases in ./tessera.config.yaml and ran serve without --config got 404s and no hint.
 */
describe('configLine: which config serve read', () => {
  it('--config: the file, resolved against the directory serve runs in', () => {
    const cwd = tempDir('serve-config-line-');
    expect(configLine('tessera.config.yaml', cwd)).toBe(`config: ${join(cwd, 'tessera.config.yaml')}`);
    expect(configLine('/etc/tessera/prod.yaml', cwd)).toBe('config: /etc/tessera/prod.yaml');
  });

  it('no --config: the embedded default, and that ./tessera.config.yaml is not read when the directory has one', () => {
    const cwd = tempDir('serve-config-line-');
    expect(configLine(undefined, cwd)).toBe('config: embedded default (--config <file> to use one)');
    writeFileSync(join(cwd, 'tessera.config.yaml'), 'gateway: { modelAliases: { gpt-4o-mini: openai/gpt-4o-mini } }\n');
    expect(configLine(undefined, cwd)).toBe('config: embedded default (--config <file> to use one; ./tessera.config.yaml is not read without it)');
  });
});

describe('aliasesLine: the aliases serve answers', () => {
  /** A config (validated with the embedded aliases beside) whose aliases are `modelAliases` alone. */
  const withAliases = (modelAliases: Record<string, string>) => {
    const config = loadConfig({ overrides: { gateway: { modelAliases } } });
    return { ...config, gateway: { ...config.gateway, modelAliases } };
  };

  it('the embedded default: the bare OpenAI names of its openai/* models', () => {
    expect(aliasesLine(loadConfig(), ['openai'])).toBe('aliases: gpt-4o-mini -> openai/gpt-4o-mini, gpt-5.4-mini -> openai/gpt-5.4-mini, text-embedding-3-small -> openai/text-embedding-3-small, omni-moderation-latest -> openai/omni-moderation-latest, gpt-image-2.5-flare -> openai/gpt-image-2.5-flare');
  });

  it('none in the config (modelAliases: null removes the embedded ones): says so and names the key', () => {
    expect(aliasesLine(loadConfig({ overrides: { gateway: { modelAliases: null } } }), ['openai'])).toBe('aliases: none (gateway.modelAliases)');
  });

  it('alias -> target in config order; a target whose provider serve does not reach is marked (not served)', () => {
    const config = withAliases({ 'gpt-4o-mini': 'openai/gpt-4o-mini', 'claude-haiku': 'bedrock/anthropic.claude-3-5-haiku', default: 'openai-compatible/default' });
    expect(aliasesLine(config, ['openai', 'huggingface', 'openai-compatible']))
      .toBe('aliases: gpt-4o-mini -> openai/gpt-4o-mini, claude-haiku -> bedrock/anthropic.claude-3-5-haiku (not served), default -> openai-compatible/default');
  });

  it('cut after 8 (or max) with the count of the others', () => {
    const aliases = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i + 1}`, 'openai/gpt-4o-mini']));
    const line = aliasesLine(withAliases(aliases), ['openai']);
    expect(line).toBe(`aliases: ${Array.from({ length: 8 }, (_, i) => `m${i + 1} -> openai/gpt-4o-mini`).join(', ')} and 2 more (GET /v1/models lists a tenant's)`);
    expect(aliasesLine(withAliases(aliases), ['openai'], 2)).toBe("aliases: m1 -> openai/gpt-4o-mini, m2 -> openai/gpt-4o-mini and 8 more (GET /v1/models lists a tenant's)");
    expect(aliasesLine(withAliases({ m1: 'openai/gpt-4o-mini', m2: 'openai/gpt-4o-mini' }), ['openai'], 2)).not.toMatch(/more/);
  });
});

/**
 * s41k: a --tenants-file entry with `status: SUSPENDED` (how a user suspends a tenant on serve, to see a batch end
 * `failed`) started serve with `embedded registry: acme:enterprise`, as an ACTIVE one: the status showed only as the 403
 * `tenant_not_active` of every call.
 */
describe('registryLabel: the embedded registry on the first line', () => {
  it('names each tenant by id and tier, and marks a status the gateway does not serve', () => {
    expect(registryLabel([
      { tenantId: 'acme', tier: 'enterprise', status: 'ACTIVE' },
      { tenantId: 'globex', tier: 'starter', status: 'UPDATING' },
      { tenantId: 'initech', tier: 'starter', status: 'SUSPENDED' },
      { tenantId: 'hooli', tier: 'starter', status: 'OFFBOARDING' },
    ])).toBe('embedded registry: acme:enterprise, globex:starter, initech:starter (SUSPENDED, refused), hooli:starter (OFFBOARDING, refused)');
  });

  it('says so when there are none', () => {
    expect(registryLabel([])).toBe('embedded registry: no tenants');
  });
});
