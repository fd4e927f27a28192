import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { ParameterizedCidr } from '../../constructs/parameterized-cidr.js';
import { TenantRoles, type WorkloadTrust } from '../../constructs/tenant-roles.js';
import { IDENTITY_CENTER_TENANT_ADMIN_ROLES } from '../../lib/tenant-naming.js';
import { newStack, template } from '../support/synth.js';

function build(workloadTrust: WorkloadTrust, training = false) {
  // GIVEN
  const stack = newStack();
  // WHEN
  const roles = new TenantRoles(stack, 'Roles', { tenantId: 'acme', platformAccountId: '222222222222', platformBreakGlassRoleName: 'TesseraBreakGlass', adminRoleNamePatterns: [...IDENTITY_CENTER_TENANT_ADMIN_ROLES], provisioningRoleName: 'TesseraProvisioning', workloadTrust, training });
  return { roles, t: template(stack) };
}

describe('TenantRoles', () => {
  it('names every role after the tenant so policies can name them before they exist', () => {
    const { t } = build({ kind: 'pod-identity' }, true);
    const names = Object.values(t.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName).sort();
    expect(names).toEqual(['tessera-acme-admin', 'tessera-acme-break-glass', 'tessera-acme-model-invoker', 'tessera-acme-training', 'tessera-acme-training-files', 'tessera-acme-training-launcher', 'tessera-acme-vector-store', 'tessera-acme-workload']);
  });

  it('lets only the platform\'s fine-tuning API Lambda assume the training-files role, its session tagged with the tenant, for at most an hour', () => {
    const { roles, t } = build({ kind: 'none' }, true);
    const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: 'tessera-acme-training-files' } })) as any[];
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { AWS: 'arn:aws:iam::222222222222:root' },
      Condition: {
        ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:role/tessera-fine-tuning-api']] }] },
        StringEquals: { 'aws:RequestTag/tessera:tenant-id': 'acme' },
      },
    }]);
    // A data principal of training-data/files/ only, never a user of the key (tenantUseRoles).
    expect(roles.all).toContain(roles.trainingFiles);
    expect(roles.tenantUseRoles).not.toContain(roles.trainingFiles);
    expect(roles.prefixRoles).toEqual([{ role: roles.trainingFiles, prefix: 'training-data/files/', sid: 'TrainingFiles' }]);
    expect(build({ kind: 'none' }).roles.prefixRoles).toEqual([]);
  });

  it('lets EKS Pod Identity in the same account assume the workload role of a dedicated cluster', () => {
    build({ kind: 'pod-identity' }).t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'tessera-acme-workload',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      })] },
    });
  });

  it('lets only the tenant bridge role of the platform account, tagged with the tenant namespace, assume it for shared compute', () => {
    build({ kind: 'shared-cluster-bridge', platformAccountId: '222222222222' }).t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'tessera-acme-workload',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { AWS: 'arn:aws:iam::222222222222:root' },
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:role/tessera-acme-pod-bridge']] } },
          StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'tenant-acme' },
        },
      })] },
    });
  });

  it('has no workload role without compute, and no training role unless training is on', () => {
    const { roles, t } = build({ kind: 'none' });
    expect(roles.workload).toBeUndefined();
    expect(roles.training).toBeUndefined();
    // admin, break-glass, and the vector-store role every tier has (the gateway's vector stores).
    t.resourceCountIs('AWS::IAM::Role', 3);
  });

  it('admits tenant admins only from the configured platform roles (IAM Identity Center by default) with the tenant id session tag', () => {
    const { t } = build({ kind: 'none' });
    const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: 'tessera-acme-admin' } })) as any[];
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Condition.StringEquals).toEqual({ 'aws:PrincipalTag/tessera:tenant-id': 'acme' });
    expect(JSON.stringify(trust.Condition.ArnLike['aws:PrincipalArn'])).toMatch(/:iam::222222222222:role\/aws-reserved\/sso\.amazonaws\.com\/\*AWSReservedSSO_TesseraTenantAdmin_\*/);
  });

  it('admits break-glass only from the platform break-glass role, with a SourceIdentity', () => {
    const { t } = build({ kind: 'none' });
    const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: 'tessera-acme-break-glass' } })) as any[];
    const [assume, offboarding, setSource] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(assume.Condition.StringLike).toEqual({ 'sts:SourceIdentity': '?*' });
    expect(JSON.stringify(assume.Condition.ArnEquals)).toMatch(/:iam::222222222222:role\/TesseraBreakGlass/);
    expect(offboarding.Condition.StringEquals).toEqual({ 'sts:SourceIdentity': 'tessera-offboarding-acme' });
    expect(JSON.stringify(offboarding.Condition.ArnEquals)).toMatch(/:role\/TesseraProvisioning/);
    expect(setSource.Action).toBe('sts:SetSourceIdentity');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
  });
});

describe('ParameterizedCidr', () => {
  it('refuses a split that would need subnets smaller than /28', () => {
    const stack = newStack();
    expect(() => new ec2.Vpc(stack, 'Vpc', {
      ipAddresses: new ParameterizedCidr('10.0.0.0/26', 26), maxAzs: 2, restrictDefaultSecurityGroup: false,
      subnetConfiguration: [{ name: 'a', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'b', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    })).toThrow(/a \/26 VPC cannot hold 6 subnets \(each would be \/29/);
  });
});

describe('TenantRoles.vectorStore', () => {
  it('exists in every tier, and only the platform\'s router, with a session tagged with this tenant, may assume it', () => {
    const { roles, t } = build({ kind: 'none' });
    expect(roles.vectorStore).toBeDefined();
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'tessera-acme-vector-store',
      AssumeRolePolicyDocument: { Statement: [{
        Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'],
        Principal: { AWS: 'arn:aws:iam::222222222222:root' },
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:role/tessera-gateway-router']] }] },
          StringEquals: { 'aws:RequestTag/tessera:tenant-id': 'acme' },
        },
      }] },
    });
  });
});
