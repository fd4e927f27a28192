import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * session 45: *Tag account* (lambdas/lifecycle/tag-account.ts) removes an account tenant's own tag keys through
 * TesseraOrganizationAccess. Its organizations:UntagResource (constructs/organization-access-role.ts, UntagTenantAccountTags)
 * reaches only this organization's accounts tagged `tessera:tenant-id`, and never a `tessera:` or `aws:` key.
 * Evaluated by the IAM simulator (lib/preflight/iam-eval.ts) on the synthesized policy.
 */
const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'us-east-1' };
const ACCOUNT = `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/444444444444`;

describe('TesseraOrganizationAccess: organizations:UntagResource', () => {
  it('removes a tenant\'s own key from an account Tessera vended; not a tessera: or aws: key, not an untagged account, not an OU', async () => {
    const built = defaultAppTemplates();
    // tessera-quarantine's ARN, as the role's other statement names it (resolved as Organizations gives it).
    const quarantine = `${built.logicalIdAt('TesseraOrganization/Guardrails/QuarantineScp')}.Arn`;
    const identityPolicies = Object.values(built.organization.findResources('AWS::IAM::ManagedPolicy')).map((p: any, i) => ({
      name: `PlatformAccess${i}`,
      policy: resolveIntrinsics(p.Properties.PolicyDocument, { ...pseudo, [quarantine]: `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-quarantine1` }) as PolicyJson,
    }));
    const may = async (resource: string, keys: string[] | undefined, tenantTag = true) => (await evaluate({
      principalArn: `arn:aws:iam::${MANAGEMENT}:role/TesseraOrganizationAccess`, action: 'organizations:UntagResource', resource, resourceAccount: MANAGEMENT,
      context: { 'aws:PrincipalAccount': MANAGEMENT, ...(keys ? { 'aws:TagKeys': keys } : {}), ...(tenantTag ? { 'aws:ResourceTag/tessera:tenant-id': 'acme' } : {}) },
      identityPolicies, scps: [],
    })).allowed;
    expect(await may(ACCOUNT, ['Owner'])).toBe(true);
    expect(await may(ACCOUNT, ['Owner', 'CostCenter'])).toBe(true);
    expect(await may(ACCOUNT, ['tessera:tier'])).toBe(false);
    expect(await may(ACCOUNT, ['Owner', 'aws:cloudformation:stack-name'])).toBe(false);
    expect(await may(ACCOUNT, undefined)).toBe(false);
    // An account Tessera did not vend (no tessera:tenant-id tag): the platform's own, another team's.
    expect(await may(ACCOUNT, ['Owner'], false)).toBe(false);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:ou/${ORG}/ou-ex01-tier0001`, ['Owner'])).toBe(false);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:account/o-otherorg99/444444444444`, ['Owner'])).toBe(false);
  });
});
