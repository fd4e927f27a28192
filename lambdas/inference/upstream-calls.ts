import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ModelDeployment, ModelEntry } from '../../lib/config/schema.js';
import { providerKeySource, type ProviderKeys } from '../../lib/tenant-record.js';
import { deadlineExceeded, GatewayError, TenantKeyRefused, TenantKeyUnreadable, upstream, upstreamTimeout } from './openai-errors.js';
import { providerOf } from './policy.js';
import { ProviderError, type AudioAnswer, type AudioProviderRequest, type CompletionAnswer, type CompletionProviderRequest, type EmbeddingAnswer, type EmbeddingProviderRequest, type ImageAnswer, type ImageProviderRequest, type ModerationAnswer, type ModerationProviderRequest, type Provider, type ProviderRequest, type ImageFormProviderRequest, type InputTokensProviderRequest } from './providers/provider.js';
import type { ProviderName } from './providers/registry.js';
import { ModelHealth } from './model-health.js';
import { withoutAccountIds } from './providers/upstream-error-fields.js';
import { abortableWait } from '../shared/abortable-wait.js';
import { logUpstreamFailure } from './upstream-failure-log.js';

/**
 * Where a request's chain notes what it did besides calling (the audit record): `detail.skippedCoolingModels`, and
 * `detail.deployment`, the deployment of the model that answered (`gateway.models[].deployments[].name`).
 */
export interface ChainRecord {
  detail?: Record<string, string | number | boolean>;
}

export interface UpstreamTimeouts {
  /** Longest wait for the first byte of an answer (a whole answer, or a stream's first chunk), per attempt. */
  firstByteMs: number;
  /** Longest gap between two chunks of a stream. A healthy stream is never cut for its length. */
  idleMs: number;
  /** Retries of one model before the next of the fallback chain. */
  retries: number;
}

/** The caller went away: nothing more to send, nothing to retry. */
export class CallerGone extends Error {
  constructor() {
    super('the caller closed the connection');
  }
}

/**
 * The provider client for a tenant's call (ProviderRegistry.get): at a model's deployment when it has one, on the key
 * the tenant's `gateway.providerKeys` says.
 * @throws TenantKeyUnreadable when that is the tenant's own key and it cannot be read: the chain ends (see UpstreamCalls)
 */
type ProviderLookup = (name: ProviderName, tenantId: string, options?: { deployment?: ModelDeployment; keys?: ProviderKeys }) => Promise<Provider>;

/** What every chain call needs of its caller besides the request: the tenant and its `gateway.providerKeys`. */
export interface ChainOwner {
  tenantId: string;
  /** The tenant's `gateway.providerKeys` (GatewayPolicy). @default - every provider `own-or-platform` */
  providerKeys?: ProviderKeys;
}

/**
 * One place of a request's chain: a catalog model, at one of its deployments when it has them. `sent` is what the
 * provider gets (the deployment's `upstream` as the model's); `model`, the catalog entry, is what the caller, budget,
 * ledger and audit see.
 */
interface Target {
  model: ModelEntry;
  sent: ModelEntry;
  deployment?: ModelDeployment;
}

/** A model called without deployments. */
const itself = (model: ModelEntry): Target => ({ model, sent: model });

/**
 * A model's deployments in the order a request tries them: a weighted random order (successive sampling without
 * replacement: each next place drawn among those left with probability weight / their weights' sum). So the first
 * deployment that is not cooling (a cooling one is skipped: model-health.ts) is a weighted pick among those not
 * cooling, and the others follow as the failover, each by its weight again.
 * @param random a uniform draw in [0, 1) (Math.random; tests inject a seeded one)
 */
export function weightedOrder<D extends { weight: number }>(deployments: readonly D[], random: () => number): D[] {
  const left = [...deployments];
  const order: D[] = [];
  while (left.length) {
    let r = random() * left.reduce((sum, d) => sum + d.weight, 0);
    let i = 0;
    while (i < left.length - 1 && r >= left[i].weight) r -= left[i++].weight;
    order.push(left.splice(i, 1)[0]);
  }
  return order;
}

const NEVER = new AbortController().signal;

/** The caller's answer when the deadline came before any answer (a whole one, or a stream's first chunk). */
const noAnswerInTime = () => deadlineExceeded("no answer came before the gateway's time for this request ran out (the router Lambda's timeout, or API Gateway's 5-minute limit on a response stream that sends nothing, less the time kept to settle the budget and write the audit record); the upstream call was stopped. Stream the answer, or ask for a shorter one (max_completion_tokens)");

