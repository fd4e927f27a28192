import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';
import { buildApp, configWith } from '../support/synth.js';
import { NO_RESOURCE_TYPE_ACTIONS } from '../support/iam-actions.js';

interface Suppressed { ruleName: string; reason: string; acknowledgedAt: string; violatingConstructs: Array<{ constructPath: string }> }

/**
 * Actions IAM offers no resource type for: "Resource: *" is the only way to grant them. Plus
 * dynamodb:ListStreams, which Lambda's DynamoDB stream poller needs (the CORS origin index's
 * maintainer; checked against the Service Authorization Reference in test/infra/inference-api.test.ts).
 */
const NO_RESOURCE_TYPE = new Set([...NO_RESOURCE_TYPE_ACTIONS, 'dynamodb:ListStreams']);

let app: DefaultAppTemplates;
/** Every template `app.synth()` writes (the top-level stacks and the Blueprints stage's), by construct path. */
let templates: Array<{ path: string; body: any }>;

beforeAll(() => {
  // GIVEN the default config, WHEN the whole app is synthesized with the compliance packs: the default
  // app's snapshot (test/support/default-app.ts), made by `app.synth()` of `buildApp()`, which fails on
  // any finding, with its validation report and the templates as written (the same bytes, formatted as
  // the CDK writes them: JSON with one space of indentation)
  app = defaultAppTemplates();
  const paths = app.stackPaths;
  const entries: Array<[string, Template | undefined]> = [
    [paths.organization, app.organization], [paths.platform, app.platform],
    ...(paths.platformDr ? [[paths.platformDr, app.platformDr] as [string, Template | undefined]] : []),
    [paths.accountBaseline, app.accountBaseline], [paths.workloadProvisioning, app.workloadProvisioning],
    ...(['blueprints', 'namespaceBlueprints', 'drBlueprints', 'failoverBlueprints'] as const)
      .flatMap((kind) => Object.entries(app[kind]).map(([tier, t]) => [paths[kind][tier], t] as [string, Template])),
  ];
  templates = entries.map(([path, t]) => ({ path, body: t!.toJSON() }));
  // every stack of the app but the platform's nested stacks (their templates are assets of the platform's)
  expect(templates.map((t) => t.path).sort()).toEqual(paths.all.filter((p) => p !== paths.operations && p !== paths.functionPolicies && p !== paths.eventRules && p !== paths.namespaceKubectl && p !== paths.clusterAutoscaler).sort());
});

describe('the whole app', () => {
  it('runs AwsSolutions, HIPAA Security, NIST 800-53 rev 5 and CloudFormation validation', () => {
    const report = app.validationReport;
    const plugins = new Set(report.pluginReports.map((r) => r.pluginName));
    for (const p of ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'CloudFormation Validate']) expect(plugins).toContain(p);
  });

  it('has zero unacknowledged findings', () => {
    const open = app.validationReport.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });

  it('scopes every acknowledgement to one resource, with a reason', () => {
    // Construct annotations are CDK warnings on an L2, not findings on a resource.
    const suppressed: Suppressed[] = app.validationReport.pluginReports.filter((r) => r.pluginName !== 'Construct Annotations').flatMap((r) => r.suppressedViolations ?? []);
    expect(suppressed.length).toBeGreaterThan(0);
    const resourcePaths = app.resourcePaths;
    for (const s of suppressed) {
      // the CfnResources at or under the construct it is acknowledged at (none: no such construct, or one without a resource)
      const resources = resourcePaths.filter((p) => p === s.acknowledgedAt || p.startsWith(`${s.acknowledgedAt}/`));
      expect(resources.length, `${s.ruleName} acknowledged at ${s.acknowledgedAt}`).toBe(1);
      expect(s.reason.length, s.acknowledgedAt).toBeGreaterThanOrEqual(40);
      for (const v of s.violatingConstructs) expect(v.constructPath.startsWith(s.acknowledgedAt)).toBe(true);
    }
  });

  it('writes the organization stack, the platform stack and one blueprint per tier, each under 500 resources and 1 MB', () => {
    const names = templates.map((t) => t.path);
    expect(names).toEqual(expect.arrayContaining(['TesseraOrganization', 'TesseraPlatform']));
    for (const tier of ['starter', 'professional', 'enterprise']) expect(names.some((n) => n.includes(`TesseraTenant-${tier}`))).toBe(true);
    for (const t of templates) {
      expect(Object.keys(t.body.Resources).length, t.path).toBeLessThan(500);
      // the size of the file the CDK writes (JSON.stringify with one space of indentation: the same bytes)
      expect(Buffer.byteLength(JSON.stringify(t.body, undefined, 1)), t.path).toBeLessThan(1_000_000);
    }
  });

  it('never grants "*" actions, and "Resource: *" only outside key policies where the action has no resource type', () => {
    const offenders: string[] = [];
    for (const t of templates) {
      // Permissions boundaries only cap what a role's own policies grant (the account customizations role's): checked in test/infra/account-customizations-role.test.ts.
      const boundaries = new Set(Object.values<any>(t.body.Resources).map((r) => r.Properties?.PermissionsBoundary?.Ref).filter(Boolean));
      for (const [id, r] of Object.entries<any>(t.body.Resources)) {
        if (r.Type === 'AWS::KMS::Key' || r.Type === 'AWS::Organizations::Policy') continue; // "*" there is the key itself; SCPs only deny
        if (r.Type === 'AWS::IAM::ManagedPolicy' && boundaries.has(id)) continue;
        const docs = [r.Properties?.PolicyDocument, r.Properties?.AssumeRolePolicyDocument, ...(r.Type?.startsWith('AWS::IAM::') ? (r.Properties?.Policies ?? []) : []).map((p: any) => p.PolicyDocument)].filter(Boolean);
        for (const doc of docs) {
          for (const s of doc.Statement) {
            if (s.Effect !== 'Allow') continue;
            if ([s.Action].flat().some((a: string) => a === '*' || a.endsWith(':*'))) offenders.push(`${id}: action ${JSON.stringify(s.Action)}`);
            const unscoped = [s.Action].flat().filter((a: string) => !NO_RESOURCE_TYPE.has(a));
            if ([s.Resource].flat().includes('*') && unscoped.length) offenders.push(`${id}: resource * for ${JSON.stringify(unscoped)}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('builds the same number of templates whatever the tenants: tenants are data, one blueprint per tier', () => {
    const stacks = (b: { organization: unknown; platform: unknown; blueprints: object; namespaceBlueprints: object }) => [b.organization, b.platform, ...Object.values(b.blueprints), ...Object.values(b.namespaceBlueprints)].length;
    expect(stacks(app)).toBe(7);
    const twoTiers = buildApp(configWith({ tiers: { professional: null } }));
    expect(stacks(twoTiers)).toBe(5);
    // plus one account baseline, whatever the tiers
    expect(app.accountBaseline.toJSON().Description).toMatch(/account baseline/);
  });
});
