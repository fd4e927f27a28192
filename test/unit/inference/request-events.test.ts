import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import {
  GATEWAY_EVENT_SOURCE, PUT_EVENTS_MAX_BYTES, REQUEST_COMPLETED_EVENT, RequestEvents, putEventsBatches, putEventsEntrySize, requestEventEntry, requestEventsWanted,
  type RequestEventEntry,
} from '../../../lambdas/inference/request-events.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { parseTraceparent } from '../../../lambdas/inference/trace-context.js';
import { repeatedHeaderNames } from '../../../lambdas/inference/repeated-headers.js';
import type { GatewayPolicy } from '../../../lib/tenant-record.js';
import { gatewayConfig } from '../../support/gateway-config.js';

// Gap review s32, gap 8: each settled request of an opted-in tenant becomes a `Gateway Request Completed` event.
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const record = (fields: Partial<AuditRecord> = {}): AuditRecord => ({
  requestId: 'chatcmpl-0123456789abcdef01234567', at: '2026-12-05T13:30:00.250Z', method: 'POST', path: '/v1/chat/completions', tenantId: 'acme', tier: 'enterprise',
  userId: 'u-1', role: 'member', model: 'openai/gpt-5.4-mini', provider: 'openai', promptTokens: 12, completionTokens: 5, costUsd: 0.000021,
  latencyMs: 812.5, upstreamLatencyMs: 790, status: 200, outcome: 'ok', stream: false,
  promptSha256: 'a'.repeat(64), prompt: 'the secret launch code is 4417', traceparent: TRACEPARENT, ...fields,
});

describe('the event of a request', () => {
  it('is the record as the tenant\'s lookup answers it (requestRecordView): no prompt text even with auditPromptText, no hash, the traceparent', () => {
    const entry = requestEventEntry(record());
    expect([entry.Source, entry.DetailType]).toEqual([GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT]);
    expect([GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT]).toEqual(['tessera.gateway', 'Gateway Request Completed']);
    expect(JSON.parse(entry.Detail)).toEqual({
      object: 'tenant.request', id: 'chatcmpl-0123456789abcdef01234567', created_at: 1796477400, at: '2026-12-05T13:30:00.250Z', method: 'POST', path: '/v1/chat/completions',
      tenant: 'acme', user: 'u-1', role: 'member', model: 'openai/gpt-5.4-mini', provider: 'openai', status: 200, outcome: 'ok', stream: false,
      usage: { prompt_tokens: 12, completion_tokens: 5 }, cost_usd: 0.000021, latency_ms: 812.5, upstream_latency_ms: 790, traceparent: TRACEPARENT,
    });
    expect(entry.Detail).not.toContain('4417');
    expect(entry.Detail).not.toContain('a'.repeat(64));
  });

  it('is wanted when the tenant says so, else when the platform says so; the tenant\'s false opts out', () => {
    expect([requestEventsWanted(undefined, undefined), requestEventsWanted({}, undefined), requestEventsWanted({ requestEvents: true }, undefined)]).toEqual([false, false, true]);
    expect([requestEventsWanted({}, true), requestEventsWanted({ requestEvents: false }, true), requestEventsWanted({ requestEvents: true }, false)]).toEqual([true, false, true]);
  });
});

