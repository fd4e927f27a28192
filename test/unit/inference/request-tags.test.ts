import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { requestRecordView } from '../../../lambdas/inference/audit-records.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayRequest, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { RequestEvents, type RequestEventEntry } from '../../../lambdas/inference/request-events.js';
import { MAX_REQUEST_TAGS, parseRequestTags, REQUEST_TAGS_HEADER } from '../../../lambdas/inference/request-tags.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/** The 400 `parseRequestTags` throws for `header`, as the caller reads it. */
function refusal(header: string | undefined, repeated = false): { status: number; message: string; param: string | null; code: string } {
  try {
    parseRequestTags(header, repeated);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    const { error } = JSON.parse(e.body()) as { error: { message: string; param: string | null; code: string } };
    return { status: e.status, message: error.message, param: error.param, code: error.code };
  }
  throw new Error(`${JSON.stringify(header)} was taken`);
}

describe('parseRequestTags (the x-tessera-tags header)', () => {
  it('takes a comma-separated list, each tag trimmed, in the order sent, a repeated tag once; none when absent or blank', () => {
    expect(REQUEST_TAGS_HEADER).toBe('x-tessera-tags');
    expect(parseRequestTags('checkout, jobID:214590,\tenv=prod ,team-api,us-east-1,feature/summarize,a.b+c@d_e')).toEqual(['checkout', 'jobID:214590', 'env=prod', 'team-api', 'us-east-1', 'feature/summarize', 'a.b+c@d_e']);
    expect(parseRequestTags('b,a,b,A')).toEqual(['b', 'a', 'A']);
    expect(parseRequestTags(undefined)).toEqual([]);
    expect(parseRequestTags('')).toEqual([]);
    expect(parseRequestTags('  ')).toEqual([]);
    expect(parseRequestTags('x'.repeat(64))).toEqual(['x'.repeat(64)]);
    expect(parseRequestTags(Array.from({ length: MAX_REQUEST_TAGS }, (_, i) => `t${i}`).join(','))).toHaveLength(16);
  });

  it('refuses a bad tag with a 400 naming the header, the tag and its place, never dropping it', () => {
    const named = { status: 400, param: 'x-tessera-tags', code: 'invalid_value' };
    expect(refusal('a,,b')).toEqual({ ...named, message: 'x-tessera-tags = "a,,b": tag 2 is empty (two commas in a row, or one at an end); separate tags with one comma' });
    expect(refusal('a,')).toMatchObject({ ...named, message: expect.stringContaining('tag 2 is empty') });
    expect(refusal('ok,has space')).toEqual({ ...named, message: 'x-tessera-tags: tag 2 "has space" is not a tag: character 4 is " " (U+0020); use ASCII letters, digits and _ . : / = + - @, starting with a letter or digit (e.g. team-api, jobID:214590, env=prod)' });
    expect(refusal('-leading')).toMatchObject({ ...named, message: expect.stringContaining('tag 1 "-leading" is not a tag') });
    expect(refusal('caf\u00e9')).toMatchObject({ ...named, message: expect.stringContaining('is not a tag') });
    expect(refusal('"quoted"')).toMatchObject(named);
    expect(refusal('x'.repeat(65))).toEqual({ ...named, message: `x-tessera-tags: tag 1 "${'x'.repeat(65)}" is 65 characters long; a tag is at most 64` });
    expect(refusal(Array.from({ length: 17 }, (_, i) => `t${i}`).join(','))).toEqual({ ...named, message: 'x-tessera-tags holds 17 tags; a request takes at most 16' });
    expect(refusal('a', true)).toEqual({ ...named, message: 'x-tessera-tags was sent more than once: send one x-tessera-tags header holding every tag, separated by commas (x-tessera-tags: team-api, jobID:214590)' });
  });

  it('names the character a tag is refused for by its code point: a look-alike reads as the letter it imitates', () => {
    // The Kelvin sign (U+212A) for K, a Cyrillic а (U+0430) for a, a no-break space (U+00A0, not trimmed: RFC 9110's OWS is SP and HTAB)
    expect(refusal('env=prod,\u212Aey').message).toContain('tag 2 "\u212Aey" is not a tag: character 1 is "\u212A" (U+212A); use ASCII letters');
    expect(refusal('te\u0430m').message).toContain('character 3 is "\u0430" (U+0430)');
    expect(refusal('prod\u00a0').message).toContain('character 5 is "\u00a0" (U+00A0)');
    // A character outside the Basic Multilingual Plane is one character, named whole
    expect(refusal('ok\u{1F600}').message).toContain('character 3 is "\u{1F600}" (U+1F600)');
    // A terminal escape is named escaped (as JSON quotes it), never raw in the message
    expect(refusal('a\u001b[31m').message).toContain('character 2 is "\\u001b" (U+001B)');
    expect(refusal('-leading').message).toContain('character 1 is "-" (U+002D), and a tag starts with a letter or digit');
    // As tessera serve reads a header (Node's HTTP server: each byte a Latin-1 character), a look-alike sent as UTF-8
    // bytes is named by the character they encode; bytes that are not UTF-8 (Node's Latin-1 é, E9) are named as read
    expect(refusal(Buffer.from('\u212Aelvin', 'utf8').toString('latin1')).message).toContain('character 1 is "\u212A" (U+212A) (sent as UTF-8 bytes)');
    expect(refusal(Buffer.from('caf\u00e9', 'latin1').toString('latin1')).message).toContain('character 4 is "\u00e9" (U+00E9);');
  });

  it('a record\'s tags are in the view GET /v1/tenant/requests/{id} and the request events answer', () => {
    const view = requestRecordView({ requestId: 'req_0123456789abcdef01234567', at: '2026-12-07T00:00:00.000Z', latencyMs: 1, status: 200, outcome: 'ok', tags: ['checkout', 'env=prod'] });
    expect(view.tags).toEqual(['checkout', 'env=prod']);
  });
});