/**
 * The upstream call stopped because the request's deadline came (the router Lambda's remaining
 * time less the margin kept to settle: lambda-deadline.ts), not for anything the upstream did.
 */
const pastDeadline = () => new ProviderError("the gateway's time for this request ran out", undefined, false, { deadline: true });

/**
 * One model call with its timeouts: an AbortController that the caller's disconnect, the
 * request's deadline and a timer abort. The timer first waits `firstByteMs`; a stream re-arms it
 * with `idleMs` before each chunk.
 */
class Attempt {
  readonly controller = new AbortController();
  /** When the call began (performance.now(), ms): its failure's logged latency. */
  readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  timedOut = false;

  /**
   * @param n the attempt on its model, from 1; `attempts` how many it may have (the retries + 1): its failure's log line
   */
  constructor(private readonly caller: AbortSignal, private readonly deadline: AbortSignal = NEVER, readonly n = 1, readonly attempts = 1) {
    if (caller.aborted) this.controller.abort(new CallerGone());
    else if (deadline.aborted) this.controller.abort(pastDeadline());
    else {
      caller.addEventListener('abort', this, { once: true });
      deadline.addEventListener('abort', this, { once: true });
    }
  }

  /** The caller's or the deadline's `abort` (the attempt is its own listener object: no closure per attempt). */
  handleEvent(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(this.caller.aborted ? new CallerGone() : pastDeadline());
  }

  arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new ProviderError('upstream timed out', undefined, true, { timedOut: true }));
    }, ms);
  }

  /** A sign of life without a chunk: the running timeout starts again. */
  readonly touch: () => void = this.refresh.bind(this);

  private refresh(): void {
    this.timer?.refresh();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  done(): void {
    this.disarm();
    this.caller.removeEventListener('abort', this);
    this.deadline.removeEventListener('abort', this);
  }

  /** Whether the request's deadline has come (the call is, or is to be, stopped). */
  get pastDeadline(): boolean {
    return this.deadline.aborted;
  }

  /** What an exception thrown during this attempt means. */
  failure(e: unknown): ProviderError | CallerGone {
    if (this.caller.aborted) return new CallerGone();
    if (this.deadline.aborted) return pastDeadline();
    if (this.timedOut) return new ProviderError('upstream timed out', undefined, true, { timedOut: true });
    if (e instanceof ProviderError) return e;
    return new ProviderError(`upstream unreachable: ${(e as Error).message}`, undefined, true);
  }
}

/** A stream that has produced its first chunk, with its idle deadline still running. */
export interface OpenStream<C = ChatCompletionChunk> {
  model: ModelEntry;
  first: C | undefined;
  /** The rest; each `next()` must come within `idleMs` of the previous chunk. Throws ProviderError or CallerGone. */
  rest: AsyncGenerator<C>;
  /** Ends the call (closing the upstream connection if it is still open); idempotent. */
  close(): Promise<void>;
}

/**
 * Calls the model chain: each model with retries (jittered backoff; an upstream 429's
 * `Retry-After` is waited out once when it is no longer than the first-byte timeout, else the
 * next model is tried at once), then the tenant's fallback chain. An upstream 4xx other than
 * 401/403/408/429 is the caller's error and ends the chain at once: another model would refuse it too, and SDKs must
 * not retry it. Each attempt is one upstream call. The request's `deadline` (the router's:
 * lambda-deadline.ts; none for `tessera serve`) aborts the call in flight and ends the chain: before an
 * answer, GatewayError 504 `request_deadline_exceeded` (no retry, no fallback); past a stream's first
 * chunk, `rest` throws a ProviderError with `details.deadline`, which the endpoint reports in the stream.
 * With `health` (gateway.cooldown, model-health.ts), a model cooling after repeated unhealthy failures is skipped
 * while the chain has another model after it (noted in the record's `detail.skippedCoolingModels`), and each model's
 * outcome in a request (one per request, its retries included) is reported to it: a success, an unhealthy failure
 * (`unhealthy`), or nothing (the caller's error, a caller gone, the deadline).
 * A model with deployments (`gateway.models[].deployments`) is its deployments in a weighted random order, each a
 * place of the chain with its own retries and its own health record (`<id>#deployment:<name>`, noted as
 * `<id>@<name>` when skipped), all before the chain's next model (targets); the deployment that answered is the
 * record's `detail.deployment`, the model returned the catalog entry.
 * A 401/403 to the tenant's own provider key (`gateway.providerKeys`) ends the chain with TenantKeyRefused (502
 * `tenant_provider_key_refused`: ownKeyRefusal), as an unreadable one does with TenantKeyUnreadable.
 */
