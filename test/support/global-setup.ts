import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { motoPython, motoServerEnvironment } from '../integration/support/moto-server.js';
import { MOTO_ZYGOTE_SOCKET, motoZygoteDisabled, startMotoZygote, type MotoZygote } from '../integration/support/moto-zygote.js';
import { DRIVER_VENVS, pythonZygoteDisabled, startPythonZygote, type PythonZygote } from './python-zygote.js';
import { pruneCompileCache } from './compile-cache.js';
import { removeOrphanedTempDirs, tempDir } from './temp-dirs.js';

/**
 * vitest's globalSetup (vitest.config.ts), in the main process:
 * - before the run and after it, the temp dirs of test processes that were killed
 *   (test/support/temp-dirs.ts) are removed, so a worker stopped on a timeout leaves nothing behind;
 * - the run's moto zygote (test/integration/support/moto-zygote.ts) is started, its socket put in
 *   `TESSERA_MOTO_ZYGOTE`, which the workers vitest forks afterwards inherit: startMoto forks its
 *   servers from it. It imports moto on the first request only (a run without moto pays a bare
 *   Python), dies with this process (killed or not) and is stopped after the run. Not with
 *   `MOTO_ZYGOTE=off`, nor without moto installed (startMoto then says how to install it);
 * - the run's Python client-driver zygotes (test/support/python-zygote.ts) likewise, one per driver
 *   interpreter (`.venv`, `.venv-legacy-clients`), their sockets in `TESSERA_PYTHON_ZYGOTE` and
 *   `TESSERA_PYTHON_ZYGOTE_LEGACY_CLIENTS`: the drivers the tests start through `pythonScriptCommand`
 *   are forked from the one of their interpreter. Each imports `openai` (and its venv's preload) on
 *   its first request only. Not with `PYTHON_ZYGOTE=off`, nor without that venv (its drivers then
 *   start as fresh Pythons, or fail as before);
 * - after the run, Node's compile cache loses the entries not used for 3 days (pruneCompileCache).
 */
/** The longest unix socket path Linux binds (sun_path: 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * A socket path for a zygote in a new temp dir; undefined (and why, on stderr) when the temp dir's
 * path is too long to bind one: the run goes on without that zygote, as with `MOTO_ZYGOTE=off` or
 * `PYTHON_ZYGOTE=off` (a long TMPDIR).
 */
function zygoteSocket(prefix: string, off: string): string | undefined {
  const path = join(tempDir(prefix), 'zygote.sock');
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) return path;
  process.stderr.write(`no ${prefix.replace(/^tessera-|-$/g, '')}: its socket path ${path} is longer than a unix socket's ${MAX_SOCKET_PATH_BYTES} bytes (a shorter TMPDIR keeps it; the run goes on as with ${off})\n`);
  return undefined;
}

export default async function setup(): Promise<() => Promise<void>> {
  removeOrphanedTempDirs();
  let zygote: MotoZygote | undefined;
  if (!motoZygoteDisabled()) {
    let python: string | undefined;
    try {
      python = motoPython();
    } catch {
      // no moto: files that need it fail with startMoto's message
    }
    const socket = python && zygoteSocket('tessera-moto-zygote-', 'MOTO_ZYGOTE=off');
    if (python && socket) {
      zygote = await startMotoZygote(python, socket, motoServerEnvironment());
      process.env[MOTO_ZYGOTE_SOCKET] = zygote.socketPath;
    }
  }
  const drivers: Array<[string, PythonZygote]> = [];
  for (const [venv, { socketVariable }] of Object.entries(DRIVER_VENVS)) {
    const driverPython = join(import.meta.dirname, '..', '..', venv, 'bin', 'python');
    const driverSocket = !pythonZygoteDisabled() && existsSync(driverPython) ? zygoteSocket('tessera-python-zygote-', 'PYTHON_ZYGOTE=off') : undefined;
    if (driverSocket) {
      const started = await startPythonZygote(driverPython, driverSocket);
      drivers.push([socketVariable, started]);
      process.env[socketVariable] = started.socketPath;
    }
  }
  return async () => {
    for (const [socketVariable, started] of drivers) {
      delete process.env[socketVariable];
      await started.stop();
    }
    if (zygote) {
      delete process.env[MOTO_ZYGOTE_SOCKET];
      await zygote.stop();
    }
    removeOrphanedTempDirs();
    pruneCompileCache();
  };
}
