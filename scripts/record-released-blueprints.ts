/**
 * Records a released blueprint version: `npx tsx scripts/record-released-blueprints.ts`, run at the release commit (the
 * one that sets package.json's version), writes test/fixtures/released-blueprints/<version>.json: for each config of
 * RELEASE_CONFIGS (lib/released-blueprints.ts), each tier blueprint (catalog files, and the failover variants) with the
 * resources an upgrade must keep and, for catalog files, the digest of what the release publishes; with the default config,
 * TesseraPlatform's stores too; and, for each config, the platform stacks' custom-named resources and exports
 * (`platformStacks`, lib/released-platform-stacks.ts).
 * test/infra/released-blueprints.test.ts then holds every later commit to them. Refuses to overwrite a version already
 * recorded (a published version does not change): `--force` only to re-record the release commit itself.
 *
 * `--platform-stacks-from <checkout>` adds `platformStacks` to the record of an earlier release instead (one recorded
 * before they were): <checkout> is a worktree of that release's commit (`git worktree add /tmp/r <commit>`, with
 * node_modules linked), whose app is built with this checkout's RELEASE_CONFIGS (the configs its record holds) and
 * recorded with this checkout's code. Nothing else of the record changes.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProviderSchemas } from '../lib/preflight/provider-schemas.js';
import { RELEASE_CONFIGS, recordedResources, templateDigest, type ReleasedBlueprints, type ReleasedTemplate } from '../lib/released-blueprints.js';
import { platformStackTemplates, recordedPlatformStack, type PlatformStacksOfApp, type ReleasedPlatformStacks } from '../lib/released-platform-stacks.js';
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
  const platform = Object.entries(record.platformStacks ?? {}).map(([name, stacks]) => `    ${JSON.stringify(name)}: {\n${Object.entries(stacks).map(([stack, t]) => [
    `      ${JSON.stringify(stack)}: {`,
    `        "named": {${Object.keys(t.named).length ? '\n' : ''}${Object.entries(t.named).map(([id, r]) => `          ${JSON.stringify(id)}: ${JSON.stringify(r)}`).join(',\n')}${Object.keys(t.named).length ? '\n        ' : ''}},`,
    `        "exports": ${JSON.stringify(t.exports)}`,
    '      }',
  ].join('\n')).join(',\n')}\n    }`);
  return `{\n  "version": ${JSON.stringify(record.version)},\n  "commit": ${JSON.stringify(record.commit)},\n  "configs": {\n${configs.map((c) => `  ${c}`).join(',\n')}\n  }`
    + `${record.platformStacks ? `,\n  "platformStacks": {\n${platform.join(',\n')}\n  }` : ''}\n}\n`;
}

/** The platform stacks' record of an app (any version's stacks, recorded with this checkout's code). */
function platformStacksOf(app: PlatformStacksOfApp, schemas: ProviderSchemas): ReleasedPlatformStacks[string] {
  return Object.fromEntries(Object.entries(platformStackTemplates(app)).map(([name, t]) => [name, recordedPlatformStack(t, schemas)]));
}

const root = resolve(import.meta.dirname, '..');
const fixture = (v: string) => join(root, 'test', 'fixtures', 'released-blueprints', `${v}.json`);
const fromIndex = process.argv.indexOf('--platform-stacks-from');
if (fromIndex >= 0) {
  const other = resolve(process.argv[fromIndex + 1] ?? '.');
  const { version: released } = JSON.parse(readFileSync(join(other, 'package.json'), 'utf8')) as { version: string };
  const recordFile = fixture(released);
  if (!existsSync(recordFile)) { console.error(`blueprint version ${released} (${other}) is not recorded: ${recordFile}`); process.exit(1); }
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ReleasedBlueprints;
  // The commit the record names, or one whose app sources are its (the release commit that adds the record after it).
  try {
    execFileSync('git', ['diff', '--quiet', record.commit, 'HEAD', '--', 'bin', 'constructs', 'lib', 'lambdas', 'types', 'package.json', 'cdk.json'], { cwd: other });
  } catch {
    console.error(`${other}'s app sources are not those of ${released}'s recorded commit ${record.commit}`);
    process.exit(1);
  }
  if (record.platformStacks && !process.argv.includes('--force')) { console.error(`${recordFile} already holds platformStacks`); process.exit(1); }
  const synth = await import(join(other, 'test', 'support', 'synth.ts')) as { buildApp: (c: unknown) => PlatformStacksOfApp; configWith: (o: unknown) => unknown };
  const schemas = new ProviderSchemas(undefined);
  process.chdir(other); // the app reads the account customizations' templates from the working directory
  const platformStacks: ReleasedPlatformStacks = {};
  for (const name of Object.keys(record.configs)) platformStacks[name] = platformStacksOf(synth.buildApp(synth.configWith(RELEASE_CONFIGS[name])), schemas);
  writeFileSync(recordFile, format({ ...record, platformStacks }));
  console.log(`added the platform stacks of ${released} (${other}) to ${recordFile}`);
  process.exit(0);
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const file = fixture(version);
if (existsSync(file) && !process.argv.includes('--force')) {
  console.error(`blueprint version ${version} is already recorded (${file}): a published version does not change; set a new version in package.json`);
  process.exit(1);
}
const schemas = new ProviderSchemas(undefined);
const commit = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const configs: ReleasedBlueprints['configs'] = {};
const platformStacks: ReleasedPlatformStacks = {};
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
  platformStacks[name] = platformStacksOf(built, schemas);
}
const record: ReleasedBlueprints = { version, commit, configs, platformStacks };
writeFileSync(file, format(record));
console.log(`recorded blueprint version ${version} at ${commit}: ${file}`);
