/**
 * What the usage ledger adds to a request's settle, in process: the gateway's o200k count of the
 * answer (made for every request now, to set beside a reported usage), and the embedded stores'
 * settle with and without the ledger row. DynamoDB's cost is one more UpdateItem per request, sent
 * with the settle's others (see the README's usage ledger section).
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

const sentence = 'The quarterly report shows revenue growth in every region except the north, where margins held steady. ';
const answers = { '~20-token answer': sentence, '~200-token answer': sentence.repeat(10), '~2,000-token answer': sentence.repeat(100) };
const rows: string[] = [];
for (const [name, text] of Object.entries(answers)) {
  // A fresh string each call, as each answer is: the tokenizer's caches see new text.
  const us = await perCall(Math.max(200, Math.floor(n / (text.length / 100))), (i) => countCompletionTokens(`${i} ${text}`));
  rows.push(`countCompletionTokens, ${name} (${countCompletionTokens(text)} tokens): ${us.toFixed(1)} µs`);
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
