import { randomBytes } from 'node:crypto';
import type { ModelEntry, PlatformConfig } from '../../lib/config/schema.js';
import { sha256, type AuditRecord, type AuditSink } from './audit.js';
import type { Authorizer, Caller } from './auth.js';
import { ChatCompletionRequest, estimateTokens, textOf, type ChatMessage, type Usage } from './chat-schema.js';
import { parseJson, parseWith } from './request-body.js';
import { redactPii, screenPromptInjection, StreamRedactor } from './guardrails.js';
import { GatewayError, invalid, limited, notFound, tooLarge, upstream, upstreamTimeout } from './openai-errors.js';
import { PolicyCache, providerOf, type TenantPolicy } from './policy.js';
import { ProviderError, type ProviderChunk, type ProviderRequest } from './providers/provider.js';
import type { ProviderRegistry } from './providers/registry.js';
import { BudgetExhaustedError, type GatewayStore, type Reservation } from './stores/gateway-store.js';
import type { GatewayPolicy } from '../../lib/tenant-record.js';
import type { FineTuningService } from '../fine-tuning/fine-tuning-service.js';

type Guardrails = GatewayPolicy['guardrails'];

export interface GatewayRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body?: string;
  query?: Record<string, string | undefined>;
}

/** How a response leaves: whole (JSON) or as server-sent events. */
export interface GatewayResponder {
  json(status: number, body: string): void | Promise<void>;
  stream(): { write(event: string): void | Promise<void>; end(): void | Promise<void> };
}

export interface GatewayDeps {
  config: PlatformConfig;
  store: GatewayStore;
  authorizer: Authorizer;
  providers: ProviderRegistry;
  audit: AuditSink;
  /** Awaited before the response ends (Lambda) or written after it (local server). @default false */
  awaitAudit?: boolean;
  /** Bedrock ApplyGuardrail on the user input and on non-streamed answers, for tenants that configure a guardrail. @default - Bedrock's, loaded on first use */
  applyGuardrail?: (guardrailId: string, texts: string[], source?: 'INPUT' | 'OUTPUT') => Promise<{ blocked: boolean; reason?: string }>;
  /** OpenAI's fine-tuning API (`/v1/fine_tuning/jobs...`). @default - not served here (404) */
  fineTuning?: FineTuningService;
}

const cost = (m: ModelEntry, prompt: number, completion: number) => (prompt * m.inputPricePer1k + completion * m.outputPricePer1k) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The OpenAI-compatible gateway, transport-free: the local server and the Lambda adapters feed it
 * requests. Per request: authenticate (claims only), resolve the tenant policy, check the model,
 * count the request against the tier's rate limits, apply guardrails, reserve the budget, call the
 * provider with retries and the tenant's fallback chain, settle the budget with the real usage,
 * audit, answer in OpenAI's shapes.
 */
export class Gateway {
  private readonly policies: PolicyCache;
  private readonly applyGuardrail: NonNullable<GatewayDeps['applyGuardrail']>;

  constructor(private readonly deps: GatewayDeps) {
    this.policies = new PolicyCache(deps.config);
    this.applyGuardrail = deps.applyGuardrail ?? (async (id, texts, source) => (await import('./bedrock-guardrail.js')).applyBedrockGuardrail(id, texts, source));
  }

