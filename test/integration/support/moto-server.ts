import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkMoto, MOTO_ZYGOTE_SOCKET, motoZygoteDisabled, ZYGOTE_PY } from './moto-zygote.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Python modules every moto server loads at start (sitecustomize.py: moto patched for speed, same answers). */
export const MOTO_PYTHON_DIR = join(import.meta.dirname, 'moto-python');

export interface MotoServer {
  readonly endpoint: string;
  /** How it started: forked by the run's moto zygote, or spawned as a fresh Python. */
  readonly via: 'zygote' | 'spawn';
  /** The server's process id. */
  readonly pid: number;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Ends the server; resolves once its process exited. */
  stop(): Promise<void>;
}

export interface MotoOptions {
  /**
   * One request at a time in the whole server, for DynamoDB's serialized semantics (connections are
   * kept alive, each on its thread, and a lock runs one request at a time: moto-python/tessera_moto_keepalive.py). @default false
   */
  serial?: boolean;
  /** Variables the server's environment has on top of this process's (e.g. MOTO_EC2_LOAD_DEFAULT_AMIS). @default none */
  env?: Record<string, string>;
}

/** The moto_server executable: `MOTO_SERVER`, else the project's `.venv`. */
export function motoBinary(): string {
  const venv = join(ROOT, '.venv', 'bin', 'moto_server');
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  if (existsSync(venv)) return venv;
  throw new Error('moto_server not found: run `node scripts/ensure-moto.mjs` (npm test does) or set MOTO_SERVER');
}

/** moto_server's own python (its venv). */
export function motoPython(): string {
  return join(dirname(motoBinary()), 'python');
}

/**
 * The environment a moto server runs with: `env` (this process's), `PYTHONPATH` led by
 * moto-python/ (its sitecustomize.py is loaded at Python start), and `overrides`.
 */
export function motoServerEnvironment(overrides: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = env.PYTHONPATH;
  const pythonPath = !path ? MOTO_PYTHON_DIR : path.split(delimiter)[0] === MOTO_PYTHON_DIR ? path : `${MOTO_PYTHON_DIR}${delimiter}${path}`;
  return { ...env, PYTHONPATH: pythonPath, ...overrides };
}

// CPU seconds of the forked servers this process stopped: not in its /proc cutime (the zygote is
// their parent). Kept on the process, as test/support/cpu-log.ts keeps its figures.
const FORKED_CPU = Symbol.for('tessera.motoForkedCpuSeconds');
const processState = process as unknown as Record<symbol, number | undefined>;

/** User + system CPU seconds used by the zygote-forked moto servers this process started and stopped. */
export function forkedMotoCpuSeconds(): number {
  return processState[FORKED_CPU] ?? 0;
}

/**
 * Starts moto on 127.0.0.1 on a free port, empty; it stops with this process at the latest (also
 * when this process is killed).
 * - In a vitest run it is forked by the run's moto zygote (moto-zygote.ts, moto-python/zygote.py;
 *   started by test/support/global-setup.ts, socket in `TESSERA_MOTO_ZYGOTE`): moto already imported,
 *   copy-on-write, the same server a fresh one is. Its lifeline is a connection this process holds.
 * - Otherwise (no zygote: a script, `MOTO_ZYGOTE=off`; or a variable moto reads at import time
 *   differs from the zygote's) a fresh Python is spawned, as `moto_server` would be.
 * @throws when the server does not start within 60 s, or the zygote is unreachable
 */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const serial = options.serial ?? false;
  const env = motoServerEnvironment(options.env);
  const socketPath = process.env[MOTO_ZYGOTE_SOCKET];
  let spawnReason: string | undefined;
  if (socketPath && !motoZygoteDisabled()) {
    const forked = await forkMoto(socketPath, { serial, env });
    if ('port' in forked) {
      const server = motoServer(`http://127.0.0.1:${forked.port}`, 'zygote', forked.pid, async () => {
        const cpuSeconds = await forked.stop();
        if (cpuSeconds === undefined) return;
        processState[FORKED_CPU] = forkedMotoCpuSeconds() + cpuSeconds;
        const log = process.env.TESSERA_MOTO_CPU_LOG;
        if (log) appendFileSync(log, `${JSON.stringify({ workerPid: process.pid, motoPid: forked.pid, serial, cpuSeconds })}\n`);
      });
      await answers(server, () => undefined);
      return server;
    }
    spawnReason = forked.spawn;
  }
  return spawnMoto(serial, env, spawnReason);
}

function motoServer(endpoint: string, via: MotoServer['via'], pid: number, stop: () => Promise<void>): MotoServer {
  return {
    endpoint,
    via,
    pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    stop,
  };
}

/** moto's dashboard answers (as before the zygote, each server's first request). */
async function answers(server: MotoServer, diagnostics: () => string | undefined): Promise<void> {
  const res = await fetch(`${server.endpoint}/moto-api/`).catch((error: Error) => error);
  if (res instanceof Error || !res.ok) {
    await server.stop();
    throw new Error(`moto on ${server.endpoint} did not answer: ${res instanceof Error ? res.message : res.status} ${diagnostics() ?? ''}`);
  }
}

/**
 * A fresh Python running moto-python/zygote.py `serve`: it dies with this process (prctl
 * PR_SET_PDEATHSIG; the worker's 'exit' handler stops it on a normal end), binds a free port and
 * prints it. Its stderr holds errors and tracebacks (the last 4,000 characters are kept for the
 * start-up errors below); werkzeug's request log is written only with `MOTO_LOG=<file>`, which
 * receives all of it (a forked server writes it there itself).
 */
async function spawnMoto(serial: boolean, env: NodeJS.ProcessEnv, reason: string | undefined): Promise<MotoServer> {
  const child: ChildProcess = spawn(motoPython(), [ZYGOTE_PY, 'serve', serial ? 'serial' : 'threaded', String(process.pid)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = reason ? `(spawned, not forked: ${reason})\n` : '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  if (process.env.MOTO_LOG) child.stderr?.pipe(createWriteStream(process.env.MOTO_LOG));
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`moto_server did not listen within 60 s: ${stderr}`));
    }, 60_000);
    const early = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${code ?? signal}): ${stderr}`));
    };
    child.once('exit', early);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n', 2);
      if (line.length < 2) return;
      clearTimeout(timer);
      child.removeListener('exit', early);
      child.stdout!.removeAllListeners('data');
      resolve((JSON.parse(line[0]!) as { port: number }).port);
    });
  }).catch((error: Error) => {
    process.removeListener('exit', kill);
    throw error;
  });
  const server = motoServer(`http://127.0.0.1:${port}`, 'spawn', child.pid!, async () => {
    process.removeListener('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      kill();
      await exited;
    }
  });
  await answers(server, () => stderr);
  return server;
}

/**
 * Points every AWS SDK client this process builds from now on at `moto`: its endpoint, region
 * us-east-1 and moto's test credentials (no session token left over from the environment).
 */
export function pointSdkAtMoto(moto: MotoServer): void {
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  delete process.env.AWS_SESSION_TOKEN;
}
