import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/cli-error.js';
import { loadPriceTable, parsePriceTable, PRICE_KEYS, shippedRegions } from '../../lib/cost/price-table.js';
import { configWith } from '../support/config-with.js';

const shipped = () => JSON.parse(readFileSync(new URL('../../lib/cost/prices-us-east-1.json', import.meta.url), 'utf8'));

describe('price table', () => {
  it('ships us-east-1, dated, every figure with an AWS pricing page as source and a basis', () => {
    // GIVEN / WHEN
    const table = loadPriceTable('us-east-1');
    // THEN
    expect(shippedRegions()).toContain('us-east-1');
    expect(table).toMatchObject({ region: 'us-east-1', currency: 'USD', hoursPerMonth: 730 });
    expect(table.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const entries = [...Object.values(table.prices), ...Object.values(table.rdsPostgresInstanceHour), ...Object.values(table.ec2InstanceHour),
      ...Object.values(table.elastiCacheNodeHour).flatMap((e) => Object.values(e))];
    for (const e of entries) expect(e.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
    expect(Object.keys(table.prices).sort()).toEqual([...PRICE_KEYS].sort());
  });

  it('prices every instance class, node type and instance type of the default config', () => {
    // GIVEN the default tiers and shared cluster
    const config = configWith();
    const table = loadPriceTable(config.homeRegion);
    // THEN each is in the table, so `npm run cost` never stops on the default config
    for (const tier of Object.values(config.tiers)) {
      expect(table.rdsPostgresInstanceHour).toHaveProperty([tier.database.instanceClass]);
      expect(table.elastiCacheNodeHour.valkey).toHaveProperty([tier.cache.nodeType]);
      if (tier.compute.mode === 'dedicated') {
        for (const t of [tier.compute.systemNodes.instanceType, ...tier.compute.gpu.instanceTypes]) expect(table.ec2InstanceHour).toHaveProperty([t]);
      }
    }
    for (const t of [config.sharedCluster.systemNodes.instanceType, ...config.sharedCluster.gpu.instanceTypes]) expect(table.ec2InstanceHour).toHaveProperty([t]);
  });

  it('refuses a region it has no prices for, naming the region and the shipped ones', () => {
    expect(() => loadPriceTable('eu-west-1')).toThrow(CliError);
    expect(() => loadPriceTable('eu-west-1')).toThrow(/no price table for region "eu-west-1": prices ship for us-east-1 only/);
    expect(() => loadPriceTable('../../etc')).toThrow(/no price table for region/);
  });

  it('refuses a table missing a price, or with a negative one, naming the key path', () => {
    // GIVEN the shipped table without the NAT gateway hour
    const missing = shipped();
    delete missing.prices['vpc.natGatewayHour'];
    expect(() => parsePriceTable(missing, 'test.json')).toThrow(/price table test\.json is invalid: prices\.vpc\.natGatewayHour/);
    // GIVEN a negative instance price
    const negative = shipped();
    negative.ec2InstanceHour['m7i.xlarge'].usd = -1;
    expect(() => parsePriceTable(negative, 'test.json')).toThrow(/ec2InstanceHour\.m7i\.xlarge\.usd/);
    // GIVEN an undated table
    const undated = shipped();
    undated.retrieved = 'last week';
    expect(() => parsePriceTable(undated, 'test.json')).toThrow(/retrieved/);
  });
});
