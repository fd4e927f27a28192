// Streams and whole answers held to the tenant's Bedrock output guardrail and to the output limit
// (found by the hostile gw2 test: streams skipped the output guardrail; an upstream that ignores
// max_tokens spent past the tenant's cap and budgets).
import { mockBedrockRuntime } from '../support/bedrock-strict.js';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GUARD_CONTEXT_CHARS, GUARD_WINDOW_CHARS } from '../../lambdas/inference/chat/output-guard.js';
import { overrunCeiling } from '../../lambdas/inference/chat/output-limit.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countCompletionTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serveGateway } from '../support/local-gateway.js';
import { configWith } from '../support/config-with.js';

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const BIG = 'openai-compatible/big';
const SMALL = 'openai-compatible/default';
const guardrails = (bedrockGuardrailId?: string) => ({ redactPii: false, redactResponses: false, promptInjectionScreen: false, ...(bedrockGuardrailId ? { bedrockGuardrailId } : {}) });

beforeAll(async () => {
  await loadTokenizer();
  upstream = await new FakeUpstream().start();
  const model = (id: string, up: string, maxOutputTokens: number) => ({ id, upstream: up, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens });
  const config = configWith({ gateway: { models: [model(SMALL, 'default', 100), model(BIG, 'big', 50_000)], upstreamRetries: 0, upstreamTimeoutMs: 5000 } });
  gw = await serveGateway(config, upstream.url, [
    localTenant('guarded', 'enterprise', { gateway: { fallbacks: [], guardrails: guardrails('grabc123:3'), auditPromptText: false } }),
    localTenant('plain', 'enterprise', { gateway: { fallbacks: [], guardrails: guardrails(), auditPromptText: false } }),
    localTenant('capped', 'enterprise', { gateway: { maxTokens: 20, fallbacks: [], guardrails: guardrails(), auditPromptText: false } }),
    localTenant('budget', 'enterprise', { gateway: { monthlyTokenBudget: 3000, fallbacks: [], guardrails: guardrails(), auditPromptText: false } }),
  ]);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
afterEach(() => upstream.reset());

const client = async (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: await gw.token(tenant), maxRetries: 0 });
const audit = (id: string) => gw.audit.records.find((r) => r.requestId === id)!;

/** Bedrock ApplyGuardrail mocked: INPUT passes; OUTPUT blocks a text containing `blockWord`. Returns the OUTPUT texts checked. */
async function mockGuardrail(blockWord: string) {
  const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
  const bedrock = mockBedrockRuntime();
  const outputs: string[][] = [];
  bedrock.on(ApplyGuardrailCommand).callsFake((input: { source: string; content: Array<{ text: { text: string } }> }) => {
    const texts = input.content.map((c) => c.text.text);
    if (input.source === 'OUTPUT') outputs.push(texts);
    const blocked = input.source === 'OUTPUT' && texts.some((t) => t.includes(blockWord));
    return blocked ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'I cannot share that answer.' }], assessments: [] } : { action: 'NONE', outputs: [], assessments: [] };
  });
  return { outputs, restore: () => bedrock.restore() };
}

