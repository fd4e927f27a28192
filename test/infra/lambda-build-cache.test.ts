import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSync } from 'esbuild';
import { restoreBuild, storeBuild } from '../../lib/bundling/lambda-build-cache.js';
import { LAMBDA_BUILD, SharedLambdaBuild, sharedLambdaEsbuildRuns, type SharedLambdaBuildOptions } from '../../lib/bundling/shared-lambda-build.js';
import { tempDir } from '../support/temp-dirs.js';

// tessera:own-process: each SharedLambdaBuild's directory is removed by a process 'exit' listener.
const OPTIONS: SharedLambdaBuildOptions = { define: {}, logLevel: 'silent', external: [] };

/** A project of one function, `fn/hello`, whose greeting comes from `lib/greet/index.ts` (the `main` of its package.json; `other.ts` beside it). */
function project(): string {
  const root = tempDir('lambda-build-cache-');
  mkdirSync(join(root, 'lambdas', 'fn'), { recursive: true });
  mkdirSync(join(root, 'lambdas', 'lib', 'greet'), { recursive: true });
  writeFileSync(join(root, 'lambdas', 'fn', 'hello.ts'), "import { greet } from '../lib/greet';\nexport const handler = async () => greet();\n");
  writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'index.ts'), "export const greet = () => 'hello from index';\n");
  writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'other.ts'), "export const greet = () => 'hello from other';\n");
  writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'package.json'), JSON.stringify({ main: 'index.ts' }));
  return root;
}

/** Builds the project; returns the built entry's code and whether esbuild ran. */
function build(root: string, options: SharedLambdaBuildOptions = OPTIONS): { code: string; ranEsbuild: boolean; build: SharedLambdaBuild } {
  const before = sharedLambdaEsbuildRuns();
  const built = new SharedLambdaBuild(join(root, 'lambdas'), ['fn/hello'], options);
  return { code: readFileSync(join(built.outdir, 'fn.hello.mjs'), 'utf8'), ranEsbuild: sharedLambdaEsbuildRuns() > before, build: built };
}

