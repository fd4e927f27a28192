import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { devKeyCommand, devTokenCommand, serveCommand } from '../../lib/cli/serve-command.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { logSpy, type LoggedLine } from '../support/service-log.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';

// `tessera serve`'s operational log lines (docs/operations.md "Log lines"): one access line per answered request,
// refusals included, and one line per failed upstream call naming the request it was made for. The lines are read
// from the gateway's Logger (test/support/service-log.ts), which prints nothing in tests (POWERTOOLS_LOG_LEVEL=SILENT).
const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
const tenant = (id: string, tier = 'enterprise') => localTenant(id, tier, { gateway: { fallbacks: [], guardrails, auditPromptText: false } });
const SECRET = 'the vault code is 7731-kilo';
const CHAT = { model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], max_tokens: 5 };

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [tenant('acme-log'), tenant('tiny-log', 'tiny'), localTenant('fallback-log', 'enterprise', { gateway: { fallbacks: ['openai-compatible/backup'], guardrails, auditPromptText: false } }), localTenant('cache-log', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: false, responseCache: { ttlSeconds: 300, scope: 'caller' } } } as never)], { accessLog: true });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
  upstream.reset();
});

/** Every line the gateway's Logger is given from now on (its INFO, WARN and ERROR calls), read once the requests settled. */
function gatewayLines() {
  const spies = (['info', 'warn', 'error'] as const).map((level) => logSpy('tessera-gateway', level));
  return async (): Promise<LoggedLine[]> => {
    await gw.settled();
    return spies.flatMap((s) => s.lines());
  };
}

