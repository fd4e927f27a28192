import { afterAll } from 'vitest';
import { logFileCpu } from './cpu-log.js';
import { removeTempDirs } from './temp-dirs.js';

// Setup file of every test file (vitest.config.ts), run before the file's own imports.

// Lambda modules build their Powertools logger when imported, reading the level then: silent
// unless TESSERA_TEST_LOG_LEVEL asks for more (expected failures would otherwise flood the output).
process.env.POWERTOOLS_LOG_LEVEL = process.env.TESSERA_TEST_LOG_LEVEL ?? 'SILENT';

// The X-Ray SDK (loaded by Powertools' Tracer through lambdas/shared/handler.ts) creates its
// cls-hooked namespace when imported unless AWS_XRAY_MANUAL_MODE is set: an async hook with destroy
// tracking on every promise of the process for the rest of its life (~1.5 s of lifecycle.test.ts's
// worker, and every later file of a shared worker paid too). Outside Lambda the Tracer is disabled
// (Powertools enables it only when AWS_EXECUTION_ENV is set, not under SAM or Amplify), and a
// disabled Tracer never reads the namespace, so tests lose nothing. Set before any file's imports;
// an explicit value (`AWS_XRAY_MANUAL_MODE=` empty: automatic mode) wins. In a Lambda with active
// tracing the SDK keeps its automatic mode: production code does not set this.
process.env.AWS_XRAY_MANUAL_MODE ??= '1';

// Its temp dirs go when the file is done. Registered first, so it runs after the file's own
// afterAll hooks (which may still use them). With TESSERA_TEST_CPU_LOG=<file>, each test file's
// wall and CPU seconds are appended there as a JSON line (test/support/cpu-log.ts; npm run bench:test).
// (vitest requires the context argument as a destructuring pattern; the file is the second argument.)
afterAll(({}, file) => {
  removeTempDirs();
  const cpuLog = process.env.TESSERA_TEST_CPU_LOG;
  if (cpuLog && 'filepath' in file) logFileCpu(cpuLog, file.filepath);
});
