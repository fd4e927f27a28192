import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import type { IsolationReport } from '../../lib/preflight/isolation/check.js';
import { accepted, base, bothWays, cachedBlueprints, checkTiers, expectControlsAllowed, expectNoneAllowed, reportVerifiedAfterAll, shapesConfig } from './support/cross-tenant.js';

// Issue 12, item 4: every principal of tenant A against every sensitive action on tenant B's
// resources, through the IAM policy simulator, for each default tier: 0 allowed, and 100% of the
// positive controls (each principal on its own tenant) allowed. The ids collide by prefix on
// purpose: `acme` is a prefix of `acme-2`. The other tier shapes: cross-tenant-shapes.test.ts.
let loaded: LoadedBlueprints;
let reports: Map<string, IsolationReport[]>;

reportVerifiedAfterAll();
beforeAll(async () => {
  loaded = await cachedBlueprints(shapesConfig);
  reports = await checkTiers(loaded, accepted.filter((a) => a.tierName in base.tiers));
}, 600_000);

describe('cross-tenant isolation of the default tiers, by policy evaluation', () => {
  it('checks every default tier', () => {
    expect([...reports.keys()].sort()).toEqual(Object.keys(base.tiers).sort());
  });

  it('allows no principal of one tenant any sensitive action on the other tenant\'s resources', () => {
    expectNoneAllowed(reports);
  });

  it('allows every positive control: each principal does on its own tenant what it exists for', () => {
    expectControlsAllowed(reports);
  });

  it('finds a planted defect in the tenant-data role (a LeadingKeys condition without its Null check)', async () => {
    const platform = structuredClone(loaded.platform);
    const policy = Object.values(platform.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties).includes('FineTuningOwnJobs'))!;
    const statements = (policy.Properties as { PolicyDocument: { Statement: Array<{ Sid?: string; Action: string | string[]; Condition?: Record<string, unknown> }> } }).PolicyDocument.Statement;
    const jobs = statements.find((st) => st.Sid === 'FineTuningOwnJobs')!;
    delete jobs.Condition!.Null;
    jobs.Action = [jobs.Action].flat().concat('dynamodb:Scan');
    const [r] = await bothWays({ ...loaded, platform }, 'starter');
    expect(r.allowed.map((f) => f.attempt)).toEqual([expect.stringMatching(/^dynamodb:Scan .*tessera-fine-tuning-jobs \(every job\)$/)]);
  });
});
