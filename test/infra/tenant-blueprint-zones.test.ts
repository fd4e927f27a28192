import { describe, expect, it } from 'vitest';
import { zoneCountOf } from '../../lambdas/lifecycle/blueprints.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { configWith } from '../support/synth.js';

// No resource of a tier blueprint (or its failover, DR or namespace variant) takes Fn::GetAZs: the tenant VPC's
// zones are the AvailabilityZones parameter (a hostile review's check; it held).
describe('tenant blueprints and Fn::GetAZs', () => {
  it('tier, failover and DR blueprints take no Fn::GetAZs', () => {
    const t = defaultAppTemplates() as unknown as Record<string, Record<string, { toJSON(): unknown }>>;
    const found: string[] = [];
    for (const group of ['blueprints', 'failoverBlueprints', 'drBlueprints', 'namespaceBlueprints']) {
      for (const [tier, tpl] of Object.entries(t[group] ?? {})) {
        const json = tpl.toJSON() as { Resources: Record<string, { Type: string }> };
        for (const [id, r] of Object.entries(json.Resources)) if (JSON.stringify(r).includes('Fn::GetAZs')) found.push(`${group}/${tier}: ${id} (${r.Type})`);
      }
    }
    expect(Object.keys(t.blueprints ?? {}).length).toBeGreaterThan(0);
    expect(found).toEqual([]);
  }, 600_000);

  // Deploy blueprint checks a tenant's zone count against the template it deploys (zoneCountOf: its subnets'
  // Fn::Select indices on the zone list), not today's config: for the templates synthesized now, that is the tier's maxAzs.
  it('zoneCountOf reads each tier blueprint\'s zone count: the tier\'s network.maxAzs', () => {
    const { blueprints } = defaultAppTemplates();
    const tiers = configWith().tiers;
    const counts = Object.fromEntries(Object.entries(blueprints).map(([tier, tpl]) => [tier, zoneCountOf(tpl.toJSON() as never)]));
    expect(counts).toEqual(Object.fromEntries(Object.keys(blueprints).map((tier) => [tier, tiers[tier].network.maxAzs])));
  }, 600_000);

  // The default config has no tier with disaster recovery: the failover and DR variants are synthesized with one
  // (the overrides of dr-app.test.ts, so the synthesized app is shared with it: test/support/default-app.ts).
  it('with a DR tier: its failover blueprint takes no Fn::GetAZs and spans the tier\'s maxAzs, its DR blueprint has no subnet', async () => {
    const built = await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' }, tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } });
    const failover = built.failoverBlueprints.enterprise.toJSON() as { Resources: Record<string, { Type: string }> };
    const dr = built.drBlueprints.enterprise.toJSON() as { Resources: Record<string, { Type: string }> };
    expect(JSON.stringify(failover)).not.toContain('Fn::GetAZs');
    expect(zoneCountOf(failover as never)).toBe(configWith().tiers.enterprise.network.maxAzs);
    expect(Object.values(dr.Resources).filter((r) => r.Type === 'AWS::EC2::Subnet')).toEqual([]);
  }, 600_000);
});
