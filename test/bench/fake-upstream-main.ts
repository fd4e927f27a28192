// A fake OpenAI-compatible upstream in its own process, for the gateway benchmark and for trying `tessera serve` (README).
import { FakeUpstream } from '../support/fake-upstream.js';

const upstream = new FakeUpstream();
// Keep no request log: the benchmark sends hundreds of thousands.
upstream.requests.push = () => 0;
// A request seen before is answered with the same bytes without being parsed again: the upstream's
// CPU shares the two cores with the gateway measured (Tessera's or Portkey's alike).
// TESSERA_BENCH_UPSTREAM_MEMO=0 parses every request, as the bench did before 2026-12-01 afternoon.
upstream.memoize = process.env.TESSERA_BENCH_UPSTREAM_MEMO !== '0';
// --tools: calls a tool when a request offers some (FakeUpstream.callTools), to try agents locally (README: tessera serve).
upstream.callTools = process.argv.includes('--tools');
// --follow-format: answers response_format json_schema with an instance of the schema, json_object with
// {"echo": ...}, and embeddings' dimensions (FakeUpstream.followFormat), to try structured output locally (README: tessera serve).
upstream.followFormat = process.argv.includes('--follow-format');
// --reasoning: the echo comes with reasoning_content (FakeUpstream.reasoning), to try /v1/responses' reasoning items locally (README: Reasoning).
upstream.reasoning = process.argv.includes('--reasoning');
await upstream.start();
process.stdout.write(`${upstream.url}\n`);
// Its pid, for `kill`: started through npx, it outlives npx (README: `tessera serve`).
process.stderr.write(`fake upstream pid ${process.pid}\n`);
