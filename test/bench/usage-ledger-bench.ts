/**
 * What the usage ledger adds to a request's settle, in process: the gateway's o200k count of the
 * answer (made for every request now, to set beside a reported usage), and the embedded stores'
 * settle with and without the ledger row. DynamoDB's cost is one more UpdateItem per request, sent
 * with the settle's others (see docs/operations.md, The usage ledger).
 * Usage: npx tsx test/bench/usage-ledger-bench.ts [iterations]
 */
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../lambdas/inference/stores/shared-memory-store.js';
import type { GatewayStore, SettledUsage } from '../../lambdas/inference/stores/gateway-store.js';
import { countCompletionTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';

const n = Number(process.argv[2] ?? 20_000);
await loadTokenizer();

/** Microseconds per call of `fn`, the median of 5 runs of `times` calls (after a warm-up run). */
async function perCall(times: number, fn: (i: number) => unknown): Promise<number> {
  const runs: number[] = [];
  for (let run = 0; run < 6; run++) {
    const start = performance.now();
    for (let i = 0; i < times; i++) await fn(i);
    if (run > 0) runs.push(((performance.now() - start) * 1000) / times);
  }
  return runs.sort((a, b) => a - b)[2];
}

// Answers drawn at random (a fixed seed), each different: English words (the tokenizer's piece
// cache helps, as with real answers), and made-up words (it hardly helps: a worst case).
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
const ENGLISH = ('the a of to and in for on with our your this that is are was be can will please summary report budget tenant gateway request model '
  + 'token answer board quarter revenue growth customer support region margin held steady north south team plan next week data results').split(' ');
const SYLLABLES = ['ka', 'lo', 're', 'mi', 'tan', 'vel', 'quo', 'sir', 'nex', 'dra', 'pul', 'ost', 'ing', 'er', 'al'];
const english = () => pick(ENGLISH);
const madeUp = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(SYLLABLES)).join('');
const rows: string[] = [];
for (const [kind, word] of [['English', english], ['made-up', madeUp]] as const) {
  for (const [words, count] of [[20, 2000], [200, 500], [2000, 50]] as const) {
    const texts = Array.from({ length: count * 6 }, () => `${Array.from({ length: words }, word).join(' ')}.`);
    const tokens = texts.slice(0, 20).reduce((n, t) => n + countCompletionTokens(t), 0) / 20;
    let k = 0;
    const us = await perCall(count, () => countCompletionTokens(texts[k++]));
    rows.push(`countCompletionTokens, ${words} ${kind} words (~${Math.round(tokens)} tokens): ${us.toFixed(1)} µs`);
  }
}

const tenants = [localTenant('t', 'enterprise')];
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(1), tenants)],
];
const models = ['openai/gpt-4o-mini', 'bedrock/amazon.nova-lite', 'openai-compatible/default', 'openai/gpt-4o'];
for (const [name, make] of stores) {
  for (const ledger of [false, true]) {
    const s = make();
    const now = new Date('2026-11-23T10:00:00Z');
    const reservations = await Promise.all(Array.from({ length: n }, () => s.reserve('t', 100, 0.001, {}, now)));
    const usage = (i: number): SettledUsage => ({ model: models[i % models.length], promptTokens: 60, completionTokens: 20, reported: i % 2 === 0, estimatedTokens: 79 });
    const us = await perCall(n, (i) => (ledger ? s.settle(reservations[i], 80, 0.0008, usage(i)) : s.settle(reservations[i], 80, 0.0008)));
    rows.push(`${name}.settle ${ledger ? 'with the ledger row' : 'without (before)'}: ${us.toFixed(2)} µs`);
  }
}
process.stdout.write(`${rows.join('\n')}\n`);
