import {
  CloudFormationClient, CloudFormationServiceException, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EKSClient, EKSServiceException, ListInsightsCommand } from '@aws-sdk/client-eks';
import { DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mockStrict } from '../../support/strict-mock.js';
import { loseLease, records, registryMock } from './registry-mock.js';
import { blueprintObject, credentials, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, standingSubnets, state } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/**
 * The cache's first replica and its automatic failover in two stack updates (lambdas/lifecycle/cache-failover-interim.ts):
 * CloudFormation fails the one update that does both ("Replication group must have at least one read replica to enable
 * autofailover": aws-cloudformation/cloudformation-coverage-roadmap issue 383), so *Deploy blueprint* deploys the target
 * template with the group's failover and Multi-AZ off first, answers `interim: true`, and once *Check blueprint* found that
 * update complete (the tenant recorded on the target) deploys the target itself; both through the change-set guard.
 */
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const eks = mockStrict(EKSClient, 'eks', EKSServiceException);

const STACK_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1';
const INTERIM_KEY = 'blueprints/2.0.0/interim/starter.cache-failover-off.template.json';
const catalog = (key: string, versions: { engineVersion?: string; cacheNodes?: number; cacheAutomaticFailover?: boolean }) =>
  s3.on(GetObjectCommand, { Key: key }).resolves(blueprintObject(undefined, 2, versions));
const standing = (status: StackStatus) => cfn.on(DescribeStacksCommand).resolves({ Stacks: [{
  StackName: 'tessera-acme', StackId: STACK_ID, StackStatus: status, CreationTime: new Date(), Tags: ownedTags(), Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }],
}] });
/** The history entry of the running execution. */
const entry = () => records.get('acme')!.executions.find((e) => e.executionArn === EXECUTION_ARN)!;

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, ec2, sts, s3, rds, eks]) m.reset();
  eks.on(ListInsightsCommand).resolves({ insights: [] });
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme', AllocatedStorage: 20, DBInstanceStatus: 'available' }] });
  ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: ['a', 'b'].map((l, i) => ({ ZoneName: `us-east-1${l}`, ZoneId: `use1-az${i + 1}`, ZoneType: 'availability-zone', State: 'available', RegionName: 'us-east-1' })) });
  standing('UPDATE_COMPLETE');
  const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1b']);
  cfn.on(ListStackResourcesCommand).resolves(resources);
  ec2.on(DescribeSubnetsCommand).resolves(subnets);
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
  cfn.on(ExecuteChangeSetCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  // the tier's cache.replicasPerShard 0 -> 1 and multiAz false -> true, then a rolling upgrade to 2.0.0
  catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 1, cacheAutomaticFailover: false });
  catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 2, cacheAutomaticFailover: true });
  records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1b'], availabilityZoneIds: ['use1-az1', 'use1-az2'] }));
});

