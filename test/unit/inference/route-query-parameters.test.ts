import { describe, expect, it } from 'vitest';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { MemoryAuditSink, type AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { requestTarget } from '../../../lambdas/inference/local-server.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { integerQuery, refuseUnknownQuery, repeatedValuesOf, ROUTE_QUERY_PARAMETERS } from '../../../lambdas/inference/query-parameters.js';
import { FINE_TUNING_ROUTES, OPENAI_ROUTES } from '../../../lambdas/inference/routes.js';
import { MemoryConversationStore } from '../../../lambdas/inference/stores/memory-conversation-store.js';
import { MemoryResponseStore } from '../../../lambdas/inference/stores/memory-response-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import type { TenantKeyService } from '../../../lambdas/inference/endpoints/tenant-keys.js';
import type { TenantUserDirectory } from '../../../lambdas/identity/tenant-users.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/**
 * "Never drop a field silently" for query parameters: every GET and DELETE route of the router refuses a parameter the
 * `openai` package's params type of the call does not define (ROUTE_QUERY_PARAMETERS), with a 400 `unknown_parameter`
 * naming it; `before` on a response's input items and a conversation's items (neither InputItemListParams nor
 * ItemListParams has it) gave the first page. Each value of a repeated `include[]` is checked, not only the last.
 */

/** A path of the route's pattern: each parameter segment `x` (`[^/]+`, `.+`). */
const pathOf = (pattern: RegExp) => pattern.source.replace(/^\^/, '').replace(/\$$/, '').replaceAll('[^/]+', 'x').replaceAll('.+', 'x').replaceAll('\\/', '/');

describe('ROUTE_QUERY_PARAMETERS', () => {
  it('has an entry for every GET and DELETE route of the router and for the fine-tuning API\'s DELETE /v1/models/{model}', () => {
    const routes = [...OPENAI_ROUTES, ...FINE_TUNING_ROUTES.filter(([p]) => p.source.startsWith('^\\/v1\\/models'))];
    const missing = routes.flatMap(([pattern, methods]) => methods.filter((m) => m === 'GET' || m === 'DELETE').map((m) => `${m} ${pathOf(pattern)}`))
      .filter((route) => { const [m, p] = route.split(' '); return !ROUTE_QUERY_PARAMETERS.some(([method, pattern]) => method === m && pattern.test(p!)); });
    expect(missing).toEqual([]);
  });

  it('has an entry for every POST and PUT route of the router: a query there was dropped unseen (POST /v1/responses?x=1 answered)', () => {
    const missing = OPENAI_ROUTES.flatMap(([pattern, methods]) => methods.filter((m) => m === 'POST' || m === 'PUT').map((m) => `${m} ${pathOf(pattern)}`))
      .filter((route) => { const [m, p] = route.split(' '); return !ROUTE_QUERY_PARAMETERS.some(([method, pattern]) => method === m && pattern.test(p!)); });
    expect(missing).toEqual([]);
  });

  it('refuseUnknownQuery: `include[]` takes include[] and include[0]… (the brackets and indices forms of a list), nothing else', () => {
    for (const name of ['include[]', 'include[0]', 'include[12]']) expect(() => refuseUnknownQuery({ [name]: 'x' }, ['include[]'], 'GET /r')).not.toThrow();
    for (const name of ['include[a]', 'include[]x', 'includes[]', 'include[1234]']) {
      expect(() => refuseUnknownQuery({ [name]: 'x' }, ['include[]'], 'GET /r')).toThrow(expect.objectContaining({ status: 400, code: 'unknown_parameter', param: name }));
    }
  });

  // Every list route's limit (stored chat completions, files, batches, vector stores, fine-tuning jobs) is read here: a limit
  // out of range was `invalid_value` on the first and `invalid_limit` on the others; OpenAI answers with its bound words and codes.
  it('integerQuery: a decimal integer out of range gets OpenAI\'s bound words and code; a value that is no decimal integer invalid_value', () => {
    const range = { min: 1, max: 100, fallback: 20 };
    const refusal = (raw: string) => { try { integerQuery({ limit: raw }, 'limit', range); return undefined; } catch (e) { const g = e as GatewayError; return [g.status, g.code, g.param, g.message]; } };
    expect(refusal('101')).toEqual([400, 'integer_above_max_value', 'limit', 'Invalid \'limit\': integer above maximum value. Expected a value <= 100, but got 101 instead.']);
    expect(refusal('0')).toEqual([400, 'integer_below_min_value', 'limit', 'Invalid \'limit\': integer below minimum value. Expected a value >= 1, but got 0 instead.']);
    for (const raw of ['1e1', '+5', '-1', '5.0', ' 5', '0x10', '']) expect(refusal(raw)).toEqual([400, 'invalid_value', 'limit', `limit "${raw}" must be a decimal integer from 1 to 100`]);
    expect([integerQuery({}, 'limit', range), integerQuery({ limit: '100' }, 'limit', range)]).toEqual([20, 100]);
    // Leading zeros are taken, as the key list takes them (`02` was refused here): one parser, integerQueryValue.
    expect([integerQuery({ limit: '02' }, 'limit', range), integerQuery({ limit: '0005' }, 'limit', range)]).toEqual([2, 5]);
    expect(refusal('000')).toEqual([400, 'integer_below_min_value', 'limit', 'Invalid \'limit\': integer below minimum value. Expected a value >= 1, but got 0 instead.']);
    // Past Number's safe range: the digits sent, not Number's rounding (9999999999999999 was said as 10000000000000000), and
    // 17 digits or more the same words (they were invalid_value), as the key list answers them.
    for (const raw of ['9999999999999999', '99999999999999999999', `1${'0'.repeat(99)}`]) {
      expect(refusal(raw)).toEqual([400, 'integer_above_max_value', 'limit', `Invalid 'limit': integer above maximum value. Expected a value <= 100, but got ${raw} instead.`]);
    }
    const long = `1${'0'.repeat(100)}`;
    expect(refusal(long)).toEqual([400, 'invalid_value', 'limit', `limit "${long.slice(0, 100)}" must be a decimal integer from 1 to 100`]);
  });

  it('repeatedValuesOf: every value of the names API Gateway\'s multiValueQueryStringParameters give more than one', () => {
    expect(repeatedValuesOf({ 'include[]': ['a', 'b'], limit: ['1'] })).toEqual({ 'include[]': ['a', 'b'] });
    expect(repeatedValuesOf(null)).toEqual({});
  });
});

describe('the router\'s GET and DELETE routes', () => {
  const config = gatewayConfig();
  const store = new MemoryStore();
  store.putTenant(localTenant('acme', 'enterprise'));
  const authorizer = { authorize: async (): Promise<Caller> => ({ tenantId: 'acme', userId: 'u-1', role: 'admin', tenant: (await store.getTenant('acme'))! }) } as unknown as Authorizer;
  // Key and user services that are never reached: the query is refused before them.
  const gateway = new Gateway({
    config, store, audit: new MemoryAuditSink(), authorizer, providers: new ProviderRegistry(config, async () => 'k'), awaitAudit: true,
    responses: new MemoryResponseStore(), conversations: new MemoryConversationStore(), keyService: {} as TenantKeyService, users: {} as TenantUserDirectory,
  });
  const answers: Array<{ status: number; body: string }> = [];
  const res: GatewayResponder = { json: (status, body) => void answers.push({ status, body }), stream: () => ({ write: () => undefined, end: () => undefined }) };
  const send = async (method: string, target: string) => {
    await gateway.handle({ method, ...requestTarget(target), headers: { authorization: 'Bearer x' }, ...(method === 'POST' || method === 'PUT' ? { body: '{"items":[]}' } : {}) }, res);
    const a = answers.pop()!;
    return { status: a.status, ...(JSON.parse(a.body) as { error?: { param: string; code: string; message: string } }).error };
  };

  it.each([
    ['GET', '/v1/responses/resp_1/input_items?before=msg_1', 'before', 'GET /v1/responses/{response_id}/input_items takes after, limit, order, include, include[]'],
    ['GET', '/v1/responses/resp_1?after=3', 'after', 'GET /v1/responses/{response_id} takes include, include[], include_obfuscation, starting_after, stream'],
    ['DELETE', '/v1/responses/resp_1?force=true', 'force', 'DELETE /v1/responses/{response_id} takes none'],
    ['GET', '/v1/conversations/conv_1/items?before=msg_1', 'before', 'GET /v1/conversations/{conversation_id}/items takes after, limit, order, include, include[]'],
    ['GET', '/v1/conversations/conv_1?include[]=message.output_text.logprobs', 'include[]', 'GET /v1/conversations/{conversation_id} takes none'],
    ['DELETE', '/v1/conversations/conv_1?x=1', 'x', 'DELETE /v1/conversations/{conversation_id} takes none'],
    ['GET', '/v1/conversations/conv_1/items/msg_1?order=asc', 'order', 'GET /v1/conversations/{conversation_id}/items/{item_id} takes include, include[]'],
    ['DELETE', '/v1/conversations/conv_1/items/msg_1?x=1', 'x', 'DELETE /v1/conversations/{conversation_id}/items/{item_id} takes none'],
    ['POST', '/v1/conversations/conv_1/items?order=asc', 'order', 'POST /v1/conversations/{conversation_id}/items takes include, include[]'],
    ['GET', '/v1/chat/completions/chatcmpl-1?include=usage', 'include', 'GET /v1/chat/completions/{completion_id} takes none'],
    ['DELETE', '/v1/chat/completions/chatcmpl-1?x=1', 'x', 'DELETE /v1/chat/completions/{completion_id} takes none'],
    ['GET', '/v1/models?limit=1', 'limit', 'GET /v1/models takes none'],
    ['GET', '/v1/models/openai-compatible%2Fdefault?x=1', 'x', 'GET /v1/models/{model} takes none'],
    ['GET', '/v1/tenant/keys?before=key_1', 'before', 'GET /v1/tenant/keys takes after, limit, order'],
    ['GET', '/v1/tenant/keys/key_1?x=1', 'x', 'GET /v1/tenant/keys/{key_id} takes none'],
    ['DELETE', '/v1/tenant/keys/key_1?x=1', 'x', 'DELETE /v1/tenant/keys/{key_id} takes none'],
    ['GET', '/v1/tenant/users?emailPrefix=a', 'emailPrefix', 'GET /v1/tenant/users takes none'],
  ])('%s %s: 400 unknown_parameter naming it and what the route takes', async (method, target, param, takes) => {
    expect(await send(method, target)).toEqual({ status: 400, type: 'invalid_request_error', param, code: 'unknown_parameter', message: `unknown query parameter "${param}": ${takes}` });
  });

  it.each([
    ['POST', '/v1/responses?x=1', 'x', 'POST /v1/responses takes none'],
    // AzureOpenAI's api-version: the gateway serves no Azure paths (/deployments/<model>/...) nor its api-key header.
    ['POST', '/v1/chat/completions?api-version=2024-10-21', 'api-version', 'POST /v1/chat/completions takes none'],
    ['POST', '/v1/chat/completions/chatcmpl-1?x=1', 'x', 'POST /v1/chat/completions/{completion_id} takes none'],
    ['POST', '/v1/completions?x=1', 'x', 'POST /v1/completions takes none'],
    ['POST', '/v1/embeddings?api-version=2024-10-21', 'api-version', 'POST /v1/embeddings takes none'],
    ['POST', '/v1/moderations?x=1', 'x', 'POST /v1/moderations takes none'],
    ['POST', '/v1/images/generations?x=1', 'x', 'POST /v1/images/generations takes none'],
    ['POST', '/v1/images/edits?x=1', 'x', 'POST /v1/images/edits takes none'],
    ['POST', '/v1/images/variations?x=1', 'x', 'POST /v1/images/variations takes none'],
    ['POST', '/v1/audio/speech?x=1', 'x', 'POST /v1/audio/speech takes none'],
    ['POST', '/v1/audio/transcriptions?x=1', 'x', 'POST /v1/audio/transcriptions takes none'],
    ['POST', '/v1/audio/translations?x=1', 'x', 'POST /v1/audio/translations takes none'],
    ['POST', '/v1/responses/input_tokens?x=1', 'x', 'POST /v1/responses/input_tokens takes none'],
    ['POST', '/v1/responses/resp_1/cancel?x=1', 'x', 'POST /v1/responses/{response_id}/cancel takes none'],
    ['POST', '/v1/conversations?include[]=message.output_text.logprobs', 'include[]', 'POST /v1/conversations takes none'],
    ['POST', '/v1/conversations/conv_1?x=1', 'x', 'POST /v1/conversations/{conversation_id} takes none'],
    ['POST', '/v1/tenant/keys?x=1', 'x', 'POST /v1/tenant/keys takes none'],
    ['POST', '/v1/tenant/keys/key_1/rotate?x=1', 'x', 'POST /v1/tenant/keys/{key_id}/rotate takes none'],
    ['POST', '/v1/tenant/users?x=1', 'x', 'POST /v1/tenant/users takes none'],
    ['POST', '/v1/tenant/users/u-2/disable?x=1', 'x', 'POST /v1/tenant/users/{user_id}/disable takes none'],
    ['PUT', '/v1/tenant/users/u-2/role?x=1', 'x', 'PUT /v1/tenant/users/{user_id}/role takes none'],
  ])('%s %s: 400 unknown_parameter naming it, before the body is read or anything changes', async (method, target, param, takes) => {
    expect(await send(method, target)).toEqual({ status: 400, type: 'invalid_request_error', param, code: 'unknown_parameter', message: `unknown query parameter "${param}": ${takes}` });
  });

  it('GET /v1/responses/{id}: stream is true or false, starting_after only with stream=true, include_obfuscation=true refused (no obfuscation padding)', async () => {
    expect(await send('GET', '/v1/responses/resp_1?stream=1')).toMatchObject({ status: 400, param: 'stream', code: 'invalid_value' });
    expect(await send('GET', '/v1/responses/resp_1?starting_after=3')).toMatchObject({ status: 400, param: 'starting_after', code: 'invalid_request' });
    expect(await send('GET', '/v1/responses/resp_1?stream=false&starting_after=3')).toMatchObject({ status: 400, param: 'starting_after' });
    expect(await send('GET', '/v1/responses/resp_1?stream=true&include_obfuscation=true')).toMatchObject({ status: 400, param: 'include_obfuscation', code: 'unsupported_parameter' });
    expect(await send('GET', '/v1/responses/resp_1?include_obfuscation=no')).toMatchObject({ status: 400, param: 'include_obfuscation', code: 'invalid_value' });
  });

  it('every value of a repeated include[] is checked, not only the last (the one API Gateway\'s queryStringParameters keep)', async () => {
    for (const path of ['/v1/responses/resp_1', '/v1/responses/resp_1/input_items', '/v1/conversations/conv_1/items', '/v1/conversations/conv_1/items/msg_1']) {
      expect(await send('GET', `${path}?include[]=web_search_call.results&include[]=message.output_text.logprobs`)).toMatchObject({ status: 400, param: 'include[0]', code: 'unsupported_parameter', message: expect.stringContaining("'web_search_call.results'") });
      expect(await send('GET', `${path}?include[]=message.output_text.logprobs&include[]=web_search_call.results`)).toMatchObject({ status: 400, param: 'include[1]', code: 'unsupported_parameter' });
      expect(await send('GET', `${path}?include[]=file_search_call.results&include[]=message.output_text.logprobs`)).toMatchObject({ status: 404 });
    }
    // What each route takes is not refused: the answer is the route's own (the 404 of an id the tenant does not hold).
    for (const target of [
      '/v1/responses/resp_1/input_items?after=msg_1&limit=5&order=asc&include[]=message.output_text.logprobs',
      '/v1/responses/resp_1?include[]=message.input_image.image_url&include_obfuscation=false',
      '/v1/responses/resp_1?stream=false',
      '/v1/conversations/conv_1/items?after=msg_1&limit=5&order=asc&include[0]=file_search_call.results',
      '/v1/conversations/conv_1/items/msg_1?include=message.output_text.logprobs',
    ]) expect(await send('GET', target)).toMatchObject({ status: 404 });
    expect(await send('GET', '/v1/models')).toEqual({ status: 200 });
  });
});

describe('the fine-tuning API\'s DELETE /v1/models/{model} (the deployed fine-tuning Lambda)', () => {
  it('refuses a query parameter: 400 unknown_parameter naming it, nothing deleted', async () => {
    const service = new FineTuningService({ config: DEFAULT_CONFIG, jobs: new MemoryJobStore(), sageMaker: async () => { throw new Error('not reached'); } });
    const caller: Caller = { tenantId: 'acme', userId: 'admin@acme', role: 'admin', tenant: trainedTenant('acme', 'enterprise', '444444444444') };
    const refused = await service.handle({ method: 'DELETE', path: '/v1/models/ft:llama-3.1-8b-instruct:acme:x', query: { force: 'true' } }, caller, {} as AuditRecord).catch((e: GatewayError) => e);
    expect(refused).toMatchObject({ status: 400, code: 'unknown_parameter', param: 'force', message: 'unknown query parameter "force": DELETE /v1/models/{model} takes none' });
  });
});
