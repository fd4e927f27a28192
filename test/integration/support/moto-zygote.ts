import { readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { startZygoteProcess, type ZygoteProcess } from '../../support/zygote-process.js';

/**
 * The environment variable that hands the zygote's socket to test workers: set by vitest's global
 * setup (test/support/global-setup.ts) in the main process, inherited by the workers it forks.
 */
export const MOTO_ZYGOTE_SOCKET = 'TESSERA_MOTO_ZYGOTE';

/**
 * `MOTO_ZYGOTE=off`: no zygote is started, and startMoto spawns every server. Also off under
 * `TESSERA_MOTO_PROBE` with `TESSERA_MOTO_RECORD=1` (moto-python/tessera_moto_probe.py, a measuring
 * tool): a recording seeds moto's random source at import, which the fork's reseeding would undo.
 * The probe alone (and its `TESSERA_MOTO_CPROFILE=1`) runs in forked servers: a spawned server's
 * profile counts imports and service-model loads that a forked one never pays.
 */
export function motoZygoteDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MOTO_ZYGOTE === 'off' || (Boolean(env.TESSERA_MOTO_PROBE) && env.TESSERA_MOTO_RECORD === '1');
}

/** moto-python/zygote.py: the zygote, and the server both ways start (moto-server.ts). */
export const ZYGOTE_PY = join(import.meta.dirname, 'moto-python', 'zygote.py');

/** The moto zygote: `stop()` ends it, and with it every server it forked. */
export type MotoZygote = ZygoteProcess;

/**
 * Starts the moto zygote (moto-python/zygote.py): a Python that imports moto on its first request
 * and then forks a fresh moto server per {@link forkMoto}. It dies with this process (SIGKILL from
 * the kernel when this process ends, killed or not; end of file on its stdin otherwise).
 * @param python moto's Python (the `.venv`'s)
 * @param socketPath where it listens; its directory must exist
 * @param env its environment: the one a spawned server would have (moto-server.ts
 *   motoServerEnvironment), since requests whose import-time variables differ are refused
 * @throws when it exits or says nothing within 60 s
 */
export async function startMotoZygote(python: string, socketPath: string, env: NodeJS.ProcessEnv): Promise<MotoZygote> {
  return startZygoteProcess('the moto zygote', python, ZYGOTE_PY, socketPath, env);
}

/** A server the zygote forked. */
export interface ForkedMoto {
  readonly port: number;
  readonly pid: number;
  /** Closes its lifeline; resolves once the server exited, with the CPU seconds it used (user + system). */
  stop(): Promise<number | undefined>;
}

/**
 * Asks the zygote at `socketPath` for a moto server.
 * @param request `serial`: one request at a time; `env`: the whole environment the server would be
 *   spawned with (its os.environ)
 * @returns the server; or `{ spawn: reason }` when the zygote cannot give one equal to a fresh
 *   server (a variable moto reads at import time differs from the zygote's): the caller spawns it
 * @throws when the zygote is unreachable or the server could not start
 */
export async function forkMoto(socketPath: string, request: { serial: boolean; env: NodeJS.ProcessEnv }): Promise<ForkedMoto | { spawn: string }> {
  const socket = createConnection(socketPath);
  const lines: string[] = [];
  let buffered = '';
  let waiting: (() => void) | undefined;
  let failure: Error | undefined;
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffered += d;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
    waiting?.();
  });
  socket.on('error', (error) => {
    failure = new Error(`moto zygote at ${socketPath}: ${error.message} (MOTO_ZYGOTE=off spawns moto instead)`);
    waiting?.();
  });
  socket.on('close', () => {
    closed = true;
    waiting?.();
  });
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    while (lines.length === 0 && !failure && !closed) await new Promise<void>((r) => (waiting = r));
    waiting = undefined;
    const line = lines.shift();
    if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
    if (failure) throw failure;
    return undefined;
  };
  socket.write(`${JSON.stringify(request)}\n`);
  // The first request waits for the zygote's warm-up (2-3 s of CPU; tens of seconds on a loaded machine).
  const timer = setTimeout(() => {
    failure = new Error(`moto zygote at ${socketPath}: no answer within 120 s (MOTO_ZYGOTE=off spawns moto instead)`);
    socket.destroy();
  }, 120_000);
  const answer = await next().finally(() => clearTimeout(timer));
  if (answer && typeof answer.spawn === 'string') {
    socket.destroy();
    return { spawn: answer.spawn };
  }
  if (!answer || typeof answer.port !== 'number' || typeof answer.pid !== 'number') {
    socket.destroy();
    throw new Error(`moto zygote: no server: ${answer ? String(answer.error ?? JSON.stringify(answer)) : 'connection closed'}`);
  }
  // The connection is the server's lifeline: it ends with this process, and must not keep it alive.
  socket.unref();
  const { port, pid } = answer as { port: number; pid: number };
  let stopped: Promise<number | undefined> | undefined;
  return {
    port,
    pid,
    stop() {
      stopped ??= (async () => {
        socket.ref(); // this process waits for the server's exit now
        socket.end();
        const timer = setTimeout(() => {
          // It exits as soon as it reads end of file; should it hang, it is still ours to end.
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
          socket.destroy();
        }, 10_000);
        let cpuSeconds: number | undefined;
        for (let m = await next().catch(() => undefined); m; m = await next().catch(() => undefined)) {
          if (typeof m.cpuSeconds === 'number') cpuSeconds = m.cpuSeconds;
        }
        clearTimeout(timer);
        // The kernel closes a process's sockets before it becomes a zombie: wait for that last step,
        // so that when stop() resolves the server's process is gone (or only awaits its reaping).
        // Its threads (one per kept-alive connection) share its sockets and may still be exiting
        // when its main thread is a zombie: exited() waits for them too.
        await exited(pid);
        return cpuSeconds;
      })();
      return stopped;
    },
  };
}

/**
 * Resolves once process `pid` is gone, or a zombie whose other threads are gone too (Linux /proc;
 * elsewhere at once), polling every 10 ms for at most 2 s. A multi-threaded process's main thread can
 * be a zombie while its other threads still exit, holding the files (its sockets) they share; a
 * thread leaves /proc/<pid>/task only after it released them.
 */
async function exited(pid: number): Promise<void> {
  for (const deadline = Date.now() + 2_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    let stat: string;
    let threads: number;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      threads = readdirSync(`/proc/${pid}/task`).length;
    } catch {
      return; // gone (or no /proc)
    }
    if (stat.charAt(stat.lastIndexOf(')') + 2) === 'Z' && threads <= 1) return;
  }
}
