import { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';

/**
 * What a test file may start or install in its worker process that outlives it: child processes,
 * listening servers, open sockets, process listeners, globals, the exit code, the working
 * directory, patched stdout/stderr writers, files left open under its temp dirs (reported only). Project `shared-reset` (vitest.config.ts) runs several
 * files in one process; test/support/file-state.ts takes a {@link ProcessSnapshot} before each
 * file and, after its last afterAll hook, stops what the file left ({@link endLeaks}) and fails the
 * file naming it, so a leak is caught where it happened and never inherited by the next file.
 *
 * Not seen (hostile review, 2026-12-01): timers (an unref'd `setInterval` keeps running into the
 * next file), `worker_threads` Workers, and grandchildren (a child's own child, e.g. `sh -c 'cmd &'`,
 * re-parented to init once its parent exits). Libraries keep timers of their own, so timers cannot
 * be told apart without false alarms; a file that starts any of these stops it in its own afterAll.
 */
export interface ProcessSnapshot {
  /** Process ids of the live children of this process (Linux: /proc/self/task/<tid>/children). */
  readonly children: ReadonlySet<number>;
  /** libuv handles alive (servers, sockets, child processes), as `process._getActiveHandles()` returns them. */
  readonly handles: ReadonlySet<object>;
  /** Every listener of every process event (the registered functions, `once` wrappers included). */
  readonly listeners: ReadonlyMap<string | symbol, readonly Function[]>;
  /** The own string-keyed properties of globalThis, as descriptors. */
  readonly globals: ReadonlyMap<string, PropertyDescriptor>;
  readonly exitCode: typeof process.exitCode;
  readonly cwd: string;
  readonly stdoutWrite: typeof process.stdout.write;
  readonly stderrWrite: typeof process.stderr.write;
  /** Descriptors open on files under this process's temp dirs, as `<fd> <path>` ({@link openTempFiles}). */
  readonly tempFiles: ReadonlySet<string>;
}

/** One thing a file left behind, and how it was put right. */
export interface Leak {
  kind: 'child process' | 'server' | 'socket' | 'process listener' | 'global' | 'exit code' | 'cwd' | 'stdout/stderr' | 'open file';
  /** What it is: pid and command line, address, event name, key. */
  what: string;
  /** What was done about it: killed, closed, removed, set back. */
  done: string;
}

/**
 * Sockets, servers and child processes that were unref'd in this process (weak references, kept on
 * the process across the files of a worker). `process._getActiveHandles()` lists only handles that
 * keep the event loop alive: an unref'd one, such as the lifeline of a zygote-forked moto server
 * (test/integration/support/moto-zygote.ts), would go unseen. `unref` of the three classes is wrapped
 * once per process to remember its target, and otherwise does what it did.
 */
function unrefdHandles(): Set<WeakRef<object>> {
  const key = Symbol.for('tessera.fileState.unrefdHandles');
  const state = process as unknown as Record<symbol, Set<WeakRef<object>> | undefined>;
  const existing = state[key];
  if (existing) return existing;
  const unrefd = new Set<WeakRef<object>>();
  state[key] = unrefd;
  for (const type of [Socket, Server, ChildProcess] as Array<{ prototype: { unref(): unknown } }>) {
    const unref = type.prototype.unref;
    type.prototype.unref = function unrefTracked(this: object) {
      unrefd.add(new WeakRef(this));
      return unref.call(this);
    };
  }
  return unrefd;
}

/** Still open: a socket not destroyed, a server listening, a child not exited. */
function open(handle: object): boolean {
  if (handle instanceof Socket) return !handle.destroyed;
  if (handle instanceof Server) return handle.listening;
  if (handle instanceof ChildProcess) return handle.exitCode === null && handle.signalCode === null;
  return true;
}

/** Servers, sockets and child processes alive in this process, whether they keep the event loop alive or not. */
function activeHandles(): object[] {
  const handles = new Set((process as unknown as { _getActiveHandles(): object[] })._getActiveHandles());
  const unrefd = unrefdHandles();
  for (const ref of unrefd) {
    const handle = ref.deref();
    if (handle === undefined || !open(handle)) unrefd.delete(ref);
    else handles.add(handle);
  }
  return [...handles];
}

/** The pids of this process's live children; empty where /proc is not available (handles still catch ChildProcess objects). */
export function childPids(): Set<number> {
  const pids = new Set<number>();
  try {
    for (const task of readdirSync('/proc/self/task')) {
      for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(/\s+/)) if (pid) pids.add(Number(pid));
    }
  } catch {
    // not Linux
  }
  return pids;
}

