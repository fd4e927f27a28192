import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Writable } from 'node:stream';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import type { Provider, ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import type { ApplyGuardrail } from '../../../lambdas/inference/pipeline.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { DynamoDbStore, usageIds } from '../../../lambdas/inference/stores/dynamodb-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { SETTLE_MARGIN_MS, STREAM_IDLE_TIMEOUT_MS, streamIdleDeadline } from '../../../lambdas/inference/lambda-deadline.js';
import { countCompletionTokens } from '../../../lambdas/inference/token-count.js';
import { configWith } from '../../support/config-with.js';

// The router Lambda settles before its own timeout: at its remaining time less SETTLE_MARGIN_MS
// (lambda-deadline.ts) the upstream call is stopped, the reservation settled with what was produced,
// and the answer ends in OpenAI's shape. Before, a stream still running at 15 minutes was cut by the
// runtime with its whole reservation (prompt + the model's maximum output) held until the period ended.
const holder = vi.hoisted(() => ({ gateway: undefined as unknown }));
vi.mock('../../../lambdas/inference/lambda-deps.js', async (original) => ({ ...(await original<object>()), lambdaGateway: async () => holder.gateway }));
// The Lambda Node.js runtime's global for response streaming.
vi.stubGlobal('awslambda', {
  streamifyResponse: (f: unknown) => f,
  HttpResponseStream: { from: (s: Writable, meta: unknown) => Object.assign(s, { meta }) },
});
const { handler, SSE_KEEP_ALIVE_MS } = (await import('../../../lambdas/inference/router-handler.js')) as unknown as {
  SSE_KEEP_ALIVE_MS: number;
  handler: (event: unknown, raw: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;
};

/** 60 s left when the invocation starts: the deadline is 45 s in (SETTLE_MARGIN_MS 15 s). */
const REMAINING_MS = 60_000;
const DEADLINE_MS = 45_000;
const WORDS = ['Thinking', ' hard', ' about', ' it'];
/** Text the slow model says after WORDS (a test sets it; reset before each). */
const longTail = { text: '' };
const acme = localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false } } as never);
const chunk = (content: string): ChatCompletionChunk => ({ id: 'up', object: 'chat.completion.chunk', created: 1, model: 'slow', choices: [{ index: 0, delta: { content }, finish_reason: null, logprobs: null }] });

/** Resolves when `signal` aborts, rejecting with its reason (as an HTTP provider's aborted fetch). */
const aborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

/** A slow reasoning model: a stream that says a few words, then thinks for longer than the Lambda has; whole answers and embeddings never come. */
const slowModel: Provider = {
  async *stream(r: ProviderRequest) {
    for (const w of WORDS) yield chunk(w);
    if (longTail.text) yield chunk(longTail.text);
    await aborted(r.signal);
  },
  complete: (r) => aborted(r.signal),
  embed: (r) => aborted(r.signal),
};

/** Every provider is the slow model. */
class SlowProviders extends ProviderRegistry {
  override get(): Promise<Provider> {
    return Promise.resolve(slowModel);
  }
}

function slowGateway(store: GatewayStore, applyGuardrail?: ApplyGuardrail, caller: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant: acme }) {
  const config = configWith({
    gateway: {
      // A healthy stream is never cut by the upstream timeouts: only the deadline ends this one.
      upstreamTimeoutMs: 600_000, upstreamIdleTimeoutMs: 600_000, upstreamRetries: 1,
      models: [
        { id: 'openai-compatible/slow', upstream: 'slow', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 16_384 },
        { id: 'openai-compatible/embed', upstream: 'embed', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096, maxInputTokens: 8192 },
      ],
    },
  });
  const records: AuditRecord[] = [];
  const gateway = new Gateway({
    config, store, audit: { write: async (r) => void records.push(r) }, awaitAudit: true,
    authorizer: { authorize: async () => caller, settled: async () => undefined } as unknown as Authorizer,
    providers: new SlowProviders(config, async () => 'k'), applyGuardrail,
  });
  return { gateway, records };
}

