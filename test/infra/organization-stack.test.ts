import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyJson } from '../../lib/preflight/iam-eval.js';
import { mayAssume } from '../support/assume-role-eval.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

let org: Template;
beforeAll(() => {
  org = defaultAppTemplates().organization;
});

describe('OrganizationStack', () => {
  it('creates an OU per tier plus Quarantine and Suspended under the root', () => {
    const names = Object.values(org.findResources('AWS::Organizations::OrganizationalUnit')).map((r: any) => r.Properties.Name);
    expect(names.sort()).toEqual(['Quarantine', 'Suspended', 'tessera-enterprise', 'tessera-professional', 'tessera-starter']);
    org.allResourcesProperties('AWS::Organizations::OrganizationalUnit', { ParentId: 'r-ex01' });
  });

  it('attaches the guardrails to every Tessera OU and the quarantine SCP to Quarantine and Suspended', () => {
    const policies = Object.values(org.findResources('AWS::Organizations::Policy')).map((r: any) => r.Properties);
    const guardrails = policies.find((p) => p.Name === 'tessera-guardrails');
    const quarantine = policies.find((p) => p.Name === 'tessera-quarantine');
    expect(guardrails.Type).toBe('SERVICE_CONTROL_POLICY');
    expect(guardrails.TargetIds).toHaveLength(5);
    expect(quarantine.TargetIds).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/QuarantineOu/), 'Id'] },
      { 'Fn::GetAtt': [expect.stringMatching(/SuspendedOu/), 'Id'] },
    ]);
    expect(guardrails.Content.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'DenyLeavingOrganization', 'DenyCloudTrailTampering', 'DenyOutsideAllowedRegions', 'DenyRootUser', 'ProtectTesseraRoles', 'ProtectTesseraPolicies',
      'ProtectBlueprintExecution', 'ProtectTesseraStacks', 'ProtectTenantKeys',
    ]);
    expect(quarantine.Content.Statement[0]).toMatchObject({
      Effect: 'Deny', Action: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/TesseraProvisioning', 'arn:aws:iam::*:role/TesseraBlueprintExecution', 'arn:aws:iam::*:role/tessera-account-customizations', 'arn:aws:iam::*:role/tessera/service-role/tessera-*'] } },
    });
  });

  it('chains only into the provisioning roles of this organization\'s accounts (aws:ResourceOrgID): member accounts are vended at run time, so the ARN says account "*"', async () => {
    // GIVEN the management account's platform-access policy, as CloudFormation resolves it (default config: management 111111111111, o-exampleorg1;
    // tessera-quarantine's ARN, which Organizations gives it on create)
    const quarantine = `${Object.keys(org.findResources('AWS::Organizations::Policy', { Properties: { Name: 'tessera-quarantine' } }))[0]}.Arn`;
    const policies = Object.values(org.findResources('AWS::IAM::ManagedPolicy'))
      .map((p: any) => ({ name: 'PlatformAccess', policy: resolveIntrinsics(p.Properties.PolicyDocument, {
        'AWS::Partition': 'aws', 'AWS::AccountId': '111111111111', 'AWS::Region': 'us-east-1', [quarantine]: 'arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/p-quarantine1',
      }) as PolicyJson }));
    const access = 'arn:aws:iam::111111111111:role/TesseraOrganizationAccess';
    const provisioning = 'arn:aws:iam::444455556666:role/TesseraProvisioning';
    // THEN a member account's provisioning role, and no other organization's
    expect(await mayAssume(access, policies, provisioning, 'o-exampleorg1')).toBe(true);
    expect(await mayAssume(access, policies, provisioning, 'o-otherorg99')).toBe(false);
    expect(await mayAssume(access, policies, 'arn:aws:iam::444455556666:role/OtherRole', 'o-exampleorg1')).toBe(false);
  });
});
