import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfigReport } from '../../lib/config/load-config.js';
import { addPlaceholderGuard, PLACEHOLDER_GUARD } from '../../lib/placeholder-guard.js';
import { bundledEntry, compileCacheEnv } from '../support/cli-bundle.js';
import { appTemplates } from '../support/default-app.js';
import { COMPLETE } from '../support/complete-config.js';
import { configWith, newStack } from '../support/synth.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * Issue 13, item 2: synth with a config file and every deploy refuse placeholders; the default
 * config's offline synth still works (its stacks carry a rule that refuses every deployment); a
 * complete config synthesizes with no credentials, no lookups and no cdk.context.json.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');


interface Run { code: number; stdout: string; stderr: string }

/**
 * Runs the CDK CLI in the project with no AWS credentials at all; killed after 120 s. The app is
 * cdk.json's (`node bin/cdk-app.mjs`: bin/tessera-app.ts from its esbuild build, bin/app-bundle.mjs) unless `args` give `--app`; with Node's compile cache
 * (test/support/cli-bundle.ts).
 */
function cdk(...args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CDK, ...args, '-o', tempDir('tessera-test-cdkout-')], {
      cwd: ROOT, env: { ...env, ...compileCacheEnv(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' }, timeout: 120_000, killSignal: 'SIGKILL',
    }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** A stack with one resource (a template must have one), validated like every synthesized template. */
function stackWithAResource(): Stack {
  const stack = newStack();
  new CfnWaitConditionHandle(stack, 'AnyResource');
  return stack;
}

describe('placeholder guard', () => {
  it('adds a rule that cannot hold, listing the keys to set', () => {
    // GIVEN the default config's placeholders
    const { placeholders } = loadConfigReport();
    const stack = stackWithAResource();
    // WHEN the guard is added
    addPlaceholderGuard(stack, placeholders);
    // THEN the parameter admits only the marker and the rule asks for another value
    const t = Template.fromStack(stack).toJSON() as { Parameters: Record<string, { AllowedValues: string[]; Default: string }>; Rules: Record<string, { Assertions: Array<{ Assert: unknown; AssertDescription: string }> }> };
    expect(t.Parameters[PLACEHOLDER_GUARD.parameter]).toMatchObject({ Default: 'placeholders-remain', AllowedValues: ['placeholders-remain'] });
    const [assertion] = t.Rules[PLACEHOLDER_GUARD.rule]!.Assertions;
    expect(assertion!.Assert).toEqual({ 'Fn::Equals': [{ Ref: PLACEHOLDER_GUARD.parameter }, 'none'] });
    expect(t.Parameters[PLACEHOLDER_GUARD.parameter]!.AllowedValues).not.toContain('none');
    expect(assertion!.AssertDescription).toContain('set organization.managementAccountId, organization.organizationId, organization.rootId, organization.accountEmail, platformAccountId, workloadAccountId, fineTuning.baseModels in a config file');
  });

  it('adds nothing when no placeholder remains', () => {
    const stack = stackWithAResource();
    addPlaceholderGuard(stack, []);
    const t = Template.fromStack(stack).toJSON() as { Rules?: object; Parameters?: Record<string, unknown> };
    expect(t.Rules?.[PLACEHOLDER_GUARD.rule as keyof object]).toBeUndefined();
    expect(t.Parameters?.[PLACEHOLDER_GUARD.parameter]).toBeUndefined();
  });

  it('puts the guard in every stack `cdk deploy` could deploy when placeholders remain: organization, platform and each environment-agnostic blueprint', async () => {
    const { config, placeholders } = loadConfigReport();
    expect(config).toEqual(configWith());
    // the app built with them (buildTesseraApp's placeholders option), synthesized once per state of the sources (test/support/default-app.ts)
    const built = await appTemplates({}, { placeholders });
    const stacks = [built.organization, built.platform, built.accountBaseline, ...Object.values(built.blueprints), ...Object.values(built.namespaceBlueprints)];
    // every stack of the Blueprints stage (its children that are stacks, all of them below)
    const paths = built.stackPaths;
    const stageStacks = [
      [paths.accountBaseline, built.accountBaseline], [paths.workloadProvisioning, built.workloadProvisioning],
      ...(['blueprints', 'namespaceBlueprints', 'drBlueprints', 'failoverBlueprints'] as const).flatMap((kind) => Object.entries(built[kind]).map(([tier, t]) => [paths[kind][tier], t] as const)),
    ] as Array<readonly [string, Template]>;
    expect(stageStacks.map(([path]) => path).sort()).toEqual([...paths.blueprintStage].sort());
    expect(paths.blueprintStage.length).toBeGreaterThan(stacks.length - 2 - 1);
    for (const [name, t] of [['organization', built.organization], ['platform', built.platform], ...stageStacks] as Array<readonly [string, Template]>) {
      expect(t.toJSON().Rules?.[PLACEHOLDER_GUARD.rule], name).toBeDefined();
    }
  }, 240_000);

  it('a complete config synthesizes with no credentials, no lookups and the zones it pins', async () => {
    // GIVEN no cdk.context.json and an App with only cdk.json's flags (test/support/synth.ts's newApp)
    expect(existsSync(join(ROOT, 'cdk.context.json'))).toBe(false);
    const { config, placeholders } = loadConfigReport({ overrides: COMPLETE });
    expect(placeholders).toEqual([]);
    expect(config).toEqual(configWith(COMPLETE));
    // WHEN the whole app is built (synthesized once per state of the sources: test/support/default-app.ts)
    const built = await appTemplates(COMPLETE, { placeholders });
    // THEN no stack asks for a lookup, no guard is added, and the platform VPC uses the pinned zones
    const names = built.stackPaths;
    for (const [name, t] of [[names.organization, built.organization], [names.platform, built.platform]] as const) {
      expect(built.errors[name], name).toEqual([]);
      expect(t.toJSON().Rules?.[PLACEHOLDER_GUARD.rule]).toBeUndefined();
    }
    const zones = built.platform.findResources('AWS::EC2::Subnet');
    expect(new Set(Object.values(zones).map((s) => (s as { Properties: { AvailabilityZone: unknown } }).Properties.AvailabilityZone))).toEqual(new Set(['us-east-1b', 'us-east-1d']));
  }, 240_000);

  // `cdk synth` runs cdk.json's app (node bin/cdk-app.mjs: bin/tessera-app.ts from its esbuild build) as an
  // engineer's does; `cdk deploy` runs the same bin/tessera-app.ts bundled (`--app 'node <bundle>'`:
  // no TypeScript transform, about half the CPU of a run here).
  it.each([['synth'], ['deploy']])('`cdk %s` with a config file that keeps placeholders refuses before any AWS call', async (command) => {
    // GIVEN a file that sets only the management account
    const file = join(tempDir('tessera-test-config-'), 'tessera.config.yaml');
    writeFileSync(file, 'organization:\n  managementAccountId: "444444444444"\n');
    // WHEN the CDK CLI runs the app with it
    const extra = command === 'deploy' ? ['TesseraPlatform', '--require-approval', 'never', '--app', `${process.execPath} ${await bundledEntry('bin/tessera-app.ts')}`] : ['--quiet'];
    const run = await cdk(command, ...extra, '-c', `tessera:configFile=${file}`);
    // THEN it fails at the config, listing each key to set, and never reaches for credentials
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('placeholders remain, so it cannot be deployed');
    expect(run.stderr).toContain(`platformAccountId = "222222222222": is a placeholder of the embedded default; set the platform account id in ${file}`);
    expect(run.stderr).not.toMatch(/credentials|Need to perform AWS calls/i);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 150_000);

  it('`cdk synth` with a misspelt tessera: context key refuses it instead of synthesizing the embedded default', async () => {
    // GIVEN a complete config file, named with a lower-case f (the key is tessera:configFile)
    const file = join(tempDir('tessera-test-config-'), 'good.yaml');
    writeFileSync(file, JSON.stringify(COMPLETE));
    // WHEN the CDK CLI runs the app with it
    const run = await cdk('synth', '--quiet', '-c', `tessera:configfile=${file}`);
    // THEN it fails naming the key, the key it meant and the keys the app reads
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('context key tessera:configfile is not one Tessera reads; did you mean `tessera:configFile`? (known keys: tessera:configFile, tessera:config, tessera:bundlingLogLevel)');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 150_000);
});
