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

  // JSON.stringify of the Number 2^63 wrote 9223372036854776000, which OpenAI refuses as past 64 bits.
  it('a text completion\'s 64-bit seed goes upstream with the digits sent, whole and streamed', async () => {
    const choice = { index: 0, text: 'ok', finish_reason: 'stop', logprobs: null };
    const usage = { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 };
    upstream.script({ body: { id: 'up', object: 'text_completion', created: 1, model: 'instruct', choices: [choice], usage } });
    upstream.script({ events: [{ data: { id: 'up', object: 'text_completion', created: 1, model: 'instruct', choices: [choice] } }, { data: { id: 'up', object: 'text_completion', created: 1, model: 'instruct', choices: [], usage } }, { raw: 'data: [DONE]\n\n' }] });
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${await gw.token('acme')}`, 'content-type': 'application/json' },
        body: `{"model":"${INSTRUCT.id}","prompt":"Say hi","stream":${stream},"seed":9223372036854775807}`,
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(upstream.calls.at(-1)!.rawBody).toContain('"seed":9223372036854775807');
    }
  });

  it('an openai/ model\'s input-token count is the fake\'s count of the words', async () => {
    const count = await client.post('/responses/input_tokens', { body: { model: 'openai/gpt-4o-mini', input: 'hello world', instructions: 'be brief' } });
    expect(count).toEqual({ object: 'response.input_tokens', input_tokens: 4 });
  });
});