export class UpstreamCalls {
  /**
   * @param health the process's model health records (gateway.cooldown): a model cooling skipped while the chain has another
   *   model after it (the audit record's `detail.skippedCoolingModels`). @default - none: every model of the chain is tried
   * @param random the uniform draw in [0, 1) that orders a model's deployments by weight (weightedOrder). @default Math.random
   */
  constructor(private readonly providers: ProviderLookup, private readonly timeouts: UpstreamTimeouts, private readonly health?: ModelHealth, private readonly random: () => number = Math.random) {}

  /**
   * A chat completion along the chain (`whole`: retries, fallbacks, `firstByteMs` for the whole answer).
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async complete(chain: ModelEntry[], base: Omit<ProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: ChatCompletion; model: ModelEntry }> {
    // Every provider serves chat completions: `whole`'s "does not serve" answer never applies.
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.complete.bind(provider), 'chat completions', 'chat_completions_not_supported');
  }

  /**
   * Embeddings along the chain, with the same retries, timeouts (`firstByteMs` for the whole
   * answer) and caller-error semantics as `complete`. The chain is the caller's to choose: the
   * embeddings endpoint passes embedding models only.
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async embed(chain: ModelEntry[], base: Omit<EmbeddingProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: EmbeddingAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.embed?.bind(provider), 'embeddings', 'embeddings_not_supported');
  }

  /**
   * Moderations along the chain, with the same retries, timeouts (`firstByteMs` for the whole
   * answer) and caller-error semantics as `complete`. The moderations endpoint passes its one model.
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async moderate(chain: ModelEntry[], base: Omit<ModerationProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: ModerationAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.moderate?.bind(provider), 'moderations', 'moderations_not_supported');
  }

  /**
   * Image generation along the chain, with the same retries, timeouts (`firstByteMs` for the whole answer) and
   * caller-error semantics as `complete`: a 400 of a model's mapping (a field Bedrock cannot honour) ends the chain.
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async generateImages(chain: ModelEntry[], base: Omit<ImageProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: ImageAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.generateImages?.bind(provider), 'image generation', 'images_not_supported');
  }

  /**
   * An image edit or variation along the chain, with the same retries, timeouts and caller-error semantics as
   * `generateImages` (a 400 of Bedrock's mapping ends the chain).
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async editImages(chain: ModelEntry[], base: Omit<ImageFormProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: ImageAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.editImages?.bind(provider), 'image edits and variations', 'images_not_supported');
  }

  /**
   * An audio endpoint (speech, transcriptions, translations) along the chain, with the same retries, timeouts
   * (`firstByteMs` for the whole answer) and caller-error semantics as `moderate`. The audio endpoints pass one model.
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async audio(chain: ModelEntry[], base: Omit<AudioProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: AudioAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.audio?.bind(provider), 'audio', 'audio_not_supported');
  }

  /**
   * The upstream's own count of a request's input tokens (Provider.countInputTokens), with the same retries, timeouts
   * (`firstByteMs` for the whole answer) and caller-error semantics as `moderate`; the count endpoint passes its one model
   * (a count is of the model asked for, never a fallback's).
   * @returns the count, or undefined when the provider counts none for the model (the caller estimates)
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async countInputTokens(chain: ModelEntry[], base: Omit<InputTokensProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: number | undefined; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.countInputTokens?.bind(provider) ?? (async () => undefined), 'input token counts', 'input_tokens_not_supported');
  }

  /**
   * One whole answer of a provider method along the chain (embed, moderate, generateImages, audio), with the same
   * retries, timeouts (`firstByteMs` for the whole answer) and caller-error semantics as `complete`; a provider
   * without the method is a 502 `<code>` (`provider <name> does not serve <what>`).
   */
  private async whole<R extends { model: ModelEntry; signal: AbortSignal }, A>(
    chain: ModelEntry[], base: Omit<R, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline: AbortSignal | undefined, record: ChainRecord | undefined,
    method: (provider: Provider) => ((request: R) => Promise<A>) | undefined, what: string, code: string,
  ): Promise<{ result: A; model: ModelEntry }> {
    const { providerKeys, ...request } = base;
    return await this.attempts(chain, base, caller, deadline, record, async ({ model, sent, deployment }, attempt) => {
      attempt.arm(this.timeouts.firstByteMs);
      let provider: Provider | undefined;
      try {
        provider = await this.providers(providerOf(model), base.tenantId, { deployment, keys: providerKeys });
        const call = method(provider);
        if (!call) throw new ProviderError(`provider ${providerOf(model)} does not serve ${what}`, 502, false, { type: 'upstream_error', code });
        return { result: await call({ ...request, model: sent, signal: attempt.controller.signal, onActivity: attempt.touch } as unknown as R), model };
      } catch (e) {
        throw ownKeyRefusal(e, provider, model, base);
      } finally {
        attempt.done();
      }
    });
  }

