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
 * Node client (`defaultHeaders`, as an application tags every call of a client) and the Python client (`extra_headers`).
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
});
