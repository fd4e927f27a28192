import { App, Stage } from 'aws-cdk-lib';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cdkJsonContext } from '../../../lib/cdk-json-context.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfigReport } from '../../../lib/config/load-config.js';
import { PLACEHOLDER_KEYS } from '../../../lib/config/placeholders.js';
import { TenantNamespaceStack } from '../../../lib/tenant-namespace-stack.js';
import { TenantStack } from '../../../lib/tenant-stack.js';
import { tesseraBundle } from '../../support/cli-bundle.js';
import type { CliRun } from '../../support/polite-cli.js';
import { template } from '../../support/synth.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * A new user adding a tier had to write it whole, and the docs showed only enterprise as YAML: for professional they
 * read lib/config/default-config.ts. `tessera config defaults [--tier <name>]` prints the embedded default, or one tier,
 * as YAML a config file takes back unchanged; these cases keep it equal to default-config.ts.
 */
const bundle = await tesseraBundle();
const dir = tempDir('tessera-test-config-defaults-');
const tessera = (...args: string[]) => new Promise<CliRun>((resolve) => {
  execFile(process.execPath, [bundle, ...args], { env: { ...process.env, TESSERA_API_URL: '' } },
    (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
});
const tiers = Object.keys(DEFAULT_CONFIG.tiers);

/** The smallest config file that deploys: docs/configuration.md's block starting `# tessera.config.yaml`. */
function smallestConfig(): string {
  const page = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  return /```yaml\n(# tessera\.config\.yaml\n[\s\S]*?)```/.exec(page)![1]!;
}

describe('tessera config defaults: the embedded default as YAML', () => {
  it('prints the whole default (lib/config/default-config.ts): the YAML is DEFAULT_CONFIG, each placeholder key commented, and a config file of it loads to the default', async () => {
    const run = await tessera('config', 'defaults');
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(parse(run.stdout)).toEqual(DEFAULT_CONFIG);
    expect(run.stdout).toMatch(/^# the embedded default \(lib\/config\/default-config\.ts\), tessera \d+\.\d+\.\d+: tessera config defaults\n/);
    for (const { path } of PLACEHOLDER_KEYS) expect(run.stdout).toMatch(new RegExp(`# PLACEHOLDER: set .*\\n *${path.at(-1)}:`));
    const file = join(dir, 'whole.yaml');
    writeFileSync(file, run.stdout);
    expect(loadConfigReport({ file }).config).toEqual(DEFAULT_CONFIG);
  });

  it.each(tiers)('--tier %s prints that tier alone under tiers.<name>, as default-config.ts has it', async (tier) => {
    const run = await tessera('config', 'defaults', '--tier', tier);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(parse(run.stdout)).toEqual({ tiers: { [tier]: DEFAULT_CONFIG.tiers[tier] } });
    expect(run.stdout).toContain(`tessera config defaults --tier ${tier}\n`);
  });

  it('--json prints the same values as JSON; a tier the default lacks is refused naming the value and the tiers (exit 2)', async () => {
    const json = await tessera('config', 'defaults', '--tier', 'starter', '--json');
    expect([json.code, json.stderr]).toEqual([0, '']);
    expect(JSON.parse(json.stdout)).toEqual({ tiers: { starter: DEFAULT_CONFIG.tiers.starter } });
    const bad = await tessera('config', 'defaults', '--tier', 'profesional');
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toContain(`'profesional' is invalid. Allowed choices are ${tiers.join(', ')}.`);
  });

  it('--tier professional, renamed gold with a pool of its own and added to the smallest deployable file, loads as synth loads it and its blueprints synthesize', async () => {
    // GIVEN the printed tier, renamed and given a tenant CIDR pool of its own, as its comment says
    const printed = (await tessera('config', 'defaults', '--tier', 'professional')).stdout;
    const gold = printed.replace(/^ {2}professional:$/m, '  gold:').replace('tenantCidrPool: 10.80.0.0/12', 'tenantCidrPool: 10.112.0.0/12');
    const file = join(dir, 'tessera.config.yaml');
    writeFileSync(file, `${smallestConfig()}\n${gold}`);
    // WHEN loaded as synth with a config file loads it (placeholders refused)
    const { config, placeholders } = loadConfigReport({ file }, { refusePlaceholders: true });
    // THEN it is professional but for its pool
    expect(placeholders).toEqual([]);
    const professional = DEFAULT_CONFIG.tiers.professional!;
    expect(config.tiers.gold).toEqual({ ...professional, network: { ...professional.network, tenantCidrPool: '10.112.0.0/12' } });
    // AND its blueprints (the tenant stack and, a shared-compute tier, the namespace stack) synthesize as the app builds them
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
    const stage = new Stage(app, 'Blueprints');
    const props = { tierName: 'gold', tier: config.tiers.gold!, config, blueprintVersion: '0.0.0-test' };
    const tenantStack = new TenantStack(stage, 'TesseraTenant-gold', props);
    const namespaceStack = new TenantNamespaceStack(stage, 'TesseraTenantNamespace-gold', props);
    template(tenantStack).hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.m7g.large', MultiAZ: true });
    expect(Object.keys(template(namespaceStack).toJSON().Resources ?? {}).length).toBeGreaterThan(0);
  }, 120_000);
});
