// A tenant's Bedrock guardrail that masks (a sensitive information filter set to ANONYMIZE) instead
// of blocking: Bedrock answers GUARDRAIL_INTERVENED for both, and every intervention used to be a
// block (a request with an e-mail address refused, an answer with one replaced by the blocked message).
import { mockBedrockRuntime } from '../support/bedrock-strict.js';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GUARD_CONTEXT_CHARS, GUARD_WINDOW_CHARS } from '../../lambdas/inference/chat/output-guard.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countCompletionTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serveGateway } from '../support/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { logSpy } from '../support/service-log.js';
import { PythonClient } from './gateway-conformance/clients.js';
import { nodeResponsesCall, PythonResponsesClient } from './responses-conformance/clients.js';

let upstream: FakeUpstream;
/** The Python client's driver, one for the file (the stream describes below use it). */
let python: PythonClient;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let bedrock: { restore(): void };
/** The texts of every ApplyGuardrail call, with its source. */
const checks: Array<{ source: string; texts: string[] }> = [];
const BIG = 'openai-compatible/big';
const EMBED = 'openai-compatible/embed';
const EMAIL = /[A-Za-z0-9._]+@[A-Za-z0-9]+\.[a-z]{2,}/g;
const mask = (text: string) => text.replace(EMAIL, '{EMAIL}');
/** Whether the mocked guardrail masks INPUT texts too (off for answers that echo the prompt). */
let maskInput = true;
/** A test's own ApplyGuardrail answer, in place of the masking one. */
let override: ((texts: string[], source: string) => unknown) | undefined;

/**
 * Bedrock ApplyGuardrail mocked as a guardrail whose EMAIL entity is set to ANONYMIZE: texts with
 * an address come back masked, one output per content block, the assessment saying ANONYMIZED.
 */
async function mockMaskingGuardrail() {
  const { ApplyGuardrailCommand } = await import('@aws-sdk/client-bedrock-runtime');
  const client = mockBedrockRuntime();
  client.on(ApplyGuardrailCommand).callsFake((input: { source: string; content: Array<{ text: { text: string } }> }) => {
    const texts = input.content.map((c) => c.text.text);
    checks.push({ source: input.source, texts });
    if (override) return override(texts, input.source);
    const matches = input.source === 'INPUT' && !maskInput ? [] : texts.flatMap((t) => t.match(EMAIL) ?? []);
    if (!matches.length) return { action: 'NONE', outputs: [], assessments: [] };
    const piiEntities = matches.map((match) => ({ type: 'EMAIL', match, action: 'ANONYMIZED', detected: true }));
    return { action: 'GUARDRAIL_INTERVENED', outputs: texts.map((t) => ({ text: mask(t) })), assessments: [{ sensitiveInformationPolicy: { piiEntities, regexes: [] } }] };
  });
  return client;
}

beforeAll(async () => {
  await loadTokenizer();
  upstream = await new FakeUpstream().start();
  const config = configWith({
    gateway: {
      models: [
        { id: BIG, upstream: 'big', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 50_000 },
        { id: EMBED, upstream: 'embed', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 },
      ],
      upstreamRetries: 0,
      upstreamTimeoutMs: 5000,
    },
  });
  const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'grabc123:3' };
  // A tenant without a Bedrock guardrail that redacts answers (redactResponses).
  const redacting = { redactPii: false, redactResponses: true, promptInjectionScreen: false };
  gw = await serveGateway(config, upstream.url, [
    localTenant('masking', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: false } }),
    localTenant('redacting', 'enterprise', { gateway: { fallbacks: [], guardrails: redacting, auditPromptText: false } }),
    localTenant('plain', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false } }),
  ]);
  bedrock = await mockMaskingGuardrail();
  python = await PythonClient.start();
});
afterAll(async () => {
  await python?.stop();
  bedrock?.restore();
  await gw?.stop();
  await upstream?.stop();
});
afterEach(() => {
  upstream.reset();
  checks.length = 0;
  override = undefined;
});

const client = async (tenant = 'masking') => new OpenAI({ baseURL: gw.url, apiKey: await gw.token(tenant), maxRetries: 0 });
const audit = (id: string) => gw.audit.records.find((r) => r.requestId === id)!;

describe('a Bedrock guardrail that masks the caller\'s input', () => {
  it('sends the model the masked text of a string content, answers 200, and counts the masking in the audit record without the address', async () => {
    const out = await (await client()).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'write to bob@example.com please' }] });
    expect(upstream.requests[0].messages).toEqual([{ role: 'user', content: 'write to {EMAIL} please' }]);
    expect(out.choices[0].message.content).toBe('echo: write to {EMAIL} please');
    const record = gw.audit.records.at(-1)!;
    expect(record).toMatchObject({ status: 200, guardrailMasked: { input: 1 } });
    expect(JSON.stringify(record)).not.toContain('bob@example.com');
  });

  it('puts the masked text of a message of several text parts in its first part, and replaces a single text part', async () => {
    await (await client()).chat.completions.create({
      model: BIG,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'first alice@example.org, ' }, { type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'noted' },
        { role: 'user', content: [{ type: 'text', text: 'one part carol@example.net' }] },
        { role: 'user', content: 'nothing to mask' },
      ],
    });
    expect(checks[0]).toEqual({ source: 'INPUT', texts: ['first alice@example.org, second', 'one part carol@example.net', 'nothing to mask'] });
    expect(upstream.requests[0].messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'first {EMAIL}, second' }] },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: [{ type: 'text', text: 'one part {EMAIL}' }] },
      { role: 'user', content: 'nothing to mask' },
    ]);
    expect(gw.audit.records.at(-1)).toMatchObject({ status: 200, guardrailMasked: { input: 2 } });
  });

  it('embeds the masked inputs (a list and a single string)', async () => {
    const c = await client();
    await c.embeddings.create({ model: EMBED, input: ['contact frank@example.com', 'plain'] });
    expect(upstream.requests[0].input).toEqual(['contact {EMAIL}', 'plain']);
    expect(gw.audit.records.at(-1)).toMatchObject({ status: 200, guardrailMasked: { input: 1 } });
    await c.embeddings.create({ model: EMBED, input: 'grace@example.com' });
    expect(upstream.requests[1].input).toBe('{EMAIL}');
  });

  it('masks the input of the Responses API, which runs on the same chat machinery', async () => {
    const r = await (await client()).responses.create({ model: BIG, input: 'my address is heidi@example.com' });
    expect(JSON.stringify(upstream.requests[0].messages)).not.toContain('heidi@example.com');
    expect(r.output_text).toBe('echo: my address is {EMAIL}');
  });
});