describe('PutEvents batches (at most 10 entries, under 256 KB a call)', () => {
  const entries = (n: number, detailBytes = 100): RequestEventEntry[] =>
    Array.from({ length: n }, (_, i) => ({ Source: GATEWAY_EVENT_SOURCE, DetailType: REQUEST_COMPLETED_EVENT, Detail: JSON.stringify({ i, pad: 'x'.repeat(detailBytes) }) }));

  it('25 entries are 3 calls: 10, 10, 5, in order', () => {
    const { batches, tooLarge } = putEventsBatches(entries(25));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((e) => JSON.parse(e.Detail).i)).toEqual([...Array(25).keys()]);
    expect(tooLarge).toEqual([]);
  });

  it('a call stays under 256 KB counted as EventBridge counts an entry (Source, DetailType and Detail in UTF-8 bytes); an entry of 256 KB or more is none\'s', () => {
    const e = entries(1)[0]!;
    expect(putEventsEntrySize(e)).toBe(Buffer.byteLength(e.Detail) + 'tessera.gateway'.length + 'Gateway Request Completed'.length);
    // 100 KB entries: two fit a call (200 KB), a third would be 300 KB.
    const big = entries(5, 100 * 1024);
    expect(putEventsBatches(big).batches.map((b) => b.length)).toEqual([2, 2, 1]);
    // Multi-byte text counts its bytes: 60,000 × 'é' is 120,000 bytes, two per call.
    const accented = Array.from({ length: 3 }, () => ({ ...e, Detail: JSON.stringify({ t: 'é'.repeat(60_000) }) }));
    expect(putEventsBatches(accented).batches.map((b) => b.length)).toEqual([2, 1]);
    const huge = { ...e, Detail: JSON.stringify({ pad: 'x'.repeat(PUT_EVENTS_MAX_BYTES) }) };
    expect(putEventsBatches([e, huge, e])).toEqual({ batches: [[e, e]], tooLarge: [huge] });
  });

  it('RequestEvents sends 25 records added at once in 3 calls, and a failed call or refused entries are logged and counted, never thrown', async () => {
    const calls: RequestEventEntry[][] = [];
    const logged: Array<Record<string, unknown>> = [];
    const printed: string[] = [];
    let answer: (entries: RequestEventEntry[]) => Promise<{ failed: number; errorCode?: string }> = async () => ({ failed: 0 });
    const events = new RequestEvents({ put: (batch) => { calls.push(batch); return answer(batch); }, log: (l) => logged.push(l), print: (l) => printed.push(l) });
    await Promise.all(Array.from({ length: 25 }, (_, i) => events.add(record({ requestId: `req_${String(i).padStart(24, '0')}` }))));
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(logged).toEqual([]);
    expect(printed).toEqual([]);

    // The bus refuses 2 entries of a call, then a call fails outright: both logged, 2 + 1 counted, the promises resolve.
    answer = async () => ({ failed: 2, errorCode: 'ThrottlingException' });
    await expect(Promise.all([events.add(record()), events.add(record())])).resolves.toEqual([undefined, undefined]);
    answer = async () => { throw Object.assign(new Error('Event bus tessera-platform does not exist.'), { name: 'ResourceNotFoundException' }); };
    await expect(events.add(record())).resolves.toBeUndefined();
    expect(logged.map((l) => [l.message, l.count, l.reason])).toEqual([
      ['request events not delivered', 2, 'the bus refused 2 of 2 entries: ThrottlingException'],
      ['request events not delivered', 1, 'PutEvents failed: ResourceNotFoundException: Event bus tessera-platform does not exist.'],
    ]);
    const metrics = printed.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(metrics.map((m) => [m.Service, m.RequestEventFailures])).toEqual([['gateway', 2], ['gateway', 1]]);
    expect((metrics[0]!._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics).toEqual([{ Namespace: 'Tessera/Gateway', Dimensions: [['Service']], Metrics: [{ Name: 'RequestEventFailures', Unit: 'Count' }] }]);
  });
});

