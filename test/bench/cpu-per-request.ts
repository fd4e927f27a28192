// The gateway benchmark's --cpu mode: CPU time per request of each process, at a fixed load.
import autocannon from 'autocannon';
import { groupCpu, groupCpuMs, ownCpuMs } from './process-cpu.js';

/** One server under load: where to send, how, and the process group whose CPU is its own. */
export interface CpuTarget {
  name: string;
  /** Base URL, e.g. `http://127.0.0.1:8787/v1`. */
  url: string;
  headers: Record<string, string>;
  /** The request bodies by variant (`whole`, `stream`), already naming the model this target calls; a variant left out is not measured for this target. */
  bodies: Record<string, string>;
  /** Process group of the server (undefined: the upstream itself, measured as `upstream`). */
  pgid?: number;
}

export interface CpuOptions {
  /** Requests per measured round. */
  requests: number;
  connections: number;
  /** Measured rounds per target and variant; the targets take turns round by round. */
  rounds: number;
  /** Process group of the upstream every target calls. */
  upstreamPgid: number;
}

/** µs of CPU per request of one round, by process; `rps` is the round's wall-clock rate (noisy on a shared machine). */
interface Round { server: number; serverSys: number; upstream: number; loader: number; rps: number; errors: number }

async function round(t: CpuTarget, body: string, o: CpuOptions, amount = o.requests): Promise<Round> {
  const server0 = t.pgid === undefined ? { user: 0, system: 0 } : groupCpu(t.pgid);
  const upstream0 = groupCpuMs(o.upstreamPgid);
  const loader0 = ownCpuMs();
  const started = performance.now();
  const r = await autocannon({
    url: `${t.url}/chat/completions`, method: 'POST', connections: o.connections, pipelining: 1, amount,
    headers: { 'content-type': 'application/json', ...t.headers }, body,
  });
  const seconds = (performance.now() - started) / 1000;
  const loader = ownCpuMs() - loader0;
  const upstream = groupCpuMs(o.upstreamPgid) - upstream0;
  const server1 = t.pgid === undefined ? { user: 0, system: 0 } : groupCpu(t.pgid);
  const done = r.requests.total;
  const per = (ms: number) => (ms * 1000) / done;
  return { server: per(server1.user + server1.system - server0.user - server0.system), serverSys: per(server1.system - server0.system), upstream: per(upstream), loader: per(loader), rps: done / seconds, errors: r.errors + r.timeouts + r.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * For each request variant, `rounds` rounds of `requests` requests at `connections` connections
 * per target (the targets interleaved, in alternating order, after a warm-up of a fifth of a round each), and the
 * median CPU per request of the server's process group, of the upstream's, and of this process
 * (the load generator), read from /proc before and after each round. CPU time, unlike req/s,
 * hardly moves when other work shares the cores, so before/after comparisons hold on a busy machine.
 */
export async function cpuPerRequest(targets: CpuTarget[], o: CpuOptions): Promise<void> {
  for (const variant of Object.keys(targets[0].bodies)) {
    console.log(`${variant} chat completion: ${o.rounds} rounds of ${o.requests} requests at ${o.connections} connections per target, µs of CPU per request (median; min-max)`);
    const measured = targets.filter((t) => t.bodies[variant] !== undefined);
    const results = new Map<string, Round[]>(measured.map((t) => [t.name, []]));
    for (const t of measured) await round(t, t.bodies[variant], o, Math.ceil(o.requests / 5)); // warm-up: JIT, connections
    // The order alternates round by round (A B, B A, ...): a target measured right after another ran
    // higher in every run of a fixed order here (2026-12-01 evening: the same two builds measured
    // 15 µs apart in one order and 2 in the other), so a fixed order favours the first.
    for (let i = 0; i < o.rounds; i++) {
      for (const t of i % 2 === 0 ? measured : [...measured].reverse()) results.get(t.name)!.push(await round(t, t.bodies[variant], o));
    }
    for (const t of measured) {
      const rs = results.get(t.name)!;
      const col = (key: keyof Round) => {
        const xs = rs.map((r) => r[key]);
        return `${median(xs).toFixed(0).padStart(4)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
      };
      const total = rs.map((r) => r.server + r.upstream + r.loader);
      console.log(`  ${t.name.padEnd(22)} server ${t.pgid === undefined ? '   —        ' : `${col('server')} of which kernel ${median(rs.map((r) => r.serverSys)).toFixed(0)}`}  upstream ${col('upstream')}  load generator ${col('loader')}  all ${median(total).toFixed(0)}  ${Math.round(median(rs.map((r) => r.rps)))} req/s  errors ${rs.reduce((a, r) => a + r.errors, 0)}`);
    }
    // Round by round (the targets ran in turn, so round i of two targets shared the machine's load):
    // the gateways' CPU per request, for a paired comparison when the medians' ranges overlap.
    const gateways = measured.filter((t) => t.pgid !== undefined);
    if (gateways.length > 1) {
      for (const t of gateways) console.log(`  ${t.name.padEnd(22)} rounds ${results.get(t.name)!.map((r) => r.server.toFixed(0).padStart(4)).join(' ')}`);
      const [a, b] = gateways.map((t) => results.get(t.name)!.map((r) => r.server));
      const diffs = a.map((x, i) => x - b[i]);
      console.log(`  ${gateways[0].name} minus ${gateways[1].name}, round by round: median ${median(diffs).toFixed(1)} µs (${diffs.filter((d) => d < 0).length} of ${diffs.length} rounds lower)`);
    }
    console.log('');
  }
}
