import { afterAll, expect } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { parseConfig } from '../../../lib/config/load-config.js';
import type { PlatformConfig, TierConfig } from '../../../lib/config/schema.js';
import type { LoadedBlueprints } from '../../../lib/preflight/blueprints.js';
import { checkIsolation, type IsolationReport } from '../../../lib/preflight/isolation/check.js';
import { tierEstates } from '../../../lib/preflight/isolation/tier-estates.js';
import { ALL_TIER_SHAPES, shapeName, shapeOf, tierOfShape, type TierShape } from '../../../lib/preflight/isolation/tier-shapes.js';
import { verified } from '../../../lib/preflight/simulation-runner.js';
import { saveDiskAnswers, useDiskAnswers } from '../../preflight/support/answer-store.js';
import { cachedBlueprints } from '../../preflight/support/cached-blueprints.js';

export { cachedBlueprints };

// The cross-tenant isolation check of issue 12, item 4, shared by the files that run it
// (cross-tenant-tiers.test.ts: the default tiers; cross-tenant-shapes.test.ts: every other tier
// shape the schema accepts, and the shapes it refuses). Split in two so the check spreads over
// vitest's workers instead of one file bounding the suite's wall time.

/** The ids collide by prefix on purpose: `acme` is a prefix of `acme-2`. */
export const TENANTS = ['acme', 'acme-2'];
const POOLS = ['10.112.0.0/12', '10.128.0.0/12', '10.144.0.0/12', '10.160.0.0/12', '10.176.0.0/12', '10.192.0.0/12', '10.208.0.0/12', '10.224.0.0/12'];

export const base = parseConfig(structuredClone(DEFAULT_CONFIG), 'default');
const donors = { dedicated: base.tiers.enterprise.compute, shared: base.tiers.professional.compute, training: base.tiers.professional.training };
const baseOf = (s: TierShape) => (s.isolation === 'vpc' ? base.tiers.professional : base.tiers.enterprise);

/** Each shape: refused by the schema (with its message), covered by a default tier, or added as a tier of its own. */
export const accepted: Array<{ shape: TierShape; tierName: string }> = [];
export const refused: Array<{ shape: TierShape; message: string }> = [];
const extraTiers: Record<string, TierConfig> = {};
for (const shape of ALL_TIER_SHAPES) {
  const tier = tierOfShape(shape, baseOf(shape), donors, POOLS[Object.keys(extraTiers).length]);
  try {
    parseConfig({ ...structuredClone(DEFAULT_CONFIG), tiers: { ...DEFAULT_CONFIG.tiers, [shapeName(shape)]: tier } }, 'shape');
  } catch (e) {
    refused.push({ shape, message: (e as Error).message });
    continue;
  }
  const covered = Object.entries(base.tiers).find(([, t]) => shapeName(shapeOf(t)) === shapeName(shape));
  if (covered) accepted.push({ shape, tierName: covered[0] });
  else {
    extraTiers[shapeName(shape)] = tier;
    accepted.push({ shape, tierName: shapeName(shape) });
  }
}

/** The default config plus a tier of each accepted shape no default tier has. */
export const shapesConfig: PlatformConfig = parseConfig({ ...structuredClone(DEFAULT_CONFIG), tiers: { ...DEFAULT_CONFIG.tiers, ...extraTiers } }, 'isolation shapes');

/** Tenant A against B and B against A, for one tier of `l`. */
export async function bothWays(l: LoadedBlueprints, tierName: string): Promise<IsolationReport[]> {
  const tier = l.tiers.find((t) => t.tierName === tierName)!;
  const [a, b] = tierEstates(l, tier, TENANTS);
  const opts = { organizationId: l.config.organization.organizationId };
  return [await checkIsolation(a, b, opts), await checkIsolation(b, a, opts)];
}

export function line(tierName: string, shape: TierShape, r: IsolationReport): string {
  return `${tierName.padEnd(26)} ${shapeName(shape).padEnd(26)} ${r.attacker} → ${r.victim}: ${r.principals} principals, ${r.attempts} cross-tenant attempts, ${r.allowed.length} allowed, ${r.errors.length} not evaluable, ${r.guardedByPassRole.length} service assumptions closed by iam:PassRole; positive controls ${r.controls - r.controlsDenied.length}/${r.controls} allowed`;
}

/** Both directions for each of `tiers`, printed as they come; then the service assumptions closed by iam:PassRole. */
export async function checkTiers(l: LoadedBlueprints, tiers: Array<{ shape: TierShape; tierName: string }>): Promise<Map<string, IsolationReport[]>> {
  // The simulator's answers of the last run for the requests that did not change (test/preflight/support/answer-store.ts).
  useDiskAnswers();
  const reports = new Map<string, IsolationReport[]>();
  for (const { shape, tierName } of tiers) {
    const rs = await bothWays(l, tierName);
    reports.set(tierName, rs);
    for (const r of rs) console.log(line(tierName, shape, r));
  }
  saveDiskAnswers();
  const guarded = new Set([...reports.values()].flat().flatMap((r) => r.guardedByPassRole).map((g) => `${g.principal.split(' ')[0]}: ${g.result}`));
  for (const g of guarded) console.log(`closed by iam:PassRole, not by the trust policy: ${g}`);
  return reports;
}

/**
 * With TESSERA_IAM_SIMULATE_VERIFY=1, every request went through both the fast path and the library's
 * runSimulation (lib/preflight/simulation-runner.ts), and any difference threw: says how many, after
 * the calling file. Registered by each file (this module is evaluated once per worker process, and
 * its files share workers: vitest.config.ts project `shared`); the counts are the process's so far.
 */
export function reportVerifiedAfterAll(): void {
  afterAll(() => {
    if (process.env.TESSERA_IAM_SIMULATE_VERIFY === '1') console.log(`simulation-runner: ${verified.compared} requests compared with runSimulation in this process so far, ${verified.fastPath} of them on the fast path, all identical`);
  });
}

/** No cross-tenant request allowed and none the simulator could not evaluate, in either direction, for each tier. */
export function expectNoneAllowed(reports: Map<string, IsolationReport[]>): void {
  expect(reports.size).toBeGreaterThan(0);
  for (const [tierName, rs] of reports) {
    for (const r of rs) {
      expect.soft(r.allowed, `${tierName} ${r.attacker} → ${r.victim}`).toEqual([]);
      expect.soft(r.errors, `${tierName}: requests the simulator could not evaluate`).toEqual([]);
      expect(r.attempts).toBeGreaterThan(1000);
    }
  }
}

/** Every role has a positive control and every control is allowed, for each tier. */
export function expectControlsAllowed(reports: Map<string, IsolationReport[]>): void {
  expect(reports.size).toBeGreaterThan(0);
  for (const [tierName, rs] of reports) {
    for (const r of rs) {
      expect.soft(r.missingControls, `${tierName}: roles without a positive control`).toEqual([]);
      expect.soft(r.controlsDenied, `${tierName} ${r.attacker}`).toEqual([]);
      expect(r.controls).toBeGreaterThan(r.principals);
    }
  }
}
