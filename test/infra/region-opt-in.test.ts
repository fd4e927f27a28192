import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { reservedConcurrency } from '../../lib/lambda-concurrency.js';
import { appTemplates, defaultAppTemplates } from '../support/default-app.js';
import { configWith, homedIn } from '../support/config-with.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * Account tiers in opt-in regions: *Enable regions* (lambdas/lifecycle/enable-regions.ts) calls account:EnableRegion
 * and account:GetRegionOptStatus from the management account, for this organization's member accounts only
 * (`accountInOrganization`), and only for the opt-in regions the config's account tiers use (account:TargetRegion).
 */

const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'me-central-1' };
const OPT_IN = {
  ...homedIn('me-central-1', ['me-central-1', 'il-central-1', 'us-east-1']),
  tiers: { enterprise: { disasterRecovery: { region: 'il-central-1', rpoHours: 4, rtoHours: 12 } } },
};

interface Statement { Sid?: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }
function statements(template: { findResources(type: string): Record<string, any> }): Statement[] {
  return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
    .flatMap((p: any) => (resolveIntrinsics(p.Properties.PolicyDocument, pseudo) as { Statement: Statement[] }).Statement);
}
const expected = {
  Sid: 'EnableOptInRegions',
  Effect: 'Allow',
  Action: ['account:EnableRegion', 'account:GetRegionOptStatus'],
  Resource: `arn:aws:account::${MANAGEMENT}:account/${ORG}/*`,
  Condition: { StringEquals: { 'account:TargetRegion': ['il-central-1', 'me-central-1'] } },
};

describe('Enable regions: the Account Management grant', () => {
  it('gives TesseraOrganizationAccess EnableRegion and GetRegionOptStatus on this organization\'s member accounts, for the config\'s opt-in regions only', async () => {
    const built = await appTemplates(OPT_IN);
    expect(statements(built.organization).filter((s) => s.Sid === 'EnableOptInRegions')).toEqual([expected]);
    // The lifecycle function reaches it through that role (the platform is not the management account).
    expect(statements(built.functionPolicies).filter((s) => JSON.stringify(s.Action).includes('account:'))).toEqual([]);
  });

  it('gives the enable-regions function the same grant itself when the platform is the management account', async () => {
    const built = await appTemplates({ ...OPT_IN, platformAccountId: MANAGEMENT });
    const platform = statements(built.functionPolicies).filter((s) => s.Sid === 'EnableOptInRegions');
    expect(platform).toEqual([expected]);
  });

  it('grants nothing of the Account Management API with the default config (no opt-in region)', () => {
    const { organization, functionPolicies } = defaultAppTemplates();
    expect([...statements(organization), ...statements(functionPolicies)].filter((s) => JSON.stringify(s.Action).includes('account:'))).toEqual([]);
  });
});

describe('Enable regions: the states', () => {
  type States = { States: Record<string, { Type: string; Next?: string; Default?: string; Choices?: unknown[]; Seconds?: number; Parameters?: Record<string, unknown> }> };
  const workflows = new LocalWorkflows(configWith(OPT_IN));
  it('runs after Quarantine account and before Verify provisioning access in the onboarding, only when validate-request set optInRegions, polling in a Wait state', () => {
    const d = workflows.definitions.onboard as unknown as States;
    expect(d.States['Quarantine account'].Next).toBe('Opt-in regions?');
    expect(d.States['Opt-in regions?']).toMatchObject({ Choices: [{ Variable: '$.request.optInRegions', IsPresent: true, Next: 'Enable regions' }], Default: 'Verify provisioning access' });
    expect(d.States['Enable regions']).toMatchObject({ Type: 'Task', Next: 'Regions enabled?', Parameters: { 'request.$': '$.request', stateName: 'Enable regions' } });
    expect(d.States['Regions enabled?']).toMatchObject({ Choices: [{ Variable: '$.regions.state', StringEquals: 'ENABLED', Next: 'Verify provisioning access' }], Default: 'Wait for regions' });
    expect(d.States['Wait for regions']).toMatchObject({ Type: 'Wait', Seconds: 60, Next: 'Check regions' });
    expect(d.States['Check regions']).toMatchObject({ Type: 'Task', Next: 'Regions ready?', Parameters: { 'regions.$': '$.regions', stateName: 'Check regions' } });
    expect(d.States['Regions ready?']).toMatchObject({ Choices: [{ Next: 'Verify provisioning access' }], Default: 'Wait for regions' });
  });

  it('does not exist with the default config (no account tier in an opt-in region): no function, no state', async () => {
    const plain = new LocalWorkflows(configWith());
    for (const name of ['onboard', 'change'] as const) {
      const d = plain.definitions[name] as unknown as States;
      expect(Object.keys(d.States).filter((n) => /regions/i.test(n))).toEqual([]);
    }
    expect((plain.definitions.onboard as unknown as States).States['Quarantine account'].Next).toBe('Verify provisioning access');
    expect((plain.definitions.change as unknown as States).States['Move the account?'].Default).toBe('Deploy account baseline');
    const { platform } = defaultAppTemplates();
    expect(Object.values(platform.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName)).not.toContain('tessera-lifecycle-enable-regions');
    const withOptIn = (await appTemplates(OPT_IN)).platform;
    expect(Object.values(withOptIn.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName)).toContain('tessera-lifecycle-enable-regions');
    // doctor's reserved-concurrency figure follows: the function's 10 (and the DR tier's restore-test recorder's 2)
    const names = (c: Parameters<typeof reservedConcurrency>[0]) => reservedConcurrency(c).functions.map((f) => f.name);
    expect(names(configWith(OPT_IN)).filter((n) => !names(configWith()).includes(n))).toEqual(['lifecycle/enable-regions', 'restoreTestRecorder']);
    expect(reservedConcurrency(configWith(OPT_IN)).total - reservedConcurrency(configWith()).total).toBe(12);
  });

  it('runs after Begin change and before the account baseline in a change (a DR region changed to an opt-in one, a move to such a tier)', () => {
    const d = workflows.definitions.change as unknown as States;
    // (after Move account, for an account tenant's tier change or repair: its account into the new tier's OU first)
    expect(d.States['Begin change'].Next).toBe('Move the account?');
    expect(d.States['Move the account?'].Default).toBe('Opt-in regions?');
    expect(d.States['Move account'].Next).toBe('Opt-in regions?');
    expect(d.States['Opt-in regions?']).toMatchObject({ Choices: [{ Variable: '$.change.optInRegions', IsPresent: true, Next: 'Enable regions' }], Default: 'Deploy account baseline' });
    expect(d.States['Enable regions']).toMatchObject({ Parameters: { 'change.$': '$.change' } });
    expect(d.States['Regions enabled?']).toMatchObject({ Choices: [{ Next: 'Deploy account baseline' }] });
  });
});
