import { App, CfnResource, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import { CachedCloudFormationValidatePlugin } from '../../lib/synth/cached-cfn-validation.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * lib/synth/cached-cfn-validation.ts as `npx cdk synth` uses it (bin/tessera-app.ts): its own cache
 * directory, a switch that turns the cache off, and aws-cdk-lib's own validation when the private
 * members it calls are missing. (test/infra/cached-cfn-validation.test.ts shows its reports equal
 * aws-cdk-lib's.)
 */
function appWith(plugin: CloudFormationValidatePlugin, nonce: string): App {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
  Validations.of(app).addPlugins(plugin);
  const s = new Stack(app, 'Q', { env: { account: '123456789012', region: 'us-east-1' }, description: `options ${nonce}` });
  new CfnResource(s, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: 'soon' } });
  return app;
}

/** The synth's failure message (the planted finding is an error; its outdir taken out) and its report's violations. */
function synthesize(app: App): { message: string; rules: string[] } {
  let message = '';
  try {
    app.synth();
  } catch (e) {
    message = (e as Error).message;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string }> }> };
  // aws-cdk-lib names the report relative to the working directory when that is shorter (a clone beside the temp dir).
  return { message: message.split(app.outdir).join('<outdir>').split(relative(process.cwd(), app.outdir)).join('<outdir>'), rules: report.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName}: ${v.ruleName}`)).sort() };
}

afterEach(() => vi.restoreAllMocks());

describe('CloudFormation validation kept per template (lib/synth/cached-cfn-validation.ts)', () => {
  it('writes its reports into the directory it is given and reads them back: the same failure', () => {
    const cacheDir = join(tempDir('tessera-cfn-cache-'), 'cfn-validate');
    const nonce = randomUUID();
    const first = synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir }), nonce));
    expect(first.message).toMatch(/MessageRetentionPeriod/);
    expect(first.rules).toEqual(['CloudFormation Validate: F3012']);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    // the second app's plugin never starts the engine: its report comes from the file
    const engine = vi.spyOn(CloudFormationValidatePlugin._singletonInstance() as unknown as { initializeEngine: () => unknown }, 'initializeEngine');
    expect(synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir }), nonce))).toEqual(first);
    expect(engine).not.toHaveBeenCalled();
  });

  it('a cache it cannot write is skipped: the same report, no failure (a file where the directory should be)', () => {
    const parent = tempDir('tessera-cfn-cache-');
    writeFileSync(join(parent, 'not-a-dir'), '');
    const out = synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir: join(parent, 'not-a-dir', 'cfn-validate') }), randomUUID()));
    expect(out.message).toMatch(/MessageRetentionPeriod/);
    expect(out.message).not.toMatch(/ENOTDIR|Validation plugin .* failed/);
    expect(out.rules).toEqual(['CloudFormation Validate: F3012']);
  });

  it('a cache file that is not a report (null, an object, a violation without resources) is validated again and written anew', () => {
    const cacheDir = join(tempDir('tessera-cfn-cache-'), 'cfn-validate');
    const nonce = randomUUID();
    const first = synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir }), nonce));
    const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    const good = readFileSync(join(cacheDir, file), 'utf8');
    for (const planted of ['null', '{}', '[{"ruleName":"x","severity":"error","description":"d"}]', '[1]']) {
      writeFileSync(join(cacheDir, file), planted);
      expect(synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir }), nonce)), planted).toEqual(first);
      expect(readFileSync(join(cacheDir, file), 'utf8'), planted).toBe(good);
    }
  });

  it('enabled: false validates every template and reads and writes nothing', () => {
    const cacheDir = join(tempDir('tessera-cfn-cache-'), 'cfn-validate');
    const nonce = randomUUID();
    const engine = vi.spyOn(CloudFormationValidatePlugin._singletonInstance() as unknown as { initializeEngine: () => unknown }, 'initializeEngine');
    const out = synthesize(appWith(new CachedCloudFormationValidatePlugin({ cacheDir, enabled: false }), nonce));
    expect(out.rules).toEqual(['CloudFormation Validate: F3012']);
    expect(engine).toHaveBeenCalled();
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('hands the validation to aws-cdk-lib\'s own plugin when the private members it calls are gone (another aws-cdk-lib)', () => {
    const cacheDir = join(tempDir('tessera-cfn-cache-'), 'cfn-validate');
    vi.spyOn(CloudFormationValidatePlugin, '_singletonInstance').mockReturnValue({} as CloudFormationValidatePlugin);
    const report = { success: false, violations: [{ ruleName: 'F3012', description: 'planted', severity: 'error', violatingResources: [] }] };
    const own = vi.spyOn(CloudFormationValidatePlugin.prototype, 'validate').mockReturnValue(report);
    const context = { templatePaths: [], stackTemplates: [] } as unknown as Parameters<CloudFormationValidatePlugin['validate']>[0];
    expect(new CachedCloudFormationValidatePlugin({ cacheDir }).validate(context)).toBe(report);
    expect(own).toHaveBeenCalledWith(context);
    expect(existsSync(cacheDir)).toBe(false);
  });
});
