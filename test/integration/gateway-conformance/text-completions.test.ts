import { createServer, type IncomingMessage, type Server } from 'node:http';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { serveGateway } from '../../support/local-gateway.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/completions` (OpenAI's legacy text completions) on `tessera serve` against an openai-compatible upstream
 * (a vLLM-like fake in this file, recording what it got), through the official Node client, the official Python client
 * and LangChain Python's `OpenAI` LLM class: each sees what the upstream answered, the upstream each field as sent.
 */
const INSTRUCT = { id: 'openai-compatible/instruct', upstream: 'instruct-base', kind: 'completion' as const, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 256 };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, INSTRUCT] } };
};

/** What the fake upstream got: path and body of each POST .../completions. */
const got: Array<{ path: string; body: Record<string, any> }> = [];
const USAGE = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
const LOGPROBS = { tokens: [' Hi'], token_logprobs: [-0.1], top_logprobs: [{ ' Hi': -0.1 }], text_offset: [0] };

/** A vLLM-like `/completions`: one choice per prompt × n, `text` = "<echo?> done <i>", logprobs when asked, usage; SSE when streamed. */
function answer(body: Record<string, any>) {
  const prompts = Array.isArray(body.prompt) && typeof body.prompt[0] !== 'number' ? body.prompt : [body.prompt];
  const choices = prompts.flatMap((p: unknown, k: number) => Array.from({ length: body.n ?? 1 }, (_, j) => {
    const index = k * (body.n ?? 1) + j;
    return { index, text: `${body.echo ? String(p) : ''} done ${index}`, logprobs: body.logprobs != null ? LOGPROBS : null, finish_reason: 'length', stop_reason: null };
  }));
  return { id: 'cmpl-upstream', object: 'text_completion', created: 1_700_000_000, model: 'instruct-base', system_fingerprint: 'fp_vllm', choices, usage: USAGE };
}

async function upstreamServer(): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw || '{}');
    got.push({ path: req.url ?? '', body });
    if (!req.url?.endsWith('/completions') || req.url.endsWith('/chat/completions')) return void res.writeHead(404).end('{}');
    const whole = answer(body);
    if (!body.stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(whole));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const choice of whole.choices) {
      for (const piece of [choice.text.slice(0, 3), choice.text.slice(3)]) {
        res.write(`data: ${JSON.stringify({ id: 'cmpl-upstream', object: 'text_completion', created: whole.created, model: 'instruct-base', choices: [{ index: choice.index, text: piece, logprobs: null, finish_reason: null }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ id: 'cmpl-upstream', object: 'text_completion', created: whole.created, model: 'instruct-base', choices: [{ index: choice.index, text: '', logprobs: null, finish_reason: 'length' }] })}\n\n`);
    }
    if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: 'cmpl-upstream', object: 'text_completion', created: whole.created, model: 'instruct-base', choices: [], usage: USAGE })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, server };
}

let env: { gw: Awaited<ReturnType<typeof serveGateway>>; tokens: Record<string, string> };
let up: { url: string; server: Server };
let client: OpenAI;
let guardedClient: OpenAI;
beforeAll(async () => {
  up = await upstreamServer();
  const tenants = [plainTenant('acme'), plainTenant('guarded', { guardrails: { redactPii: true, redactResponses: true, promptInjectionScreen: false } }), plainTenant('capped', { maxTokens: 8 })];
  const gw = await serveGateway(config(), up.url, tenants, { batches: { concurrency: 1 } });
  env = { gw, tokens: { acme: await gw.token('acme'), guarded: await gw.token('guarded'), capped: await gw.token('capped') } };
  client = new OpenAI({ baseURL: gw.url, apiKey: env.tokens.acme, maxRetries: 0 });
  guardedClient = new OpenAI({ baseURL: gw.url, apiKey: env.tokens.guarded, maxRetries: 0 });
});
afterAll(async () => {
  await env?.gw.stop();
  await new Promise((done) => up?.server.close(done));
});
beforeEach(() => void (got.length = 0));

const lastAudit = () => env.gw.audit.records.filter((a) => a.path === '/v1/completions').at(-1)!;

