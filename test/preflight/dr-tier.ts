import { beforeAll, describe, expect, it } from 'vitest';
import { loadBlueprints, type LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { runPreflight, tierPasses, type PreflightReport } from '../../lib/preflight/run.js';
import { configWith } from '../support/synth.js';
import { defaultPreflight } from './support/default-preflight.js';

// A DR tier's primary blueprint adds S3 replication (its role passed to S3) and a Backup
// restore-testing plan: the account baseline's execution role must allow both, or the first
// create of a DR tenant fails. Only the DR tier is checked (the default tiers: preflight.test.ts).
// Registered by describeDrTierPreflight() in preflight.test.ts's process, after the default run:
// most of the IAM simulator's requests are the same as that run's, and memoized.
const DR_TIER = 'professional';
let loaded: LoadedBlueprints;
let report: PreflightReport;

/** Registers the DR tier's preflight suite in the calling test file (preflight.test.ts). */
export function describeDrTierPreflight(): void {
  describe('deploy preflight of a DR tier', () => {
    beforeAll(async () => {
      await defaultPreflight(); // its memoized simulator answers first
      const all = loadBlueprints(configWith({ tiers: { [DR_TIER]: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 24 } } } }));
      loaded = { ...all, tiers: all.tiers.filter((t) => t.tierName === DR_TIER) };
      report = await runPreflight(loaded);
    }, 120_000);

    it('checks the DR tier\'s replication and restore testing, and denies no handler permission', () => {
      const tenant = report.tiers[0].blueprints.find((b) => b.blueprint === `${DR_TIER}.template.json`)!;
      expect(tenant.checks.some((c) => c.action === 'iam:PassRole' && /dr-replication/.test(c.resource))).toBe(true);
      expect(tenant.checks.some((c) => c.action === 'backup:CreateRestoreTestingPlan')).toBe(true);
      const denied = report.tiers.flatMap((t) => t.blueprints.flatMap((b) => b.checks.filter((c) => c.outcome === 'denied').map((c) => `${b.blueprint} ${c.logicalId} ${c.action} on ${c.resource}`)));
      expect(denied).toEqual([]);
      expect(tierPasses(report.tiers[0])).toBe(true);
    });

    it('checks the DR blueprint too, as the execution role in the DR region, and denies nothing there', () => {
      const dr = report.tiers[0].blueprints.find((b) => b.blueprint === `${DR_TIER}-dr.template.json`)!;
      expect(dr.counts.evaluated).toBeGreaterThan(0);
      expect(dr.checks.some((c) => c.resource.includes(':us-west-2:'))).toBe(true);
      expect(dr.checks.filter((c) => c.outcome === 'denied')).toEqual([]);
    });
  });
}
