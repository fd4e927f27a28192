/**
 * `--help` / `-h` for the npm `demo:*`, `bench:*` scripts: each imports this module first (ESM
 * evaluates it before the script's other imports and its body), so with either flag among the
 * arguments the script's header comment (what it does and its `Usage:` line) is printed and the
 * process exits 0 before anything runs: no moto, no synth, no server. `npm run demo:onboarding --
 * --help` once ran the whole demo. (scripts/rehearse-deploy-guide.ts has its own, stricter parser.)
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  const entry = process.argv[1] ?? '';
  let header: string | undefined;
  try {
    header = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(entry, 'utf8'))?.[1];
  } catch {
    header = undefined;
  }
  const text = header
    ? header.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim()
    : `${entry}: see the comment at the top of the script for its usage`;
  process.stdout.write(`${text}\n`);
  process.exit(0);
}
