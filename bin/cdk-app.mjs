#!/usr/bin/env node
// The CDK app's entry (cdk.json `app`): bin/tessera-app.ts and what it imports from lib/ and
// constructs/, built by esbuild into one ESM build under .tessera/app-bundle/ (bin/app-bundle.mjs,
// lib/synth/app-bundle.ts; rebuilt when a source changes) and run in this process with plain Node:
// aws-cdk-lib and the other packages load with no loader hook (tsx's hooks ran on every `require`,
// ~19% of the app's CPU). Source maps on, so error traces and CDK's creation stacks
// (`aws:cdk:creationStack` in *.metadata.json) name the TypeScript lines. Node's compile cache
// (bin/compile-cache.mjs): the next synth reuses V8's code for aws-cdk-lib's modules and the build's.
import { appBundle } from './app-bundle.mjs';
import { enableProjectCompileCache } from './compile-cache.mjs';
import { pathToFileURL } from 'node:url';

enableProjectCompileCache();
process.setSourceMapsEnabled(true);
const { path, built } = await appBundle();
// After a build, the app starts from the event loop as after a check: the same async context, so the same creation
// stacks in *.metadata.json (else each ends with a `...node internals...` line).
if (built) await new Promise((resolve) => setImmediate(resolve));
await import(pathToFileURL(path).href);