/** One router invocation with `remainingMs` left (60 s); `finished` once the handler returned. */
function invoke(gateway: Gateway, path: string, body: unknown, remainingMs = REMAINING_MS) {
  holder.gateway = gateway;
  const chunks: string[] = [];
  const raw = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { meta?: { statusCode: number; headers: Record<string, string> } };
  const event = { httpMethod: 'POST', path: `/prod${path}`, headers: { Authorization: 'Bearer x', 'Content-Type': 'application/json' }, body: JSON.stringify(body), isBase64Encoded: false, queryStringParameters: null };
  const state = { finished: false, chunks, raw };
  void handler(event, raw, { getRemainingTimeInMillis: () => remainingMs }).then(() => { state.finished = true; });
  return state;
}

/** Lets pending I/O and promises run (setImmediate is not faked) until `done()`, at most `turns` turns. */
async function until(done: () => boolean | Promise<boolean>, turns = 2000): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    if (await done()) return true;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

/** The invocation reaches its deadline: the fake clock moves to 1 ms before it (nothing ends), then to it. */
async function reachDeadline(state: { finished: boolean }): Promise<void> {
  await vi.advanceTimersByTimeAsync(DEADLINE_MS - 1);
  expect(state.finished).toBe(false); // not cut before its deadline
  await vi.advanceTimersByTimeAsync(1);
  expect(await until(() => state.finished), 'the invocation ended at its deadline').toBe(true);
}

const events = (chunks: string[]) => chunks.join('').split('\n\n').filter(Boolean).map((e) => e.replace(/^(event: [^\n]*\n)?data: /, ''));