describe('a Bedrock guardrail that masks the answer', () => {
  beforeEach(() => {
    maskInput = false; // the echo answers the prompt: its addresses reach the output guardrail
  });
  afterEach(() => {
    maskInput = true;
  });

  it('shows each choice of a whole answer masked (content and tool-call arguments, still JSON), its finish_reason unchanged', async () => {
    const toolCalls = [{ id: 'call_1', type: 'function', function: { name: 'send', arguments: '{"to":"erin@example.com"}' } }];
    upstream.script({
      body: {
        id: 'up', object: 'chat.completion', created: 1, model: 'big',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'reach me at dave@example.com' }, finish_reason: 'stop' },
          { index: 1, message: { role: 'assistant', content: null, tool_calls: toolCalls }, finish_reason: 'tool_calls' },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
      },
    });
    const out = await (await client()).chat.completions.create({ model: BIG, n: 2, messages: [{ role: 'user', content: 'hi' }] });
    expect(checks.find((c) => c.source === 'OUTPUT')!.texts).toEqual(['reach me at dave@example.com', '', '{"to":"erin@example.com"}']);
    expect(out.choices[0].message.content).toBe('reach me at {EMAIL}');
    expect(out.choices[0].finish_reason).toBe('stop');
    expect(out.choices[1].message.tool_calls).toEqual([{ ...toolCalls[0], function: { name: 'send', arguments: '{"to":"{EMAIL}"}' } }]);
    expect(out.choices[1].finish_reason).toBe('tool_calls');
    expect(audit(out.id)).toMatchObject({ status: 200, outcome: 'ok', guardrailMasked: { output: 2 } });
  });

  it('masks an address the tool-call arguments spell with a JSON escape (bob\\u0040…): the guardrail reads them as the tool will', async () => {
    upstream.script({ body: {
      id: 'up', object: 'chat.completion', created: 1, model: 'big',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'send', arguments: '{"to": "bob\\u0040example.com"}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    } });
    const out = await (await client()).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'hi' }] });
    expect(checks.find((c) => c.source === 'OUTPUT')!.texts).toEqual(['', '{"to":"bob@example.com"}']);
    const call = out.choices[0].message.tool_calls![0];
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ to: '{EMAIL}' });
  });

  /** A stream's text, its chunks' texts in order, its finish reason and id. */
  async function readStream(prompt: string) {
    const stream = await (await client()).chat.completions.create({ model: BIG, stream: true, messages: [{ role: 'user', content: prompt }] });
    const pieces: string[] = [];
    let finish: string | null = null;
    let id = '';
    for await (const chunk of stream) {
      id = chunk.id;
      pieces.push(chunk.choices[0]?.delta?.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { text: pieces.join(''), pieces, finish, id };
  }

  it('shows a stream masked window by window, in order, each window checked after the masked text shown before it', async () => {
    // The echo streams `echo: ` + the prompt in pieces of 6 characters; an address in the first window and one in the second.
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
    const prompt = `${filler(150)} ivan@example.com ${filler(120)} judy@example.com ${filler(60)}`; // ~646 and ~1,230: windows 1 and 2
    const { text, pieces, finish, id } = await readStream(prompt);
    expect(text).toBe(mask(`echo: ${prompt}`));
    expect(finish).toBe('stop');
    expect(pieces.some((p) => p.includes('@'))).toBe(false);
    const windows = checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts[0]);
    expect(windows.length).toBeGreaterThanOrEqual(2);
    expect(windows[0]).toContain('ivan@example.com');
    // The second window's context is what the caller saw: masked.
    const context = mask(windows[0]).slice(-GUARD_CONTEXT_CHARS);
    expect(context).toContain('{EMAIL}');
    expect(windows[1].startsWith(context)).toBe(true);
    expect(windows[1]).toContain('judy@example.com');
    expect(audit(id)).toMatchObject({ status: 200, guardrailMasked: { output: 2 } });
  });

  it('shows a Responses stream masked too (the same chat machinery)', async () => {
    const prompt = `${'lorem ipsum '.repeat(20)}kim@example.com ${'dolor sit '.repeat(100)}leo@example.com the end`;
    const r = await (await client()).responses.stream({ model: BIG, input: prompt }).finalResponse();
    expect([r.status, r.output_text]).toEqual(['completed', mask(`echo: ${prompt}`)]);
  });

  it('blocks a stream whose address is cut by a window boundary (its first half already shown): fail closed, logged', async () => {
    const warn = logSpy('tessera-gateway', 'warn');
    try {
      // The first window is the first pieces of 6 characters that reach GUARD_WINDOW_CHARS: it ends with `… bob`.
      const first = Math.ceil(GUARD_WINDOW_CHARS / 6) * 6;
      const head = `echo: ${'lorem ipsum '.repeat(100)}`.slice(0, first - ' bob'.length);
      const prompt = `${head.slice('echo: '.length)} bob@example.com and then some more words`;
      const { text, finish, id } = await readStream(prompt);
      expect(text.startsWith(`${head} bob`)).toBe(true);
      expect(text).not.toContain('example.com');
      expect(text.endsWith("The answer was withheld by the tenant's guardrail.")).toBe(true);
      expect(finish).toBe('content_filter');
      expect(audit(id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
      const logged = warn.lines().find((line) => line.message.includes('window boundary'));
      expect(logged).toMatchObject({ level: 'WARN', requestId: id, tenantId: 'masking', guardrailId: 'grabc123:3', choice: 0 });
    } finally {
      warn.mockRestore();
    }
  });
});

/** Chat logprobs of a text, one token per word. */
const logprobsOf = (s: string) => ({ content: s.split(' ').map((t) => ({ token: `${t} `, logprob: -0.1, bytes: [...Buffer.from(`${t} `)], top_logprobs: [] })), refusal: null });
/** A whole answer of one choice. */
const answer = (message: object, extra: object = {}) => ({
  body: { id: 'up', object: 'chat.completion', created: 1, model: 'big', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop', ...extra }], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } },
});
/** A stream chunk of choice 0. */
const chunk = (delta: object, finish: string | null = null, logprobs: unknown = null) => ({ data: { id: 'up', object: 'chat.completion.chunk', created: 1, model: 'big', choices: [{ index: 0, delta, logprobs, finish_reason: finish }] } });

describe('logprobs never show what was masked, blocked or redacted', () => {
  it('drops the logprobs of a whole answer\'s choice the guardrail masked', async () => {
    upstream.script(answer({ content: 'reach me at dave@example.com' }, { logprobs: logprobsOf('reach me at dave@example.com') }));
    const out = await (await client()).chat.completions.create({ model: BIG, logprobs: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.content).toBe('reach me at {EMAIL}');
    expect(out.choices[0].logprobs).toBeNull();
    expect(JSON.stringify(out)).not.toContain('dave@example.com');
  });

  it('keeps the logprobs of an answer the guardrail passed', async () => {
    upstream.script(answer({ content: 'nothing here' }, { logprobs: logprobsOf('nothing here') }));
    const out = await (await client()).chat.completions.create({ model: BIG, logprobs: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].logprobs?.content?.map((t) => t.token)).toEqual(['nothing ', 'here ']);
  });

  it('drops the logprobs of a blocked whole answer', async () => {
    override = (_texts, source) => (source === 'INPUT' ? { action: 'NONE', outputs: [], assessments: [] } : { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'Sorry, blocked.' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] });
    upstream.script(answer({ content: 'secret plan alpha' }, { logprobs: logprobsOf('secret plan alpha') }));
    const out = await (await client()).chat.completions.create({ model: BIG, logprobs: true, messages: [{ role: 'user', content: 'hi' }] });
    expect([out.choices[0].message.content, out.choices[0].finish_reason, out.choices[0].logprobs]).toEqual(['Sorry, blocked.', 'content_filter', null]);
    expect(JSON.stringify(out)).not.toContain('secret');
  });

  it('drops the logprobs of a stream\'s masked window', async () => {
    upstream.script({ events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'mail dave@example.com ' }, null, logprobsOf('mail dave@example.com')), chunk({}, 'stop'), { data: '[DONE]' }] });
    const stream = await (await client()).chat.completions.create({ model: BIG, stream: true, logprobs: true, messages: [{ role: 'user', content: 'hi' }] });
    const all: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) all.push(c);
    expect(all.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('mail {EMAIL} ');
    expect(all.every((c) => (c.choices[0]?.logprobs ?? null) === null)).toBe(true);
    expect(JSON.stringify(all)).not.toContain('dave@example.com');
  });

  it('gives a Responses output_text no logprobs when its text was masked (they come from the chat choice)', async () => {
    upstream.script(answer({ content: 'reach me at dave@example.com' }, { logprobs: logprobsOf('reach me at dave@example.com') }));
    const r = await (await client()).responses.create({ model: BIG, input: 'hi', include: ['message.output_text.logprobs'] });
    expect(r.output_text).toBe('reach me at {EMAIL}');
    expect(JSON.stringify(r)).not.toContain('dave@example.com');
  });

  it('drops the logprobs of a choice redactResponses redacted, whole; and of every chunk of a redacted stream', async () => {
    upstream.script(answer({ content: 'reach me at dave@example.com' }, { logprobs: logprobsOf('reach me at dave@example.com') }));
    const c = await client('redacting');
    const out = await c.chat.completions.create({ model: BIG, logprobs: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.content).toBe('reach me at [EMAIL]');
    expect(out.choices[0].logprobs).toBeNull();
    expect(JSON.stringify(out)).not.toContain('dave@example.com');
    upstream.script({ events: [chunk({ role: 'assistant', content: '' }, null, logprobsOf('')), chunk({ content: 'mail dave@exa' }, null, logprobsOf('mail dave@exa')), chunk({ content: 'mple.com ok' }, null, logprobsOf('mple.com ok')), chunk({}, 'stop'), { data: '[DONE]' }] });
    const all: OpenAI.ChatCompletionChunk[] = [];
    for await (const x of await c.chat.completions.create({ model: BIG, stream: true, logprobs: true, messages: [{ role: 'user', content: 'hi' }] })) all.push(x);
    expect(all.map((x) => x.choices[0]?.delta?.content ?? '').join('')).toBe('mail [EMAIL] ok');
    expect(all.every((x) => (x.choices[0]?.logprobs ?? null) === null)).toBe(true);
  });
});

