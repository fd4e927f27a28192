import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.js';
import { OPENAI_MODEL_SHUTDOWNS } from '../../lib/config/openai-model-shutdowns.js';
import { GatewayPolicy } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { runPythonCode } from '../support/python-zygote.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * s32m: a tenant developer sees what a request cost and when a model shuts down. A whole answer of a metered endpoint
 * carries `x-tessera-cost-usd` (the settled cost, the audit record's `costUsd`) and `x-tessera-model`, and
 * `x-tessera-fallback-from` when a fallback answered; `GET /v1/models` and `/v1/models/{id}` send OpenAI's
 * `shutdown_date` (a `YYYY-MM-DD` string, as `openai`'s `Model.shutdown_date?: string | null` declares it) from the
 * project's shutdown table. `tessera serve` on the embedded default config, the official Node and Python clients.
 */
const policy = (extra: Partial<GatewayPolicy> = {}) => ({ gateway: GatewayPolicy.parse({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, ...extra }) });

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(loadConfig(), upstream.url, [
    localTenant('acme', 'enterprise', policy()),
    localTenant('flaky', 'enterprise', policy({ fallbacks: ['gpt-5.4-mini'] })),
  ], { providers: ['openai', 'openai-compatible', 'huggingface'] });
  for (const t of ['acme', 'flaky']) tokens[t] = await gw.token(t);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.failures.clear());

const client = (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[tenant], maxRetries: 0 });
/** The audit record of the answer whose `x-request-id` is `id`, once written. */
const recordOf = async (id: string | null) => {
  await gw.settled();
  const record = gw.audit.records.find((r) => r.requestId === id);
  expect(record, `audit record ${id}`).toBeDefined();
  return record!;
};
const PLAIN_DECIMAL = /^\d+(\.\d{1,9})?$/;
/** The response's x-tessera-* headers, by name. */
const tesseraHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('x-tessera-')));

describe('x-tessera-cost-usd on whole answers (official Node client, .withResponse())', () => {
  it('chat: the header is the audit record\'s costUsd as a plain decimal, with the model that answered; a stream has none, its record has the cost', async () => {
    const { data, response } = await client('acme').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'what did this cost?' }] }).withResponse();
    const record = await recordOf(response.headers.get('x-request-id'));
    const cost = response.headers.get('x-tessera-cost-usd');
    expect(cost).toMatch(PLAIN_DECIMAL);
    expect(record.costUsd).toBeGreaterThan(0);
    expect(Number(cost)).toBe(record.costUsd);
    expect(tesseraHeaders(response)).toEqual({ 'x-tessera-cost-usd': cost, 'x-tessera-model': 'openai/gpt-5.4-mini' });
    expect(data.model).toBe('openai/gpt-5.4-mini');

    const { data: stream, response: head } = await client('acme').chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'streamed' }], stream: true, stream_options: { include_usage: true } }).withResponse();
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) usage ??= chunk.usage;
    expect(tesseraHeaders(head)).toEqual({});
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect((await recordOf(head.headers.get('x-request-id'))).costUsd).toBeGreaterThan(0);
  });

  it('responses, embeddings and moderations: each header equals its record\'s costUsd (a moderation\'s is 0)', async () => {
    const answers = [
      (await client('acme').responses.create({ model: 'gpt-5.4-mini', input: 'a response', store: false }).withResponse()).response,
      (await client('acme').embeddings.create({ model: 'text-embedding-3-small', input: 'an embedding' }).withResponse()).response,
      (await client('acme').moderations.create({ model: 'omni-moderation-latest', input: 'a moderation' }).withResponse()).response,
    ];
    const seen = [];
    for (const res of answers) {
      const record = await recordOf(res.headers.get('x-request-id'));
      const cost = res.headers.get('x-tessera-cost-usd');
      expect(cost, record.path).toMatch(PLAIN_DECIMAL);
      expect(Number(cost), record.path).toBe(record.costUsd);
      seen.push([record.path, res.headers.get('x-tessera-model')]);
    }
    expect(seen).toEqual([['/v1/responses', 'openai/gpt-5.4-mini'], ['/v1/embeddings', 'openai/text-embedding-3-small'], ['/v1/moderations', 'openai/omni-moderation-latest']]);
    expect(answers[2].headers.get('x-tessera-cost-usd')).toBe('0');
  });

  it('a fallback answered: x-tessera-fallback-from names the model asked for, x-tessera-model the one that answered, the cost at its prices', async () => {
    upstream.failures.set('gpt-4o-mini', { status: 503, times: 3 });
    const { data, response } = await client('flaky').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fall back' }] }).withResponse();
    expect(data.model).toBe('openai/gpt-5.4-mini');
    const record = await recordOf(response.headers.get('x-request-id'));
    expect(record).toMatchObject({ fallbackFrom: 'openai/gpt-4o-mini', model: 'openai/gpt-5.4-mini' });
    expect(tesseraHeaders(response)).toEqual({ 'x-tessera-cost-usd': expect.stringMatching(PLAIN_DECIMAL), 'x-tessera-model': 'openai/gpt-5.4-mini', 'x-tessera-fallback-from': 'openai/gpt-4o-mini' });
    expect(Number(response.headers.get('x-tessera-cost-usd'))).toBe(record.costUsd);
  });
});

describe('shutdown_date on GET /v1/models and /v1/models/{id}', () => {
  const date = OPENAI_MODEL_SHUTDOWNS['gpt-4o-mini'].shutdown;

  it('the table\'s date for gpt-4o-mini is the one the tests expect (2027-01-14)', () => {
    expect(date).toBe('2027-01-14');
  });

  it('Node client: models.retrieve by the alias and by the catalog id carry it; a model without a date has no field; models.list() agrees', async () => {
    expect(await client('acme').models.retrieve('gpt-4o-mini')).toEqual({ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-4o-mini', shutdown_date: date });
    expect(await client('acme').models.retrieve('openai/gpt-4o-mini')).toEqual({ id: 'openai/gpt-4o-mini', object: 'model', created: 0, owned_by: 'openai', shutdown_date: date });
    expect(await client('acme').models.retrieve('gpt-5.4-mini')).toEqual({ id: 'gpt-5.4-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-5.4-mini' });
    const listed = new Map((await client('acme').models.list()).data.map((m) => [m.id, m.shutdown_date]));
    expect([listed.get('gpt-4o-mini'), listed.get('openai/gpt-4o-mini'), listed.get('gpt-5.4-mini'), listed.get('openai/gpt-5.4-mini')]).toEqual([date, date, undefined, undefined]);
  });

  it('Python client: models.retrieve parses it as Model.shutdown_date (None where not sent); models.list() too', async () => {
    const code = [
      'import json, sys, openai',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      "ms = {m.id: m.shutdown_date for m in c.models.list()}",
      "print(json.dumps({'alias': c.models.retrieve('gpt-4o-mini').model_dump(), 'catalog': c.models.retrieve('openai/gpt-4o-mini').shutdown_date,",
      "  'none': c.models.retrieve('gpt-5.4-mini').shutdown_date, 'listed': [ms['gpt-4o-mini'], ms['gpt-5.4-mini']]}))",
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, tokens.acme])).stdout);
    expect(out).toEqual({
      alias: { id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-4o-mini', shutdown_date: date },
      catalog: date, none: null, listed: [date, null],
    });
  });
});