  /**
   * A legacy text completion (`POST /v1/completions`) along the chain, whole, with the same retries, timeouts
   * (`firstByteMs` for the whole answer) and caller-error semantics as `complete`; a provider without it is a 502
   * `completions_not_supported`.
   * @throws GatewayError - the caller's answer for the last failure (see callerErrorOf); CallerGone
   */
  async textComplete(chain: ModelEntry[], base: Omit<CompletionProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<{ result: CompletionAnswer; model: ModelEntry }> {
    return await this.whole(chain, base, caller, deadline, record, (provider) => provider.textComplete?.bind(provider), 'text completions', 'completions_not_supported');
  }

  /** A streamed legacy text completion: as `stream` (retries and fallbacks until the first chunk), provider.textStream's chunks. */
  async textStream(chain: ModelEntry[], base: Omit<CompletionProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<OpenStream<CompletionAnswer>> {
    const { providerKeys: _, ...request } = base;
    return await this.open(chain, base, caller, deadline, record, (provider, model, signal, onActivity) => {
      if (!provider.textStream) throw new ProviderError(`provider ${providerOf(model)} does not serve text completions`, 502, false, { type: 'upstream_error', code: 'completions_not_supported' });
      return provider.textStream({ ...request, model, signal, onActivity });
    });
  }

  /** Retries and fallbacks apply until the first chunk arrives; after that the stream is the answer. */
  async stream(chain: ModelEntry[], base: Omit<ProviderRequest, 'model' | 'signal'> & ChainOwner, caller: AbortSignal, deadline?: AbortSignal, record?: ChainRecord): Promise<OpenStream> {
    const { providerKeys: _, ...request } = base;
    return await this.open(chain, base, caller, deadline, record, (provider, model, signal, onActivity) => provider.stream({ ...request, model, signal, onActivity }));
  }

  /** A stream of `start`'s chunks along the chain: retries and fallbacks until the first chunk, then the idle timeout between chunks. */
  private async open<C>(chain: ModelEntry[], owner: ChainOwner, caller: AbortSignal, deadline: AbortSignal | undefined, record: ChainRecord | undefined, start: (provider: Provider, model: ModelEntry, signal: AbortSignal, onActivity: () => void) => AsyncIterable<C>): Promise<OpenStream<C>> {
    return await this.attempts(chain, owner, caller, deadline, record, async ({ model, sent, deployment }, attempt) => {
      attempt.arm(this.timeouts.firstByteMs);
      let iterator: AsyncIterator<C>;
      let head: IteratorResult<C>;
      let provider: Provider | undefined;
      try {
        provider = await this.providers(providerOf(model), owner.tenantId, { deployment, keys: owner.providerKeys });
        iterator = start(provider, sent, attempt.controller.signal, attempt.touch)[Symbol.asyncIterator]();
        head = await iterator.next();
      } catch (e) {
        attempt.done();
        throw ownKeyRefusal(e, provider, model, owner);
      }
      const idleMs = this.timeouts.idleMs;
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        attempt.done();
        if (!attempt.controller.signal.aborted) attempt.controller.abort(new CallerGone()); // closes the upstream connection if we stopped early
        await iterator.return?.(undefined).catch(() => undefined);
      };
      const { n, attempts } = attempt;
      const cut = (error: ProviderError | CallerGone) => {
        // The answer is cut past its first chunk: no retry, no fallback (the caller was sent part of it).
        if (error instanceof ProviderError) logUpstreamFailure({ model, sent, deployment, error, attempt: n, attempts, latencyMs: performance.now() - attempt.started, after: 'none', midStream: true });
        return error;
      };
      async function* rest(): AsyncGenerator<C> {
        try {
          if (head.done) return;
          for (;;) {
            attempt.arm(idleMs);
            let next: IteratorResult<C>;
            try {
              next = await iterator.next();
            } catch (e) {
              throw cut(attempt.failure(e));
            }
            if (next.done) return;
            if (attempt.pastDeadline) throw cut(pastDeadline()); // even from a provider that does not honour the abort
            // The idle timeout measures the upstream, not the caller: time spent on a chunk after it
            // arrived (a slow reader, the output guardrail checking a window) is not the upstream's.
            attempt.disarm();
            yield next.value;
          }
        } finally {
          await close();
        }
      }
      attempt.disarm();
      return { model, first: head.done ? undefined : head.value, rest: rest(), close };
    });
  }

  /**
   * The health record's key of a model for this tenant (ModelHealth.keyOf): with the tenant when its own provider
   * key calls the model (Provider.credentialOwner). A provider that cannot be had yet is keyed by the model alone.
   * @throws TenantKeyUnreadable: the tenant's own key, which its policy requires, cannot be read (the chain ends)
   */
  private async healthKey({ model, deployment }: Target, owner: ChainOwner): Promise<string> {
    try {
      return ModelHealth.keyOf(model, (await this.providers(providerOf(model), owner.tenantId, { deployment, keys: owner.providerKeys })).credentialOwner, deployment?.name);
    } catch (e) {
      if (e instanceof TenantKeyUnreadable) throw e;
      return ModelHealth.keyOf(model, undefined, deployment?.name);
    }
  }

  /**
   * The places a request tries, in order: each model of the chain in turn, a model with deployments as its deployments
   * in a weighted random order (weightedOrder), all of them before the chain's next model. The model's other
   * deployments come before the tenant's fallbacks because they serve the very model the caller asked for (its
   * answer, its price, no `fallbackFrom`), and a deployment's failure is most often its own (one organisation's rate
   * limit, one region's outage); a fallback is another model, the tenant's choice for when its model cannot answer.
   * A tenant that calls an OpenAI relay with its own provider key (Provider.credentialOwner) calls the model as
   * without deployments: its key is for the provider's endpoint, the deployments are the platform's. So does a tenant
   * whose `gateway.providerKeys` says `own` for the provider, without asking for the key here: when the key cannot be
   * read, the model's place in the chain (its health key or its call) ends the chain with TenantKeyUnreadable, and no
   * deployment is called. `platform` always takes the deployments.
   */
  private async targets(chain: ModelEntry[], owner: ChainOwner): Promise<Target[]> {
    const out: Target[] = [];
    for (const model of chain) {
      const deployments = model.deployments;
      if (!deployments?.length) {
        out.push(itself(model));
        continue;
      }
      const name = providerOf(model);
      if (name !== 'bedrock' && name !== 'sagemaker') {
        const source = providerKeySource(owner.providerKeys, name);
        const client = source === 'own-or-platform'
          ? await this.providers(name, owner.tenantId, { deployment: deployments[0], keys: owner.providerKeys }).catch(() => undefined)
          : undefined;
        if (source === 'own' || client?.credentialOwner !== undefined) {
          out.push(itself(model));
          continue;
        }
      }
      const { deployments: _, ...entry } = model;
      for (const deployment of weightedOrder(deployments, this.random)) {
        out.push({ model, deployment, sent: deployment.upstream === undefined ? entry : { ...entry, upstream: deployment.upstream } });
      }
    }
    return out;
  }

  /**
   * The chain's places in turn (targets), each with its retries (see the class). A TenantKeyUnreadable (the tenant's
   * policy says its own key for the model's provider, and it cannot be read) ends the chain at once: no retry, no other
   * deployment, no fallback model (which might run on a platform key), and nothing reported to the health records (the
   * tenant's missing key says nothing about the model, and must not cool it for the tenants on a platform key). So does
   * a TenantKeyRefused (the provider answered 401/403 to the tenant's own key: ownKeyRefusal), noted in the record's
   * `detail.tenantKeyRefused` (`<provider> <status> (<model id>)`).
   */
  private async attempts<T>(chain: ModelEntry[], owner: ChainOwner, caller: AbortSignal, deadline: AbortSignal | undefined, record: ChainRecord | undefined, call: (target: Target, attempt: Attempt) => Promise<T>): Promise<T> {
    const { retries, firstByteMs } = this.timeouts;
    const health = this.health;
    let last: ProviderError | undefined;
    const skipped: string[] = [];
    const targets = await this.targets(chain, owner);
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i];
      const { model, deployment } = target;
      const key = health ? await this.healthKey(target, owner) : '';
      // A cooling model (or deployment) is skipped while the chain has another place after it; the last one is always tried.
      const admission = health?.admit(key, i < targets.length - 1);
      if (admission?.skip) {
        const c = admission.skip;
        skipped.push(`${model.id}${deployment ? `@${deployment.name}` : ''} (cooling until ${new Date(c.until).toISOString()} after ${c.cause}; last: ${c.last})`);
        if (record) (record.detail ??= {}).skippedCoolingModels = skipped.join('; ');
        continue;
      }
      let outcome: 'ok' | 'unhealthy' | undefined;
      let waitedOut = false;
      try {
        for (let n = 0; n <= retries; n++) {
          // The deadline ends the chain: no retry, no fallback, nothing left to wait for.
          if (deadline?.aborted) throw noAnswerInTime();
          const attempt = new Attempt(caller, deadline, n + 1, retries + 1);
          try {
            const answer = await call(target, attempt);
            outcome = 'ok';
            health?.succeeded(key);
            if (deployment && record) (record.detail ??= {}).deployment = deployment.name;
            return answer;
          } catch (e) {
            if (e instanceof TenantKeyUnreadable && !caller.aborted) throw e;
            // One log line per failed call (upstream-failure-log.ts), with what the gateway does next.
            const failed = (error: ProviderError, after: 'retry' | 'next' | 'none') => logUpstreamFailure({
              model, sent: target.sent, deployment, error, attempt: n + 1, attempts: retries + 1, latencyMs: performance.now() - attempt.started, after,
            });
            if (e instanceof TenantKeyRefused && !caller.aborted) {
              if (record) (record.detail ??= {}).tenantKeyRefused = `${e.provider} ${e.upstreamStatus} (${model.id}${deployment ? `@${deployment.name}` : ''})`;
              failed(refusedKeyCalls.get(e) ?? new ProviderError(e.message, e.upstreamStatus, false), 'none');
              throw e;
            }
            const failure = attempt.failure(e);
            if (failure instanceof CallerGone) throw failure;
            if (failure.details.deadline) {
              failed(failure, 'none');
              throw noAnswerInTime();
            }
            last = failure;
            const wait = failure.details.retryAfterMs;
            // An exhausted quota is not waited out: the next model, or the caller's 429 (still a sign for the cooldown).
            // A Retry-After is waited out once per model, and only when it fits the first-byte timeout;
            // otherwise (or when the model is still limited after it) the next model, or the caller's 429.
            const retry = failure.retryable && n < retries && !quotaExhausted(failure) && !(wait !== undefined && (waitedOut || wait > firstByteMs));
            // The upstream refusing the caller's own request (a 400 any model would give; a field a provider cannot map,
            // refused before anything is sent) is no upstream failure: the caller's answer and the access line say it.
            if (!isCallersError(failure)) failed(failure, retry ? 'retry' : i === targets.length - 1 ? 'none' : 'next');
            if (!retry) break;
            if (wait !== undefined) waitedOut = true;
            await abortableWait(wait ?? Math.random() * 100 * 2 ** n, caller, deadline);
            if (caller.aborted) throw new CallerGone();
          }
        }
        // One failure per request and model, whatever its retries: a blip that fails three close retries is one.
        const sign = last && unhealthy(last, firstByteMs);
        if (sign) {
          outcome = 'unhealthy';
          health?.failed(key, sign, last!.status === 429 ? last!.details.retryAfterMs : undefined);
        }
      } finally {
        // A probe that said nothing about the model (the caller's error, the caller gone, the deadline): the next request probes.
        if (admission?.probe && outcome === undefined) health?.release(key);
      }
      if (last && isCallersError(last)) break;
    }
    throw callerErrorOf(last, chain);
  }
}

