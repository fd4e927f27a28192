import type { Server } from 'node:http';
import type { Worker } from 'node:worker_threads';
import type { Gateway } from '../../lambdas/inference/gateway.js';

// How `tessera serve` stops: on SIGINT (Ctrl-C), SIGTERM (`kill`, `kill %1`) or SIGHUP (the
// terminal closed) it stops listening and exits 0, workers included; and started through npm
// (`npx tessera serve ... &`), it stops when its npm parent goes: `kill $!` reaches npx (npm exec),
// which ends its `sh -c` child without passing the signal on to this process.

/**
 * The parent when this module loaded (at CLI start, before serve's set-up): a parent gone during
 * the set-up (`kill $!` right after `npx tessera serve &`) is noticed too.
 */
const PARENT_AT_START = process.ppid;

/** The signals that stop serve. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `stop` once, on the first stop signal or, under npm (`npm_command` set: npx, npm run), when
 * the parent process is gone (this process re-parented since the CLI started), then exits 0. Stop
 * signals that come while it stops are ignored (the stop itself is bounded: closeGateway, stopWorkers).
 * The parent is checked every `pollMs` on an unref'd timer (it keeps nothing alive).
 * @param stop closes the servers, or terminates the worker threads
 * @param pollMs @default 500
 */
export function stopCleanly(stop: () => Promise<void>, pollMs = 500): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0), () => process.exit(0));
  };
  // `on`, not `once`: a second Ctrl-C while it settles would otherwise meet Node's default action
  // and end the process mid-flush, losing the audit batch (hostile review); the stop is bounded
  // (closeGateway, stopWorkers), so a repeated signal is absorbed.
  for (const signal of STOP_SIGNALS) process.on(signal, once);
  if (process.env.npm_command) {
    // Under npm the parent is npm's shell, never init (1): re-parented to 1 means it is gone.
    const gone = () => process.ppid !== PARENT_AT_START || process.ppid === 1;
    if (gone()) once();
    setInterval(() => { if (gone()) once(); }, pollMs).unref();
  }
}

/** What serve's main thread posts to stop a `--workers` thread (serve-worker.ts): it closes its server, settles its gateway, then ends. */
export const STOP_WORKER = 'stop';

/**
 * Stops one gateway's server: new connections refused, open ones closed (a request in flight is cut
 * and its audit record says `cancelled`), then `work` ended (the work serve runs off its requests,
 * already told to start nothing more: createLocalGateway's batchesIdle after stopBatches, so a batch
 * line, background response or vector store file whose upstream call was under way ends and its
 * answer is written, not lost and run again by the next serve), then Gateway.settled(): every audit
 * record, budget alert and API key `lastUsedAt` of the requests and that work is stored before the
 * caller exits. Both within one `graceMs`: what has not ended by then (a call slower than that, a
 * store call that does not return) is left with a line on stderr: a stop never hangs. Never rejects.
 * @param options.graceMs @default 10000
 * @param options.work @default - no work to wait for
 */
export async function closeGateway(server: Server, gateway: Pick<Gateway, 'settled'>, options: { graceMs?: number; work?: () => Promise<unknown> } = {}): Promise<void> {
  const graceMs = options.graceMs ?? 10_000;
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeAllConnections();
  await closed;
  const ended = (async () => {
    await options.work?.().catch(() => undefined);
    await gateway.settled();
  })();
  if (!(await within(ended, graceMs))) {
    process.stderr.write(`tessera serve: stopped without waiting longer than ${graceMs / 1000} s for requests and background work to end: their answers (batch lines, background responses: the next serve runs or settles them), audit records, budget alerts or API key lastUsedAt may be missing\n`);
  }
}

/**
 * Stops `tessera serve --workers N`'s threads: each is asked to stop (STOP_WORKER: it closes its
 * server and settles its gateway within closeGateway's 10 s, then ends), and terminated if it has
 * not ended after `graceMs`.
 * @param graceMs @default 12000
 */
export async function stopWorkers(threads: readonly Worker[], graceMs = 12_000): Promise<void> {
  await Promise.all(threads.map(async (thread) => {
    const ended = new Promise<void>((done) => thread.once('exit', () => done()));
    thread.postMessage(STOP_WORKER);
    if (!(await within(ended, graceMs))) await thread.terminate();
  }));
}

/** Whether `work` ended within `ms` (its timer cleared either way). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((done) => { timer = setTimeout(() => done(false), ms); });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
