import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startOnFreePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * `tessera serve` stopped by SIGTERM (Ctrl-C and `kill` alike) loses nothing it handled: the audit
 * log is appended in batches every 50 ms, and before this a stop right after the answers left
 * 3 of 5 records in audit.jsonl (measured by hand, one event loop and `--workers 2` alike). A
 * request still in flight is cut and recorded as cancelled (499), and the process exits 0.
 */
const cli = await tesseraBundle();
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  await upstream?.stop();
});

async function startServe(dir: string, workers: number): Promise<{ child: ChildProcess; url: string; token: string }> {
  const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  writeFileSync(join(dir, 'tenants.json'), JSON.stringify([localTenant('stopco', 'enterprise', { gateway: { fallbacks: [], guardrails: quiet, auditPromptText: false } })]));
  // --workers needs a port number (not 0); a port another test took in between is tried again (startOnFreePort).
  const { child, port } = await startOnFreePort(
    (p) => spawn(process.execPath, [cli, 'serve', '--port', String(p), '--upstream', upstream.url, '--tenants-file', join(dir, 'tenants.json'), '--workers', String(workers), '--state-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }),
    (out) => out.includes('tessera gateway on'),
  );
  // The token `tessera dev-token --tenant stopco --state-dir <dir>` prints (the same call, member, 1 h), signed with the key serve made in <dir> before it listened.
  const token = await mintDevToken(join(dir, 'dev-keys.json'), { tenantId: 'stopco' });
  return { child, url: `http://127.0.0.1:${port}/v1`, token };
}

/** Resolves once the upstream has had `count` requests; rejects at once if serve exits before (no poll, no timer). */
const reached = (count: number, exited: Promise<unknown>) => Promise.race([
  upstream.received(count),
  exited.then((how) => { throw new Error(`serve exited (${JSON.stringify(how)}) before the upstream had ${count} requests (it had ${upstream.requests.length})`); }),
]);

const chat = (url: string, token: string) => fetch(`${url}/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] }),
});

describe.each([1, 2])('tessera serve --workers %i stopped by SIGTERM', (workers) => {
  it('has every answered request in audit.jsonl, and the one in flight as cancelled (499), then exits 0', async () => {
    // GIVEN serve answering 12 requests at once
    const dir = tempDir('tessera-serve-stop-');
    const { child, url, token } = await startServe(dir, workers);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    upstream.reset();
    const answers = await Promise.all(Array.from({ length: 12 }, () => chat(url, token).then((r) => r.status)));
    expect(answers).toEqual(Array(12).fill(200));
    // AND one more that the upstream holds for 30 s
    upstream.delayMs = 30_000;
    const inFlight = chat(url, token).then((r) => r.status, (e: Error) => e.name);
    await reached(13, exited); // the 13th is at the upstream (its signal, not a poll)
    // WHEN serve gets SIGTERM right away (the batch of the 12 answers not yet written)
    child.kill('SIGTERM');
    // THEN it exits 0 without waiting for the held answer, the caller sees its connection cut
    expect(await exited).toBe(0);
    expect(await inFlight).not.toBe(200);
    upstream.delayMs = 0;
    // AND the audit log has all 13 records: 12 answered, 1 cancelled
    const records = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: number; outcome: string; tenantId: string });
    expect(records).toHaveLength(13);
    expect(records.filter((r) => r.status === 200 && r.outcome === 'ok')).toHaveLength(12);
    expect(records.filter((r) => r.status === 499 && r.outcome === 'cancelled')).toHaveLength(1);
    expect(records.every((r) => r.tenantId === 'stopco')).toBe(true);
  });
});

/** One chat completion over its own connection: the id of the answer when it arrived whole, else undefined. */
function answerId(url: string, token: string, i: number): Promise<string | undefined> {
  const body = JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: `hi ${i}` }] });
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(text) as { id: string }).id : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
      res.on('aborted', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

const records = (dir: string) => (existsSync(join(dir, 'audit.jsonl')) ? readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { requestId: string; status: number; outcome: string }) : []);

describe('tessera serve --workers 2 stopped in the middle of a burst (hostile review)', () => {
  it.each([['one SIGTERM', ['SIGTERM']], ['SIGINT twice, 5 ms apart (a second Ctrl-C)', ['SIGINT', 'SIGINT']]] as const)('%s: exits 0; every answer a client received is audited 200 ok, and no other request is', async (_name, signals) => {
    // GIVEN 200 requests on their own connections, answered as fast as they come
    const dir = tempDir('tessera-serve-stop-burst-');
    const { child, url, token } = await startServe(dir, 2);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    upstream.reset();
    const answers = Array.from({ length: 200 }, (_, i) => answerId(url, token, i));
    // (stopped once the upstream has had 40: serve is then writing answers while it closes connections)
    await reached(40, exited);
    // WHEN serve is told to stop while answers are being written
    child.kill(signals[0]);
    if (signals[1]) {
      await new Promise((r) => setTimeout(r, 5));
      child.kill(signals[1]);
    }
    // THEN it exits 0 (a repeated signal does not end it mid-flush) ...
    expect(await exited).toEqual({ code: 0, signal: null });
    const received = new Set((await Promise.all(answers)).filter((id): id is string => id !== undefined));
    const audited = records(dir);
    // ... every answer received has its 200 ok record, and every 200 ok record is an answer received
    const ok = audited.filter((r) => r.status === 200 && r.outcome === 'ok').map((r) => r.requestId);
    expect(ok.filter((id) => !received.has(id)), 'audited as delivered, never received').toEqual([]);
    expect([...received].filter((id) => !ok.includes(id)), 'received, not audited').toEqual([]);
    // the others that reached the gateway were cut: cancelled (499)
    expect(audited.every((r) => (r.status === 200 && r.outcome === 'ok') || (r.status === 499 && r.outcome === 'cancelled'))).toBe(true);
  }, 60_000);
});
