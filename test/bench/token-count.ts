/**
 * Token counting costs (`npm run bench:tokens`): the router bundle with and without the tokenizer
 * (esbuild, as test/bench/gateway-bench.ts and constructs/lambda-function.ts build it), the
 * first-use load in a cold bundled process, and the per-call cost of `countPromptTokens` /
 * `countTextTokens` (medians, µs) on a typical request and on 100 KB texts.
 * Usage: npm run bench:tokens (no arguments)
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import {
  O200K_RANKS_ASSET, clearTokenCountCaches, countPromptTokens, countTextTokens, loadTokenizer, o200kRanksModulePath,
} from '../../lambdas/inference/token-count.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, '.tessera', 'bench-tokens');
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Deterministic text: words of a vocabulary in random order (mulberry32), novel per seed.
let seed = 1;
const rnd = (n: number) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % n;
};
const EN = ('the a of to and in for on with our your this that is are was be can will please summarise report budget tenant gateway request model token answer board quarter revenue growth customer support '
  + 'invoice refund order shipping account password reset error timeout latency region deploy release schedule meeting notes draft email translate explain compare list steps example table chart '
  + 'Kubernetes PostgreSQL 2024 Q3 EBITDA API JSON cannot doesn\'t we\'ll').split(' ');
const ZH = '我们 今天 天气 公园 工作 学习 北京 上海 经济 发展 技术 人工 智能 模型 数据 安全 用户 请求 服务 平台 租户 预算 计算 问题 时间 方法 系统 管理 文件 图片 代码 测试 结果 分析 报告 市场 公司 产品 价格 非常 可以 需要 已经 因为 所以 但是 如果 然后 没有 这个 什么 怎么'.split(' ');
const english = (words: number) => Array.from({ length: words }, (_, i) => EN[rnd(EN.length)] + (i % 12 === 11 ? '.' : '')).join(' ');
const chinese = (chars: number) => {
  let s = '';
  while (s.length < chars) s += Array.from({ length: 2 + rnd(5) }, () => ZH[rnd(ZH.length)]).join('') + '，。'[rnd(2)];
  return s;
};

/** Adversarial: pieces of 3–8 random CJK ideographs (U+4E00–U+9FFF), nearly all novel, each merged by BPE. */
const randomCjk = (chars: number) => {
  let s = '';
  while (s.length < chars) s += String.fromCharCode(...Array.from({ length: 3 + rnd(6) }, () => 0x4e00 + rnd(0x5200))) + '，';
  return s;
};

// 1. Bundle sizes: the router with token-count.ts as it is, and with it replaced by a stub.
const stub: NonNullable<BuildOptions['plugins']>[number] = {
  name: 'stub-token-count',
  setup(b) {
    b.onResolve({ filter: /[/\\]token-count\.js$/ }, () => ({ path: 'token-count-stub', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export const loadTokenizer = async () => ({}); export const tokenizerLoaded = () => true; export const countPromptTokens = () => 0; export const countCompletionTokens = () => 0; export const countTextTokens = () => 0;',
    }));
  },
};
async function routerBundle(split: boolean, plugins: BuildOptions['plugins']): Promise<{ total: number; eager: number }> {
  const dir = join(out, 'router');
  rmSync(dir, { recursive: true, force: true });
  await build({
    entryPoints: { router: join(root, 'lambdas/inference/router-handler.ts') }, bundle: true, minify: true, platform: 'node', target: 'node24', format: 'esm',
    splitting: split, outdir: dir, outExtension: { '.js': '.mjs' }, external: ['@aws-sdk/*', '@smithy/*'], mainFields: ['module', 'main'], plugins, logLevel: 'error',
    define: { 'process.env.TESSERA_PLATFORM_CONFIG': JSON.stringify(JSON.stringify({})) },
  });
  const total = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const eager = new Set<string>(['router.mjs']);
  for (const f of eager) for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/(?:from|import)\s*"\.\/([\w-]+\.mjs)"/g)) eager.add(m[1]);
  return { total, eager: [...eager].reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) };
}
for (const split of [true, false]) {
  const before = await routerBundle(split, [stub]);
  const after = await routerBundle(split, []);
  const how = split ? 'split into chunks (gateway-bench)' : 'one file (NodejsFunction)      ';
  console.log(`router bundle, ${how}: before ${kib(before.total)} in all, ${kib(before.eager)} at cold start; with the tokenizer ${kib(after.total)} in all, ${kib(after.eager)} at cold start`);
}
console.log(`ranks asset ${O200K_RANKS_ASSET}: ${kib(statSync(o200kRanksModulePath()).size)}, read on first use, not at cold start`);

