import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.js';
import { localPlatformApp } from '../integration/support/local-workflows.js';
import { compileCacheEnv } from '../support/cli-bundle.js';
import { COMPLETE } from '../support/complete-config.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `npm run local-platform -- --config <file>` synthesizes the app of the file (local-workflows.ts localPlatformApp) and
 * aws-cdk-lib validates it in that process: it must find what `npx cdk synth` of the same file finds (bin/tessera-app.ts
 * under the CDK CLI), no more, no less. Before, with a config pinning `availabilityZones` (as `tessera init` writes
 * one), it printed four cfn-lint W3010 "Avoid hardcoding availability zones" warnings (the shared-compute VPC's subnets)
 * and the relative path of a temporary validation-report.json, where `cdk synth` reports nothing: the CLI's context adds
 * each stack's `CDKMetadata` resource, by which the validator knows a template CDK wrote and skips that rule.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/** One finding of a validation-report.json (aws-cdk-lib's format), as `<plugin> <rule>: <description> @ <construct paths>`. */
type Report = { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; description: string; violatingConstructs: Array<{ constructPath?: string }> }> }> };
const findings = (report: Report): string[] => report.pluginReports.flatMap((p) => p.violations.map((v) =>
  `${p.pluginName} ${v.ruleName}: ${v.description} @ ${v.violatingConstructs.map((c) => c.constructPath ?? '').sort().join(', ')}`)).sort();

/** `npx cdk synth --quiet` of `file` (cdk.json's app: bin/tessera-app.ts) without AWS credentials; its cdk.out's report. */
function cdkSynth(file: string): Promise<{ code: number; stderr: string; report?: Report }> {
  const out = tempDir('tessera-test-cdkout-');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CDK, 'synth', '--quiet', '-c', `tessera:configFile=${file}`, '-o', out], {
      cwd: ROOT, env: { ...env, ...compileCacheEnv(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' }, timeout: 150_000, killSignal: 'SIGKILL',
    }, (error, _stdout, stderr) => {
      const code = error ? Number(error.code ?? 1) : 0;
      resolve({ code, stderr, report: code === 0 ? JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as Report : undefined });
    });
  });
}

afterEach(() => vi.restoreAllMocks());

describe('the local platform\'s app and `cdk synth` of a config that pins availabilityZones', () => {
  it('report the same findings: no W3010 for the pinned zones, and nothing printed when there is nothing to report', async () => {
    // GIVEN a deployable config file whose platform VPC zones are pinned (test/support/complete-config.ts)
    const file = join(tempDir('tessera-test-config-'), 'tessera.config.json');
    writeFileSync(file, JSON.stringify(COMPLETE));
    // WHEN `cdk synth` synthesizes it, and the local platform's app does
    const cli = await cdkSynth(file);
    expect(cli.code, cli.stderr).toBe(0);
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    const built = localPlatformApp(loadConfig({ file }));
    const assembly = built.app.synth();
    const local = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
    // THEN the zones are hardcoded in the template (what W3010 is about)…
    const template = assembly.getStackArtifact(built.platform.artifactId).template as { Resources: Record<string, { Type: string; Properties?: { AvailabilityZone?: unknown } }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::Subnet').map((r) => r.Properties?.AvailabilityZone)).toContain('us-east-1b');
    // …and both report the same findings, W3010 in neither
    expect(findings(local)).toEqual(findings(cli.report!));
    expect(findings(local).filter((f) => f.includes('W3010'))).toEqual([]);
    // nothing to report: aws-cdk-lib prints no report and no path of its temporary validation-report.json
    if (findings(local).length === 0) expect(printed.join('\n')).not.toMatch(/W3010|validation-report\.json/);
  }, 240_000);
});
