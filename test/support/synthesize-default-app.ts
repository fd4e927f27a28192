/**
 * `node --import tsx test/support/synthesize-default-app.ts <file>`: builds the default app
 * (`buildApp()`: default config, bundling skipped), synthesizes it and writes its snapshot
 * (test/support/app-snapshot.ts: templates, blueprint catalog, validation report, logical ids) to
 * `<file>` as JSON, the shape test/support/default-app.ts caches. A child process of the test that
 * misses the cache, so the test processes that read the cache never import the app's code (about
 * 2 s of CPU each here).
 *
 * It runs with aws-cdk-lib's deprecation notices made errors (`JSII_DEPRECATED=fail`, set by
 * default-app.ts), and this is the process's first and only synth (jsii reports each deprecated API
 * once per process): the app, cdk-nag's rules included, must use no deprecated API, or no test
 * reading the default app gets its templates. The snapshot says so in `deprecatedApisRefused`.
 */
import { writeFileSync } from 'node:fs';
import { snapshotOf } from './app-snapshot.js';
import { buildApp } from './synth.js';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: synthesize-default-app.ts <output file>');
if (process.env.JSII_DEPRECATED !== 'fail') throw new Error('synthesize-default-app.ts runs with JSII_DEPRECATED=fail');

writeFileSync(file, JSON.stringify({ ...snapshotOf(buildApp()), deprecatedApisRefused: true }));
