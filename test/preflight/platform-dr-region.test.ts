import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { formatReport, outcomeLine } from '../../lib/preflight/format.js';
import { preflightPasses, runPreflight } from '../../lib/preflight/run.js';
import { RegionOfferings } from '../../lib/preflight/region-offerings.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';
import { tempDir } from '../support/temp-dirs.js';

// offered-in-region over TesseraPlatformDr (lib/platform-dr-stack.ts), deployed in platformDisasterRecovery.region: the
// preflight checked TesseraPlatform in homeRegion and every tier's DR stacks, not the platform's own DR stack, whose
// failed deploy stops TesseraPlatform too (it depends on it). cfn-lint 1.58.0's data has every type of the stack in
// every Region, so the failing case plants a cfn-lint data directory whose us-west-2 lacks AWS::Backup::BackupVault
// (the registry's DR vault): the real file minus that one type.
const DR_REGION = 'us-west-2';
const real = new RegionOfferings();
let loaded: LoadedBlueprints;
let planted: RegionOfferings;
let plantedDir: string;

beforeAll(async () => {
  loaded = await cachedBlueprints(configWith({ platformDisasterRecovery: { region: DR_REGION } }));
  plantedDir = tempDir('tessera-cfnlint-');
  const providers = join(plantedDir, 'data', 'schemas', 'providers');
  mkdirSync(providers, { recursive: true });
  const types = JSON.parse(readFileSync(join(real.cfnLintDir, 'data', 'schemas', 'providers', `${DR_REGION}.json`), 'utf8')) as Record<string, unknown>;
  delete types['AWS::Backup::BackupVault'];
  writeFileSync(join(providers, `${DR_REGION}.json`), JSON.stringify(types));
  // TesseraPlatform in homeRegion is read from the same data: the real us-east-1.
  writeFileSync(join(providers, 'us-east-1.json'), readFileSync(join(real.cfnLintDir, 'data', 'schemas', 'providers', 'us-east-1.json')));
  symlinkSync(join(real.cfnLintDir, 'data', 'schemas', 'extensions'), join(plantedDir, 'data', 'schemas', 'extensions')); // instance types: the real data
  planted = new RegionOfferings(plantedDir);
}, 120_000);

afterAll(() => rmSync(plantedDir, { recursive: true, force: true }));

describe('offered-in-region over TesseraPlatformDr', () => {
  it('passes a DR Region that has every resource type of the stack, and reports the stack', async () => {
    expect(Object.values(loaded.platformDr!.Resources).map((r) => r.Type).sort()).toEqual(expect.arrayContaining(['AWS::Backup::BackupVault', 'AWS::KMS::Key', 'AWS::S3::Bucket']));
    const report = await runPreflight(loaded, { onlyTiers: [], offerings: real });
    expect(report.platformDr).toEqual({ region: DR_REGION, violations: [] });
    expect(preflightPasses(report)).toBe(true);
    expect(formatReport(report)).toContain(`== platform DR stack (TesseraPlatformDr in platformDisasterRecovery.region ${DR_REGION}): rule pass offered-in-region`);
  });

  it('fails the preflight for a DR Region lacking a resource type of the stack, naming the resource, the Region and platformDisasterRecovery.region', async () => {
    const report = await runPreflight(loaded, { onlyTiers: [], offerings: planted });
    expect(report.platform.violations).toEqual([]); // homeRegion has everything: only the DR stack fails
    expect(report.platformDr).toEqual({
      region: DR_REGION,
      violations: [expect.stringMatching(/^TesseraPlatformDr \(us-west-2\): DrVault\w+ \(AWS::Backup::BackupVault\) resource type AWS::Backup::BackupVault does not exist in us-west-2: choose a Region that has it \(platformDisasterRecovery\.region\)$/)],
    });
    expect(preflightPasses(report)).toBe(false);
    expect(outcomeLine(report)).toBe('preflight: FAIL (exit 1): platform DR stack offered-in-region — see the FAIL lines above');
  });

  it('reports no DR stack without platformDisasterRecovery', async () => {
    const none = await cachedBlueprints(configWith());
    expect(none.platformDr).toBeUndefined();
    expect((await runPreflight(none, { onlyTiers: [], offerings: real })).platformDr).toBeUndefined();
  });
});
