/**
 * Records a released blueprint version: `npx tsx scripts/record-released-blueprints.ts`, run at the release commit (the
 * one that sets package.json's version), writes test/fixtures/released-blueprints/<version>.json: for each config of
 * RELEASE_CONFIGS (lib/released-blueprints.ts), each tier blueprint (catalog files, and the failover variants) with the
 * resources an upgrade must keep and, for catalog files, the digest of what the release publishes; with the default config,
 * TesseraPlatform's stores too.
 * test/infra/released-blueprints.test.ts then holds every later commit to them. Refuses to overwrite a version already
 * recorded (a published version does not change): `--force` only to re-record the release commit itself.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProviderSchemas } from '../lib/preflight/provider-schemas.js';
import { RELEASE_CONFIGS, recordedResources, templateDigest, type ReleasedBlueprints, type ReleasedTemplate } from '../lib/released-blueprints.js';
import { STACK_IDS } from '../lib/tessera-app.js';
import { buildApp, configWith } from '../test/support/synth.js';

/** The record as JSON with one line per resource (a diff of the fixture names the resource it changes). */
function format(record: ReleasedBlueprints): string {
  const configs = Object.entries(record.configs).map(([name, templates]) => `  ${JSON.stringify(name)}: {\n${Object.entries(templates).map(([file, t]) => [
    `      ${JSON.stringify(file)}: {`,
    ...(t.sha256 ? [`        "sha256": ${JSON.stringify(t.sha256)},`] : []),
    `        "resources": {${Object.keys(t.resources).length ? '\n' : ''}${Object.entries(t.resources).map(([id, r]) => `          ${JSON.stringify(id)}: ${JSON.stringify(r)}`).join(',\n')}${Object.keys(t.resources).length ? '\n        ' : ''}}`,
    '      }',
  ].join('\n')).join(',\n')}\n    }`);
  return `{\n  "version": ${JSON.stringify(record.version)},\n  "commit": ${JSON.stringify(record.commit)},\n  "configs": {\n${configs.map((c) => `  ${c}`).join(',\n')}\n  }\n}\n`;
}

const root = resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const file = join(root, 'test', 'fixtures', 'released-blueprints', `${version}.json`);
if (existsSync(file) && !process.argv.includes('--force')) {
  console.error(`blueprint version ${version} is already recorded (${file}): a published version does not change; set a new version in package.json`);
  process.exit(1);
}
const schemas = new ProviderSchemas(undefined);
const commit = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const configs: ReleasedBlueprints['configs'] = {};
for (const [name, overrides] of Object.entries(RELEASE_CONFIGS)) {
  const built = buildApp(configWith(overrides));
  const templates: Record<string, ReleasedTemplate> = {};
  for (const [file, template] of Object.entries(built.blueprintTemplates)) {
    templates[file] = { sha256: templateDigest(template, '0.0.0-test'), resources: recordedResources(template as never, schemas) };
  }
  const assembly = built.blueprintStage.synth();
  for (const stack of Object.values(built.failoverBlueprints)) {
    templates[stack.node.id] = { resources: recordedResources(assembly.getStackArtifact(stack.artifactId).template as never, schemas) };
  }
  // The platform's own stores (the registry's tables, the tenant user pool, the audit buckets…), of the default config only:
  // `cdk deploy TesseraPlatform` updates it without the change-set guard.
  if (name === 'default') templates[STACK_IDS.platform] = { resources: recordedResources(Template.fromStack(built.platform).toJSON() as never, schemas) };
  configs[name] = Object.fromEntries(Object.entries(templates).sort(([a], [b]) => (a < b ? -1 : 1)));
}
const record: ReleasedBlueprints = { version, commit, configs };
writeFileSync(file, format(record));
console.log(`recorded blueprint version ${version} at ${commit}: ${file}`);