/** A path under a directory test/support/temp-dirs.ts made in this process (`<tmpdir>/<prefix>pid<pid>-XXXXXX`), removed or not. */
const ownTempPath = () => new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^/]*pid${process.pid}-[A-Za-z0-9]{6}(/| \\(deleted\\)$|$)`);

/**
 * The file descriptors of this process open on a path under its own temp dirs (Linux: /proc/self/fd; empty elsewhere),
 * as `<fd> <path>`. A descriptor a file leaves there is a FileHandle (or stream) it never closed: garbage collection
 * closes it some files later, with Node's DEP0137 warning on whatever stderr is then in place (s47l: a CLI test's
 * captured output). Only the temp dirs: vitest and Node keep files of their own open (caches, the compile cache), and
 * the file's own directories are what it opened files in, removed after it.
 */
export function openTempFiles(): Set<string> {
  const own = ownTempPath();
  const open = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return open; // not Linux
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (own.test(target)) open.add(`${fd} ${target}`);
    } catch {
      // closed meanwhile (readdirSync's own descriptor among them)
    }
  }
  return open;
}

/** A child's state and command line from /proc ('' when it is gone or not readable). */
function procInfo(pid: number): { state: string; cmdline: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { state, cmdline: cmdline.length > 160 ? `${cmdline.slice(0, 160)}...` : cmdline };
  } catch {
    return { state: '', cmdline: '' };
  }
}

/** The process state a file may change, taken before the file (test/support/file-state.ts). */
export function snapshot(): ProcessSnapshot {
  return {
    children: childPids(),
    handles: new Set(activeHandles()),
    listeners: new Map(process.eventNames().map((event) => [event, [...process.rawListeners(event)]])),
    globals: new Map(Object.getOwnPropertyNames(globalThis).map((key) => [key, Object.getOwnPropertyDescriptor(globalThis, key)!])),
    exitCode: process.exitCode,
    cwd: process.cwd(),
    stdoutWrite: process.stdout.write,
    stderrWrite: process.stderr.write,
    tempFiles: openTempFiles(),
  };
}

/** A socket that belongs to a server or child in `handles` (stdio pipes of a child, connections of a server are reported with their owner). */
function describeSocket(socket: Socket): string {
  const local = socket.localAddress ? `${socket.localAddress}:${socket.localPort}` : 'pipe';
  const remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : '';
  return remote ? `${local} -> ${remote}` : local;
}

/** Globals that vitest itself sets in a worker for each file (its worker state and module runner), not a file's doing. */
const RUNNER_GLOBALS = /^__vitest|^__VITEST|^__vite/;

/**
 * Child processes that a library keeps for the whole process and starts on first use, as it would
 * in a process of its own: esbuild's JS API runs one `esbuild --service` child per process (unref'd;
 * it exits when its parent does, reading its stdin), and the next file of the worker reuses it.
 */
const LIBRARY_CHILDREN = /(^|\/)esbuild(\.exe)? --service=/;

/**
 * Process listeners that a library registers once, when the worker first loads it, as it would in
 * a process of its own (matched on the listener's source): aws-cdk-lib's cloud assembly removes its
 * temporary directories at exit (@aws-cdk/cloud-assembly-api, cloud-assembly.js, at module level).
 */
const LIBRARY_LISTENERS = /^\(\) => CloudAssembly\.cleanupTemporaryDirectories\(\)$/;

const sameProperty = (a: PropertyDescriptor | undefined, b: PropertyDescriptor | undefined): boolean =>
  a !== undefined && b !== undefined && Object.is(a.value, b.value) && a.get === b.get && a.set === b.set;

/** What is new since `before` and still there now, without touching it. */
function newSince(before: ProcessSnapshot): { children: number[]; servers: Server[]; sockets: Socket[]; processes: ChildProcess[]; files: string[] } {
  const fresh = activeHandles().filter((h) => !before.handles.has(h));
  // A library's own child and its stdio pipes (esbuild's service) are the library's, not the file's.
  const library = fresh.filter((h): h is ChildProcess => h instanceof ChildProcess && LIBRARY_CHILDREN.test(h.spawnargs.join(' ')));
  const libraryPipes = new Set<unknown>(library.flatMap((c) => c.stdio));
  return {
    children: [...childPids()].filter((pid) => {
      if (before.children.has(pid)) return false;
      const { state, cmdline } = procInfo(pid);
      return state !== 'Z' && !LIBRARY_CHILDREN.test(cmdline);
    }),
    servers: fresh.filter((h): h is Server => h instanceof Server && h.listening),
    sockets: fresh.filter((h): h is Socket => h instanceof Socket && !h.destroyed && !libraryPipes.has(h)),
    processes: fresh.filter((h): h is ChildProcess => h instanceof ChildProcess && !library.includes(h)),
    files: [...openTempFiles()].filter((f) => !before.tempFiles.has(f)),
  };
}

/**
 * Waits up to `graceMs` for what the file started since `before` to end by itself (a child
 * reaped, a socket whose peer closed), then ends what is left and puts back process listeners,
 * globals that were there before (replaced or deleted), the exit code, the working directory and
 * stdout/stderr. Child processes get SIGKILL,
 * servers are closed with their connections, sockets destroyed, listeners and globals removed.
 * @returns what was left behind (empty when the file cleaned up after itself)
 */
export async function endLeaks(before: ProcessSnapshot, graceMs = 2_000): Promise<Leak[]> {
  const deadline = Date.now() + graceMs;
  let left = newSince(before);
  while (left.children.length + left.servers.length + left.sockets.length + left.processes.length + left.files.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = newSince(before);
  }
  const leaks: Leak[] = [];
  const pids = new Set(left.children);
  for (const child of left.processes) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) pids.add(child.pid);
  for (const pid of pids) {
    const { cmdline } = procInfo(pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    leaks.push({ kind: 'child process', what: `pid ${pid}${cmdline ? `: ${cmdline}` : ''}`, done: 'killed (SIGKILL)' });
  }
  for (const server of left.servers) {
    const address = server.address();
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close();
    leaks.push({ kind: 'server', what: `listening on ${typeof address === 'string' ? address : `${address?.address}:${address?.port}`}`, done: 'closed' });
  }
  for (const socket of left.sockets) {
    if (socket.destroyed) continue;
    const what = describeSocket(socket);
    socket.destroy();
    leaks.push({ kind: 'socket', what, done: 'destroyed' });
  }
  // Reported, not closed: the descriptor is a FileHandle's (or a stream's), whose garbage collection would close it
  // again, by then perhaps another file's descriptor with the same number.
  for (const file of left.files) {
    const [fd, ...path] = file.split(' ');
    leaks.push({ kind: 'open file', what: `${path.join(' ')} (fd ${fd}): a FileHandle or stream never closed`, done: 'left open: not the check\'s to close' });
  }
  for (const event of process.eventNames()) {
    const had = before.listeners.get(event) ?? [];
    for (const listener of process.rawListeners(event)) {
      if (had.includes(listener)) continue;
      const fn = (listener as Function & { listener?: Function }).listener ?? listener;
      if (LIBRARY_LISTENERS.test(fn.toString())) continue;
      process.removeListener(event, listener as (...args: unknown[]) => void);
      const name = fn.name || `anonymous ${fn.toString().replace(/\s+/g, ' ').slice(0, 80)}`;
      leaks.push({ kind: 'process listener', what: `'${String(event)}': ${name}`, done: 'removed' });
    }
  }
  // Globals that were there before the file and were replaced or deleted. New keys are not checked
  // here: libraries add theirs on first load, as they would in a fresh process (tslib's helpers,
  // zod's __zod_globalRegistry, @aws/lambda-invoke-store's awslambda); a test file or helper that
  // adds a global is sent to a process of its own by the classifier (test/support/shared-worker-files.ts).
  for (const [key, descriptor] of before.globals) {
    if (RUNNER_GLOBALS.test(key)) continue;
    const now = Object.getOwnPropertyDescriptor(globalThis, key);
    if (sameProperty(descriptor, now)) continue;
    Object.defineProperty(globalThis, key, descriptor);
    leaks.push({ kind: 'global', what: `globalThis.${key} ${now ? 'replaced' : 'deleted'}`, done: 'put back' });
  }
  if (process.exitCode !== before.exitCode) {
    leaks.push({ kind: 'exit code', what: `process.exitCode = ${String(process.exitCode)}`, done: `set back to ${String(before.exitCode)}` });
    process.exitCode = before.exitCode;
  }
  if (process.cwd() !== before.cwd) {
    leaks.push({ kind: 'cwd', what: process.cwd(), done: `changed back to ${before.cwd}` });
    process.chdir(before.cwd);
  }
  if (process.stdout.write !== before.stdoutWrite || process.stderr.write !== before.stderrWrite) {
    process.stdout.write = before.stdoutWrite;
    process.stderr.write = before.stderrWrite;
    leaks.push({ kind: 'stdout/stderr', what: 'process.stdout.write or process.stderr.write replaced', done: 'put back' });
  }
  return leaks;
}

/** The error a file fails with when it left something behind. */
export function leakError(file: string, leaks: readonly Leak[]): Error {
  const lines = leaks.map((l) => `  - ${l.kind} ${l.what} (${l.done})`);
  return new Error(
    `${file} left process-wide state behind in its shared worker (test/support/file-state.ts); it was ended or put back so the next file starts clean, ` +
      `but the file must stop what it starts in its own afterAll (also when a test fails):\n${lines.join('\n')}`,
  );
}