async function call(path: string, init: { method?: string; token?: string; body?: unknown; raw?: string } = {}) {
  const res = await fetch(`${gw.url}${path.replace(/^\/v1/, '')}`, {
    method: init.method ?? (init.body === undefined && init.raw === undefined ? 'GET' : 'POST'),
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' },
    ...(init.raw !== undefined ? { body: init.raw } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get('x-request-id'), text };
}

const accessLines = (lines: LoggedLine[]) => lines.filter((l) => l.message === 'request');

describe('tessera serve: one access line per answered request', () => {
  it('a chat completion, whole and streamed: method, path, status, duration, request id, tenant, user or key, model, stream, bytes; never the token, prompt or answer', async () => {
    const read = gatewayLines();
    const token = await gw.token('acme-log');
    const whole = await call('/v1/chat/completions', { token, body: CHAT });
    const streamed = await call('/v1/chat/completions', { token, body: { ...CHAT, stream: true } });
    const { key } = await gw.apiKey('acme-log');
    const keyed = await call('/v1/models', { token: key });
    const lines = accessLines(await read());
    expect([whole.status, streamed.status, keyed.status]).toEqual([200, 200, 200]);
    const byId = (id: string | null) => lines.find((l) => l.requestId === id);
    expect(lines).toHaveLength(3);
    expect(byId(whole.requestId)).toEqual({
      level: 'INFO', message: 'request', method: 'POST', path: '/v1/chat/completions', status: 200, durationMs: expect.any(Number),
      requestId: whole.requestId, tenantId: 'acme-log', userId: 'dev-user@acme-log', model: 'openai-compatible/default', stream: false, bytesOut: Buffer.byteLength(whole.text),
    });
    expect(byId(streamed.requestId)).toMatchObject({ level: 'INFO', status: 200, tenantId: 'acme-log', model: 'openai-compatible/default', stream: true, bytesOut: Buffer.byteLength(streamed.text) });
    expect(byId(keyed.requestId)).toMatchObject({ method: 'GET', path: '/v1/models', status: 200, tenantId: 'acme-log', keyId: expect.stringMatching(/^key_/), bytesOut: Buffer.byteLength(keyed.text) });
    expect(byId(keyed.requestId)).not.toHaveProperty('userId'); // a key's caller is its key id, said once
    const printed = JSON.stringify(lines);
    const answered = (JSON.parse(whole.text) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content;
    for (const secret of [token, key, SECRET, '7731', answered]) expect(printed).not.toContain(secret);
  });

  it('refusals get their line too, with the error code: 401, 400, 413, 429 at INFO; the query string never', async () => {
    const read = gatewayLines();
    const token = await gw.token('acme-log');
    const badKey = 'tsk_not-a-key-of-anyone-0123456789abcdef';
    const unauthorized = await call('/v1/chat/completions', { token: badKey, body: CHAT });
    const invalid = await call('/v1/chat/completions', { token, body: { model: 'openai-compatible/default' } });
    const tooLarge = await call('/v1/chat/completions', { token, raw: JSON.stringify({ ...CHAT, pad: 'x'.repeat(gatewayConfig().gateway.maxRequestBytes) }) });
    const query = await call('/v1/models?after=sk-query-value-9f8e7d', { token });
    const wrongKind = await call('/v1/embeddings', { token, body: { model: 'openai-compatible/default', input: 'hi' } });
    const tiny = await gw.token('tiny-log');
    const limited: Array<Awaited<ReturnType<typeof call>>> = [];
    for (let i = 0; i < 3; i++) limited.push(await call('/v1/chat/completions', { token: tiny, body: CHAT }));
    expect([unauthorized.status, invalid.status, tooLarge.status, query.status, wrongKind.status, limited[2].status]).toEqual([401, 400, 413, 400, 400, 429]);
    const lines = accessLines(await read());
    const of = (r: { requestId: string | null }) => lines.find((l) => l.requestId === r.requestId);
    expect(of(unauthorized)).toEqual({ level: 'INFO', message: 'request', method: 'POST', path: '/v1/chat/completions', status: 401, durationMs: expect.any(Number), requestId: unauthorized.requestId, bytesOut: Buffer.byteLength(unauthorized.text), errorCode: 'malformed_api_key' });
    expect(of(invalid)).toMatchObject({ level: 'INFO', status: 400, tenantId: 'acme-log', errorCode: expect.any(String) });
    expect(of(tooLarge)).toMatchObject({ level: 'INFO', status: 413, errorCode: 'request_too_large' });
    expect(of(tooLarge)).not.toHaveProperty('tenantId'); // refused before the caller was authenticated
    expect(of(query)).toMatchObject({ level: 'INFO', path: '/v1/models', status: 400, tenantId: 'acme-log' });
    // A model refused for its kind: the model the request named, as sent.
    expect(of(wrongKind)).toMatchObject({ level: 'INFO', path: '/v1/embeddings', status: 400, tenantId: 'acme-log', model: 'openai-compatible/default', errorCode: 'model_kind_mismatch' });
    expect(of(limited[2])).toMatchObject({ level: 'INFO', status: 429, tenantId: 'tiny-log', userId: 'dev-user@tiny-log', errorCode: 'rate_limit_exceeded' });
    // Each answer's code, as the caller read it.
    for (const r of [unauthorized, invalid, tooLarge, query, wrongKind, limited[2]]) expect(of(r)!.errorCode).toBe((JSON.parse(r.text) as { error: { code: string } }).error.code);
    const printed = JSON.stringify(lines);
    for (const secret of [token, tiny, badKey, 'sk-query-value', SECRET]) expect(printed).not.toContain(secret);
  });

  it('an upstream failure answered 502: the access line at ERROR, and one line per failed call naming the request, its tenant and the upstream\'s request id', async () => {
    const read = gatewayLines();
    const failure = { status: 503, headers: { 'x-request-id': 'req_upstream_42' }, body: { error: { message: `overloaded while reading: ${SECRET}`, type: 'server_error' } } };
    upstream.script(failure, failure);
    const answer = await call('/v1/chat/completions', { token: await gw.token('acme-log'), body: CHAT });
    expect(answer.status).toBe(502);
    const lines = await read();
    expect(accessLines(lines)).toEqual([expect.objectContaining({ level: 'ERROR', status: 502, requestId: answer.requestId, tenantId: 'acme-log', errorCode: 'upstream_error' })]);
    const failed = lines.filter((l) => l.message === 'upstream call failed');
    const common = {
      requestId: answer.requestId, tenantId: 'acme-log', provider: 'openai-compatible', model: 'openai-compatible/default', upstreamModel: 'default',
      status: 503, upstreamRequestId: 'req_upstream_42', retryable: true, attempts: 2, latencyMs: expect.any(Number),
    };
    expect(failed).toEqual([
      { level: 'WARN', message: 'upstream call failed', ...common, attempt: 1, next: 'retry' },
      { level: 'ERROR', message: 'upstream call failed', ...common, attempt: 2, next: 'none' },
    ]);
    // The upstream's message is not logged: it may quote the prompt (as here) or a key (OpenAI's 401).
    expect(JSON.stringify(lines)).not.toContain('7731');
  });

  it('a stream whose upstream sends an error event after its first chunk: one ERROR line `upstream stream failed` with the answer\'s x-request-id', async () => {
    const read = gatewayLines();
    const first = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] };
    upstream.script({ headers: { 'x-request-id': 'req_upstream_stream_7' }, events: [{ data: first }, { data: { error: { message: `overloaded: ${SECRET}`, type: 'server_error', code: 'overloaded' } } }] });
    const answer = await call('/v1/chat/completions', { token: await gw.token('acme-log'), body: { ...CHAT, stream: true } });
    expect(answer.status).toBe(200);
    const lines = await read();
    expect(lines.filter((l) => l.message.startsWith('upstream'))).toEqual([{
      level: 'ERROR', message: 'upstream stream failed', requestId: answer.requestId, tenantId: 'acme-log', provider: 'openai-compatible', model: 'openai-compatible/default',
      upstreamModel: 'default', error: 'overloaded', upstreamRequestId: 'req_upstream_stream_7', retryable: false, attempt: 1, attempts: 2, latencyMs: expect.any(Number), next: 'none',
    }]);
    // The status sent (the stream had begun: 200), at ERROR with the error event's code: the answer failed.
    expect(accessLines(lines)).toEqual([expect.objectContaining({ level: 'ERROR', status: 200, stream: true, requestId: answer.requestId, errorCode: 'overloaded' })]);
    expect(JSON.stringify(lines)).not.toContain('7731');
  });

  it('a model that fails over to the tenant\'s fallback: `retry`, then `next` (WARN both), then the fallback\'s answer; the access line names the model that answered', async () => {
    const read = gatewayLines();
    const failure = { status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } };
    upstream.script(failure, failure);
    const answer = await call('/v1/chat/completions', { token: await gw.token('fallback-log'), body: CHAT });
    expect(answer.status).toBe(200);
    const lines = (await read()).filter((l) => l.requestId === answer.requestId);
    expect(lines.filter((l) => l.message === 'upstream call failed').map((l) => [l.level, l.model, l.attempt, l.next])).toEqual([
      ['WARN', 'openai-compatible/default', 1, 'retry'],
      ['WARN', 'openai-compatible/default', 2, 'next'],
    ]);
    expect(accessLines(lines)).toEqual([expect.objectContaining({ level: 'INFO', status: 200, model: 'openai-compatible/backup', tenantId: 'fallback-log' })]);
  });

  it('a response cache HIT: its own line, status 200, the model and the bytes sent, as the MISS before it', async () => {
    const read = gatewayLines();
    const token = await gw.token('cache-log');
    const miss = await fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(CHAT) });
    const missText = await miss.text();
    const hit = await fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(CHAT) });
    const hitText = await hit.text();
    expect([miss.headers.get('x-tessera-cache-status'), hit.headers.get('x-tessera-cache-status')]).toEqual(['MISS', 'HIT']);
    const lines = accessLines(await read());
    expect(lines.find((l) => l.requestId === miss.headers.get('x-request-id'))).toMatchObject({ status: 200, model: 'openai-compatible/default', bytesOut: Buffer.byteLength(missText) });
    expect(lines.find((l) => l.requestId === hit.headers.get('x-request-id'))).toMatchObject({ level: 'INFO', status: 200, tenantId: 'cache-log', model: 'openai-compatible/default', bytesOut: Buffer.byteLength(hitText) });
    expect(lines).toHaveLength(2);
  });

  it('the upstream refusing the caller\'s own request (a 400): no upstream failure line, the access line names the code', async () => {
    const read = gatewayLines();
    upstream.script({ status: 400, body: { error: { message: 'maximum context length exceeded', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const answer = await call('/v1/chat/completions', { token: await gw.token('acme-log'), body: CHAT });
    expect(answer.status).toBe(400);
    const lines = await read();
    expect(lines.filter((l) => l.message.startsWith('upstream'))).toEqual([]);
    expect(accessLines(lines)).toEqual([expect.objectContaining({ level: 'INFO', status: 400, errorCode: 'context_length_exceeded', requestId: answer.requestId })]);
  });

  it('an upstream that cannot be reached: the network error\'s name', async () => {
    const down = await serveGateway(gatewayConfig(), 'http://127.0.0.1:9/v1', [tenant('down-log')], { accessLog: true });
    try {
      const read = (['warn', 'error'] as const).map((level) => logSpy('tessera-gateway', level));
      const answer = await fetch(`${down.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${await down.token('down-log')}`, 'content-type': 'application/json' }, body: JSON.stringify(CHAT) });
      expect(answer.status).toBe(502);
      await down.settled();
      const failed = read.flatMap((s) => s.lines()).filter((l) => l.message === 'upstream call failed');
      expect(failed.map((l) => [l.level, l.error, l.status, l.next, l.requestId, l.tenantId])).toEqual([
        ['WARN', 'ECONNREFUSED', undefined, 'retry', answer.headers.get('x-request-id'), 'down-log'],
        ['ERROR', 'ECONNREFUSED', undefined, 'none', answer.headers.get('x-request-id'), 'down-log'],
      ]);
    } finally {
      await down.stop();
    }
  });

  it('a key or token pasted into the path or the model, a prompt pasted into the model: none of them in the line', async () => {
    const read = gatewayLines();
    const token = await gw.token('acme-log');
    const pastedKey = `tsk_acme-log_${'K'.repeat(43)}`;
    const inPath = await call(`/v1/models/${pastedKey}`, { token });
    const tokenInPath = await call(`/v1/${token}`, { token });
    const inModel = await call('/v1/chat/completions', { token, body: { ...CHAT, model: pastedKey } });
    const prompt = await call('/v1/chat/completions', { token, body: { ...CHAT, model: `summarise this: ${SECRET}` } });
    const typo = await call('/v1/chat/completions', { token, body: { ...CHAT, model: 'gpt-5.4-mini-typo' } });
    expect([inPath.status, tokenInPath.status, inModel.status, prompt.status, typo.status]).toEqual([404, 404, 404, 404, 404]);
    const lines = accessLines(await read());
    const of = (r: { requestId: string | null }) => lines.find((l) => l.requestId === r.requestId);
    expect(of(inPath)).toMatchObject({ path: '/v1/models/[redacted]', errorCode: 'model_not_found' });
    expect(of(tokenInPath)).toMatchObject({ path: '/v1/[redacted]', errorCode: 'route_not_found' });
    expect(of(inModel)).toMatchObject({ model: '[redacted]', errorCode: 'model_not_found' });
    expect(of(prompt)).toMatchObject({ model: '[not a model id]', errorCode: 'model_not_found' });
    // A model id's typo is still named: what an operator looks for.
    expect(of(typo)).toMatchObject({ model: 'gpt-5.4-mini-typo', errorCode: 'model_not_found' });
    const printed = JSON.stringify(lines);
    for (const secret of ['KKKKKKKK', token, SECRET, '7731']) expect(printed).not.toContain(secret);
  });

  // A schema's refusal comes before the model is resolved: its line named neither the model nor the field refused. A key
  // percent-encoded in part (`%74` is `t`, `%73` is `s`) passed the redaction.
  it('a 4xx names the refused param and the model the body named; a key percent-encoded in the path is redacted', async () => {
    const read = gatewayLines();
    const token = await gw.token('acme-log');
    const schema = await call('/v1/chat/completions', { token, body: { ...CHAT, temperature: 9 } });
    const unknown = await call('/v1/responses', { token, body: { model: 'openai-compatible/default', input: 'hi', top_k: 5 } });
    const modelless = await call('/v1/chat/completions', { token, body: { ...CHAT, model: 42 } });
    const encodedKey = await call(`/v1/files/%74sk_acme-log_${'K'.repeat(43)}`, { token });
    const encodedOpenAiKey = await call('/v1/files/%73k-proj-LEAKEDKEY123/content', { token });
    expect([schema.status, unknown.status, modelless.status]).toEqual([400, 400, 400]);
    const lines = accessLines(await read());
    const of = (r: { requestId: string | null }) => lines.find((l) => l.requestId === r.requestId);
    expect(of(schema)).toMatchObject({ status: 400, model: 'openai-compatible/default', param: 'temperature', errorCode: 'decimal_above_max_value' });
    expect(of(unknown)).toMatchObject({ status: 400, model: 'openai-compatible/default', param: 'top_k', errorCode: 'unknown_parameter' });
    expect(of(modelless)).toMatchObject({ status: 400, param: 'model', errorCode: 'invalid_type' });
    expect(of(modelless)).not.toHaveProperty('model');
    expect(of(encodedKey)).toMatchObject({ path: '/v1/files/[redacted]' });
    expect(of(encodedOpenAiKey)).toMatchObject({ path: '/v1/files/[redacted]/content' });
    const printed = JSON.stringify(lines);
    for (const secret of ['KKKKKKKK', 'LEAKEDKEY', token, SECRET]) expect(printed).not.toContain(secret);
  });

  it('a hostile upstream\'s error code and request id: bounded, a key in them redacted, in the failure lines and the access line', async () => {
    const read = gatewayLines();
    const failure = { status: 500, headers: { 'x-request-id': `req_${'x'.repeat(5000)}` }, body: { error: { message: 'boom', type: 'server_error', code: `sk-proj-LEAKEDKEY123 ${'y'.repeat(8000)}` } } };
    upstream.script(failure, failure);
    const answer = await call('/v1/chat/completions', { token: await gw.token('acme-log'), body: CHAT });
    expect(answer.status).toBe(502);
    const lines = (await read()).filter((l) => l.requestId === answer.requestId);
    expect(lines.map((l) => l.message)).toEqual(['upstream call failed', 'upstream call failed', 'request']);
    for (const line of lines) expect(JSON.stringify(line).length).toBeLessThan(1500);
    // The code reaches the lines as the caller's answer has it: cut to 64 characters (upstream-error-fields.ts), the key redacted.
    expect(lines[0]).toMatchObject({ error: `[redacted] ${'y'.repeat(43)}`, upstreamRequestId: expect.stringMatching(/^req_x+…$/) });
    expect(lines[2]).toMatchObject({ level: 'ERROR', status: 502, errorCode: `[redacted] ${'y'.repeat(43)}` });
    expect(JSON.stringify(lines)).not.toContain('LEAKEDKEY');
  });

  it('a stream the caller left after it began: the 200 sent, with errorCode cancelled; one line', async () => {
    const read = gatewayLines();
    const first = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] };
    upstream.script({ events: [{ data: first }, { pause: 5000 }, { data: first }] });
    const left = new AbortController();
    const res = await fetch(`${gw.url}/chat/completions`, { method: 'POST', signal: left.signal, headers: { authorization: `Bearer ${await gw.token('acme-log')}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...CHAT, stream: true }) });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk: the stream began
    left.abort();
    await reader.read().catch(() => undefined);
    const lines = accessLines(await read()).filter((l) => l.requestId === res.headers.get('x-request-id'));
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', status: 200, stream: true, errorCode: 'cancelled' })]);
  });

  // A newcomer's trial (2026-12-07): a background response whose run the upstream refused (`temperature` on a reasoning
  // model) printed its create's 200 and nothing more: serve's output never said the run failed, nor which field.
  it('a background response\'s run: one line of its own, `background response run`, with the response id, the run\'s request id, and a refusal\'s code and param', async () => {
    const read = gatewayLines();
    const token = await gw.token('acme-log');
    upstream.script({ status: 400, body: { error: { message: "Unsupported value: 'temperature' does not support 0.5 with this model.", type: 'invalid_request_error', param: 'temperature', code: 'unsupported_value' } } });
    const created = await call('/v1/responses', { token, body: { model: 'openai-compatible/default', input: 'hi', background: true, temperature: 0.5 } });
    expect(created.status).toBe(200);
    const id = (JSON.parse(created.text) as { id: string }).id;
    let status = 'queued';
    for (let i = 0; i < 100 && (status === 'queued' || status === 'in_progress'); i++) {
      await new Promise((wake) => setTimeout(wake, 50));
      status = (JSON.parse((await call(`/v1/responses/${id}`, { token })).text) as { status: string }).status;
    }
    expect(status).toBe('failed');
    const lines = await read();
    const runs = lines.filter((l) => l.message === 'background response run');
    expect(runs).toEqual([expect.objectContaining({ level: 'INFO', responseId: id, method: 'POST', path: '/v1/responses', status: 400, tenantId: 'acme-log', errorCode: 'unsupported_value', param: 'temperature' })]);
    expect(runs[0].requestId).toMatch(/^req_[0-9a-f]{24}$/);
    expect(runs[0].requestId).not.toBe(created.requestId);
    // The create's own access line as before: the 200 it answered.
    expect(accessLines(lines).filter((l) => l.requestId === created.requestId)).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it('no access line unless asked (createLocalGateway\'s default); `tessera serve` asks unless --no-access-log', async () => {
    const quiet = await serveGateway(gatewayConfig(), upstream.url, [tenant('quiet-log')]);
    try {
      const info = logSpy('tessera-gateway', 'info');
      expect((await fetch(`${quiet.url}/models`, { headers: { authorization: `Bearer ${await quiet.token('quiet-log')}` } })).status).toBe(200);
      await quiet.settled();
      expect(info.lines().filter((l) => l.message === 'request')).toEqual([]);
    } finally {
      await quiet.stop();
    }
    expect(serveCommand().parseOptions([]) && serveCommand().opts().accessLog).toBe(true);
    const off = serveCommand();
    off.parseOptions(['--no-access-log']);
    expect(off.opts().accessLog).toBe(false);
  });

  it('--no-access-log is serve\'s only: dev-token and dev-key, which answer no request, do not list or take it', () => {
    for (const command of [devTokenCommand(), devKeyCommand()]) {
      expect(command.options.map((o) => o.long)).not.toContain('--no-access-log');
      expect(command.helpInformation()).not.toContain('access');
    }
  });
});

describe('tessera serve as a process: what it prints', () => {
  /** `tessera serve` (the bundled CLI) at INFO, one chat completion and one refusal; its stdout and stderr once stopped. */
  async function printed(...flags: string[]): Promise<{ stdout: string; stderr: string; requestIds: string[] }> {
    const cli = await tesseraBundle();
    const state = tempDir('tessera-serve-log-');
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', state, '--port', '0', '--tenant', 'acme:enterprise', '--upstream', upstream.url, ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += String(d); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
    await new Promise<void>((ok, fail) => {
      child.stdout!.on('data', (d) => { stdout += String(d); if (/^ {2}sagemaker /m.test(stdout)) ok(); });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${stdout}${stderr}`)));
    });
    const base = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/v1/.exec(stdout)![1]}/v1`;
    const token = await mintDevToken(join(state, 'dev-keys.json'), { tenantId: 'acme' });
    const requestIds: string[] = [];
    // The refused one with a query string (refused before its parameters are read), which its line leaves out.
    for (const [authorization, query] of [[`Bearer ${token}`, ''], ['Bearer tsk_wrong-key-0000', '?api-version=secret-in-query']]) {
      const res = await fetch(`${base}/chat/completions${query}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(CHAT) });
      await res.text();
      requestIds.push(res.headers.get('x-request-id')!);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    return { stdout, stderr, requestIds };
  }

  it('one JSON access line per request on stdout, as documented; none with --no-access-log', async () => {
    const on = await printed();
    const json = on.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.filter((l) => l.message === 'request')).toEqual([
      expect.objectContaining({ level: 'INFO', service: 'tessera-gateway', timestamp: expect.any(String), method: 'POST', path: '/v1/chat/completions', status: 200, requestId: on.requestIds[0], tenantId: 'acme', model: 'openai-compatible/default', stream: false }),
      expect.objectContaining({ level: 'INFO', status: 401, requestId: on.requestIds[1], errorCode: 'malformed_api_key' }),
    ]);
    for (const secret of ['secret-in-query', 'tsk_wrong', SECRET]) expect(on.stdout + on.stderr).not.toContain(secret);
    const off = await printed('--no-access-log');
    expect(off.stdout).not.toContain('"message":"request"');
    expect(off.stdout).toMatch(/^tessera gateway on http/);
  });
});
