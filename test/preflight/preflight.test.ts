import { beforeAll, describe, expect, it } from 'vitest';
import { loadBlueprints, type LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { countsLine } from '../../lib/preflight/format.js';
import { runPreflight, type PreflightReport } from '../../lib/preflight/run.js';
import { configWith } from '../support/synth.js';

// The CI gate of issue 9: every tier of the default config deploys as far as the offline
// preflight can tell. One blueprint build and one preflight run for the whole file.
let loaded: LoadedBlueprints;
let report: PreflightReport;

beforeAll(async () => {
  loaded = loadBlueprints(configWith());
  report = await runPreflight(loaded);
  for (const t of report.tiers) console.log(countsLine(t));
}, 120_000);

describe('deploy preflight of the default config', () => {
  it('finds the account baseline with the blueprint execution role', () => {
    expect(report.baselinePresent).toBe(true);
    for (const t of report.tiers) expect(t.blockers).toEqual([]);
  });

  it('checks every tier and every namespace blueprint', () => {
    expect(report.tiers.map((t) => t.tierName).sort()).toEqual(Object.keys(loaded.config.tiers).sort());
    for (const t of report.tiers) {
      const tier = loaded.config.tiers[t.tierName];
      expect(t.blueprints.length).toBe(tier.compute.mode === 'shared' ? 2 : 1);
      for (const b of t.blueprints) expect(b.counts.evaluated).toBeGreaterThan(0);
    }
  });

  it('denies no handler permission of any blueprint', () => {
    const denied = report.tiers.flatMap((t) => t.blueprints.flatMap((b) => b.checks.filter((c) => c.outcome === 'denied').map((c) => `${b.blueprint} ${c.logicalId} ${c.handler} ${c.action} on ${c.resource}: ${c.detail}`)));
    expect(denied).toEqual([]);
  });

  it('lets no physical name collide across tenants in one account and region, and every name fits its schema', () => {
    for (const t of report.tiers) {
      expect(t.collisions, t.tierName).toEqual([]);
      expect(t.nameViolations, t.tierName).toEqual([]);
    }
  });

  it('passes every service rule', () => {
    const failed = report.tiers.flatMap((t) => t.rules.filter((r) => r.violations.length).map((r) => `${t.tierName} ${r.rule.id}: ${r.violations.join('; ')}`));
    expect(failed).toEqual([]);
  });

  it('admits every deploy-time service role through the SCPs in force', () => {
    for (const t of report.tiers) {
      expect(t.serviceRoles.denials, t.tierName).toEqual([]);
      expect(t.serviceRoles.roles).toBeGreaterThan(0);
    }
  });

  it('retains data stores with RetainExceptOnCreate or Snapshot, never plain Retain (decision 5)', () => {
    for (const t of report.tiers) {
      expect(t.retained.length).toBeGreaterThan(0);
      expect(t.retained.filter((r) => r.deletionPolicy === 'Retain').map((r) => r.logicalId), t.tierName).toEqual([]);
    }
  });

  it('prints a quota table per tier and names what binds the shared workload account', () => {
    for (const t of report.tiers) {
      console.log(t.quotas.markdown);
      expect(t.quotas.markdown).toContain('VPCs per Region');
      if (t.isolation === 'vpc') expect(t.quotas.binding).toBeDefined();
    }
  });
});
