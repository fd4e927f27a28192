import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { deepMerge, dropEmbeddedAliasesWithoutTarget, parseConfig } from '../../lib/config/load-config.js';
import type { PlatformConfig } from '../../lib/config/schema.js';

/**
 * The default config with `overrides` merged in (same semantics as the loader): synth.ts re-exports
 * it; this module imports only the config loader. A test
 * that needs a config but builds no app (the gateway suites, through test/support/gateway-config.ts)
 * imports this one and so never loads aws-cdk-lib and the app's constructs, which synth.ts imports
 * (about 0.9 s of CPU per test file measured in a vitest worker, about 2 s in a tsx worker thread).
 * @throws ConfigError naming each key that does not validate
 */
export function configWith(overrides: unknown = {}): PlatformConfig {
  const merged = deepMerge(structuredClone(DEFAULT_CONFIG), overrides);
  dropEmbeddedAliasesWithoutTarget(merged, [{ name: 'embedded default', value: DEFAULT_CONFIG }, { name: 'test', value: overrides }]);
  return parseConfig(merged, 'test');
}

/**
 * Overrides homing the platform in `region` (with `allowedRegions`, us-east-1 by default among them): `homeRegion`, and
 * the default fine-tuning base models' ECR images moved to that region's registry (the config refuses images of another
 * region than the home one: SageMaker pulls from the job's region).
 */
export function homedIn(region: string, allowedRegions: readonly string[] = [region, 'us-east-1']): Record<string, unknown> {
  const move = (image: string) => image.replace('.us-east-1.', `.${region}.`);
  return {
    homeRegion: region, allowedRegions: [...allowedRegions],
    fineTuning: { baseModels: DEFAULT_CONFIG.fineTuning.baseModels.map((m) => ({ ...m, trainingImage: move(m.trainingImage), servingImage: move(m.servingImage) })) },
  };
}
