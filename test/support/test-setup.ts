import { afterAll } from 'vitest';
import { logFileCpu } from './cpu-log.js';
import { removeTempDirs } from './temp-dirs.js';

// Setup file of every test file (vitest.config.ts), run before the file's own imports.

// Lambda modules build their Powertools logger when imported, reading the level then: silent
// unless TESSERA_TEST_LOG_LEVEL asks for more (expected failures would otherwise flood the output).
process.env.POWERTOOLS_LOG_LEVEL = process.env.TESSERA_TEST_LOG_LEVEL ?? 'SILENT';

// Its temp dirs go when the file is done. Registered first, so it runs after the file's own
// afterAll hooks (which may still use them). With TESSERA_TEST_CPU_LOG=<file>, each test file's
// wall and CPU seconds are appended there as a JSON line (test/support/cpu-log.ts; npm run bench:test).
// (vitest requires the context argument as a destructuring pattern; the file is the second argument.)
afterAll(({}, file) => {
  removeTempDirs();
  const cpuLog = process.env.TESSERA_TEST_CPU_LOG;
  if (cpuLog && 'filepath' in file) logFileCpu(cpuLog, file.filepath);
});
