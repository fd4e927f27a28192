import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { GpuNodeGroup } from '../../constructs/gpu-node-group.js';
import { KubernetesCluster } from '../../constructs/kubernetes-cluster.js';
import type { GpuNodeGroupConfig } from '../../lib/config/schema.js';
import { configErrorOf } from '../support/config-errors.js';
import { configWith } from '../support/config-with.js';
import { overlaps, parseCidr } from '../../lib/config/cidr.js';
import { EKS_DEFAULT_SERVICE_RANGES } from '../../lib/config/eks-service-range.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { newStack, template } from '../support/synth.js';

function build(gpu: GpuNodeGroupConfig = { amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge', 'p4d.24xlarge'], minSize: 1, maxSize: 5, diskSizeGiB: 200 }, kubernetesVersion = '1.34') {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false, subnetConfiguration: [{ name: 'compute', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  new KubernetesCluster(stack, 'Compute', {
    clusterName: 'tessera-acme', kubernetesVersion, vpc, subnets: { subnetGroupName: 'compute' },
    encryptionKey: new kms.Key(stack, 'TenantKey'),
    systemNodes: { instanceType: 'm7i.xlarge', minSize: 2, maxSize: 6 }, gpu,
    adminRoleArns: ['arn:aws:iam::123456789012:role/tessera-acme-admin'],
  });
  return template(stack);
}

