/**
 * Measures `npx cdk synth` of the whole app (default config, no credentials), the way the README
 * runs it (figures: docs/resilience.md, Synth in seconds): a fresh cdk.out each run, wall-clock time including the CLI, the app process and the
 * Lambda bundling (one shared esbuild build, lib/bundling/shared-lambda-build.ts). Prints the
 * 1-minute load average before each run: on a shared machine a figure means little without it.
 * Usage: npm run bench:synth [-- runs]
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 5);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs is ${JSON.stringify(process.argv[2])}: give a whole number of runs, e.g. npm run bench:synth -- 3`);
const times: number[] = [];
let templates = 0;
for (let i = 0; i < runs; i++) {
  const out = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const load = loadavg()[0];
  const start = process.hrtime.bigint();
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`cdk synth failed (exit ${result.status})`);
  }
  templates = [...readdirSync(out), ...readdirSync(join(out, 'assembly-Blueprints'))].filter((f) => f.endsWith('.template.json')).length;
  rmSync(out, { recursive: true, force: true });
  times.push(ms);
  console.log(`run ${i + 1}: ${(ms / 1000).toFixed(2)} s (load average ${load.toFixed(2)} before)`);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`cdk synth, whole app (${templates} templates), ${runs} runs: median ${(median / 1000).toFixed(2)} s, min ${(times[0] / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s`);
