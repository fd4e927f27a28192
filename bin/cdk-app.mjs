#!/usr/bin/env node
// The CDK app's entry (cdk.json `app`): bin/tessera-app.ts through tsx's loader in this process, as
// bin/tessera.mjs runs the CLI. Against `npx tsx bin/tessera-app.ts` it saves npx resolving tsx and
// tsx's own CLI process, which starts Node a second time to run the app; and it turns on Node's
// compile cache (bin/compile-cache.mjs), so the next synth reuses V8's code for aws-cdk-lib's
// modules instead of compiling them again.
import { enableProjectCompileCache } from './compile-cache.mjs';

enableProjectCompileCache();
const { register } = await import('tsx/esm/api');
register();
await import('./tessera-app.ts');