describe('the input guardrail sees text files and the predicted output', () => {
  const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
  const fileText = (data: string) => Buffer.from(data.slice(data.indexOf(',') + 1), 'base64').toString('utf8');

  it('sends a chat text file\'s decoded text as a text of its own, and the model gets it masked, encoded as it came', async () => {
    await (await client()).chat.completions.create({
      model: BIG,
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'read this' },
        { type: 'file', file: { filename: 'notes.txt', file_data: `data:text/plain;base64,${b64('contact eve@example.com')}` } },
        { type: 'file', file: { filename: 'plain.md', file_data: b64('é nothing') } },
        { type: 'file', file: { filename: 'bare.md', file_data: b64('or éve@example.com') } },
      ] }],
    });
    expect(checks[0]).toEqual({ source: 'INPUT', texts: ['read this', 'contact eve@example.com', 'é nothing', 'or éve@example.com'] });
    const parts = upstream.requests[0].messages[0].content;
    expect(parts[0]).toEqual({ type: 'text', text: 'read this' });
    expect(parts[1].file.file_data.startsWith('data:text/plain;base64,')).toBe(true);
    expect(fileText(parts[1].file.file_data)).toBe('contact {EMAIL}');
    expect(parts[2].file.file_data).toBe(b64('é nothing'));
    expect(Buffer.from(parts[3].file.file_data, 'base64').toString('utf8')).toBe('or é{EMAIL}');
    expect(gw.audit.records.at(-1)).toMatchObject({ status: 200, guardrailMasked: { input: 2 } });
  });

  it('masks a text file whose message text is masked too, the parts in place', async () => {
    await (await client()).chat.completions.create({
      model: BIG,
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'a@example.com ' }, { type: 'file', file: { filename: 'n.json', file_data: `data:application/json;base64,${b64('{"m":"b@example.com"}')}` } }, { type: 'text', text: 'end' },
      ] }],
    });
    const parts = upstream.requests[0].messages[0].content;
    expect(parts.map((p: { type: string }) => p.type)).toEqual(['text', 'file']);
    expect(parts[0].text).toBe('{EMAIL} end');
    expect(fileText(parts[1].file.file_data)).toBe('{"m":"{EMAIL}"}');
  });

  it('masks a Responses input_file of text', async () => {
    await (await client()).responses.create({ model: BIG, input: [{ role: 'user', content: [{ type: 'input_text', text: 'read' }, { type: 'input_file', filename: 'n.txt', file_data: `data:text/plain;base64,${b64('contact eve@example.com')}` }] }] });
    expect(checks[0].texts).toContain('contact eve@example.com');
    expect(JSON.stringify(upstream.requests[0].messages)).not.toContain(b64('contact eve@example.com'));
    expect(JSON.stringify(upstream.requests[0].messages)).toContain(b64('contact {EMAIL}'));
  });

  it('blocks a request whose text file the guardrail blocks', async () => {
    override = (texts) => (texts.some((t) => t.includes('forbidden')) ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'no' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] } : { action: 'NONE', outputs: [], assessments: [] });
    const e = await (await client()).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'file', file: { filename: 'n.txt', file_data: `data:text/plain;base64,${b64('forbidden plan')}` } }] }] }).catch((x) => x);
    expect([e.status, e.code]).toEqual([400, 'guardrail_intervened']);
    expect(upstream.requests).toHaveLength(0);
  });

  it('sends the predicted output (prediction.content) to the input guardrail, and the model gets it masked', async () => {
    const c = await client();
    await c.chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'edit this' }], prediction: { type: 'content', content: 'send to zed@example.com' } });
    expect(checks[0]).toEqual({ source: 'INPUT', texts: ['edit this', 'send to zed@example.com'] });
    expect(upstream.requests[0].prediction).toEqual({ type: 'content', content: 'send to {EMAIL}' });
    expect(gw.audit.records.at(-1)).toMatchObject({ status: 200, guardrailMasked: { input: 1 } });
    await c.chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'edit' }], prediction: { type: 'content', content: [{ type: 'text', text: 'to ' }, { type: 'text', text: 'amy@example.com' }] } });
    expect(upstream.requests[1].prediction).toEqual({ type: 'content', content: [{ type: 'text', text: 'to {EMAIL}' }] });
  });
});

