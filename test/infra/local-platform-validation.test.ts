import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.js';
import { localPlatformApp } from '../integration/support/local-workflows.js';
import { compileCacheEnv } from '../support/cli-bundle.js';
import { COMPLETE } from '../support/complete-config.js';
import { configWith } from '../support/config-with.js';
import { appTemplates } from '../support/default-app.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `npm run local-platform -- --config <file>` synthesizes the app of the file (local-workflows.ts localPlatformApp) and
 * aws-cdk-lib validates it in that process: it must find what `npx cdk synth` of the same file finds (bin/tessera-app.ts
 * under the CDK CLI), no more, no less. Before, with a config pinning `availabilityZones` (as `tessera init` writes
 * one), it printed four cfn-lint W3010 "Avoid hardcoding availability zones" warnings (the shared-compute VPC's subnets)
 * and the relative path of a temporary validation-report.json, where `cdk synth` reports nothing: the CLI's context adds
 * each stack's `CDKMetadata` resource, by which the validator knows a template CDK wrote and skips that rule.
 *
 * Same code and same context give the same templates, so the same findings: the test proves the context against the
 * real CLI, which it runs on a trivial app that records the context it is given (not the whole app: `cdk synth` of it
 * costs seconds of CPU more, for templates this one's context already determines), and synthesizes the local
 * platform's app of a pinned-AZ config for what its validation reports and prints.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/**
 * The CDK CLI's context keys an app of the local platform does not take from the CLI, and why their values do not change
 * what it validates:
 * - `aws:cdk:bundling-stacks` (the CLI: `['**']`, test/support/synth.ts newApp: `[]`): which stacks bundle their Lambda
 *   code; skipped, only an asset's hash (its S3 key) differs, the resources and their other properties are the same
 *   (the local platform deploys no assets, and no validation rule reads an asset's key).
 * - `@aws-cdk/core:failSynthOnValidationErrors` (the CLI: `false`): the CLI then prints the validation report and fails
 *   itself; an app synthesized in-process must do both (lib/cdk-json-context.ts CDK_CLI_CONTEXT). It changes no
 *   template and no finding, only who reports them.
 */
const NOT_TAKEN_FROM_THE_CLI = ['aws:cdk:bundling-stacks', '@aws-cdk/core:failSynthOnValidationErrors'];

/**
 * An app for `cdk synth --app`: writes the context the CLI gives it (`CDK_CONTEXT_JSON`, and the file at
 * `CONTEXT_OVERFLOW_LOCATION_ENV` when it does not fit the environment) to the file of its argument, then a cloud
 * assembly of one empty stack (aws-cdk-lib's cloud-assembly-schema version) so that `cdk synth` succeeds.
 */
const RECORDING_APP = `
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const overflow = process.env.CONTEXT_OVERFLOW_LOCATION_ENV;
writeFileSync(process.argv[2], JSON.stringify({ ...JSON.parse(process.env.CDK_CONTEXT_JSON || '{}'), ...(overflow ? JSON.parse(readFileSync(overflow, 'utf8')) : {}) }));
const { revision } = JSON.parse(readFileSync(${JSON.stringify(join(ROOT, 'node_modules', '@aws-cdk', 'cloud-assembly-schema', 'schema', 'version.json'))}, 'utf8'));
const out = process.env.CDK_OUTDIR;
writeFileSync(join(out, 'Empty.template.json'), '{"Resources":{}}');
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ version: revision + '.0.0', artifacts: { Empty: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region', properties: { templateFile: 'Empty.template.json' } } } }));
`;

/** One finding of a validation-report.json (aws-cdk-lib's format), as `<plugin> <rule>: <description> @ <construct paths>`. */
type Report = { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; description: string; violatingConstructs: Array<{ constructPath?: string }> }> }> };
const findings = (report: Report): string[] => report.pluginReports.flatMap((p) => p.violations.map((v) =>
  `${p.pluginName} ${v.ruleName}: ${v.description} @ ${v.violatingConstructs.map((c) => c.constructPath ?? '').sort().join(', ')}`)).sort();

/**
 * The context `npx cdk synth --quiet` (cdk.json's, in ROOT, without AWS credentials) gives an app: {@link RECORDING_APP}'s
 * record. `--app` is a command line the CLI splits at spaces: node's path and the temp dir's must have none.
 */
function contextOfCdkSynth(): Promise<{ code: number; stderr: string; context?: Record<string, unknown> }> {
  const dir = tempDir('tessera-test-cdkcontext-');
  const app = join(dir, 'app.cjs');
  const record = join(dir, 'context.json');
  writeFileSync(app, RECORDING_APP);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_') && k !== 'CONTEXT_OVERFLOW_LOCATION_ENV'));
  return new Promise((resolve) => {
    execFile(process.execPath, [CDK, 'synth', '--quiet', '--no-notices', '--app', [process.execPath, app, record].join(' '), '-o', join(dir, 'cdk.out')], {
      cwd: ROOT, env: { ...env, ...compileCacheEnv(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' }, timeout: 60_000, killSignal: 'SIGKILL',
    }, (error, _stdout, stderr) => {
      const code = error ? Number(error.code ?? 1) : 0;
      resolve({ code, stderr, context: code === 0 ? JSON.parse(readFileSync(record, 'utf8')) as Record<string, unknown> : undefined });
    });
  });
}

/** `context` without {@link NOT_TAKEN_FROM_THE_CLI}'s keys. */
const compared = (context: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(context).filter(([k]) => !NOT_TAKEN_FROM_THE_CLI.includes(k)));

afterEach(() => vi.restoreAllMocks());

describe('the local platform\'s app of a config that pins availabilityZones', () => {
  it('has the context `cdk synth` gives an app, and reports what it reports: no W3010 for the pinned zones, nothing printed when there is nothing to report', async () => {
    // GIVEN a deployable config file whose platform VPC zones are pinned (test/support/complete-config.ts)
    const file = join(tempDir('tessera-test-config-'), 'tessera.config.json');
    writeFileSync(file, JSON.stringify(COMPLETE));
    // WHEN the CDK CLI runs an app, and the local platform's app of the file is synthesized
    const cli = await contextOfCdkSynth();
    expect(cli.code, cli.stderr).toBe(0);
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    const built = localPlatformApp(loadConfig({ file }));
    const assembly = built.app.synth();
    const local = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
    // THEN its context is the CLI's (cdk.json's feature flags, version reporting, path and asset metadata), key for key
    expect(compared(built.app.node.getAllContext() as Record<string, unknown>)).toEqual(compared(cli.context!));
    expect(cli.context).toMatchObject({ 'aws:cdk:version-reporting': true });
    // …so its stacks carry CDKMetadata, while the zones are hardcoded in the template (what W3010 is about)…
    const template = assembly.getStackArtifact(built.platform.artifactId).template as { Resources: Record<string, { Type: string; Properties?: { AvailabilityZone?: unknown } }> };
    expect(template.Resources.CDKMetadata?.Type).toBe('AWS::CDK::Metadata');
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::Subnet').map((r) => r.Properties?.AvailabilityZone)).toContain('us-east-1b');
    // …and its validation reports no W3010
    expect(findings(local).filter((f) => f.includes('W3010'))).toEqual([]);
    // nothing to report: aws-cdk-lib prints no report and no path of its temporary validation-report.json
    if (findings(local).length === 0) expect(printed.join('\n')).not.toMatch(/W3010|validation-report\.json/);
  }, 240_000);

  /**
   * The local platform's server does not synthesize through localPlatformApp: its workflows come from the app snapshot of the
   * config (test/integration/support/lifecycle-definitions.ts snapshotDefinitions, test/support/default-app.ts configTemplates),
   * an app with cdk.json's context alone, no CDKMetadata, whose validation raised W3010 at each of the platform VPC's four
   * subnets: `npm run local-platform -- --config <init's config>` printed four warnings and a validation-report.json path.
   * The zones are pinned on purpose (constructs/network.ts PINNED_ZONES_REASON): acknowledged at each subnet with that reason.
   * Read from that snapshot of the file's config (the one placeholder-guard.test.ts reads: made once per state of the
   * sources, by `app.synth()` of `buildApp`, in a process of its own), not from a synth of this file's own: the report is
   * the synth's validation-report.json, the acknowledgements its suppressed findings (rule, reason, construct path).
   */
  it('an app without the CLI\'s context (the snapshot the local platform\'s workflows come from) reports no W3010 either: each pinned subnet acknowledges it, with the reason', async () => {
    const { PINNED_ZONES_REASON } = await import('../../constructs/network.js');
    const file = join(tempDir('tessera-test-config-'), 'tessera.config.json');
    writeFileSync(file, JSON.stringify(COMPLETE));
    // the file's config is the snapshot's (the placeholder guard adds nothing: a complete config has no placeholder)
    expect(loadConfig({ file })).toEqual(configWith(COMPLETE));
    const built = await appTemplates(COMPLETE, { placeholders: [] });
    const template = built.platform.toJSON() as { Resources: Record<string, { Type: string; Properties?: { AvailabilityZone?: unknown } }> };
    // no CDKMetadata (what made the validator skip W3010), the zones still hard-coded
    expect(template.Resources.CDKMetadata).toBeUndefined();
    const subnetIds = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::EC2::Subnet').map(([id]) => id);
    expect(subnetIds.map((id) => template.Resources[id]!.Properties?.AvailabilityZone)).toContain('us-east-1b');
    expect(findings(built.validationReport as unknown as Report).filter((f) => f.includes('W3010'))).toEqual([]);
    // acknowledged at the platform VPC's subnets only (every subnet of the platform stack), each with the reason
    const subnets = built.resourcePaths.filter((path) => path.startsWith(`${built.stackPaths.platform}/`) && subnetIds.includes(built.logicalIdAt(path)));
    expect(subnets).toHaveLength(subnetIds.length);
    expect(subnets.length).toBeGreaterThanOrEqual(4);
    const acknowledged = built.validationReport.pluginReports.flatMap((p) => (p.suppressedViolations ?? []).filter((v) => v.ruleName === 'W3010')
      .flatMap((v) => v.violatingConstructs.map((c) => [c.constructPath, v.reason])));
    for (const path of subnets) {
      expect(path).toMatch(/^TesseraPlatform\/SharedCompute\/Network\/Vpc\//);
      expect(acknowledged).toContainEqual([path, PINNED_ZONES_REASON]);
    }
  }, 240_000);
});
