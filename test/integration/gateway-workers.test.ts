import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startOnFreePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `tessera serve --workers 2`: two event loops on one port, the registry and budgets in one
 * SharedArrayBuffer. Whichever thread takes a request, budgets stay exact.
 */
const root = join(import.meta.dirname, '..', '..');
/**
 * serve and dev-token run as real processes from the CLI bundled once (test/support/cli-bundle.ts: bin/tessera.mjs's
 * program, serve's worker thread bundled beside it, without tsx's start-up cost: ~1.3 s of CPU for
 * `serve --workers 2` against ~2.6 s); bin/tessera.mjs itself keeps the runs of serve-cli.test.ts and cli-failures.test.ts.
 */
const cli = await tesseraBundle();
let upstream: FakeUpstream;
let serve: ChildProcess;
let url: string;
let token: string;
let convToken: string;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const dir = tempDir('tessera-workers-');
  const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  writeFileSync(join(dir, 'tenants.json'), JSON.stringify([localTenant('budgetco', 'enterprise', { gateway: { monthlyTokenBudget: 180, fallbacks: [], guardrails: quiet, auditPromptText: false } }), localTenant('convco', 'enterprise', { gateway: { fallbacks: [], guardrails: quiet, auditPromptText: false } })]));
  // A port another test took in between is tried again (startOnFreePort): --workers needs a port number.
  const started = await startOnFreePort((p) => spawn(process.execPath, [cli, 'serve', '--port', String(p), '--upstream', upstream.url, '--tenants-file', join(dir, 'tenants.json'), '--workers', '2', '--state-dir', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }), (out) => out.includes('2 workers'));
  serve = started.child;
  const port = started.port;
  url = `http://127.0.0.1:${port}/v1`;
  token = execFileSync(process.execPath, [cli, 'dev-token', '--tenant', 'budgetco', '--state-dir', dir], { cwd: root, encoding: 'utf8' }).trim();
  convToken = execFileSync(process.execPath, [cli, 'dev-token', '--tenant', 'convco', '--state-dir', dir], { cwd: root, encoding: 'utf8' }).trim();
});
afterAll(async () => {
  // serve writes its last audit batch before it exits (serve-stop.test.ts): wait for it, then its state dir goes.
  if (serve && serve.exitCode === null) await new Promise((resolve) => { serve.once('exit', resolve); serve.kill('SIGTERM'); });
  await upstream?.stop();
});

describe('tessera serve --workers 2', () => {
  it('admits exactly 10 of 50 concurrent requests against a budget for 10, whichever thread takes each; each answer\'s x-ratelimit-* headers say its own count', async () => {
    await loadTokenizer();
    // Not across a minute's end: an answer sent after the minute it was admitted in states that window as the next one,
    // whole (RequestPipeline.servedRateHeaders), so two answers could state the same remaining count. Start the burst early
    // in a minute instead (it takes a second or two, more under load).
    const second = new Date().getUTCSeconds();
    if (second >= 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const promptTokens = countPromptTokens(hi);
    // Fresh connections each, so the kernel spreads them over both threads.
    const results = await Promise.allSettled(Array.from({ length: 50 }, () =>
      new OpenAI({ baseURL: url, apiKey: token, maxRetries: 0 }).chat.completions.create({ ...hi, max_tokens: 18 - promptTokens }).withResponse()));
    const served = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(served).toHaveLength(10);
    // The nearest token limit is the monthly budget of 180: each answer counts its own reservation of 18 (the
    // fake upstream bills 18 too, so no settle gives any back), counted under the shared lock: 162, 144, ... 0, each once.
    const header = (name: string) => served.map((answer) => answer.response.headers.get(name));
    expect(new Set(header('x-ratelimit-limit-tokens'))).toEqual(new Set(['180']));
    expect(header('x-ratelimit-remaining-tokens').map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 18 * i));
    // Requests: all 50 were counted (the budget refuses after the rate count), each answer its own count.
    expect(new Set(header('x-ratelimit-remaining-requests')).size).toBe(10);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason.error.code).toBe('budget_exceeded');
    const usage = await fetch(`${url}/usage`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ month: { tokens: number; requests: number } }>);
    expect(usage.month).toMatchObject({ tokens: 180, requests: 10 });
  });
});

describe('tessera serve --workers 2: conversations', () => {
  it('a conversation made on one thread is served by both; items added by 12 calls at once, through both threads, are all kept once, each call\'s items together and in order', async () => {
    const client = new OpenAI({ baseURL: url, apiKey: convToken, maxRetries: 0 });
    const conv = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'start' }] });
    // every request opens its own connection (fetch's pool would keep one), so the kernel spreads them over both threads' sockets
    const fresh = () => new OpenAI({ baseURL: url, apiKey: convToken, maxRetries: 0, fetch: (input, init) => fetch(input, { ...init, keepalive: false, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), connection: 'close' } }) });
    const calls = Array.from({ length: 12 }, (_, c) => fresh().conversations.items.create(conv.id, {
      items: [1, 2, 3].map((n) => ({ type: 'message' as const, role: 'user' as const, content: `call ${c} item ${n}` })),
    }));
    // and two turns of /v1/responses in the same conversation at once
    const turns = [0, 1].map((t) => fresh().responses.create({ model: 'openai-compatible/default', conversation: conv.id, input: `turn ${t}` }));
    await Promise.all([...calls, ...turns]);
    const texts: string[] = [];
    for await (const item of fresh().conversations.items.list(conv.id, { order: 'asc', limit: 100 })) texts.push((item as any).content[0].text);
    expect(texts).toHaveLength(1 + 12 * 3 + 2 * 2);
    expect(texts[0]).toBe('start');
    for (let c = 0; c < 12; c++) {
      const at = texts.indexOf(`call ${c} item 1`);
      expect(texts.slice(at, at + 3)).toEqual([1, 2, 3].map((n) => `call ${c} item ${n}`));
    }
    for (const t of [0, 1]) expect(texts.filter((x) => x === `turn ${t}`)).toHaveLength(1);
    const page = await fresh().conversations.items.list(conv.id, { limit: 100 });
    expect(new Set(page.data.map((i) => i.id!)).size).toBe(texts.length);
  });
});
