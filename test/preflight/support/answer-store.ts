import { createHash, hash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useAnswerStore, type AnswerStore, type EvalResult } from '../../../lib/preflight/iam-eval.js';

/**
 * The IAM simulator's answers on disk for the test suite (lib/preflight/iam-eval.ts `useAnswerStore`):
 * the cross-tenant check and the preflight ask ~100,000 questions of the simulator, and a run asks
 * the same ones as the last run unless a policy, a principal, a resource or the attempts changed.
 * The simulator is a pure function of the request, so each answer is kept by the request (every
 * field of it, the policies as the SHA-256 of their JSON text; iam-eval.ts) in a file whose name
 * holds the SHA-256 of what computes the answers: the installed @cloud-copilot packages'
 * package.json (iam-simulate, iam-data, iam-policy, iam-utils: their versions and data),
 * lib/preflight/iam-eval.ts, lib/preflight/simulation-runner.ts and this file. A request not in the
 * file is simulated as before and its answer added.
 *
 * Answers are kept only between useDiskAnswers and saveDiskAnswers: the cross-tenant check's
 * control runs (test/isolation/support/cross-tenant.ts checkTiers) and the default config's
 * preflight (./default-preflight.ts). What still runs every time: building the blueprints' estates,
 * every attempt and positive control, the reports and every assertion; the simulator itself for
 * every request not in the file (an edited policy, a new attempt), for the planted defects' runs
 * and every other question asked after saveDiskAnswers, and in
 * test/preflight/simulation-runner.test.ts (never through this store). Not used with `TESSERA_TEST_CACHE=off` (as the other test caches) nor with
 * `TESSERA_IAM_SIMULATE_VERIFY=1` (every request is simulated both ways and compared).
 *
 * Files: `.tessera/test-synth-cache/iam-answers-<key>.json`; `{ results: [EvalResult JSON...], keys,
 * indexes: [index into results...] }`, `keys` the SHA-256 of each request text (base64, 24 characters)
 * one after the other, the i-th answered by `results[indexes[i]]`: ~130,000 answers read in ~40 ms,
 * where an object with a property per answer took ~155 ms (a file is read once per worker process
 * that uses it; every answer is one of ~10 distinct results). Several worker processes
 * may add to it: each write reads the file again, merges and renames a whole new file into place
 * (an answer lost to a race is simulated again next time). Other keys' files are removed on write.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CACHE_DIR = join(ROOT, '.tessera', 'test-synth-cache');
const PREFIX = 'iam-answers-';
/**
 * Past this many answers (about two and a half runs' worth) the file keeps only the answers this
 * process used or added: old policies' answers go. A run asks 198,449 today (2026-12-07, 5.2 MB:
 * isolation/cross-tenant-dr 117,842, cross-tenant-shapes 54,248, cross-tenant-tiers 20,882, the
 * preflight 5,477); with the cap at 200,000 an edit adding 1,552 answers made the first file to write
 * drop every other file's, and the next runs simulated them again (cross-tenant-dr ~30 s of CPU).
 */
const MAX_ANSWERS = 500_000;

function codeKey(): string {
  const hash = createHash('sha256');
  for (const pkg of ['iam-simulate', 'iam-data', 'iam-policy', 'iam-utils']) {
    hash.update(pkg).update('\0').update(readFileSync(join(ROOT, 'node_modules', '@cloud-copilot', pkg, 'package.json')));
  }
  for (const file of ['lib/preflight/iam-eval.ts', 'lib/preflight/simulation-runner.ts']) hash.update(file).update('\0').update(readFileSync(join(ROOT, file)));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  return hash.digest('hex').slice(0, 24);
}

interface StoredAnswers {
  results: string[];
  /** Every answer's {@link requestKey}, {@link KEY_LENGTH} characters each, one after the other. */
  keys: string;
  /** Per answer (in the order of `keys`), its result's index in `results`. */
  indexes: number[];
}

const KEY_LENGTH = 24;
const requestKey = (requestText: string): string => hash('sha256', requestText, 'base64').slice(0, KEY_LENGTH);