describe('W3C traceparent', () => {
  it('keeps a valid one (version 00, or a later version\'s first 55 characters) and ignores the invalid ones, saying why', () => {
    expect(parseTraceparent(undefined)).toEqual({});
    expect(parseTraceparent(TRACEPARENT)).toEqual({ traceparent: TRACEPARENT });
    expect(parseTraceparent(` ${TRACEPARENT} `)).toEqual({ traceparent: TRACEPARENT });
    expect(parseTraceparent(`cc${TRACEPARENT.slice(2)}-what-the-future-holds`)).toEqual({ traceparent: `cc${TRACEPARENT.slice(2)}` });
    const invalid: Array<[string, string]> = [
      [`ff${TRACEPARENT.slice(2)}`, 'version ff is invalid'],
      [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'all-zero trace-id'],
      [`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, 'all-zero parent-id'],
      [TRACEPARENT.toUpperCase(), 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)'],
      [`${TRACEPARENT}-extra`, 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)'], // version 00 is exactly 55 characters
      ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)'],
      [`${TRACEPARENT},${TRACEPARENT}`, 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)'], // two headers, joined
      ['', 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)'],
    ];
    for (const [value, why] of invalid) expect(parseTraceparent(value), value).toEqual({ ignored: why });
  });

  it('ignores a traceparent sent more than once, even when each is valid: neither trace is continued (W3C test_traceparent_duplicated)', () => {
    const other = '00-12345678901234567890123456789012-1234567890123456-01';
    expect(parseTraceparent(other, true)).toEqual({ ignored: 'sent more than once: a request carries one traceparent field (W3C Trace Context 3.2), so neither is continued' });
    expect(parseTraceparent(TRACEPARENT, false)).toEqual({ traceparent: TRACEPARENT });
    // API Gateway's multiValueHeaders keep the caller's case: TraceParent and traceparent are the same field.
    expect(repeatedHeaderNames({ traceparent: [TRACEPARENT], TraceParent: [other], accept: ['*/*'], 'x-a': ['1', '2'] })).toEqual(['traceparent', 'x-a']);
    expect(repeatedHeaderNames({ traceparent: [TRACEPARENT] })).toEqual([]);
    expect(repeatedHeaderNames(null)).toEqual([]);
  });
});

describe('the gateway puts the events of the tenants that want them', () => {
  function gatewayOf(tenants: Record<string, Partial<GatewayPolicy>>, platform?: boolean) {
    const base = gatewayConfig();
    const config = { ...base, gateway: { ...base.gateway, requestEvents: platform } };
    const store = new MemoryStore();
    for (const [id, gateway] of Object.entries(tenants)) store.putTenant(localTenant(id, 'enterprise', { gateway: { ...localTenant(id, 'enterprise').gateway!, ...gateway } }));
    const calls: RequestEventEntry[][] = [];
    const audit = new MemoryAuditSink();
    const authorizer = {
      authorize: async (header?: string): Promise<Caller> => {
        const tenantId = header!.slice('Bearer '.length);
        return { tenantId, userId: 'u-1', role: 'member', tenant: (await store.getTenant(tenantId))! };
      },
    } as unknown as Authorizer;
    const gateway = new Gateway({
      config, store, audit, authorizer, providers: new ProviderRegistry(config, async () => 'k'), awaitAudit: true,
      requestEvents: new RequestEvents({ put: async (batch) => { calls.push(batch); return { failed: 0 }; } }),
    });
    const call = (tenantId: string, headers: Record<string, string> = {}) => gateway.handle({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${tenantId}`, ...headers } }, res);
    return { call, calls, audit };
  }
  const res: GatewayResponder = { json: () => undefined, stream: () => ({ write: () => undefined, end: () => undefined }) };

  it('an opted-in tenant\'s request is an event once its record is written (awaited with it); another tenant\'s is none', async () => {
    const { call, calls, audit } = gatewayOf({ acme: { requestEvents: true }, quiet: {} });
    await call('acme', { traceparent: TRACEPARENT });
    await call('quiet', { traceparent: TRACEPARENT });
    expect(audit.records.map((r) => [r.tenantId, r.traceparent])).toEqual([['acme', TRACEPARENT], ['quiet', TRACEPARENT]]);
    expect(calls.map((c) => c.map((e) => JSON.parse(e.Detail) as Record<string, unknown>).map((d) => [d.tenant, d.id, d.path, d.traceparent]))).toEqual([
      [['acme', audit.records[0]!.requestId, '/v1/models', TRACEPARENT]],
    ]);
  });

  it('the platform\'s gateway.requestEvents puts every tenant\'s, except a tenant that says false', async () => {
    const { call, calls } = gatewayOf({ acme: {}, quiet: { requestEvents: false } }, true);
    await call('acme');
    await call('quiet');
    expect(calls.flat().map((e) => JSON.parse(e.Detail).tenant)).toEqual(['acme']);
  });

  it('an invalid traceparent is not kept: the record notes why, in detail.traceparentIgnored (and so does the event)', async () => {
    const { call, calls, audit } = gatewayOf({ acme: { requestEvents: true } });
    await call('acme', { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });
    expect(audit.records[0]!.traceparent).toBeUndefined();
    expect(audit.records[0]!.detail).toEqual({ traceparentIgnored: 'all-zero trace-id' });
    expect(JSON.parse(calls[0]![0]!.Detail).detail).toEqual({ traceparentIgnored: 'all-zero trace-id' });
  });
});
