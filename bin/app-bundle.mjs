// The CDK app's build to run (lib/synth/app-bundle.ts): the newest kept build when its inputs are
// unchanged, checked by that build's own app-bundle-check.mjs with plain `node`; else a new build,
// by lib/synth/app-bundle.ts (itself built by esbuild into a directory of this process, run, removed).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** As lib/synth/app-bundle-check.ts names them (test/infra/app-bundle.test.ts runs both sides). */
const POINTER = 'latest.json';
const ENTRY = 'tessera-app.mjs';
const CHECK = 'app-bundle-check.mjs';

/**
 * The absolute path of the app's entry module to import: the kept build's, or a new build's.
 * `TESSERA_SYNTH_CACHE=off` builds anew, as it runs esbuild for the Lambdas.
 * @param {{ root?: string, entry?: string, cacheDir?: string }} [options] as `buildAppBundle`'s (tests); @default the project's app
 * @returns {Promise<{ path: string, built: boolean }>} `built`: whether esbuild ran
 * @throws esbuild's error for a source that does not build
 */
export async function appBundle(options = {}) {
  const cacheDir = options.cacheDir ?? fileURLToPath(new URL('../.tessera/app-bundle', import.meta.url));
  if (process.env.TESSERA_SYNTH_CACHE !== 'off') {
    try {
      const pointer = JSON.parse(readFileSync(join(cacheDir, POINTER), 'utf8'));
      const dir = join(cacheDir, String(pointer.dir));
      const { appBundleIsCurrent } = await import(pathToFileURL(join(dir, CHECK)).href);
      if (appBundleIsCurrent(pointer)) return { path: join(dir, ENTRY), built: false };
    } catch { /* no build kept, or not readable: build */ }
  }
  // The builder (TypeScript) through esbuild too, not tsx: tsx's hooks, once registered, would stay for the app's own
  // imports.
  const { build } = await import('esbuild');
  const source = new URL('../lib/synth/app-bundle.ts', import.meta.url);
  // In a `.new-<pid>-` directory of the project's .tessera/app-bundle/ (whatever `cacheDir`: its `import 'esbuild'` resolves
  // from there); one left by a process ended mid-build is removed by the next build (lib/synth/app-bundle.ts).
  const builderParent = fileURLToPath(new URL('../.tessera/app-bundle', import.meta.url));
  mkdirSync(builderParent, { recursive: true });
  const builderDir = mkdtempSync(join(builderParent, `.new-${process.pid}-`));
  const builder = join(builderDir, 'builder.mjs');
  await build({
    entryPoints: [fileURLToPath(source)], outfile: builder, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'warning',
    define: { 'import.meta.url': JSON.stringify(source.href) },
  });
  try {
    const { buildAppBundle } = await import(pathToFileURL(builder).href);
    return { path: await buildAppBundle(options), built: true };
  } finally {
    rmSync(builderDir, { recursive: true, force: true });
  }
}
