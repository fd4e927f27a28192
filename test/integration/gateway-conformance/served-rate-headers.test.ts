import { describe, expect, it, vi } from 'vitest';
import { moderationAnswer } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { CLIENTS, PythonClient, runClient, type ClientCall, type ClientName } from './clients.js';
import { openAiAnswer, openAiChunks } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * OpenAI's `x-ratelimit-*` headers on the answers `tessera serve` serves (OpenAI sends them on
 * every answer, not only on 429s), as the official clients read them: the Node client's
 * `.withResponse()` and the Python client's `with_raw_response`.
 */
const MODEL = 'openai-compatible/default';
const MODELS = [
  { id: 'openai-compatible/embed', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 },
  { id: 'openai/omni-moderation-latest', upstream: 'omni-moderation-latest', kind: 'moderation' as const, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
];
// The tier's minute, hour and day all allow 1,000 requests: the day is then the nearest limit (or ties with the
// minute and hour), so the count goes down by one per request whatever minute or hour boundary falls between them.
const config = () => {
  const c = conformanceConfig();
  const enterprise = c.tiers.enterprise;
  return {
    ...c,
    gateway: { ...c.gateway, models: [...c.gateway.models, ...MODELS] },
    tiers: { ...c.tiers, enterprise: { ...enterprise, limits: { ...enterprise.limits, requestsPerMinute: 1000, requestsPerHour: 1000, requestsPerDay: 1000, tokensPerDay: 1_000_000 } } },
  };
};
// The conformance config's `tiny` tier (2 requests a minute, 100 an hour, 1,000 a day): its minute is always the nearest limit.
const tiny = (tenantId: string) => ({ ...plainTenant(tenantId), tier: 'tiny' });
const suite = useConformanceGateway(PythonClient.start, { config: config(), tenants: [plainTenant('pacer'), plainTenant('routes'), tiny('throttled-node'), tiny('throttled-python')] });

const DURATION = /^(\d+h)?(\d+m)?\d+(ms|s)$/;
const RATE_HEADERS = ['limit', 'remaining', 'reset'].flatMap((h) => ['requests', 'tokens'].map((k) => `x-ratelimit-${h}-${k}`));
const ask = { model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }] };

/** The six headers, with a served answer's shape: whole numbers, OpenAI's durations, no retry-after. */
function expectServedRateHeaders(headers: Record<string, string> | undefined, limits: { requests: number; tokens: number }): void {
  expect(headers, 'the answer\'s headers').toBeDefined();
  expect(headers!['x-ratelimit-limit-requests']).toBe(String(limits.requests));
  expect(headers!['x-ratelimit-limit-tokens']).toBe(String(limits.tokens));
  for (const kind of ['requests', 'tokens']) {
    expect(headers![`x-ratelimit-remaining-${kind}`], `x-ratelimit-remaining-${kind}`).toMatch(/^\d+$/);
    expect(headers![`x-ratelimit-reset-${kind}`], `x-ratelimit-reset-${kind}`).toMatch(DURATION);
  }
  expect(headers!['retry-after']).toBeUndefined();
  expect(headers!['x-should-retry']).toBeUndefined();
}