describe('the output guardrail checks a whole answer\'s refusal, audio transcript and tool-call arguments', () => {
  beforeEach(() => {
    maskInput = false;
  });
  afterEach(() => {
    maskInput = true;
  });

  it('masks a refusal, and blocks (fail closed) an answer whose audio transcript it masks: the audio would still say it', async () => {
    upstream.script(answer({ content: null, refusal: 'I cannot email dave@example.com' }));
    const c = await client();
    const out = await c.chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'hi' }] });
    expect(checks.find((x) => x.source === 'OUTPUT')!.texts).toEqual(['', 'I cannot email dave@example.com']);
    expect(out.choices[0].message).toMatchObject({ content: null, refusal: 'I cannot email {EMAIL}' });
    upstream.script(answer({ content: null, audio: { id: 'a1', data: 'AAAA', expires_at: 9999999999, transcript: 'write to dave@example.com' } }));
    const spoken = await c.chat.completions.create({ model: BIG, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [{ role: 'user', content: 'hi' }] });
    expect(checks.filter((x) => x.source === 'OUTPUT')[1].texts).toEqual(['', 'write to dave@example.com']);
    expect(spoken.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: "The answer was withheld by the tenant's guardrail." } });
    expect(spoken.choices[0].message.audio).toBeUndefined();
    expect(audit(spoken.id)).toMatchObject({ outcome: 'guardrail_blocked_answer' });
    upstream.script(answer({ content: null, audio: { id: 'a2', data: 'BBBB', expires_at: 9999999999, transcript: 'nothing to mask' } }));
    const plain = await c.chat.completions.create({ model: BIG, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.choices[0].message.audio).toEqual({ id: 'a2', data: 'BBBB', expires_at: 9999999999, transcript: 'nothing to mask' });
  });

  it('redacts a whole answer\'s audio transcript under redactResponses', async () => {
    upstream.script(answer({ content: null, audio: { id: 'a1', data: 'AAAA', expires_at: 9999999999, transcript: 'write to dave@example.com' } }));
    const out = await (await client('redacting')).chat.completions.create({ model: BIG, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0].message.audio).toEqual({ id: 'a1', data: 'AAAA', expires_at: 9999999999, transcript: 'write to [EMAIL]' });
    expect(audit(out.id).piiRedacted).toEqual(['response:EMAIL']);
  });

  it('blocks an answer whose masked tool-call arguments are no longer JSON (fail closed)', async () => {
    override = (texts, source) => (source === 'INPUT' ? { action: 'NONE', outputs: [], assessments: [] } : {
      action: 'GUARDRAIL_INTERVENED', outputs: texts.map((t) => ({ text: t.replace(/"[^"]*@[^"]*"/g, '{EMAIL}') })),
      assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'EMAIL', match: 'q@example.com', action: 'ANONYMIZED', detected: true }], regexes: [] } }],
    });
    upstream.script({ body: { ...answer({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"to":"q@example.com"}' } }] }).body, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"to":"q@example.com"}' } }] }, finish_reason: 'tool_calls' }] } });
    const out = await (await client()).chat.completions.create({ model: BIG, messages: [{ role: 'user', content: 'hi' }] });
    expect(out.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: "The answer was withheld by the tenant's guardrail." } });
    expect(out.choices[0].message.tool_calls).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('q@example.com');
    expect(audit(out.id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
  });
});

/** Within a describe: the mocked guardrail masks answers only (its INPUT checks pass), as the stream tests need. */
function withoutInputMasking(): void {
  beforeEach(() => {
    maskInput = false;
  });
  afterEach(() => {
    maskInput = true;
  });
}