describe('cache failover interim: what needs it and what it deploys', async () => {
  // (imported once the registry is mocked: the module records in it)
  const { failoverOffTemplate, interimTemplateKey, needsFailoverInterim } = await import('../../../lambdas/lifecycle/cache-failover-interim.js');
  it('is needed only from one node with failover off to two or more with failover on', () => {
    expect(needsFailoverInterim({ cacheNodes: 1, cacheAutomaticFailover: false }, { cacheNodes: 2, cacheAutomaticFailover: true })).toBe(true);
    expect(needsFailoverInterim({ cacheNodes: 1, cacheAutomaticFailover: false }, { cacheNodes: 2, cacheAutomaticFailover: false })).toBe(false);
    expect(needsFailoverInterim({ cacheNodes: 2, cacheAutomaticFailover: false }, { cacheNodes: 2, cacheAutomaticFailover: true })).toBe(false);
    expect(needsFailoverInterim({ cacheNodes: 2, cacheAutomaticFailover: true }, { cacheNodes: 3, cacheAutomaticFailover: true })).toBe(false);
    expect(needsFailoverInterim({}, { cacheNodes: 2, cacheAutomaticFailover: true })).toBe(false);
  });

  it('the interim template is the target with the replication group\'s AutomaticFailoverEnabled and MultiAZEnabled false, nothing else changed; a template without one is an error', () => {
    const target = { Parameters: { TenantId: { Type: 'String' } }, Resources: {
      Cache: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { NumCacheClusters: 2, AutomaticFailoverEnabled: true, MultiAZEnabled: true, CacheNodeType: 'cache.m7g.large' } },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'b' } },
    } };
    expect(JSON.parse(failoverOffTemplate(JSON.stringify(target)))).toEqual({ ...target, Resources: {
      ...target.Resources, Cache: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { NumCacheClusters: 2, AutomaticFailoverEnabled: false, MultiAZEnabled: false, CacheNodeType: 'cache.m7g.large' } },
    } });
    expect(() => failoverOffTemplate(JSON.stringify({ Resources: { Bucket: target.Resources.Bucket } }))).toThrow(/no AWS::ElastiCache::ReplicationGroup/);
    expect(interimTemplateKey('professional', '1.4.0')).toBe('blueprints/1.4.0/interim/professional.cache-failover-off.template.json');
  });
});

