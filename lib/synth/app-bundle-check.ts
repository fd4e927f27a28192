import { inputsDigest } from '../bundling/lambda-build-cache.js';

/**
 * The hit check of the app's build (lib/synth/app-bundle.ts), itself an entry point of that build:
 * bin/app-bundle.mjs runs it with plain `node` before the build it checks. This file is an input
 * of the build, so a change to it (or to lambda-build-cache.ts) voids the builds made before it.
 */

/** The file in the cache directory naming the newest build. */
export const APP_BUNDLE_POINTER = 'latest.json';
/** The app's entry module in a build. */
export const APP_BUNDLE_ENTRY = 'tessera-app.mjs';
/** This module in a build. */
export const APP_BUNDLE_CHECK = 'app-bundle-check.mjs';

/** `<cacheDir>/latest.json`. */
export interface AppBundlePointer {
  /** The build's directory under the cache directory (the digest's first 32 hex digits). */
  readonly dir: string;
  /** The build's inputs, absolute: esbuild's metafile inputs and lib/synth/app-bundle.ts. */
  readonly inputs: string[];
  /** esbuild's working directory (the project root). */
  readonly root: string;
  /** `inputsDigest(inputs, root)` when the build was kept. */
  readonly digest: string;
}

/** Whether `pointer` is a pointer (`latest.json` of another form is not) whose inputs are as they were built. */
export function appBundleIsCurrent(pointer: unknown): boolean {
  const p = pointer as Partial<AppBundlePointer> | null;
  if (typeof p !== 'object' || p === null || typeof p.dir !== 'string' || !/^[0-9a-f]{32}$/.test(p.dir) || typeof p.root !== 'string'
    || typeof p.digest !== 'string' || !Array.isArray(p.inputs) || !p.inputs.every((i) => typeof i === 'string')) return false;
  return p.digest.startsWith(p.dir) && inputsDigest(p.inputs, p.root) === p.digest;
}
