import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { GpuNodeGroup } from '../../constructs/gpu-node-group.js';
import { KubernetesCluster } from '../../constructs/kubernetes-cluster.js';
import { newStack, template } from '../support/synth.js';

function build(gpu = { amiType: 'BOTTLEROCKET_x86_64_NVIDIA' as const, instanceTypes: ['g5.2xlarge', 'p4d.24xlarge'], minSize: 1, maxSize: 5, diskSizeGiB: 200 }) {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false, subnetConfiguration: [{ name: 'compute', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  new KubernetesCluster(stack, 'Compute', {
    clusterName: 'tessera-acme', kubernetesVersion: '1.34', vpc, subnets: { subnetGroupName: 'compute' },
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

  it('has an untainted system node group on the standard AL2023 AMI', () => {
    build().hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_x86_64_STANDARD', InstanceTypes: ['m7i.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 6, DesiredSize: 2 }, Taints: Match.absent(),
    });
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
      cluster: {} as never, subnets: {}, amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge'], minSize: 4, maxSize: 2, diskSizeGiB: 200,
    })).toThrow(/minSize \(4\) must not exceed maxSize \(2\)/);
  });
});
