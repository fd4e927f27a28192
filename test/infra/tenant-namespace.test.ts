import { Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, it } from 'vitest';
import { TenantNamespace } from '../../constructs/tenant-namespace.js';
import { newStack, template } from '../support/synth.js';

function build() {
  const stack = newStack();
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Shared', {
    clusterName: 'tessera-shared',
    kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', { serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl' }),
  });
  new TenantNamespace(stack, 'Namespace', {
    cluster, tenantId: 'acme', tierName: 'starter', quota: { cpu: 4, memoryGiB: 16, gpus: 0, pods: 50 },
    workloadRoleArn: 'arn:aws:iam::333333333333:role/tessera-acme-workload',
    tenantVpcCidr: '10.64.4.0/22', dataPorts: [5438, 6390], platformVpcCidr: '10.0.0.0/16',
  });
  return template(stack);
}

describe('TenantNamespace', () => {
  it('applies the namespace objects through the shared cluster kubectl provider, with no Lambda of its own', () => {
    const t = build();
    t.resourceCountIs('AWS::Lambda::Function', 0);
    const [manifest] = Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource')) as any[];
    expect(manifest.Properties.ServiceToken).toBe('arn:aws:lambda:us-east-1:123456789012:function:kubectl');
    expect(manifest.Properties.ClusterName).toBe('tessera-shared');
    const kinds = (JSON.parse(manifest.Properties.Manifest) as Array<{ kind: string }>).map((m) => m.kind);
    expect(kinds).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy']);
  });

  it('chains Pod Identity through a bridge role only the tenant namespace can use, to the tenant workload role', () => {
    const t = build();
    t.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'tessera-shared', Namespace: 'tenant-acme', ServiceAccount: 'workload',
      TargetRoleArn: 'arn:aws:iam::333333333333:role/tessera-acme-workload',
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'tessera-acme-pod-bridge',
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: Match.objectLike({ StringEquals: Match.objectLike({ 'aws:RequestTag/kubernetes-namespace': 'tenant-acme' }) }),
        })],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: 'arn:aws:iam::333333333333:role/tessera-acme-workload',
        Condition: { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': 'tenant-acme' } },
      })] },
    });
  });
});
