import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputKey } from '../../support/default-app.js';
import { processAlive } from '../../../lib/process-alive.js';

/**
 * Test-harness products that take seconds to make and never change between test files of a run
 * (the synthesized state machines, the synthesized blueprints, moto's answers about its
 * CloudFormation), made once and shared through a cache on disk, as test/support/default-app.ts
 * shares the default app's templates (vitest runs each file in its own process).
 *
 * Files live in `.tessera/test-synth-cache/<name>-<key>.json`. The key is a SHA-256 over
 * default-app.ts's `inputKey()` (every file the app reads at synth: bin/, constructs/, lambdas/,
 * lib/, types/, test/support/, cdk.json, package.json, package-lock.json, tsconfig.json), every
 * file of this harness (test/integration/support/: how a product is derived from the app), and the
 * caller's own key parts (the config, the blueprint version, moto's installation). A change to any
 * of them is a new key and a fresh computation. While one process computes, the others wait for
 * its file (a lock file `<name>-<key>.lock` with the holder's process id) instead of computing the
 * same thing again; a lock whose process is gone, or older than 4 minutes, is ignored.
 * `TESSERA_TEST_CACHE=off` computes every time (nothing read or written).
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CACHE_DIR = join(ROOT, '.tessera', 'test-synth-cache');
const HARNESS_DIR = 'test/integration/support';
/** A lock older than this is left by a process that died: ignored. */
const LOCK_STALE_MS = 240_000;
/** This cache's files of the same name older than this are removed when a new one is written. */
const KEEP_MS = 3_600_000;

/**
 * default-app.ts's input key plus every file of this harness, read when this module is loaded: the
 * state of the sources this process's code was loaded from (a file edited while a run goes on
 * makes a key the next process computes, not one this process writes under).
 */
const SOURCES_KEY = sourcesKey();

function sourcesKey(): string {
  const hash = createHash('sha256').update(inputKey());
  const dir = join(ROOT, HARNESS_DIR);
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) hash.update(`${name}\0`).update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

/** Options of cachedJson. */
export interface CacheOptions {
  /**
   * Whether the key holds the project's sources and this harness (SOURCES_KEY). `false` for a
   * product that reads none of them, whose `keyParts` are every input (moto-patches.test.ts: the
   * interpreter, the installed packages and the Python modules). @default true
   */
  readonly sources?: boolean;
}

/**
 * `compute()`'s result (JSON-serializable) for `name` and `keyParts`: from the disk cache, or
 * computed, written, and returned. Each call returns a fresh copy (parsed from the file, or a
 * round trip through JSON when computed), so callers may change what they get. A `compute()` that
 * throws writes nothing.
 */
export function cachedJson<T>(name: string, keyParts: unknown, compute: () => T, options: CacheOptions = {}): T {
  if (process.env.TESSERA_TEST_CACHE === 'off') return JSON.parse(JSON.stringify(compute())) as T;
  const entry = cacheEntry<T>(name, keyParts, options.sources ?? true);
  if (entry.cached !== undefined) return entry.cached;
  try {
    return entry.write(compute());
  } finally {
    entry.unlock();
  }
}

/**
 * cachedJson with an asynchronous `compute()` (same files, keys and locks): for a computation
 * whose modules are imported only on a miss (`await import(...)` inside `compute`).
 */
export async function cachedJsonAsync<T>(name: string, keyParts: unknown, compute: () => Promise<T>): Promise<T> {
  if (process.env.TESSERA_TEST_CACHE === 'off') return JSON.parse(JSON.stringify(await compute())) as T;
  const entry = cacheEntry<T>(name, keyParts);
  if (entry.cached !== undefined) return entry.cached;
  try {
    return entry.write(await compute());
  } finally {
    entry.unlock();
  }
}

/**
 * The cache file of `name` and `keyParts`: its content when there is one (waiting while another
 * process holds the lock); else this process holds the lock (or the holder is stuck) and must
 * `write` the computed value, then `unlock`.
 */
function cacheEntry<T>(name: string, keyParts: unknown, sources = true): { cached?: T; write(value: T): T; unlock(): void } {
  const key = createHash('sha256').update(sources ? SOURCES_KEY : 'no sources').update('\0').update(JSON.stringify(keyParts)).digest('hex').slice(0, 32);
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `${name}-${key}.json`);
  const lock = join(CACHE_DIR, `${name}-${key}.lock`);
  const read = (): T | undefined => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // not written yet, or pruned meanwhile
      throw e;
    }
  };
  const unlock = () => rmSync(lock, { force: true });
  const write = (value: T): T => {
    const text = JSON.stringify(value);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, file); // atomic: readers see the whole file or none
    prune(name, file);
    return JSON.parse(text) as T;
  };
  const waitUntil = Date.now() + LOCK_STALE_MS;
  for (;;) {
    const cached = read();
    if (cached !== undefined) return { cached, write, unlock: () => undefined };
    if (takeLock(lock)) break;
    if (Date.now() > waitUntil) break; // the holder is stuck: compute without the lock
    sleep(200);
  }
  const cached = read(); // written between our last look and the lock
  if (cached !== undefined) {
    unlock();
    return { cached, write, unlock: () => undefined };
  }
  return { write, unlock };
}

/**
 * Creates the lock file (holding this process's id) unless another live process holds it; true when
 * this process holds it. A lock whose process is gone (a worker killed by a hook timeout runs no
 * `finally`) or that is older than LOCK_STALE_MS is removed, and the next look may take it.
 */
function takeLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    try {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS || (holder > 0 && !processAlive(holder))) rmSync(lock, { force: true });
    } catch { /* removed meanwhile */ }
    return false;
  }
}


/** Removes this name's cache files older than an hour, except `keep`. */
function prune(name: string, keep: string): void {
  for (const entry of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, entry);
    try {
      if (path !== keep && entry.startsWith(`${name}-`) && entry.endsWith('.json') && Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
    } catch { /* removed by another process */ }
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