describe('Deploy blueprint: the cache\'s first replica and its failover in two updates', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;
  const upgradeTo = (version: string) => deploy(state('acme', { blueprint: 'tenant', kind: 'upgrade', change: { blueprintVersion: version } }));

  it('first deploys the target template with the cache\'s failover off (written to the catalog beside it), recorded as the interim; once that is complete, the target itself, each through its own change set; a cache that has its replica, or keeps failover off, takes one update', async () => {
    // the replica already there, or failover kept off: the target at once
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 2, cacheAutomaticFailover: false });
    await expect(upgradeTo('2.0.0')).resolves.not.toHaveProperty('interim');
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 1, cacheAutomaticFailover: false });
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 2, cacheAutomaticFailover: false });
    await expect(upgradeTo('2.0.0')).resolves.not.toHaveProperty('interim');
    expect(cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input.TemplateURL)).toEqual([
      'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/2.0.0/starter.template.json',
      'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/2.0.0/starter.template.json',
    ]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(entry().interimDeploy).toBeUndefined();
    cfn.resetHistory();
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', cacheNodes: 2, cacheAutomaticFailover: true });

    // from one node with failover off to two with failover on: two updates
    const first = await upgradeTo('2.0.0');
    expect(first).toMatchObject({ stackName: 'tessera-acme', interim: true, changeSet: { outcome: 'EXECUTED' } });
    // the interim template: the published 2.0.0 template, failover and Multi-AZ off, the two nodes kept
    const put = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(put).toHaveLength(1);
    expect(put[0]).toMatchObject({ Bucket: 'tessera-blueprints', Key: INTERIM_KEY, ContentType: 'application/json' });
    expect(JSON.parse(put[0].Body as string).Resources.CacheReplicationGroupBFE59FF3.Properties).toEqual({ NumCacheClusters: 2, AutomaticFailoverEnabled: false, MultiAZEnabled: false });
    const [interimSet] = cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input);
    expect(interimSet).toMatchObject({ StackName: 'tessera-acme', ChangeSetType: 'UPDATE', TemplateURL: `https://tessera-blueprints.s3.us-east-1.amazonaws.com/${INTERIM_KEY}` });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    expect(entry().interimDeploy).toMatchObject({
      what: 'cache-failover-off', stack: 'tessera-acme', tier: 'starter', blueprintVersion: '2.0.0', templateUrl: interimSet.TemplateURL, changeSetName: interimSet.ChangeSetName,
      why: expect.stringMatching(/first replica.*"Replication group must have at least one read replica to enable autofailover"/),
    });
    expect(entry().interimDeploy?.completedAt).toBeUndefined();

    // Check blueprint finds the interim update complete and records what the stack now is (its outputs' version)
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{
      StackName: 'tessera-acme', StackId: STACK_ID, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags(),
      Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }], Outputs: [{ OutputKey: 'BlueprintVersion', OutputValue: '2.0.0' }],
    }] });
    await expect(check(state('acme', { blueprint: 'tenant', kind: 'upgrade', change: { blueprintVersion: '2.0.0' } }))).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(records.get('acme')!.blueprintVersion).toBe('2.0.0');

    // Deploy blueprint again (the workflow's Choice on `$.deploy.interim`): the target template, failover on
    const second = await upgradeTo('2.0.0');
    expect(second).not.toHaveProperty('interim');
    const sets = cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input);
    expect(sets).toHaveLength(2);
    expect(sets[1]).toMatchObject({ StackName: 'tessera-acme', TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/2.0.0/starter.template.json' });
    expect(sets[1].ChangeSetName).not.toBe(sets[0].ChangeSetName);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(2);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(entry().interimDeploy).toMatchObject({ changeSetName: interimSet.ChangeSetName, completedAt: expect.any(String) });
  });

  // s39g: Step Functions does not stop a running Lambda; an upgrade whose lease was ended (the status-change rule) while its
  // interim change set was inspected must not execute it (stack-operation-lease.ts holdLeaseFor, beforeExecute).
  it('an upgrade that lost its lease while the interim change set was inspected does not execute it: deleted, TenantBusy naming it', async () => {
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).callsFake(() => {
      loseLease('acme');
      return { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] };
    });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/ExecuteChangeSet of change set \S+ on stack tessera-acme \(the interim update: the cache's failover off\) not started: the execution lost the tenant's lease/) });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input.ChangeSetName)).toEqual([cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.ChangeSetName]);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0', lease: undefined });
  });

  it('a retry that finds its interim update running answers interim again, with no second change set', async () => {
    await upgradeTo('2.0.0');
    const [{ args: [{ input: interimSet }] }] = cfn.commandCalls(CreateChangeSetCommand);
    standing('UPDATE_IN_PROGRESS');
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [{
      StackName: 'tessera-acme', StackId: STACK_ID, EventId: 'e1', LogicalResourceId: 'tessera-acme', PhysicalResourceId: STACK_ID, ResourceType: 'AWS::CloudFormation::Stack',
      ResourceStatus: 'UPDATE_IN_PROGRESS', Timestamp: new Date(), ClientRequestToken: interimSet.ClientToken,
    }] });
    await expect(upgradeTo('2.0.0')).resolves.toMatchObject({ interim: true });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('a failed interim update fails Check blueprint saying it was the interim and the target was not deployed', async () => {
    await upgradeTo('2.0.0');
    standing('UPDATE_ROLLBACK_COMPLETE');
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [{
      StackName: 'tessera-acme', StackId: STACK_ID, EventId: 'e1', LogicalResourceId: 'CacheReplicationGroupBFE59FF3', ResourceType: 'AWS::ElastiCache::ReplicationGroup',
      ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'Insufficient cache cluster capacity', Timestamp: new Date(),
    }] });
    await expect(check(state('acme', { blueprint: 'tenant', kind: 'upgrade', change: { blueprintVersion: '2.0.0' } }))).rejects.toMatchObject({
      name: 'StackFailed',
      message: expect.stringMatching(/^stack tessera-acme is UPDATE_ROLLBACK_COMPLETE: .*Insufficient cache cluster capacity.*\(the interim update, before the target template: cache-failover-off, https:\/\/tessera-blueprints\.s3\.us-east-1\.amazonaws\.com\/blueprints\/2\.0\.0\/interim\/starter\.cache-failover-off\.template\.json; the target template was not deployed\)$/),
    });
    expect(entry().interimDeploy?.completedAt).toBeUndefined();
  });
});
