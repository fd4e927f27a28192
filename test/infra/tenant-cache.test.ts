import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TenantCache, type TenantCacheProps } from '../../constructs/tenant-cache.js';
import { newStack, template } from '../support/synth.js';

function build(overrides: Partial<TenantCacheProps> = {}) {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  new TenantCache(stack, 'Cache', {
    userIdPrefix: 'tessera-acme', vpc, subnets: { subnetGroupName: 'data' }, encryptionKey: new kms.Key(stack, 'TenantKey'),
    nodeType: 'cache.m7g.large', replicas: 1, multiAz: true, snapshotRetentionDays: 21, port: 6390,
    allowedPeers: { Platform: ec2.Peer.ipv4('10.0.0.0/16') }, logGroupPrefix: '/tessera/acme/cache',
    ...overrides,
  });
  return template(stack);
}

describe('TenantCache', () => {
  it('requires TLS, encrypts at rest with the tenant key, non-default port, Multi-AZ with failover, keeps snapshots', () => {
    build().hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: Match.objectLike({
        Engine: 'valkey', TransitEncryptionEnabled: true, TransitEncryptionMode: 'required', AtRestEncryptionEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantKey'), 'Arn'] }, Port: 6390,
        NumCacheClusters: 2, MultiAZEnabled: true, AutomaticFailoverEnabled: true, SnapshotRetentionLimit: 21,
        UserGroupIds: [{ Ref: Match.stringLikeRegexp('^CacheUserGroup') }],
      }),
      DeletionPolicy: 'Snapshot',
    });
  });

  it('is single-node without failover for a single-AZ tier', () => {
    build({ replicas: 0, multiAz: false }).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 1, MultiAZEnabled: false, AutomaticFailoverEnabled: false,
    });
  });

  it('renders NumCacheClusters, AutomaticFailoverEnabled and EngineVersion as the plain values the lifecycle reads to deploy failover turned on with the first replica in two updates and to refuse an engine downgrade (lambdas/lifecycle/blueprints.ts versionsOf)', async () => {
    const { versionsOf } = await import('../../lambdas/lifecycle/blueprints.js');
    const { versionRefusals } = await import('../../lambdas/lifecycle/version-change.js');
    const single = versionsOf(build({ replicas: 0, multiAz: false }).toJSON() as never);
    const multiAz = versionsOf(build().toJSON() as never);
    expect(single).toEqual({ cacheNodes: 1, cacheAutomaticFailover: false, cacheEngineVersion: '8.0' });
    expect(multiAz).toEqual({ cacheNodes: 2, cacheAutomaticFailover: true, cacheEngineVersion: '8.0' });
    // an older engine than the stack's: refused (ElastiCache has no downgrade)
    expect(versionRefusals(versionsOf(build({ engineVersion: '8.1' }).toJSON() as never), multiAz)).toMatchObject([{ field: 'cache.engineVersion', from: '8.1', to: '8.0' }]);
    // a single-AZ tier's cache to a Multi-AZ tier's: not refused, but deployed in two updates (the interim with failover
    // off first: cache-failover-interim.ts), read from these same rendered values
    const { needsFailoverInterim } = await import('../../lambdas/lifecycle/cache-failover-interim.js');
    expect(versionRefusals(single, multiAz)).toEqual([]);
    expect(needsFailoverInterim(single, multiAz)).toBe(true);
    const replicaOnly = versionsOf(build({ replicas: 1, multiAz: false }).toJSON() as never);
    expect(needsFailoverInterim(single, replicaOnly)).toBe(false);
    expect(needsFailoverInterim(replicaOnly, multiAz)).toBe(false);
    expect(versionRefusals(single, replicaOnly)).toEqual([]);
  });

  it('authenticates with RBAC: the default user is off, the app user uses IAM', () => {
    const t = build();
    t.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all' });
    t.hasResourceProperties('AWS::ElastiCache::User', { UserId: 'tessera-acme-app', UserName: 'tessera-acme-app', AuthenticationMode: { Type: 'iam' } });
  });

  it('sends engine and slow logs to encrypted log groups', () => {
    const t = build();
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/tessera/acme/cache/slow-log', KmsKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      LogDeliveryConfigurations: [Match.objectLike({ LogType: 'engine-log' }), Match.objectLike({ LogType: 'slow-log' })],
    });
  });

  it('refuses Multi-AZ without a replica and the default port', () => {
    expect(() => build({ replicas: 0, multiAz: true })).toThrow(/replicas must be at least 1 when multiAz is true, got 0/);
    expect(() => build({ port: 6379 })).toThrow(/port must not be the default 6379/);
  });
});
