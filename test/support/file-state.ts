import { createRequire } from 'node:module';
import { afterAll, vi } from 'vitest';
import { logFileCpu } from './cpu-log.js';
import { endLeaks, leakError, snapshot } from './file-state-leaks.js';
import { removeTempDirs } from './temp-dirs.js';

// Setup file of the project `shared-reset` (vitest.config.ts), run before each file's own imports,
// after test/support/test-setup.ts. Its files share worker processes; what they change in the
// process (test/support/shared-worker-files.ts, RESET_STATE_PATTERNS) is put back when the file is
// done, so the next file in the worker starts as it would in a fresh process, except that
// node_modules (the AWS SDK, aws-cdk-lib, zod, sinon) stay loaded.

const require = createRequire(import.meta.url);
const envBefore = { ...process.env };
// Children, servers, sockets, process listeners, globals, exit code, cwd, stdout/stderr and files
// open under temp dirs before the file (test/support/file-state-leaks.ts): what the file leaves of
// them is ended (a file left open only named: its FileHandle's to close) and fails it.
const processBefore = snapshot();

/** process.env as it was before the file: keys the file added are removed, changed ones set back. */
function restoreEnv(): void {
  for (const key of Object.keys(process.env)) if (!(key in envBefore)) delete process.env[key];
  for (const [key, value] of Object.entries(envBefore)) if (process.env[key] !== value) process.env[key] = value;
}

/**
 * aws-sdk-client-mock's `mockClient(Client)` replaces `Client.prototype.send` through sinon's
 * default sandbox (the package loads sinon's CommonJS build), in every instance of the process;
 * `sinon.restore()` puts back everything that sandbox replaced. sinon is only touched if a file loaded it.
 */
function restoreClientMocks(): void {
  const sinonPath = require.resolve('sinon');
  if (require.cache[sinonPath]) (require(sinonPath) as { restore(): void }).restore();
}

// Registered before the file's own hooks, so it runs after them (vitest runs afterAll hooks last-first).
// (vitest requires the context argument as a destructuring pattern; the file is the second argument.)
afterAll(async ({}, file) => {
  // What the file started and did not stop (its afterAll hooks have run): ended here, and the file
  // fails naming it, after the resets below, so the next file in the worker starts clean either way.
  // Globals stubbed with vi.stubGlobal are put back first: a stub is state of the kind reset here (as
  // a spy or a stubbed env), and vitest restores the global it replaced; the check below fails a file
  // for a global it replaced without stubbing (e.g. the Lambda runtime's `awslambda`, which
  // @aws/lambda-invoke-store creates in a worker that loaded it, stubbed by the router's unit tests).
  vi.unstubAllGlobals();
  const leaks = await endLeaks(processBefore);
  restoreClientMocks();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.useRealTimers();
  restoreEnv();
  // Project code and test helpers are evaluated again by the next file: module singletons (clients,
  // loggers, caches) and values read from process.env at import are each file's own.
  vi.resetModules();
  if (leaks.length > 0) {
    // vitest skips the afterAll hooks left once one throws: test/support/test-setup.ts's (registered
    // first, run last) would not remove the file's temp dirs nor log its CPU. Done here first.
    removeTempDirs();
    const cpuLog = process.env.TESSERA_TEST_CPU_LOG;
    if (cpuLog && 'filepath' in file) logFileCpu(cpuLog, file.filepath);
    throw leakError('filepath' in file ? file.filepath : file.name, leaks);
  }
});