/**
 * What a failed call with a provider client means when the client calls with the tenant's own key
 * (Provider.credentialOwner: `gateway.providerKeys` `own`, or `own-or-platform` with the key readable) and the upstream
 * answered 401 or 403: the tenant's key is refused (TenantKeyRefused), and the chain ends rather than go on to another
 * deployment or a fallback model on the platform's key or another provider's. LiteLLM's router does not retry an
 * AuthenticationError within a single-deployment group (router_utils `should_retry_this_error`) but does run the
 * generic fallbacks after it, and Portkey falls back on any non-2xx by default: both serve one key owner, the
 * platform. Here the key is the tenant's, chosen by its policy for its own terms and bill, so going on would spend on
 * someone else's key and hide the broken one. A platform key's 401/403 still goes on (callerErrorOf: the platform's
 * credentials, `upstream_auth_failed` when the chain runs out).
 * @returns TenantKeyRefused, or `e` as it was (another failure, a platform key, no client yet)
 */
function ownKeyRefusal(e: unknown, provider: Provider | undefined, model: ModelEntry, owner: ChainOwner): unknown {
  if (provider?.credentialOwner === undefined || !(e instanceof ProviderError) || (e.status !== 401 && e.status !== 403)) return e;
  const name = providerOf(model);
  // Only the keyed providers' clients have a credentialOwner (registry.ts: Bedrock and SageMaker run on the platform's role).
  if (name === 'bedrock' || name === 'sagemaker') return e;
  const refused = new TenantKeyRefused(owner.tenantId, name, e.status, model.id, providerKeySource(owner.providerKeys, name));
  refusedKeyCalls.set(refused, e);
  return refused;
}

