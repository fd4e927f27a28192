import { App, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../lib/cdk-json-context.js';
import { templateKey, VALIDATION_CACHE_DIR } from '../support/cached-cfn-validation.js';
import { newApp } from '../support/synth.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * test/support/cached-cfn-validation.ts (the test apps' CloudFormation validation, kept per
 * template) must report exactly what aws-cdk-lib's own plugin reports: the same findings, merged
 * across templates the same way, in the same order, whether the templates were validated now or
 * read from the cache.
 */
const CACHE_DIR = VALIDATION_CACHE_DIR;

/** Two stacks at the top and one in a nested stage, with findings of several rules, one of them in all three. */
function plantFindings(app: App, nonce: string): void {
  const env = { account: '123456789012', region: 'us-east-1' };
  const a = new Stack(app, 'A', { env, description: `planted ${nonce}` });
  new CfnResource(a, 'Bucket', { type: 'AWS::S3::Bucket', properties: { BucketName: 7, Bogus: 1 } });
  new CfnResource(a, 'Queue', { type: 'AWS::SQS::Queue', properties: { Bogus: 1 } });
  const b = new Stack(app, 'B', { env, description: `planted ${nonce}` });
  new CfnResource(b, 'Queue', { type: 'AWS::SQS::Queue', properties: { Bogus: 2, MessageRetentionPeriod: 'soon' } });
  const nested = new Stack(new Stage(app, 'Inner'), 'C', { env, description: `planted ${nonce}` });
  new CfnResource(nested, 'Bucket', { type: 'AWS::S3::Bucket', properties: { Bogus: 3 } });
}

/**
 * validation-report.json of the app's synth (it fails: the findings are errors) and the error
 * message, with the run's outdir (absolute or relative) taken out and without the stack traces (they name the test's line
 * that built each app).
 */
function synthesize(app: App): { report: unknown; message: string } {
  let message = '';
  try {
    app.synth();
  } catch (e) {
    message = (e as Error).message;
  }
  const dir = app.outdir;
  const report = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8').split(dir).join('<outdir>'), (key, value: unknown) =>
    key === 'stackTraces' || key === 'acknowledgedStackTrace' ? undefined : value) as unknown;
  // aws-cdk-lib names the report's copy relative to the working directory (`../<tmp>/…/validation-report.json` when TMPDIR is beside the checkout, as in .ci/run).
  return { report, message: message.split(dir).join('<outdir>').split(relative(process.cwd(), dir)).join('<outdir>') };
}

describe('the test apps\' CloudFormation validation, kept per template', () => {
  it('reports what aws-cdk-lib\'s own validation reports, validated now and then read from the cache', () => {
    // GIVEN templates no run has validated yet (a fresh nonce), with findings in three templates
    const nonce = randomUUID();
    const own = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') });
    plantFindings(own, nonce);
    const cold = newApp();
    plantFindings(cold, nonce);
    const warm = newApp();
    plantFindings(warm, nonce);
    // WHEN aws-cdk-lib's plugin validates them, then the cached one (cold: every template validated), then again (warm)
    const expected = synthesize(own);
    const first = synthesize(cold);
    const keys = cold.node.findAll().filter((c): c is Stack => Stack.isStack(c))
      .map((s) => templateKey(readFileSync(join(Stage.of(s)!.outdir, s.templateFile)), { templatePath: s.templateFile, accountId: s.account, region: s.region }));
    const cachedAfterFirst = keys.map((k) => existsSync(join(CACHE_DIR, `${k}.json`)));
    const second = synthesize(warm);
    // THEN the same report, the same failure
    expect(expected.message).toMatch(/ERROR Bogus: Additional properties are not allowed/);
    expect(JSON.stringify(expected.report)).toContain('F3002');
    expect(first).toEqual(expected);
    expect(cachedAfterFirst).toEqual([true, true, true]);
    expect(second).toEqual(expected);
  });

  it('keys each template on its bytes: a changed template is validated again', () => {
    // GIVEN a stack validated once, WHEN its template changes by one property
    const nonce = randomUUID();
    const build = (retention: number) => {
      const app = newApp();
      const s = new Stack(app, 'Queue', { env: { account: '123456789012', region: 'us-east-1' }, description: `changed ${nonce}` });
      new CfnResource(s, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: retention } });
      return app;
    };
    // THEN a valid value passes and an out-of-range one fails, each as aws-cdk-lib decides
    expect(() => build(345_600).synth()).not.toThrow();
    expect(() => build(999_999_999).synth()).toThrow(/MessageRetentionPeriod/);
  });
});
