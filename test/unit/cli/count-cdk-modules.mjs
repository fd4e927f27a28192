// `node --import <this file> ...` (test/unit/cli/start-imports.test.ts): prints on stderr, at exit, how many modules
// of aws-cdk-lib the process loaded (Node's CommonJS cache, which also holds the CommonJS modules ES modules import).
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  process.stderr.write(`aws-cdk-lib modules loaded: ${Object.keys(cache).filter((k) => k.includes('/aws-cdk-lib/')).length}\n`);
});
