import type { InputFileReader } from './input-files.js';
import type { ModelEntry, PlatformConfig } from '../../lib/config/schema.js';
import type { AuditRecord } from './audit.js';
import type { Caller } from './auth.js';
import { GatewayError, invalid, limited, notFound } from './openai-errors.js';
import { catalogIdOf, modelNotFoundFor, providerOf, type TenantPolicy } from './policy.js';
import type { BudgetAlerts } from './budget-alerts/budget-alerts.js';
import type { ProviderRegistry } from './providers/registry.js';
import { msUntilWindowEnd, rateLimitHeaders, servedRateLimitHeaders, type LimitWindow, type RateLimitState } from './rate-limit-headers.js';
import { BudgetExhaustedError, ModelUsageCapacityError, SubjectCapacityError, TokenRateLimitError, usageReads, type GatewayStore, type LimitScope, type RequestCounts, type Reservation, type SettledUsage, type Subject, type UsageRead } from './stores/gateway-store.js';
import { UpstreamCalls } from './upstream-calls.js';
import { BATCH_RATE_SHARE, batchRateLimits, batchSubject, batchTurnRefusal } from './batches/line-retry.js';
import { cooldownPolicyOf, ModelHealth } from './model-health.js';
import type { CacheTokens } from './chat/reported-usage.js';
import type { PendingCreates } from './pending-creates.js';
import type { ReasoningSeal } from './responses/reasoning-seal.js';
import type { RequestCache } from './response-cache/request-cache.js';
import { entryLogger, serviceLogger, type LogEntry } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * What ApplyGuardrail decided for the texts sent: `blocked` (with the guardrail's configured
 * message as `reason`), or not; when it masked them (a sensitive information filter set to
 * ANONYMIZE), `masked` holds one text per text sent, in order, with the entities replaced by
 * Bedrock's tags (`{EMAIL}`, `{NAME}`, a regex's name), to use instead of the texts sent.
 */
export interface GuardrailVerdict {
  blocked: boolean;
  reason?: string;
  masked?: string[];
}

/**
 * Bedrock ApplyGuardrail on `texts` (one content block each): blocked or not, the guardrail's
 * message, and, when it masked them, one masked text per text sent (bedrock-guardrail.ts guardrailVerdict).
 * `signal` stops the call (the request's deadline: PipelineRequest.deadline); the call then rejects.
 */
export type ApplyGuardrail = (guardrailId: string, texts: string[], source?: 'INPUT' | 'OUTPUT', signal?: AbortSignal) => Promise<GuardrailVerdict>;

/** What a catalog model serves (`kind` of lib/config/schema.ts; absent = chat). */
export type ModelKind = NonNullable<ModelEntry['kind']>;

/** A catalog entry's kind, `chat` when absent. */
export const kindOf = (m: ModelEntry): ModelKind => m.kind ?? 'chat';

/** How a model_kind_mismatch names each kind: with its article, the endpoints it serves, and as the thing an endpoint serves. */
const KINDS: Record<ModelKind, { a: string; serves: string; name: string }> = {
  chat: { a: 'a chat', serves: 'chat (POST /v1/chat/completions, POST /v1/responses)', name: 'chat' },
  embedding: { a: 'an embedding', serves: 'embeddings (POST /v1/embeddings)', name: 'embeddings' },
  moderation: { a: 'a moderation', serves: 'moderations (POST /v1/moderations)', name: 'moderations' },
  image: { a: 'an image', serves: 'image generation (POST /v1/images/generations)', name: 'image generation' },
  transcription: { a: 'a transcription', serves: 'transcriptions and translations (POST /v1/audio/transcriptions, POST /v1/audio/translations)', name: 'transcriptions and translations' },
  speech: { a: 'a speech', serves: 'speech (POST /v1/audio/speech)', name: 'speech' },
  completion: { a: 'a text completion', serves: 'text completions (POST /v1/completions)', name: 'text completions' },
};

/**
 * Token counts in, USD out, at the catalog entry's prices per 1,000 tokens: the prompt at `inputPricePer1k`, except its
 * cache reads at `cachedInputPricePer1k` and its cache writes at `cacheWritePricePer1k` (each @default the input price),
 * the completion at `outputPricePer1k`. The cache tokens are part of `prompt` (OpenAI's `prompt_tokens` holds
 * `prompt_tokens_details.cached_tokens`), so they are priced once: `(prompt − reads − writes) × input + reads × cached
 * + writes × write + completion × output`, over 1000. Without cache tokens, or without cache prices, the figure is exactly `(prompt × input + completion × output) / 1000`,
 * today's. Providers bill the same way: OpenAI's cached input, Bedrock's cache read and write tokens.
 * @param cache the prompt's cache reads and writes (cacheTokensOf: within `prompt`) @default - none (a reservation: every
 *   prompt token at the input price, the upper bound for cache reads; a cache write priced above the input price can
 *   make a settle exceed it)
 */
export const costOf = (m: ModelEntry, prompt: number, completion: number, cache?: CacheTokens): number => {
  // A cache price the entry does not set is the input price: those tokens stay in the prompt's share, so the sum is
  // today's to the last bit (100 × p + 900 × p need not equal 1000 × p in floating point).
  const read = m.cachedInputPricePer1k === undefined ? 0 : cache?.cachedTokens ?? 0;
  const write = m.cacheWritePricePer1k === undefined ? 0 : cache?.cacheWriteTokens ?? 0;
  const cached = (read ? read * m.cachedInputPricePer1k! : 0) + (write ? write * m.cacheWritePricePer1k! : 0);
  return ((prompt - read - write) * m.inputPricePer1k + completion * m.outputPricePer1k + cached) / 1000;
};

