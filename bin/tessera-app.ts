#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { ConfigError, configSourcesFromContext, loadConfigReport } from '../lib/config/load-config.js';
import { buildTesseraApp } from '../lib/tessera-app.js';
import { BUNDLING_LOG_LEVEL_CONTEXT } from '../constructs/lambda-function.js';
import { quietBundlingProgress } from '../lib/quiet-bundling.js';

const app = new App();
quietBundlingProgress(app.node.tryGetContext(BUNDLING_LOG_LEVEL_CONTEXT) === 'info');
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
try {
  const sources = configSourcesFromContext((key) => app.node.tryGetContext(key));
  // A config file means a real deployment: its synth refuses placeholders. Without one (the
  // embedded default, perhaps with context overrides) synth works offline and the stacks carry a
  // rule that refuses every deployment while placeholders remain.
  const { config, placeholders } = loadConfigReport(sources, { refusePlaceholders: sources.file !== undefined });
  buildTesseraApp(app, config, version, { placeholders });
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
app.synth();
