import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * s31l: what a new user tries on the README's quick start, through `tessera serve` and the fake upstream's own answers
 * (nothing scripted): a text completion on a `kind: completion` model and an `openai/` model's input-token count were a
 * 502 (the fake answered both with a chat completion); now the fake answers them as OpenAI would.
 */
const INSTRUCT = { id: 'openai-compatible/instruct', upstream: 'instruct', kind: 'completion' as const, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 };
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const c = conformanceConfig();
  gw = await serveGateway({ ...c, gateway: { ...c.gateway, models: [...c.gateway.models, INSTRUCT] } }, upstream.url, [plainTenant('acme')]);
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme'), maxRetries: 0 });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('the fake upstream\'s own answers through tessera serve', () => {
  it('a text completion, whole and streamed: the echo of the prompt', async () => {
    const whole = await client.completions.create({ model: INSTRUCT.id, prompt: 'Say hi', n: 2 });
    expect(whole).toMatchObject({ object: 'text_completion', model: INSTRUCT.id, usage: { prompt_tokens: 11, completion_tokens: 14 } });
    expect(whole.choices.map((c) => [c.index, c.text, c.finish_reason])).toEqual([[0, 'echo: Say hi', 'stop'], [1, 'echo: Say hi', 'stop']]);
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of await client.completions.create({ model: INSTRUCT.id, prompt: 'Say hi', stream: true, stream_options: { include_usage: true } })) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('echo: Say hi');
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
  });

  it('an openai/ model\'s input-token count is the fake\'s count of the words', async () => {
    const count = await client.post('/responses/input_tokens', { body: { model: 'openai/gpt-4o-mini', input: 'hello world', instructions: 'be brief' } });
    expect(count).toEqual({ object: 'response.input_tokens', input_tokens: 4 });
  });
});
