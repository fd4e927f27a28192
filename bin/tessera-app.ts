#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { ConfigError, configSourcesFromContext, loadConfig } from '../lib/config/load-config.js';
import { buildTesseraApp } from '../lib/tessera-app.js';

const app = new App();
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
try {
  const config = loadConfig(configSourcesFromContext((key) => app.node.tryGetContext(key)));
  buildTesseraApp(app, config, version);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
app.synth();
