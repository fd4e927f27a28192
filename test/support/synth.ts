import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cdkCliContext, cdkJsonContext } from '../../lib/cdk-json-context.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { buildTesseraApp, type BuildOptions, type TesseraApp } from '../../lib/tessera-app.js';
import { CachedCloudFormationValidatePlugin } from './cached-cfn-validation.js';
import { configWith } from './config-with.js';
import { tempDir } from './temp-dirs.js';

export { configWith };

/**
 * An App with the CLI's context (feature flags, cached lookups) writing to a fresh temp dir.
 * Lambda bundling is skipped (`aws:cdk:bundling-stacks: []`, as `cdk synth --exclusively` does for
 * other stacks): assertions look at templates, and `npx cdk synth` in CI bundles for real.
 * aws-cdk-lib's CloudFormation validation runs as in any app, its results kept per template
 * ({@link withCachedValidation}).
 */
export function newApp(options: AppOptions = {}): App {
  const context = options.cdkCli ? cdkCliContext() : cdkJsonContext();
  return withCachedValidation(new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] }, outdir: tempDir('tessera-test-') }));
}

/** How {@link newApp} makes its App. */
export interface AppOptions {
  /**
   * With the context the CDK CLI adds (lib/cdk-json-context.ts `cdkCliContext`: each stack's `CDKMetadata`, path and
   * asset metadata): the templates, and so the CloudFormation validation's findings, are `npx cdk synth`'s (the local
   * platform's app: test/integration/support/local-workflows.ts). Without it (the infra tests), cdk.json's alone.
   * @default false
   */
  readonly cdkCli?: boolean;
}

/**
 * `app`, its CloudFormation validation (aws-cdk-lib's, `@aws-cdk/core:validateAgainstDefaultRules`)
 * kept per template on disk (test/support/cached-cfn-validation.ts: the same reports, the same
 * failures). Call it before adding other validation plugins to the App: the report then lists the
 * plugins in the order aws-cdk-lib's own one has in an app with a nested stage (in an app without
 * one, "CloudFormation Validate" comes first instead of after the App's other plugins).
 * `CDK_VALIDATION=false` turns it off, as it turns off aws-cdk-lib's.
 */
export function withCachedValidation(app: App): App {
  if (process.env.CDK_VALIDATION !== 'false') Validations.of(app).addPlugins(new CachedCloudFormationValidatePlugin());
  return app;
}

/** A bare stack for testing one construct, with the app's feature flags. */
export function newStack(id = 'TestStack'): Stack {
  return new Stack(newApp(), id, { env: { account: '123456789012', region: 'us-east-1' } });
}

/**
 * The whole app for `config` in a {@link newApp} (bundling skipped), blueprint version `0.0.0-test`.
 * `options` as `buildTesseraApp`'s (placeholders: the placeholder guard); `appOptions` as {@link newApp}'s.
 */
export function buildApp(config: PlatformConfig = configWith(), options: BuildOptions = {}, appOptions: AppOptions = {}): TesseraApp & { app: App } {
  const app = newApp(appOptions);
  return { app, ...buildTesseraApp(app, config, '0.0.0-test', options) };
}

export const template = (stack: Stack) => Template.fromStack(stack);
