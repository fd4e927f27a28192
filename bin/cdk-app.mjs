#!/usr/bin/env node
// The CDK app's entry (cdk.json `app`): bin/tessera-app.ts through tsx's loader in this process, as
// bin/tessera.mjs runs the CLI. Against `npx tsx bin/tessera-app.ts` it saves npx resolving tsx and
// tsx's own CLI process, which starts Node a second time to run the app; and it turns on Node's
// compile cache, so the next synth reuses V8's code for aws-cdk-lib's modules instead of compiling
// them again (node_modules/.cache/tessera-compile-cache, or $NODE_COMPILE_CACHE; a changed file is
// compiled afresh, a cache it cannot write is skipped). Not Node's default, os.tmpdir(): another
// user of the machine could plant entries there for the code that runs `cdk deploy`.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || fileURLToPath(new URL('../node_modules/.cache/tessera-compile-cache', import.meta.url)));
const { register } = await import('tsx/esm/api');
register();
await import('./tessera-app.ts');
