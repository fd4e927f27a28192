import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

// The fake upstream (`npx tsx test/bench/fake-upstream-main.ts`, docs/gateway.md "The fake upstream") honours `n` and
// `logprobs` on its text answers, as an OpenAI-compatible server does: `n` choices (index 0..n-1) and each
// choice's `logprobs.content`, whole and streamed. It gave one choice and `logprobs: null` whatever was asked,
// so code trying them through tessera serve saw the gateway lose them. Through serve, with the official Node client.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;
const model = 'openai-compatible/default';
const ECHO = 'echo: say hi please';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme'), maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('the fake upstream\'s n and logprobs, through tessera serve', () => {
  it('n = 3: three choices, index 0 to 2, each the echo; completion tokens counted for each', async () => {
    const out = await client.chat.completions.create({ model, n: 3, messages: [{ role: 'user', content: 'say hi please' }] });
    expect(out.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, ECHO, 'stop'], [1, ECHO, 'stop'], [2, ECHO, 'stop']]);
    expect(out.usage).toMatchObject({ completion_tokens: 21 });
    expect(out.choices[0]!.logprobs ?? null).toBeNull(); // not asked
  });

  it('logprobs with top_logprobs 2: a token per piece of the text, its bytes, two alternatives, the token first', async () => {
    const out = await client.chat.completions.create({ model, logprobs: true, top_logprobs: 2, messages: [{ role: 'user', content: 'say hi please' }] });
    const content = out.choices[0]!.logprobs!.content!;
    expect(content.map((t) => t.token).join('')).toBe(ECHO);
    for (const t of content) {
      expect(t.bytes).toEqual([...Buffer.from(t.token)]);
      expect(t.logprob).toBeLessThan(0);
      expect(t.top_logprobs.map((a) => a.token)).toEqual([t.token, `${t.token}~1`]);
    }
  });

  it('streamed, n = 2 with logprobs: the stream helper assembles two choices, each with its text and tokens', async () => {
    const stream = client.chat.completions.stream({ model, n: 2, logprobs: true, messages: [{ role: 'user', content: 'say hi please' }] });
    const done = await stream.finalChatCompletion();
    expect(done.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, ECHO, 'stop'], [1, ECHO, 'stop']]);
    for (const c of done.choices) expect(c.logprobs!.content!.map((t) => t.token).join('')).toBe(ECHO);
  });

  it('tool-calling mode (--tools), n = 2: two choices, each with its own call, whole and streamed (it answered one choice)', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages = [{ role: 'user' as const, content: 'Oslo' }];
    upstream.callTools = true;
    try {
      const whole = await client.chat.completions.create({ model, n: 2, tools, messages });
      expect(whole.choices.map((c) => [c.index, c.finish_reason, c.message.tool_calls!.map((t) => [t.id, (t as any).function.name, (t as any).function.arguments])])).toEqual([
        [0, 'tool_calls', [['call_fake_1', 'get_weather', '{"city":"Oslo"}']]],
        [1, 'tool_calls', [['call_fake_1_1', 'get_weather', '{"city":"Oslo"}']]],
      ]);
      expect(whole.usage).toMatchObject({ completion_tokens: 14 });
      const streamed = await client.chat.completions.stream({ model, n: 2, tools, messages, stream_options: { include_usage: true } }).finalChatCompletion();
      expect(streamed.choices.map((c) => [c.index, c.finish_reason, c.message.tool_calls!.map((t) => t.id)])).toEqual([[0, 'tool_calls', ['call_fake_1']], [1, 'tool_calls', ['call_fake_1_1']]]);
      expect(streamed.usage).toMatchObject({ completion_tokens: 14 });
    } finally {
      upstream.callTools = false;
    }
  });
});
