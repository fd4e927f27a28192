/**
 * What the gateway metrics sink adds per request: building and serialising one EMF line
 * (gatewayMetricsOf + JSON.stringify) and writing it, with the audit record's S3 write replaced by a no-op.
 * Run: npx tsx test/bench/metrics-sink-bench.ts [records] [stdout]  (with `stdout`, lines really go to process.stdout:
 * redirect it, e.g. `> /dev/null`, and read the figure on stderr)
 */
import { performance } from 'node:perf_hooks';
import type { AuditRecord } from '../../lambdas/inference/audit.js';
import { MetricsAuditSink, gatewayMetricsOf } from '../../lambdas/inference/metrics-audit-sink.js';

const n = Number(process.argv[2] ?? 200_000);
const record: AuditRecord = {
  requestId: 'chatcmpl-0123456789abcdef01234567', at: new Date().toISOString(), method: 'POST', path: '/v1/chat/completions',
  tenantId: 'acme-corp', tier: 'enterprise', userId: '5f0c2c5e-1a2b-4c3d-9e8f-0123456789ab', keyId: 'key_0123456789abcdef', role: 'developer',
  model: 'bedrock/anthropic.claude-3-5-sonnet', provider: 'bedrock', promptTokens: 1200, completionTokens: 350, costUsd: 0.00885,
  latencyMs: 1834.2, upstreamLatencyMs: 1790, status: 200, outcome: 'ok',
};
let bytes = 0;
const noop = { write: async () => undefined };
const toStdout = process.argv[3] === 'stdout';
const sink = toStdout ? new MetricsAuditSink(noop) : new MetricsAuditSink(noop, (line) => void (bytes += line.length));
for (let i = 0; i < 20_000; i++) await sink.write(record); // warm-up
bytes = 0;
const t0 = performance.now();
for (let i = 0; i < n; i++) await sink.write(record);
const perRecordUs = ((performance.now() - t0) * 1000) / n;
console.error(JSON.stringify({ records: n, printedTo: toStdout ? 'stdout' : 'memory', perRecordMicroseconds: Number(perRecordUs.toFixed(2)), lineBytes: toStdout ? undefined : bytes / n, lineSample: JSON.stringify(gatewayMetricsOf(record)).length }));
