import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { runPythonCode } from '../support/python-zygote.js';

/**
 * The official clients against `tessera serve`: a list parameter of the `openai` package's params type is honoured
 * (`order`, `limit`, `include` as the clients send a list: `include[]=a&include[]=b`), and one it does not define
 * (`before` on a response's input items and on a conversation's items, passed through the clients' `query` /
 * `extra_query`) is a 400 `unknown_parameter` naming it: it gave the first page, the caller believing it paged back.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
const MODEL = 'openai-compatible/default';
const client = () => new OpenAI({ baseURL: gw.url, apiKey: token, maxRetries: 0 });

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
  token = await gw.token('acme', { role: 'developer' });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('query parameters through the official clients', () => {
  it('Node (openai 7): inputItems.list and conversations.items.list honour order, limit and include[]; before is a 400 naming it', async () => {
    const input = [1, 2, 3].map((n) => ({ type: 'message' as const, role: 'user' as const, content: `turn ${n}` }));
    const response = await client().responses.create({ model: MODEL, input });
    const page = await client().responses.inputItems.list(response.id, { order: 'asc', limit: 2, include: ['message.input_image.image_url', 'message.output_text.logprobs'] });
    expect(page.data.map((i: any) => i.content[0].text)).toEqual(['turn 1', 'turn 2']);
    expect(page.has_more).toBe(true);
    const before = await client().responses.inputItems.list(response.id, { limit: 1 }, { query: { before: page.data[1]!.id } }).catch((e: unknown) => e);
    expect(before).toBeInstanceOf(OpenAI.BadRequestError);
    expect((before as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
      message: 'unknown query parameter "before": GET /v1/responses/{response_id}/input_items takes after, limit, order, include, include[]', type: 'invalid_request_error', param: 'before', code: 'unknown_parameter',
    });
    // A refused include value among honoured ones is refused, wherever it stands in the list.
    const mixed = await client().responses.inputItems.list(response.id, { include: ['web_search_call.results', 'message.output_text.logprobs'] }).catch((e: unknown) => e);
    expect(mixed).toMatchObject({ status: 400, error: { param: 'include[0]', code: 'unsupported_parameter' } });

    const conversation = await client().conversations.create({ items: input });
    const items = await client().conversations.items.list(conversation.id, { order: 'desc', limit: 1, include: ['message.output_text.logprobs'] });
    expect(items.data.map((i: any) => i.content[0].text)).toEqual(['turn 3']);
    const back = await client().conversations.items.list(conversation.id, {}, { query: { before: items.data[0]!.id } }).catch((e: unknown) => e);
    expect(back).toMatchObject({ status: 400, error: { param: 'before', code: 'unknown_parameter' } });
  });

  // One parser reads every list's limit (query-parameters.ts integerQueryValue): `limit=05` is 5 on each, as the key list
  // took it, where the gateway's lists refused it (`limit "05" must be a decimal integer from 1 to 100`, invalid_value).
  it('Node (openai 7): limit=05 is 5 on every list route family (files, batches, vector stores, stored chat completions, conversation items, response input items, keys); limit=+5 is still refused', async () => {
    const c = client();
    const response = await c.responses.create({ model: MODEL, input: 'hi', store: true });
    const conversation = await c.conversations.create({ items: [{ type: 'message', role: 'user', content: 'a' }] });
    const query = (limit: string) => ({ query: { limit } });
    const lists: Record<string, (limit: string) => Promise<unknown>> = {
      'files.list': (l) => c.files.list({}, query(l)),
      'batches.list': (l) => c.batches.list({}, query(l)),
      'vectorStores.list': (l) => c.vectorStores.list({}, query(l)),
      'chat.completions.list': (l) => c.chat.completions.list({}, query(l)),
      'conversations.items.list': (l) => c.conversations.items.list(conversation.id, {}, query(l)),
      'responses.inputItems.list': (l) => c.responses.inputItems.list(response.id, {}, query(l)),
      'GET /v1/tenant/keys': async (l) => new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme', { role: 'admin' }), maxRetries: 0 }).get('/tenant/keys', query(l)),
    };
    for (const [what, list] of Object.entries(lists)) {
      expect([what, await list('05').then(() => 'ok', (e: unknown) => e)]).toEqual([what, 'ok']);
      const refused = await list('+5').catch((e: unknown) => e);
      expect([what, refused]).toEqual([what, expect.any(OpenAI.BadRequestError)]);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'limit', code: 'invalid_value', message: expect.stringMatching(/^limit "\+5" must be a decimal integer from 1 to \d+$/) });
    }
  });

  it('Node (openai 7): retrieve applies include (logprobs shown only when asked, as OpenAI), and refuses one the create did not keep, naming include[i]', async () => {
    const kept = await client().responses.create({ model: MODEL, input: 'Hi there', include: ['message.output_text.logprobs'] });
    const text = (r: OpenAI.Responses.Response) => (r.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
    expect(text(kept).logprobs!.length).toBeGreaterThan(0);
    const withLogprobs = await client().responses.retrieve(kept.id, { include: ['message.output_text.logprobs'] });
    expect(text(withLogprobs).logprobs).toEqual(text(kept).logprobs);
    // Without include, as OpenAI answers: the output text without its logprobs (they were shown either way).
    expect(text(await client().responses.retrieve(kept.id)).logprobs).toEqual([]);

    const plain = await client().responses.create({ model: MODEL, input: 'Hi there' });
    const refused = await client().responses.retrieve(plain.id, { include: ['message.input_image.image_url', 'message.output_text.logprobs'] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
      message: `include[1] 'message.output_text.logprobs': not stored by this gateway for response '${plain.id}', created without it (it keeps output text logprobs only when POST /v1/responses asks for them); ask for it at create time: include: ['message.output_text.logprobs']`,
      type: 'invalid_request_error', param: 'include[1]', code: 'unsupported_parameter',
    });
  });

  it('Node (openai 7): a query parameter on a POST route is a 400 naming it, nothing created (it was dropped: POST /v1/responses?x=1 answered)', async () => {
    const calls = upstream.calls.length;
    const refused = await client().responses.create({ model: MODEL, input: 'Hi' }, { query: { 'api-version': '2024-10-21' } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, error: { param: 'api-version', code: 'unknown_parameter', message: 'unknown query parameter "api-version": POST /v1/responses takes none' } });
    const chat = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }, { query: { x: '1' } }).catch((e: unknown) => e);
    expect(chat).toMatchObject({ status: 400, error: { param: 'x', code: 'unknown_parameter' } });
    expect(upstream.calls.length).toBe(calls);
  });

  it('Python (openai 3.57): input_items.list honours order and limit (nothing added unasked); extra_query before is a 400 naming it', async () => {
    const code = [
      'import json, sys, openai',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      "r = c.responses.create(model=sys.argv[3], input=[{'type': 'message', 'role': 'user', 'content': f'turn {n}'} for n in (1, 2, 3)])",
      "page = c.responses.input_items.list(r.id, order='desc', limit=2, include=['message.output_text.logprobs'])",
      'try:',
      "    c.responses.input_items.list(r.id, extra_query={'before': page.data[0].id})",
      "    refused = None",
      'except openai.BadRequestError as e:',
      "    refused = e.body",
      "print(json.dumps({'texts': [i.content[0].text for i in page.data], 'has_more': page.has_more, 'refused': refused}))",
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, token, MODEL])).stdout);
    expect(out).toEqual({
      texts: ['turn 3', 'turn 2'], has_more: true,
      refused: { message: 'unknown query parameter "before": GET /v1/responses/{response_id}/input_items takes after, limit, order, include, include[]', type: 'invalid_request_error', param: 'before', code: 'unknown_parameter' },
    });
  });
});
