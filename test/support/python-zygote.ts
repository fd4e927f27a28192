import { join } from 'node:path';
import { startZygoteProcess, type ZygoteProcess } from './zygote-process.js';

/**
 * The run's Python client-driver zygote (python-zygote.py): one Python that imported `openai` and
 * `pydantic` once (0.5-0.6 s of CPU) and forks each driver the tests start (gateway-conformance,
 * responses-conformance, keys-official-clients, gateway-cors-models: 17 drivers a run, each ~0.9 s
 * of CPU to start as a fresh Python, ~0.02 s forked through the launcher). LangChain's driver
 * (langchain_driver.py) imports `langchain_openai` itself, in a thread once it is ready (~1 s of CPU
 * more, in the one file that runs it), as pydantic_ai_driver.py does `pydantic_ai`: not here, where
 * every run would pay it.
 *
 * vitest's global setup (test/support/global-setup.ts) starts it and puts its socket in
 * {@link PYTHON_ZYGOTE_SOCKET}, which the workers inherit. A test spawns `pythonScriptCommand(...)`
 * instead of `python <script>`: with the variable set, a bare launcher Python that is the test's
 * child process (its pipes, exit code and signals), whose driver is forked by the zygote with the
 * launcher's stdin, stdout and stderr, argv, cwd and environment; without it (or when the zygote
 * cannot give a driver equal to a fresh one), `python <script>` itself (the launcher execs it).
 * `PYTHON_ZYGOTE=off` starts no zygote.
 */
export const PYTHON_ZYGOTE_SOCKET = 'TESSERA_PYTHON_ZYGOTE';

/** python-zygote.py: the zygote and the launcher. */
export const PYTHON_ZYGOTE_PY = join(import.meta.dirname, 'python-zygote.py');

/** `PYTHON_ZYGOTE=off`: no zygote; every driver is a fresh Python. */
export function pythonZygoteDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PYTHON_ZYGOTE === 'off';
}

/**
 * The command that runs `python <script> <args...>`: through the run's zygote when
 * {@link PYTHON_ZYGOTE_SOCKET} is set in `env`, else the script itself. Spawn it as the script
 * would be (same stdio, env and cwd options).
 * @param python the interpreter (the `.venv`'s)
 */
export function pythonScriptCommand(python: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  if (!env[PYTHON_ZYGOTE_SOCKET]) return [python, [script, ...args]];
  return [python, ['-S', '-I', PYTHON_ZYGOTE_PY, 'run', script, ...args]];
}

/** The driver zygote: `stop()` ends it, and with it every driver it forked. */
export type PythonZygote = ZygoteProcess;

/**
 * Starts the zygote. It dies with this process (SIGKILL from the kernel when this process ends,
 * killed or not; end of file on its stdin otherwise), and its drivers with it.
 * @param python the `.venv`'s Python
 * @param socketPath where it listens; its directory must exist
 * @throws when it exits or does not listen within 60 s
 */
export async function startPythonZygote(python: string, socketPath: string, env: NodeJS.ProcessEnv = process.env): Promise<PythonZygote> {
  return startZygoteProcess('the Python driver zygote', python, PYTHON_ZYGOTE_PY, socketPath, env);
}
