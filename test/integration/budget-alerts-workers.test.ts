import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import type { LocalEvent } from '../../lambdas/inference/budget-alerts/local-events.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startOnFreePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

// `tessera serve --workers 2`: the threads' budget alerts share file markers (O_EXCL), so each
// threshold is written once to <state-dir>/events.jsonl whichever thread saw it reached.
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
let dir: string;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  dir = tempDir('tessera-alerts-workers-');
  const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  writeFileSync(join(dir, 'tenants.json'), JSON.stringify([localTenant('alertco', 'enterprise', { gateway: { monthlyTokenBudget: 180, fallbacks: [], guardrails: quiet, auditPromptText: false } })]));
  // A port another test took in between is tried again (startOnFreePort): --workers needs a port number.
  const started = await startOnFreePort((p) => spawn(process.execPath, [cli, 'serve', '--port', String(p), '--upstream', upstream.url, '--tenants-file', join(dir, 'tenants.json'), '--workers', '2', '--state-dir', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }), (out) => out.includes('2 workers'));
  serve = started.child;
  const port = started.port;
  url = `http://127.0.0.1:${port}/v1`;
  token = execFileSync(process.execPath, [cli, 'dev-token', '--tenant', 'alertco', '--state-dir', dir], { cwd: root, encoding: 'utf8' }).trim();
}, 60_000);
afterAll(async () => {
  // serve writes its last audit batch before it exits (serve-stop.test.ts): wait for it, then its state dir goes.
  if (serve && serve.exitCode === null) await new Promise((resolve) => { serve.once('exit', resolve); serve.kill('SIGTERM'); });
  await upstream?.stop();
});

describe('budget alerts under tessera serve --workers 2', () => {
  it('30 concurrent requests on both threads fill the budget: 50, 80 and 100% written once each', async () => {
    await loadTokenizer();
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const results = await Promise.allSettled(Array.from({ length: 30 }, () =>
      new OpenAI({ baseURL: url, apiKey: token, maxRetries: 0 }).chat.completions.create({ ...hi, max_tokens: 18 - countPromptTokens(hi) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    // The checks run after the answers, in serve's threads: serve stopped by SIGTERM ends only once each thread's
    // gateway settled (budget alert checks ended: Gateway.settled, serve-stop.test.ts), so everything that will be
    // written is written when it has exited, and nothing comes after (no poll, no wait for "nothing more").
    const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LocalEvent);
    expect(events.map((e) => [e.detail.tenantId, e.detail.budgetId, e.detail.thresholdPercent]).sort()).toEqual([['alertco', 'month-tokens', 100], ['alertco', 'month-tokens', 50], ['alertco', 'month-tokens', 80]]);
  });
});
