/**
 * Tier shapes: the combinations of the tier settings that change which principals and resources a
 * blueprint creates (isolation, compute mode, training). Every shape the config schema accepts is
 * checked for isolation; a shape it refuses must say why.
 */
import type { TierConfig } from '../../config/schema.js';

export interface TierShape {
  readonly isolation: TierConfig['isolation'];
  readonly compute: TierConfig['compute']['mode'];
  readonly training: boolean;
}

export const ALL_TIER_SHAPES: readonly TierShape[] = (['vpc', 'account'] as const).flatMap((isolation) =>
  (['none', 'shared', 'dedicated'] as const).flatMap((compute) => [true, false].map((training) => ({ isolation, compute, training }))));

/** `vpc-shared-training`: also a valid tier name. */
export function shapeName(s: TierShape): string {
  return `${s.isolation}-${s.compute}-${s.training ? 'training' : 'no-training'}`;
}

export function shapeOf(t: TierConfig): TierShape {
  return { isolation: t.isolation, compute: t.compute.mode, training: t.training.enabled };
}

/**
 * A tier of `shape` built from `base` (a tier of the same config): the shape's settings over the
 * base's, with the compute and training sections taken from `donors` where the base lacks them.
 * `tenantCidrPool` is the new tier's own pool (tier pools must not overlap).
 */
export function tierOfShape(shape: TierShape, base: TierConfig, donors: { dedicated: TierConfig['compute']; shared: TierConfig['compute']; training: TierConfig['training'] }, tenantCidrPool: string): TierConfig {
  const compute = shape.compute === 'none' ? { mode: 'none' as const } : shape.compute === 'shared' ? donors.shared : donors.dedicated;
  const training = shape.training ? donors.training : { ...base.training, enabled: false, maxConcurrentJobs: 0, instanceTypes: [], endpointInstanceTypes: [], baseModels: [] };
  return structuredClone({ ...base, isolation: shape.isolation, compute, training, network: { ...base.network, tenantCidrPool } });
}