/** A caller's request on its way through the pipeline. */
export interface PipelineRequest {
  caller: Caller;
  policy: TenantPolicy;
  audit: AuditRecord;
  /** Aborted when the caller disconnects. */
  signal: AbortSignal;
  /**
   * Aborted when the request must end so that its reservation is settled in time (the router
   * Lambda's timeout less the margin: lambda-deadline.ts): the upstream call is stopped and settled
   * with what it produced. @default - none (`tessera serve`: no deadline)
   */
  deadline?: AbortSignal;
  /**
   * Reads the caller's tenant's files, for `file_id`s in the request (input-files.ts: resolved to inline data before
   * the guardrails and the providers). @default - none: a `file_id` is a 400 (file-ids.ts fileIdNotServed)
   */
  files?: InputFileReader;
  /**
   * The official client's retry number (`x-stainless-retry-count`, sdk-retry.ts sdkRetryOf): a background create's
   * retry may be answered the response its first attempt stored (responses-create.ts). @default - a first attempt
   */
  sdkRetry?: number;
  /**
   * The notes of the background creates still running (pending-creates.ts): a retry waits for its first attempt's
   * (responses-create.ts). @default - none: a retry whose first attempt still runs makes a second response
   */
  pendingCreates?: PendingCreates;
  /** How long a retry waits for its first attempt still running, in ms (pending-creates.ts retryWaitMsOf). @default 0 */
  retryWaitMs?: number;
  /**
   * The platform's seal of reasoning items (`include: ["reasoning.encrypted_content"]`, responses/reasoning-seal.ts).
   * @default - none: that include, and a reasoning item sent back with `encrypted_content`, are a 400
   */
  reasoningSeal?: ReasoningSeal;
  /**
   * The tenant's response cache for this request (response-cache/request-cache.ts), on the routes it serves, when the
   * gateway has one and the tenant's policy turns it on. @default - none: nothing is read from or kept in a cache
   */
  cache?: RequestCache;
  /** Whom the request counts for inside the tenant (set by the pipeline on first use: subjectOf). */
  subject?: Subject;
  /**
   * A line of a batch (Gateway.batchRequest): admitted only within the batch's share of the minute and hour request
   * windows (batches/line-retry.ts batchRateLimits; a window of 1 request by turns, batchTurnRefusal), so that
   * interactive requests keep the rest. @default false
   */
  batch?: boolean;
  /**
   * The limits the request was counted against, each with its count once this request was added:
   * the rate windows (`admit`) and the token budgets (`reserve`), for the `x-ratelimit-*` headers
   * of its answer (RequestPipeline.servedRateHeaders). Set only where the store knows the counts in
   * the request (the embedded stores; not DynamoDB). @default - none
   */
  counted?: { requests?: CountedWindow[]; tokens?: CountedWindow[] };
}

/**
 * Whether the caller may read a stored item answered by `model` (a stored chat completion, a stored response): every
 * user and key of the tenant may, except an API key limited to some models (its `models`), which reads only those
 * models' items. Its policy was narrowed to them (Gateway.policyOf), so another model is one the tenant lacks for it,
 * and the endpoints answer such an item as they answer an unknown id (left out of a list, the unknown id's 404).
 * Conversations are not tied to a model and are not checked.
 * @param model the item's `model` (the catalog id that answered)
 */
export const readsModel = (r: Pick<PipelineRequest, 'caller' | 'policy'>, model: unknown): boolean =>
  !r.caller.key?.models || (typeof model === 'string' && r.policy.models.has(model));

/** A limit a request was counted against: its size, its count with the request, the window and when it ends (epoch ms). */
export interface CountedWindow { limit: number; used: number; window: 'minute' | 'hour' | 'day' | 'month'; endsAt: number }

/**
 * Of a counted request's windows, the one of each group (requests, tokens) it is nearest to exhausting at `now`:
 * the fewest left, the first in the windows' order on a tie. A window that has ended since is the next one, whole.
 * A group the store gave no counts for is left out. What both the served answer's and an upstream 429's
 * `x-ratelimit-*` headers state (RequestPipeline.servedRateHeaders, withRateHeaders).
 */
function nearestWindows(r: Pick<PipelineRequest, 'counted'>, now: Date): { requests?: LimitWindow; tokens?: LimitWindow } {
  const nearest = (windows: CountedWindow[] | undefined): LimitWindow | undefined => {
    let best: LimitWindow | undefined;
    for (const w of windows ?? []) {
      const left = now.getTime() >= w.endsAt
        ? { limit: w.limit, remaining: w.limit, resetMs: msUntilWindowEnd(w.window, now) }
        : { limit: w.limit, remaining: Math.max(0, w.limit - w.used), resetMs: w.endsAt - now.getTime() };
      if (!best || left.remaining < best.remaining) best = left;
    }
    return best;
  };
  return { requests: nearest(r.counted?.requests), tokens: nearest(r.counted?.tokens) };
}

/**
 * The user or key a request counts for, with its own limits: a key caller's usage key id (the
 * first key of its rotation chain, so a rotation does not reset its budgets) and the limits on its
 * record; otherwise the user (`sub`) with the tenant's `userLimits`.
 */
export function subjectOf(r: Pick<PipelineRequest, 'caller' | 'policy' | 'subject'>): Subject {
  const c = r.caller;
  return (r.subject ??= c.keyId ? { kind: 'key', id: c.key?.usageKeyId ?? c.keyId, limits: c.key?.limits } : { kind: 'user', id: c.userId, limits: r.policy.gateway.userLimits });
}

/**
 * The message of a 429 for a request whose reservation alone is more than a whole budget (OpenAI's
 * "Request too large … Limit X, Requested Y"): no wait can make it fit, so it says what to lower:
 * the completion limit (`max_output_tokens` on /v1/responses, `max_completion_tokens` or
 * `max_tokens` on chat; when the caller sent none, the gateway reserved the tenant's cap or the
 * model's maximum), or the input. @param tokenLimit the token budget, undefined for the cost budget
 */
function tooLargeForBudget(r: PipelineRequest, budget: string, unit: string, scope: LimitScope, requested: string, promptTokens: number, completionTokens: number, tokenLimit: number | undefined, choices = 1): string {
  const field = completionField(r);
  const fits = tokenLimit !== undefined && tokenLimit > promptTokens ? atMost(Math.floor((tokenLimit - promptTokens) / choices), choices) : '';
  const lower = completionTokens > 0 ? `lower ${field}${fits} or send less input` : 'send less input';
  return `request too large for the ${budget} of ${whose(r, scope)}: Limit ${unit}, Requested ${requested} (${promptTokens} input + ${completionTokens} completion tokens reserved). `
    + `The request alone is over the whole budget and cannot succeed after any wait; ${lower}`;
}

/** The field that sets a request's completion limit: `max_output_tokens` on /v1/responses, chat's two otherwise. */
const completionField = (r: PipelineRequest) => ((r.audit.path ?? '').startsWith('/v1/responses') ? 'max_output_tokens' : 'max_completion_tokens (or max_tokens)');

