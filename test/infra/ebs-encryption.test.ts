import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { appTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/**
 * tiers.<tier>.ebsEncryptionByDefault (LZA's ebsDefaultVolumeEncryption): the *Enable EBS encryption by default* state
 * of the onboarding, after *Request compute quotas* (and *Delete default VPCs* when a tier has that too) and before
 * *Allocate network*, and its function, only when a tier asks for it. The function's own role reaches the tenant
 * account through the provisioning session only: no EC2 action of its own.
 */
const OVERRIDES = { tiers: { enterprise: { ebsEncryptionByDefault: true } } };
type States = { States: Record<string, { Type: string; Next?: string; Catch?: Array<{ ErrorEquals: string[] }> }> };

describe('Enable EBS encryption by default: the onboarding state', () => {
  it('runs after Request compute quotas and before Allocate network, failures caught', () => {
    const d = new LocalWorkflows(configWith(OVERRIDES)).definitions.onboard as unknown as States;
    expect(d.States['Request compute quotas'].Next).toBe('Enable EBS encryption by default');
    expect(d.States['Enable EBS encryption by default']).toMatchObject({ Type: 'Task', Next: 'Allocate network' });
    expect(d.States['Enable EBS encryption by default'].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
  });

  it('follows Delete default VPCs when a tier asks for both', () => {
    const d = new LocalWorkflows(configWith({ tiers: { enterprise: { ebsEncryptionByDefault: true, deleteDefaultVpcs: true } } })).definitions.onboard as unknown as States;
    expect(d.States['Request compute quotas'].Next).toBe('Delete default VPCs');
    expect(d.States['Delete default VPCs'].Next).toBe('Enable EBS encryption by default');
    expect(d.States['Enable EBS encryption by default'].Next).toBe('Allocate network');
  });

  it('does not exist without a tier that asks for it', () => {
    const d = new LocalWorkflows(configWith()).definitions.onboard as unknown as States;
    expect(d.States['Enable EBS encryption by default']).toBeUndefined();
    expect(d.States['Request compute quotas'].Next).toBe('Allocate network');
  });
});

describe('Enable EBS encryption by default: the function', () => {
  it('synthesizes clean (compliance packs, no finding) with a 2-minute function whose role has no EC2 action', async () => {
    const built = await appTemplates(OVERRIDES);
    const role = Object.entries(built.platform.findResources('AWS::IAM::Role')).find(([, r]: [string, any]) => r.Properties.RoleName === 'tessera-lifecycle-enable-ebs-encryption');
    expect(role).toBeDefined();
    const fns = Object.values(built.platform.findResources('AWS::Lambda::Function')).filter((f: any) => JSON.stringify(f.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [role![0], 'Arn'] }));
    expect(fns.map((f: any) => f.Properties.Timeout)).toEqual([120]);
    const actions = JSON.stringify([built.platform.findResources('AWS::IAM::Policy'), built.platform.findResources('AWS::IAM::ManagedPolicy'), built.functionPolicies]);
    expect(actions).not.toMatch(/ec2:EnableEbsEncryptionByDefault|ec2:ModifyEbsDefaultKmsKeyId/);
    expect(built.validationReport.pluginReports.flatMap((r: any) => r.violations)).toEqual([]);
  });
});
