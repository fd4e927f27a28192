import {
  CloudFormationClient, CreateChangeSetCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CloudWatchLogsServiceException, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { DescribeInsightCommand, EKSClient, EKSServiceException, ListInsightsCommand, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { blueprintObject, credentials, leased, ownedTags, setLifecycleEnv, standingSubnets, state } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/**
 * *Deploy blueprint* compares the template the tenant's stack was deployed from (its recorded tier and
 * blueprint version, from the catalog) with the one it deploys: a Kubernetes downgrade or a jump of more
 * than one minor version, a PostgreSQL major downgrade, or less allocated storage (or more by less than 10%), is refused before the change set. This is what
 * the tier check cannot see: the platform config changed the tenant's own tier's version and the rolling
 * upgrade (or a pinned version) would deploy it.
 */
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const eks = mockStrict(EKSClient, 'eks', EKSServiceException);
const logs = mockStrict(CloudWatchLogsClient, 'logs', CloudWatchLogsServiceException);
/** The tenant's DB instance as DescribeDBInstances answers. */
const instance = (allocatedStorageGiB: number, status = 'available') =>
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'tessera-acme' }).resolves({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme', AllocatedStorage: allocatedStorageGiB, DBInstanceStatus: status }] });
const catalog = (key: string, versions: { kubernetesVersion?: string; engineVersion?: string; allocatedStorageGiB?: number; maxAllocatedStorageGiB?: number; cacheNodes?: number; cacheAutomaticFailover?: boolean; cacheEngineVersion?: string; logGroupNames?: Record<string, unknown> }) =>
  s3.on(GetObjectCommand, { Key: key }).resolves(blueprintObject(undefined, 2, versions));

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, ec2, sts, s3, rds, eks, logs]) m.reset();
  eks.on(ListInsightsCommand).resolves({ insights: [] });
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: ['a', 'b'].map((l, i) => ({ ZoneName: `us-east-1${l}`, ZoneId: `use1-az${i + 1}`, ZoneType: 'availability-zone', State: 'available', RegionName: 'us-east-1' })) });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{
    StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags(), Parameters: [],
  }] });
  const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1b']);
  cfn.on(ListStackResourcesCommand).resolves(resources);
  ec2.on(DescribeSubnetsCommand).resolves(subnets);
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
  cfn.on(ExecuteChangeSetCommand).resolves({});
  records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1b'], availabilityZoneIds: ['use1-az1', 'use1-az2'] }));
});

