import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ADMIN_POLICY_NAME } from '../../lib/platform-admin-naming.js';
import { defaultAppTemplates } from '../support/default-app.js';

let platform: Template;

beforeAll(() => {
  // GIVEN the default config, WHEN the platform stack is synthesized
  platform = defaultAppTemplates().platform;
});

describe('TesseraPlatformAdminAccess', () => {
  it('is a customer-managed policy under its contract name, attached to nothing (the permission set references it)', () => {
    const policies = Object.values(platform.findResources('AWS::IAM::ManagedPolicy')).filter((p: any) => p.Properties.ManagedPolicyName === PLATFORM_ADMIN_POLICY_NAME) as any[];
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.Path).toBe('/'); // Identity Center references it by name and path
    expect(policies[0].Properties.Roles ?? policies[0].Properties.Users ?? policies[0].Properties.Groups).toBeUndefined();
  });

  it('allows invoking the admin API\'s /admin/* methods on its stage, and reading this stack\'s outputs, nothing else', () => {
    const policy = Object.values(platform.findResources('AWS::IAM::ManagedPolicy')).find((p: any) => p.Properties.ManagedPolicyName === PLATFORM_ADMIN_POLICY_NAME) as any;
    const [invoke, outputs, ...rest] = policy.Properties.PolicyDocument.Statement;
    expect(rest).toEqual([]);
    expect(invoke.Action).toBe('execute-api:Invoke');
    expect(invoke.Resource).toEqual({ 'Fn::Join': ['', [
      'arn:aws:execute-api:us-east-1:222222222222:', { Ref: expect.stringMatching(/^AdminApi[0-9A-F]+$/) }, '/', { Ref: expect.stringMatching(/^AdminApiDeploymentStagev1/) }, '/*/admin/*',
    ]] });
    expect(outputs.Action).toBe('cloudformation:DescribeStacks');
    expect(JSON.stringify(outputs.Resource)).toMatch(/:stack\/TesseraPlatform\/\*"/);
  });

  it('is an output of the platform stack, as is the workload provisioning role\'s template URL', () => {
    expect(platform.findOutputs('PlatformAdminPolicyArn').PlatformAdminPolicyArn.Value).toEqual({ Ref: expect.stringMatching(/^PlatformAdminsPolicy/) });
    expect(Object.keys(platform.findOutputs('WorkloadProvisioningRoleTemplateUrl'))).toHaveLength(1);
  });
});