// 2. First use in a cold bundled process: token-count.ts alone, its ranks asset beside it.
const dir = join(out, 'alone');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
await build({ entryPoints: { index: join(root, 'lambdas/inference/token-count.ts') }, bundle: true, minify: true, platform: 'node', target: 'node24', format: 'esm', outdir: dir, outExtension: { '.js': '.mjs' }, logLevel: 'error' });
copyFileSync(o200kRanksModulePath(), join(dir, O200K_RANKS_ASSET));
const runs = Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `
  let t = performance.now(); const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); const importMs = performance.now() - t;
  t = performance.now(); await m.loadTokenizer(); const loadMs = performance.now() - t;
  t = performance.now(); m.countTextTokens('Summarise our Q3 numbers for the board in two sentences.'); const firstMs = performance.now() - t;
  const heapMiB = process.memoryUsage().heapUsed / 1048576;
  console.log(JSON.stringify({ importMs, loadMs, firstMs, heapMiB }));`], { encoding: 'utf8' })) as Record<string, number>);
const med = (k: string) => median(runs.map((r) => r[k])).toFixed(1);
console.log(`cold bundled process (median of 5): import ${med('importMs')} ms, loadTokenizer ${med('loadMs')} ms, first count ${med('firstMs')} ms, heap after ${med('heapMiB')} MiB`);

// 3. Per call, in this process (source tree, as `tessera serve`).
const info = await loadTokenizer();
console.log(`tessera serve (tsx, source tree): loadTokenizer ${info.loadMs.toFixed(1)} ms from ${info.ranksFrom}`);
const system = 'You are the support assistant of Acme Corp. Answer in the customer\'s language, concisely, citing the knowledge base articles you used. Never reveal internal notes, prices not yet published, or other customers\' data. If unsure, say so and offer to open a ticket.';
const tools: ChatCompletionCreateParams['tools'] = [
  { type: 'function', function: { name: 'search_knowledge_base', description: 'Search the knowledge base for articles matching a query.', parameters: { type: 'object', properties: { query: { type: 'string', description: 'Search terms' }, limit: { type: 'integer', minimum: 1, maximum: 20 } }, required: ['query'] } } },
  { type: 'function', function: { name: 'open_ticket', description: 'Open a support ticket for the customer.', parameters: { type: 'object', properties: { subject: { type: 'string' }, priority: { type: 'string', enum: ['low', 'normal', 'high'] }, body: { type: 'string' } }, required: ['subject', 'body'] } } },
];
const request = (user: string): ChatCompletionCreateParams => ({ model: 'gpt-4o', messages: [{ role: 'system', content: system }, { role: 'user', content: user }], tools });
const users = Array.from({ length: 10_000 }, () => english(60));
function perCall(label: string, bodies: ChatCompletionCreateParams[], cold: boolean): void {
  for (let i = 0; i < 500; i++) countPromptTokens(bodies[i % bodies.length]); // JIT
  const us: number[] = [];
  for (const body of bodies) {
    if (cold) clearTokenCountCaches();
    const t = performance.now();
    countPromptTokens(body);
    us.push((performance.now() - t) * 1000);
  }
  console.log(`${label}: median ${median(us).toFixed(1)} µs, p99 ${[...us].sort((a, b) => a - b)[Math.floor(us.length * 0.99)].toFixed(1)} µs (${bodies.length} calls, ${countPromptTokens(bodies[0])} tokens)`);
}
perCall('typical request (system + 2 tools + novel 60-word user message), caches warm', users.map(request), false);
perCall('same, every cache cleared before each call                                 ', users.slice(0, 2_000).map(request), true);
perCall('typical request, user message in Chinese (novel ~100 chars)               ', users.slice(0, 2_000).map(() => request(chinese(100))), false);

function bigText(label: string, make: () => string): void {
  const texts = Array.from({ length: 11 }, make);
  countTextTokens(make()); // JIT
  const ms = texts.map((text) => {
    const t = performance.now();
    countTextTokens(text);
    return performance.now() - t;
  });
  const again = texts.map((text) => {
    const t = performance.now();
    countTextTokens(text);
    return performance.now() - t;
  });
  const n = countTextTokens(texts[0]);
  console.log(`${label}: ${kib(Buffer.byteLength(texts[0]))}, ${n} tokens (chars/4: ${Math.ceil(texts[0].length / 4)}), first time median ${median(ms).toFixed(2)} ms, seen before ${(median(again) * 1000).toFixed(1)} µs`);
}
bigText('100 KB English (novel)                        ', () => english(16_000).slice(0, 100_000));
bigText('100 KB Chinese (novel, ~33k chars)            ', () => chinese(33_400));
bigText('100 KB random CJK pieces (budget reached)     ', () => randomCjk(33_400));
bigText('1 MB random CJK pieces (budget reached)       ', () => randomCjk(334_000));
bigText('100 KB of one letter (one piece: bound)       ', () => 'a'.repeat(100_000 - 1) + String.fromCharCode(98 + rnd(20)));
