/**
 * `node --import tsx test/support/synthesize-default-app.ts <file>`: builds the default app
 * (`buildApp()`: default config, bundling skipped), synthesizes it and writes its templates and the
 * logical id of every CloudFormation element by construct path to `<file>` as JSON, in the shape
 * test/support/default-app.ts caches. A child process of the test that misses the cache, so the
 * test processes that read the cache never import the app's code (about 2 s of CPU each here).
 */
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { writeFileSync } from 'node:fs';
import { buildApp } from './synth.js';

type Json = Record<string, unknown>;

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: synthesize-default-app.ts <output file>');

const built = buildApp();
const json = (stack: Stack) => Template.fromStack(stack).toJSON() as Json;
const byTier = (stacks: Record<string, Stack>) => Object.fromEntries(Object.entries(stacks).map(([tier, s]) => [tier, json(s)]));
writeFileSync(file, JSON.stringify({
  platform: json(built.platform), // synthesizes the whole app; the rest are read from that assembly
  organization: json(built.organization),
  operations: json(built.platform.operations),
  accountBaseline: json(built.accountBaseline),
  workloadProvisioning: json(built.workloadProvisioning),
  blueprints: byTier(built.blueprints),
  namespaceBlueprints: byTier(built.namespaceBlueprints),
  logicalIds: Object.fromEntries(built.app.node.findAll().filter(CfnElement.isCfnElement).map((e) => [e.node.path, Stack.of(e).resolve(e.logicalId) as string])),
}));
