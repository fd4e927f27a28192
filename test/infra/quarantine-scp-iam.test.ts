import { describe, expect, it } from 'vitest';
import { QUARANTINE_SCP_ARN_PARAMETER } from '../../constructs/organization-access-role.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * Review: the lifecycle's organizations:AttachPolicy and DetachPolicy were granted on
 * `policy/<organization>/service_control_policy/*`, every SCP of the organization, and on its OUs and root: the
 * lifecycle could have detached a customer's guardrail SCPs (Control Tower's `aws-guardrails-*`, LZA's) from tenant
 * accounts, or attached tessera-quarantine to an OU. The steps need tessera-quarantine only, on accounts only (and the
 * listed external quarantine SCPs, DetachPolicy only: external-quarantine-iam.test.ts).
 * constructs/organization-access-role.ts organizationsStatements.
 */

const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const ACCOUNTS = `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/*`;
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'us-east-1' };
const SCP_ACTIONS = ['organizations:AttachPolicy', 'organizations:DetachPolicy'];

interface Statement { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown }
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every statement of the template's managed policies, resolved. */
function statements(template: { findResources(type: string): Record<string, any> }): Statement[] {
  return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
    .flatMap((p: any) => (resolveIntrinsics(p.Properties.PolicyDocument, pseudo) as { Statement: Statement[] }).Statement);
}

/** The statements that allow AttachPolicy or DetachPolicy (or organizations:* / *). */
const scpStatements = (all: Statement[]) => all.filter((s) => s.Effect === 'Allow' && list(s.Action).some((a) => SCP_ACTIONS.includes(a) || a === 'organizations:*' || a === '*'));

