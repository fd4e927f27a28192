import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import type { LifecycleStep } from '../../lambdas/shared/handler.js';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { appTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/**
 * tiers.<tier>.s3PublicAccessBlock (LZA's s3PublicAccessBlock, Security Hub's S3.1): the *Set S3 Block Public Access*
 * state of the onboarding, after the account settings inside the tenant account (*Request compute quotas*, *Delete
 * default VPCs*, *Enable EBS encryption by default* when a tier has them), before *Set alternate contacts* and *Allocate
 * network*, and its function, only when a tier asks for it. The function's own role reaches the tenant account through
 * the provisioning session only: no S3 account action of its own.
 */
const OVERRIDES = { tiers: { enterprise: { s3PublicAccessBlock: true } } };
const CONTACT = { name: 'Security', title: 'Team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 206 555 0100' };
type States = { States: Record<string, { Type: string; Next?: string; Catch?: Array<{ ErrorEquals: string[] }> }> };

describe('Set S3 Block Public Access: the onboarding state', () => {
  it('runs after Request compute quotas and before Allocate network, failures caught', () => {
    const d = new LocalWorkflows(configWith(OVERRIDES)).definitions.onboard as unknown as States;
    expect(d.States['Request compute quotas'].Next).toBe('Set S3 Block Public Access');
    expect(d.States['Set S3 Block Public Access']).toMatchObject({ Type: 'Task', Next: 'Allocate network' });
    expect(d.States['Set S3 Block Public Access'].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
  });

  it('follows Enable EBS encryption by default and precedes Set alternate contacts when a tier asks for all of them', () => {
    const d = new LocalWorkflows(configWith({ tiers: { enterprise: { deleteDefaultVpcs: true, ebsEncryptionByDefault: true, s3PublicAccessBlock: true, alternateContacts: { security: CONTACT } } } })).definitions.onboard as unknown as States;
    expect(d.States['Delete default VPCs'].Next).toBe('Enable EBS encryption by default');
    expect(d.States['Enable EBS encryption by default'].Next).toBe('Set S3 Block Public Access');
    expect(d.States['Set S3 Block Public Access'].Next).toBe('Set alternate contacts');
    expect(d.States['Set alternate contacts'].Next).toBe('Allocate network');
  });

  it('passes asl-validator, retries throttling and records its own name as the registry\'s currentStep', async () => {
    const d = new LocalWorkflows(configWith(OVERRIDES)).definitions.onboard;
    const result = aslValidator(structuredClone(d), { checkArn: true, checkPaths: true });
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
    const task = (d as unknown as { States: Record<string, { Resource?: string; Parameters?: Record<string, unknown>; Retry?: Array<{ ErrorEquals: string[] }> }> }).States['Set S3 Block Public Access'];
    expect(task.Resource).toMatch(/:function:set-s3-public-access-block$/);
    expect(task.Retry?.[0].ErrorEquals).toEqual(expect.arrayContaining(['TooManyRequestsException', 'ThrottlingException', 'Throttling']));
    const { handler } = (await import('../../lambdas/lifecycle/set-s3-public-access-block.js')) as { handler: LifecycleStep };
    expect(handler.recordedStep(task.Parameters ?? {})).toBe('Set S3 Block Public Access');
  });

  it('does not exist without a tier that asks for it', () => {
    const d = new LocalWorkflows(configWith({ tiers: { enterprise: { ebsEncryptionByDefault: true } } })).definitions.onboard as unknown as States;
    expect(d.States['Set S3 Block Public Access']).toBeUndefined();
    expect(d.States['Enable EBS encryption by default'].Next).toBe('Allocate network');
  });
});

describe('Set S3 Block Public Access: the function', () => {
  it('synthesizes clean (compliance packs, no finding) with a 1-minute function whose role has no S3 account action', async () => {
    const built = await appTemplates(OVERRIDES);
    const role = Object.entries(built.platform.findResources('AWS::IAM::Role')).find(([, r]: [string, any]) => r.Properties.RoleName === 'tessera-lifecycle-set-s3-public-access-block');
    expect(role).toBeDefined();
    const fns = Object.values(built.platform.findResources('AWS::Lambda::Function')).filter((f: any) => JSON.stringify(f.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [role![0], 'Arn'] }));
    expect(fns.map((f: any) => f.Properties.Timeout)).toEqual([60]);
    const actions = JSON.stringify([built.platform.findResources('AWS::IAM::Policy'), built.platform.findResources('AWS::IAM::ManagedPolicy'), built.functionPolicies]);
    expect(actions).not.toMatch(/s3:PutAccountPublicAccessBlock|s3:PutAccountPublic\*/);
    expect(built.validationReport.pluginReports.flatMap((r: any) => r.violations)).toEqual([]);
  });
});
