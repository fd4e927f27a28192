/**
 * The gateway's overhead and throughput on this machine: a fake OpenAI-compatible upstream (own
 * process), `tessera serve` in front of it (own process: JWT authorizer, tenant policy, PII
 * guardrails, rate counting, budget reserve/settle, audit), and autocannon driving both at 1 and
 * 100 connections, with what an agent sends (a system prompt, a user turn, two function tools).
 * Then the same for `POST /v1/embeddings`: one RAG chunk per request as the Node SDK sends it
 * (`encoding_format: base64`), the fake upstream answering a 1,536-float vector as floats (so the
 * gateway parses it and encodes it as base64 on the way back).
 * Then the cost of tenant-scoped credentials in the Lambda's request path (test/bench/tenant-credentials-bench.ts),
 * and the router Lambda bundle: size and module init time.
 * With --portkey, Portkey's open-source gateway 1.15.2 (fetched by npx; it listens on all
 * interfaces, it has no host flag) is measured in front of the same upstream for comparison.
 * With --cpu, instead of all that: CPU time per request of the gateway's process (its threads
 * included), of the upstream's and of the load generator's, over fixed rounds of requests at 100
 * connections (`--requests N` per round, @default 20000; `--rounds N`, @default 3), for a whole
 * and a streamed chat completion (test/bench/cpu-per-request.ts). It holds on a busy machine, where req/s do not.
 * `--base <dir>` (with --cpu) also measures the `tessera serve` of another checkout (e.g. a git
 * worktree of an earlier commit, its node_modules linked), interleaved with this one's: a before/after under the same load;
 * `--whole` measures whole answers only.
 * Usage: npm run bench:gateway [-- seconds] [--portkey] [--workers N] [--cpu [--requests N] [--rounds N] [--base <dir>] [--whole]]
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuPerRequest } from './cpu-per-request.js';
import { AGENT_CHAT_BODY } from './agent-request.js';

// serve's access lines (one JSON line per request on stdout, since 2026-12-07) would be read and kept by this
// process, and cost serve a write per request that a baseline commit's serve does not make: WARN and ERROR only,
// unless the environment asks for a level.
const QUIET_ENV = { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' };

const args = process.argv.slice(2);
const VALUED = ['--workers', '--requests', '--rounds'];
const seconds = Number(args.find((a, i) => /^\d+$/.test(a) && !VALUED.includes(args[i - 1])) ?? 10);
const valueOf = (flag: string, fallback: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) || fallback : fallback);
const cpuMode = args.includes('--cpu');
const withPortkey = args.includes('--portkey');
// `--workers N`: tessera serve with N event loops (worker threads, budgets exact across them). @default 1
const workers = valueOf('--workers', 1);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-gw-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const children: ChildProcess[] = [];
// Each child leads its own process group, so npx's grandchild (Portkey) stops with it.
const stopAll = () => children.forEach((c) => { try { process.kill(-c.pid!, 'SIGTERM'); } catch { /* already gone */ } });
process.on('exit', stopAll);

function startProcess(args: string[], ready: RegExp, command = process.execPath, cwd = root): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: QUIET_ENV });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = ready.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
  });
}

// Rate limits out of the way: the benchmark measures the gateway, not the tier's request quota.
const configFile = join(dir, 'bench.yaml');
writeFileSync(configFile, 'tiers:\n  enterprise:\n    limits:\n      requestsPerMinute: 100000000\n      requestsPerHour: 100000000\n      requestsPerDay: 100000000\n      tokensPerDay: 100000000000\n');

const tsx = [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')];
const upstream = await startProcess([...tsx, 'test/bench/fake-upstream-main.ts'], /(http:\/\/127\.0\.0\.1:\d+\/v1)/);
const upstreamPgid = children.at(-1)!.pid!;
const port = 18787 + Math.floor(Math.random() * 1000);
await startProcess(['bin/tessera.mjs', 'serve', '--port', String(port), '--upstream', upstream, '--tenant', 'bench:enterprise', '--config', configFile, '--state-dir', dir, '--workers', String(workers)], /(tessera gateway on)/);
const servePgid = children.at(-1)!.pid!;
const token = execFileSync(process.execPath, ['bin/tessera.mjs', 'dev-token', '--tenant', 'bench', '--expires', '2h', '--state-dir', dir], { cwd: root, encoding: 'utf8' }).trim();

// What an agent sends (issue 11): a system prompt, a user turn and two function tools.
const body = AGENT_CHAT_BODY;
// What a RAG indexer sends (issue 14): one chunk of a document, base64 as the Node SDK asks by default.
const embeddingBody = JSON.stringify({
  model: 'openai-compatible/embeddings',
  input: 'Acme Corp board minutes, 14 October. Present: the chair, the CFO and four directors. The CFO reported Q3 revenue of 41.2 million, up 6% on Q2, with margins steady at 18% in every region but the north, where a supplier change cost two points. The board approved the 2027 budget and asked for a hiring plan by November.',
  encoding_format: 'base64',
});
const embeddingBodyFor = (model: string) => embeddingBody.replace('openai-compatible/embeddings', model);

// Portkey routes by headers: provider openai, custom host = the fake upstream.
const portkeyHeaders = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream };
async function load(url: string, connections: number, auth?: string, model = 'openai-compatible/default', extra: Record<string, string> = {}, path = '/chat/completions') {
  const r = await autocannon({
    url: `${url}${path}`, method: 'POST', connections, duration: seconds, pipelining: 1,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...extra },
    body: path === '/embeddings' ? embeddingBodyFor(model) : model === 'openai-compatible/default' ? body : body.replace('openai-compatible/default', model),
  });
  return { mean: r.latency.mean, p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors + r.timeouts + r.non2xx };
}

