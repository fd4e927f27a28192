// Where `tessera serve`'s CPU per request goes: a `perf record` of serve under issue 11's request.
//
// `npx tsx test/bench/gateway-perf-profile.ts [--workers N] [--seconds S] [--out DIR]`
// starts the bench's fake upstream and `tessera serve` (node run with --perf-basic-prof-only-functions
// and --interpreted-frames-native-stack, so JIT frames are named in perf's stacks), warms serve up
// with 30,000 requests at 100 connections, then records `perf record -e cpu-clock -F 2000 -g` of
// serve's process (every thread) while autocannon sends the same request for S seconds
// (@default 20), and writes DIR/perf.txt (`perf script`) and DIR/requests.txt. Then
// `python3 test/bench/gateway-perf-classify.py DIR/perf.txt <µs per request>` prints the bottom-up
// table (docs/gateway.md "Gateway figures": the map). Needs `perf` (linux-perf) and the right to profile
// one's own processes (perf_event_paranoid ≤ 2). @default N 1, DIR a new temp dir
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { AGENT_CHAT_BODY } from './agent-request.js';

// serve's access lines (one JSON line per request on stdout, since 2026-12-07) would be read and kept by this
// process, and cost serve a write per request that a baseline commit's serve does not make: WARN and ERROR only,
// unless the environment asks for a level.
const QUIET_ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' };

const args = process.argv.slice(2);
const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const workers = Number(valueOf('--workers') ?? 1);
const seconds = Number(valueOf('--seconds') ?? 20);
const root = join(import.meta.dirname, '..', '..');
// serve's state (its audit log grows ~25 MB a run) goes with this process; the profile stays in `out`.
const dir = mkdtempSync(join(tmpdir(), 'tessera-gw-perf-state-'));
const out = valueOf('--out') ?? mkdtempSync(join(tmpdir(), 'tessera-gw-perf-'));
mkdirSync(out, { recursive: true });
const children: ChildProcess[] = [];
process.on('exit', () => {
  children.forEach((c) => { try { process.kill(-c.pid!, 'SIGTERM'); } catch { /* gone */ } });
  rmSync(dir, { recursive: true, force: true });
  // V8's perf map of serve (--perf-basic-prof-only-functions), read by `perf script` above.
  if (servePid) rmSync(join(tmpdir(), `perf-${servePid}.map`), { force: true });
});
let servePid: number | undefined;

function start(argv: string[], ready: RegExp): Promise<[string, ChildProcess]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: QUIET_ENV });
    children.push(child);
    let text = '';
    child.stdout!.on('data', (d) => {
      text += String(d);
      const m = ready.exec(text);
      if (m) resolve([m[1], child]);
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}: ${text}`)));
  });
}

// The bench's config: rate limits out of the way.
const configFile = join(dir, 'bench.yaml');
writeFileSync(configFile, 'tiers:\n  enterprise:\n    limits:\n      requestsPerMinute: 100000000\n      requestsPerHour: 100000000\n      requestsPerDay: 100000000\n      tokensPerDay: 100000000000\n');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const [upstream] = await start([tsx, 'test/bench/fake-upstream-main.ts'], /(http:\/\/127\.0\.0\.1:\d+\/v1)/);
const port = 28787 + Math.floor(Math.random() * 1000);
const [, serve] = await start([
  '--perf-basic-prof-only-functions', '--interpreted-frames-native-stack',
  'bin/tessera.mjs', 'serve', '--port', String(port), '--upstream', upstream, '--tenant', 'bench:enterprise', '--config', configFile, '--state-dir', dir, '--workers', String(workers),
], /(tessera gateway on)/);
servePid = serve.pid;
const token = execFileSync(process.execPath, ['bin/tessera.mjs', 'dev-token', '--tenant', 'bench', '--expires', '2h', '--state-dir', dir], { cwd: root, encoding: 'utf8' }).trim();
const load = (o: { amount?: number; duration?: number }) => autocannon({
  url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', connections: 100, pipelining: 1,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: AGENT_CHAT_BODY, ...o,
});
await load({ amount: 30_000 }); // warm-up: JIT, caches, connections
const perfData = join(out, 'perf.data');
const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-p', String(serve.pid), '-o', perfData, '--', 'sleep', String(seconds)], { stdio: 'inherit' });
const r = await load({ duration: seconds });
await new Promise((resolve) => perf.once('exit', resolve));
const summary = `requests ${r.requests.total} in ${seconds} s, errors ${r.errors + r.non2xx}, serve pid ${serve.pid}, --workers ${workers}`;
writeFileSync(join(out, 'requests.txt'), `${summary}\n`);
// perf resolves JIT frames from /tmp/perf-<pid>.map while serve's process still exists: script it now.
writeFileSync(join(out, 'perf.txt'), execFileSync('perf', ['script', '-i', perfData, '-F', 'comm,tid,ip,sym,dso'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }));
console.log(`${summary}\nwrote ${join(out, 'perf.txt')}; µs per request = samples / 2000 / requests × 1e6; then: python3 test/bench/gateway-perf-classify.py ${join(out, 'perf.txt')} <µs per request>`);
process.exit(0);