describe('the output guardrail checks a streamed answer\'s tool-call arguments and refusal (held until the choice finishes)', () => {
  let pythonResponses: PythonResponsesClient;
  beforeAll(async () => {
    pythonResponses = await PythonResponsesClient.start();
  });
  afterAll(async () => {
    await pythonResponses?.stop();
  });
  withoutInputMasking();

  const usageChunk = { data: { id: 'up', object: 'chat.completion.chunk', created: 1, model: 'big', choices: [], usage: { prompt_tokens: 5, completion_tokens: 30, total_tokens: 35 } } };
  /** A tool-call fragment of choice 0 (`id` and type on a call's first fragment). */
  const frag = (index: number, fn: { name?: string; arguments?: string }, id?: string) => chunk({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });
  /** Text, then two parallel calls streamed in fragments: `send_mail` with `args` (cut in two), `lookup` plain. */
  const toolStream = (args = '{"to":"ivy@example.com","subject":"hi"}') => ({
    events: [
      chunk({ role: 'assistant', content: '' }), chunk({ content: 'Sending it now.' }),
      frag(0, { name: 'send_mail', arguments: '' }, 'call_a'), frag(0, { arguments: args.slice(0, 10) }), frag(0, { arguments: args.slice(10) }),
      frag(1, { name: 'lookup', arguments: '{"q":' }, 'call_b'), frag(1, { arguments: '"weather"}' }),
      chunk({}, 'tool_calls'), usageChunk, { data: '[DONE]' },
    ],
  });
  const tools = [
    { type: 'function' as const, function: { name: 'send_mail', parameters: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' } } } } },
    { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  ];
  const responsesTools = tools.map((t) => ({ type: 'function' as const, name: t.function.name, parameters: t.function.parameters, strict: false }));
  const params = { model: BIG, messages: [{ role: 'user' as const, content: 'mail ivy' }], tools, stream_options: { include_usage: true } };
  /** Each call's id, name and arguments, assembled from chat chunks by the call's index, as a client does. */
  const assemble = (chunks: Array<{ choices: Array<{ delta?: { tool_calls?: Array<{ index: number; id?: string | null; function?: { name?: string | null; arguments?: string | null } | null }> | null } }> }>) => {
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    for (const c of chunks) for (const t of c.choices[0]?.delta?.tool_calls ?? []) {
      const call = (calls[t.index] ??= { id: '', name: '', arguments: '' });
      call.id += t.id ?? '';
      call.name += t.function?.name ?? '';
      call.arguments += t.function?.arguments ?? '';
    }
    return calls;
  };
  const outputChecks = () => checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts);
  const masked = [{ id: 'call_a', name: 'send_mail', arguments: '{"to":"{EMAIL}","subject":"hi"}' }, { id: 'call_b', name: 'lookup', arguments: '{"q":"weather"}' }];

  it('masks the arguments of calls the Node client assembles with its stream helper: valid JSON, one ApplyGuardrail call for both calls', async () => {
    upstream.script(toolStream());
    const stream = (await client()).chat.completions.stream(params);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const deltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => deltas.push(e.arguments_delta));
    for await (const c of stream) chunks.push(c);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.content).toBe('Sending it now.');
    expect(final.choices[0].message.tool_calls!.map((t) => ({ id: t.id, name: t.type === 'function' ? t.function.name : '', arguments: t.type === 'function' ? t.function.arguments : '' }))).toEqual(masked);
    expect(JSON.parse((final.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({ to: '{EMAIL}', subject: 'hi' });
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(assemble(chunks)).toEqual(masked);
    expect(JSON.stringify(chunks)).not.toContain('example.com');
    expect(deltas.join('')).not.toContain('example.com');
    // The text before the calls in its window; then both calls' arguments, each a text of its own, in one call.
    expect(outputChecks()).toEqual([['Sending it now.'], ['{"to":"ivy@example.com","subject":"hi"}', '{"q":"weather"}']]);
    expect(audit(chunks[0].id)).toMatchObject({ status: 200, outcome: 'ok', guardrailMasked: { output: 1 } });
  });

  it('masks the arguments the Python client streams (assembled by hand)', async () => {
    upstream.script(toolStream());
    const out = await python.call(gw.url, await gw.token('masking'), { op: 'stream', params });
    expect(out.ok).toBe(true);
    expect(assemble(out.chunks!)).toEqual(masked);
    expect(out.chunks!.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(JSON.stringify(out.chunks)).not.toContain('example.com');
  });

  it('ends the stream with content_filter when the guardrail blocks a call\'s arguments: no call goes out', async () => {
    override = (texts, source) => (source === 'OUTPUT' && texts.some((t) => t.includes('forbidden'))
      ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'Sorry, blocked.' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] }
      : { action: 'NONE', outputs: [], assessments: [] });
    upstream.script(toolStream('{"q":"the forbidden plan"}'));
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ ...params, stream: true })) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Sending it now.Sorry, blocked.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.some((c) => c.choices[0]?.delta?.tool_calls)).toBe(false);
    expect(JSON.stringify(chunks)).not.toContain('forbidden');
    expect(audit(chunks[0].id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
  });

  it('blocks a stream whose masked arguments are no longer JSON (fail closed)', async () => {
    override = (texts, source) => (source === 'INPUT' ? { action: 'NONE', outputs: [], assessments: [] } : {
      action: 'GUARDRAIL_INTERVENED', outputs: texts.map((t) => ({ text: t.replace(/"[^"]*@[^"]*"/g, '{EMAIL}') })),
      assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'EMAIL', match: 'ivy@example.com', action: 'ANONYMIZED', detected: true }], regexes: [] } }],
    });
    upstream.script(toolStream());
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ ...params, stream: true })) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.some((c) => c.choices[0]?.delta?.tool_calls)).toBe(false);
    expect(JSON.stringify(chunks)).not.toContain('example.com');
  });

  it('masks a streamed refusal', async () => {
    upstream.script({ events: [chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: 'I will not email ' }), chunk({ refusal: 'ivy@example.com.' }), chunk({}, 'stop'), { data: '[DONE]' }] });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ ...params, stream: true })) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta?.refusal ?? '').join('')).toBe('I will not email {EMAIL}.');
    expect(outputChecks()).toEqual([['I will not email ivy@example.com.']]);
  });

  it('masks a Responses stream\'s function_call items (arguments delta and done, the final response), in order, for the Node and Python clients', async () => {
    const rparams = { model: BIG, input: 'mail ivy', tools: responsesTools };
    for (const run of [
      async () => nodeResponsesCall(gw.url, await gw.token('masking'), { op: 'stream', params: rparams }),
      async () => pythonResponses.call(gw.url, await gw.token('masking'), { op: 'stream', params: rparams }),
    ]) {
      upstream.script(toolStream());
      const out = await run();
      expect(out.ok).toBe(true);
      const events = out.events!;
      expect(JSON.stringify(out)).not.toContain('example.com');
      const calls = out.result.output.filter((o: { type: string }) => o.type === 'function_call');
      expect(calls.map((c: { name: string; arguments: string; status: string }) => [c.name, c.arguments, c.status])).toEqual([['send_mail', '{"to":"{EMAIL}","subject":"hi"}', 'completed'], ['lookup', '{"q":"weather"}', 'completed']]);
      const outIndex = (name: string) => out.result.output.findIndex((o: { name?: string }) => o.name === name);
      const deltas = (i: number) => events.filter((e) => e.type === 'response.function_call_arguments.delta' && e.output_index === i).map((e) => e.delta).join('');
      const done = (i: number) => events.find((e) => e.type === 'response.function_call_arguments.done' && e.output_index === i)?.arguments;
      expect([deltas(outIndex('send_mail')), done(outIndex('send_mail'))]).toEqual(['{"to":"{EMAIL}","subject":"hi"}', '{"to":"{EMAIL}","subject":"hi"}']);
      expect([deltas(outIndex('lookup')), done(outIndex('lookup'))]).toEqual(['{"q":"weather"}', '{"q":"weather"}']);
      // One item at a time: each item's done before the next is added.
      const order = events.filter((e) => e.type === 'response.output_item.added' || e.type === 'response.output_item.done').map((e) => `${e.type.slice('response.output_item.'.length)} ${e.output_index}`);
      expect(order).toEqual(['added 0', 'done 0', 'added 1', 'done 1', 'added 2', 'done 2']);
      expect(out.result.status).toBe('completed');
    }
  });

  it('ends a Responses stream as incomplete (content_filter) with no function_call item when the arguments are blocked', async () => {
    override = (texts, source) => (source === 'OUTPUT' && texts.some((t) => t.includes('forbidden'))
      ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'Sorry, blocked.' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] }
      : { action: 'NONE', outputs: [], assessments: [] });
    upstream.script(toolStream('{"q":"the forbidden plan"}'));
    const out = await nodeResponsesCall(gw.url, await gw.token('masking'), { op: 'stream', params: { model: BIG, input: 'mail ivy', tools: responsesTools } });
    expect(out.ok).toBe(true);
    expect([out.result.status, out.result.incomplete_details?.reason]).toEqual(['incomplete', 'content_filter']);
    expect(out.result.output.some((o: { type: string }) => o.type === 'function_call')).toBe(false);
    expect(out.events!.some((e) => String(e.type).startsWith('response.function_call'))).toBe(false);
    expect(JSON.stringify(out)).not.toContain('forbidden');
  });

  /** A custom tool's call (chat `{type: 'custom', custom: {name, input}}`) streamed in fragments: free text, not JSON. */
  const customStream = (input: string) => ({
    events: [
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_c', type: 'custom', custom: { name: 'shell', input: input.slice(0, 8) } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: input.slice(8) } }] }),
      chunk({}, 'tool_calls'), usageChunk, { data: '[DONE]' },
    ],
  });
  const customTools = [{ type: 'custom' as const, name: 'shell', description: 'runs a command' }];
  const blockForbidden = (texts: string[], source: string) => (source === 'OUTPUT' && texts.some((t) => t.includes('forbidden'))
    ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'Sorry, blocked.' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] }
    : { action: 'NONE', outputs: [], assessments: [] });

  it('masks a custom tool call\'s input (a Responses custom_tool_call, whole and streamed): the output guardrail reads it as it reads arguments', async () => {
    const input = 'mail --to ivy@example.com --subject hi';
    upstream.script({ body: {
      id: 'up', object: 'chat.completion', created: 1, model: 'big',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'shell', input } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    } });
    const whole = await (await client()).responses.create({ model: BIG, input: 'mail ivy', tools: customTools });
    expect(outputChecks()).toEqual([['', input]]);
    expect(whole.output.map((o) => (o.type === 'custom_tool_call' ? [o.name, o.input] : o.type))).toEqual([['shell', 'mail --to {EMAIL} --subject hi']]);
    checks.length = 0;
    upstream.script(customStream(input));
    const out = await nodeResponsesCall(gw.url, await gw.token('masking'), { op: 'stream', params: { model: BIG, input: 'mail ivy', tools: customTools } });
    expect(out.ok).toBe(true);
    expect(JSON.stringify(out)).not.toContain('example.com');
    expect(outputChecks()).toEqual([[input]]);
    const deltas = out.events!.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta).join('');
    const done = out.events!.find((e) => e.type === 'response.custom_tool_call_input.done')?.input;
    expect([deltas, done]).toEqual(['mail --to {EMAIL} --subject hi', 'mail --to {EMAIL} --subject hi']);
    expect(out.result.output.map((o: { type: string; input?: string }) => [o.type, o.input])).toEqual([['custom_tool_call', 'mail --to {EMAIL} --subject hi']]);
  });

  it('withholds a custom tool call whose input the guardrail blocks (whole and streamed): no custom_tool_call item, incomplete (content_filter)', async () => {
    override = blockForbidden;
    upstream.script({ body: {
      id: 'up', object: 'chat.completion', created: 1, model: 'big',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'shell', input: 'cat the forbidden plan' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    } });
    const whole = await (await client()).responses.create({ model: BIG, input: 'go', tools: customTools });
    expect([whole.status, whole.incomplete_details?.reason]).toEqual(['incomplete', 'content_filter']);
    expect(JSON.stringify(whole.output)).not.toContain('forbidden');
    upstream.script(customStream('cat the forbidden plan'));
    const out = await nodeResponsesCall(gw.url, await gw.token('masking'), { op: 'stream', params: { model: BIG, input: 'go', tools: customTools } });
    expect(out.ok).toBe(true);
    expect([out.result.status, out.result.incomplete_details?.reason]).toEqual(['incomplete', 'content_filter']);
    expect(out.events!.some((e) => String(e.type).startsWith('response.custom_tool_call'))).toBe(false);
    expect(JSON.stringify(out)).not.toContain('forbidden');
  });

  it('holds nothing for a tenant without a Bedrock guardrail nor redactResponses: each fragment goes out as it came, no ApplyGuardrail call', async () => {
    upstream.script(toolStream('{"to":"a friend","subject":"hi"}'));
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client('plain')).chat.completions.create({ ...params, stream: true })) chunks.push(c);
    expect(chunks.filter((c) => c.choices[0]?.delta?.tool_calls).map((c) => c.choices[0].delta.tool_calls![0].function?.arguments)).toEqual(['', '{"to":"a f', 'riend","subject":"hi"}', '{"q":', '"weather"}']);
    expect(checks).toEqual([]);
  });
});

