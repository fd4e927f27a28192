/**
 * Measures `npm test` the way the README quotes it: wall and CPU seconds of its parts, each run
 * alone and one after the other, then (`npm-test`) of the whole command as `npm test` runs it
 * (test/support/run-tests.ts: the type-check beside the suite). CPU is user + system of the whole
 * process tree (vitest's workers, moto servers, child CLIs), from bash's `times`. On 2 cores the
 * CPU figure over 2 is the floor for the wall time; wall well above that is waiting (or other load:
 * the 1-minute load average before each part is printed beside it).
 *
 * Also writes each test file's wall and CPU seconds (test/support/cpu-log.ts) to
 * `.tessera/bench/test-cpu-<part>.jsonl` (in the project, git-ignored, replaced by the next run: nothing left in the
 * system's temp dir) and prints the ten costliest files by CPU.
 *
 * Usage: npm run bench:test [-- parts...] [--durations], parts from `typecheck`, `vitest`, `npm-test`
 * (default: all three, in that order). With `--durations`, the last part's per-file wall seconds
 * are written to test/support/file-durations.json: the order files start in when vitest has no
 * results cache (a fresh clone; test/support/sequencer.ts). Only from a run of the whole suite.
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileCpu } from '../support/cpu-log.js';
import { DURATIONS_FILE } from '../support/sequencer.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

const PARTS = {
  typecheck: [bin('tsc'), '--noEmit', '--singleThreaded'],
  vitest: [bin('vitest'), 'run', '--reporter=dot'],
  'npm-test': [process.execPath, join(ROOT, 'test', 'support', 'run-tests.ts'), '--reporter=dot'],
} as const;
type Part = keyof typeof PARTS;

const writeDurations = process.argv.includes('--durations');
const asked = process.argv.slice(2).filter((a) => a !== '--durations');
const unknown = asked.filter((p) => !(p in PARTS));
if (unknown.length) throw new Error(`unknown part(s) ${unknown.join(', ')}: choose from ${Object.keys(PARTS).join(', ')}`);
const parts = (asked.length ? asked : Object.keys(PARTS)) as Part[];

/** Seconds from bash's `times` line for children ("1m2.345s 0m6.789s": user, system). */
function seconds(field: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(field);
  if (!m) throw new Error(`unexpected times field ${JSON.stringify(field)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const work = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const rows: string[] = [];
try {
  for (const part of parts) {
    const timesFile = join(work, `${part}.times`);
    const cpuLog = join(ROOT, '.tessera', 'bench', `test-cpu-${part}.jsonl`);
    mkdirSync(dirname(cpuLog), { recursive: true });
    rmSync(cpuLog, { force: true });
    const load = loadavg()[0];
    const start = performance.now();
    // bash runs the part and then `times`: its second line is the CPU of every child it waited for.
    const result = spawnSync('bash', ['-c', '"$@"; status=$?; times > "$TIMES_FILE"; exit $status', 'bash', ...PARTS[part]], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, CI: 'true', TIMES_FILE: timesFile, TESSERA_TEST_CPU_LOG: cpuLog },
    });
    const wall = (performance.now() - start) / 1000;
    const [user, system] = readFileSync(timesFile, 'utf8').trim().split('\n')[1].trim().split(/\s+/).map(seconds);
    const cpu = user + system;
    rows.push(`${part.padEnd(9)} ${wall.toFixed(1).padStart(7)} s wall ${cpu.toFixed(1).padStart(7)} s CPU (user ${user.toFixed(1)}, sys ${system.toFixed(1)}; CPU/2 cores ${(cpu / 2).toFixed(1)} s) exit ${result.status}, load ${load.toFixed(2)} before`);
    if (existsSync(cpuLog)) {
      const files = readFileSync(cpuLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FileCpu);
      const cost = (f: FileCpu) => f.cpuSeconds + f.childCpuSeconds;
      const sum = files.reduce((s, f) => s + cost(f), 0);
      rows.push(`          ${files.length} files, ${sum.toFixed(1)} s CPU in their workers and children (${cpuLog}); costliest:`);
      for (const f of files.sort((a, b) => cost(b) - cost(a)).slice(0, 10)) {
        rows.push(`          ${cost(f).toFixed(1).padStart(6)} s CPU (${f.childCpuSeconds.toFixed(1)} s in children) ${f.wallSeconds.toFixed(1).padStart(6)} s wall  ${f.file}`);
      }
      if (writeDurations && part !== 'typecheck') {
        const durations = Object.fromEntries(files.map((f) => [f.file, Number(f.wallSeconds.toFixed(1))]).sort(([a], [b]) => (a < b ? -1 : 1)));
        writeFileSync(join(ROOT, DURATIONS_FILE), `${JSON.stringify(durations, null, 1)}\n`);
        rows.push(`          per-file wall seconds written to ${DURATIONS_FILE}`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nnpm test parts (${new Date().toISOString()}):\n${rows.join('\n')}`);