/** The upstream's own failure behind each TenantKeyRefused (its status, code and request id), for its log line. */
const refusedKeyCalls = new WeakMap<TenantKeyRefused, ProviderError>();

/**
 * Whether a model's last failure in a request says its upstream is unhealthy, and how the cooldown's log and audit
 * say it: a timeout, an unreachable upstream or an answer that is not one (retryable, no status), a retryable 5xx, a 429
 * whose `Retry-After` is absent or longer than the first-byte timeout (a short one is waited out). Never the caller's
 * 4xx, the platform's 401/403/404 (credentials and catalog: configuration, not health), a caller who left or the
 * request's deadline (those end the chain before they are counted).
 * @returns `timeout`, `unreachable`, `upstream <status>`, or undefined when the failure does not count
 */
export function unhealthy(e: ProviderError, firstByteMs: number): string | undefined {
  if (e.details.timedOut) return 'timeout';
  if (!e.retryable) return undefined;
  if (e.status === undefined) return 'unreachable';
  if (e.status >= 500) return `upstream ${e.status}`;
  if (e.status === 429) {
    const after = e.details.retryAfterMs;
    return after === undefined || after > firstByteMs ? 'upstream 429' : undefined;
  }
  return undefined;
}

/**
 * An upstream 429 for a used-up quota or credit: OpenAI's `insufficient_quota` (its error's type and code), which no wait
 * of seconds clears, whatever `Retry-After` came with it. The gateway tries the model no more in this request, and the
 * caller's 429 keeps that type and code and says `x-should-retry: false` (GatewayError).
 */
