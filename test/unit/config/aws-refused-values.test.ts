import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { minMaxAllocatedStorageGiB } from '../../../lib/config/schema.js';
import { configErrorOf } from '../../support/config-errors.js';

/**
 * Config values that pass zod's ranges but that AWS refuses at deploy time: each fails synth with
 * the key's path, the value and the rule.
 */
describe('config values AWS would refuse', () => {
  describe('database.maxAllocatedStorageGiB (RDS: at least 10% above allocated storage)', () => {
    it('the floor is allocated storage plus 10%, rounded up to a whole GiB', () => {
      expect(minMaxAllocatedStorageGiB(20)).toBe(22);
      expect(minMaxAllocatedStorageGiB(100)).toBe(110);
      expect(minMaxAllocatedStorageGiB(1000)).toBe(1100); // the RDS User Guide's example
      expect(minMaxAllocatedStorageGiB(25)).toBe(28); // 27.5 → 28
    });

    it.each([
      ['equal to allocated storage', 100, 100],
      ['one GiB under the floor', 100, 109],
      ['below allocated storage', 200, 150],
    ])('rejects a maximum %s', (_name, allocated, max) => {
      const message = configErrorOf({ tiers: { professional: { database: { allocatedStorageGiB: allocated, maxAllocatedStorageGiB: max } } } });
      expect(message).toContain(`tiers.professional.database.maxAllocatedStorageGiB = ${max}: ${max} GiB is less than 10% above allocatedStorageGiB (${allocated})`);
      expect(message).toMatch(/at least 10% greater than the allocated storage \(else "Invalid max storage size"\)/);
      expect(message).toContain(`set it to at least ${minMaxAllocatedStorageGiB(allocated)}`);
    });

    it('accepts the floor itself and the default tiers (20/100, 100/500, 200/2000)', () => {
      expect(() => loadConfig({ overrides: { tiers: { professional: { database: { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 110 } } } } })).not.toThrow();
      const tiers = loadConfig().tiers;
      expect(Object.values(tiers).map((t) => [t.database.allocatedStorageGiB, t.database.maxAllocatedStorageGiB])).toEqual([[20, 100], [100, 500], [200, 2000]]);
    });
  });
});
