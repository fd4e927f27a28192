import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { appTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * tiers.<tier>.alternateContacts (AFT's alternate_contact): the *Set alternate contacts* state of the onboarding, after
 * the other account settings and before *Allocate network*, and its function, only when a tier asks for it. The call is
 * the management account's (PutAlternateContact with AccountId): TesseraOrganizationAccess, or the function's own role
 * when the platform is the management account, may put only the configured contact types in this organization's member
 * accounts (account:AlternateContactTypes).
 */
const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'us-east-1' };
const CONTACT = { name: 'Platform security', title: 'Security team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 206 555 0100' };
const OVERRIDES = { tiers: { enterprise: { alternateContacts: { security: CONTACT, operations: CONTACT } } } };
type States = { States: Record<string, { Type: string; Next?: string; Catch?: Array<{ ErrorEquals: string[] }> }> };

interface Statement { Sid?: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }
function statements(template: { findResources(type: string): Record<string, any> }): Statement[] {
  return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
    .flatMap((p: any) => (resolveIntrinsics(p.Properties.PolicyDocument, pseudo) as { Statement: Statement[] }).Statement);
}
const expected = {
  Sid: 'PutAlternateContacts',
  Effect: 'Allow',
  Action: 'account:PutAlternateContact',
  Resource: `arn:aws:account::${MANAGEMENT}:account/${ORG}/*`,
  Condition: { 'ForAllValues:StringEquals': { 'account:AlternateContactTypes': ['OPERATIONS', 'SECURITY'] } },
};

describe('Set alternate contacts: the onboarding state', () => {
  it('runs after Request compute quotas and before Allocate network, failures caught', () => {
    const d = new LocalWorkflows(configWith(OVERRIDES)).definitions.onboard as unknown as States;
    expect(d.States['Request compute quotas'].Next).toBe('Set alternate contacts');
    expect(d.States['Set alternate contacts']).toMatchObject({ Type: 'Task', Next: 'Allocate network' });
    expect(d.States['Set alternate contacts'].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
  });

  it('follows Enable EBS encryption by default when a tier asks for both', () => {
    const d = new LocalWorkflows(configWith({ tiers: { enterprise: { ebsEncryptionByDefault: true, alternateContacts: { security: CONTACT } } } })).definitions.onboard as unknown as States;
    expect(d.States['Enable EBS encryption by default'].Next).toBe('Set alternate contacts');
    expect(d.States['Set alternate contacts'].Next).toBe('Allocate network');
  });

  it('does not exist without a tier that asks for it', () => {
    const d = new LocalWorkflows(configWith()).definitions.onboard as unknown as States;
    expect(d.States['Set alternate contacts']).toBeUndefined();
  });
});

describe('Set alternate contacts: the Account Management grant', () => {
  it('gives TesseraOrganizationAccess PutAlternateContact on this organization\'s member accounts for the configured types only; the platform synthesizes clean', async () => {
    const built = await appTemplates(OVERRIDES);
    expect(statements(built.organization).filter((s) => s.Sid === 'PutAlternateContacts')).toEqual([expected]);
    // The function reaches it through that role (the platform is not the management account): no Account Management action of its own.
    expect(statements(built.functionPolicies).filter((s) => JSON.stringify(s.Action).includes('account:'))).toEqual([]);
    expect(built.validationReport.pluginReports.flatMap((r: any) => r.violations)).toEqual([]);
  });

  it('gives the set-alternate-contacts function the same grant itself when the platform is the management account', async () => {
    const built = await appTemplates({ ...OVERRIDES, platformAccountId: MANAGEMENT });
    expect(statements(built.functionPolicies).filter((s) => s.Sid === 'PutAlternateContacts')).toEqual([expected]);
    expect(built.validationReport.pluginReports.flatMap((r: any) => r.violations)).toEqual([]);
  });
});
