import { mockBedrockRuntime } from '../support/bedrock-strict.js';
import { runPythonCode } from '../support/python-zygote.js';
// Streams through the served gateway at the edges of the output guardrail (ApplyGuardrail mocked: FORBIDDEN blocks,
// e-mail addresses are masked) and of redactResponses, with the official clients: reasoning the caller sees
// (reasoning_content, reasoning), n=2 streams, a stream cut in the middle of a held tool call (the caller gets the error,
// never half a call), a guardrail that fails mid-stream (asked once), and the Python stream helper assembling n=2
// choices that share chunks.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { loadTokenizer } from '../../lambdas/inference/token-count.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serveGateway } from '../support/local-gateway.js';
import { configWith } from '../support/config-with.js';

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let bedrock: { restore(): void };
/** The texts of each ApplyGuardrail(OUTPUT) call, and whether those calls fail (Bedrock unreachable). */
const checks: string[][] = [];
let guardFails = false;
const BIG = 'openai-compatible/big';
const EMAIL = /[A-Za-z0-9._]+@[A-Za-z0-9]+\.[a-z]{2,}/g;

beforeAll(async () => {
  await loadTokenizer();
  upstream = await new FakeUpstream().start();
  const config = configWith({ gateway: { models: [{ id: BIG, upstream: 'big', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 50_000 }], upstreamRetries: 0, upstreamTimeoutMs: 5000 } });
  const base = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  gw = await serveGateway(config, upstream.url, [
    localTenant('guarded', 'enterprise', { gateway: { fallbacks: [], guardrails: { ...base, bedrockGuardrailId: 'grabc123:3' }, auditPromptText: false } }),
    localTenant('redacting', 'enterprise', { gateway: { fallbacks: [], guardrails: { ...base, redactResponses: true }, auditPromptText: false } }),
  ]);
  const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
  const client = mockBedrockRuntime();
  // OUTPUT: blocks a text with FORBIDDEN; masks e-mail addresses (ANONYMIZE).
  client.on(ApplyGuardrailCommand).callsFake((input: { source: string; content: Array<{ text: { text: string } }> }) => {
    const texts = input.content.map((c) => c.text.text);
    if (input.source !== 'OUTPUT') return { action: 'NONE', outputs: [], assessments: [] };
    checks.push(texts);
    if (guardFails) throw Object.assign(new Error('Bedrock is unreachable'), { name: 'ServiceUnavailableException' });
    if (texts.some((t) => t.includes('FORBIDDEN'))) return { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'blocked by guardrail' }], assessments: [] };
    const matches = texts.flatMap((t) => t.match(EMAIL) ?? []);
    if (!matches.length) return { action: 'NONE', outputs: [], assessments: [] };
    return { action: 'GUARDRAIL_INTERVENED', outputs: texts.map((t) => ({ text: t.replace(EMAIL, '{EMAIL}') })), assessments: [{ sensitiveInformationPolicy: { piiEntities: matches.map((match) => ({ type: 'EMAIL', match, action: 'ANONYMIZED', detected: true })), regexes: [] } }] };
  });
  bedrock = client;
});
afterAll(async () => {
  bedrock?.restore();
  await gw?.stop();
  await upstream?.stop();
});
afterEach(() => {
  upstream.reset();
  checks.length = 0;
  guardFails = false;
});

const client = async (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: await gw.token(tenant), maxRetries: 0 });
const chunk = (choices: unknown[]) => ({ data: { id: 'up', object: 'chat.completion.chunk', created: 1, model: 'big', choices } });
const c = (index: number, delta: Record<string, unknown>, finish: string | null = null) => ({ index, delta, finish_reason: finish, logprobs: null });

describe('reasoning the caller sees, past the output guardrail and redaction', () => {
  for (const tenant of ['guarded', 'redacting']) {
    it(`${tenant}: a streamed reasoning_content with FORBIDDEN and an address is not shown as it came`, async () => {
      upstream.script({ events: [chunk([c(0, { role: 'assistant', content: '', reasoning_content: 'FORBIDDEN plan; write to bob@example.com ' })]), chunk([c(0, { content: 'fine' }, 'stop')]), { data: '[DONE]' }] });
      const raw: unknown[] = [];
      for await (const ch of await (await client(tenant)).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'hi' }] })) raw.push(ch);
      expect(JSON.stringify(raw)).not.toMatch(tenant === 'guarded' ? /FORBIDDEN|bob@example\.com/ : /bob@example\.com/);
      if (tenant === 'guarded') expect((raw as OpenAI.ChatCompletionChunk[]).flatMap((x) => x.choices.map((y) => y.finish_reason)).filter(Boolean)).toEqual(['content_filter']);
      else expect(JSON.stringify(raw)).toContain('[EMAIL]');
    });

    it(`${tenant}: a whole answer's reasoning_content with FORBIDDEN and an address is not shown as it came`, async () => {
      upstream.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'big', choices: [{ index: 0, message: { role: 'assistant', content: 'fine', reasoning_content: 'FORBIDDEN plan; write to bob@example.com' }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } } });
      const out = await (await client(tenant)).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'hi' }] });
      expect(JSON.stringify(out)).not.toMatch(tenant === 'guarded' ? /FORBIDDEN|bob@example\.com/ : /bob@example\.com/);
      expect(out.choices[0].finish_reason).toBe(tenant === 'guarded' ? 'content_filter' : 'stop');
    });
  }
});