describe('router Lambda: a request still running at the deadline is stopped, settled and answered', () => {
  let store: MemoryStore;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    longTail.text = '';
    store = new MemoryStore();
    store.putTenant(acme);
  });
  afterEach(async () => {
    await vi.advanceTimersByTimeAsync(1_000_000); // an invocation the old code left hanging ends at the upstream timeouts
    vi.useRealTimers();
  });

  it('a chat stream: the words produced are billed (estimated), nothing stays held, the stream ends with the error event and no [DONE]', async () => {
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', stream: true, messages: [{ role: 'user', content: 'think' }] });
    expect(await until(() => events(state.chunks).length >= WORDS.length)).toBe(true);
    const reserved = (await store.usage('acme', new Date())).held!.day.tokens;
    await reachDeadline(state);
    const sent = events(state.chunks);
    expect(sent.slice(0, WORDS.length).map((e) => (JSON.parse(e) as ChatCompletionChunk).choices[0].delta.content)).toEqual(WORDS);
    expect(sent).toHaveLength(WORDS.length + 1);
    expect(JSON.parse(sent.at(-1)!)).toEqual({ error: { message: expect.stringContaining("the gateway's time for this request ran out"), type: 'timeout_error', param: null, code: 'request_deadline_exceeded' } });
    expect(state.raw.meta!.statusCode).toBe(200); // the stream had begun
    const [audit] = records;
    expect(audit).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded', usageEstimated: true, completionTokens: countCompletionTokens(WORDS.join('')) });
    expect(reserved).toBe(audit.promptTokens! + 16_384); // held while it streamed: the prompt and the model's whole output (no max_tokens)
    const usage = await store.usage('acme', new Date());
    expect(usage.held).toEqual({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
    expect(usage.day.tokens).toBe(audit.promptTokens! + audit.completionTokens!);
    expect(usage.month.tokens).toBe(usage.day.tokens);
  });

  it('a whole chat answer: 504 request_deadline_exceeded in OpenAI\'s shape with x-should-retry: false, the reservation released', async () => {
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', messages: [{ role: 'user', content: 'think' }] });
    expect(await until(async () => (await store.usage('acme', new Date())).held!.day.tokens > 0)).toBe(true); // reserved, calling
    await reachDeadline(state);
    expect(state.raw.meta).toMatchObject({ statusCode: 504, headers: { 'content-type': 'application/json', 'x-should-retry': 'false' } });
    expect(JSON.parse(state.chunks.join(''))).toEqual({ error: { message: expect.stringContaining('no answer came before the gateway\'s time for this request ran out'), type: 'timeout_error', param: null, code: 'request_deadline_exceeded' } });
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded' });
    const usage = await store.usage('acme', new Date());
    expect(usage.held).toEqual({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
    expect(usage.day.tokens).toBe(0);
  });

  it('a Responses API stream: the error event naming request_deadline_exceeded, then response.failed; the words produced billed', async () => {
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/responses', { model: 'openai-compatible/slow', stream: true, store: false, input: 'think' });
    expect(await until(() => state.chunks.join('').includes('response.output_text.delta'))).toBe(true);
    await reachDeadline(state);
    const sent = events(state.chunks).map((e) => JSON.parse(e) as { type: string; code?: string; response?: { status: string } });
    expect(sent.slice(-2).map((e) => e.type)).toEqual(['error', 'response.failed']);
    expect(sent.at(-2)).toMatchObject({ code: 'request_deadline_exceeded' });
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded', usageEstimated: true, completionTokens: countCompletionTokens(WORDS.join('')) });
    const usage = await store.usage('acme', new Date());
    expect(usage.held!.day.tokens).toBe(0);
    expect(usage.day.tokens).toBe(records[0].promptTokens! + records[0].completionTokens!);
  });

  it('a Bedrock output guardrail check in flight at the deadline is stopped: the stream ends with request_deadline_exceeded and is settled (it waited for ApplyGuardrail past the Lambda timeout, the reservation held)', async () => {
    const guarded = localTenant('guarded', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'grabc123:3' }, auditPromptText: false } } as never);
    store.putTenant(guarded);
    longTail.text = ' …'.repeat(400); // 800 characters: a Bedrock output guardrail's window (750 characters) is full
    const checks: Array<{ source?: string; signal?: AbortSignal }> = [];
    // INPUT passes; OUTPUT (a window of the answer) is a call that never answers, as a stalled connection: only its abort ends it.
    const applyGuardrail: ApplyGuardrail = async (_id, _texts, source, signal) => {
      checks.push({ source, signal });
      if (source !== 'OUTPUT') return { blocked: false };
      return await new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    };
    const { gateway, records } = slowGateway(store, applyGuardrail, { tenantId: 'guarded', userId: 'u-1', role: 'member', tenant: guarded });
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', stream: true, messages: [{ role: 'user', content: 'think' }] });
    expect(await until(() => checks.some((c) => c.source === 'OUTPUT'))).toBe(true); // a window is being checked
    await reachDeadline(state);
    const sent = events(state.chunks);
    expect(JSON.parse(sent.at(-1)!)).toMatchObject({ error: { type: 'timeout_error', code: 'request_deadline_exceeded' } });
    expect(sent.some((e) => e.includes('Thinking'))).toBe(false); // the text not yet checked is not sent
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded', usageEstimated: true });
    const usage = await store.usage('guarded', new Date());
    expect(usage.held).toEqual({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
    expect(usage.day.tokens).toBe(records[0].promptTokens! + records[0].completionTokens!);
  });

  it('a Bedrock input guardrail check in flight at the deadline is stopped: 504 request_deadline_exceeded, nothing reserved, the model never called', async () => {
    const guarded = localTenant('guarded', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'grabc123:3' }, auditPromptText: false } } as never);
    store.putTenant(guarded);
    let checking = false;
    const applyGuardrail: ApplyGuardrail = async (_id, _texts, _source, signal) => {
      checking = true;
      return await new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    };
    const { gateway, records } = slowGateway(store, applyGuardrail, { tenantId: 'guarded', userId: 'u-1', role: 'member', tenant: guarded });
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', messages: [{ role: 'user', content: 'think' }] });
    expect(await until(() => checking)).toBe(true);
    await reachDeadline(state);
    expect(state.raw.meta).toMatchObject({ statusCode: 504, headers: { 'x-should-retry': 'false' } });
    expect(JSON.parse(state.chunks.join(''))).toEqual({ error: { message: expect.stringContaining('checked the input'), type: 'timeout_error', param: null, code: 'request_deadline_exceeded' } });
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded' });
    const usage = await store.usage('guarded', new Date());
    expect(usage.held).toEqual({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
    expect(usage.day.tokens).toBe(0);
  });

  it('embeddings: 504 request_deadline_exceeded, the reservation released', async () => {
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/embeddings', { model: 'openai-compatible/embed', input: 'a text' });
    await reachDeadline(state);
    expect(state.raw.meta).toMatchObject({ statusCode: 504, headers: { 'x-should-retry': 'false' } });
    expect(JSON.parse(state.chunks.join('')).error.code).toBe('request_deadline_exceeded');
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded' });
    const usage = await store.usage('acme', new Date());
    expect(usage.held!.day.tokens).toBe(0);
    expect(usage.day.tokens).toBe(0);
  });
});

