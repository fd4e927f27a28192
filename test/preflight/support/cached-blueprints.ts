import { createHash } from 'node:crypto';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LoadedBlueprints } from '../../../lib/preflight/blueprints.js';
import { cachedComputation, cdkEnvironment, inputKey, moduleGraphKey } from '../../support/default-app.js';

type Stored = Omit<LoadedBlueprints, 'config'>;

/** The modules whose import graph computes an entry: this one (how it is stored) and the preflight's loader with the app it builds. */
const ENTRIES = ['test/preflight/support/cached-blueprints.ts', 'lib/preflight/blueprints.ts'];

/** The sources part of the key: the import graph of {@link ENTRIES} (default-app.ts moduleGraphKey), or every source file when it cannot be followed. */
const sourcesKey = () => moduleGraphKey(ENTRIES) ?? `all-${inputKey()}`;

/** {@link sourcesKey} when this process first computed an entry (and imported the loader). */
let loadedSourcesKey: string | undefined;

/**
 * `loadBlueprints(config, blueprintVersion)` (lib/preflight/blueprints.ts: the app built in-process, the blueprints
 * synthesized), through the test synth cache on disk (`.tessera/test-synth-cache/loaded-blueprints-<key>.json`,
 * test/support/default-app.ts `cachedComputation`: the lock, `TESSERA_TEST_CACHE=off`), so the preflight,
 * isolation and cost files that read the same blueprints build them once per state of the sources instead of
 * once per file. The key is SHA-256 over: the modules the computation loads (this file, the loader and the app,
 * followed through their imports as the app snapshots' key is, with every file name and non-module file of the
 * app's directories and the root files), `config`, the version and the `CDK_*` variables. An edit to a module
 * the loader does not load (a CLI command, a lifecycle handler, a test) keeps the entries. The app's code
 * (aws-cdk-lib and every construct) is imported only when the cache has no entry. `config` and each tier's
 * config in the result are the caller's objects, not copies read back from JSON; the templates are fresh copies
 * on each call (callers may change them). `TESSERA_TEST_CACHE=off` builds every time.
 */
export async function cachedBlueprints(config: PlatformConfig, blueprintVersion?: string): Promise<LoadedBlueprints> {
  const sources = sourcesKey();
  const key = createHash('sha256').update(sources).update('\0').update(JSON.stringify({ config, cdkEnv: Object.fromEntries(cdkEnvironment()), ...(blueprintVersion === undefined ? {} : { blueprintVersion }) }))
    .digest('hex').slice(0, 32);
  const stored = await cachedComputation<Stored>(`loaded-blueprints-${key}`, async () => {
    loadedSourcesKey ??= sources;
    const { loadBlueprints } = await import('../../../lib/preflight/blueprints.js');
    return () => {
      const { config: _built, ...rest } = loadBlueprints(config, blueprintVersion);
      return rest;
    };
  }, () => sourcesKey() === loadedSourcesKey && loadedSourcesKey === sources);
  return { ...stored, config, tiers: stored.tiers.map((t) => ({ ...t, tier: config.tiers[t.tierName] })) };
}