async function readChat(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let id = '';
  for await (const chunk of stream) {
    id = chunk.id;
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return { text, finish, usage, id };
}

describe('a stream with the tenant\'s Bedrock output guardrail', () => {
  const prompt = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' '); // ~3,000 characters: four windows

  it('goes out in windows that passed ApplyGuardrail(OUTPUT), each with the text before it as context, the rest checked before the end', async () => {
    const g = await mockGuardrail('NEVER');
    try {
      const { text, finish } = await readChat(await (await client('guarded')).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: prompt }] }));
      expect(text).toBe(`echo: ${prompt}`);
      expect(finish).toBe('stop');
      expect(g.outputs.length).toBeGreaterThanOrEqual(Math.floor(text.length / (GUARD_WINDOW_CHARS + 6)));
      // Every character was checked; each check after the first starts with the end of the text before it.
      const checked = g.outputs.map((t) => t[0]);
      expect(checked[0].startsWith('echo: ')).toBe(true);
      let seen = checked[0];
      for (const window of checked.slice(1)) {
        const context = seen.slice(-GUARD_CONTEXT_CHARS);
        expect(window.startsWith(context)).toBe(true);
        expect(window.length).toBeLessThanOrEqual(GUARD_CONTEXT_CHARS + GUARD_WINDOW_CHARS + 6);
        seen += window.slice(context.length);
      }
      expect(seen).toBe(text);
    } finally {
      g.restore();
    }
  });

  it('ends with the guardrail\'s text and content_filter when a window is blocked, and closes the upstream (chat)', async () => {
    const g = await mockGuardrail('w900');
    upstream.ignoreLimits = { words: 3000, usage: true };
    try {
      const c = await client('guarded');
      const { text, finish, usage, id } = await readChat(await c.chat.completions.create({ model: BIG, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }));
      expect(finish).toBe('content_filter');
      expect(text.endsWith('I cannot share that answer.')).toBe(true);
      expect(text).not.toContain('w900');
      expect(text.startsWith('w0 w1 w2')).toBe(true);
      expect(upstream.overrunStreams[0].written).toBeLessThan(upstream.overrunStreams[0].total);
      expect(usage!.completion_tokens).toBeGreaterThan(0); // billed: what was produced
      expect(audit(id)).toMatchObject({ outcome: 'guardrail_blocked_answer', status: 200 });
      // The SDK's stream helper takes it as a filtered answer too.
      upstream.reset();
      upstream.ignoreLimits = { words: 3000, usage: true };
      const final = await c.chat.completions.stream({ model: BIG, messages: [{ role: 'user', content: 'go' }] }).finalChatCompletion();
      expect(final.choices[0].finish_reason).toBe('content_filter');
    } finally {
      g.restore();
    }
  });

  it('ends a Responses stream as incomplete with reason content_filter, as the whole answer', async () => {
    const g = await mockGuardrail('w900');
    upstream.ignoreLimits = { words: 3000, usage: true };
    try {
      const c = await client('guarded');
      const streamed = await c.responses.stream({ model: BIG, input: 'go' }).finalResponse();
      expect(streamed.status).toBe('incomplete');
      expect(streamed.incomplete_details).toEqual({ reason: 'content_filter' });
      expect(streamed.output_text.endsWith('I cannot share that answer.')).toBe(true);
      expect(streamed.output_text).not.toContain('w900');
      upstream.ignoreLimits = { words: 3000, usage: true };
      const whole = await c.responses.create({ model: BIG, input: 'go' });
      expect([whole.status, whole.incomplete_details]).toEqual(['incomplete', { reason: 'content_filter' }]);
    } finally {
      g.restore();
    }
  });

  it('blocks a short answer at its end, before [DONE] (the gw2 repro)', async () => {
    const g = await mockGuardrail('secret');
    try {
      const c = await client('guarded');
      const streamed = await c.chat.completions.stream({ model: SMALL, messages: [{ role: 'user', content: 'tell me the secret' }] }).finalChatCompletion();
      expect([streamed.choices[0].finish_reason, streamed.choices[0].message.content]).toEqual(['content_filter', 'I cannot share that answer.']);
      const r = await c.responses.stream({ model: SMALL, input: 'tell me the secret' }).finalResponse();
      expect([r.status, r.incomplete_details, r.output_text]).toEqual(['incomplete', { reason: 'content_filter' }, 'I cannot share that answer.']);
    } finally {
      g.restore();
    }
  });
});

describe('a stream whose output guardrail cannot be reached', () => {
  it('ends with an error event and never sends the unchecked text (fails closed)', async () => {
    const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const bedrock = mockBedrockRuntime();
    bedrock.on(ApplyGuardrailCommand, { source: 'INPUT' }).resolves({ action: 'NONE', outputs: [], assessments: [] } as never);
    bedrock.on(ApplyGuardrailCommand, { source: 'OUTPUT' }).rejects(new Error('ThrottlingException: slow down'));
    try {
      const stream = await (await client('guarded')).chat.completions.create({ model: SMALL, stream: true, messages: [{ role: 'user', content: 'hello' }] });
      let text = '';
      const err = await (async () => {
        for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      })().catch((e) => e);
      expect(err).toMatchObject({ code: 'guardrail_unavailable' });
      expect(text).toBe('');
    } finally {
      bedrock.restore();
    }
  });
});

describe('a stream without an output guardrail', () => {
  it('relays each chunk as it comes: no window, no ApplyGuardrail call', async () => {
    const g = await mockGuardrail('NEVER');
    const chunk = (content: string, finish: string | null = null) => ({ data: { id: 'u', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { content }, finish_reason: finish }] } });
    // The upstream sends the rest only once the client has the first chunk (a gate, not a pause): a gateway that held
    // the first chunk back would never relay it, and the test would time out.
    let firstReceived!: () => void;
    const clientHasFirst = new Promise<void>((r) => { firstReceived = r; });
    upstream.script({ events: [chunk('first '), { until: clientHasFirst }, chunk('second', 'stop'), { data: '[DONE]' }] });
    try {
      const stream = await (await client('plain')).chat.completions.create({ model: SMALL, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      const pieces: string[] = [];
      for await (const c of stream) {
        const piece = c.choices[0]?.delta?.content ?? '';
        if (!piece) continue;
        pieces.push(piece);
        if (pieces.length === 1) firstReceived();
      }
      expect(pieces).toEqual(['first ', 'second']);
      expect(g.outputs).toEqual([]);
    } finally {
      g.restore();
    }
  });
});