describe('x-ratelimit-* on served answers (tessera serve, both official clients)', () => {
  it('chat completions whole and streamed, Node and Python: the six headers on each, one request fewer each time, fewer tokens each time', async () => {
    const calls: Array<[ClientName, ClientCall['op']]> = CLIENTS.flatMap((client) => [[client, 'create'], [client, 'stream']] as Array<[ClientName, ClientCall['op']]>);
    const seen: Array<Record<string, string>> = [];
    for (const [client, op] of calls) {
      if (op === 'create') suite.env.upstream.script({ body: openAiAnswer('text') });
      else suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
      const out = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.pacer, { op, params: ask, headers: true });
      expect(out.error, `${client} ${op}`).toBeUndefined();
      expectServedRateHeaders(out.headers, { requests: 1000, tokens: 1_000_000 });
      expect(out.headers!['x-request-id']).toMatch(/^chatcmpl-/);
      seen.push(out.headers!);
    }
    expect(seen.map((h) => Number(h['x-ratelimit-remaining-requests']))).toEqual([999, 998, 997, 996]);
    const tokens = seen.map((h) => Number(h['x-ratelimit-remaining-tokens']));
    expect(tokens[0]).toBeLessThan(1_000_000);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i], `request ${i + 1}`).toBeLessThan(tokens[i - 1]);
  });

  it('responses (whole and streamed), embeddings and moderations carry them too; a route that counts nothing (GET /v1/models) does not', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.routes);
    const remaining: number[] = [];
    const served = (response: Response) => {
      const headers = Object.fromEntries(response.headers);
      expectServedRateHeaders(headers, { requests: 1000, tokens: 1_000_000 });
      remaining.push(Number(headers['x-ratelimit-remaining-requests']));
    };

    suite.env.upstream.script({ body: openAiAnswer('text') });
    served((await client.responses.create({ model: MODEL, input: 'Say hi.', store: false }).withResponse()).response);
    suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
    const { data: events, response: streamed } = await client.responses.create({ model: MODEL, input: 'Say hi.', store: false, stream: true }).withResponse();
    served(streamed);
    for await (const _event of events) { /* read to the end: the request settles */ }
    suite.env.upstream.script({ body: { object: 'list', model: 'bge', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 2, total_tokens: 2 } } });
    served((await client.embeddings.create({ model: 'openai-compatible/embed', input: 'alpha' }).withResponse()).response);
    suite.env.upstream.script((call) => ({ body: moderationAnswer(call.body as never) }));
    served((await client.moderations.create({ model: 'openai/omni-moderation-latest', input: 'hello' }).withResponse()).response);
    expect(remaining).toEqual([999, 998, 997, 996]);

    const { response: models } = await client.models.list().withResponse();
    expect(RATE_HEADERS.filter((h) => models.headers.has(h))).toEqual([]);
  });
});

describe('x-ratelimit-* on an upstream\'s 429: the limit a served answer states, not another window', () => {
  const tooMany = { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached for requests. Please try again in 7s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };

  it.each(CLIENTS)('a tenant whose nearest limit is its minute (2 requests): the served answer and the upstream 429 after it both state that minute (%s client)', async (client) => {
    const token = suite.env.tokens[`throttled-${client}`];
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const served = await runClient(client, suite.python, suite.env.gw.url, token, { op: 'create', params: ask, headers: true });
    expect(served.error).toBeUndefined();
    expect(served.headers!['x-ratelimit-limit-requests']).toBe('2');

    suite.env.upstream.script(tooMany, tooMany);
    const refused = await runClient(client, suite.python, suite.env.gw.url, token, { op: 'create', params: ask, maxRetries: 0 });
    expect(refused.error!.status).toBe(429);
    const headers = refused.error!.headers;
    expect(headers['retry-after']).toBe('7');
    // OpenAI's meaning: the limit this caller is nearest to exhausting, as the served answer said it: the minute's 2
    // (before 2026-12-05 the day's 1,000, with 998 left), 0 or 1 left (1 when a new minute began between the two requests).
    expect(headers['x-ratelimit-limit-requests']).toBe('2');
    expect(Number(headers['x-ratelimit-remaining-requests'])).toBeLessThanOrEqual(1);
    expect(headers['x-ratelimit-reset-requests'], 'within the minute').toMatch(/^(\d+ms|[1-5]?\ds|1m0s)$/);
    expect(headers['x-ratelimit-limit-tokens']).toBe(served.headers!['x-ratelimit-limit-tokens']);
    expect(Number(headers['x-ratelimit-remaining-tokens'])).toBeLessThan(Number(served.headers!['x-ratelimit-remaining-tokens']));
  });
});
