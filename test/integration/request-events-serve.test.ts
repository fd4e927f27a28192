import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEvent } from '../../lambdas/inference/budget-alerts/local-events.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway, localTenant } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { tempDir } from '../support/temp-dirs.js';

// Gap review s32, gap 8, as `tessera serve` runs it: the bus is <state-dir>/events.jsonl (beside the budget alerts'
// events), each event a line as EventBridge delivers it to a rule's target.
let upstream: FakeUpstream;
let server: Server | undefined;
const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server ? server.close(r) : r(undefined));
  await upstream?.stop();
});

describe('request events under tessera serve', () => {
  it('25 concurrent chat completions of the opted-in tenant are 25 lines of events.jsonl (no prompt text, the traceparent); the other tenant\'s none; a bad traceparent is noted', async () => {
    const stateDir = tempDir('tessera-request-events-');
    const tenants = [
      localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: true, requestEvents: true } }),
      localTenant('quiet', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: true } }),
    ];
    const local = await createLocalGateway({ config: gatewayConfig(), stateDir, upstreamUrl: upstream.url, tenants });
    server = await startLocalServer(local.gateway, { port: 0, maxBytes: 1_000_000 });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
    const client = async (tenantId: string, traceparent = TRACEPARENT) => new OpenAI({ baseURL: url, apiKey: await mintDevToken(local.keysFile, { tenantId }), maxRetries: 0, defaultHeaders: { traceparent } });
    const acme = await client('acme');
    const body = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'the launch code is quokka-zulu' }] };
    const answers = await Promise.all(Array.from({ length: 25 }, () => acme.chat.completions.create(body)));
    await (await client('quiet')).chat.completions.create(body);
    await (await client('acme', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).chat.completions.create(body);
    await local.gateway.settled();

    const text = readFileSync(join(stateDir, 'events.jsonl'), 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as LocalEvent);
    expect(events).toHaveLength(26);
    expect(new Set(events.map((e) => `${e.source} ${e['detail-type']} ${e.detail.tenant}`))).toEqual(new Set(['tessera.gateway Gateway Request Completed acme']));
    const traced = events.filter((e) => e.detail.traceparent === TRACEPARENT);
    expect(traced.map((e) => e.detail.id).sort()).toEqual(answers.map((a) => a.id).sort());
    expect(traced.every((e) => e.detail.status === 200 && e.detail.detail === undefined)).toBe(true);
    const untraced = events.filter((e) => e.detail.traceparent === undefined);
    expect(untraced.map((e) => e.detail.detail)).toEqual([{ traceparentIgnored: 'version ff is invalid' }]);
    // The audit log keeps the prompt text (auditPromptText); its events do not.
    expect(readFileSync(join(stateDir, 'audit.jsonl'), 'utf8')).toContain('quokka-zulu');
    expect(text).not.toContain('quokka-zulu');
  });

  it('a traceparent sent twice (two header lines) is ignored, neither kept, and noted: not the last one kept', async () => {
    const stateDir = tempDir('tessera-request-events-');
    const tenants = [localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: false, requestEvents: true } })];
    const local = await createLocalGateway({ config: gatewayConfig(), stateDir, upstreamUrl: upstream.url, tenants });
    const own = await startLocalServer(local.gateway, { port: 0, maxBytes: 1_000_000 });
    try {
      const port = (own.address() as { port: number }).port;
      const other = '00-12345678901234567890123456789012-1234567890123456-01';
      const token = await mintDevToken(local.keysFile, { tenantId: 'acme' });
      const body = JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }] });
      // node sends an array value as one header line per value (fetch would join them into one line).
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', traceparent: [TRACEPARENT, other] } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(200);
      await local.gateway.settled();
      const events = readFileSync(join(stateDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LocalEvent);
      expect(events).toHaveLength(1);
      expect(events[0]!.detail.traceparent).toBeUndefined();
      expect(events[0]!.detail.detail).toEqual({ traceparentIgnored: 'sent more than once: a request carries one traceparent field (W3C Trace Context 3.2), so neither is continued' });
    } finally {
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
  });
});