describe('KubernetesCluster', () => {
  it('has a private endpoint only, all five control-plane logs, secrets encrypted with the tenant key, access entries', () => {
    const t = build();
    t.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'tessera-acme',
      Version: '1.34',
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false, EndpointPrivateAccess: true }),
      Logging: { ClusterLogging: { EnabledTypes: [{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }, { Type: 'controllerManager' }, { Type: 'scheduler' }] } },
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantKey'), 'Arn'] } }, Resources: ['secrets'] }],
      AccessConfig: Match.objectLike({ AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false }),
    });
    const [entry] = Object.values(t.findResources('AWS::EKS::AccessEntry', { Properties: { PrincipalArn: 'arn:aws:iam::123456789012:role/tessera-acme-admin' } })) as any[];
    expect(entry.Properties.AccessPolicies).toHaveLength(1);
    expect(entry.Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'cluster' });
    expect(JSON.stringify(entry.Properties.AccessPolicies[0].PolicyArn)).toMatch(/AmazonEKSClusterAdminPolicy/);
  });

  it('pre-creates the control-plane log group, encrypted and retained', () => {
    build().hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/aws/eks/tessera-acme/cluster', KmsKeyId: Match.anyValue(), RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  it('turns on the VPC CNI network policy agent and the Pod Identity agent', () => {
    const t = build();
    t.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: Match.serializedJson(Match.objectLike({ enableNetworkPolicy: 'true' })) });
    t.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
  });

  it('has a GPU node group with an explicit NVIDIA AMI, the nvidia.com/gpu NoSchedule taint, labels, 200 GiB and tier scaling', () => {
    build().hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'BOTTLEROCKET_x86_64_NVIDIA',
      InstanceTypes: ['g5.2xlarge', 'p4d.24xlarge'],
      DiskSize: 200,
      ScalingConfig: { MinSize: 1, MaxSize: 5, DesiredSize: 1 },
      Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }],
      Labels: Match.objectLike({ 'tessera.io/accelerator': 'nvidia', 'nvidia.com/gpu.present': 'true' }),
      CapacityType: 'ON_DEMAND',
    });
  });


  it('takes the P5 family the config offers (aws-eks-v2 does not know it as GPU) on either NVIDIA AMI type, in the config\'s order', () => {
    // GIVEN GPU types of the catalog that aws-cdk-lib 2.276's GPU list lacks (p5, p5e, p5en) beside one it knows
    // WHEN the node group is built, THEN it keeps the NVIDIA AMI type and every type, in priority order
    // (the old code died at synth: "The specified AMI does not match the instance types architecture")
    for (const amiType of ['BOTTLEROCKET_x86_64_NVIDIA', 'AL2023_x86_64_NVIDIA'] as const) {
      build({ amiType, instanceTypes: ['p5.48xlarge', 'p5e.48xlarge', 'p5en.48xlarge', 'g6e.48xlarge'], minSize: 0, maxSize: 2, diskSizeGiB: 500 })
        .hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: amiType, InstanceTypes: ['p5.48xlarge', 'p5e.48xlarge', 'p5en.48xlarge', 'g6e.48xlarge'], DiskSize: 500 });
    }
  });
  it('has an untainted system node group on the standard AL2023 AMI', () => {
    build().hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_x86_64_STANDARD', InstanceTypes: ['m7i.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 6, DesiredSize: 2 }, Taints: Match.absent(),
    });
  });

  it("sets both node groups' Kubernetes version to the cluster's, so they follow a cluster upgrade", () => {
    // GIVEN a cluster of another version than the default
    const t = build(undefined, '1.33');
    // THEN the cluster and every node group carry it (without Version a node group stays behind and
    // EKS refuses the next cluster upgrade)
    t.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.33' });
    const nodegroups = Object.values(t.findResources('AWS::EKS::Nodegroup')) as Array<{ Properties: Record<string, unknown> }>;
    expect(nodegroups).toHaveLength(2);
    for (const ng of nodegroups) {
      expect(ng.Properties.Version).toBe('1.33');
      // nothing pins the AMI: EKS takes the latest AMI of that version
      expect(ng.Properties.ReleaseVersion).toBeUndefined();
      expect(ng.Properties.LaunchTemplate).toBeUndefined();
    }
  });

  it('needs no kubectl Lambda unless asked', () => {
    const t = build();
    t.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('GpuNodeGroup', () => {
  it('refuses min > max with both values in the message', () => {
    const stack = newStack();
    expect(() => new GpuNodeGroup(stack, 'G', {
      cluster: {} as never, kubernetesVersion: '1.34', subnets: {}, amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge'], minSize: 4, maxSize: 2, diskSizeGiB: 200,
    })).toThrow(/minSize \(4\) must not exceed maxSize \(2\)/);
  });
});

describe('node group versions in the synthesized app', () => {
  it("every node group of every template (tiers, failover variants, the platform's shared cluster) has its cluster's version", () => {
    const app = defaultAppTemplates();
    const templates = { platform: app.platform, ...app.blueprints, ...Object.fromEntries(Object.entries(app.failoverBlueprints).map(([k, v]) => [`failover-${k}`, v])) };
    let checked = 0;
    for (const [name, t] of Object.entries(templates)) {
      const clusters = Object.values(t.findResources('AWS::EKS::Cluster')) as Array<{ Properties: { Version: string } }>;
      const nodegroups = Object.values(t.findResources('AWS::EKS::Nodegroup')) as Array<{ Properties: { Version?: string } }>;
      if (nodegroups.length === 0) continue;
      expect(clusters, name).toHaveLength(1);
      for (const ng of nodegroups) expect(ng.Properties.Version, name).toBe(clusters[0].Properties.Version);
      checked += nodegroups.length;
    }
    // every cluster of the default app runs 1.35, the version still in EKS standard support (1.34's ended 2026-12-02)
    for (const t of [app.platform, app.blueprints.enterprise]) {
      for (const c of Object.values(t.findResources('AWS::EKS::Cluster')) as Array<{ Properties: { Version: string } }>) expect(c.Properties.Version).toBe('1.35');
    }
    // enterprise and the platform's shared cluster: a system and a GPU node group each (the default
    // config has no DR tier; a failover blueprint is a TenantStack too, with the same cluster construct)
    expect(checked).toBe(4);
  });
});

describe('the control-plane log group across compute modes (lambdas/lifecycle/retained-log-groups.ts)', () => {
  it('is named and kept when an update removes it, and a shared-compute tier lacks it: Deploy blueprint resolves every named log group of every tier to ask whether a move back to a dedicated tier would create a taken name', async () => {
    const { logGroupNamesOf } = await import('../../lambdas/lifecycle/blueprints.js');
    const { tenantResourceName } = await import('../../lambdas/lifecycle/retained-log-groups.js');
    const app = defaultAppTemplates();
    const names = (tier: string) => logGroupNamesOf(app.blueprints[tier].toJSON() as never);
    const [id] = Object.keys(app.blueprints.enterprise.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/eks/tessera-', { Ref: 'TenantId' }, '/cluster']] } } }));
    expect(id).toMatch(/^ComputeControlPlaneLogs/);
    expect(app.blueprints.enterprise.toJSON().Resources[id].DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(tenantResourceName(names('enterprise')[id], 'acme')).toBe('/aws/eks/tessera-acme/cluster');
    expect(names('professional')).not.toHaveProperty(id);
    // no named log group of any tier is left out of the check for a name form it cannot resolve
    for (const tier of Object.keys(app.blueprints)) {
      expect(Object.entries(names(tier)).filter(([, v]) => tenantResourceName(v, 'acme') === undefined).map(([k]) => k), tier).toEqual([]);
    }
  });
});

describe("Kubernetes Service ranges in the synthesized app", () => {
  it("every cluster leaves serviceIpv4Cidr to EKS, and no pool of a shared-compute tier overlaps EKS's default blocks (the config's check holds for the templates)", () => {
    // GIVEN the default app, WHEN its templates are read
    const app = defaultAppTemplates();
    const config = configWith();
    const clusters = [app.platform, app.blueprints.enterprise].flatMap((t) => Object.values(t.findResources('AWS::EKS::Cluster')) as Array<{ Properties: Record<string, any> }>);
    // THEN the shared and the dedicated cluster set no ServiceIpv4Cidr: EKS takes 10.100.0.0/16 or 172.20.0.0/16, which
    // lib/config/eks-service-range.ts keeps the shared cluster's tenant pools out of (setting it now would replace the clusters)
    expect(clusters).toHaveLength(2);
    for (const c of clusters) expect(c.Properties.KubernetesNetworkConfig?.ServiceIpv4Cidr).toBeUndefined();
    // the shared cluster's VPC is platformNetwork.cidr, and the tiers whose namespaces it runs have pools clear of both blocks
    const vpcs = Object.values(app.platform.findResources('AWS::EC2::VPC')) as Array<{ Properties: { CidrBlock: string } }>;
    expect(vpcs.map((v) => v.Properties.CidrBlock)).toEqual([config.platformNetwork.cidr]);
    const sharedTiers = Object.keys(app.namespaceBlueprints);
    expect(sharedTiers.sort()).toEqual(['professional', 'starter']);
    for (const tier of sharedTiers) {
      const pool = parseCidr(config.tiers[tier].network.tenantCidrPool)!;
      for (const block of EKS_DEFAULT_SERVICE_RANGES) expect(overlaps(pool, parseCidr(block)!), `${tier} ${pool.cidr} vs ${block}`).toBe(false);
    }
  });
});

describe('Kubernetes versions the config allows', () => {
  it('defaults to 1.35, allows 1.33-1.35, refuses 1.36 (past what the installed kubectl v34 layer supports)', () => {
    expect(configWith().sharedCluster.kubernetesVersion).toBe('1.35');
    const enterprise = configWith().tiers.enterprise.compute;
    expect(enterprise.mode === 'dedicated' && enterprise.kubernetesVersion).toBe('1.35');
    for (const v of ['1.33', '1.34', '1.35']) expect(configWith({ sharedCluster: { kubernetesVersion: v } }).sharedCluster.kubernetesVersion).toBe(v);
    expect(configErrorOf({ sharedCluster: { kubernetesVersion: '1.36' } })).toMatch(/sharedCluster\.kubernetesVersion/);
  });
});
