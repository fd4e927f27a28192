import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { conformanceConfig } from '../../support/gateway-config.js';
import { plainTenant, startConformanceGateway } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/completions` on `tessera serve` against an upstream that answers what is not a `Completion`: choices that
 * are not objects with a `text` string. Each is a 502 `upstream_invalid_answer` (a whole answer) or OpenAI's error
 * event (a stream), never a 500, and the usage the upstream reported is charged (it answered).
 */
const MODEL = { id: 'openai-compatible/instruct', upstream: 'instruct-base', kind: 'completion' as const, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 256 };
const USAGE = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
let env: Awaited<ReturnType<typeof startConformanceGateway>>;
let client: OpenAI;
beforeAll(async () => {
  const c = conformanceConfig();
  env = await startConformanceGateway({ config: { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, MODEL] } }, tenants: [plainTenant('acme')] });
  client = new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, maxRetries: 0 });
});
afterAll(async () => await env?.stop());
beforeEach(() => env.upstream.reset());

const lastAudit = () => env.gw.audit.records.filter((a) => a.path === '/v1/completions').at(-1)!;

describe('POST /v1/completions: an upstream answer that is not a Completion', () => {
  it.each([
    ['a null choice', [null]],
    ['a choice whose text is a number', [{ index: 0, text: 5, finish_reason: 'stop' }]],
    ['a choice that is a string', ['hello']],
  ])('whole, %s: a 502 upstream_invalid_answer (the Node client\'s InternalServerError), the reported usage charged', async (_, choices) => {
    env.upstream.script({ body: { id: 'up', object: 'text_completion', created: 1, model: 'instruct-base', choices, usage: USAGE } });
    const e = await client.completions.create({ model: MODEL.id, prompt: 'x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((e as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'upstream_error', code: 'upstream_invalid_answer', message: expect.stringMatching(/choices\[0\]/) });
    await env.gw.settled();
    expect(lastAudit()).toMatchObject({ status: 502, promptTokens: 3, completionTokens: 4 });
    expect(lastAudit().costUsd).toBeCloseTo((3 * 0.001 + 4 * 0.002) / 1000, 12);
  });

  it('streamed, a null choice after a good chunk: the good chunk, then OpenAI\'s error event naming the answer (no TypeError text), charged', async () => {
    env.upstream.script({ events: [{ data: { id: 'up', object: 'text_completion', created: 1, choices: [{ index: 0, text: 'a' }] } }, { data: { id: 'up', object: 'text_completion', created: 1, choices: [null] } }, { data: { id: 'up', object: 'text_completion', created: 1, choices: [], usage: USAGE } }] });
    const stream = await client.completions.create({ model: MODEL.id, prompt: 'x', stream: true });
    const texts: string[] = [];
    const e = await (async () => { for await (const c of stream) texts.push(c.choices[0]!.text); })().catch((x: unknown) => x);
    expect(texts).toEqual(['a']);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'upstream_invalid_answer', message: expect.stringMatching(/choices\[0\]/) });
    expect(String((e as Error).message)).not.toMatch(/Cannot read properties/);
    await env.gw.settled();
    expect(lastAudit()).toMatchObject({ status: 502 });
    expect(lastAudit().costUsd).toBeGreaterThan(0);
  });
});