/**
 * What a request too large for a whole minute can lower, by its route: its completion limit's field (chat's
 * `max_completion_tokens (or max_tokens)`, the Responses API's `max_output_tokens`, a text completion's `max_tokens`)
 * or its input; only its input for a route without a completion limit (embeddings, audio).
 */
const tooLargeHint = (r: PipelineRequest): string => {
  const path = r.audit.path ?? '';
  const field = path.startsWith('/v1/responses') ? 'max_output_tokens' : path.startsWith('/v1/chat/completions') ? 'max_completion_tokens (or max_tokens)' : path.startsWith('/v1/completions') ? 'max_tokens' : undefined;
  return field ? `lower ${field} or send less input` : 'send less input';
};

/** ` to at most N` (` per choice` for a request of several), or nothing when no completion fits (N < 1). */
const atMost = (n: number, choices: number) => (n >= 1 ? ` to at most ${n}${choices > 1 ? ' per choice' : ''}` : '');

/**
 * The message of a 429 for a budget that has some left, but less than the request's reservation (its input plus its
 * completion limit): "exhausted" was said of it too, and read as nothing left ("of 60 tokens is exhausted" with 6 left).
 * Says what is left, what the request may use and the fix: the completion limit that fits (when the input alone does), or
 * less input, or the reset (`retry-after`). @param left what is left of the budget (tokens, or USD for the cost budget)
 * @param fits the completion tokens (of all choices) that would fit with the request's input, 0 when none
 */
function notEnoughLeft(r: PipelineRequest, budget: string, scope: LimitScope, left: string, unit: string, requested: string, promptTokens: number, completionTokens: number, fits: number, choices: number): string {
  const field = completionField(r);
  const fit = completionTokens > 0 ? atMost(Math.floor(fits / choices), choices) : '';
  const fix = fit ? `lower ${field}${fit} or send less input` : 'its input alone is more than is left: send less input';
  return `${budget} of ${whose(r, scope)} has ${left} of ${unit} left, ${budget === 'monthly cost budget' ? 'less' : 'fewer'} than this request may use `
    + `(${requested}: ${promptTokens} input + ${completionTokens} completion tokens reserved); ${fix}, or wait for the budget to reset (retry-after)`;
}

/**
 * The message of a 429 for an image request (endpoints/images.ts) the monthly cost budget cannot take: "request too large"
 * when its `n` images alone cost more than the whole budget, else what is left; either way the `n` that fits (none when
 * not one image does).
 * @param images the images reserved (`n`) @param cost their USD
 */
async function imageOverBudget(r: PipelineRequest, model: ModelEntry, e: BudgetExhaustedError, unit: string, cost: number, images: number, read: UsageRead): Promise<string> {
  const price = model.pricePerImageUsd ?? 0;
  const requested = `USD ${Number(cost.toPrecision(6))} for ${images} image${images === 1 ? '' : 's'} at USD ${price} each`;
  const fitting = (usd: number) => (price > 0 && usd >= price ? `lower n to at most ${Math.floor(usd / price + 1e-9)}` : 'not one image fits');
  if (cost > e.limit) return `request too large for the ${e.budget} of ${whose(r, e.scope)}: Limit ${unit}, Requested ${requested}. The request alone is over the whole budget and cannot succeed after any wait; ${fitting(e.limit)}`;
  const usage = await read(e.scope === 'tenant' ? undefined : subjectOf(r));
  const left = e.limit - usage.month.costUsd;
  if (left <= 0) return `${e.budget} of ${unit} is exhausted for ${whose(r, e.scope)} (this request would reserve ${requested})`;
  return `${e.budget} of ${whose(r, e.scope)} has USD ${Number(left.toPrecision(6))} of ${unit} left, less than this request may use (${requested}); ${fitting(left)}, or wait for the budget to reset (retry-after)`;
}

