// CPU per request of the gateway of two checkouts, interleaved in one process: a before/after that
// a machine busy with other work disturbs far less than the process-per-target runs of --cpu.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AGENT_CHAT_BODY } from './agent-request.js';

/**
 * `npx tsx test/bench/gateway-inprocess-cpu.ts [--http] [--shared] [--requests N] [--rounds N] <checkout> [<checkout>]`
 *
 * Loads each checkout's gateway (createLocalGateway, as `tessera serve` builds it: embedded store,
 * dev-key tokens, budget alerts, audit file) in this process, with the upstream replaced by a stub
 * that parses a fixed answer from its text (no sockets, no upstream process), and sends issue 11's
 * request (system prompt, user turn, two tools) at 100 in flight. Without `--http`, straight to
 * `gateway.handle` (the gateway's own work); with `--http`, through the checkout's node:http server
 * (startLocalServer) from an undici client in this process (the client's CPU is in the figure, the
 * same for every checkout). `--shared`: the SharedMemoryStore and file alert markers of a
 * `serve --workers N` thread instead of the one-loop embedded store. Rounds of `--requests` (@default 20000) per checkout, taking turns,
 * `--rounds` (@default 7) each after a warm-up round; prints the median and every round's µs of CPU
 * (process.cpuUsage) per request. A checkout is a directory with this project's sources (e.g. a
 * `git archive <commit> | tar -x` with node_modules linked); @default this one.
 */
const args = process.argv.slice(2);
const valueOf = (flag: string, fallback: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) || fallback : fallback);
const http = args.includes('--http');
const shared = args.includes('--shared');
const requests = valueOf('--requests', 20_000);
const rounds = valueOf('--rounds', 7);
const roots = args.filter((a, i) => !a.startsWith('--') && !['--requests', '--rounds'].includes(args[i - 1])).map((r) => resolve(r));
if (!roots.length) roots.push(join(import.meta.dirname, '..', '..'));

// Issue 11's request, as test/bench/gateway-bench.ts sends it.
const body = AGENT_CHAT_BODY;
const answer = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'default',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Q3 revenue was 41.2 million, up 6% on Q2; margins held at 18% except in the north.' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 120, completion_tokens: 24, total_tokens: 144 },
});
const dirs: string[] = [];
process.once('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** One checkout's gateway and a function that sends one request through it. */
async function setup(root: string): Promise<() => Promise<void>> {
  const { configSourcesFromContext, loadConfig } = await import(join(root, 'lib/config/load-config.ts'));
  const { createLocalGateway, localTenant } = await import(join(root, 'lambdas/inference/local-gateway.ts'));
  const { mintDevToken } = await import(join(root, 'lambdas/inference/dev-keys.ts'));
  const { startLocalServer } = await import(join(root, 'lambdas/inference/local-server.ts'));
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-bench-inprocess-'));
  dirs.push(stateDir);
  // Rate limits out of the way, as the bench's config does.
  const configFile = join(stateDir, 'bench.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(configFile, 'tiers:\n  enterprise:\n    limits:\n      requestsPerMinute: 100000000\n      requestsPerHour: 100000000\n      requestsPerDay: 100000000\n      tokensPerDay: 100000000000\n');
  const config = loadConfig(configSourcesFromContext((key: string) => (key === 'tessera:configFile' ? configFile : undefined)));
  const tenants = [localTenant('bench', 'enterprise')];
  // --shared: the store and alert markers of a `serve --workers N` thread (lib/cli/serve-worker.ts).
  const worker = shared ? await (async () => {
    const { SharedMemoryStore } = await import(join(root, 'lambdas/inference/stores/shared-memory-store.ts'));
    const { FileAlertMarkers } = await import(join(root, 'lambdas/inference/budget-alerts/markers.ts'));
    return { store: new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants), alertMarkers: new FileAlertMarkers(join(stateDir, 'budget-alerts')) };
  })() : {};
  const { gateway, keysFile } = await createLocalGateway({ config, stateDir, upstreamUrl: 'http://127.0.0.1:9/v1', tenants, ...worker });
  // The stub upstream: the provider lookup of the pipeline's UpstreamCalls (private; a bench may reach in).
  const stub = { complete: async () => JSON.parse(answer) };
  (gateway as unknown as { pipeline: { upstream: { providers: () => Promise<unknown> } } }).pipeline.upstream.providers = async () => stub;
  const token = await mintDevToken(keysFile, { tenantId: 'bench' });
  if (http) {
    const server = await startLocalServer(gateway, { port: 0, maxBytes: config.gateway.maxRequestBytes });
    server.unref();
    const { Pool } = await import('undici');
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 100 });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    return async () => {
      const r = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
    };
  }
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, host: '127.0.0.1:8787', 'content-length': String(body.length), accept: '*/*' };
  const signal = new AbortController().signal;
  return () => new Promise<void>((ok, no) => {
    gateway.handle({ method: 'POST', path: '/v1/chat/completions', query: {}, headers: { ...headers }, body }, {
      signal,
      json: (status: number, text: string) => (status === 200 ? ok() : no(new Error(`${status} ${text}`))),
      stream: () => { throw new Error('not a stream'); },
    }).catch(no);
  });
}

/** µs of this process's CPU per request, `n` requests at 100 in flight. */
async function round(one: () => Promise<void>, n: number): Promise<number> {
  let left = n;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: 100 }, async () => { while (left-- > 0) await one(); }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const targets: Array<() => Promise<void>> = [];
for (const root of roots) targets.push(await setup(root));
for (const t of targets) await round(t, requests); // warm-up: JIT, caches, connections
const results: number[][] = roots.map(() => []);
// The order alternates round by round (as --cpu's): a fixed order favoured one position.
for (let i = 0; i < rounds; i++) {
  for (let j = 0; j < targets.length; j++) {
    const k = i % 2 === 0 ? j : targets.length - 1 - j;
    results[k].push(await round(targets[k], requests));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${http ? 'through node:http from an in-process client' : 'gateway.handle'}${shared ? ' (a --workers thread\'s store)' : ''}: ${rounds} rounds of ${requests} requests at 100 in flight per checkout, µs of CPU per request`);
roots.forEach((root, k) => console.log(`  ${root.padEnd(24)} median ${median(results[k]).toFixed(1)}  rounds ${results[k].map((x) => x.toFixed(1)).join(' ')}`));
process.exit(0);