describe('a streamed answer\'s audio transcript, tool calls and other choices (n > 1) through the guardrail and redactResponses', () => {
  withoutInputMasking();

  /** An audio answer streamed as OpenAI does: transcript and base64 data in pieces, then the id and expiry, then the finish. */
  const audioStream = (transcript: [string, string]) => ({
    events: [
      chunk({ role: 'assistant', content: null }),
      chunk({ audio: { id: 'audio_1', transcript: transcript[0] } }), chunk({ audio: { data: 'QUFBQQ==' } }),
      chunk({ audio: { transcript: transcript[1] } }), chunk({ audio: { data: 'QkJCQg==' } }),
      chunk({ audio: { id: 'audio_1', expires_at: 9999999999 } }), chunk({}, 'stop'), { data: '[DONE]' },
    ],
  });
  const audioParams = { model: BIG, modalities: ['text' as const, 'audio' as const], audio: { voice: 'alloy' as const, format: 'pcm16' as const }, messages: [{ role: 'user' as const, content: 'say it' }] };
  type AudioDelta = { audio?: { transcript?: string; data?: string } };
  const transcriptOf = (chunks: Array<{ choices: Array<{ delta?: unknown }> }>) => chunks.map((c) => (c.choices[0]?.delta as AudioDelta | undefined)?.audio?.transcript ?? '').join('');
  const dataOf = (chunks: Array<{ choices: Array<{ delta?: unknown }> }>) => chunks.map((c) => (c.choices[0]?.delta as AudioDelta | undefined)?.audio?.data ?? '').join('');

  it('checks a streamed audio transcript whole (the Node client\'s stream helper): a transcript that passes goes out with its audio', async () => {
    upstream.script(audioStream(['It is ', 'sunny.']));
    const stream = (await client()).chat.completions.stream(audioParams);
    for await (const _ of stream) void _;
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.audio).toMatchObject({ id: 'audio_1', transcript: 'It is sunny.', data: 'QUFBQQ==QkJCQg==' });
    expect(checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts)).toEqual([['It is sunny.']]);
  });

  it('blocks (fail closed) a streamed answer whose transcript the guardrail masks: no transcript, no audio data, content_filter (Node and Python clients)', async () => {
    upstream.script(audioStream(['Write to ', 'kim@example.com.']));
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ ...audioParams, stream: true })) chunks.push(c);
    expect(checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts)).toEqual([['Write to kim@example.com.']]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe("The answer was withheld by the tenant's guardrail.");
    expect([transcriptOf(chunks), dataOf(chunks)]).toEqual(['', '']);
    expect(audit(chunks[0].id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
    upstream.script(audioStream(['Write to ', 'kim@example.com.']));
    const out = await python.call(gw.url, await gw.token('masking'), { op: 'stream', params: audioParams });
    expect(out.ok).toBe(true);
    expect(out.chunks!.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(JSON.stringify(out.chunks)).not.toContain('kim@');
    expect(dataOf(out.chunks!)).toBe('');
  });

  it('redacts a streamed audio transcript under redactResponses (the Node and Python clients)', async () => {
    upstream.script(audioStream(['Write to kim@exa', 'mple.com now.']));
    const stream = (await client('redacting')).chat.completions.stream(audioParams);
    for await (const _ of stream) void _;
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.audio).toMatchObject({ transcript: 'Write to [EMAIL] now.', data: 'QUFBQQ==QkJCQg==' });
    expect(audit(final.id).piiRedacted).toEqual(['response:EMAIL']);
    upstream.script(audioStream(['Write to kim@exa', 'mple.com now.']));
    const out = await python.call(gw.url, await gw.token('redacting'), { op: 'stream', params: audioParams });
    expect(out.ok).toBe(true);
    expect(transcriptOf(out.chunks!)).toBe('Write to [EMAIL] now.');
  });

  const frag = (index: number, fn: { name?: string; arguments?: string }, id?: string) => chunk({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });
  const toolStream = {
    events: [
      chunk({ role: 'assistant', content: null }),
      frag(0, { name: 'send_mail', arguments: '' }, 'call_a'), frag(0, { arguments: '{"to":"ivy@exa' }), frag(0, { arguments: 'mple.com","card":4111111111111111}' }),
      frag(1, { name: 'lookup', arguments: '{"q":"weather"}' }, 'call_b'),
      chunk({}, 'tool_calls'), { data: '[DONE]' },
    ],
  };
  const tools = ['send_mail', 'lookup'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } }));
  const redactedArgs = ['{"to":"[EMAIL]","card":"[CREDIT_CARD]"}', '{"q":"weather"}'];

  it('redacts streamed tool-call arguments under redactResponses, valid JSON, each call whole at the finish (the Node client\'s stream helper and the Python client)', async () => {
    upstream.script(toolStream);
    const stream = (await client('redacting')).chat.completions.stream({ model: BIG, tools, messages: [{ role: 'user', content: 'mail ivy' }] });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((t) => [t.id, t.function.name, t.function.arguments])).toEqual([['call_a', 'send_mail', redactedArgs[0]], ['call_b', 'lookup', redactedArgs[1]]]);
    expect(JSON.parse(calls[0].function.arguments)).toEqual({ to: '[EMAIL]', card: '[CREDIT_CARD]' });
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(JSON.stringify(chunks)).not.toContain('mple.com');
    expect(audit(final.id).piiRedacted!.sort()).toEqual(['response:CREDIT_CARD', 'response:EMAIL']);
    upstream.script(toolStream);
    const out = await python.call(gw.url, await gw.token('redacting'), { op: 'stream', params: { model: BIG, tools, messages: [{ role: 'user', content: 'mail ivy' }] } });
    expect(out.ok).toBe(true);
    const args = out.chunks!.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).reduce((a: string[], t: { index: number; function?: { arguments?: string | null } | null }) => ((a[t.index] = (a[t.index] ?? '') + (t.function?.arguments ?? '')), a), []);
    expect(args).toEqual(redactedArgs);
  });

  it('sends another choice\'s text while a choice\'s tool call is held for the guardrail (n = 2)', async () => {
    const sunny = 'It is sunny. '.repeat(Math.ceil(GUARD_WINDOW_CHARS / 13)); // a full window: checked at once
    const of = (index: number, delta: object, finish: string | null = null) => ({ data: { id: 'up', object: 'chat.completion.chunk', created: 1, model: 'big', choices: [{ index, delta, logprobs: null, finish_reason: finish }] } });
    upstream.script({
      events: [
        of(0, { role: 'assistant', content: null }), of(0, { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '{"q":"weather"}' } }] }),
        of(1, { role: 'assistant', content: sunny }), of(0, {}, 'tool_calls'), of(1, {}, 'stop'), { data: '[DONE]' },
      ],
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ model: BIG, n: 2, tools, stream: true, messages: [{ role: 'user', content: 'weather?' }] })) chunks.push(c);
    // Choice 1's window comes before choice 0's held call, which goes out at its own finish.
    const order = chunks.map((c) => `${c.choices[0].index}:${c.choices[0].delta.tool_calls ? 'call' : c.choices[0].delta.content ? 'text' : ''}:${c.choices[0].finish_reason ?? ''}`);
    expect(order).toEqual(['0::', '1:text:', '0:call:', '0::tool_calls', '1::stop']);
    expect(checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts)).toEqual([[sunny], ['{"q":"weather"}']]);
  });
});

