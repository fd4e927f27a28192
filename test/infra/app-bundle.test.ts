import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dirs.js';

/**
 * The CDK app's build (bin/app-bundle.mjs, lib/synth/app-bundle.ts) on a small app of the same
 * shape: an entry that imports a module of another directory, which finds a file next to itself by
 * `import.meta.url` and throws from a known line.
 */
const APP_BUNDLE_MODULE = pathToFileURL(join(import.meta.dirname, '..', '..', 'bin', 'app-bundle.mjs')).href;
const project = tempDir('tessera-app-bundle-');
const cacheDir = join(project, '.tessera', 'app-bundle');

mkdirSync(join(project, 'bin'));
mkdirSync(join(project, 'lib'));
writeFileSync(join(project, 'lib', 'next-to-me.txt'), 'found next to lib/dep.ts');
const dep = (value: string) => [
  "import { readFileSync } from 'node:fs';",
  `export const value: string = ${JSON.stringify(value)};`,
  "export const nextToMe = readFileSync(new URL('./next-to-me.txt', import.meta.url), 'utf8');",
  'export const dirname = import.meta.dirname;',
  "export function fail(): never { throw new Error('from dep'); }",
  '',
].join('\n');
writeFileSync(join(project, 'lib', 'dep.ts'), dep('one'));
writeFileSync(join(project, 'bin', 'app.ts'), "#!/usr/bin/env node\nexport { value, nextToMe, dirname, fail } from '../lib/dep.js';\n");

/** `appBundle()` in a Node process of its own, as bin/cdk-app.mjs calls it (not through vitest's module runner, which resolves imports its own way). */
const build = (env: NodeJS.ProcessEnv = {}): { path: string; built: boolean } => {
  const script = `const { appBundle } = await import(${JSON.stringify(APP_BUNDLE_MODULE)}); console.log(JSON.stringify(await appBundle(${JSON.stringify({ root: project, entry: 'bin/app.ts', cacheDir })})));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } })) as { path: string; built: boolean };
};
interface App { value: string; nextToMe: string; dirname: string; fail(): never }
const load = async (path: string) => (await import(pathToFileURL(path).href)) as App;

describe('the CDK app run from an esbuild build (bin/app-bundle.mjs)', () => {
  it('builds once, reuses the build while its sources are unchanged, and builds again when one changes', async () => {
    // GIVEN no build yet
    // WHEN the app's build is asked for, then asked for again with nothing changed
    const first = build();
    const second = build();
    // THEN esbuild ran the first time only, and both run the same build
    expect(first.built).toBe(true);
    expect(second).toEqual({ path: first.path, built: false });
    expect((await load(first.path)).value).toBe('one');

    // WHEN a source the app imports changes
    writeFileSync(join(project, 'lib', 'dep.ts'), dep('two'));
    const third = build();
    // THEN it is built again, into another directory (a build in place is never rewritten), with the new source
    expect(third.built).toBe(true);
    expect(third.path).not.toBe(first.path);
    expect((await load(third.path)).value).toBe('two');
    // AND the next synth reuses that build
    expect(build()).toEqual({ path: third.path, built: false });
  });

  it("keeps each module's import.meta its own: files found next to the source, not next to the build", async () => {
    const { path } = build();
    const app = await load(path);
    expect(app.nextToMe).toBe('found next to lib/dep.ts');
    expect(app.dirname).toBe(join(project, 'lib'));
  });

  it('maps error traces to the TypeScript lines (source maps on, as bin/cdk-app.mjs runs the app)', async () => {
    const { path } = build();
    const script = `process.setSourceMapsEnabled(true); const m = await import(${JSON.stringify(pathToFileURL(path).href)}); try { m.fail(); } catch (e) { console.log(e.stack); }`;
    const stack = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    // `fail` is on line 5 of lib/dep.ts; the bundle's own lines are not named
    expect(stack).toContain(`${join(project, 'lib', 'dep.ts')}:5:`);
    expect(stack).not.toContain('.mjs:');
  });

  it('builds anew with TESSERA_SYNTH_CACHE=off, and keeps a bounded number of builds', async () => {
    expect(build().built).toBe(false);
    expect(build({ TESSERA_SYNTH_CACHE: 'off' }).built).toBe(true);
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(project, 'lib', 'dep.ts'), dep(`v${i}`));
      build();
    }
    expect(readdirSync(cacheDir).filter((name) => /^[0-9a-f]{32}$/.test(name)).length).toBeLessThanOrEqual(4);
  });
});