/** The most completion tokens (0 … `most`) whose cost with `promptTokens` of input is within `usd` at `model`'s prices. */
function completionWithin(model: ModelEntry, promptTokens: number, most: number, usd: number): number {
  let lo = 0;
  let hi = most;
  if (costOf(model, promptTokens, 0) > usd) return 0;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (costOf(model, promptTokens, mid) <= usd) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The scope and id a 429 names: `tenant acme`, `user 3f1c…`, `key key_0123456789abcdef`; a rotated
 * key, whose limits count under its chain's first key (usageKeyId), names itself first:
 * `key key_<caller> (counted with its rotation chain as key_<first>)`.
 */
const whose = (r: PipelineRequest, scope: LimitScope) => {
  if (scope === 'tenant') return `tenant ${r.caller.tenantId}`;
  const { id } = subjectOf(r);
  const own = r.caller.keyId;
  return scope === 'key' && own && own !== id ? `key ${own} (counted with its rotation chain as ${id})` : `${scope} ${id}`;
};

/**
 * OpenAI's 400 for an output limit past the model's maximum (`max_tokens is too large: 1000000000. This model
 * supports at most 16384 completion tokens, whereas you provided 1000000000.`, `invalid_value`), word for word:
 * clients read the maximum out of it to ask again. The gateway holds every answer to the model's catalog
 * `maxOutputTokens` anyway, so a larger limit would otherwise be cut there silently.
 * @param unit `completion` (chat's `max_tokens` / `max_completion_tokens`) or `output` (`max_output_tokens` of /v1/responses)
 */
export function tooLargeForModel(field: string, value: number, max: number, unit: 'completion' | 'output'): GatewayError {
  return invalid(`${field} is too large: ${value}. This model supports at most ${max} ${unit} tokens, whereas you provided ${value}.`, field, 'invalid_value');
}

/**
 * 503 for a request the embedded multi-thread store's usage ledger has no room for (settled all the same; shared-memory-store.ts),
 * with `x-should-retry: false`: only a restart frees room, and the request was answered and billed already.
 */
const ledgerFull = (e: unknown): never => {
  if (!(e instanceof ModelUsageCapacityError)) throw e;
  throw new GatewayError(503, `${e.message}; restart tessera serve to start with an empty ledger, or allocate more model-days`, 'server_error', 'usage_ledger_capacity_exceeded', null, { 'x-should-retry': 'false' });
};

/**
 * 503 for a user or key the embedded multi-thread store has no room for (shared-memory-store.ts), with
 * `x-should-retry: false`: only a restart frees room, so the SDKs' two retries would be refused the same.
 */
const noRoom = (e: SubjectCapacityError) => new GatewayError(503, `${e.message}; restart tessera serve to start with empty counters, or run fewer distinct users and keys per tenant`, 'server_error', 'subject_capacity_exceeded', null, { 'x-should-retry': 'false' });

/**
 * The steps every model endpoint shares, in this order: resolve the model (the tenant's models
 * only) → count the request against the tier's rate limits and the caller's user's or key's
 * (subjectOf) → (the endpoint's guardrails) → reserve tokens and cost against every budget of the
 * tenant and of that user or key → call the provider with timeouts, retries and
 * the fallback chain → settle the reservation with the real usage → (the gateway writes the
 * audit record). Authentication and the tenant policy come before, in the gateway.
 */
/**
 * A chat request's completion-token limit (RequestPipeline.completionLimit): `add`, the tenant's cap to send as
 * `max_completion_tokens` when the caller sent no limit; `reserve`, the completion tokens reserved per choice;
 * `minute`, those the tokens-per-minute limits count per choice at admission: `reserve` when the caller or the tenant's
 * cap set the limit, 0 when neither did (the model's maximum is not counted: OpenAI's TPM counts `max_tokens` only when
 * sent, and a maximum above the limit would refuse every such request; the settle adds the real completion).
 */
export interface CompletionLimit { add: number | undefined; reserve: number; minute: number }

/** Tenant and fallback names already logged as skipped (skippedFallback): one line each per execution environment. */
const loggedFallbacks = new Set<string>();

/**
 * Logs, once per execution environment (per `tessera serve` worker) for each tenant and name, a fallback of the tenant's
 * policy that names none of its models: not in the catalog (a name stored before the admin API checked names, or a
 * model removed from the catalog since), not allowed by its tier, or of a provider this gateway does not serve. The
 * chain skips it (the request is answered by the others); before, silently on every request.
 * @param log where the JSON line goes. @default console.warn (CloudWatch Logs in a Lambda)
 */
export function skippedFallback(policy: Pick<TenantPolicy, 'tenantId' | 'aliases'>, name: string, log: (entry: LogEntry) => void = entryLogger(logger)): void {
  const key = `${policy.tenantId}\u0000${name}`;
  if (loggedFallbacks.has(key)) return;
  loggedFallbacks.add(key);
  const id = catalogIdOf(policy, name);
  log({
    level: 'WARN', message: 'fallback skipped: the tenant has no model by this name (not in the catalog, not allowed by its tier, or its provider not served here); fix it with tessera tenants gateway <id> --set fallbacks=[...]',
    tenantId: policy.tenantId, fallback: name, ...(id !== name ? { catalogId: id } : {}),
  });
}

export class RequestPipeline {
  readonly upstream: UpstreamCalls;

  constructor(
    /** The platform config (endpoints read their settings from it, e.g. `gateway.responsesTtlDays`). */
    readonly config: PlatformConfig,
    private readonly store: GatewayStore,
    providers: ProviderRegistry,
    readonly applyGuardrail: ApplyGuardrail,
    /** Tenant budget alerts (budget-alerts/): told of each reservation and settle. @default - none */
    private readonly budgetAlerts?: BudgetAlerts,
  ) {
    const g = config.gateway;
    const cooldown = cooldownPolicyOf(g.cooldown);
    this.upstream = new UpstreamCalls((name, tenantId, options) => providers.get(name, tenantId, options), {
      firstByteMs: g.upstreamTimeoutMs, idleMs: g.upstreamIdleTimeoutMs ?? g.upstreamTimeoutMs, retries: g.upstreamRetries,
    }, cooldown && new ModelHealth(cooldown));
  }

  /**
   * The catalog entry for `requested`, if the tenant may use it and it is of the endpoint's `kind`:
   * a catalog id, or an alias (`gateway.modelAliases`; `default` = the tenant's default model)
   * standing for one (policy.ts catalogIdOf). An alias the caller asked for goes into the audit
   * record's `requestedModel`, beside `model`, the catalog id served.
   * @param kind what the endpoint serves: `chat` (chat completions, responses), `embedding` or `moderation`
   * @throws GatewayError 404 `model_not_found` naming `model` (for an alias, the 404 its target gives,
   *   naming the alias); 400 `model_kind_mismatch` naming `model` when the model is of another kind
   */
  model(r: PipelineRequest, requested: string, kind: ModelKind = 'chat'): ModelEntry {
    const id = catalogIdOf(r.policy, requested);
    // The name the caller sent, when it is not the catalog id (the request schemas bound it to 256 characters).
    if (id !== requested) r.audit.requestedModel = requested;
    const model = r.policy.models.get(id);
    if (!model) {
      // The audit record says which model was asked for.
      r.audit.model = id;
      const e = modelNotFoundFor(r.policy, requested, id);
      // A caller with no model of this endpoint's kind at all (audio under the embedded default): the 404 says that is
      // the platform's catalog, not a typo of the caller's (a developer copying OpenAI's `tts-1` learnt nothing else).
      if (![...r.policy.models.values()].some((m) => kindOf(m) === kind) && !r.policy.unserved?.has(id)) {
        const keyModels = r.caller.keyId ? r.caller.key?.models : undefined;
        const whose = keyModels ? `API key ${r.caller.keyId} (limited to its models list)` : `tenant ${r.caller.tenantId}'s tier "${r.caller.tenant.tier}"`;
        throw notFound(`${e.message}; none of them serves ${KINDS[kind].name}: ${whose} has no ${kind} model (the platform adds one with kind: ${kind} to gateway.models and the tier's models)`, 'model', 'model_not_found');
      }
      throw e;
    }
    const own = kindOf(model);
    const named = id === requested ? `"${id}"` : `"${requested}" (${id})`;
    if (own !== kind) {
      // The audit record (and serve's access line) says which model was asked for, as for a model not found.
      r.audit.model = id;
      throw invalid(`model ${named} is ${KINDS[own].a} model: it serves ${KINDS[own].serves}, not ${KINDS[kind].name}`, 'model', 'model_kind_mismatch');
    }
    Object.assign(r.audit, { model: model.id, provider: providerOf(model) });
    return model;
  }

  /**
   * The model, then the tenant's fallbacks of the same kind (a chat request never falls back to an
   * embedding or moderation model: its upstream has no chat API); each routed through the tenant's
   * Bedrock application inference profile when it has one (so its usage is billed to it). Each catalog
   * model once: a fallback named twice (by its alias and its catalog id, `gpt-5.4-mini` and
   * `openai/gpt-5.4-mini`, or the same name twice) is tried once, and never the model itself again.
   */
  chain(r: PipelineRequest, model: ModelEntry): ModelEntry[] {
    const profiles = r.policy.gateway.bedrockInferenceProfiles;
    const chain = [model];
    for (const id of r.policy.gateway.fallbacks) {
      const m = r.policy.models.get(catalogIdOf(r.policy, id)); // a fallback may be named by an alias too
      if (m === undefined) skippedFallback(r.policy, id);
      if (m !== undefined && !chain.some((c) => c.id === m.id) && kindOf(m) === kindOf(model)) chain.push(m);
    }
    if (!profiles) return chain;
    return chain.map((m) => (profiles[m.id] ? { ...m, upstream: profiles[m.id] } : m));
  }

  /**
   * Counts the request in the tier's minute, hour and day windows and, when the caller's user or
   * key has a `requestsPerMinute` limit, in its minute, all or nothing (subjectOf). A batch's line counts against the
   * batch's share (batchRateLimits); a window of 1 request is the batch's every other minute or hour only
   * (batchTurnRefusal: refused without counting in the others).
   * @throws GatewayError 429 `rate_limit_exceeded` naming the scope (`tenant t`, `user <sub>`,
   *   `key key_…`) and the window, with `retry-after`, `x-ratelimit-*` and `x-tessera-limit-scope` headers;
   *   503 `subject_capacity_exceeded` when the embedded multi-thread store has no slot for a new user or key
   */
  async admit(r: PipelineRequest): Promise<void> {
    const now = new Date();
    let rate;
    const turn = r.batch ? batchTurnRefusal(r.policy.rate, subjectOf(r), now) : undefined;
    try {
      rate = turn ?? (r.batch
        ? await this.store.countRequest(r.caller.tenantId, batchRateLimits(r.policy.rate), now, batchSubject(subjectOf(r)))
        : await this.store.countRequest(r.caller.tenantId, r.policy.rate, now, subjectOf(r)));
    } catch (e) {
      throw e instanceof SubjectCapacityError ? noRoom(e) : e;
    }
    if (rate.ok) {
      if (rate.counts) (r.counted ??= {}).requests = this.requestWindows(r, rate.counts, now);
      return;
    }
    const requests = { limit: rate.limit, remaining: 0, resetMs: msUntilWindowEnd(rate.window, now) };
    // The tightest tokens per minute when there is one; else the token window of whoever ran out: the tenant's day, or
    // the user's or key's own day (when it has tokensPerDay).
    const tokens = await this.minuteWindow(r, now) ?? (rate.scope === 'tenant' ? await this.windows(r, now) : await this.subjectWindows(r, now, true)).tokens;
    const share = !r.batch || rate.window === 'day' ? ''
      : turn ? ` (a limit of 1 is shared by turns: a batch's lines use every other ${rate.window}; the line waits for its next turn)`
        : ` (a batch's share of the limit: ${BATCH_RATE_SHARE * 100}%; the line waits for the next ${rate.window})`;
    const err = limited(`rate limit of ${rate.limit} requests per ${rate.window} reached for ${whose(r, rate.scope)}${share}`, 'rate_limit_exceeded', rateLimitHeaders({ requests, tokens, scope: rate.scope }));
    err.rateLimit = { source: 'gateway', window: rate.window };
    throw err;
  }

  /**
   * Reserves `promptTokens + completionTokens` and their cost at `model`'s prices, every budget of
   * the tenant and of the caller's user or key, or none; the reservation counts for that user or key too.
   * @param choices the answers the request asks for (`n`, chat), whose completion limits `completionTokens` adds up: a 429 says the limit that fits per choice;
   *   for an image model, the images asked (`n`): a 429 says the `n` that fits
   * @param costUsd the USD to reserve against the cost budget @default costOf(model, promptTokens, completionTokens); an image request passes `n` × its price per image, an audio request its price per minute or per character
   * @param minuteCompletionTokens the completion tokens the tokens-per-minute limits count at admission (CompletionLimit.minute × `n`:
   *   0 when the caller and the tenant's cap set no limit); the budgets reserve `completionTokens` @default completionTokens
   * @throws GatewayError 429 `budget_exceeded` naming the budget, its scope and id, with `retry-after`
   *   (the budget's period end), `x-ratelimit-*` and `x-tessera-limit-scope` headers: "exhausted" when nothing is left,
   *   "has X of Y left, fewer than this request may use" with the completion limit that fits when some is, "request too
   *   large" when the request alone is over the whole budget;
   *   503 `subject_capacity_exceeded` when the embedded multi-thread store has no slot for a new user or key
   */
  async reserve(r: PipelineRequest, model: ModelEntry, promptTokens: number, completionTokens: number, choices = 1, costUsd = costOf(model, promptTokens, completionTokens), minuteCompletionTokens = completionTokens): Promise<Reservation> {
    const now = new Date();
    const tokens = promptTokens + completionTokens;
    try {
      const reserved = await this.store.reserve(r.caller.tenantId, tokens, costUsd, r.policy.limits, now, subjectOf(r), promptTokens + minuteCompletionTokens);
      // The request's tags (x-tessera-tags) go with the reservation, so its settle counts it under each (GatewayStore.tagUsage).
      const reservation: Reservation = r.audit.tags?.length ? { ...reserved, tags: r.audit.tags } : reserved;
      this.budgetAlerts?.watch(reservation, r, subjectOf(r)); // budget alerts: what the reservation counts against
      if (reservation.committed) (r.counted ??= {}).tokens = this.tokenWindows(r, reservation.committed, now);
      return reservation;
    } catch (e) {
      if (e instanceof SubjectCapacityError) throw noRoom(e);
      if (e instanceof TokenRateLimitError) throw await this.tokensPerMinuteRefusal(r, model, e, now);
      if (!(e instanceof BudgetExhaustedError)) throw e;
      // The alert check and the headers below read the same usage items: once (a client retrying into the 429 would double the reads).
      const read = usageReads(this.store, r.caller.tenantId, now);
      // Budget alerts: no request settles against an exhausted budget, so a refusal checks its thresholds (a budget lowered below its usage).
      void this.budgetAlerts?.afterRefusal(r, subjectOf(r), now, read);
      const unit = e.budget === 'monthly cost budget' ? `USD ${e.limit}` : `${e.limit} tokens`;
      const window = e.budget === 'daily token budget' ? 'day' : 'month';
      const state = e.scope === 'tenant' ? await this.windows(r, now, window, read) : await this.subjectWindows(r, now, e.budget === 'daily token budget', read);
      const headers = rateLimitHeaders({ ...state, retryAfterMs: msUntilWindowEnd(window, now), scope: e.scope, noRetry: true });
      const cost = costUsd;
      // An image request reserves no tokens: its cost is n images at the model's price, and the fix is a lower n.
      if (kindOf(model) === 'image' && e.budget === 'monthly cost budget') throw limited(await imageOverBudget(r, model, e, unit, cost, choices, read), 'budget_exceeded', headers);
      if (e.budget === 'monthly cost budget' ? cost > e.limit : tokens > e.limit) {
        const requested = e.budget === 'monthly cost budget' ? `USD ${Number(cost.toPrecision(6))} for ${tokens} tokens` : `${tokens} tokens`;
        throw limited(tooLargeForBudget(r, e.budget, unit, e.scope, requested, promptTokens, completionTokens, e.budget === 'monthly cost budget' ? undefined : e.limit, choices), 'budget_exceeded', headers);
      }
      // What is left of the budget, from the read the headers state (the tenant's, or the user's or key's own).
      const usage = await read(e.scope === 'tenant' ? undefined : subjectOf(r));
      const used = e.budget === 'daily token budget' ? usage.day.tokens : e.budget === 'monthly token budget' ? usage.month.tokens : usage.month.costUsd;
      const left = e.limit - used;
      if (e.budget === 'monthly cost budget' ? left > 0 && left < cost : left > 0 && left < tokens) {
        const [shown, fits] = e.budget === 'monthly cost budget'
          ? [`USD ${Number(left.toPrecision(6))}`, completionWithin(model, promptTokens, completionTokens, left)]
          : [`${left}`, Math.max(0, left - promptTokens)];
        const requested = e.budget === 'monthly cost budget' ? `USD ${Number(cost.toPrecision(6))} for ${tokens} tokens` : `${tokens} tokens`;
        throw limited(notEnoughLeft(r, e.budget, e.scope, shown, unit, requested, promptTokens, completionTokens, fits, choices), 'budget_exceeded', headers);
      }
      throw limited(`${e.budget} of ${unit} is exhausted for ${whose(r, e.scope)} (this request would reserve ${tokens} tokens)`, 'budget_exceeded', headers);
    }
  }

  /**
   * OpenAI's 429 for a tokens-per-minute limit (https://platform.openai.com/docs/guides/rate-limits: `type: "tokens"`,
   * `code: "rate_limit_exceeded"`), its message as OpenAI words it: "Rate limit reached for <model> … on tokens per min
   * (TPM): Limit X, Used Y, Requested Z. Please try again in 1.5s.", or, for a request larger than the whole limit,
   * "Request too large for <model> … on tokens per min (TPM): Limit X, Requested Z. The input or output tokens must be
   * reduced in order to run successfully." (with `x-should-retry: false`: no wait helps). Headers: `retry-after` (and
   * `retry-after-ms`) to the end of the UTC minute, the requests group (the request's counted windows, else the tier's
   * day as read) and the tokens group of the limit that ran out, `x-tessera-limit-scope`. A batch line waits for the
   * next minute (`rateLimit`).
   */
  private async tokensPerMinuteRefusal(r: PipelineRequest, model: ModelEntry, e: TokenRateLimitError, now: Date): Promise<GatewayError> {
    const resetMs = msUntilWindowEnd('minute', now);
    const tooLarge = e.requested > e.limit;
    const requests = nearestWindows(r, now).requests ?? (await this.windows(r, now)).requests;
    const tokens = { limit: e.limit, remaining: e.limit - e.used, resetMs };
    const headers = rateLimitHeaders({ requests, tokens, retryAfterMs: resetMs, scope: e.scope, noRetry: tooLarge });
    const on = `for ${model.id} for ${whose(r, e.scope)} on tokens per min (TPM)`;
    const message = tooLarge
      ? `Request too large ${on}: Limit ${e.limit}, Requested ${e.requested}. The input or output tokens must be reduced in order to run successfully (${tooLargeHint(r)}).`
      : `Rate limit reached ${on}: Limit ${e.limit}, Used ${e.used}, Requested ${e.requested}. Please try again in ${Number((resetMs / 1000).toFixed(3))}s.`;
    const err = new GatewayError(429, message, 'tokens', 'rate_limit_exceeded', null, headers);
    if (!tooLarge) err.rateLimit = { source: 'gateway', window: 'minute' };
    return err;
  }

  /**
   * Replaces the reservation by what was used (0 when nothing was produced) and, with `usage`, adds
   * the request to the tenant's usage ledger by model and day (GatewayStore.modelUsage).
   * Then budget alerts check the budgets, without delaying the answer.
   * @throws GatewayError 503 `usage_ledger_capacity_exceeded` when the embedded multi-thread store's ledger is full (the budgets are settled)
   */
  async settle(reservation: Reservation, tokens: number, costUsd: number, usage?: SettledUsage): Promise<void> {
    await this.store.settle(reservation, tokens, costUsd, usage).catch(ledgerFull);
    void this.budgetAlerts?.afterSettle(reservation, tokens); // budget alerts: checked after the answer, not awaited (BudgetAlerts.idle)
  }

  /**
   * OpenAI's `x-ratelimit-*` headers of a served answer (a whole one, or a stream's head), as a
   * 429 would state them, for the limit the request is nearest to once it was counted: of its
   * request windows (the tier's minute, hour and day, the user's or key's minute) and of its token
   * budgets (the tier's day, the tenant's month, the user's or key's day), the one with the fewest
   * left, the first in that order on a tie (the one whose 429 would come first). Tokens count the
   * request's reservation (its input and its completion limit), as the budgets did when it was
   * admitted. A window that has ended since (a long answer) is stated as the next one, whole.
   * A group is left out when the store gave no counts (DynamoDB, whose transactions return none:
   * stating them would cost reads on every accepted request), never sent in part.
   * @param now when the headers are sent @default the system clock
   */
  servedRateHeaders(r: Pick<PipelineRequest, 'counted'>, now = new Date()): Record<string, string> {
    return servedRateLimitHeaders(nearestWindows(r, now));
  }

  /**
   * OpenAI's `x-ratelimit-*` headers of an answer from the response cache (a HIT, whole or a stream's head): as
   * servedRateHeaders, the tokens group included. OpenAI's tokens headers state the limit (its size, the tokens left
   * before it is exhausted, when it resets), not what the request used: a HIT reserved none, so it states the limit as
   * it stands, unchanged by it, read from the store (the tokens-per-minute counters, else the tier's day, the tenant's
   * month and the user's or key's day: what a MISS's reservation states, without the reservation). Only where the store
   * gave the request counts (the embedded stores): on DynamoDB, as every served answer there, neither group.
   * @param now when the headers are sent @default the system clock
   */
  async cacheHitRateHeaders(r: PipelineRequest, now = new Date()): Promise<Record<string, string>> {
    if (r.counted?.requests && !r.counted.tokens) r.counted.tokens = this.tokenWindows(r, await this.tokensNow(r, now), now);
    return this.servedRateHeaders(r, now);
  }

  /** The token counts tokenWindows states, as they stand (no reservation of this request): only those its limits need read. */
  private async tokensNow(r: PipelineRequest, now: Date): Promise<NonNullable<Reservation['committed']>> {
    const subject = subjectOf(r);
    const { limits } = r.policy;
    const tenantId = r.caller.tenantId;
    if (limits.minuteTokens !== undefined || subject.limits?.tokensPerMinute !== undefined) {
      const [minute, subjectMinute] = await Promise.all([
        limits.minuteTokens === undefined ? undefined : this.store.minuteTokens(tenantId, now),
        subject.limits?.tokensPerMinute === undefined ? undefined : this.store.minuteTokens(tenantId, now, subject),
      ]);
      return { day: 0, month: 0, minute, subjectMinute };
    }
    const [tenant, own] = await Promise.all([this.store.usage(tenantId, now), subject.limits?.tokensPerDay === undefined ? undefined : this.store.usage(tenantId, now, subject)]);
    return { day: tenant.day.tokens, month: tenant.month.tokens, subjectDay: own?.day.tokens };
  }

  /** The request windows of an admitted request, in countRequest's order: the tier's minute, hour, day, then the subject's minute. */
  private requestWindows(r: PipelineRequest, counts: RequestCounts, now: Date): CountedWindow[] {
    const at = (window: CountedWindow['window'], limit: number, used: number) => ({ limit, used, window, endsAt: now.getTime() + msUntilWindowEnd(window, now) });
    const { rate } = r.policy;
    const windows = [at('minute', rate.minute, counts.minute), at('hour', rate.hour, counts.hour), at('day', rate.day, counts.day)];
    const rpm = subjectOf(r).limits?.requestsPerMinute;
    if (rpm !== undefined && counts.subjectMinute !== undefined) windows.push(at('minute', rpm, counts.subjectMinute));
    return windows;
  }

  /**
   * The token limits of a reservation the headers state: its tokens-per-minute limits when it has any (the tier's,
   * then the subject's: OpenAI's tokens headers are its TPM), else the token budgets in the store's order: the tier's
   * day, the tenant's month, then the subject's day.
   */
  private tokenWindows(r: PipelineRequest, committed: NonNullable<Reservation['committed']>, now: Date): CountedWindow[] {
    const at = (window: CountedWindow['window'], limit: number | undefined, used: number | undefined) =>
      (limit === undefined || used === undefined ? [] : [{ limit, used, window, endsAt: now.getTime() + msUntilWindowEnd(window, now) }]);
    const perMinute = [...at('minute', r.policy.limits.minuteTokens, committed.minute), ...at('minute', subjectOf(r).limits?.tokensPerMinute, committed.subjectMinute)];
    if (perMinute.length) return perMinute;
    return [
      ...at('day', r.policy.limits.dayTokens, committed.day),
      ...at('month', r.policy.limits.monthTokens, committed.month),
      ...at('day', subjectOf(r).limits?.tokensPerDay, committed.subjectDay),
    ];
  }

  /**
   * The caller's 429 for a 429 an upstream call threw: the same status, message, type, code and param, its headers with
   * the tenant's rate-limit headers added (withRateHeaders), and its `rateLimit` kept (a batch line waits for an
   * upstream's throttle by it: batches/line-retry.ts).
   */
  async upstreamRateLimited(r: PipelineRequest, e: GatewayError): Promise<GatewayError> {
    const err = new GatewayError(429, e.message, e.type, e.code, e.param, { ...e.headers, ...(await this.withRateHeaders(r, e)) });
    if (e.rateLimit) err.rateLimit = e.rateLimit;
    return err;
  }

  /**
   * Adds the tenant's rate-limit headers to a 429 that came from an upstream: the upstream's wait
   * (`retry-after-ms` first, as the SDKs read it, else `retry-after` in seconds, else 1 s) as
   * `retry-after` and, when the upstream gave one, `retry-after-ms` as it gave it.
   * The `x-ratelimit-*` groups state what a served answer would (servedRateHeaders): the limit the request is
   * nearest to exhausting once counted, OpenAI's meaning of them. Only a store that gave no counts (DynamoDB)
   * falls back to a usage read: the tier's requests per day and its day's (or the tenant's month's) tokens.
   * A 429 that says `x-should-retry: false` (a used-up quota, `insufficient_quota`; a throttle the upstream sent without
   * a wait, after the gateway's own retries: upstream-calls.ts callerErrorOf) gets no invented 1 s `retry-after` when the
   * upstream sent none: the gateway does not know when it clears, `retry-after: 1` beside `x-should-retry: false`
   * contradicted itself, and the frameworks that ignore `x-should-retry` (the Vercel AI SDK, LlamaIndex, LangChain JS:
   * docs/gateway.md) wait out a `retry-after` under a minute and send the request again.
   * @param err the caller's 429 (GatewayError): its headers carry the upstream's `retry-after` and `retry-after-ms`, if any
   */
  async withRateHeaders(r: PipelineRequest, err: Pick<GatewayError, 'headers'>): Promise<Record<string, string>> {
    const retryAfter = err.headers;
    const now = new Date();
    const ms = retryAfter['retry-after-ms'] !== undefined ? Number(retryAfter['retry-after-ms']) : NaN;
    const exact = Number.isFinite(ms) && ms >= 0;
    const retryAfterMs = exact ? ms : retryAfter['retry-after'] ? Number(retryAfter['retry-after']) * 1000 : 1000;
    const counted = nearestWindows(r, now);
    const state = counted.requests ? { requests: counted.requests, tokens: counted.tokens } : await this.withMinuteTokens(r, now, await this.windows(r, now));
    const { 'retry-after': wait, ...headers } = rateLimitHeaders({ ...state, retryAfterMs });
    const upstreamSaid = exact || retryAfter['retry-after'] !== undefined;
    const waits: Record<string, string> = upstreamSaid || err.headers['x-should-retry'] !== 'false' ? { 'retry-after': wait } : {};
    return exact ? { ...waits, ...headers, 'retry-after-ms': retryAfter['retry-after-ms'] } : { ...waits, ...headers };
  }

  /**
   * The completion-token limit of a chat request: `max_completion_tokens` and `max_tokens` (an
   * upstream may honour either), each checked against the tenant's cap, then against the model's
   * maximum (its catalog `maxOutputTokens`), as OpenAI refuses a limit past the model's.
   * @returns `add`: the tenant's cap (never more than the model's maximum), to send as `max_completion_tokens`
   *   when the caller sent no limit (undefined otherwise: the caller's fields go on as sent, or no limit at all);
   *   `reserve`: completion tokens to reserve per choice, the larger limit sent (or the cap, or the
   *   model's maximum), never more than the model's maximum
   * @throws GatewayError 400 naming the field: `max_tokens_exceeded` when the caller asks for more than the
   *   tenant's cap, `invalid_value` (OpenAI's "max_tokens is too large: …") when it asks for more than the model's maximum
   */
  completionLimit(r: PipelineRequest, model: ModelEntry, body: { max_tokens?: number | null; max_completion_tokens?: number | null }): CompletionLimit {
    const cap = r.policy.gateway.maxTokens;
    const max = model.maxOutputTokens;
    const sent = (['max_completion_tokens', 'max_tokens'] as const).filter((f) => body[f] != null);
    for (const field of sent) {
      if (cap !== undefined && body[field]! > cap) throw invalid(`${field} is ${body[field]}; tenant ${r.caller.tenantId} allows at most ${cap} completion tokens per request`, field, 'max_tokens_exceeded');
    }
    for (const field of sent) {
      if (body[field]! > max) throw tooLargeForModel(field, body[field]!, max, 'completion');
    }
    const largest = sent.length ? Math.max(...sent.map((f) => body[f]!)) : cap;
    const reserve = Math.min(largest ?? max, max);
    return { add: sent.length || cap === undefined ? undefined : Math.min(cap, max), reserve, minute: largest === undefined ? 0 : reserve };
  }

  /**
   * The tightest tokens-per-minute limit of the request (the tier's, the user's or key's `tokensPerMinute`) as the
   * headers state it: its limit, what the minute has left (one read of each counter: GatewayStore.minuteTokens) and the
   * time to the minute's end; undefined when there is none.
   */
  private async minuteWindow(r: PipelineRequest, now: Date): Promise<LimitWindow | undefined> {
    const subject = subjectOf(r);
    const limits = [
      ...(r.policy.limits.minuteTokens !== undefined ? [{ limit: r.policy.limits.minuteTokens, read: () => this.store.minuteTokens(r.caller.tenantId, now) }] : []),
      ...(subject.limits?.tokensPerMinute !== undefined ? [{ limit: subject.limits.tokensPerMinute, read: () => this.store.minuteTokens(r.caller.tenantId, now, subject) }] : []),
    ];
    if (!limits.length) return undefined;
    const used = await Promise.all(limits.map((l) => l.read()));
    const resetMs = msUntilWindowEnd('minute', now);
    return limits.map((l, i) => ({ limit: l.limit, remaining: Math.max(0, l.limit - used[i]), resetMs })).reduce((a, b) => (b.remaining < a.remaining ? b : a));
  }

  /** `state` with its tokens group replaced by the tightest tokens-per-minute limit, when the request has one (minuteWindow). */
  private async withMinuteTokens<S extends Pick<RateLimitState, 'requests' | 'tokens'>>(r: PipelineRequest, now: Date, state: S): Promise<S> {
    const tokens = await this.minuteWindow(r, now);
    return tokens ? { ...state, tokens } : state;
  }

  /**
   * The windows of a 429 for a user's or key's limit: the tenant's requests per day, and, with
   * `dayTokens` and a `tokensPerDay` limit, the subject's own tokens of the day (its usage is read only then).
   * @param read the request's usage reads (shared with the budget-alert check of a refusal) @default - reads of its own
   */
  private async subjectWindows(r: PipelineRequest, now: Date, dayTokens: boolean, read: UsageRead = usageReads(this.store, r.caller.tenantId, now)): Promise<Pick<RateLimitState, 'requests' | 'tokens'>> {
    const subject = subjectOf(r);
    const limit = dayTokens ? subject.limits?.tokensPerDay : undefined;
    const [tenant, own] = await Promise.all([read(), limit === undefined ? undefined : read(subject)]);
    const requests = { limit: r.policy.rate.day, remaining: r.policy.rate.day - tenant.day.requests, resetMs: msUntilWindowEnd('day', now) };
    if (limit === undefined || !own) return { requests };
    return { requests, tokens: { limit, remaining: limit - own.day.tokens, resetMs: msUntilWindowEnd('day', now) } };
  }

  /**
   * The request and token windows as OpenAI's headers state them, from one usage read: requests
   * per day, and tokens of the tier's day, or of the tenant's month when that budget ran out.
   * @param read the request's usage reads (shared with the budget-alert check of a refusal) @default - a read of its own
   */
  private async windows(r: PipelineRequest, now: Date, tokenWindow: 'day' | 'month' = 'day', read: UsageRead = usageReads(this.store, r.caller.tenantId, now)): Promise<Pick<RateLimitState, 'requests' | 'tokens'>> {
    const used = await read();
    const requests = { limit: r.policy.rate.day, remaining: r.policy.rate.day - used.day.requests, resetMs: msUntilWindowEnd('day', now) };
    const month = tokenWindow === 'month' && r.policy.limits.monthTokens !== undefined;
    const limit = month ? r.policy.limits.monthTokens : r.policy.limits.dayTokens;
    if (limit === undefined) return { requests };
    return { requests, tokens: { limit, remaining: limit - (month ? used.month.tokens : used.day.tokens), resetMs: msUntilWindowEnd(month ? 'month' : 'day', now) } };
  }
}