/**
 * The usage table as the store's requests leave it: each UpdateItem's (and transaction item's)
 * `ADD` applied to its item (numbers summed, sets joined; DynamoDB's ADD semantics for the two),
 * `SET` and conditions ignored (no budget is near its limit here). GetItem reads the items.
 */
function usageTable() {
  const items = new Map<string, Record<string, unknown>>();
  const apply = (u: Pick<UpdateCommandInput, 'Key' | 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>) => {
    const item: Record<string, unknown> = items.get(u.Key!.id as string) ?? { id: u.Key!.id };
    const add = /ADD (.*?)(?: SET |$)/.exec(u.UpdateExpression!)?.[1] ?? '';
    for (const pair of add.split(', ')) {
      const [ref, value] = pair.split(' ');
      const name = u.ExpressionAttributeNames?.[ref] ?? ref;
      const v = u.ExpressionAttributeValues![value];
      item[name] = v instanceof Set ? new Set([...((item[name] as Set<string>) ?? []), ...v]) : Number(item[name] ?? 0) + Number(v);
    }
    items.set(u.Key!.id as string, item);
  };
  const ddb = mockClient(DynamoDBDocumentClient);
  ddb.on(TransactWriteCommand).callsFake((input) => { for (const i of input.TransactItems) apply(i.Update); return {}; });
  ddb.on(UpdateCommand).callsFake((input) => (apply(input), {}));
  ddb.on(GetCommand).callsFake((input) => ({ Item: items.get(input.Key.id) }));
  return { items, ddb };
}

describe('router Lambda: API Gateway\'s idle limit on a response stream that sends nothing (5 minutes, regional endpoint)', () => {
  /** When the idle deadline comes after the last write: API Gateway's 5 minutes less the settle margin. */
  const IDLE_DEADLINE_MS = STREAM_IDLE_TIMEOUT_MS - SETTLE_MARGIN_MS;
  let store: MemoryStore;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    longTail.text = '';
    store = new MemoryStore();
    store.putTenant(acme);
  });
  afterEach(async () => {
    await vi.advanceTimersByTimeAsync(1_000_000);
    vi.useRealTimers();
  });

  it('a whole answer with 15 minutes of Lambda left: 504 request_deadline_exceeded before API Gateway\'s 5 minutes, naming that limit, the reservation released', async () => {
    // Before, nothing ended it until the Lambda's own deadline at 14:45, long after API Gateway had closed the stream.
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', messages: [{ role: 'user', content: 'think' }] }, 15 * 60_000);
    expect(await until(async () => (await store.usage('acme', new Date())).held!.day.tokens > 0)).toBe(true);
    await vi.advanceTimersByTimeAsync(IDLE_DEADLINE_MS - 1);
    expect(state.finished).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await until(() => state.finished), 'the invocation ended at the idle deadline').toBe(true);
    expect(state.raw.meta).toMatchObject({ statusCode: 504, headers: { 'content-type': 'application/json', 'x-should-retry': 'false' } });
    expect(JSON.parse(state.chunks.join(''))).toEqual({ error: { message: expect.stringContaining("API Gateway's 5-minute limit on a response stream that sends nothing"), type: 'timeout_error', param: null, code: 'request_deadline_exceeded' } });
    expect(records[0]).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded' });
    expect((await store.usage('acme', new Date())).held).toEqual({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
  });

  it('a stream gone silent after its words (a model thinking): a keep-alive comment each minute keeps it open past the idle deadline, the caller\'s events unchanged', async () => {
    const { gateway } = slowGateway(store);
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', stream: true, messages: [{ role: 'user', content: 'think' }] }, 15 * 60_000);
    expect(await until(() => events(state.chunks).length >= WORDS.length)).toBe(true);
    await vi.advanceTimersByTimeAsync(IDLE_DEADLINE_MS + 60_000);
    expect(state.finished).toBe(false); // before, the idle deadline ended it here (and API Gateway at 5 minutes)
    const comments = state.chunks.filter((c) => c === ': keep-alive\n\n');
    expect(comments.length).toBe(Math.floor((IDLE_DEADLINE_MS + 60_000) / SSE_KEEP_ALIVE_MS));
    // The events themselves are the model's words, as before; the comments lie between them.
    expect(events(state.chunks.filter((c) => !c.startsWith(':'))).slice(0, WORDS.length).map((e) => (JSON.parse(e) as ChatCompletionChunk).choices[0].delta.content)).toEqual(WORDS);
  });

  it('streamIdleDeadline: each touch starts the idle time again; a disposed one never aborts', async () => {
    const idle = streamIdleDeadline();
    await vi.advanceTimersByTimeAsync(IDLE_DEADLINE_MS - 1_000);
    idle.touch();
    await vi.advanceTimersByTimeAsync(IDLE_DEADLINE_MS - 1);
    expect(idle.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(idle.signal.aborted).toBe(true);
    const gone = streamIdleDeadline();
    gone.dispose();
    gone.touch();
    await vi.advanceTimersByTimeAsync(STREAM_IDLE_TIMEOUT_MS * 2);
    expect(gone.signal.aborted).toBe(false);
  });
});

