import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** A zygote process (a Python that forks children on requests at a unix socket). */
export interface ZygoteProcess {
  /** The unix socket it takes requests on. */
  readonly socketPath: string;
  readonly pid: number;
  /** Ends the zygote, and with it every child it forked (PR_SET_PDEATHSIG); resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Starts `python -S <script> zygote <socketPath> <this pid> [args...]` and resolves once it printed
 * `listening` on stdout: the start shared by the moto zygote (moto-python/zygote.py) and the Python
 * client-driver zygote (python-zygote.py). `-S`: `site` runs inside the zygote, where the
 * environment variables it reads are recorded. Its pipes do not keep this process alive; it dies
 * with this process (its own PR_SET_PDEATHSIG, and end of file on its stdin).
 * @param name how errors name it (`the moto zygote`)
 * @param env its whole environment
 * @param args more arguments after the pid (the driver zygote's modules to preload)
 * @throws when it exits, or does not listen within 60 s
 */
export async function startZygoteProcess(name: string, python: string, script: string, socketPath: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<ZygoteProcess> {
  const child: ChildProcess = spawn(python, ['-S', script, 'zygote', socketPath, String(process.pid), ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not listen within 60 s`)), 60_000);
    let out = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`${name} exited (${code ?? signal}) before it listened`));
    child.once('exit', early);
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('listening\n')) {
        clearTimeout(timer);
        child.removeListener('exit', early);
        child.stdout!.removeAllListeners('data');
        resolve();
      }
    });
  });
  // Its pipes must not keep this process alive; the zygote reads end of file on stdin when it ends.
  child.unref();
  (child.stdin as unknown as Socket).unref?.();
  (child.stdout as unknown as Socket).unref?.();
  return {
    socketPath,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // this process waits for it now
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
