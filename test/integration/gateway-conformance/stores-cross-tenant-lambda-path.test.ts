import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * Tenant B (globex) against tenant A's (acme's) stored state on the deployed path: API Gateway (emulated), the
 * authorizer and the streaming router Lambdas, the responses table and the audit bucket in moto, read through the
 * tenant-data role's session (moto evaluates no IAM: what this shows is that the handlers key every read by the
 * caller's tenant; docs/isolation.md for the role's `dynamodb:LeadingKeys`). A's stored chat completion, request record,
 * response, item and conversation answer B exactly as ids that exist nowhere (status and body, the id swapped), in
 * every route and id field that takes them; B's request identical to A's cached one is B's own MISS.
 */
const SECRET = 'acme-secret-5c1d';
const MODEL = 'openai-compatible/default';
const CACHE = { responseCache: { ttlSeconds: 300, scope: 'tenant' as const } };
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
const tokens: Record<string, string> = {};
const acme = { completion: '', request: '', response: '', item: '', conversation: '' };
const client = (tenant: string) => new OpenAI({ baseURL: apigw.url, apiKey: tokens[tenant], maxRetries: 0 });

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.followFormat = true;
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme', CACHE), plainTenant('globex', CACHE)]);
  await createResponsesTable('tessera-responses');
  process.env[GATEWAY_ENV.responsesTable] = 'tessera-responses';
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t, { role: 'admin' });
  const a = client('acme');
  const completion = await a.chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: SECRET }] }).withResponse();
  const response = await a.responses.create({ model: MODEL, input: SECRET });
  const conversation = await a.conversations.create({ items: [{ type: 'message', role: 'user', content: SECRET }] });
  Object.assign(acme, { completion: completion.data.id, request: completion.response.headers.get('x-request-id')!, response: response.id, item: response.output[0]!.id!, conversation: conversation.id });
}, 120_000);
afterAll(async () => {
  delete process.env[GATEWAY_ENV.responsesTable];
  await apigw?.stop();
  await upstream?.stop();
});

async function send(method: string, path: string, who: string, body?: unknown) {
  const res = await fetch(`${apigw.url}${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
/** An id of A's kind that exists nowhere: one hex digit changed eight from the end (inside the random part of every id here). */
const unknownLike = (id: string) => `${id.slice(0, id.length - 8)}${id[id.length - 8] === '0' ? '1' : '0'}${id.slice(id.length - 7)}`;

describe('tenant B against tenant A\'s stored state through the Lambda adapters', () => {
  it('every route and id field answers A\'s id exactly as an id that exists nowhere', async () => {
    const cases: Array<[what: string, theirs: string, request: (id: string) => [string, string, unknown?]]> = [
      ['chat completion retrieve', acme.completion, (id) => ['GET', `/chat/completions/${id}`]],
      ['chat completion update', acme.completion, (id) => ['POST', `/chat/completions/${id}`, { metadata: { owner: 'globex' } }]],
      ['chat completion messages', acme.completion, (id) => ['GET', `/chat/completions/${id}/messages`]],
      ['chat completions after A\'s', acme.completion, (id) => ['GET', `/chat/completions?after=${id}`]],
      ['chat completion delete', acme.completion, (id) => ['DELETE', `/chat/completions/${id}`]],
      ['request record', acme.request, (id) => ['GET', `/tenant/requests/${id}`]],
      ['response cancel', acme.response, (id) => ['POST', `/responses/${id}/cancel`]],
      ['item_reference', acme.item, (id) => ['POST', '/responses', { model: MODEL, input: [{ type: 'item_reference', id }] }]],
      ['input_tokens with previous_response_id', acme.response, (id) => ['POST', '/responses/input_tokens', { model: MODEL, input: 'x', previous_response_id: id }]],
      ['input_tokens with item_reference', acme.item, (id) => ['POST', '/responses/input_tokens', { model: MODEL, input: [{ type: 'item_reference', id }] }]],
      ['input_tokens with conversation', acme.conversation, (id) => ['POST', '/responses/input_tokens', { model: MODEL, input: 'x', conversation: id }]],
    ];
    const calls = upstream.requests.length;
    for (const [what, theirs, request] of cases) {
      const unknown = unknownLike(theirs);
      const [method, path, body] = request(theirs);
      const [method2, path2, body2] = request(unknown);
      const a = await send(method, path, 'globex', body);
      const b = await send(method2, path2, 'globex', body2);
      expect([what, a.status >= 400 && a.status < 500], a.body).toEqual([what, true]);
      expect(`${a.status} ${a.body}`.split(theirs).join(unknown), what).toBe(`${b.status} ${b.body}`);
      expect(a.body, what).not.toContain(SECRET);
    }
    expect(upstream.requests.length).toBe(calls);
    // A's own are there: each refusal above was of an id that exists.
    expect((await client('acme').chat.completions.retrieve(acme.completion)).metadata ?? {}).toEqual({});
    expect((await send('GET', `/tenant/requests/${acme.request}`, 'acme')).status).toBe(200);
    expect((await client('acme').conversations.retrieve(acme.conversation)).id).toBe(acme.conversation);
  });

  it('B\'s request identical to A\'s cached one is B\'s own MISS', async () => {
    const ask = { model: MODEL, messages: [{ role: 'user', content: `cache ${SECRET}` }] };
    const statuses = [];
    for (const who of ['acme', 'acme', 'globex']) statuses.push((await send('POST', '/chat/completions', who, ask)).headers.get('x-tessera-cache-status'));
    expect(statuses).toEqual(['MISS', 'HIT', 'MISS']);
  });
});