describe('router Lambda on the DynamoDB store: the deadline settles the counter items', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(async () => {
    await vi.advanceTimersByTimeAsync(1_000_000);
    vi.useRealTimers();
  });

  it('a chat stream cut at the deadline: heldTokens and heldNanos back to 0 on the tenant\'s and the user\'s day and month items, tokens = what was produced', async () => {
    const { items, ddb } = usageTable();
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const store = new DynamoDbStore('tenants', 'usage', async () => doc);
    const { gateway, records } = slowGateway(store);
    const state = invoke(gateway, '/v1/chat/completions', { model: 'openai-compatible/slow', stream: true, messages: [{ role: 'user', content: 'think' }] });
    expect(await until(() => events(state.chunks).length >= WORDS.length)).toBe(true);
    const now = new Date();
    const day = usageIds.tenantUsage('acme', now.toISOString().slice(0, 10));
    const month = usageIds.tenantUsage('acme', now.toISOString().slice(0, 7));
    const userDay = usageIds.subjectUsage('acme', { kind: 'user', id: 'u-1' }, now.toISOString().slice(0, 10));
    expect(items.get(day)!.heldTokens).toBeGreaterThan(16_384); // while it streams: the prompt and the model's whole output
    await reachDeadline(state);
    expect(JSON.parse(events(state.chunks).at(-1)!).error.code).toBe('request_deadline_exceeded');
    const [audit] = records;
    expect(audit).toMatchObject({ status: 504, outcome: 'request_deadline_exceeded', usageEstimated: true });
    const used = audit.promptTokens! + audit.completionTokens!;
    const costNanos = Math.round(audit.costUsd! * 1_000_000_000);
    for (const id of [day, month, userDay, usageIds.subjectUsage('acme', { kind: 'user', id: 'u-1' }, now.toISOString().slice(0, 7))]) {
      expect(items.get(id), id).toMatchObject({ tokens: used, costNanos, heldTokens: 0, heldNanos: 0, requests: 1 });
    }
    expect(ddb.commandCalls(TransactWriteCommand).flatMap((c) => c.args[0].input.TransactItems!.map((i) => i.Update?.Key!.id))).toContain(usageIds.modelDay('acme', now.toISOString().slice(0, 10), 'openai-compatible/slow')); // the ledger has it (in the settle's transaction)
    ddb.restore();
  });
});
