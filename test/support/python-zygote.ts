import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dirs.js';
import { startZygoteProcess, type ZygoteProcess } from './zygote-process.js';

/**
 * The run's Python client-driver zygote (python-zygote.py): one Python that imported `openai` and
 * `pydantic` once (0.5-0.6 s of CPU), with the client's HTTP transports and the deferred models most drivers
 * parse and dump built (~0.3 s more, ~0.1 s less in each Responses driver), and forks each driver the tests start (gateway-conformance,
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
 *
 * One zygote per driver interpreter, the same code with the interpreter as a parameter
 * ({@link DRIVER_VENVS}): `.venv` (openai 3.x, LangChain, Pydantic AI, the Agents SDK) and
 * `.venv-legacy-clients` (openai 1.x, LlamaIndex, instructor: requirements-legacy-clients.txt),
 * each with its socket variable and its own bytecode cache under `.tessera/`.
 */
export const PYTHON_ZYGOTE_SOCKET = 'TESSERA_PYTHON_ZYGOTE';

/** The socket variable of `.venv-legacy-clients`' zygote. */
export const LEGACY_PYTHON_ZYGOTE_SOCKET = 'TESSERA_PYTHON_ZYGOTE_LEGACY_CLIENTS';

/**
 * The driver interpreters by their virtualenv's directory name (at the checkout's root): the
 * variable that holds its zygote's socket, and the modules its zygote imports on its first request
 * besides `openai` and `pydantic` (what the drivers of that interpreter import first: LlamaIndex's
 * import is ~2.5 s of CPU, instructor's ~0.3 s more, paid once a run instead of once a driver).
 */
export const DRIVER_VENVS: Record<string, { socketVariable: string; preload: string[] }> = {
  '.venv': { socketVariable: PYTHON_ZYGOTE_SOCKET, preload: [] },
  '.venv-legacy-clients': {
    socketVariable: LEGACY_PYTHON_ZYGOTE_SOCKET,
    preload: ['llama_index.core', 'llama_index.llms.openai', 'llama_index.llms.openai_like', 'llama_index.embeddings.openai', 'instructor'],
  },
};

/**
 * The zygote socket variable of the interpreter `python` (`<checkout>/<venv>/bin/python`).
 * @throws when `python` is not in one of {@link DRIVER_VENVS}
 */
export function pythonZygoteVariable(python: string): string {
  const venv = basename(dirname(dirname(python)));
  const known = DRIVER_VENVS[venv];
  if (!known) throw new Error(`no driver zygote for the interpreter ${python}: its virtualenv ${venv} is not one of ${Object.keys(DRIVER_VENVS).join(', ')}`);
  return known.socketVariable;
}

/** python-zygote.py: the zygote and the launcher. */
export const PYTHON_ZYGOTE_PY = join(import.meta.dirname, 'python-zygote.py');

/** `PYTHON_ZYGOTE=off`: no zygote; every driver is a fresh Python. */
export function pythonZygoteDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PYTHON_ZYGOTE === 'off';
}

/**
 * The command that runs `python <script> <args...>`: through the run's zygote of that interpreter
 * when its socket variable ({@link pythonZygoteVariable}) is set in `env`, else the script itself.
 * Spawn it as the script would be (same stdio, env and cwd options).
 * @param python the interpreter (`.venv`'s or `.venv-legacy-clients`')
 * @throws when `python` is in none of {@link DRIVER_VENVS}
 */
export function pythonScriptCommand(python: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  const variable = pythonZygoteVariable(python);
  if (!env[variable]) return [python, [script, ...args]];
  return [python, ['-S', '-I', PYTHON_ZYGOTE_PY, 'run', variable, script, ...args]];
}

/**
 * Runs Python code with `.venv`'s interpreter (or `options.venv`'s) as a test's driver, through the run's zygote when it has one
 * ({@link pythonScriptCommand}): `code` is written to a file under a temporary directory first (the zygote runs
 * scripts, not `-c`). A fresh `.venv` Python that imports `openai` costs ~0.9 s of CPU; a forked driver ~0.02 s.
 * @param code the script; it reads its arguments from `sys.argv[1:]`
 * @param args its arguments
 * @param options.timeout milliseconds before the driver is killed @default 25000
 * @param options.venv the driver interpreter ({@link DRIVER_VENVS}) @default '.venv'
 * @returns its stdout and stderr
 * @throws (rejects) as `execFile` does: a non-zero exit, a signal, the timeout
 */
export async function runPythonCode(code: string, args: string[], options: { timeout?: number; venv?: '.venv' | '.venv-legacy-clients' } = {}): Promise<{ stdout: string; stderr: string }> {
  const script = join(tempDir('tessera-py-driver-'), 'driver.py');
  writeFileSync(script, code);
  return promisify(execFile)(...pythonScriptCommand(join(process.cwd(), options.venv ?? '.venv', 'bin', 'python'), script, args), { timeout: options.timeout ?? 25_000 });
}

/**
 * CPU seconds (user + system) of the drivers the run's zygotes forked for process `pid` (a test's worker: the
 * parent of the launchers it spawned) that have ended: the driver is the zygote's grandchild, not in the worker's
 * own children's CPU (`/proc/self/stat` cutime), so test/support/cpu-log.ts adds this. Read from the `driver-cpu.jsonl`
 * each zygote writes beside its socket (python-zygote.py `log_driver_cpu`); a driver whose launcher's parent is
 * another process (a CLI the test runs) counts for that process, not this one.
 * @returns 0 when no zygote runs (`PYTHON_ZYGOTE=off`) or none of its drivers has ended
 */
export function forkedDriverCpuSeconds(pid: number = process.pid, env: NodeJS.ProcessEnv = process.env): number {
  let sum = 0;
  for (const { socketVariable } of Object.values(DRIVER_VENVS)) {
    const socket = env[socketVariable];
    if (!socket) continue;
    let text: string;
    try {
      text = readFileSync(join(dirname(socket), 'driver-cpu.jsonl'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as { parentPid?: number; cpuSeconds?: number };
      if (entry.parentPid === pid && typeof entry.cpuSeconds === 'number') sum += entry.cpuSeconds;
    }
  }
  return sum;
}

/** The driver zygote: `stop()` ends it, and with it every driver it forked. */
export type PythonZygote = ZygoteProcess;

/**
 * Starts the zygote. It dies with this process (SIGKILL from the kernel when this process ends,
 * killed or not; end of file on its stdin otherwise), and its drivers with it.
 * @param python a driver interpreter ({@link DRIVER_VENVS}); its zygote preloads that venv's modules
 * @param socketPath where it listens; its directory must exist
 * @throws when it exits or does not listen within 60 s, or `python` is in none of {@link DRIVER_VENVS}
 */
export async function startPythonZygote(python: string, socketPath: string, env: NodeJS.ProcessEnv = process.env): Promise<PythonZygote> {
  pythonZygoteVariable(python);
  const venv = basename(dirname(dirname(python)));
  return startZygoteProcess(`the Python driver zygote of ${venv}`, python, PYTHON_ZYGOTE_PY, socketPath, env, DRIVER_VENVS[venv].preload);
}
