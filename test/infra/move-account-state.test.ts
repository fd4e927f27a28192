import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { configWith, homedIn } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { resolveIntrinsics } from '../support/resolve-intrinsics.js';

/**
 * session 46: an account tenant's tier change (or repair) moves its AWS account into the tier's OU, *Move account*
 * (lambdas/lifecycle/move-account.ts, run by the Tag account function), right after *Begin change* and before the
 * stacks; and TesseraOrganizationAccess may make that MoveAccount from one tier's OU to another's.
 */
type State = { Type: string; Next?: string; Default?: string; Choices?: Array<Record<string, unknown>>; Parameters?: Record<string, unknown>; ResultPath?: string; Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[]; Next: string }>; ItemProcessor?: { States: Record<string, State> } };
type States = { States: Record<string, State> };

describe('Move account in the change workflow', () => {
  const change = new LocalWorkflows(configWith()).definitions.change as unknown as States;

  it('runs after Begin change for a change marked moveAccount, then goes on to the account baseline; otherwise straight there', () => {
    expect(change.States['Begin change'].Next).toBe('Move the account?');
    expect(change.States['Move the account?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ And: [{ Variable: '$.change.moveAccount', IsPresent: true }, { Variable: '$.change.moveAccount', BooleanEquals: true }], Next: 'Move account' }],
      Default: 'Deploy account baseline',
    });
    expect(change.States['Move account']).toMatchObject({
      Type: 'Task', Next: 'Deploy account baseline', ResultPath: '$.accountMove',
      Parameters: { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', stateName: 'Move account', accountStep: 'move' },
    });
  });

  it('retries Organizations\' throttling and contention, and records any other failure (Record failure)', () => {
    const move = change.States['Move account'];
    expect(move.Retry?.[0].ErrorEquals).toEqual(expect.arrayContaining(['TooManyRequestsException', 'ConcurrentModificationException', 'ServiceException']));
    expect(move.Retry?.flatMap((r) => r.ErrorEquals)).not.toContain('AccountPlacement');
    expect(move.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'Failed at Move account', ResultPath: '$.error' }]);
    // …which passes on to Record failure, as every step's does (the registry records the step and the reason).
    expect(change.States['Failed at Move account'].Next).toBe(change.States['Failed at Tag account'].Next);
  });

  // s48: a rolling upgrade of many failed account tenants runs Move account and Tag account for each; Organizations' quotas
  // apply to the whole organization, so the runs at once are bounded and each Organizations step backs off when throttled.
  it('a rolling upgrade runs 5 tenants at a time, and its Move account and Tag account back off on Organizations\' throttling and contention', () => {
    const upgrade = new LocalWorkflows(configWith()).definitions.upgrade as unknown as States;
    const map = Object.values(upgrade.States).find((s) => s.ItemProcessor) as State & { MaxConcurrency?: number };
    expect(map.MaxConcurrency).toBe(5);
    for (const name of ['Move account', 'Tag account']) {
      const retry = (map.ItemProcessor!.States[name].Retry ?? []) as Array<{ ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string; MaxAttempts?: number }>;
      const throttled = retry.find((r) => r.ErrorEquals.includes('TooManyRequestsException'));
      expect(throttled, name).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL', MaxAttempts: 6 });
      expect(throttled!.ErrorEquals, name).toContain('ConcurrentModificationException');
    }
  });

  it('goes on to Enable regions when the config has opt-in regions', () => {
    const optIn = new LocalWorkflows(configWith({ ...homedIn('me-central-1', ['me-central-1', 'il-central-1', 'us-east-1']), tiers: { enterprise: { disasterRecovery: { region: 'il-central-1', rpoHours: 4, rtoHours: 12 } } } }));
    const d = optIn.definitions.change as unknown as States;
    expect(d.States['Move the account?'].Default).toBe('Opt-in regions?');
    expect(d.States['Move account'].Next).toBe('Opt-in regions?');
  });

  // a rolling upgrade's run of an account tenant whose last operation failed (begin-change's afterFailure) moves and
  // retags its account as any change does then; before, the run had neither step, cleared the failure and left a tier
  // change's half-done placement (the account in another tier's OU, tessera:tier on another tier) for good.
  it('a rolling upgrade\'s run has Move account after Skipped? and Tag account after its stacks, each behind its flag', () => {
    const upgrade = new LocalWorkflows(configWith()).definitions.upgrade as unknown as States;
    const item = Object.values(upgrade.States).find((s) => s.ItemProcessor)!.ItemProcessor!;
    expect(item.States['Skipped?'].Default).toBe('Move the account?');
    expect(item.States['Move the account?']).toMatchObject({
      Type: 'Choice', Choices: [{ And: [{ Variable: '$.change.moveAccount', IsPresent: true }, { Variable: '$.change.moveAccount', BooleanEquals: true }], Next: 'Move account' }], Default: 'Deploy account baseline',
    });
    expect(item.States['Move account']).toMatchObject({ Type: 'Task', Next: 'Deploy account baseline', Parameters: { stateName: 'Move account', accountStep: 'move' } });
    expect(item.States['Tag the account?']).toMatchObject({ Type: 'Choice', Choices: [{ And: [{ Variable: '$.change.tagAccount', IsPresent: true }, { Variable: '$.change.tagAccount', BooleanEquals: true }], Next: 'Tag account' }] });
    expect(item.States['Move account'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'Failed at Move account', ResultPath: '$.error' }]);
  });
});

const MANAGEMENT = '111111111111';
const ORG = 'o-exampleorg1';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::AccountId': MANAGEMENT, 'AWS::Region': 'us-east-1' };

describe('TesseraOrganizationAccess: organizations:MoveAccount between tier OUs', () => {
  it('may move this organization\'s account out of one tier\'s OU into another\'s; not an account or OU of another organization', async () => {
    const built = defaultAppTemplates();
    const quarantine = `${built.logicalIdAt('TesseraOrganization/Guardrails/QuarantineScp')}.Arn`;
    const identityPolicies = Object.values(built.organization.findResources('AWS::IAM::ManagedPolicy')).map((p: any, i) => ({
      name: `PlatformAccess${i}`,
      policy: resolveIntrinsics(p.Properties.PolicyDocument, { ...pseudo, [quarantine]: `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-quarantine1` }) as PolicyJson,
    }));
    // MoveAccount is authorized on the account (required) and on the source and destination root or OU (Service
    // Authorization Reference, AWS Organizations: MoveAccount, resource types account*, organizationalunit, root).
    const may = async (resource: string) => (await evaluate({
      principalArn: `arn:aws:iam::${MANAGEMENT}:role/TesseraOrganizationAccess`, action: 'organizations:MoveAccount', resource, resourceAccount: MANAGEMENT,
      context: { 'aws:PrincipalAccount': MANAGEMENT }, identityPolicies, scps: [],
    })).allowed;
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:account/${ORG}/444444444444`)).toBe(true);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:ou/${ORG}/ou-ex01-starter01`)).toBe(true);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:ou/${ORG}/ou-ex01-enterpri`)).toBe(true);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:account/o-otherorg99/444444444444`)).toBe(false);
    expect(await may(`arn:aws:organizations::${MANAGEMENT}:ou/o-otherorg99/ou-ex01-starter01`)).toBe(false);
  });
});