describe('the deprecated legacy function calling (`functions`, answered with function_call) through the guardrail and redactResponses', () => {
  withoutInputMasking();

  const functions = [{ name: 'send_mail', parameters: { type: 'object', properties: { to: { type: 'string' }, card: { type: 'number' } } } }];
  const params = { model: BIG, functions, messages: [{ role: 'user' as const, content: 'mail ivy' }] };
  const ARGS = '{"to":"ivy@example.com","card":4111111111111111}';
  /** A whole answer calling send_mail the legacy way (finish_reason function_call). */
  const fnAnswer = (args = ARGS) => ({ body: { ...answer({}).body, choices: [{ index: 0, message: { role: 'assistant', content: null, function_call: { name: 'send_mail', arguments: args } }, finish_reason: 'function_call' }] } });
  /** The same call streamed: the name first, the arguments in fragments (an address cut in two). */
  const fnStream = (args = ARGS) => ({
    events: [
      chunk({ role: 'assistant', content: null, function_call: { name: 'send_mail', arguments: '' } }),
      chunk({ function_call: { arguments: args.slice(0, 14) } }), chunk({ function_call: { arguments: args.slice(14) } }),
      chunk({}, 'function_call'), { data: '[DONE]' },
    ],
  });
  /** A guardrail whose masking breaks the JSON (the quoted address becomes a bare {EMAIL}). */
  const breakingJson = (texts: string[], source: string) => (source === 'INPUT' ? { action: 'NONE', outputs: [], assessments: [] } : {
    action: 'GUARDRAIL_INTERVENED', outputs: texts.map((t) => ({ text: t.replace(/"[^"]*@[^"]*"/g, '{EMAIL}') })),
    assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'EMAIL', match: 'ivy@example.com', action: 'ANONYMIZED', detected: true }], regexes: [] } }],
  });
  const outputChecks = () => checks.filter((c) => c.source === 'OUTPUT').map((c) => c.texts);
  /** The function_call a client assembles from chat chunks (name and arguments appended). */
  const assembled = (chunks: Array<{ choices: Array<{ delta?: { function_call?: { name?: string | null; arguments?: string | null } | null } }> }>) =>
    chunks.reduce((f, c) => ({ name: f.name + (c.choices[0]?.delta?.function_call?.name ?? ''), arguments: f.arguments + (c.choices[0]?.delta?.function_call?.arguments ?? '') }), { name: '', arguments: '' });
  const MASKED = '{"to":"{EMAIL}","card":4111111111111111}';
  const WITHHELD = "The answer was withheld by the tenant's guardrail.";

  it('masks a whole answer\'s function_call arguments (still JSON, finish_reason function_call), for the Node and Python clients', async () => {
    upstream.script(fnAnswer());
    const out = await (await client()).chat.completions.create(params);
    expect(outputChecks()).toEqual([['', ARGS]]);
    expect(out.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: MASKED });
    expect(JSON.parse(out.choices[0].message.function_call!.arguments)).toEqual({ to: '{EMAIL}', card: 4111111111111111 });
    expect(out.choices[0].finish_reason).toBe('function_call');
    expect(audit(out.id)).toMatchObject({ status: 200, outcome: 'ok', guardrailMasked: { output: 1 } });
    upstream.script(fnAnswer());
    const py = await python.call(gw.url, await gw.token('masking'), { op: 'create', params });
    expect(py.ok).toBe(true);
    expect(py.result.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: MASKED });
  });

  it('blocks a whole answer whose masked function_call arguments are no longer JSON (fail closed), and one the guardrail blocks: no function_call goes out', async () => {
    override = breakingJson;
    upstream.script(fnAnswer());
    const c = await client();
    const out = await c.chat.completions.create(params);
    expect(out.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: WITHHELD } });
    expect(out.choices[0].message.function_call).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('example.com');
    expect(audit(out.id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
    override = (texts, source) => (source === 'OUTPUT' && texts.some((t) => t.includes('forbidden'))
      ? { action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'Sorry, blocked.' }], assessments: [{ topicPolicy: { topics: [{ name: 'x', type: 'DENY', action: 'BLOCKED' }] } }] }
      : { action: 'NONE', outputs: [], assessments: [] });
    upstream.script(fnAnswer('{"q":"the forbidden plan"}'));
    const blocked = await c.chat.completions.create(params);
    expect(blocked.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: 'Sorry, blocked.' } });
    expect(blocked.choices[0].message.function_call).toBeUndefined();
    expect(JSON.stringify(blocked)).not.toContain('forbidden');
  });

  it('masks a streamed function_call held until the choice finishes: one check of the whole arguments (the Node stream helper and the Python client)', async () => {
    upstream.script(fnStream());
    const stream = (await client()).chat.completions.stream(params);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: MASKED });
    expect(final.choices[0].finish_reason).toBe('function_call');
    expect(JSON.stringify(chunks)).not.toContain('example.com');
    expect(outputChecks()).toEqual([[ARGS]]);
    expect(audit(chunks[0].id)).toMatchObject({ status: 200, outcome: 'ok', guardrailMasked: { output: 1 } });
    upstream.script(fnStream());
    const py = await python.call(gw.url, await gw.token('masking'), { op: 'stream', params });
    expect(py.ok).toBe(true);
    expect(assembled(py.chunks!)).toEqual({ name: 'send_mail', arguments: MASKED });
    expect(JSON.stringify(py.chunks)).not.toContain('example.com');
  });

  it('blocks a stream whose masked function_call arguments are no longer JSON (fail closed): no function_call goes out, content_filter', async () => {
    override = breakingJson;
    upstream.script(fnStream());
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await (await client()).chat.completions.create({ ...params, stream: true })) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['content_filter']);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(WITHHELD);
    expect(chunks.some((c) => c.choices[0]?.delta?.function_call)).toBe(false);
    expect(JSON.stringify(chunks)).not.toContain('example.com');
    expect(audit(chunks[0].id)).toMatchObject({ status: 200, outcome: 'guardrail_blocked_answer' });
  });

  it('counts a function_call toward the usage estimate of a whole answer and of a stream when the upstream reports none', async () => {
    const c = await client('plain');
    const { usage: _usage, ...unreported } = fnAnswer().body;
    upstream.script({ body: unreported });
    const whole = await c.chat.completions.create(params);
    expect(whole.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: ARGS }); // no guardrail, no redaction: as it came
    expect(whole.usage!.completion_tokens).toBe(countCompletionTokens(`send_mail${ARGS}`));
    upstream.script(fnStream());
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const x of await c.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })) chunks.push(x);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(countCompletionTokens(`send_mail${ARGS}`));
  });

  it('redacts function_call arguments under redactResponses, whole and streamed (held, sent whole at the finish), still JSON (Node and Python clients)', async () => {
    const REDACTED = '{"to":"[EMAIL]","card":"[CREDIT_CARD]"}';
    upstream.script(fnAnswer());
    const c = await client('redacting');
    const whole = await c.chat.completions.create(params);
    expect(whole.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: REDACTED });
    expect(audit(whole.id).piiRedacted!.sort()).toEqual(['response:CREDIT_CARD', 'response:EMAIL']);
    upstream.script(fnStream());
    const stream = c.chat.completions.stream(params);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const x of stream) chunks.push(x);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.function_call).toEqual({ name: 'send_mail', arguments: REDACTED });
    expect(final.choices[0].finish_reason).toBe('function_call');
    expect(JSON.stringify(chunks)).not.toContain('example.com');
    expect(audit(final.id).piiRedacted!.sort()).toEqual(['response:CREDIT_CARD', 'response:EMAIL']);
    upstream.script(fnStream());
    const py = await python.call(gw.url, await gw.token('redacting'), { op: 'stream', params });
    expect(py.ok).toBe(true);
    expect(assembled(py.chunks!)).toEqual({ name: 'send_mail', arguments: REDACTED });
  });
});