export const quotaExhausted = (e: ProviderError) => e.status === 429 && (e.details.code === 'insufficient_quota' || e.details.type === 'insufficient_quota');

/**
 * A refusal of the request itself (4xx but not 401/403/404/408/429): another model would refuse it
 * too. 401/403 are the platform's credentials and 404 the platform's catalog (the upstream does
 * not know the model the catalog names): the platform's problems, so the next model is tried.
 */
const isCallersError = (e: ProviderError) => e.status !== undefined && e.status >= 400 && e.status < 500 && ![401, 403, 404, 408, 429].includes(e.status);

/**
 * The caller's answer for an upstream failure. An upstream 4xx keeps its status, message, type,
 * code and param (SDKs do not retry what cannot succeed). 401 and 403 are the platform's
 * credentials, not the caller's: 502. 429 keeps the upstream's `Retry-After` and `retry-after-ms` (the gateway adds its
 * `x-ratelimit-*` headers) and its error object's `type`, `code` and `param` as it sent them (OpenAI's `type: "requests"`
 * or `"tokens"` with `code: "rate_limit_exceeded"`; `rate_limit_error` and `upstream_rate_limited` only for what it did not
 * send); its message follows "the upstream of <model> is rate limited: ", without the organization, project or key ids
 * (withoutAccountIds). No answer in time is 504; anything else 502. Every upstream message relayed (a 4xx's, a 404's, a
 * 5xx's, a timeout's) goes without those ids too: OpenAI's account is the platform's whatever the status.
 * @param chain the models that were tried, in order: one for embeddings (never a fallback), for a
 *   tenant without fallbacks and for a stream that failed after its first chunk; the message speaks
 *   of "the chain" only when there was one
 */
