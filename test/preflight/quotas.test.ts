import { describe, expect, it } from 'vitest';
import { configWith } from '../support/config-with.js';
import { computeVcpuNeeds, maxTenantsPerAccount, QUOTA_RULES, quotaNeeds, type CfnTemplate } from '../../lib/quotas.js';

/** A two-AZ tenant VPC with two NAT gateways, like the professional blueprint's network. */
const template: CfnTemplate = {
  Resources: {
    Vpc: { Type: 'AWS::EC2::VPC' },
    Igw: { Type: 'AWS::EC2::InternetGateway' },
    SubnetA: { Type: 'AWS::EC2::Subnet', Properties: { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } } },
    SubnetB: { Type: 'AWS::EC2::Subnet', Properties: { AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] } } },
    EipA: { Type: 'AWS::EC2::EIP' },
    EipB: { Type: 'AWS::EC2::EIP' },
    NatA: { Type: 'AWS::EC2::NatGateway', Properties: { SubnetId: { Ref: 'SubnetA' } } },
    NatB: { Type: 'AWS::EC2::NatGateway', Properties: { SubnetId: { Ref: 'SubnetB' } } },
    S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { ServiceName: 's3' } },
    Sts: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: [{ Ref: 'SubnetA' }, { Ref: 'SubnetB' }] } },
    Cache: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { NumNodeGroups: 1, ReplicasPerNodeGroup: 2 } },
  },
};

const need = (key: string) => quotaNeeds(template).find((n) => n.rule.key === key)?.need;

describe('quota rules', () => {
  it('count what a tenant template consumes', () => {
    expect(need('vpcs-per-region')).toBe(1);
    expect(need('elastic-ips-per-region')).toBe(2);
    expect(need('nat-gateways-per-az')).toBe(1);
    expect(need('gateway-endpoints-per-region')).toBe(1);
    expect(need('interface-endpoints-per-vpc')).toBe(1);
    expect(need('elasticache-nodes-per-region')).toBe(3);
    expect(need('network-interfaces-per-region')).toBe(2 + 2 + 3);
  });

  it('count the ElastiCache subnet group, user group and users each tenant\'s cache adds, against their defaults', () => {
    const cache: CfnTemplate = {
      Resources: {
        SubnetGroup: { Type: 'AWS::ElastiCache::SubnetGroup' },
        DefaultUser: { Type: 'AWS::ElastiCache::User' },
        AppUser: { Type: 'AWS::ElastiCache::User' },
        UserGroup: { Type: 'AWS::ElastiCache::UserGroup' },
      },
    };
    const rows = quotaNeeds(cache).filter((n) => n.need > 0 && n.rule.serviceCode === 'elasticache').map((n) => [n.rule.key, n.need, n.rule.defaultValue, n.rule.quotaCode]);
    expect(rows).toEqual([
      ['elasticache-subnet-groups-per-region', 1, 300, undefined],
      ['elasticache-user-groups-per-region', 1, 200, undefined],
      ['elasticache-users-per-region', 2, 2000, undefined],
    ]);
    // 2,000 users / 2 per tenant: 1,000 tenants; user groups bind first (200).
    expect(maxTenantsPerAccount(cache)).toMatchObject({ tenants: 200, binding: { key: 'elasticache-user-groups-per-region' } });
  });

  it('find the binding quota, counting the default VPC against VPCs per Region', () => {
    // EIPs: 5 / 2 = 2; VPCs: (5 - 1) / 1 = 4; internet gateways: (5 - 1) / 1 = 4.
    expect(maxTenantsPerAccount(template)).toMatchObject({ tenants: 2, binding: { key: 'elastic-ips-per-region' } });
    const noNat: CfnTemplate = { Resources: { Vpc: { Type: 'AWS::EC2::VPC' } } };
    expect(maxTenantsPerAccount(noNat)).toMatchObject({ tenants: 4, binding: { key: 'vpcs-per-region' } });
  });

  it('give a code only together with an AWS source, and unique keys', () => {
    for (const rule of QUOTA_RULES) {
      expect(rule.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      if (rule.quotaCode) expect(rule.quotaCode).toMatch(/^L-[0-9A-F]{8}$/);
    }
    expect(new Set(QUOTA_RULES.map((r) => r.key)).size).toBe(QUOTA_RULES.length);
  });
});

describe('computeVcpuNeeds', () => {
  it('splits a dedicated tier over the Standard, G and P quotas', () => {
    const needs = computeVcpuNeeds(configWith().tiers.enterprise);
    const g = needs.find((n) => n.quotaCode === 'L-DB2E81BA');
    const p = needs.find((n) => n.quotaCode === 'L-417A185B');
    // g5.2xlarge = 8 vCPUs, g5.4xlarge = 16; p4d.24xlarge = 96; GPU maxSize 5.
    expect(g).toMatchObject({ oneNodeVcpus: 8, vcpus: 5 * 16 });
    expect(p).toMatchObject({ oneNodeVcpus: 96, vcpus: 5 * 96 });
    expect(needs.find((n) => n.quotaCode === 'L-1216C47A')?.oneNodeVcpus).toBeGreaterThan(0);
  });

  it('is empty for tiers without nodes in the tenant account', () => {
    expect(computeVcpuNeeds(configWith().tiers.starter)).toEqual([]);
  });

  it('asks no GPU quota of a dedicated tier without GPUs (gpu.maxSize 0), so its onboarding never waits for one', () => {
    const needs = computeVcpuNeeds(configWith({ tiers: { enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } } } } }).tiers.enterprise);
    expect(needs.map((n) => n.quotaCode)).toEqual(['L-1216C47A']);
  });
});
