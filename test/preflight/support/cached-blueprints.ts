import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LoadedBlueprints } from '../../../lib/preflight/blueprints.js';
import { cachedJsonAsync } from '../../integration/support/disk-cache.js';

type Stored = Omit<LoadedBlueprints, 'config'>;

/** This file's own text: the computation below is part of what a cached entry depends on. */
const OWN_CODE = createHash('sha256').update(readFileSync(new URL(import.meta.url), 'utf8')).digest('hex').slice(0, 16);

/** The `CDK_*` variables (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION, ...): the app may read them, so they are part of the key. */
const cdkEnvironment = (): Record<string, string | undefined> => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CDK_')).sort());

/**
 * `loadBlueprints(config, blueprintVersion)` (lib/preflight/blueprints.ts: the app built in-process, the blueprints
 * synthesized), through the test synth cache on disk (test/integration/support/disk-cache.ts: keyed
 * on every source file the app reads at synth, on `config`, the version, the `CDK_*` variables and this file's own text), so the preflight, isolation and cost
 * files that read the same blueprints build them once per state of the sources instead of once
 * per file. The app's code (aws-cdk-lib and every construct) is imported only when the cache has
 * no entry. `config` and each tier's config in the result are the caller's objects, not copies
 * read back from JSON; the templates are fresh copies on each call (callers may change them).
 * `TESSERA_TEST_CACHE=off` builds every time.
 */
export async function cachedBlueprints(config: PlatformConfig, blueprintVersion?: string): Promise<LoadedBlueprints> {
  const stored = await cachedJsonAsync<Stored>('preflight-blueprints', { config, code: OWN_CODE, cdkEnv: cdkEnvironment(), ...(blueprintVersion === undefined ? {} : { blueprintVersion }) }, async () => {
    const { loadBlueprints } = await import('../../../lib/preflight/blueprints.js');
    const { config: _built, ...rest } = loadBlueprints(config, blueprintVersion);
    return rest;
  });
  return { ...stored, config, tiers: stored.tiers.map((t) => ({ ...t, tier: config.tiers[t.tierName] })) };
}
