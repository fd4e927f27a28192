import { Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, it } from 'vitest';
import { TenantNamespace } from '../../constructs/tenant-namespace.js';
import { newStack, template } from '../support/synth.js';

const NAMESPACE_KUBECTL = 'arn:aws:lambda:us-east-1:123456789012:function:namespace-kubectl';

function build() {
  const stack = newStack();
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Shared', {
    clusterName: 'tessera-shared',
    kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', { serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl' }),
  });
  new TenantNamespace(stack, 'Namespace', {
    cluster, namespaceKubectlServiceToken: NAMESPACE_KUBECTL, tenantId: 'acme', tierName: 'starter', quota: { cpu: 4, memoryGiB: 16, gpus: 0, pods: 50 },
    workloadRoleArn: 'arn:aws:iam::333333333333:role/tessera-acme-workload',
    tenantVpcCidr: '10.64.4.0/22', dataPorts: [5438, 6390], platformVpcCidr: '10.0.0.0/16',
  });
  return template(stack);
}

describe('TenantNamespace', () => {
  it('applies the Namespace, ResourceQuota and LimitRange through the shared cluster kubectl provider, unpruned, with no Lambda of its own', () => {
    const t = build();
    t.resourceCountIs('AWS::Lambda::Function', 0);
    const manifests = Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource')) as any[];
    const shared = manifests.filter((m) => m.Properties.ServiceToken === 'arn:aws:lambda:us-east-1:123456789012:function:kubectl');
    expect(shared).toHaveLength(1);
    expect(shared[0].Properties.ClusterName).toBe('tessera-shared');
    expect(shared[0].Properties.RoleArn).toBeUndefined();
    // No --prune: an upgrade from a version whose manifest held the namespaced objects would delete them.
    expect(shared[0].Properties.PruneLabel).toBeUndefined();
    const kinds = (JSON.parse(shared[0].Properties.Manifest) as Array<{ kind: string }>).map((m) => m.kind);
    expect(kinds).toEqual(['Namespace', 'ResourceQuota', 'LimitRange']);
  });

  it('applies the ServiceAccount and NetworkPolicies as the tenant\'s own kubectl role, through the namespace kubectl provider, retained', () => {
    const t = build();
    const json = t.toJSON().Resources as Record<string, any>;
    const [id, tenant] = Object.entries(json).find(([, r]) => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && r.Properties.ServiceToken === NAMESPACE_KUBECTL)!;
    const roleId = Object.keys(json).find((k) => json[k].Type === 'AWS::IAM::Role' && json[k].Properties.RoleName === 'tessera-acme-namespace-kubectl')!;
    expect(tenant.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect((JSON.parse(tenant.Properties.Manifest) as Array<{ kind: string; metadata: { namespace: string } }>).map((m) => [m.kind, m.metadata.namespace]))
      .toEqual([['ServiceAccount', 'tenant-acme'], ...Array(4).fill(['NetworkPolicy', 'tenant-acme'])]);
    // CloudFormation never deletes it (a rollback would kubectl-delete the objects the old manifest re-applied).
    expect(tenant.DeletionPolicy).toBe('Retain');
    const sharedId = Object.keys(json).find((k) => json[k].Type === 'Custom::AWSCDK-EKS-KubernetesResource' && k !== id)!;
    const accessId = Object.keys(json).find((k) => json[k].Type === 'AWS::EKS::AccessEntry')!;
    expect(tenant.DependsOn).toEqual(expect.arrayContaining([sharedId, accessId]));
  });

  it('gives the tenant a Kubernetes identity: a role only the namespace kubectl handler may assume, with AmazonEKSEditPolicy in its namespace only', () => {
    const t = build();
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'tessera-acme-namespace-kubectl',
      AssumeRolePolicyDocument: { Statement: [{
        Action: 'sts:AssumeRole', Effect: 'Allow',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/TesseraNamespaceKubectlHandler']] } },
      }], Version: '2012-10-17' },
      Policies: Match.absent(),
      ManagedPolicyArns: Match.absent(),
    });
    t.resourceCountIs('AWS::EKS::AccessEntry', 1);
    t.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'tessera-shared', Type: 'STANDARD', KubernetesGroups: Match.absent(), Username: Match.absent(),
      AccessPolicies: [{
        PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSEditPolicy']] },
        AccessScope: { Type: 'namespace', Namespaces: ['tenant-acme'] },
      }],
    });
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