/** Resources (strings) that name SCPs by pattern, or OUs and roots. */
function tooBroad(s: Statement): string[] {
  return list(s.Resource).filter((r): r is string => typeof r === 'string')
    .filter((r) => r === '*' || (r.includes(':policy/') && /[*?]/.test(r)) || /:(ou|root)\//.test(r));
}

describe('tessera-quarantine: the AttachPolicy/DetachPolicy grant', () => {
  it('names tessera-quarantine by its ARN, on this organization\'s accounts only, in TesseraOrganizationAccess; no SCP by pattern, no OU, no root', async () => {
    // GIVEN the default app (the platform account is not the management account: the lifecycle chains through TesseraOrganizationAccess)
    const built = defaultAppTemplates();
    const quarantine = { 'Fn::GetAtt': [built.logicalIdAt('TesseraOrganization/Guardrails/QuarantineScp'), 'Arn'] };
    // THEN the one statement that may attach or detach an SCP names tessera-quarantine's policy resource and accounts
    const org = scpStatements(statements(built.organization));
    expect(org).toEqual([{ Sid: 'PlaceTesseraQuarantine', Effect: 'Allow', Action: SCP_ACTIONS, Resource: [quarantine, ACCOUNTS] }]);
    for (const s of org) expect(tooBroad(s)).toEqual([]);
    // and no statement of the role names an SCP by pattern, whatever its actions
    for (const s of statements(built.organization)) expect(list(s.Resource).filter((r) => typeof r === 'string' && r.includes('service_control_policy/*'))).toEqual([]);
    // and, evaluated by the IAM simulator with that ARN as Organizations gives it: tessera-quarantine on and off a tenant's
    // account; no other SCP (Control Tower's guardrail here), and nothing on an OU or the root
    const quarantineArn = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-quarantine1`;
    const identityPolicies = Object.values(built.organization.findResources('AWS::IAM::ManagedPolicy')).map((p: any, i) => ({
      name: `PlatformAccess${i}`, policy: resolveIntrinsics(p.Properties.PolicyDocument, { ...pseudo, [`${quarantine['Fn::GetAtt'][0]}.Arn`]: quarantineArn }) as PolicyJson,
    }));
    const may = async (action: string, resource: string) => (await evaluate({
      principalArn: `arn:aws:iam::${MANAGEMENT}:role/TesseraOrganizationAccess`, action, resource, resourceAccount: MANAGEMENT,
      context: { 'aws:PrincipalAccount': MANAGEMENT }, identityPolicies, scps: [],
    })).allowed;
    const guardrail = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-awsguardrails1`;
    const account = `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/444444444444`;
    for (const action of SCP_ACTIONS) {
      expect(await may(action, quarantineArn)).toBe(true);
      expect(await may(action, account)).toBe(true);
      expect(await may(action, guardrail)).toBe(false);
      expect(await may(action, `arn:aws:organizations::${MANAGEMENT}:ou/${ORG}/ou-ex01-tier0001`)).toBe(false);
      expect(await may(action, `arn:aws:organizations::${MANAGEMENT}:root/${ORG}/r-ex01`)).toBe(false);
    }
    // and TesseraOrganization hands the same ARN to TesseraPlatform through SSM
    built.organization.hasResourceProperties('AWS::SSM::Parameter', { Name: QUARANTINE_SCP_ARN_PARAMETER, Type: 'String', Value: quarantine });
    // and the platform's lifecycle functions have no Organizations grant of their own
    expect(scpStatements(statements(built.functionPolicies))).toEqual([]);
  });

  it('when the platform account is the management account, names it in the lifecycle functions\' policies by the ARN TesseraOrganization wrote to SSM', async () => {
    // GIVEN the platform in the management account (the lifecycle calls Organizations itself), with an external quarantine SCP
    const built = await appTemplates({ platformAccountId: MANAGEMENT, organization: { externalQuarantinePolicies: [{ policyId: 'p-lzaquarantine1' }] } });
    const platform = built.platformWithPolicies.toJSON() as { Parameters: Record<string, { Type: string; Default?: string }>; Resources: Record<string, any> };
    const all = Object.values(platform.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((p) => (resolveIntrinsics(p.Properties.PolicyDocument, pseudo) as { Statement: Statement[] }).Statement);
    const found = scpStatements(all);
    // THEN every statement that may attach or detach an SCP is tessera-quarantine's (Attach and Detach) or the external one's (Detach)
    expect(new Set(found.map((s) => s.Sid))).toEqual(new Set(['PlaceTesseraQuarantine', 'DetachExternalQuarantine']));
    for (const s of found) expect(tooBroad(s)).toEqual([]);
    const place = found.filter((s) => s.Sid === 'PlaceTesseraQuarantine');
    expect(place.length).toBeGreaterThan(0);
    for (const s of place) {
      expect(s.Action).toEqual(SCP_ACTIONS);
      const resources = list(s.Resource);
      expect(resources).toHaveLength(2);
      expect(resources).toContain(ACCOUNTS);
      const policy = resources.find((r) => typeof r !== 'string') as { Ref: string };
      // the policy resource is the value of the SSM parameter TesseraOrganization writes, read at deploy
      expect(platform.Parameters[policy.Ref]).toEqual({ Type: 'AWS::SSM::Parameter::Value<String>', Default: QUARANTINE_SCP_ARN_PARAMETER });
    }
    // and the external SCP's statement is DetachPolicy only
    for (const s of found.filter((x) => x.Sid === 'DetachExternalQuarantine')) expect(s.Action).toBe('organizations:DetachPolicy');
    // and `cdk deploy --all` creates TesseraOrganization (which writes the parameter) before TesseraPlatform: CloudFormation
    // refuses a stack whose SSM parameter does not exist
    expect(built.stackDependencies[built.stackPaths.platform]).toContain(built.stackPaths.organization);
  });

  it('when the platform account is not the management account, TesseraPlatform does not wait for TesseraOrganization (they are deployed with different credentials)', async () => {
    const built = await defaultAppTemplates();
    expect(built.stackDependencies[built.stackPaths.platform]).not.toContain(built.stackPaths.organization);
  });
});
