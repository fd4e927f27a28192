import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { conformanceConfig } from '../support/gateway-config.js';
import { PythonClient, runClient } from './gateway-conformance/clients.js';
import { plainTenant } from './gateway-conformance/setup.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';

/**
 * Request tags (`x-tessera-tags`) on the deployed path: API Gateway (emulated) → the authorizer → the streaming router
 * Lambda's handler, its audit record in S3 (moto) read back through `GET /v1/tenant/requests/{id}`, with the official
 * Node client (`defaultHeaders`, as an application tags every call of a client) and the Python client (`extra_headers`);
 * and the spend by tag (`GET /v1/usage?group_by=tag`) the router answers from the usage table (moto), the ledger's tag
 * items written by each settle and read by the Query of the `model-usage` index, both as the tenant-data role's session.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonClient;
const MODEL = 'openai-compatible/default';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  [apigw, python] = await Promise.all([startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme')]), PythonClient.start()]);
}, 120_000);
afterAll(async () => {
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});

describe('x-tessera-tags through the router Lambda (records in S3 on moto)', () => {
  it('the Node client\'s defaultHeaders and the Python client\'s extra_headers: each record has its tags; a bad tag is the 400 naming the header', async () => {
    const token = await apigw.token('acme');
    const client = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0, defaultHeaders: { 'x-tessera-tags': 'checkout,env=prod' } });
    const { data: answer } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const fromPython = await runClient('python', python, apigw.url, token, { op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, headers: true, extraHeaders: { 'x-tessera-tags': 'jobID:7' } });
    expect(fromPython.error).toBeUndefined();
    await apigw.settled();
    const reader = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0 });
    expect(await reader.get(`/tenant/requests/${answer.id}`)).toMatchObject({ id: answer.id, status: 200, tags: ['checkout', 'env=prod'] });
    const pythonId = fromPython.headers!['x-request-id']!;
    expect(await reader.get(`/tenant/requests/${pythonId}`)).toMatchObject({ id: pythonId, status: 200, tags: ['jobID:7'] });

    const refused = await reader.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-tessera-tags': 'a,,b' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', param: 'x-tessera-tags', code: 'invalid_value' });
  }, 60_000);

  it('GET /v1/usage?group_by=tag through the router Lambda: each tagged request counted under each of its tags in the DynamoDB ledger, written and read with the tenant-data role\'s session', async () => {
    const developer = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme', { role: 'developer' }), maxRetries: 0 });
    const answer = (prompt: number, completion: number) => ({
      id: 'chatcmpl-s44k', object: 'chat.completion', created: 0, model: 'default',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    });
    upstream.script({ body: answer(100, 20) }, { body: answer(50, 10) }, { body: answer(7, 3) });
    const ask = { model: MODEL, messages: [{ role: 'user' as const, content: 'hi' }] };
    await developer.chat.completions.create(ask, { headers: { 'x-tessera-tags': 'team=search, nightly' } });
    await developer.chat.completions.create(ask, { headers: { 'x-tessera-tags': 'team=search' } });
    await developer.chat.completions.create(ask); // no tags: under none
    await apigw.settled();
    type Listed = { object: string; tenant: string; group_by: string; incomplete: boolean; unrecorded_requests: number; tags_limit: number; data: Array<{ object: string; scope: string; id: string; day: { tokens: number; requests: number }; month: { tokens: number; requests: number } }> };
    const listed = (await developer.get('/usage', { query: { group_by: 'tag' } })) as Listed;
    expect(listed).toMatchObject({ object: 'list', tenant: 'acme', group_by: 'tag', incomplete: false, unrecorded_requests: 0, tags_limit: 256 });
    const mine = listed.data.filter((t) => ['team=search', 'nightly'].includes(t.id));
    expect(mine.map((t) => [t.object, t.scope, t.id, t.day.tokens, t.day.requests, t.month.tokens, t.month.requests])).toEqual([
      ['usage', 'tag', 'nightly', 120, 1, 120, 1],
      ['usage', 'tag', 'team=search', 180, 2, 180, 2],
    ]);
    // Sorted by tag, the earlier test's tags (checkout, env=prod, jobID:7) among them: the list is the tenant's month.
    expect(listed.data.map((t) => t.id)).toEqual([...listed.data.map((t) => t.id)].sort());
    expect(listed.data.map((t) => t.id)).toEqual(expect.arrayContaining(['checkout', 'env=prod', 'jobID:7']));
    // A member has no usage.read: the 403 naming it.
    const member = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme', { role: 'member' }), maxRetries: 0 });
    const refused = await member.get('/usage', { query: { group_by: 'tag' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain('usage.read');
  }, 60_000);
});
