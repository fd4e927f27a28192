import { RegionInfo } from 'aws-cdk-lib/region-info';
import { describe, expect, it } from 'vitest';
import { CDK_OPT_IN_REGIONS, CDK_REGION_PARTITIONS, regionProblem } from '../../../lib/config/region.js';

/**
 * lib/config/region.ts holds aws-cdk-lib's region table (region → partition) instead of importing
 * aws-cdk-lib/region-info, whose import registers ~8,400 facts (60-130 ms of CPU in every process that loads the
 * config schema). The copy must stay CDK's table: compared here with the installed aws-cdk-lib, both ways, and
 * regionProblem with what it answered when it read RegionInfo itself.
 */
describe("lib/config/region.ts's copy of aws-cdk-lib's region table", () => {
  const cdkRegions = RegionInfo.regions.map((r) => r.name).sort();

  it('has every region aws-cdk-lib knows, with its partition, and no other (after an aws-cdk-lib upgrade: copy the new table)', () => {
    expect(Object.fromEntries(Object.entries(CDK_REGION_PARTITIONS).sort(([a], [b]) => a.localeCompare(b))))
      .toEqual(Object.fromEntries(cdkRegions.map((name) => [name, RegionInfo.get(name).partition])));
  });

  it('regionProblem answers as it did reading RegionInfo, for every known region and for names CDK does not know', () => {
    // regionProblem before the copy (2026-12-04, session 25's lib/config/region.ts), the partition from RegionInfo.
    const REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
    const before = (name: string): string | undefined => {
      const shaped = REGION_NAME.test(name);
      const partition = RegionInfo.get(name).partition ?? (shaped ? (name.includes('-gov-') ? 'aws-us-gov' : name.startsWith('cn-') ? 'aws-cn' : 'aws') : undefined);
      if (partition === 'aws-us-gov') return 'is an AWS GovCloud region (partition aws-us-gov), which Tessera does not support yet: use a region of the aws partition';
      if (partition === 'aws-cn') return 'is an AWS China region (partition aws-cn), which Tessera does not support: use a region of the aws partition';
      if (partition && partition !== 'aws') return `is a region of the ${partition} partition, which Tessera does not support: use a region of the aws partition`;
      if (!shaped) return 'must be an AWS region name such as us-east-1';
      return undefined;
    };
    const unknown = ['xx-east-9', 'us-gov-north-7', 'cn-south-3', 'us-iso-north-4', 'eu-west-10', 'US-EAST-1', 'us-east-1 ', 'useast1', '', 'constructor', '__proto__', 'toString', 'hasOwnProperty'];
    const names = [...cdkRegions, ...unknown];
    expect(names.map((name) => [name, regionProblem(name)])).toEqual(names.map((name) => [name, before(name)]));
    // Both kinds of answer are among them.
    expect(regionProblem('us-east-1')).toBeUndefined();
    expect(regionProblem('us-iso-east-1')).toMatch(/aws-iso partition/);
  });

  it('CDK_OPT_IN_REGIONS is every opt-in region of the aws partition aws-cdk-lib knows, and no other', () => {
    expect([...CDK_OPT_IN_REGIONS].sort()).toEqual(RegionInfo.regions.filter((r) => r.partition === 'aws' && r.isOptInRegion).map((r) => r.name).sort());
  });
});