/** One connection, one request at a time, each timed with hrtime (autocannon's histogram is whole milliseconds). */
async function sequential(url: string, auth?: string, model = 'openai-compatible/default', extra: Record<string, string> = {}, path = '/chat/completions') {
  const { Pool } = await import('undici');
  const target = new URL(`${url}${path}`);
  const pool = new Pool(target.origin, { connections: 1 });
  const payload = path === '/embeddings' ? embeddingBodyFor(model) : model === 'openai-compatible/default' ? body : body.replace('openai-compatible/default', model);
  const times: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t = process.hrtime.bigint();
    const res = await pool.request({ method: 'POST', path: target.pathname, body: payload, headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...extra } });
    await res.body.text();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (res.statusCode !== 200) errors += 1;
  }
  await pool.close();
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { mean, p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], rps: times.length / seconds, errors };
}

const line = (name: string, c: number, r: Awaited<ReturnType<typeof load>>) =>
  console.log(`${name.padEnd(22)} ${String(c).padStart(3)} conn  mean ${r.mean.toFixed(3)} ms  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${Math.round(r.rps)} req/s  errors ${r.errors}`);

const portkeyPort = port + 1000;
const portkey = withPortkey
  ? (await startProcess(['--yes', '@portkey-ai/gateway@1.15.2', '--headless', `--port=${portkeyPort}`], /(Ready for connections)/, 'npx'), `http://127.0.0.1:${portkeyPort}/v1`)
  : undefined;
const portkeyPgid = portkey ? children.at(-1)!.pid! : undefined;
const baseRoot = args.includes('--base') ? args[args.indexOf('--base') + 1] : undefined;

if (cpuMode) {
  // The same request whole and streamed, to every target; each names its model as that target wants.
  const streamed = JSON.stringify({ ...JSON.parse(body), stream: true });
  // `--whole`: whole answers only (half the run, for a quick A/B of a change that does not touch streams).
  const wholeOnly = args.includes('--whole');
  const bodies = (model: string) => ({ whole: body.replace('openai-compatible/default', model), ...(wholeOnly ? {} : { stream: streamed.replace('openai-compatible/default', model) }) });
  const base = baseRoot && await (async () => {
    const stateDir = join(dir, 'base');
    const basePort = port + 2000;
    await startProcess(['bin/tessera.mjs', 'serve', '--port', String(basePort), '--upstream', upstream, '--tenant', 'bench:enterprise', '--config', configFile, '--state-dir', stateDir, '--workers', String(workers)], /(tessera gateway on)/, process.execPath, baseRoot);
    const pgid = children.at(-1)!.pid!;
    const baseToken = execFileSync(process.execPath, ['bin/tessera.mjs', 'dev-token', '--tenant', 'bench', '--expires', '2h', '--state-dir', stateDir], { cwd: baseRoot, encoding: 'utf8' }).trim();
    return { name: 'tessera serve (base)', url: `http://127.0.0.1:${basePort}/v1`, headers: { authorization: `Bearer ${baseToken}` }, bodies: bodies('openai-compatible/default'), pgid };
  })();
  try {
    await cpuPerRequest([
      { name: 'upstream directly', url: upstream, headers: {}, bodies: bodies('default') },
      { name: workers > 1 ? `tessera serve x${workers}` : 'tessera serve', url: `http://127.0.0.1:${port}/v1`, headers: { authorization: `Bearer ${token}` }, bodies: bodies('openai-compatible/default'), pgid: servePgid },
      ...(base ? [base] : []),
      // Portkey 1.15.2 answers every stream here with a 500 (its own TypeError "immutable" on a fetch Response's headers): whole answers only.
      ...(portkey ? [{ name: 'portkey 1.15.2', url: portkey, headers: { authorization: 'Bearer sk-bench', ...portkeyHeaders }, bodies: { whole: bodies('default').whole }, pgid: portkeyPgid }] : []),
    ], { requests: valueOf('--requests', 20_000), rounds: valueOf('--rounds', 3), connections: 100, upstreamPgid });
  } finally {
    stopAll();
  }
  process.exit(0);
}

