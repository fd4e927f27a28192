import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';

let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let client: OpenAI;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
  client = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme'), maxRetries: 0 });
});
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});

describe('the deployed path: API Gateway → authorizer Lambda → streaming router Lambda', () => {
  it('answers whole and streamed through the official client', async () => {
    const whole = await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }] });
    expect(whole.choices[0].message.content).toBe('echo: hello');
    const stream = await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0].delta.content ?? '';
    expect(text).toBe('echo: hello');
  });
});
