import { describe, expect, it } from 'vitest';
import { guardrailPolicy, quarantinePolicy, SCP_MAX_CHARACTERS } from '../../lib/guardrail-policies.js';

const input = { allowedRegions: ['us-east-1', 'us-west-2'], provisioningRoleName: 'TesseraProvisioning', breakGlassRoleName: 'TesseraBreakGlass', blueprintExecutionRoleName: 'TesseraBlueprintExecution' };
const statement = (sid: string) => guardrailPolicy(input).Statement.find((s) => s.Sid === sid) as any;

describe('guardrail SCP', () => {
  it('denies leaving the organization', () => {
    expect(statement('DenyLeavingOrganization')).toMatchObject({ Effect: 'Deny', Action: 'organizations:LeaveOrganization' });
  });

  it('denies stopping or changing CloudTrail', () => {
    expect(statement('DenyCloudTrailTampering').Action).toEqual(expect.arrayContaining(['cloudtrail:StopLogging', 'cloudtrail:DeleteTrail', 'cloudtrail:UpdateTrail', 'cloudtrail:PutEventSelectors']));
  });

  it('denies actions outside the allowed regions, global services excepted', () => {
    const s = statement('DenyOutsideAllowedRegions');
    expect(s.Condition).toEqual({ StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'us-west-2'] } });
    expect(s.NotAction).toEqual(expect.arrayContaining(['iam:*', 'organizations:*', 'sts:*', 'route53:*', 'cloudfront:*']));
    expect(s.Action).toBeUndefined();
  });

  it('denies the root user', () => {
    expect(statement('DenyRootUser')).toMatchObject({ Effect: 'Deny', Action: '*', Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:root' } } });
  });

  it('denies changes to Tessera-managed roles (tenant roles and service roles too) by anyone but the two deployers', () => {
    const s = statement('ProtectTesseraRoles');
    expect(s.Resource).toEqual([
      'arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution', 'arn:aws:iam::*:role/TesseraBreakGlass',
      'arn:aws:iam::*:role/tessera-*', 'arn:aws:iam::*:role/tessera/*',
    ]);
    expect(s.Action).toEqual(expect.arrayContaining(['iam:DeleteRole', 'iam:UpdateAssumeRolePolicy', 'iam:AttachRolePolicy', 'iam:PutRolePolicy']));
    expect(s.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution'] } });
  });

  it('lets nobody but the two deployers create Tessera roles or change Tessera policies (the quarantine fence trusts those names)', () => {
    expect(statement('ProtectTesseraRoles').Action).toContain('iam:CreateRole');
    const policies = statement('ProtectTesseraPolicies');
    expect(policies.Action).toEqual(['iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion']);
    expect(policies.Resource).toEqual(['arn:aws:iam::*:policy/tessera-*', 'arn:aws:iam::*:policy/TesseraBlueprintExecution-*']);
    expect(policies.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution'] } });
  });

  it('lets only the provisioning role pass the execution role or the account customizations role, or change a Tessera stack', () => {
    expect(statement('ProtectBlueprintExecution')).toEqual({
      Sid: 'ProtectBlueprintExecution', Effect: 'Deny', Action: 'iam:PassRole', Resource: ['arn:aws:iam::*:role/TesseraBlueprintExecution', 'arn:aws:iam::*:role/tessera-account-customizations'],
      Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/TesseraProvisioning' } },
    });
    const stacks = statement('ProtectTesseraStacks');
    expect(stacks.Resource).toBe('arn:aws:cloudformation:*:*:stack/tessera-*');
    expect(stacks.Action).toEqual(expect.arrayContaining(['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet']));
    expect(stacks.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/TesseraProvisioning' } });
  });

  it('lets only the two deployers change or delete tenant keys directly', () => {
    expect(statement('ProtectTenantKeys').Condition.ArnNotLike).toEqual({ 'aws:PrincipalArn': ['arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution'] });
  });

  it('only denies (an SCP grants nothing)', () => {
    expect(guardrailPolicy(input).Statement.every((s) => s.Effect === 'Deny')).toBe(true);
  });

  it('fits the SCP size limit even with every commercial region allowed', () => {
    const many = { ...input, allowedRegions: Array.from({ length: 30 }, (_, i) => `xx-region-${i}`) };
    expect(JSON.stringify(guardrailPolicy(many)).length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
  });
});

describe('quarantine SCP', () => {
  it('denies everything to everyone but the deployers, the account customizations role (customizations deploy before ACTIVE) and the blueprint\'s AWS service roles', () => {
    expect(quarantinePolicy(input).Statement).toEqual([
      {
        Sid: 'DenyAllButDeployment', Effect: 'Deny', Action: '*', Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution', 'arn:aws:iam::*:role/tessera-account-customizations', 'arn:aws:iam::*:role/tessera/service-role/tessera-*'] } },
      },
    ]);
  });

  it('keeps tenant roles and break-glass out: none of them is on the service-role path', () => {
    const admitted = (quarantinePolicy(input).Statement[0].Condition as any).ArnNotLike['aws:PrincipalArn'] as string[];
    const like = (arn: string) => admitted.some((p) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(arn));
    expect(like('arn:aws:iam::123456789012:role/tessera/service-role/tessera-acme-ComputeClusterRole-ABC')).toBe(true);
    expect(like('arn:aws:iam::123456789012:role/tessera/service-role/backdoor')).toBe(false);
    for (const arn of ['arn:aws:iam::123456789012:role/tessera-acme-admin', 'arn:aws:iam::123456789012:role/tessera-acme-workload', 'arn:aws:iam::123456789012:role/TesseraBreakGlass', 'arn:aws:iam::123456789012:role/OrganizationAccountAccessRole']) {
      expect(like(arn), arn).toBe(false);
    }
  });
});