describe('the gateway keeps a request\'s tags on its audit record', () => {
  function gatewayOf() {
    const config = gatewayConfig();
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise', { gateway: { ...localTenant('acme', 'enterprise').gateway!, requestEvents: true } }));
    const audit = new MemoryAuditSink();
    const events: RequestEventEntry[][] = [];
    const authorizer = {
      authorize: async (header?: string): Promise<Caller> => {
        // `Bearer <tenant>` or `Bearer <tenant> <role>` (member by default)
        const [tenantId, role = 'member'] = header!.slice('Bearer '.length).split(' ');
        return { tenantId, userId: 'u-1', role: role as Caller['role'], tenant: (await store.getTenant(tenantId))! };
      },
    } as unknown as Authorizer;
    const gateway = new Gateway({
      config, store, audit, authorizer, providers: new ProviderRegistry(config, async () => 'k'), awaitAudit: true,
      requestEvents: new RequestEvents({ put: async (batch) => { events.push(batch); return { failed: 0 }; } }),
    });
    const answers: Array<{ status: number; body: string }> = [];
    const res: GatewayResponder = { json: (status, body) => void answers.push({ status, body }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    const call = (headers: Record<string, string>, extra: Partial<GatewayRequest> = {}) =>
      gateway.handle({ method: 'GET', path: '/v1/models', headers: { authorization: 'Bearer acme', ...headers }, ...extra }, res);
    return { call, audit, answers, events };
  }

  it('the tags sent are on the record and its event; a request without the header has none', async () => {
    const { call, audit, answers, events } = gatewayOf();
    await call({ 'x-tessera-tags': 'checkout, jobID:42' });
    await call({});
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(audit.records.map((r) => r.tags)).toEqual([['checkout', 'jobID:42'], undefined]);
    expect(events.flat().map((e) => JSON.parse(e.Detail).tags)).toEqual([['checkout', 'jobID:42'], undefined]);
  });

  it('a bad header is a 400 in OpenAI\'s shape naming x-tessera-tags, and its record says so; a repeated header too (the last line alone would be kept)', async () => {
    const { call, audit, answers } = gatewayOf();
    await call({ 'x-tessera-tags': 'a,,b' });
    await call({ 'x-tessera-tags': 'b' }, { repeatedHeaders: ['x-tessera-tags'] });
    expect(answers.map((a) => [a.status, JSON.parse(a.body).error.param, JSON.parse(a.body).error.type])).toEqual([
      [400, 'x-tessera-tags', 'invalid_request_error'], [400, 'x-tessera-tags', 'invalid_request_error'],
    ]);
    expect(audit.records.map((r) => [r.status, r.outcome, r.tags])).toEqual([[400, 'invalid_value', undefined], [400, 'invalid_value', undefined]]);
  });

  it('a request refused once its caller is known (a 403 of its role, a 404 of its model) keeps its tags on its record, as the doc says', async () => {
    const { call, audit, answers } = gatewayOf();
    await call({ authorization: 'Bearer acme viewer', 'x-tessera-tags': 'checkout' }, { method: 'POST', path: '/v1/chat/completions', body: '{"model":"m","messages":[]}' });
    await call({ 'x-tessera-tags': 'env=prod' }, { path: '/v1/models/no-such-model' });
    expect(answers.map((a) => a.status)).toEqual([403, 404]);
    expect(audit.records.map((r) => [r.status, r.tags])).toEqual([[403, ['checkout']], [404, ['env=prod']]]);
  });

  it('an unauthenticated request is its 401 first, whatever its tags', async () => {
    const { audit } = gatewayOf();
    const config = gatewayConfig();
    const answers: number[] = [];
    const gateway = new Gateway({
      config, store: new MemoryStore(), audit, providers: new ProviderRegistry(config, async () => 'k'), awaitAudit: true,
      authorizer: { authorize: async () => { throw new GatewayError(401, 'no key', 'invalid_request_error', 'invalid_api_key'); } } as unknown as Authorizer,
    });
    await gateway.handle({ method: 'GET', path: '/v1/models', headers: { 'x-tessera-tags': 'a,,b' } }, { json: (status) => void answers.push(status), stream: () => ({ write: () => undefined, end: () => undefined }) });
    expect(answers).toEqual([401]);
  });
});
