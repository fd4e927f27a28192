// A fake OpenAI-compatible upstream in its own process, for the gateway benchmark and for trying `tessera serve` (README).
import { FakeUpstream } from '../support/fake-upstream.js';

// Its flags, each with what it does (printed by --help). An unknown flag is refused (exit 2) rather than
// ignored: a typo (--tool) would otherwise start a server in the wrong mode.
const FLAGS: Record<string, string> = {
  '--tools': 'call a tool when a request offers some, to try agents locally',
  '--parallel-tool-calls': 'as --tools, with two tool calls in each such answer, whatever the request\'s parallel_tool_calls says (as TGI, SGLang and older vLLM answer): to see the gateway keep only the first under parallel_tool_calls: false',
  '--follow-format': 'answer response_format json_schema with an instance of the schema, json_object with {"echo": ...}, and embed each text by its words (texts sharing words are near; without it every text gets one fixed vector; either dimensions wide when asked)',
  '--reasoning': 'answer the echo with reasoning_content, to try /v1/responses\' reasoning items locally',
  '--lenient': 'take whatever comes, as a lenient OpenAI-compatible server does (without it, a request OpenAI refuses gets OpenAI\'s 400)',
  '--help': 'print this usage and exit',
};
// Its options with a value, each with what it does.
const OPTIONS: Record<string, string> = {
  '--delay <ms>': 'answer each chat, responses, completions and embeddings request after this many milliseconds (0 to 600000): a slow upstream, to see a call under way when serve stops or a batch is cancelled',
};
const usage = `usage: npx tsx test/bench/fake-upstream-main.ts [${[...Object.keys(FLAGS), ...Object.keys(OPTIONS)].join('] [')}]\n`
  + 'Starts a fake OpenAI-compatible upstream on 127.0.0.1, prints its base URL on stdout and its pid on stderr.\n'
  + Object.entries({ ...FLAGS, ...OPTIONS }).map(([flag, what]) => `  ${flag.padEnd(22)} ${what}\n`).join('')
  + 'Environment: TESSERA_BENCH_UPSTREAM_MEMO=0 parses every request (no memo of requests seen before).\n';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
// --delay <ms> (or --delay=<ms>): taken out of the arguments before the flags are checked.
let delayMs = 0;
const args: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a !== '--delay' && !a.startsWith('--delay=')) {
    args.push(a);
    continue;
  }
  const value = a === '--delay' ? argv[++i] : a.slice('--delay='.length);
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > 600_000) {
    process.stderr.write(`fake-upstream-main: --delay ${value === undefined ? 'needs a value' : JSON.stringify(value)}${value === undefined ? '' : ' is not a delay'}: a whole number of milliseconds from 0 to 600000 (--delay 3000)\n${usage}`);
    process.exit(2);
  }
  delayMs = Number(value);
}
const unknown = args.filter((a) => !Object.hasOwn(FLAGS, a));
if (unknown.length > 0) {
  process.stderr.write(`fake-upstream-main: unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known flags: ${Object.keys(FLAGS).join(', ')}, --delay <ms>\n${usage}`);
  process.exit(2);
}


const upstream = new FakeUpstream();
// Keep no request log: the benchmark sends hundreds of thousands.
upstream.requests.push = () => 0;
// A request seen before is answered with the same bytes without being parsed again: the upstream's
// CPU shares the two cores with the gateway measured (Tessera's or Portkey's alike).
// TESSERA_BENCH_UPSTREAM_MEMO=0 parses every request, as the bench did before 2026-12-01 afternoon.
upstream.memoize = process.env.TESSERA_BENCH_UPSTREAM_MEMO !== '0';
// --tools: calls a tool when a request offers some (FakeUpstream.callTools), to try agents locally (docs/gateway.md: tessera serve).
upstream.callTools = args.includes('--tools') || args.includes('--parallel-tool-calls');
// --parallel-tool-calls: two calls at once (FakeUpstream.parallelToolCalls), to try `parallel_tool_calls: false` locally (docs/gateway.md: tessera serve).
upstream.parallelToolCalls = args.includes('--parallel-tool-calls');
// --follow-format: answers response_format json_schema with an instance of the schema, json_object with
// {"echo": ...}, and embeddings with vectors of each text's words (FakeUpstream.followFormat; `dimensions` is honoured with or without it), to try structured output locally (docs/gateway.md: tessera serve).
upstream.followFormat = args.includes('--follow-format');
// --reasoning: the echo comes with reasoning_content (FakeUpstream.reasoning), to try /v1/responses' reasoning items locally (docs/gateway.md: Reasoning).
upstream.reasoning = args.includes('--reasoning');
// Strict unless --lenient: a chat, embeddings or image generation request OpenAI refuses gets OpenAI's 400 (FakeUpstream.strict, test/support/openai-strict.ts).
upstream.strict = !args.includes('--lenient');
// --delay <ms>: each model call (chat, responses, completions, embeddings) answered after that long (FakeUpstream.delayMs),
// to try what a slow upstream does to serve's stop, a batch's cancel or a background response (docs/gateway.md).
upstream.delayMs = delayMs;
await upstream.start();
process.stdout.write(`${upstream.url}\n`);
// Its pid, for `kill`: started through npx, it outlives npx (docs/gateway.md: `tessera serve`).
process.stderr.write(`fake upstream pid ${process.pid}\n`);