  async handle(req: GatewayRequest, res: GatewayResponder): Promise<void> {
    const started = performance.now();
    const audit: AuditRecord = { requestId: `chatcmpl-${randomBytes(12).toString('hex')}`, at: new Date().toISOString(), latencyMs: 0, status: 200, outcome: 'ok' };
    try {
      const path = req.path.replace(/\/+$/, '');
      const route = `${req.method} ${path}`;
      const known = ['/v1/chat/completions', '/v1/models', '/v1/usage'].includes(path);
      const fineTuning = path === '/v1/fine_tuning/jobs' || path.startsWith('/v1/fine_tuning/jobs/');
      const bytes = Buffer.byteLength(req.body ?? '');
      if (bytes > this.deps.config.gateway.maxRequestBytes) {
        throw tooLarge(`request body is ${bytes} bytes; the limit is ${this.deps.config.gateway.maxRequestBytes}`);
      }
      const caller = await this.deps.authorizer.authorize(req.headers.authorization);
      Object.assign(audit, { tenantId: caller.tenantId, userId: caller.userId });
      if (fineTuning) {
        if (!this.deps.fineTuning) throw notFound(`fine-tuning is not served on this endpoint (${req.method} ${req.path})`, null, 'route_not_found');
        const answer = await this.deps.fineTuning.handle(req.method, path, req.query ?? {}, req.body, caller, audit);
        return await res.json(answer.status, answer.body);
      }
      const policy = this.policies.get(caller.tenant);
      if (route === 'POST /v1/chat/completions') return await this.chat(req, res, caller, policy, audit);
      if (route === 'GET /v1/models') return await res.json(200, this.models(policy));
      if (route === 'GET /v1/usage') return await res.json(200, await this.usage(policy));
      if (known) throw new GatewayError(405, `${req.method} is not supported on ${req.path}`, 'invalid_request_error', 'method_not_allowed');
      throw notFound(`no route ${req.method} ${req.path}`, null, 'route_not_found');
    } catch (e) {
      const err = e instanceof GatewayError ? e : upstream(`internal error (request ${audit.requestId})`, 'internal_error');
      if (!(e instanceof GatewayError)) console.error(JSON.stringify({ level: 'ERROR', message: 'gateway failure', requestId: audit.requestId, error: (e as Error).message }));
      Object.assign(audit, { status: err.status, outcome: err.code });
      await res.json(err.status, err.body());
    } finally {
      audit.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      const written = this.deps.audit.write(audit).catch((e) => console.error(JSON.stringify({ level: 'ERROR', message: 'audit write failed', error: (e as Error).message })));
      if (this.deps.awaitAudit) await written;
    }
  }

