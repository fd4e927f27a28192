// `node --import <this file> ...` (test/unit/cli/start-imports.test.ts): prints on stderr, at exit, how many modules
// of aws-cdk-lib the process loaded (Node's CommonJS cache, which also holds the CommonJS modules ES modules import)
// and how many times it loaded the config's schema, lib/config/schema.ts (an in-thread load hook, Node's
// `module.registerHooks`: it sees the project's modules tsx loads too).
import { createRequire, registerHooks } from 'node:module';

const cache = createRequire(import.meta.url).cache;
const loaded = new Set();
registerHooks({ load(url, context, nextLoad) { loaded.add(url); return nextLoad(url, context); } });
process.on('exit', () => {
  process.stderr.write(`aws-cdk-lib modules loaded: ${Object.keys(cache).filter((k) => k.includes('/aws-cdk-lib/')).length}\n`);
  process.stderr.write(`config schema loaded: ${[...loaded].filter((url) => /\/lib\/config\/schema\.[jt]s$/.test(new URL(url).pathname)).length}\n`);
});
