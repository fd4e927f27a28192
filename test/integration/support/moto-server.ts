import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface MotoServer {
  readonly endpoint: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The moto_server executable: `MOTO_SERVER`, else the project's `.venv`. */
export function motoBinary(): string {
  const venv = join(ROOT, '.venv', 'bin', 'moto_server');
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  if (existsSync(venv)) return venv;
  throw new Error('moto_server not found: run `node scripts/ensure-moto.mjs` (npm test does) or set MOTO_SERVER');
}

/**
 * Python run first in the moto process: on Linux it asks the kernel to send it SIGKILL when its
 * parent (the test worker) dies (prctl PR_SET_PDEATHSIG). The worker's 'exit' handler stops moto
 * when the worker ends normally; a worker that vitest kills (a run interrupted, a hook timed out)
 * runs no handler, and its moto used to live on, orphaned, with its port and memory. The parent
 * may already be gone by the time prctl runs: then moto exits at once. Elsewhere it does nothing.
 */
const DIE_WITH_PARENT = `
import os, sys
if sys.platform == 'linux':
    import ctypes, signal
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[1]):
        sys.exit(0)
`;

/** moto's own server, as `moto_server -H 127.0.0.1 -p <port>` runs it. */
const THREADED_SERVER = `${DIE_WITH_PARENT}
from moto.server import main
main(['-H', '127.0.0.1', '-p', sys.argv[2]])
`;

/**
 * moto's own server, but answering one request at a time. moto_server handles requests in threads
 * and its DynamoDB does not isolate concurrent transactions, which DynamoDB itself serializes; tests
 * of exact concurrent accounting need the serialized semantics.
 */
const SERIAL_SERVER = `${DIE_WITH_PARENT}
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
run_simple('127.0.0.1', int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)
`;

/** Starts moto on 127.0.0.1 on a free port; it stops with the test process at the latest. */
export async function startMoto(options: { serial?: boolean } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto_server's own python (its venv), running the server in-process so the parent-death signal holds.
  const python = join(dirname(motoBinary()), 'python');
  const child: ChildProcess = spawn(python, ['-c', options.serial ? SERIAL_SERVER : THREADED_SERVER, String(process.pid), String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  if (process.env.MOTO_LOG) child.stderr?.pipe(createWriteStream(process.env.MOTO_LOG));
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        kill();
        await exited;
      }
    },
  };
}

/**
 * Points every AWS SDK client this process builds from now on at `moto`: its endpoint, region
 * us-east-1 and moto's test credentials (no session token left over from the environment).
 */
export function pointSdkAtMoto(moto: MotoServer): void {
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  delete process.env.AWS_SESSION_TOKEN;
}
