import { describe, expect, it } from 'vitest';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * organization.externalQuarantinePolicies (another tool's quarantine SCP, e.g. LZA's): *Activate tenant* may
 * detach exactly those SCPs, named by ARN (their ids), from this organization's accounts.
 * constructs/organization-access-role.ts organizationsStatements.
 */

const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const LZA = 'p-lzaquarantine1';
const OTHER = 'p-otherquarant2';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'us-east-1' };

interface Statement { Sid?: string; Action: string | string[]; Resource: string | string[] }
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Every statement of the template's managed policies, resolved, its resources sorted (CDK sorts them its own way). */
function statements(template: { findResources(type: string): Record<string, any> }): Statement[] {
  return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
    .flatMap((p: any) => (resolveIntrinsics(p.Properties.PolicyDocument, pseudo) as { Statement: Statement[] }).Statement)
    .map((s) => ({ ...s, Resource: Array.isArray(s.Resource) ? [...s.Resource].sort() : s.Resource }));
}

describe('external quarantine SCPs: the DetachPolicy grant', () => {
  it('names each listed SCP by its ARN, no wildcard policy, in the management account\'s access role and, when the platform is the management account, in the lifecycle functions\' policies', async () => {
    // GIVEN two external SCPs, and the platform in the management account (the lifecycle calls Organizations itself)
    const built = await appTemplates({
      platformAccountId: MANAGEMENT,
      organization: { externalQuarantinePolicies: [{ policyId: LZA, name: 'QuarantineAccounts' }, { policyId: OTHER }] },
    });
    const expected = {
      Sid: 'DetachExternalQuarantine',
      Effect: 'Allow',
      Action: 'organizations:DetachPolicy',
      Resource: [
        `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/*`,
        `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/${LZA}`,
        `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/${OTHER}`,
      ],
    };
    // THEN the management account's TesseraOrganizationAccess role
    const org = statements(built.organization).filter((s) => s.Sid === 'DetachExternalQuarantine');
    expect(org).toEqual([expected]);
    // and every lifecycle function with Organizations access (the platform is the management account: no role to chain through)
    const platform = statements(built.functionPolicies).filter((s) => s.Sid === 'DetachExternalQuarantine');
    expect(platform.length).toBeGreaterThan(0);
    for (const s of platform) expect(s).toEqual(expected);
    // no policy resource of the statement is a pattern
    for (const s of [...org, ...platform]) {
      const policies = list(s.Resource).filter((r) => r.includes(':policy/'));
      expect(policies).toHaveLength(2);
      for (const r of policies) expect(r).not.toMatch(/[*?]/);
    }
    // and with the list empty (the default), no such statement
    const { organization, functionPolicies } = defaultAppTemplates();
    expect([...statements(organization), ...statements(functionPolicies)].filter((s) => s.Sid === 'DetachExternalQuarantine')).toEqual([]);
  });
});
