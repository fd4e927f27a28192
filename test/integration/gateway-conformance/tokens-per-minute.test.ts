import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { conformanceConfig } from '../../support/gateway-config.js';
import { openAiAnswer } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { plainTenant, startConformanceGateway, type ConformanceGateway } from './setup.js';
import { runPythonCode } from '../../support/python-zygote.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * A tier's tokens per minute (`limits.tokensPerMinute`) on `tessera serve`, as the official Node client sees it: the
 * answers' `x-ratelimit-*-tokens` state the minute's limit, and a request whose reservation (input estimate + completion
 * limit) does not fit what the minute has left is OpenAI's TPM 429, a `RateLimitError` with `type: "tokens"`.
 * The clock is held (Date only) so that the requests fall in one UTC minute.
 */
const MODEL = 'openai-compatible/default';
const TPM = 120;
const config = () => {
  const c = conformanceConfig();
  const enterprise = c.tiers.enterprise;
  // The model may answer 4,096 tokens, far over the minute's 120: what a request without max_tokens is not reserved on.
  const gateway = { ...c.gateway, models: c.gateway.models.map((m) => (m.id === MODEL ? { ...m, maxOutputTokens: 4096 } : m)) };
  return { ...c, gateway, tiers: { ...c.tiers, enterprise: { ...enterprise, limits: { ...enterprise.limits, tokensPerMinute: TPM } } } };
};
let env: ConformanceGateway;

beforeAll(async () => {
  env = await startConformanceGateway({ config: config(), tenants: [plainTenant('tpm'), plainTenant('large'), plainTenant('nomax'), plainTenant('pyapp')] });
});
afterAll(async () => {
  vi.useRealTimers();
  await env?.stop();
});

describe('tokens per minute (tessera serve, the official Node client)', () => {
  it('states the minute\'s tokens in the served headers, then refuses a request the minute cannot take with a RateLimitError of type tokens', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const client = nodeClient(env.gw.url, env.tokens.tpm);
    const before = env.upstream.requests.length;
    env.upstream.script({ body: openAiAnswer('text') }); // usage: 40 tokens
    const { response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 50 }).withResponse();
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe(String(TPM));
    const remaining = Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeLessThan(TPM - 50); // the reservation: the input estimate and the 50 completion tokens
    expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(\d+s|\d+ms)$/);

    const e = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 100 }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    const err = e as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err.status).toBe(429);
    expect(err.type).toBe('tokens');
    expect(err.code).toBe('rate_limit_exceeded');
    const [, used, requested] = /^Rate limit reached for openai-compatible\/default for tenant tpm on tokens per min \(TPM\): Limit 120, Used (\d+), Requested (\d+)\. Please try again in [\d.]+s\.$/.exec((err.error as { message: string }).message)!.map(Number);
    expect(used).toBeGreaterThanOrEqual(40);
    expect(used + requested).toBeGreaterThan(TPM);
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(err.headers.get('retry-after-ms'))).toBeLessThanOrEqual(60_000);
    expect(err.headers.get('x-ratelimit-limit-tokens')).toBe(String(TPM));
    expect(err.headers.get('x-ratelimit-remaining-tokens')).toBe(String(TPM - used));
    expect(err.headers.get('x-tessera-limit-scope')).toBe('tenant');
    expect(err.headers.get('x-should-retry')).toBeNull();
    expect(env.upstream.requests.length - before).toBe(1); // the refused one never reached it
  });

  it('a request without max_tokens is admitted on its input (not the model\'s 4,096-token maximum, over the whole minute), its real usage counted when it settles', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const client = nodeClient(env.gw.url, env.tokens.nomax);
    const ask = async () => {
      env.upstream.script({ body: openAiAnswer('text') }); // usage: 40 tokens
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }] }).withResponse();
      expect(data.choices[0].message.content).toBeTruthy();
      return Number(response.headers.get('x-ratelimit-remaining-tokens'));
    };
    const first = await ask();
    expect(first).toBeGreaterThan(TPM - 40); // only the input estimate counted at admission
    const second = await ask();
    expect(second).toBeLessThan(TPM - 40); // the first one's 40 tokens, settled, and this one's input
  });

  it('a request larger than the whole minute: "Request too large", x-should-retry false', async () => {
    const client = nodeClient(env.gw.url, env.tokens.large);
    const e = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(200) }], max_tokens: 10 }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    const err = e as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err.type).toBe('tokens');
    expect((err.error as { message: string }).message).toMatch(/^Request too large for openai-compatible\/default for tenant large on tokens per min \(TPM\): Limit 120, Requested \d+\. The input or output tokens must be reduced/);
    expect(err.headers.get('x-should-retry')).toBe('false');
  });

  it('python: a chat without max_tokens is answered; one larger than the minute is a RateLimitError of type tokens, not retried', async () => {
    env.upstream.script({ body: openAiAnswer('text') });
    const code = `
import json, sys
import openai
from openai import OpenAI
base, key = sys.argv[1:3]
c = OpenAI(base_url=base, api_key=key, max_retries=2)
out = {"answer": c.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": "Say hi."}]).choices[0].message.content}
try:
    c.chat.completions.create(model="${MODEL}", messages=[{"role": "user", "content": "word " * 200}])
except openai.RateLimitError as e:
    out["error"] = {"status": e.status_code, "type": e.type, "code": e.code, "retry": e.response.headers.get("x-should-retry")}
print(json.dumps(out))
`;
    const before = env.upstream.requests.length;
    const out = JSON.parse((await runPythonCode(code, [env.gw.url, env.tokens.pyapp])).stdout);
    expect(out.answer).toBeTruthy();
    expect(out.error).toEqual({ status: 429, type: 'tokens', code: 'rate_limit_exceeded', retry: 'false' });
    expect(env.upstream.requests.length - before).toBe(1); // the answered one only
  });
});
