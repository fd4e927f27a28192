import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, configWith } from '../support/synth.js';
import { NO_RESOURCE_TYPE_ACTIONS } from '../support/iam-actions.js';

interface Suppressed { ruleName: string; reason: string; acknowledgedAt: string; violatingConstructs: Array<{ constructPath: string }> }
interface Report { pluginReports: Array<{ pluginName: string; violations: unknown[]; suppressedViolations?: Suppressed[] }> }

/**
 * Actions IAM offers no resource type for: "Resource: *" is the only way to grant them. Plus
 * dynamodb:ListStreams, which Lambda's DynamoDB stream poller needs (the CORS origin index's
 * maintainer; checked against the Service Authorization Reference in test/infra/inference-api.test.ts).
 */
const NO_RESOURCE_TYPE = new Set([...NO_RESOURCE_TYPE_ACTIONS, 'dynamodb:ListStreams']);

let built: ReturnType<typeof buildApp>;
let outdir: string;
let report: Report;
let templates: Array<{ path: string; body: any }>;

beforeAll(() => {
  // GIVEN the default config, WHEN the whole app is synthesized with the compliance packs
  built = buildApp();
  const assembly = built.app.synth();
  outdir = assembly.directory;
  report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
  const nested = built.blueprintStage.synth();
  templates = [...assembly.stacks, ...nested.stacks].map((s) => ({ path: join(s.assembly.directory, s.templateFile), body: s.template }));
});

describe('the whole app', () => {
  it('runs AwsSolutions, HIPAA Security, NIST 800-53 rev 5 and CloudFormation validation', () => {
    const plugins = new Set(report.pluginReports.map((r) => r.pluginName));
    for (const p of ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'CloudFormation Validate']) expect(plugins).toContain(p);
  });

  it('has zero unacknowledged findings', () => {
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });

  it('scopes every acknowledgement to one resource, with a reason', () => {
    // Construct annotations are CDK warnings on an L2, not findings on a resource.
    const suppressed = report.pluginReports.filter((r) => r.pluginName !== 'Construct Annotations').flatMap((r) => r.suppressedViolations ?? []);
    expect(suppressed.length).toBeGreaterThan(0);
    const byPath = new Map<string, IConstruct>(built.app.node.findAll().map((c) => [c.node.path, c]));
    for (const s of suppressed) {
      const at = byPath.get(s.acknowledgedAt);
      expect(at, s.acknowledgedAt).toBeDefined();
      const resources = at!.node.findAll().filter((c) => CfnResource.isCfnResource(c));
      expect(resources.length, `${s.ruleName} acknowledged at ${s.acknowledgedAt}`).toBe(1);
      expect(s.reason.length, s.acknowledgedAt).toBeGreaterThanOrEqual(40);
      for (const v of s.violatingConstructs) expect(v.constructPath.startsWith(s.acknowledgedAt)).toBe(true);
    }
  });

  it('writes the organization stack, the platform stack and one blueprint per tier, each under 500 resources and 1 MB', () => {
    const names = templates.map((t) => t.path.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['TesseraOrganization.template.json', 'TesseraPlatform.template.json']));
    for (const tier of ['starter', 'professional', 'enterprise']) expect(names.some((n) => n!.includes(`TesseraTenant${tier}`))).toBe(true);
    for (const t of templates) {
      expect(Object.keys(t.body.Resources).length, t.path).toBeLessThan(500);
      expect(statSync(t.path).size, t.path).toBeLessThan(1_000_000);
    }
  });

  it('never grants "*" actions, and "Resource: *" only outside key policies where the action has no resource type', () => {
    const offenders: string[] = [];
    for (const t of templates) {
      for (const [id, r] of Object.entries<any>(t.body.Resources)) {
        if (r.Type === 'AWS::KMS::Key' || r.Type === 'AWS::Organizations::Policy') continue; // "*" there is the key itself; SCPs only deny
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
    const stacks = (b: ReturnType<typeof buildApp>) => [b.organization, b.platform, ...Object.values(b.blueprints), ...Object.values(b.namespaceBlueprints)].length;
    expect(stacks(built)).toBe(7);
    const twoTiers = buildApp(configWith({ tiers: { professional: null } }));
    expect(stacks(twoTiers)).toBe(5);
    // plus one account baseline, whatever the tiers
    expect(built.accountBaseline.templateOptions.description).toMatch(/account baseline/);
  });
});
