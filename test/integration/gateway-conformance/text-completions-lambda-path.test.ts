import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/completions` on the deployed path: API Gateway (emulated) runs the authorizer Lambda, then the streaming
 * router Lambda (the route is under `/v1/{proxy+}`), with registry, usage and the tenant's provider key in moto.
 */
const MODEL = { id: 'openai-compatible/instruct', upstream: 'instruct-base', kind: 'completion' as const, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 256 };
const USAGE = { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 };
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let client: OpenAI;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.scriptOnly = true;
  const c = conformanceConfig();
  apigw = await startApiGatewayEmulator({ ...c, gateway: { ...c.gateway, models: [...c.gateway.models, MODEL] } }, upstream.url, [plainTenant('acme')]);
  client = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme'), maxRetries: 0 });
});
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

describe('POST /v1/completions through the Lambda adapters', () => {
  it('answers whole and streamed text completions as the upstream wrote them', async () => {
    upstream.script({ body: { id: 'up', object: 'text_completion', created: 1, model: 'instruct-base', choices: [{ index: 0, text: ' there', logprobs: null, finish_reason: 'stop' }], usage: USAGE } });
    const c = await client.completions.create({ model: MODEL.id, prompt: 'Hi', max_tokens: 5, echo: false });
    expect(c).toMatchObject({ object: 'text_completion', model: MODEL.id, choices: [{ text: ' there', finish_reason: 'stop' }], usage: USAGE });
    expect(upstream.calls[0].body).toEqual({ model: 'instruct-base', prompt: 'Hi', max_tokens: 5, echo: false });
    expect(upstream.calls[0].headers.authorization).toBe('Bearer key-of-acme');

    const chunk = (text: string, finish: string | null) => ({ id: 'up', object: 'text_completion', created: 1, model: 'instruct-base', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] });
    upstream.script({ events: [{ data: chunk(' a', null) }, { data: chunk(' b', 'length') }, { data: { id: 'up', object: 'text_completion', created: 1, model: 'instruct-base', choices: [], usage: USAGE } }, { data: '[DONE]' }] });
    const stream = await client.completions.create({ model: MODEL.id, prompt: 'Hi', stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const k of stream) chunks.push(k);
    expect(chunks.map((k) => k.choices[0]?.text ?? '').join('')).toBe(' a b');
    expect(chunks.at(-1)).toMatchObject({ object: 'text_completion', choices: [], usage: USAGE });
  });
});