describe('the output limit, held by the gateway against an upstream that ignores it', () => {
  it('ends a chat stream with finish_reason length at the tenant\'s cap, closes the upstream, bills what was produced and warns', async () => {
    upstream.ignoreLimits = { words: 3000, usage: false };
    const { text, finish, usage, id } = await readChat(await (await client('capped')).chat.completions.create({ model: BIG, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }));
    expect(finish).toBe('length');
    // cut past the limit's margin for tokenizer differences (overrunCeiling: 20 + 16), not at the limit itself
    expect(countCompletionTokens(text)).toBeLessThanOrEqual(overrunCeiling(20));
    expect(countCompletionTokens(text)).toBeGreaterThan(20);
    expect(upstream.overrunStreams[0].written).toBeLessThan(upstream.overrunStreams[0].total);
    expect(usage!.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(usage!.completion_tokens).toBeLessThan(1000);
    expect(audit(id)).toMatchObject({ status: 200, usageEstimated: true, detail: { warning: 'upstream_overran_limit', outputLimit: 20 } });
  });

  it('holds a stream to the caller\'s max_tokens below the cap, and to the model\'s maximum with neither', async () => {
    const c = await client('capped');
    upstream.ignoreLimits = { words: 3000, usage: false };
    const low = await readChat(await c.chat.completions.create({ model: BIG, stream: true, max_tokens: 8, messages: [{ role: 'user', content: 'go' }] }));
    expect(low.finish).toBe('length');
    expect(countCompletionTokens(low.text)).toBeLessThanOrEqual(overrunCeiling(8));
    upstream.ignoreLimits = { words: 3000, usage: false };
    const open = await readChat(await (await client('plain')).chat.completions.create({ model: SMALL, stream: true, messages: [{ role: 'user', content: 'go' }] }));
    expect(open.finish).toBe('length');
    expect(countCompletionTokens(open.text)).toBeLessThanOrEqual(overrunCeiling(100));
    expect(countCompletionTokens(open.text)).toBeGreaterThan(100);
  });

  it('cuts a whole chat answer to the cap with finish_reason length, bills the reported usage and warns', async () => {
    upstream.ignoreLimits = { words: 3000, usage: true };
    const out = await (await client('capped')).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'go' }] });
    expect(out.choices[0].finish_reason).toBe('length');
    expect(countCompletionTokens(out.choices[0].message.content!)).toBeLessThanOrEqual(overrunCeiling(20));
    expect(out.choices[0].message.content!.startsWith('w0 w1')).toBe(true);
    expect(out.usage!.completion_tokens).toBe(3000);
    expect(audit(out.id)).toMatchObject({ completionTokens: 3000, detail: { warning: 'upstream_overran_limit', outputLimit: 20, reportedCompletionTokens: 3000 } });
  });

  it('refuses a whole answer whose tool calls pass the limit with 502 upstream_overrun, and bills it', async () => {
    upstream.ignoreLimits = { words: 3000, usage: true, toolCall: true };
    const err = await (await client('capped')).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] }).catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'upstream_overrun' });
    const record = gw.audit.records.at(-1)!;
    expect(record).toMatchObject({ status: 502, completionTokens: 3000, detail: { warning: 'upstream_overran_limit' } });
  });

  it('a 502 upstream_overrun says x-should-retry: false: the Node client with its default retries calls the upstream once, not three times, each billed', async () => {
    upstream.ignoreLimits = { words: 3000, usage: true, toolCall: true };
    const sdk = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('capped'), maxRetries: 2 }); // openai-node's default
    const err = await sdk.chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] }).catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'upstream_overrun' });
    expect(err.headers.get('x-should-retry')).toBe('false');
    expect(upstream.requests).toHaveLength(1);
  });

  it('ends a streamed tool call at the limit with finish_reason length', async () => {
    upstream.ignoreLimits = { words: 3000, usage: false, toolCall: true };
    const stream = await (await client('capped')).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('length');
    expect(countCompletionTokens(`f${args}`)).toBeLessThanOrEqual(overrunCeiling(20));
  });

  it('ends a Responses stream and a whole Response as incomplete (max_output_tokens) at the cap', async () => {
    const c = await client('capped');
    upstream.ignoreLimits = { words: 3000, usage: false };
    const streamed = await c.responses.stream({ model: BIG, input: 'go' }).finalResponse();
    expect([streamed.status, streamed.incomplete_details]).toEqual(['incomplete', { reason: 'max_output_tokens' }]);
    expect(countCompletionTokens(streamed.output_text)).toBeLessThanOrEqual(overrunCeiling(20));
    expect(upstream.overrunStreams[0].written).toBeLessThan(upstream.overrunStreams[0].total);
    upstream.ignoreLimits = { words: 3000, usage: true };
    const whole = await c.responses.create({ model: BIG, input: 'go', max_output_tokens: 16 });
    expect([whole.status, whole.incomplete_details]).toEqual(['incomplete', { reason: 'max_output_tokens' }]);
    expect(countCompletionTokens(whole.output_text)).toBeLessThanOrEqual(overrunCeiling(16));
    expect(whole.usage!.output_tokens).toBe(3000);
  });

  it('does not cut an upstream that honours the limit in its own tokenizer: its reported count within the limit, or an o200k count within the margin', async () => {
    // 12 words that o200k counts as more than the tenant's cap of 20, which the upstream's tokenizer counts as 18
    upstream.ignoreLimits = { words: 12, usage: true, reportedCompletionTokens: 18 };
    const whole = await (await client('capped')).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'go' }] });
    const text = whole.choices[0].message.content!;
    expect(countCompletionTokens(text)).toBeGreaterThan(20);
    expect([whole.choices[0].finish_reason, text.endsWith('w11')]).toEqual(['stop', true]);
    expect(audit(whole.id).detail?.warning).toBeUndefined();
    upstream.ignoreLimits = { words: 12, usage: true, reportedCompletionTokens: 18 };
    const streamed = await readChat(await (await client('capped')).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: 'go' }] }));
    expect(countCompletionTokens(streamed.text)).toBeLessThanOrEqual(overrunCeiling(20));
    expect([streamed.finish, streamed.text]).toEqual(['stop', text]);
  });

  it('closes an upstream that ignores n as well as the limit, and counts streamed reasoning_content toward the limit', async () => {
    const c = await client('plain');
    // n: 2 asked, one choice of 3,000 words sent: choice 0 is cut, and the upstream is closed once more than the request's whole limit was dropped
    upstream.ignoreLimits = { words: 3000, usage: false };
    const two = await readChat(await c.chat.completions.create({ model: SMALL, stream: true, n: 2, max_tokens: 20, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }));
    expect(two.finish).toBe('length');
    expect(upstream.overrunStreams.at(-1)!.written).toBeLessThan(upstream.overrunStreams.at(-1)!.total);
    expect(two.usage!.completion_tokens).toBeLessThan(2000); // read until ~1,024 tokens past the limit, of the upstream's ~6,000
    // thinking streamed as reasoning_content is output: held to the limit too
    upstream.ignoreLimits = { words: 3000, usage: false, reasoning: true };
    const thinking = await readChat(await c.chat.completions.create({ model: SMALL, stream: true, max_tokens: 50, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }));
    expect(thinking.finish).toBe('length');
    expect(upstream.overrunStreams.at(-1)!.written).toBeLessThan(upstream.overrunStreams.at(-1)!.total);
    expect(thinking.usage!.completion_tokens).toBeGreaterThan(50);
    expect(thinking.usage!.completion_tokens).toBeLessThan(300);
  });

  it('holds each choice of a whole n > 1 answer to the limit, whatever the reported total says', async () => {
    // one choice of 30 words (o200k: more than the limit's margin), reported as 30 tokens: within 2 × 20 as a total, not as a choice
    upstream.ignoreLimits = { words: 30, usage: true };
    const out = await (await client('plain')).chat.completions.create({ model: SMALL, n: 2, max_tokens: 20, messages: [{ role: 'user', content: 'go' }] });
    expect(out.choices[0].finish_reason).toBe('length');
    expect(countCompletionTokens(out.choices[0].message.content!)).toBeLessThanOrEqual(overrunCeiling(20));
  });

  it('does not believe a reported count far below what the answer holds: 5 reported for 3,000 words is cut', async () => {
    upstream.ignoreLimits = { words: 3000, usage: true, reportedCompletionTokens: 5 };
    const out = await (await client('capped')).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'go' }] });
    expect(out.choices[0].finish_reason).toBe('length');
    expect(countCompletionTokens(out.choices[0].message.content!)).toBeLessThanOrEqual(overrunCeiling(20));
  });

  it('keeps a monthly token budget: a max_tokens 50 stream spends about 50 completion tokens, not the upstream\'s 3,000 words', async () => {
    upstream.ignoreLimits = { words: 3000, usage: false };
    const { finish, id } = await readChat(await (await client('budget')).chat.completions.create({ model: BIG, stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'go' }] }));
    expect(finish).toBe('length');
    const record = audit(id);
    expect(record.completionTokens).toBeGreaterThanOrEqual(50);
    expect(record.completionTokens).toBeLessThan(200);
  });
});