class DiskAnswers implements AnswerStore {
  private readonly known = new Map<string, EvalResult>();
  private readonly added = new Map<string, EvalResult>();
  /** Keys of the answers this process took from the file. */
  private readonly used = new Set<string>();
  /** Whether new answers are kept (between useDiskAnswers and saveDiskAnswers). */
  recording = true;

  constructor(readonly file: string) {
    for (const [key, result] of readAnswers(file)) this.known.set(key, result);
  }

  get(requestText: string): EvalResult | undefined {
    if (!this.recording) return undefined; // after saveDiskAnswers: every question simulated
    const key = requestKey(requestText);
    const known = this.known.get(key);
    if (known) this.used.add(key);
    return known;
  }

  set(requestText: string, result: EvalResult): void {
    if (!this.recording) return;
    const key = requestKey(requestText);
    this.known.set(key, result);
    this.added.set(key, result);
  }

  /** Merges the answers added since the last write into the file. */
  write(): void {
    if (this.added.size === 0) return;
    let merged = new Map(readAnswers(this.file));
    if (merged.size + this.added.size > MAX_ANSWERS) merged = new Map([...this.used].map((key) => [key, this.known.get(key)!]));
    for (const [key, result] of this.added) merged.set(key, result);
    this.added.clear();
    const results: string[] = [];
    const indexOf = new Map<string, number>();
    const indexes: number[] = [];
    for (const result of merged.values()) {
      const json = JSON.stringify(result);
      let i = indexOf.get(json);
      if (i === undefined) indexOf.set(json, (i = results.push(json) - 1));
      indexes.push(i);
    }
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${this.file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify({ results, keys: [...merged.keys()].join(''), indexes } satisfies StoredAnswers));
    renameSync(partial, this.file); // atomic: readers see the whole file or none
    const name = this.file.slice(CACHE_DIR.length + 1);
    for (const other of safeReaddir(CACHE_DIR)) if (other.startsWith(PREFIX) && other.endsWith('.json') && other !== name) rmSync(join(CACHE_DIR, other), { force: true });
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readAnswers(file: string): Array<[string, EvalResult]> {
  let stored: StoredAnswers;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredAnswers;
  } catch {
    return []; // none yet (or a file from an interrupted write, which the rename prevents)
  }
  if (!Array.isArray(stored.results) || typeof stored.keys !== 'string' || !Array.isArray(stored.indexes)) return []; // not this format
  const results = stored.results.map((json) => JSON.parse(json) as EvalResult);
  const answers: Array<[string, EvalResult]> = [];
  for (let i = 0; i < stored.indexes.length; i++) answers.push([stored.keys.slice(i * KEY_LENGTH, (i + 1) * KEY_LENGTH), results[stored.indexes[i]]]);
  return answers;
}

let disk: DiskAnswers | undefined;
/** The store useDiskAnswers replaced, put back by saveDiskAnswers. */
let replaced: AnswerStore | undefined;

/**
 * Has lib/preflight/iam-eval.ts answer from the disk store from now on in this process (once per
 * process; nothing with TESSERA_TEST_CACHE=off or TESSERA_IAM_SIMULATE_VERIFY=1).
 */
export function useDiskAnswers(): void {
  if (process.env.TESSERA_TEST_CACHE === 'off' || process.env.TESSERA_IAM_SIMULATE_VERIFY === '1') return;
  disk ??= new DiskAnswers(join(CACHE_DIR, `${PREFIX}${codeKey()}.json`));
  const before = useAnswerStore(disk);
  if (before !== disk) replaced = before;
  disk.recording = true;
}

/**
 * Writes the answers simulated since useDiskAnswers into the disk store, and keeps no more: what is
 * asked after it (a planted defect's run, another file's own questions) is simulated every time.
 */
export function saveDiskAnswers(): void {
  if (!disk) return;
  disk.write();
  disk.recording = false;
  const current = useAnswerStore(replaced);
  if (current !== disk) useAnswerStore(current); // another store was installed meanwhile: it stays
}
