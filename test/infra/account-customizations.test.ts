import { resolve } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { lifecycleIdsOf } from '../support/app-snapshot.js';
import { configWith } from '../support/config-with.js';
import { buildApp } from '../support/synth.js';
import { definitionsOf } from '../integration/support/lifecycle-definitions.js';
import { LocalWorkflows } from '../integration/support/local-workflows.js';

/**
 * Account customizations (tiers.<tier>.accountCustomizations): the templates in the blueprint catalog, the
 * *Deploy customizations* states after the blueprints of the onboarding and the change (and so the upgrade's item), and
 * the function with its grants only when a tier has one.
 */
type States = { States: Record<string, { Type: string; Next?: string; Default?: string; Choices?: Array<{ Next?: string; Variable?: string; StringEquals?: string }>; Resource?: string; Parameters?: Record<string, unknown>; Catch?: Array<{ ErrorEquals: string[]; Next: string }>; ItemProcessor?: States }> };

const config = configWith({ tiers: { enterprise: { accountCustomizations: [{ name: 'security', templateFile: resolve('test/fixtures/customizations/security.yaml'), parameters: { AlertEmail: 'sec@platform.example.com' } }], accountCustomizationsRole: { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSNSFullAccess', 'arn:aws:iam::aws:policy/AmazonSSMFullAccess'] } } } });
const built = buildApp(config);
const platform = Template.fromStack(built.platform).toJSON();
const definitions = definitionsOf(platform, lifecycleIdsOf(built), built.platform.account) as unknown as Record<string, States>;

describe('account customizations: catalog and workflows', () => {
  it('publishes each customization template, as JSON, in the blueprint catalog under customizations/<tier>/<name>.template.json', () => {
    expect(Object.keys(built.blueprintTemplates).filter((k) => k.startsWith('customizations/'))).toEqual(['customizations/enterprise/security.template.json']);
    expect(built.blueprintTemplates['customizations/enterprise/security.template.json']).toMatchObject({ Resources: { AlertSubscription: { Properties: { TopicArn: { Ref: 'Alerts' } } } } });
  });

  it('deploys them after the tier blueprint and before Wire tenant in the onboarding, polling in a Wait state', () => {
    const d = definitions.onboard;
    expect(d.States['Needs namespace?']).toMatchObject({ Default: 'Deploy customizations' });
    expect(d.States['Namespace ready']).toMatchObject({ Next: 'Deploy customizations' });
    expect(d.States['Deploy customizations']).toMatchObject({ Type: 'Task', Next: 'Customizations deployed?', Parameters: { 'request.$': '$.request', stateName: 'Deploy customizations' } });
    expect(d.States['Customizations deployed?']).toMatchObject({ Choices: [{ Variable: '$.customizations.state', StringEquals: 'COMPLETE', Next: 'Wire tenant' }], Default: 'Wait for customizations' });
    expect(d.States['Wait for customizations']).toMatchObject({ Type: 'Wait', Next: 'Check customizations' });
    expect(d.States['Check customizations']).toMatchObject({ Type: 'Task', Parameters: { 'customizations.$': '$.customizations', stateName: 'Check customizations' } });
    expect(d.States['Deploy customizations'].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
  });

  it('re-applies them in a change and in each tenant of a rolling upgrade (a refused change set takes the refusal path), before the usage key moves', () => {
    const change = definitions.change;
    expect(change.States['Needs namespace?']).toMatchObject({ Default: 'Deploy customizations' });
    // after them an account tenant's tags change retags its account (Tag the account?), then the usage key moves
    expect(change.States['Customizations ready?']).toMatchObject({ Choices: [{ Next: 'Tag the account?' }] });
    expect(change.States['Tag the account?']).toMatchObject({ Choices: [{ Next: 'Tag account' }], Default: 'Move usage key' });
    expect(change.States['Deploy customizations'].Parameters).toMatchObject({ 'change.$': '$.change', kind: 'change' });
    const item = Object.values(definitions.upgrade.States).find((s) => s.ItemProcessor)!.ItemProcessor!;
    expect(item.States['Deploy customizations'].Catch?.map((c) => c.ErrorEquals)).toEqual([['ChangeRefused'], ['States.ALL']]);
    expect(item.States['Deploy customizations'].Parameters).toMatchObject({ kind: 'upgrade' });
  });

  it('gives the function the provisioning session and the catalog, and no state or function exists without customizations', () => {
    const roles = Object.values(platform.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::IAM::Role').map((r) => r.Properties.RoleName);
    expect(roles).toContain('tessera-lifecycle-deploy-customizations');
    const plain = new LocalWorkflows(configWith());
    for (const name of ['onboard', 'change'] as const) expect(Object.keys((plain.definitions[name] as unknown as States).States).filter((n) => /customization/i.test(n))).toEqual([]);
  });
});
