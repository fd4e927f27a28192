import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { appTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/**
 * tiers.<tier>.deleteDefaultVpcs (AFT's feature option): the *Delete default VPCs* state of the onboarding, between
 * *Request compute quotas* and *Allocate network*, and its function, only when a tier asks for it. The function's own
 * role reaches the tenant account through the provisioning session only: no EC2 action of its own.
 */
const OVERRIDES = { tiers: { enterprise: { deleteDefaultVpcs: true } } };
type States = { States: Record<string, { Type: string; Next?: string; Resource?: string; Parameters?: Record<string, unknown>; Catch?: Array<{ ErrorEquals: string[] }> }> };

describe('Delete default VPCs: the onboarding state', () => {
  it('runs after Request compute quotas and before Allocate network, on the account path only, failures caught', () => {
    const d = new LocalWorkflows(configWith(OVERRIDES)).definitions.onboard as unknown as States;
    expect(d.States['Request compute quotas'].Next).toBe('Delete default VPCs');
    expect(d.States['Delete default VPCs']).toMatchObject({ Type: 'Task', Next: 'Allocate network' });
    expect(d.States['Delete default VPCs'].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
  });

  it('does not exist without a tier that asks for it (the default config is as it was)', () => {
    const d = new LocalWorkflows(configWith()).definitions.onboard as unknown as States;
    expect(d.States['Delete default VPCs']).toBeUndefined();
    expect(d.States['Request compute quotas'].Next).toBe('Allocate network');
  });
});

describe('Delete default VPCs: the function', () => {
  it('synthesizes clean (compliance packs, no finding) with a 5-minute function whose role has no EC2 action', async () => {
    const built = await appTemplates(OVERRIDES);
    const role = Object.entries(built.platform.findResources('AWS::IAM::Role')).find(([, r]: [string, any]) => r.Properties.RoleName === 'tessera-lifecycle-delete-default-vpcs');
    expect(role).toBeDefined();
    const fns = Object.values(built.platform.findResources('AWS::Lambda::Function')).filter((f: any) => JSON.stringify(f.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [role![0], 'Arn'] }));
    expect(fns.map((f: any) => f.Properties.Timeout)).toEqual([300]);
    const actions = JSON.stringify([built.platform.findResources('AWS::IAM::Policy'), built.platform.findResources('AWS::IAM::ManagedPolicy'), built.functionPolicies]);
    expect(actions).not.toMatch(/ec2:Delete(Vpc|Subnet|InternetGateway)|ec2:DetachInternetGateway/);
    expect(built.validationReport.pluginReports.flatMap((r: any) => r.violations)).toEqual([]);
  });
});