  private models(policy: TenantPolicy): string {
    return JSON.stringify({ object: 'list', data: [...policy.models.values()].map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: providerOf(m) })) });
  }

  private async usage(policy: TenantPolicy): Promise<string> {
    const used = await this.deps.store.usage(policy.tenantId, new Date());
    const { limits } = policy;
    const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : Math.max(0, limit - spent));
    return JSON.stringify({
      object: 'usage', tenant: policy.tenantId, day: used.day, month: used.month,
      limits: { daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
      remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
    });
  }

  private async chat(req: GatewayRequest, res: GatewayResponder, caller: Caller, policy: TenantPolicy, audit: AuditRecord): Promise<void> {
    const request = parseWith(ChatCompletionRequest, parseJson(req.body));
    const requested = request.model === 'default' && policy.gateway.defaultModel ? policy.gateway.defaultModel : request.model;
    const model = policy.models.get(requested);
    if (!model) throw notFound(`model "${requested}" does not exist or is not available to tenant ${caller.tenantId}; GET /v1/models lists yours`, 'model', 'model_not_found');
    Object.assign(audit, { model: model.id, provider: providerOf(model), stream: Boolean(request.stream) });

    const rate = await this.deps.store.countRequest(caller.tenantId, policy.rate, new Date());
    if (!rate.ok) throw limited(`rate limit of ${rate.limit} requests per ${rate.window} reached for tenant ${caller.tenantId}`, 'rate_limit_exceeded');

    const messages = this.guard(request.messages, policy, audit);
    if (policy.gateway.guardrails.bedrockGuardrailId) {
      const verdict = await this.applyGuardrail(policy.gateway.guardrails.bedrockGuardrailId, messages.filter((m) => m.role === 'user').map((m) => textOf(m.content)));
      if (verdict.blocked) throw invalid(`the request was blocked by the tenant's Bedrock guardrail${verdict.reason ? `: ${verdict.reason}` : ''}`, 'messages', 'guardrail_intervened');
    }
    const promptText = messages.map((m) => textOf(m.content)).join('\n');
    audit.promptSha256 = sha256(promptText);
    if (policy.gateway.auditPromptText) audit.prompt = promptText;

    const maxTokens = Math.min(request.max_completion_tokens ?? request.max_tokens ?? policy.gateway.maxTokens ?? model.maxOutputTokens, model.maxOutputTokens);
    const promptEstimate = estimateTokens(promptText);
    let reservation: Reservation;
    try {
      reservation = await this.deps.store.reserve(caller.tenantId, promptEstimate + maxTokens, cost(model, promptEstimate, maxTokens), policy.limits, new Date());
    } catch (e) {
      if (e instanceof BudgetExhaustedError) {
        const unit = e.budget === 'monthly cost budget' ? `USD ${e.limit}` : `${e.limit} tokens`;
        throw limited(`${e.budget} of ${unit} is exhausted for tenant ${caller.tenantId} (this request would reserve ${promptEstimate + maxTokens} tokens)`, 'budget_exceeded');
      }
      throw e;
    }

    // A tenant's own Bedrock application inference profile replaces the model id, so its usage is billed to it.
    const profiles = policy.gateway.bedrockInferenceProfiles ?? {};
    const routed = (m: ModelEntry): ModelEntry => (profiles[m.id] ? { ...m, upstream: profiles[m.id] } : m);
    const chain = [model, ...policy.gateway.fallbacks.map((id) => policy.models.get(id)).filter((m): m is ModelEntry => Boolean(m) && m!.id !== model.id)].map(routed);
    const base = { messages, maxTokens, temperature: request.temperature, topP: request.top_p, stop: request.stop, tenantId: caller.tenantId };
    let settled = false;
    const settle = async (used: ModelEntry, usage: Usage) => {
      settled = true;
      const costUsd = cost(used, usage.prompt_tokens, usage.completion_tokens);
      Object.assign(audit, { model: used.id, provider: providerOf(used), promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, usageEstimated: usage.estimated ?? false, costUsd });
      if (used.id !== model.id) audit.fallbackFrom = model.id;
      await this.deps.store.settle(reservation, usage.total_tokens, costUsd);
    };
    try {
      if (request.stream) await this.streamChat(res, chain, base, audit, promptEstimate, settle, policy.gateway.guardrails);
      else await this.completeChat(res, chain, base, audit, promptEstimate, settle, policy.gateway.guardrails);
    } finally {
      if (!settled) await this.deps.store.settle(reservation, 0, 0); // nothing was produced: release the reservation
    }
  }

  private guard(messages: ChatMessage[], policy: TenantPolicy, audit: AuditRecord): ChatMessage[] {
    const g = policy.gateway.guardrails;
    const found: string[] = [];
    const out = messages.map((m) => {
      const text = textOf(m.content);
      if (m.role === 'user' && g.promptInjectionScreen && screenPromptInjection(text)) {
        throw invalid('the request was refused by the prompt-injection screen of this tenant', `messages`, 'prompt_injection_detected');
      }
      if (!g.redactPii || m.role === 'assistant') return m;
      const r = redactPii(text);
      found.push(...r.found);
      return r.found.length ? { ...m, content: r.text } : m;
    });
    if (found.length) audit.piiRedacted = [...new Set(found)];
    return policy.gateway.systemPrompt ? [{ role: 'system', content: policy.gateway.systemPrompt }, ...out] : out;
  }

  /** Tries each model of the chain, each with retries and jittered backoff, until one answers. */
  private async attempt<T>(chain: ModelEntry[], base: Omit<ProviderRequest, 'model' | 'signal'>, call: (r: ProviderRequest) => Promise<T>): Promise<{ result: T; model: ModelEntry }> {
    const { upstreamRetries, upstreamTimeoutMs } = this.deps.config.gateway;
    let last: ProviderError | undefined;
    for (const model of chain) {
      for (let attempt = 0; attempt <= upstreamRetries; attempt++) {
        try {
          const result = await call({ ...base, model, signal: AbortSignal.timeout(upstreamTimeoutMs) });
          return { result, model };
        } catch (e) {
          last = e instanceof ProviderError ? e : new ProviderError((e as Error).message, undefined, false);
          if (!last.retryable) break;
          if (attempt < upstreamRetries) await sleep(Math.random() * 100 * 2 ** attempt);
        }
      }
    }
    if (last?.status === undefined && /timed out/.test(last?.message ?? '')) throw upstreamTimeout(`every model of the chain timed out after ${upstreamTimeoutMs} ms`);
    throw upstream(`upstream failed for every model of the chain (${chain.map((m) => m.id).join(', ')}): ${last?.message ?? 'no answer'}`);
  }

  private usageOf(promptEstimate: number, completion: string, reported?: { promptTokens: number; completionTokens: number }): Usage {
    if (reported) return { prompt_tokens: reported.promptTokens, completion_tokens: reported.completionTokens, total_tokens: reported.promptTokens + reported.completionTokens };
    const c = estimateTokens(completion);
    return { prompt_tokens: promptEstimate, completion_tokens: c, total_tokens: promptEstimate + c, estimated: true };
  }

  private async completeChat(res: GatewayResponder, chain: ModelEntry[], base: Omit<ProviderRequest, 'model' | 'signal'>, audit: AuditRecord, promptEstimate: number, settle: (m: ModelEntry, u: Usage) => Promise<void>, guardrails: Guardrails): Promise<void> {
    const { result, model } = await this.attempt(chain, base, async (r) => (await this.deps.providers.get(providerOf(r.model), r.tenantId)).complete(r));
    const usage = this.usageOf(promptEstimate, result.content, result.usage);
    await settle(model, usage); // the tokens were spent whether or not the answer is shown
    if (guardrails.bedrockGuardrailId) {
      const verdict = await this.applyGuardrail(guardrails.bedrockGuardrailId, [result.content], 'OUTPUT');
      if (verdict.blocked) {
        // OpenAI's convention for a filtered answer: 200, finish_reason content_filter.
        result.content = verdict.reason ?? 'The answer was withheld by the tenant\'s guardrail.';
        result.finishReason = 'content_filter';
        audit.outcome = 'guardrail_blocked_answer';
      }
    }
    if (guardrails.redactResponses) {
      const r = redactPii(result.content);
      result.content = r.text;
      noteResponsePii(audit, r.found);
    }
    await res.json(200, JSON.stringify({
      id: audit.requestId, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: model.id,
      choices: [{ index: 0, message: { role: 'assistant', content: result.content }, finish_reason: result.finishReason, logprobs: null }],
      usage,
    }));
  }

  private async streamChat(res: GatewayResponder, chain: ModelEntry[], base: Omit<ProviderRequest, 'model' | 'signal'>, audit: AuditRecord, promptEstimate: number, settle: (m: ModelEntry, u: Usage) => Promise<void>, guardrails: Guardrails): Promise<void> {
    // Retries and fallbacks apply until the first chunk arrives; after that the stream is the answer.
    const { result: first, model } = await this.attempt(chain, base, async (r) => {
      const iterator = (await this.deps.providers.get(providerOf(r.model), r.tenantId)).stream(r)[Symbol.asyncIterator]();
      const head = await iterator.next();
      return { iterator, head };
    });
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: audit.requestId, object: 'chat.completion.chunk', created, model: model.id, choices, ...extra })}\n\n`;
    const out = res.stream();
    await out.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    let text = '';
    let reported: ProviderChunk['usage'];
    let finish = 'stop';
    const redactor = guardrails.redactResponses ? new StreamRedactor() : undefined;
    const send = async (content: string) => { if (content) await out.write(chunk([{ index: 0, delta: { content }, finish_reason: null }])); };
    const emit = async (c: ProviderChunk) => {
      if (c.delta) {
        text += c.delta;
        await send(redactor ? redactor.push(c.delta) : c.delta);
      }
      if (c.finishReason) finish = c.finishReason;
      if (c.usage) reported = c.usage;
    };
    try {
      if (!first.head.done) await emit(first.head.value);
      for (let next = await first.iterator.next(); !next.done; next = await first.iterator.next()) await emit(next.value);
    } catch (e) {
      if (redactor) await send(redactor.flush());
      audit.outcome = 'upstream_stream_interrupted';
      await out.write(`data: ${JSON.stringify({ error: { message: `upstream stream interrupted: ${(e as Error).message}`, type: 'upstream_error', param: null, code: 'upstream_stream_interrupted' } })}\n\n`);
    }
    if (redactor) {
      await send(redactor.flush());
      noteResponsePii(audit, redactor.found);
    }
    const usage = this.usageOf(promptEstimate, text, reported);
    await settle(model, usage);
    await out.write(chunk([{ index: 0, delta: {}, finish_reason: finish }]));
    await out.write(chunk([], { usage }));
    await out.write('data: [DONE]\n\n');
    await out.end();
  }
}

/** Adds the PII kinds found in an answer to the audit record, marked as the response's. */
function noteResponsePii(audit: AuditRecord, found: string[]): void {
  if (found.length) audit.piiRedacted = [...new Set([...(audit.piiRedacted ?? []), ...found.map((f) => `response:${f}`)])];
}
