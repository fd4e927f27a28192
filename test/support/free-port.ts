import { createServer, type AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0), for a child
 * process that must be told its port (e.g. `tessera serve --workers N`, whose threads share one
 * port and so cannot each take port 0). Another process may take it in between: rare, not impossible.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok, fail) => {
    probe.once('error', fail);
    probe.listen({ port: 0, host: '127.0.0.1' }, ok);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise((ok) => probe.close(ok));
  return port;
}

/**
 * Starts a child that must be told its port (`tessera serve --workers N`) on a freePort, and again on another when the
 * child refuses the port as taken in between (serve says `… is already in use` and exits; CI saw it once in ~6,700
 * tests): at most `attempts` starts. The child's stderr is passed on to this process's.
 * @param start spawns the child for a port; its stdout and stderr must be pipes
 * @param ready whether the child's stdout so far says it is listening
 * @param attempts @default 3
 * @returns the child, listening, and its port
 * @throws Error `<what> exited <code>: <its stdout and stderr>` when it exits before it is ready for another reason, or
 *   when every attempt found its port taken
 */
export async function startOnFreePort(start: (port: number) => ChildProcess, ready: (stdout: string) => boolean, attempts = 3): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = start(port);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += String(d); process.stderr.write(d); });
    const outcome = await new Promise<'ready' | 'busy'>((resolve, reject) => {
      child.stdout!.on('data', (d) => { out += String(d); if (ready(out)) resolve('ready'); });
      child.once('exit', (code) => (err.includes('is already in use') && attempt < attempts ? resolve('busy') : reject(new Error(`${child.spawnfile} exited ${code}: ${out}${err}`))));
    });
    if (outcome === 'ready') return { child, port };
  }
}
