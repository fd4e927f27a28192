import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfigReport } from '../../../lib/config/load-config.js';
import { tempDir } from '../../support/temp-dirs.js';

/** The YAML block of docs/configuration.md (*Configuration*) that starts with `# tessera.config.yaml`. */
function readmeConfigExample(): string {
  const page = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const block = /```yaml\n(# tessera\.config\.yaml\n[\s\S]*?)```/.exec(page);
  if (!block) throw new Error('docs/configuration.md has no ```yaml block starting with "# tessera.config.yaml"');
  return block[1]!;
}

describe('docs/configuration.md: the smallest config file that deploys', () => {
  it('loads as a deployment loads a file: valid, and no placeholder of the embedded default left', () => {
    // GIVEN the page's example written to a file
    const file = join(tempDir('tessera-test-readme-config-'), 'tessera.config.yaml');
    writeFileSync(file, readmeConfigExample());
    // WHEN loaded with placeholders refused, as synth with a config file does
    const { config, placeholders } = loadConfigReport({ file }, { refusePlaceholders: true });
    // THEN it passes, and what it set is what the file says
    expect(placeholders).toEqual([]);
    expect(config.platformAccountId).toBe('444455556666');
    expect(config.fineTuning.baseModels.map((m) => m.id)).toEqual(['llama-3.1-8b-instruct']);
  });
});

/** The YAML block of docs/configuration.md that starts with `# tiers.gold`: a whole tier of one's own. */
function tierExample(): string {
  const page = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const block = /```yaml\n(# tiers\.gold[^\n]*\n[\s\S]*?)```/.exec(page);
  if (!block) throw new Error('docs/configuration.md has no ```yaml block starting with "# tiers.gold"');
  return block[1]!;
}

describe('docs/configuration.md: a tier of one\'s own, written whole', () => {
  it('loads with the smallest file as a deployment loads it, and is the default\'s enterprise tier but for its CIDR pool', () => {
    const file = join(tempDir('tessera-test-readme-tier-'), 'tessera.config.yaml');
    writeFileSync(file, `${readmeConfigExample()}\n${tierExample()}`);
    const { config, placeholders } = loadConfigReport({ file }, { refusePlaceholders: true });
    expect(placeholders).toEqual([]);
    const enterprise = DEFAULT_CONFIG.tiers.enterprise!;
    expect(config.tiers.gold).toEqual({ ...enterprise, network: { ...enterprise.network, tenantCidrPool: '10.112.0.0/12' } });
  });
});
