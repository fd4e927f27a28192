import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

describe("the shared cluster's Kubernetes Service range (serviceIpv4Cidr left to EKS: 10.100.0.0/16 or 172.20.0.0/16)", () => {
  it.each([
    ['a shared-compute tier pool in 172.20.0.0/16 (the block EKS takes for a platform VPC in 10.0.0.0/8)', 'starter', '172.20.0.0/16', /tiers\.starter\.network\.tenantCidrPool = "172\.20\.0\.0\/16": overlaps 172\.20\.0\.0\/16, where EKS may put the shared cluster's Kubernetes Service addresses .*its tenants run on the shared cluster/],
    ['a shared-compute tier pool holding 10.100.0.0/16', 'professional', '10.96.0.0/12', /tiers\.professional\.network\.tenantCidrPool = "10\.96\.0\.0\/12": overlaps 10\.100\.0\.0\/16, where EKS may put/],
  ])('refuses %s', (_name, tier, pool, expected) => {
    // GIVEN a VPC tier of shared compute whose pool overlaps an EKS default service block (the enterprise pool moved out of the way)
    const overrides = { tiers: { enterprise: { network: { tenantCidrPool: '10.128.0.0/12' } }, [tier]: { network: { tenantCidrPool: pool } } } };
    // WHEN the config loads, THEN it is refused at the pool, naming the range and the fix
    expect(configErrorOf(overrides)).toMatch(expected);
    expect(configErrorOf(overrides)).toMatch(/choose a pool outside 10\.100\.0\.0\/16 and 172\.20\.0\.0\/16/);
  });

  it('refuses a VPC tier of no shared compute too: its tenants keep their range on a change to a shared tier', () => {
    const message = configErrorOf({ tiers: { enterprise: { network: { tenantCidrPool: '10.128.0.0/12' } }, starter: { compute: { mode: 'none' }, network: { tenantCidrPool: '172.20.0.0/18' } } } });
    expect(message).toMatch(/tiers\.starter\.network\.tenantCidrPool = "172\.20\.0\.0\/18": overlaps 172\.20\.0\.0\/16, .*its tenants keep their VPC range when they change to shared-compute tier professional/);
  });

  it('allows an account tier (dedicated clusters) over 10.100.0.0/16, as the default enterprise pool 10.96.0.0/12 is, and any pool without a shared cluster', () => {
    expect(loadConfig().tiers.enterprise.network.tenantCidrPool).toBe('10.96.0.0/12');
    const noShared = { tiers: { starter: null, professional: null, enterprise: { network: { tenantCidrPool: '172.20.0.0/16' } } }, defaultTier: 'enterprise' };
    expect(loadConfig({ overrides: noShared }).tiers.enterprise.network.tenantCidrPool).toBe('172.20.0.0/16');
  });
});