describe('the shared Lambda build kept between synths (.tessera/lambda-build-cache/)', () => {
  const SETTINGS = ['TESSERA_SYNTH_CACHE', 'TESSERA_TEST_CACHE'] as const;
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));
    for (const name of SETTINGS) delete process.env[name];
  });
  afterEach(() => {
    for (const name of SETTINGS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('gives the next build of unchanged sources the same files without running esbuild', () => {
    const root = project();
    const first = build(root);
    expect(first.ranEsbuild).toBe(true);
    const second = build(root);
    expect(second.ranEsbuild).toBe(false);
    expect(second.code).toBe(first.code);
    expect(second.code).toContain('hello from index');
    expect(second.build.functionFiles('fn/hello')).toEqual(first.build.functionFiles('fn/hello'));
  });

  it('builds again when an input changed', () => {
    const root = project();
    build(root);
    writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'index.ts'), "export const greet = () => 'hello, changed';\n");
    const next = build(root);
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toContain('hello, changed');
  });

  it('builds again when a new file would be resolved instead of an input (lib/greet.ts before lib/greet/index.ts)', () => {
    const root = project();
    build(root);
    writeFileSync(join(root, 'lambdas', 'lib', 'greet.ts'), "export const greet = () => 'hello from greet.ts';\n");
    const next = build(root);
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toContain('hello from greet.ts');
  });

  it('builds again when a package.json on the way changed', () => {
    const root = project();
    build(root);
    writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'package.json'), JSON.stringify({ main: 'other.ts' }));
    const next = build(root);
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toContain('hello from other');
  });

  it('builds again when a cached file was written since it was stored (through a hard link of a cdk.out)', () => {
    const root = project();
    const first = build(root);
    const second = build(root);
    expect(second.ranEsbuild).toBe(false);
    // The restored files are links to the cached ones: writing one in place writes the cache's.
    writeFileSync(join(second.build.outdir, 'fn.hello.mjs'), 'tampered');
    const next = build(root);
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toBe(first.code);
  });

  it('builds again when the project\'s node_modules, a symbolic link, points at another tree (a package of another version there)', () => {
    // GIVEN two trees with a package `pkg` each, and a project whose node_modules links to the first
    const trees = tempDir('lambda-build-cache-trees-');
    for (const tree of ['a', 'b']) {
      mkdirSync(join(trees, tree, 'node_modules', 'pkg'), { recursive: true });
      writeFileSync(join(trees, tree, 'node_modules', 'pkg', 'package.json'), JSON.stringify({ name: 'pkg', main: 'index.js' }));
      writeFileSync(join(trees, tree, 'node_modules', 'pkg', 'index.js'), `exports.word = 'from tree ${tree}';\n`);
    }
    const root = project();
    writeFileSync(join(root, 'lambdas', 'fn', 'hello.ts'), "import { word } from 'pkg';\nexport const handler = async () => word;\n");
    symlinkSync(join(trees, 'a', 'node_modules'), join(root, 'node_modules'));
    expect(build(root).code).toContain('from tree a');
    // WHEN the link points at the other tree (the first one left as it was)
    rmSync(join(root, 'node_modules'));
    symlinkSync(join(trees, 'b', 'node_modules'), join(root, 'node_modules'));
    const next = build(root);
    // THEN
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toContain('from tree b');
  });

  it.each([['null', 'null'], ['an object without the manifest\'s fields', '{}'], ['inputs that are not a list', '{"inputs":7,"root":"/"}']])('builds again when a kept manifest.json is JSON but %s (written by another version, or damaged), instead of failing the synth', (_what, text) => {
    const root = project();
    const first = build(root);
    const cacheDir = join(root, '.tessera', 'lambda-build-cache');
    const [entry] = readdirSync(cacheDir).filter((name) => !name.startsWith('.'));
    writeFileSync(join(cacheDir, entry!, 'manifest.json'), text);
    const next = build(root);
    expect(next.ranEsbuild).toBe(true);
    expect(next.code).toBe(first.code);
  });

  it.each([
    ['an input saved', (root: string) => writeFileSync(join(root, 'lambdas', 'lib', 'greet', 'index.ts'), "export const greet = () => 'hello, saved meanwhile';\n")],
    ['a file that resolves first added', (root: string) => writeFileSync(join(root, 'lambdas', 'lib', 'greet.ts'), "export const greet = () => 'hello from greet.ts';\n")],
  ])('keeps no build during which %s (esbuild may have read what was there before: the next synth would take a build of content gone)', (_what, change) => {
    // GIVEN a project, and the time the build starts (after the project was written)
    const root = project();
    const started = Date.now();
    const outdir = tempDir('lambda-build-cache-out-');
    const result = buildSync({ ...LAMBDA_BUILD, mainFields: [...LAMBDA_BUILD.mainFields], absWorkingDir: root, entryPoints: { 'fn.hello': join(root, 'lambdas', 'fn', 'hello.ts') }, outdir, metafile: true, logLevel: 'silent' });
    const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([path, output]) => [basename(path), output]));
    // Past the file system's coarse clock (a status change time may lag the real time by a tick).
    while (Date.now() < started + 50) { /* wait */ }
    const cacheDir = join(root, '.tessera', 'lambda-build-cache');
    // WHEN the build is kept after the change
    change(root);
    storeBuild(cacheDir, 'k', outdir, root, result.metafile, outputs, started);
    // THEN nothing is restored from it; the same build, had it started after the change, is
    expect(restoreBuild(cacheDir, 'k', tempDir('lambda-build-cache-restore-'))).toBeUndefined();
    storeBuild(cacheDir, 'k', outdir, root, result.metafile, outputs, Date.now() + 1000);
    expect(restoreBuild(cacheDir, 'k', tempDir('lambda-build-cache-restore-'))).toEqual(outputs);
  });

  it('keeps one build per set of options (another define is another build)', () => {
    const root = project();
    build(root);
    const other = build(root, { ...OPTIONS, define: { 'process.env.STAGE': '"prod"' } });
    expect(other.ranEsbuild).toBe(true);
    expect(build(root).ranEsbuild).toBe(false);
  });

  it.each(SETTINGS)('always runs esbuild with %s=off', (name) => {
    const root = project();
    build(root);
    process.env[name] = 'off';
    expect(build(root).ranEsbuild).toBe(true);
  });
});
