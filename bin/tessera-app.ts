#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { ConfigError, configSourcesFromContext, loadConfigReport, refuseUnknownContextKeys } from '../lib/config/load-config.js';
import { managementAccountWarnings } from '../lib/config/management-account.js';

/** A config error: its message alone on stderr, exit 1; anything else is thrown as it is. */
function exitOnConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}

const app = new App();
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
let report: ReturnType<typeof loadConfigReport>;
/** The config file, named in an error of its account customizations' templates (as loadConfig names it in its own). */
let configSource: string | undefined;
try {
  // A misspelt `-c tessera:configfile=…` is refused, not ignored (the embedded default synthesized).
  refuseUnknownContextKeys(app.node.getAllContext() as Record<string, unknown>);
  const sources = configSourcesFromContext((key) => app.node.tryGetContext(key));
  configSource = sources.file;
  // A config file means a real deployment: its synth refuses placeholders. Without one (the
  // embedded default, perhaps with context overrides) synth works offline and the stacks carry a
  // rule that refuses every deployment while placeholders remain.
  report = loadConfigReport(sources, { refusePlaceholders: sources.file !== undefined });
} catch (e) {
  exitOnConfigError(e);
}
// What the config allows but AWS or the guardrails advise against (the platform in the management or the workload account): said at every synth, on stderr.
for (const warning of managementAccountWarnings(report.config)) console.error(`Tessera config warning: ${warning}`);
// The app's constructs (and through them most of aws-cdk-lib) are imported once the config is
// good: a refused config costs the config's schemas, not them (`cdk synth` with placeholders left,
// the app's part: 2.3-2.8 -> 0.9-1.0 s of CPU here, through tsx).
const [{ buildTesseraApp }, { BUNDLING_LOG_LEVEL_CONTEXT }, { quietBundlingProgress }, { CachedCloudFormationValidatePlugin, VALIDATION_CACHE_DIR }] = await Promise.all([
  import('../lib/tessera-app.js'), import('../constructs/lambda-function.js'), import('../lib/quiet-bundling.js'), import('../lib/synth/cached-cfn-validation.js'),
]);
quietBundlingProgress(app.node.tryGetContext(BUNDLING_LOG_LEVEL_CONTEXT) === 'info');
// aws-cdk-lib's CloudFormation validation, each template's report kept in .tessera/synth-cache/ (a
// template validated before is not validated again; the same report). `CDK_VALIDATION=false` turns
// validation off as for any app; `TESSERA_SYNTH_CACHE=off` validates every template (and runs
// esbuild for the Lambdas, lib/bundling/lambda-build-cache.ts).
if (process.env.CDK_VALIDATION !== 'false') {
  Validations.of(app).addPlugins(new CachedCloudFormationValidatePlugin({ cacheDir: VALIDATION_CACHE_DIR, enabled: process.env.TESSERA_SYNTH_CACHE !== 'off' }));
}
try {
  buildTesseraApp(app, report.config, version, { placeholders: report.placeholders, configSource });
} catch (e) {
  exitOnConfigError(e);
}
app.synth();