export function callerErrorOf(e: ProviderError | undefined, chain: ModelEntry[]): GatewayError {
  const err = callerError(e, chain);
  // The gateway has made its retries and tried the fallbacks: the OpenAI SDKs, which honour
  // `x-should-retry`, do not multiply them (3 SDK attempts × 3 gateway attempts = 9 upstream calls).
  // A 502 or 504 says so by itself (GatewayError: NO_SDK_RETRY_STATUSES); a 429 without the
  // upstream's Retry-After is told here (the SDK would retry at once). A 429 carrying Retry-After
  // is not: the upstream said when to come back, and the SDK waits exactly that before its retry
  // (as it would against the upstream itself), so a short throttle is survived.
  return err.status === 429 && err.headers['retry-after'] === undefined ? new GatewayError(429, err.message, err.type, err.code, err.param, { ...err.headers, 'x-should-retry': 'false' }) : err;
}

function callerError(e: ProviderError | undefined, chain: ModelEntry[]): GatewayError {
  const ids = chain.map((m) => m.id).join(', ');
  const single = chain.length === 1;
  if (!e) return upstream(single ? `${ids} did not answer` : `no model of the chain (${ids}) answered`);
  const { status, details } = e;
  if (status === 429) {
    const after = details.retryAfterMs;
    // retry-after in whole seconds (RFC 9110), retry-after-ms as the upstream gave it: the SDKs read it first (a 20 ms throttle is not waited out for a second)
    const waits: Record<string, string> = after === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(after / 1000))), 'retry-after-ms': String(Math.ceil(after)) };
    // OpenAI's type and code kept (clients tell a used-up quota from a throttle by them), with x-should-retry: false (GatewayError).
    if (quotaExhausted(e)) return new GatewayError(429, `the upstream of ${ids} has no quota left: ${withoutAccountIds(e.message)}`, 'insufficient_quota', 'insufficient_quota', null, waits);
    // OpenAI's own type kept as it sent it (`requests`, `tokens`, `rate_limit_error` for `slow_down`): the SDKs raise
    // RateLimitError by the status and expose `type` as the body has it. `rate_limit_error` only when the upstream sent none.
    const throttled = new GatewayError(429, `the upstream of ${ids} is rate limited: ${withoutAccountIds(e.message)}`, details.type ?? 'rate_limit_error', details.code ?? 'upstream_rate_limited', details.param ?? null, waits);
    throttled.rateLimit = { source: 'upstream' };
    return throttled;
  }
  // The upstream's own words are not relayed: OpenAI's 401 message quotes part of the key.
  if (status === 401 || status === 403) return upstream(`the upstream refused the platform's credentials for ${ids} (${status}); the platform team must check the provider key`, 'upstream_auth_failed');
  if (status === 404) return upstream(`the upstream does not know the model the catalog names for ${ids} (404): ${withoutAccountIds(e.message.slice(0, 200))}`, 'upstream_model_not_found');
  if (isCallersError(e)) {
    const err = new GatewayError(status!, withoutAccountIds(e.message), details.type ?? 'invalid_request_error', details.code ?? 'upstream_invalid_request', details.param ?? null);
    if (details.code === undefined) err.wireCode = null; // OpenAI's own refusals often carry `code: null`: relayed so, the audit keeps upstream_invalid_request
    return err;
  }
  if (details.timedOut) return upstreamTimeout(`no answer from ${ids} in time: ${withoutAccountIds(e.message)}`);
  const said = withoutAccountIds(e.message);
  return upstream(single ? `the upstream of ${ids} failed: ${said}` : `upstream failed for every model of the chain (${ids}): ${said}`, details.code ?? 'upstream_error');
}