describe('POST /v1/completions with the official Node client', () => {
  it('relays every field as sent (user scoped to the tenant) and answers the upstream text_completion with the gateway id and catalog model; usage settles the budget', async () => {
    const params = { model: INSTRUCT.id, prompt: 'Say hi', max_tokens: 20, temperature: 0.3, top_p: 0.9, stop: ['\n'], seed: 7, suffix: ' end', presence_penalty: 0.1, frequency_penalty: 0.2, logit_bias: { '50256': -100 }, user: 'u-1', best_of: 2, min_tokens: 3 } as any;
    const c = await client.completions.create(params);
    expect(c).toMatchObject({ object: 'text_completion', model: INSTRUCT.id, system_fingerprint: 'fp_vllm', choices: [{ index: 0, text: ' done 0', finish_reason: 'length' }], usage: USAGE });
    expect(c.id).toMatch(/^cmpl-/);
    expect(got).toHaveLength(1);
    expect(got[0].path).toBe('/v1/completions');
    expect(got[0].body).toEqual({ ...params, model: 'instruct-base', user: tenantEndUserId('acme', 'u-1') });
    await env.gw.settled();
    expect(lastAudit()).toMatchObject({ status: 200, model: INSTRUCT.id, promptTokens: 5, completionTokens: 7, usageEstimated: false, detail: { endUser: 'u-1' } });
    expect(lastAudit().costUsd).toBeCloseTo((5 * 0.001 + 7 * 0.002) / 1000, 12);
  });

  it('n=2 and echo with logprobs pass through', async () => {
    const c = await client.completions.create({ model: INSTRUCT.id, prompt: 'Tell', n: 2, echo: true, logprobs: 1 });
    expect(c.choices.map((x) => x.text)).toEqual(['Tell done 0', 'Tell done 1']);
    expect(c.choices[0].logprobs).toEqual(LOGPROBS);
    expect(got[0].body).toMatchObject({ n: 2, echo: true, logprobs: 1 });
    expect(got[0].body.max_tokens).toBe(16); // OpenAI's default, sent: the upstream's default may be larger (llama.cpp, Ollama: none)
  });

  it('max_tokens absent or null is OpenAI\'s 16, sent to the upstream (vLLM reads null as "up to the context"), at most the tenant\'s cap', async () => {
    await client.completions.create({ model: INSTRUCT.id, prompt: 'x', max_tokens: null });
    expect(got.at(-1)!.body.max_tokens).toBe(16);
    const capped = new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.capped, maxRetries: 0 });
    // The caller sent no max_tokens: not a 400 naming a field it did not send, but the tenant's cap (8) sent.
    await capped.completions.create({ model: INSTRUCT.id, prompt: 'x' });
    expect(got.at(-1)!.body.max_tokens).toBe(8);
    const over = await capped.completions.create({ model: INSTRUCT.id, prompt: 'x', max_tokens: 9 }).catch((x: unknown) => x);
    expect(over).toBeInstanceOf(OpenAI.BadRequestError);
    expect((over as any).error).toMatchObject({ param: 'max_tokens', code: 'max_tokens_exceeded' });
  });

  it('streams text_completion chunks and the usage chunk with include_usage (for await)', async () => {
    const stream = await client.completions.create({ model: INSTRUCT.id, prompt: ['a', 'b'], stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((k) => k.object === 'text_completion' && k.model === INSTRUCT.id && k.id.startsWith('cmpl-'))).toBe(true);
    const text = (i: number) => chunks.flatMap((k) => k.choices.filter((x) => x.index === i).map((x) => x.text)).join('');
    expect([text(0), text(1)]).toEqual([' done 0', ' done 1']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: USAGE });
    expect(got[0].body).toMatchObject({ prompt: ['a', 'b'], stream: true, stream_options: { include_usage: true } });
  });

  it('a stream without include_usage carries no usage (the gateway asked the upstream for it all the same)', async () => {
    const stream = await client.completions.create({ model: INSTRUCT.id, prompt: 'a', stream: true });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((k) => k.usage)).toBe(false);
    expect(got[0].body.stream_options).toEqual({ include_usage: true });
    await env.gw.settled();
    expect(lastAudit()).toMatchObject({ promptTokens: 5, completionTokens: 7, usageEstimated: false, stream: true });
  });

  it('a bad field is OpenAI\'s 400 naming it: prompt missing, logprobs 6, best_of under n or streamed, stream_options.include_obfuscation not a boolean, stream_options without stream: true', async () => {
    for (const [body, param] of [[{ model: INSTRUCT.id }, 'prompt'], [{ model: INSTRUCT.id, prompt: 'x', logprobs: 6 }, 'logprobs'], [{ model: INSTRUCT.id, prompt: 'x', best_of: 2, n: 3 }, 'best_of'], [{ model: INSTRUCT.id, prompt: 'x', best_of: 2, stream: true }, 'best_of'], [{ model: INSTRUCT.id, prompt: 'x', stream: true, stream_options: { include_obfuscation: 'yes' } }, 'stream_options.include_obfuscation'], [{ model: INSTRUCT.id, prompt: 'x', stream_options: { include_usage: true } }, 'stream_options'], [{ model: INSTRUCT.id, prompt: 'x', stream: false, stream_options: { include_obfuscation: false } }, 'stream_options']] as const) {
      const e = await client.completions.create(body as any).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect(got).toHaveLength(0);
  });

  it('a chat model is a 400 model_kind_mismatch; a guarded tenant refuses a token-id prompt naming prompt, and redacts prompt strings', async () => {
    const kind = await client.completions.create({ model: 'openai-compatible/default', prompt: 'x' }).catch((x: unknown) => x);
    expect((kind as any).error).toMatchObject({ param: 'model', code: 'model_kind_mismatch' });
    const ids = await guardedClient.completions.create({ model: INSTRUCT.id, prompt: [1, 2, 3] }).catch((x: unknown) => x);
    expect((ids as any).status).toBe(400);
    expect((ids as any).error).toMatchObject({ param: 'prompt', code: 'unscreenable_input' });
    expect(got).toHaveLength(0);
    await client.completions.create({ model: INSTRUCT.id, prompt: [1, 2, 3] }); // no guardrail on acme: passed as sent
    expect(got[0].body.prompt).toEqual([1, 2, 3]);
    await guardedClient.completions.create({ model: INSTRUCT.id, prompt: 'mail me at ada@example.com' });
    expect(got[1].body.prompt).not.toContain('ada@example.com');
  });

  it('runs as a Batch API endpoint: each line a text completion with the guardrails of a live one, answers by custom_id', async () => {
    const line = (customId: string, body: Record<string, unknown>) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/completions', body: { model: INSTRUCT.id, ...body } });
    const lines = [line('plain', { prompt: 'Say hi', max_tokens: 8 }), line('two', { prompt: ['a', 'mail ada@example.com'] }), line('ids', { prompt: [1, 2, 3] })];
    const file = await guardedClient.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'requests.jsonl'), purpose: 'batch' });
    const created = await guardedClient.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
    let batch = created;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      await new Promise((r) => setTimeout(r, 20));
      batch = await guardedClient.batches.retrieve(created.id);
    }
    expect(batch).toMatchObject({ status: 'completed', endpoint: '/v1/completions', request_counts: { total: 3, completed: 2, failed: 1 } });
    const out = (await (await guardedClient.files.content(batch.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    const byId = Object.fromEntries(out.map((o) => [o.custom_id, o.response]));
    expect(byId.plain).toMatchObject({ status_code: 200, body: { object: 'text_completion', model: INSTRUCT.id, choices: [{ text: ' done 0' }], usage: USAGE } });
    expect(byId.plain.body.id).toMatch(/^cmpl-/);
    expect(byId.two.body.choices.map((c: { text: string }) => c.text)).toEqual([' done 0', ' done 1']);
    expect(got[1].body.prompt[1]).not.toContain('ada@example.com'); // redacted as on a live call
    const errors = (await (await guardedClient.files.content(batch.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(errors).toEqual([expect.objectContaining({ custom_id: 'ids', response: expect.objectContaining({ status_code: 400, body: { error: expect.objectContaining({ param: 'prompt', code: 'unscreenable_input' }) } }) })]);
    expect(got).toHaveLength(2);
  });
});

describe('POST /v1/completions from Python', () => {
  it('the official Python client and LangChain\'s OpenAI LLM class see the upstream\'s answer; the upstream sees their fields', async () => {
    const code = `
import json, sys
from openai import OpenAI
from langchain_openai import OpenAI as LangChainOpenAI
base, key, model = sys.argv[1:4]
client = OpenAI(base_url=base, api_key=key, max_retries=0)
c = client.completions.create(model=model, prompt="Say hi", max_tokens=9, n=2, logprobs=2, echo=True)
streamed = [k.model_dump() for k in client.completions.create(model=model, prompt="s", stream=True, stream_options={"include_usage": True})]
llm = LangChainOpenAI(base_url=base, api_key=key, model=model, max_retries=0, temperature=0.5, max_tokens=11)
said = llm.invoke("Hello")
print(json.dumps({"c": c.model_dump(), "streamed": streamed, "lc": said}))
`;
    const { stdout } = await runPythonCode(code, [env.gw.url, env.tokens.acme, INSTRUCT.id]);
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(out.c).toMatchObject({ object: 'text_completion', model: INSTRUCT.id, choices: [{ text: 'Say hi done 0', logprobs: LOGPROBS }, { text: 'Say hi done 1' }], usage: USAGE });
    expect(out.streamed.at(-1)).toMatchObject({ choices: [], usage: USAGE });
    expect(out.streamed.map((k: any) => k.choices.map((x: any) => x.text).join('')).join('')).toBe(' done 0');
    expect(out.lc).toBe(' done 0');
    expect(got.map((g) => g.body)).toEqual([
      expect.objectContaining({ model: 'instruct-base', prompt: 'Say hi', max_tokens: 9, n: 2, logprobs: 2, echo: true }),
      expect.objectContaining({ model: 'instruct-base', prompt: 's', stream: true }),
      expect.objectContaining({ model: 'instruct-base', prompt: ['Hello'], temperature: 0.5, max_tokens: 11 }),
    ]);
  });
});