describe('n=2 through the Node stream helper', () => {
  it('a tool call in one choice and masked content in the other, in shared chunks, assemble as the whole answer would', async () => {
    upstream.script({ events: [
      chunk([c(0, { role: 'assistant', content: '' }), c(1, { role: 'assistant', content: 'mail dave@' })]),
      chunk([c(0, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'send', arguments: '{"to":"carol@' } }] }), c(1, { content: 'example.com now' })]),
      chunk([c(0, { tool_calls: [{ index: 0, function: { arguments: 'example.com"}' } }] }, 'tool_calls'), c(1, { content: ' ok' })]),
      chunk([c(1, {}, 'stop')]),
      { data: '[DONE]' },
    ] });
    const s = (await client('guarded')).chat.completions.stream({ model: BIG, n: 2, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'send', parameters: { type: 'object' } } }] });
    const final = await s.finalChatCompletion();
    // Choice 0's first delta carries content '': openai 7 keeps it (6.x's helper made it null).
    expect(final.choices.map((x) => ({ content: x.message.content, calls: x.message.tool_calls?.map((t) => (t.type === 'function' ? t.function.arguments : t.custom.input)), finish: x.finish_reason }))).toEqual([
      { content: '', calls: ['{"to":"{EMAIL}"}'], finish: 'tool_calls' },
      { content: 'mail {EMAIL} now ok', calls: undefined, finish: 'stop' },
    ]);
  });
});

describe('masked reasoning', () => {
  it('a guardrail that masks streamed reasoning blocks the answer (it cannot be shown masked)', async () => {
    upstream.script({ events: [chunk([c(0, { role: 'assistant', content: '', reasoning_content: 'think of bob@example.com ' })]), chunk([c(0, { content: 'fine' }, 'stop')]), { data: '[DONE]' }] });
    const raw: OpenAI.ChatCompletionChunk[] = [];
    for await (const ch of await (await client('guarded')).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'hi' }] })) raw.push(ch);
    expect(JSON.stringify(raw)).not.toContain('bob@example.com');
    expect(raw.flatMap((x) => x.choices.map((y) => y.finish_reason)).filter(Boolean)).toEqual(['content_filter']);
  });
});

const n2 = () => ({ events: [
  chunk([c(0, { role: 'assistant', content: '' }), c(1, { role: 'assistant', content: 'mail dave@' })]),
  chunk([c(0, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'send', arguments: '{"to":"carol@' } }] }), c(1, { content: 'example.com now' })]),
  chunk([c(0, { tool_calls: [{ index: 0, function: { arguments: 'example.com"}' } }] }, 'tool_calls'), c(1, { content: ' ok' })]),
  chunk([c(1, {}, 'stop')]),
  { data: '[DONE]' },
] });

const PY = `
import json, sys
from openai import OpenAI
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
tools = [{"type": "function", "function": {"name": "send", "strict": True, "parameters": {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"], "additionalProperties": False}}}]
with c.chat.completions.stream(model=sys.argv[3], n=2, messages=[{"role": "user", "content": "hi"}], tools=tools) as s:
    for _ in s: pass
    f = s.get_final_completion()
print(json.dumps([{"content": x.message.content, "calls": [t.function.arguments for t in (x.message.tool_calls or [])], "parsed": [t.function.parsed_arguments for t in (x.message.tool_calls or [])], "finish": x.finish_reason} for x in f.choices]))
`;

describe('the Python stream helper on n=2 (a held tool call beside masked content, in shared chunks)', () => {
  for (const tenant of ['guarded', 'redacting']) {
    it(`${tenant}: get_final_completion assembles both choices`, async () => {
      upstream.script(n2());
      const { stdout } = await runPythonCode(PY, [gw.url, await gw.token(tenant), BIG]);
      const label = tenant === 'guarded' ? '{EMAIL}' : '[EMAIL]';
      expect(JSON.parse(stdout)).toEqual([
        { content: '', calls: [`{"to":"${label}"}`], parsed: [{ to: label }], finish: 'tool_calls' },
        { content: `mail ${label} now ok`, calls: [], parsed: [], finish: 'stop' },
      ]);
    });
  }
});

describe('a stream cut in the middle of a held tool call', () => {
  for (const tenant of ['guarded', 'redacting']) {
    it(`${tenant}: an upstream error event after half a tool call: the caller gets the error, no half call`, async () => {
      upstream.script({ events: [
        chunk([c(0, { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'send', arguments: '{"to":"x' } }] })]),
        { data: { error: { message: 'upstream exploded', type: 'server_error' } } },
      ] });
      const raw: OpenAI.ChatCompletionChunk[] = [];
      let error: unknown;
      try {
        for await (const ch of await (await client(tenant)).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'hi' }] })) raw.push(ch);
      } catch (e) {
        error = e;
      }
      expect(String(error)).toMatch(/exploded|interrupted/);
      expect(raw.flatMap((x) => x.choices.flatMap((y) => y.delta.tool_calls ?? []))).toEqual([]);
    });
  }
});

describe('an output guardrail that fails mid-stream', () => {
  it('ends the stream with the error event, asked once: not again at the end (the SDK\'s own attempts are inside that one)', async () => {
    guardFails = true;
    upstream.script({ events: [
      chunk([c(0, { role: 'assistant', content: 'x'.repeat(800) })]),
      chunk([c(0, { content: 'more' }, 'stop')]),
      { data: '[DONE]' },
    ] });
    let error: unknown;
    try {
      for await (const _ of await (await client('guarded')).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'hi' }] })) { /* read */ }
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/guardrail/i);
    expect(checks).toHaveLength(1);
  });
});