try {
  await load(`http://127.0.0.1:${port}/v1`, 10, token); // warm up both processes (JIT, connections, JWKS)
  if (portkey) await load(portkey, 10, 'sk-bench', 'default', portkeyHeaders);
  for (const c of [1, 100]) {
    const direct = c === 1 ? await sequential(upstream, undefined, 'default') : await load(upstream, c, undefined, 'default');
    const gateway = c === 1 ? await sequential(`http://127.0.0.1:${port}/v1`, token) : await load(`http://127.0.0.1:${port}/v1`, c, token);
    line('upstream directly', c, direct);
    line(workers > 1 ? `through serve x${workers}` : 'through tessera serve', c, gateway);
    console.log(`${''.padEnd(22)} ${String(c).padStart(3)} conn  added mean latency ${(gateway.mean - direct.mean).toFixed(3)} ms`);
    if (portkey) {
      const pk = c === 1 ? await sequential(portkey, 'sk-bench', 'default', portkeyHeaders) : await load(portkey, c, 'sk-bench', 'default', portkeyHeaders);
      line('through portkey 1.15.2', c, pk);
      console.log(`${''.padEnd(22)} ${String(c).padStart(3)} conn  added mean latency ${(pk.mean - direct.mean).toFixed(3)} ms`);
    }
    console.log('');
  }

  // Embeddings (issue 14): the same fake upstream, the same gateway, POST /v1/embeddings.
  await load(`http://127.0.0.1:${port}/v1`, 10, token, 'openai-compatible/embeddings', {}, '/embeddings'); // warm up the embeddings path
  for (const c of [1, 100]) {
    const direct = c === 1 ? await sequential(upstream, undefined, 'default', {}, '/embeddings') : await load(upstream, c, undefined, 'default', {}, '/embeddings');
    const gateway = c === 1 ? await sequential(`http://127.0.0.1:${port}/v1`, token, 'openai-compatible/embeddings', {}, '/embeddings') : await load(`http://127.0.0.1:${port}/v1`, c, token, 'openai-compatible/embeddings', {}, '/embeddings');
    line('embeddings directly', c, direct);
    line(workers > 1 ? `embeddings serve x${workers}` : 'embeddings via serve', c, gateway);
    console.log(`${''.padEnd(22)} ${String(c).padStart(3)} conn  added mean latency ${(gateway.mean - direct.mean).toFixed(3)} ms`);
    console.log('');
  }

  // Tenant-scoped credentials (issue 12): the Lambda's gateway with and without them, over a local AWS stand-in.
  execFileSync(process.execPath, [...tsx, 'test/bench/tenant-credentials-bench.ts', upstream, String(seconds)], { cwd: root, stdio: 'inherit' });
  console.log('');

  // The router Lambda bundle: minified ESM, providers split into lazily loaded chunks, the AWS SDK
  // left to the Lambda runtime (as NodejsFunction does); built under the project so the SDK resolves.
  const outdir = join(root, '.tessera', 'bench-router');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { router: join(root, 'lambdas/inference/router-handler.ts') }, bundle: true, minify: true, platform: 'node', target: 'node24', format: 'esm',
    splitting: true, outdir, outExtension: { '.js': '.mjs' }, external: ['@aws-sdk/*', '@smithy/*'],
    banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
    define: { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify({})) },
  });
  const outfile = join(outdir, 'router.mjs');
  const total = readdirSync(outdir).reduce((sum, f) => sum + statSync(join(outdir, f)).size, 0);
  // What a cold start loads: the entry plus the chunks it imports statically (not the lazy import()s).
  const eager = new Set<string>(['router.mjs']);
  for (const f of eager) for (const m of readFileSync(join(outdir, f), 'utf8').matchAll(/(?:from|import)\s*"\.\/([\w-]+\.mjs)"/g)) eager.add(m[1]);
  const eagerBytes = [...eager].reduce((sum, f) => sum + statSync(join(outdir, f)).size, 0);
  const inits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ms = execFileSync(process.execPath, ['--input-type=module', '-e',
      `globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } }; const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`], { encoding: 'utf8' });
    inits.push(Number(ms));
  }
  inits.sort((a, b) => a - b);
  console.log(`router bundle: ${(total / 1024).toFixed(0)} KiB minified in all, ${(eagerBytes / 1024).toFixed(0)} KiB loaded at cold start (entry ${(statSync(outfile).size / 1024).toFixed(0)} KiB + ${eager.size - 1} static chunks; providers lazily), AWS SDK from the runtime; module init median ${inits[2].toFixed(1)} ms (5 cold processes; AWS clients and providers load on the first request)`);
} finally {
  stopAll();
}
