// Node's compile cache for the project's entries (bin/tessera.mjs, bin/cdk-app.mjs): V8 keeps the
// compiled code of the files Node loads and the next start reuses it. In
// node_modules/.cache/tessera-compile-cache (or $NODE_COMPILE_CACHE), not Node's default
// os.tmpdir(): another user of the machine could plant entries there for code that runs with the
// operator's credentials. A cache it cannot write is skipped; a changed file is compiled afresh.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

/** Turns the cache on for this process (nothing on a Node without `module.enableCompileCache`, < 22.1). */
export function enableProjectCompileCache() {
  module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || fileURLToPath(new URL('../node_modules/.cache/tessera-compile-cache', import.meta.url)));
}