describe('Deploy blueprint: versions the stack cannot reach', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const upgradeTo = (version: string) => deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: version } }));

  it('refuses a Kubernetes downgrade (the tier\'s version lowered in the config, then a rolling upgrade) before any stack operation', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { kubernetesVersion: '1.34', engineVersion: '17' });
    catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.33', engineVersion: '17' });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/^tier starter at blueprint version 2\.0\.0 \(the stack is on tier starter at 1\.0\.0\): tenant acme's stack cannot take it in place: compute\.kubernetesVersion would go from 1\.34 to 1\.33: EKS cannot downgrade/),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('refuses a jump of two minor versions and a PostgreSQL major downgrade, naming both', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { kubernetesVersion: '1.32', engineVersion: '17' });
    catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.34', engineVersion: '16' });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/1\.32 to 1\.34: EKS updates a cluster one minor version at a time: go through 1\.33 first.*; database\.engineMajorVersion would go from 17 to 16/),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('lets one minor version up and a PostgreSQL major upgrade through to the change set', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { kubernetesVersion: '1.33', engineVersion: '16' });
    catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.34', engineVersion: '17' });
    await upgradeTo('2.0.0');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  describe('when the template moves the cluster\'s Version, its EKS upgrade insights decide (UpdateClusterVersion: InvalidStateException while one is ERROR)', () => {
    beforeEach(() => {
      catalog('blueprints/1.0.0/starter.template.json', { kubernetesVersion: '1.34', engineVersion: '17' });
      catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.35', engineVersion: '17' });
    });

    it('refuses, before any stack operation, naming each upgrade insight in ERROR for the target version and its recommendation', async () => {
      eks.on(ListInsightsCommand, { clusterName: 'tessera-acme' }).resolvesOnce({
        insights: [{ id: 'ins-1', name: 'Deprecated APIs removed in Kubernetes v1.35', category: 'UPGRADE_READINESS', kubernetesVersion: '1.35', insightStatus: { status: 'ERROR', reason: 'Deprecated API usage detected within last 30 days' } }],
        nextToken: 'page-2',
      }).resolvesOnce({
        insights: [{ id: 'ins-2', name: 'Kubelet version skew', category: 'UPGRADE_READINESS', kubernetesVersion: '1.35', insightStatus: { status: 'ERROR', reason: 'Node kubelet versions older than the control plane' } }],
      });
      eks.on(DescribeInsightCommand, { clusterName: 'tessera-acme', id: 'ins-1' }).resolves({ insight: { id: 'ins-1', recommendation: 'Update manifests and API clients to use newer Kubernetes APIs.' } });
      eks.on(DescribeInsightCommand, { clusterName: 'tessera-acme', id: 'ins-2' }).resolves({ insight: { id: 'ins-2', recommendation: 'Upgrade your nodes to the control plane version.' } });
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/compute\.kubernetesVersion would go from 1\.34 to 1\.35: EKS upgrade insight "Deprecated APIs removed in Kubernetes v1\.35" \(ins-1\) is ERROR \(Deprecated API usage detected within last 30 days\).*EKS recommends: Update manifests and API clients to use newer Kubernetes APIs\..*; compute\.kubernetesVersion would go from 1\.34 to 1\.35: EKS upgrade insight "Kubelet version skew" \(ins-2\).*EKS recommends: Upgrade your nodes to the control plane version\./),
      });
      // the filter: upgrade insights, in ERROR, for the version the template moves the cluster to
      expect(eks.commandCalls(ListInsightsCommand).map((c) => c.args[0].input)).toEqual([
        { clusterName: 'tessera-acme', nextToken: undefined, filter: { categories: ['UPGRADE_READINESS'], statuses: ['ERROR'], kubernetesVersions: ['1.35'] } },
        { clusterName: 'tessera-acme', nextToken: 'page-2', filter: { categories: ['UPGRADE_READINESS'], statuses: ['ERROR'], kubernetesVersions: ['1.35'] } },
      ]);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    });

    it('leaves out an insight removed between ListInsights and DescribeInsight (ResourceNotFoundException: a refresh came between), refusing for the others only', async () => {
      eks.on(ListInsightsCommand, { clusterName: 'tessera-acme' }).resolves({
        insights: ['ins-gone', 'ins-2'].map((id) => ({ id, name: `insight ${id}`, category: 'UPGRADE_READINESS', kubernetesVersion: '1.35', insightStatus: { status: 'ERROR', reason: 'r' } })),
      });
      eks.on(DescribeInsightCommand, { clusterName: 'tessera-acme', id: 'ins-gone' }).rejects(new ResourceNotFoundException({ message: 'No insight found for id ins-gone', $metadata: {} }));
      eks.on(DescribeInsightCommand, { clusterName: 'tessera-acme', id: 'ins-2' }).resolves({ insight: { id: 'ins-2', recommendation: 'Upgrade your nodes.' } });
      const refused = await upgradeTo('2.0.0').then(() => undefined, (e: Error) => e);
      expect(refused).toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('EKS upgrade insight "insight ins-2" (ins-2) is ERROR') });
      expect(refused!.message).not.toContain('ins-gone');
      // both gone: nothing blocks, the change set goes on
      eks.on(DescribeInsightCommand, { clusterName: 'tessera-acme', id: 'ins-2' }).rejects(new ResourceNotFoundException({ message: 'No insight found for id ins-2', $metadata: {} }));
      await upgradeTo('2.0.0');
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    });

    it('goes on to the change set when no upgrade insight is in ERROR (WARNING ones do not block), and reads none when the Version stays', async () => {
      await upgradeTo('2.0.0');
      expect(eks.commandCalls(ListInsightsCommand)).toHaveLength(1);
      expect(eks.commandCalls(DescribeInsightCommand)).toHaveLength(0);
      catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.34', engineVersion: '17' });
      await upgradeTo('2.0.0');
      expect(eks.commandCalls(ListInsightsCommand)).toHaveLength(1);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(2);
    });
  });

  it('refuses less allocated storage (RDS cannot shrink an instance\'s storage; CloudFormation would send the lower value), before any stack operation', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100 });
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 20 });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/tenant acme's stack cannot take it in place: database\.allocatedStorageGiB would go from 100 to 20: RDS cannot reduce a DB instance's allocated storage/),
    });
    // What to do, in words (was "choose a tier or blueprint version with a version the tenant can reach").
    await expect(upgradeTo('2.0.0')).rejects.toThrow(/The stack update would fail and roll back; choose a tier or blueprint version whose values the tenant's stack can reach from where it is, or change the tier's keys named above$/);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('refuses more allocated storage by less than 10% (RDS: an increase "must be by at least 10 percent"), before any stack operation', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100 });
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 105 });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/database\.allocatedStorageGiB would go from 100 to 105: RDS refuses a storage increase of less than 10%.*at least 110 GiB/),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('lets the same or more allocated storage through to the change set', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 20 });
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100 });
    instance(20);
    await upgradeTo('2.0.0');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  describe('when the template changes AllocatedStorage, the instance as it is decides (storage autoscaling may have grown it)', () => {
    beforeEach(() => {
      catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100 });
      catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 200 });
    });

    it('refuses a value below what autoscaling grew the instance to (RDS cannot reduce it), before any stack operation', async () => {
      instance(250);
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/database\.allocatedStorageGiB would go from 250 \(the instance now\) to 200: storage autoscaling grew the instance to 250 GiB and RDS cannot reduce it.*at least 275 GiB/),
      });
      expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(1);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    });

    it('refuses a value less than 10% above what the instance has now', async () => {
      instance(190);
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/from 190 \(the instance now\) to 200: RDS refuses a storage increase of less than 10%.*at least 209 GiB/),
      });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    });

    it('refuses any storage change while RDS is still optimizing the last one (status storage-optimization)', async () => {
      instance(120, 'storage-optimization');
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/from 120 \(the instance now\) to 200: RDS is still optimizing the instance's last storage change.*six \(6\) hours/),
      });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    });

    it('goes on to the change set when the instance takes the value (autoscaled a little, or as deployed), or is not there (logged)', async () => {
      instance(120);
      await upgradeTo('2.0.0');
      instance(200);
      await upgradeTo('2.0.0');
      rds.on(DescribeDBInstancesCommand).rejects(new RDSServiceException({ name: 'DBInstanceNotFoundFault', $fault: 'client', $metadata: {}, message: 'DBInstance tessera-acme not found.' }));
      await upgradeTo('2.0.0');
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(3);
    });

    it('refuses a MaxAllocatedStorage less than 10% above the storage autoscaling grew the instance to ("Invalid max storage size"), the same update\'s storage counted', async () => {
      // the tier's ceiling lowered 1000 -> 500 while the instance grew to 480: RDS needs at least 528
      catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 1000 });
      catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500 });
      instance(480);
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/database\.maxAllocatedStorageGiB would go from 480 GiB allocated \(the instance now\) to 500: RDS refuses a maximum storage threshold less than 10% above the current allocated storage.*at least 528/),
      });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
      // 300 GiB now: 500 is enough, on to the change set
      instance(300);
      await upgradeTo('2.0.0');
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    });

    it('reads nothing when the template keeps the stack\'s AllocatedStorage (CloudFormation then sends none)', async () => {
      catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', allocatedStorageGiB: 100 });
      await upgradeTo('2.0.0');
      expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    });
  });

  it('refuses an older cache engine than the stack\'s (a --blueprint-version back past a release that raised it: ElastiCache "can\'t downgrade to an older engine version"), before any stack operation', async () => {
    catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', cacheEngineVersion: '8.1' });
    catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', cacheEngineVersion: '8.0' });
    await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringContaining('cache.engineVersion would go from 8.1 to 8.0: ElastiCache cannot downgrade a cache\'s engine'),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  describe('a named log group the template adds back (a dedicated cluster\'s control-plane logs after a time on shared compute)', () => {
    // as aws-cdk-lib renders constructs/kubernetes-cluster.ts's ControlPlaneLogs
    const controlPlaneLogs = { ComputeControlPlaneLogsBBC709BA: { 'Fn::Join': ['', ['/aws/eks/tessera-', { Ref: 'TenantId' }, '/cluster']] } };
    beforeEach(() => {
      catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', logGroupNames: { DatabaseLogpostgresql534130D9: '/aws/rds/instance/tessera-acme/postgresql' } });
      catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17', logGroupNames: { DatabaseLogpostgresql534130D9: '/aws/rds/instance/tessera-acme/postgresql', ...controlPlaneLogs } });
    });

    it('refuses, before any stack operation, when the account still has the one an earlier update removed and kept (CloudFormation\'s create would fail: AlreadyExists)', async () => {
      logs.on(DescribeLogGroupsCommand, { logGroupNamePrefix: '/aws/eks/tessera-acme/cluster' }).resolves({ logGroups: [{ logGroupName: '/aws/eks/tessera-acme/cluster', retentionInDays: 365 }] });
      await expect(upgradeTo('2.0.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/^tier starter at blueprint version 2\.0\.0 \(the stack is on tier starter at 1\.0\.0\): tenant acme's stack cannot take it: ComputeControlPlaneLogsBBC709BA \(AWS::Logs::LogGroup\) would be created with LogGroupName \/aws\/eks\/tessera-acme\/cluster, which is already in the tenant's account.*aws logs delete-log-group --log-group-name \/aws\/eks\/tessera-acme\/cluster\)/),
      });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
      // only the added one is asked about, by its name
      expect(logs.commandCalls(DescribeLogGroupsCommand).map((c) => c.args[0].input)).toEqual([{ logGroupNamePrefix: '/aws/eks/tessera-acme/cluster' }]);
    });

    it('goes on to the change set when the name is free (only a longer name shares its prefix), and asks nothing when the template adds none', async () => {
      logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/aws/eks/tessera-acme/cluster-old' }] });
      await upgradeTo('2.0.0');
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
      catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17', logGroupNames: { DatabaseLogpostgresql534130D9: '/aws/rds/instance/tessera-acme/postgresql', ...controlPlaneLogs } });
      await upgradeTo('2.0.0');
      expect(logs.commandCalls(DescribeLogGroupsCommand)).toHaveLength(1);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(2);
    });
  });

  describe('a shared tier at a version older than the platform\'s, whose namespace blueprint may predate the pod-bridge boundary', () => {
    // As the namespace blueprints render the bridge role: 0.3.0 without PermissionsBoundary, later ones with TesseraPodBridgeBoundary.
    const namespace = (key: string, boundary: boolean) => s3.on(GetObjectCommand, { Key: key }).resolves({ Body: { transformToString: async () => JSON.stringify({ Resources: {
      NamespaceBridgeRoleF4B347EA: { Type: 'AWS::IAM::Role', Properties: {
        RoleName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-pod-bridge']] },
        ...(boundary ? { PermissionsBoundary: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':policy/TesseraPodBridgeBoundary']] } } : {}),
      } },
    } }) } } as never);
    beforeEach(() => {
      catalog('blueprints/1.0.0/starter.template.json', { engineVersion: '17' });
      catalog('blueprints/0.9.0/starter.template.json', { engineVersion: '17' });
    });

    it('refuses, before any stack operation, a namespace blueprint whose bridge role has no boundary (the platform\'s namespace deployer may not create it or remove the boundary)', async () => {
      namespace('blueprints/0.9.0/starter-namespace.template.json', false);
      await expect(upgradeTo('0.9.0')).rejects.toMatchObject({
        name: 'InvalidRequest',
        message: expect.stringMatching(/^tier starter at blueprint version 0\.9\.0 \(the stack is on tier starter at 1\.0\.0\): tenant acme's namespace blueprint there gives its pod-bridge role tessera-acme-pod-bridge no permissions boundary, .*TesseraPodBridgeBoundary .*DeleteRolePermissionsBoundary is denied.*nothing changed\. Move the tenant to blueprint version 1\.0\.0 \(the platform's\) or a newer one/),
      });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    });

    it('goes on to the change set when that blueprint has the boundary, and reads no namespace blueprint for a version not older than the platform\'s', async () => {
      namespace('blueprints/0.9.0/starter-namespace.template.json', true);
      await upgradeTo('0.9.0');
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
      catalog('blueprints/2.0.0/starter.template.json', { engineVersion: '17' });
      await upgradeTo('2.0.0');
      expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key).filter((k) => k?.includes('namespace'))).toEqual(['blueprints/0.9.0/starter-namespace.template.json']);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(2);
    });
  });

  it('compares nothing when the template the stack came from is not in the catalog (logged), and goes on', async () => {
    s3.on(GetObjectCommand, { Key: 'blueprints/1.0.0/starter.template.json' }).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    catalog('blueprints/2.0.0/starter.template.json', { kubernetesVersion: '1.33', engineVersion: '16' });
    await upgradeTo('2.0.0');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });
});
