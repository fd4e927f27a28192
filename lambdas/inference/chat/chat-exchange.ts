import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { noteGuardrailMasked, sha256 } from '../audit.js';
import { applyInputGuardrails } from '../guardrails/caller-texts.js';
import { redactPii } from '../guardrails.js';
import { deadlineExceeded, GatewayError, invalid } from '../openai-errors.js';
import { providerOf } from '../policy.js';
import { costOf, type CompletionLimit, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { ProviderError } from '../providers/provider.js';
import { withoutAccountIds } from '../providers/upstream-error-fields.js';
import type { Reservation } from '../stores/gateway-store.js';
import { countCompletionTokens, countPromptTokens, loadTokenizer, tokenizerLoaded } from '../token-count.js';
import { CallerGone, callerErrorOf } from '../upstream-calls.js';
import { answerExtras, isCallArguments, isJson, reasoningOf } from './answer-texts.js';
import { normaliseFinishReason } from './finish-reason.js';
import { callerTextsOf, textOfContent, withCallerTexts, withTextOfContent } from './message-texts.js';
import { OutputGuardrailFailed, StreamOutputGuard } from './output-guard.js';
import { callText, capAnswer, OutputLimiter, outputLimitOf, overrunCeiling, reportedCompletion, ToolCallsOverLimit } from './output-limit.js';
import { billedUsage, cacheTokensOf, isCount } from './reported-usage.js';
import { withCacheCounters } from '../stores/model-usage.js';
import type { ChatRequestBody } from './request-schema.js';
import { StreamRelay } from './stream-relay.js';
import { firstToolCalls, logDroppedCalls, oneToolCall } from './one-tool-call.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * The chat machinery every chat-model endpoint shares (`POST /v1/chat/completions` and
 * `POST /v1/responses`, which is translated onto it): after the endpoint has resolved the model
 * and admitted the request, `runChat` applies the tenant's input guardrails, caps and counts the
 * tokens, reserves them against every budget, and hands a `ChatExchange` to the endpoint, which
 * calls the upstream whole (`completeChat`) or streamed (`streamChat`). The exchange settles the
 * reservation with the real usage (or releases it when nothing was produced) and fills the audit
 * record; an upstream 429 gets the tenant's rate-limit headers.
 */
export class ChatExchange {
  settled = false;

  constructor(
    readonly pipeline: RequestPipeline,
    readonly r: PipelineRequest,
    /** The catalog model the caller asked for (the chain may answer with a fallback). */
    readonly model: ModelEntry,
    /** The body as it goes to the provider: guarded, system prompt first, token cap added. */
    readonly body: ChatRequestBody,
    readonly promptTokens: number,
    private readonly reservation: Reservation,
    /** Completion tokens each choice may have (outputLimitOf): the gateway holds the upstream to it. */
    readonly outputLimit: number = Number.POSITIVE_INFINITY,
    /** Answers the request asks for (`n`). */
    readonly choices = 1,
  ) {}

  /**
   * Notes an upstream that answered past the request's output limit: a warning in the log and
   * in the audit record's detail (`warning: upstream_overran_limit`, the limit and the counts).
   * The usage is billed as it came (the platform was charged for it).
   */
  overran(used: ModelEntry, counts: { counted: number; reported?: number }): void {
    const detail = { warning: 'upstream_overran_limit', outputLimit: this.outputLimit, countedCompletionTokens: counts.counted, ...(counts.reported !== undefined ? { reportedCompletionTokens: counts.reported } : {}) };
    this.r.audit.detail ??= {};
    Object.assign(this.r.audit.detail, detail); // in place: an endpoint may hold the detail object
    logger.warn('upstream_overran_limit: the upstream answered past the request\'s output limit', { requestId: this.r.audit.requestId, tenantId: this.r.caller.tenantId, model: used.id, ...detail });
  }

  /** The model, then the tenant's fallbacks. */
  get chain(): ModelEntry[] {
    return this.pipeline.chain(this.r, this.model);
  }

  /**
   * Replaces the reservation by the usage of the model that answered, and notes it in the audit
   * record and the usage ledger.
   * @param counted the gateway's own o200k count of the prompt and the answer (usageOf), kept beside a reported usage for
   *   reconciliation, with the reasoning tokens the provider reported added (hidden output, which no count of the answer sees)
   * @param shownReasoning the o200k count of the reasoning text the answer showed (reasoning_content / reasoning), which `counted`
   *   holds: taken off the reported reasoning tokens, so that reasoning both shown and reported is counted once
   */
  async settle(used: ModelEntry, usage: CompletionUsage, estimated: boolean, counted: number, shownReasoning = 0): Promise<void> {
    this.settled = true;
    // The prompt's cache reads and writes (none on an estimate) at the catalog's cache prices; the ledger and the audit record keep their counts.
    const cache = estimated ? undefined : cacheTokensOf(usage);
    const costUsd = costOf(used, usage.prompt_tokens, usage.completion_tokens, cache);
    Object.assign(this.r.audit, withCacheCounters({ model: used.id, provider: providerOf(used), promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, usageEstimated: estimated, costUsd }, cache ?? {}));
    if (used.id !== this.model.id) this.r.audit.fallbackFrom = this.model.id;
    // A reported usage's reasoning tokens are output the answer never shows, so the gateway cannot count them: they join its
    // count for the reconciliation, which would otherwise flag every month of a reasoning model (its report many times the count).
    const reasoning = estimated ? 0 : usage.completion_tokens_details?.reasoning_tokens;
    // Reasoning the upstream also sent as text (vLLM's, DeepSeek's reasoning_content) is in `counted` already: only the rest was hidden.
    const hidden = isCount(reasoning) ? Math.max(0, Math.min(reasoning, usage.completion_tokens) - shownReasoning) : 0;
    const ledger = { model: used.id, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, reported: !estimated, estimatedTokens: counted + hidden, ...cache };
    await this.pipeline.settle(this.reservation, usage.total_tokens, costUsd, ledger);
  }

  /** Nothing was produced: the reservation is released. Idempotent with `settle`. */
  async release(): Promise<void> {
    if (!this.settled) await this.pipeline.settle(this.reservation, 0, 0);
    this.settled = true;
  }
}

/**
 * Guards, counts and reserves a chat request, runs `call` with the exchange, and releases the
 * reservation if `call` settled nothing.
 * @param choices answers the request asks for (`n`), each reserved at the completion limit
 * @param known the completion limit of `body` when the caller already has it (pipeline.completionLimit, checked before
 *   the request counts against the rate limits); else it is computed here, once the body is guarded
 * @throws GatewayError 400 from the guardrails or the token cap, 429 from the budgets or (with the
 *   tenant's `x-ratelimit-*` headers) from the upstream, and whatever `call` throws
 */
export async function runChat<T>(pipeline: RequestPipeline, r: PipelineRequest, model: ModelEntry, body: ChatRequestBody, choices: number, call: (x: ChatExchange) => Promise<T>, known?: CompletionLimit): Promise<T> {
  const guarded = await guardChat(pipeline, r, body);
  const limit = known ?? pipeline.completionLimit(r, model, body);
  if (limit.add !== undefined) guarded.max_completion_tokens = limit.add;
  // The gateway starts loading the tokenizer when it is built; a request before it is ready waits for it.
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined); // without it, counts are the byte bound: larger, never smaller
  const promptTokens = countPromptTokens(guarded);
  const reservation = await pipeline.reserve(r, model, promptTokens, limit.reserve * choices, choices, undefined, limit.minute * choices);
  const x = new ChatExchange(pipeline, r, model, guarded, promptTokens, reservation, outputLimitOf(guarded, limit.reserve), choices);
  try {
    return await call(x);
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
    throw e;
  } finally {
    if (!x.settled) await x.release(); // nothing was produced: release the reservation
  }
}

/**
 * The tenant's input guardrails on every text the caller sent (PII redaction, the injection
 * screen, Bedrock ApplyGuardrail), the tenant's system prompt first, the prompt's fingerprint
 * in the audit record. A Bedrock guardrail that blocks is a 400 `guardrail_intervened`; one that
 * masks (a sensitive information filter set to ANONYMIZE) puts its masked texts in place of the
 * user, tool and function texts it was sent (withCallerTexts: a message with several text parts
 * gets the whole masked text in its first text part, the others left out; a text file's decoded
 * text is a text of its own, encoded back as it came) and of the predicted output's text, counted in the audit
 * record's `guardrailMasked.input`. Returns a new body; the caller's is not changed. The messages keep their
 * positions (one out per one in), after the system prompt when the tenant has one.
 */
export async function guardChat(pipeline: RequestPipeline, r: PipelineRequest, body: ChatRequestBody): Promise<ChatRequestBody> {
  const g = r.policy.gateway.guardrails;
  // PromptInjectionError is the caller's 400 `prompt_injection_detected`, naming the text's path.
  const screened = applyInputGuardrails(body.messages, { redactPii: g.redactPii, promptInjectionScreen: g.promptInjectionScreen });
  let messages: ChatCompletionMessageParam[] = screened.messages;
  if (screened.piiFound.length) r.audit.piiRedacted = [...new Set(screened.piiFound)];
  let prediction = body.prediction;
  if (g.redactPii && prediction?.type === 'content') {
    // A predicted output is the caller's text too (usually a file it is editing).
    const red = applyInputGuardrails([{ role: 'user', content: prediction.content }], { redactPii: true, promptInjectionScreen: false });
    if (red.piiFound.length) {
      prediction = { ...prediction, content: red.messages[0].content as typeof prediction.content };
      r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...red.piiFound])];
    }
  }
  if (g.bedrockGuardrailId) {
    const roles: Array<ChatCompletionMessageParam['role']> = ['user', 'tool', 'function'];
    // The user and tool texts, their text files' decoded texts, then the predicted output's text (the caller's too).
    const texts = callerTextsOf(messages, roles, { files: true });
    const predicted = prediction?.type === 'content' ? textOfContent(prediction.content) : '';
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, predicted ? [...texts, predicted] : texts, 'INPUT', r.deadline);
    if (verdict.blocked) throw invalid(`the request was blocked by the tenant's Bedrock guardrail${verdict.reason ? `: ${verdict.reason}` : ''}`, 'messages', 'guardrail_intervened');
    if (verdict.masked) {
      // The guardrail masked (ANONYMIZE): the model gets the masked texts; the audit record says how many, never what.
      const masked = withCallerTexts(messages, verdict.masked.slice(0, texts.length), roles, { files: true });
      messages = masked.messages;
      let replaced = masked.replaced;
      if (predicted && prediction?.type === 'content' && verdict.masked[texts.length] !== predicted) {
        prediction = { ...prediction, content: withTextOfContent(prediction.content, verdict.masked[texts.length]) };
        replaced += 1;
      }
      noteGuardrailMasked(r.audit, 'input', replaced);
    }
  }
  if (r.policy.gateway.systemPrompt) messages = [{ role: 'system', content: r.policy.gateway.systemPrompt }, ...messages];
  r.audit.promptSha256 = sha256(JSON.stringify(messages));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = callerTextsOf(messages).join('\n');
  return prediction === body.prediction ? { ...body, messages } : { ...body, messages, prediction };
}

/**
 * The upstream's usage as billed (`billedUsage`: reported-usage.ts), or the gateway's count when it
 * reported none it can bill (marked estimated in the audit); `counted` is the gateway's own count
 * either way (the reservation's prompt count plus the answer's o200k count), for the usage
 * ledger's reconciliation of reported usage.
 */
export function usageOf(reported: CompletionUsage | undefined | null, promptTokens: number, produced: () => string): { usage: CompletionUsage; estimated: boolean; counted: number } {
  const completion = countCompletionTokens(produced());
  const counted = promptTokens + completion;
  const billed = billedUsage(reported);
  if (billed) return { usage: billed, estimated: false, counted };
  return { usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: counted }, estimated: true, counted };
}

/** What a whole answer said, every choice: reasoning, text, refusal, tool calls and the legacy function_call (name and arguments), for the o200k count. */
function answerText(result: ChatCompletion): string {
  return (result.choices ?? []).map((c) => {
    const fn = c.message?.function_call ? `${c.message.function_call.name ?? ''}${c.message.function_call.arguments ?? ''}` : '';
    // A reasoning model's thinking (reasoning_content / reasoning, once when both say one text) is output, as a stream's is (deltaText).
    return `${reasoningOf(c.message)}${textOfContent(c.message?.content)}${c.message?.refusal ?? ''}${(c.message?.tool_calls ?? []).map(callText).join('')}${fn}`;
  }).join('');
}

/**
 * The whole answer: the upstream's, settled (the tokens were spent whether or not it is shown),
 * held to the request's output limit (an upstream that ignored it: each choice's content cut to
 * the limit with finish_reason `length`, tool calls (or a legacy function_call) over it a 502 `upstream_overrun`; billed as
 * reported, warned as `upstream_overran_limit`: capAnswer in output-limit.ts),
 * with the gateway's `id` and the catalog model, OpenAI's finish reasons, then the tenant's output
 * guardrails: Bedrock ApplyGuardrail on each choice's content, refusal, audio transcript,
 * tool-call arguments and legacy function_call arguments (a blocked answer becomes OpenAI's filtered answer: content replaced,
 * finish_reason `content_filter`, as does a masking that leaves arguments that are not JSON or
 * masks an audio transcript, whose audio still says it; a masked one shows each choice's masked
 * texts, its finish_reason unchanged) and PII redaction of
 * every answer text. A choice masked, blocked or redacted loses its logprobs (null): they spell
 * the text as the model wrote it.
 */
export async function completeChat(x: ChatExchange, id: string): Promise<ChatCompletion> {
  const { pipeline, r } = x;
  const called = performance.now();
  const { result: answered, model } = await pipeline.upstream.complete(x.chain, { body: x.body, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
  r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
  // `parallel_tool_calls: false`: each choice's first tool call only, whatever the upstream honoured (one-tool-call.ts).
  // The usage below is the upstream's (or counted on what it answered, the calls dropped too: they were generated).
  const held = oneToolCall(x.body) ? firstToolCalls(answered) : { answer: answered, dropped: 0 };
  logDroppedCalls(model.id, held.dropped);
  const result = held.answer;
  // What the answer said: counted with o200k on every answer (the billed usage when the upstream
  // reported none, and the usage ledger's reconciliation count when it did).
  const { usage, estimated, counted } = usageOf(answered.usage, x.promptTokens, () => answerText(answered));
  await x.settle(model, usage, estimated, counted, countCompletionTokens((result.choices ?? []).map((c) => reasoningOf(c.message)).join('')));
  // An upstream that ignored the limit: billed as it reported (or as counted), shown up to the limit.
  // An upstream whose own count is within the limit honoured it (in its tokenizer): nothing is cut.
  // Only for one choice: a reported total over `n` choices says nothing of each one.
  const reported = reportedCompletion(result.usage);
  // A report is believed within reason: not for an answer the gateway counts at more than twice the margin (0 or 5
  // reported for 8,000 tokens shown is no tokenizer difference).
  const honoured = x.choices === 1 && reported !== undefined && reported <= x.outputLimit
    && counted - x.promptTokens <= 2 * overrunCeiling(x.outputLimit);
  let capped: ReturnType<typeof capAnswer>;
  try {
    capped = honoured ? { answer: result, cut: false, largest: reported } : capAnswer(result, overrunCeiling(x.outputLimit));
  } catch (e) {
    if (!(e instanceof ToolCallsOverLimit)) throw e;
    x.overran(model, { counted: counted - x.promptTokens, reported: reportedCompletion(result.usage) });
    throw new GatewayError(502, `the upstream answered past the request's output limit of ${x.outputLimit} tokens with tool calls; cut tool-call arguments would not be valid JSON (${e.message})`, 'upstream_error', 'upstream_overrun');
  }
  if (capped.cut || (reported !== undefined && reported > x.outputLimit * x.choices)) x.overran(model, { counted: capped.largest, reported });
  // OpenAI's fields every ChatCompletion carries, where an upstream left them out: `object`, `created` (Unix seconds, now
  // when the upstream sent none or not a whole number, as a stream's), each message's `role` (the SDKs' types require
  // them; an app reading `completion.created` got undefined / None).
  const created = Number.isSafeInteger(capped.answer.created) && capped.answer.created >= 0 ? capped.answer.created : Math.floor(Date.now() / 1000);
  const answer: ChatCompletion = {
    ...capped.answer, id, object: 'chat.completion', created, model: model.id, usage,
    choices: (capped.answer.choices ?? []).map((c) => ({ ...c, message: { ...c.message, role: 'assistant' }, finish_reason: normaliseFinishReason(c.finish_reason) ?? 'stop' })),
  };
  const g = r.policy.gateway.guardrails;
  if (g.bedrockGuardrailId) {
    // One text per choice (its content), then each choice's refusal, audio transcript, tool-call arguments and legacy
    // function_call arguments (an upstream asked with the deprecated `functions`) as texts of their own.
    const extras = answerExtras(answer.choices);
    const texts = [...answer.choices.map((c) => textOfContent(c.message.content)), ...extras.map((e) => e.text)];
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, texts, 'OUTPUT', r.deadline);
    // A masked tool call (or function_call) whose arguments are no longer JSON cannot be shown: the answer is blocked (fail closed).
    const brokenArgs = verdict.masked !== undefined && extras.some((e, k) => isCallArguments(e) && verdict.masked![answer.choices.length + k] !== e.text && !isJson(verdict.masked![answer.choices.length + k]));
    // A masked audio transcript cannot un-say the audio that speaks it: blocked too (fail closed), as a stream's.
    // Masked reasoning (reasoning_content / reasoning, not OpenAI's type) likewise: it is not shown masked, the answer is blocked.
    const spoken = verdict.masked !== undefined && extras.some((e, k) => (e.kind === 'transcript' || e.kind === 'reasoning') && verdict.masked![answer.choices.length + k] !== e.text);
    if (verdict.blocked || brokenArgs || spoken) {
      // OpenAI's convention for a filtered answer: 200, finish_reason content_filter; nothing of the answer stays (logprobs, refusal, audio, calls).
      const withheld = (verdict.blocked ? verdict.reason : undefined) ?? "The answer was withheld by the tenant's guardrail.";
      answer.choices = answer.choices.map((c) => ({ ...c, message: { ...withoutReasoning(c.message), content: withheld, tool_calls: undefined, function_call: undefined, refusal: null, audio: undefined }, logprobs: null, finish_reason: 'content_filter' }));
      r.audit.outcome = 'guardrail_blocked_answer';
    } else if (verdict.masked) {
      // The guardrail masked (ANONYMIZE): each choice shows its masked texts; finish_reason stays; its logprobs (the unmasked tokens) go.
      const masked = verdict.masked;
      let count = 0;
      answer.choices = answer.choices.map((c, i) => {
        let message = c.message;
        if (masked[i] !== textOfContent(c.message.content)) message = { ...message, content: withTextOfContent(c.message.content as ChatCompletionMessageParam['content'], masked[i]) as string };
        extras.forEach((e, k) => {
          const text = masked[answer.choices.length + k];
          if (e.choice !== i || text === e.text) return;
          if (e.kind === 'refusal') message = { ...message, refusal: text };
          else if (e.kind === 'function_call') message = { ...message, function_call: { ...message.function_call!, arguments: text } };
          else if (e.kind === 'input') message = { ...message, tool_calls: message.tool_calls!.map((t, j) => (j === e.call && t.type === 'custom' ? { ...t, custom: { ...t.custom, input: text } } : t)) };
          else message = { ...message, tool_calls: message.tool_calls!.map((t, j) => (j === e.call && t.type === 'function' ? { ...t, function: { ...t.function, arguments: text } } : t)) };
        });
        if (message === c.message) return c;
        count += 1;
        return { ...c, message, logprobs: null };
      });
      noteGuardrailMasked(r.audit, 'output', count);
    }
  }
  if (g.redactResponses) {
    // The same walk as the caller's texts: content, refusal, tool-call and legacy function_call arguments (kept valid JSON).
    const found: string[] = [];
    answer.choices = answer.choices.map((c) => {
      const red = applyInputGuardrails([c.message as ChatCompletionMessageParam], { redactPii: true, promptInjectionScreen: false });
      found.push(...red.piiFound);
      let message = red.messages[0] as ChatCompletion.Choice['message'];
      // The audio transcript is answer text too (the audio itself is not redacted: docs/gateway.md).
      const transcript = c.message.audio?.transcript ? redactPii(c.message.audio.transcript) : undefined;
      if (transcript?.found.length) {
        found.push(...transcript.found);
        message = { ...message, audio: { ...c.message.audio!, transcript: transcript.text } };
      }
      // A reasoning model's thinking (reasoning_content / reasoning) is answer text the caller sees too.
      let thought = false;
      for (const field of ['reasoning_content', 'reasoning'] as const) {
        const text = (c.message as unknown as Record<string, unknown>)[field];
        if (typeof text !== 'string') continue;
        const r = redactPii(text);
        if (!r.found.length) continue;
        found.push(...r.found);
        thought = true;
        message = { ...message, [field]: r.text } as typeof message;
      }
      // A redacted choice's logprobs would spell what was redacted: they go.
      return red.piiFound.length || transcript?.found.length || thought ? { ...c, message, logprobs: null } : c;
    });
    noteResponsePii(r, found);
  }
  return answer;
}

/** A message without a reasoning model's thinking (reasoning_content / reasoning): a blocked answer keeps none of what it said. */
function withoutReasoning<M extends object>(message: M): M {
  const { reasoning_content: _rc, reasoning: _r, ...rest } = message as M & { reasoning_content?: unknown; reasoning?: unknown };
  return rest as M;
}

/** Where a streamed answer goes: opened once the upstream's first chunk is in, then chunk by chunk. */
export interface ChunkSink {
  open(): void | Promise<void>;
  chunk(chunk: ChatCompletionChunk): void | Promise<void>;
}

/** How a stream ended: whole, cut by the caller (`cancelled`), or with a failure to report in the stream. */
export interface StreamEnd {
  cancelled: boolean;
  failure?: GatewayError;
  /** What was used (the upstream's report, or the gateway's count), settled. */
  usage: CompletionUsage;
  model: ModelEntry;
  /** The stream's `created` (Unix seconds), for chunks the endpoint adds (StreamRelay.created). */
  created: number;
  /** The upstream's `service_tier` (StreamRelay.serviceTier), for the Responses API's Response; absent when it sent none. */
  serviceTier?: string;
}

/**
 * The streamed answer: the upstream's chunks held to the request's output limit (`OutputLimiter`:
 * a choice that passes it ends with finish_reason `length`, and once every choice has ended the
 * upstream is closed; billed as counted, warned as `upstream_overran_limit`), through a
 * `StreamRelay` (gateway id and catalog model, OpenAI's finish reasons, PII redaction of the
 * answer when the tenant asks: content, refusal, audio transcript, and tool calls held until the
 * choice finishes, then sent whole with their arguments redacted), through the tenant's Bedrock output guardrail when it has one
 * (`StreamOutputGuard`: text goes out in windows that passed ApplyGuardrail(OUTPUT), the rest is
 * checked before the end; a choice's tool calls, refusal and audio (its transcript checked) are
 * held until it finishes and checked whole, as a whole answer's, the other choices going on; a block ends each open choice with the guardrail's text and
 * finish_reason `content_filter` and closes the upstream; a masking shows the window (the
 * arguments, the refusal) masked;
 * without a guardrail every chunk goes out as it comes) into `sink`,
 * which is opened after the first chunk (a failure before it is the caller's JSON error, with
 * retries and fallbacks). A failure after it (an upstream error event, a timeout, a stream cut
 * before every choice finished) is returned for the endpoint to report in its stream; the caller
 * leaving is `cancelled`. Text the redactor still held is released, usage is settled, the audit
 * outcome is set, in every case.
 */
export async function streamChat(x: ChatExchange, id: string, sink: ChunkSink, includeUsage: boolean): Promise<StreamEnd> {
  const { pipeline, r } = x;
  const chain = x.chain;
  const called = performance.now();
  const open = await pipeline.upstream.stream(chain, { body: x.body, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
  r.audit.upstreamLatencyMs = Math.round(performance.now() - called); // to the first chunk
  const relay = new StreamRelay({ id, model: open.model.id, includeUsage, redactAnswers: r.policy.gateway.guardrails.redactResponses, oneToolCall: oneToolCall(x.body) });
  // The gateway holds the upstream to the request's output limit (an upstream may ignore it).
  const limiter = new OutputLimiter(overrunCeiling(x.outputLimit), x.choices);
  // With the tenant's Bedrock output guardrail, text goes out only once it passed (windows); without, chunks go out as they come.
  const guardrailId = r.policy.gateway.guardrails.bedrockGuardrailId;
  const guard = guardrailId ? new StreamOutputGuard((texts) => pipeline.applyGuardrail(guardrailId, texts, 'OUTPUT', r.deadline), (c) => sink.chunk(c), { requestId: r.audit.requestId, tenantId: r.caller.tenantId, guardrailId }) : undefined;
  /** Sends a relayed chunk (through the guard when there is one); false once the guardrail blocked the answer. */
  const send = async (chunk: ChatCompletionChunk | undefined): Promise<boolean> => {
    if (!chunk) return true;
    if (guard) return guard.push(chunk);
    await sink.chunk(chunk);
    return true;
  };
  /** One upstream chunk: held to the limit, relayed, sent; false when the stream is to end here. */
  const step = async (chunk: ChatCompletionChunk): Promise<boolean> => {
    const kept = limiter.pass(chunk);
    // A chunk whose every choice was dropped past the limit still carries the upstream's usage (vLLM puts it on every chunk): kept for billing, not sent.
    if (!kept && chunk.usage) relay.usage = chunk.usage;
    if (kept && !(await send(relay.relay(kept)))) return false;
    if (!limiter.over) return true;
    const closing = limiter.closing(chunk); // choices still open end with `length` as the upstream is closed
    if (closing) await send(relay.relay(closing));
    return false;
  };
  let failure: GatewayError | undefined;
  let opened = false;
  try {
    // Inside the try: a caller gone before the first chunk (the responder throws CallerGone) still
    // closes the upstream stream and settles what it produced.
    await sink.open();
    opened = true;
    let going = open.first ? await step(open.first) : true;
    if (going) {
      for await (const chunk of open.rest) {
        if (r.signal.aborted) throw new CallerGone(); // even from a provider that does not honour the abort
        if (!(going = await step(chunk))) break; // leaving the loop closes the upstream (aborts its request)
      }
    }
  } catch (e) {
    if (e instanceof CallerGone || r.signal.aborted) {
      r.audit.outcome = 'cancelled';
      if (!opened) r.audit.status = 499; // no answer began (a stream cut later keeps the 200 its headers said)
    } else if (e instanceof ProviderError && e.details.timedOut && !e.details.deadline && !relay.unfinished()) {
      // Every choice had its finish_reason, then the upstream sent nothing more (no usage chunk, no [DONE]) and kept the
      // connection open past the idle timeout: the answer is whole, so the stream ends as a whole one does (the usage
      // estimated when none came), not with a timeout error after it, which the SDKs raise and a framework would retry
      // (a second, billed answer). A warning in the log and the audit record's detail.
      r.audit.detail ??= {};
      Object.assign(r.audit.detail, { warning: 'upstream_stalled_after_finish' });
      logger.warn('upstream_stalled_after_finish: every choice finished, then the upstream sent nothing within the idle timeout; the stream ended there', { requestId: r.audit.requestId, tenantId: r.caller.tenantId, model: open.model.id });
    } else {
      // Past the first chunk only the model that streamed was called: no fallback follows.
      failure = e instanceof ProviderError ? midStreamError(e, open.model) : e instanceof OutputGuardrailFailed ? guardrailFailure(e) : new GatewayError(502, `upstream stream interrupted: ${(e as Error).message}`, 'upstream_error', 'upstream_stream_interrupted');
      r.audit.outcome = failure.code;
    }
  } finally {
    await open.close();
  }
  if (!failure && r.audit.outcome !== 'cancelled' && !guard?.blocked && relay.unfinished()) {
    // The upstream closed before every choice had its finish_reason: cut off, not complete.
    failure = new GatewayError(502, 'the upstream stream ended before the answer was finished (no finish_reason)', 'upstream_error', 'upstream_stream_interrupted');
    r.audit.outcome = failure.code;
  }
  // What the relay held back goes out, unless nobody is there to read it (the sink may not even be open).
  if (r.audit.outcome !== 'cancelled') {
    try {
      if (!guard?.blocked) {
        // Held text goes out; tool calls held for an unfinished choice do not (incomplete: a client acts on a whole call only).
        for (const chunk of relay.drain()) if (!(await send(chunk))) break;
        // The rest of the answer is checked before the stream may end; after a failure, a held choice's unfinished
        // calls and audio are dropped, not checked and sent.
        if (guard) await guard.end({ cut: failure !== undefined });
      }
      if (guard?.blocked) {
        if (!failure) r.audit.outcome = 'guardrail_blocked_answer';
        // A failure already ends the stream with an error event: the held text is just not sent.
        if (!failure) for (const chunk of guard.blockedChunks(id, open.model.id, relay.created)) await sink.chunk(chunk);
      }
    } catch (e) {
      if (e instanceof CallerGone || r.signal.aborted) r.audit.outcome = 'cancelled';
      else if (!(e instanceof OutputGuardrailFailed)) throw e;
      else if (!failure) {
        failure = guardrailFailure(e);
        r.audit.outcome = failure.code;
      }
    }
  }
  noteResponsePii(r, relay.piiFound);
  logDroppedCalls(open.model.id, relay.droppedToolCalls);
  if (guard) noteGuardrailMasked(r.audit, 'output', guard.masked);
  const { usage, estimated, counted } = usageOf(relay.usage, x.promptTokens, () => relay.produced + limiter.dropped);
  if (limiter.cut.size) x.overran(open.model, { counted: countCompletionTokens(relay.produced + limiter.dropped), reported: reportedCompletion(relay.usage) });
  await x.settle(open.model, usage, estimated, counted, countCompletionTokens(relay.reasoningShown));
  return { cancelled: r.audit.outcome === 'cancelled', failure, usage, model: open.model, created: relay.created, serviceTier: relay.serviceTier };
}

/**
 * ApplyGuardrail failing mid-stream: the stream ends with an error event, the held text unsent; a
 * check stopped by the request's deadline is its 504 `request_deadline_exceeded` (the pipeline's wrapper made it).
 */
function guardrailFailure(e: OutputGuardrailFailed): GatewayError {
  if (e.cause instanceof GatewayError && e.cause.code === 'request_deadline_exceeded') return e.cause;
  // The same code as a whole answer's (the pipeline's guardrail wrapper already named the guardrail and the AWS error)
  return new GatewayError(502, e.message, 'upstream_error', 'guardrail_unavailable');
}

/**
 * An upstream's mid-stream error as the caller's error event: its own message (without OpenAI's organization, project
 * and key ids: withoutAccountIds, as every upstream message relayed) and code, a timeout as 504; the request's deadline
 * (the gateway stopped the stream itself) as 504 `request_deadline_exceeded`.
 */
export function midStreamError(e: ProviderError, model: ModelEntry): GatewayError {
  if (e.details.deadline) return deadlineExceeded("the answer was cut: the gateway's time for this request ran out (the router Lambda's timeout, or API Gateway's 5-minute limit on a response stream that sends nothing, less the time kept to settle the budget and write the audit record). What was streamed until then is billed; ask for a shorter answer (max_completion_tokens) or split the task");
  if (e.details.timedOut) return new GatewayError(504, `the upstream sent nothing for longer than the idle timeout: ${withoutAccountIds(e.message)}`, 'timeout_error', 'upstream_timeout');
  if (e.status !== undefined) return callerErrorOf(e, [model]);
  return new GatewayError(502, withoutAccountIds(e.message), e.details.type ?? 'upstream_error', e.details.code ?? 'upstream_stream_error', e.details.param ?? null);
}

/** Adds the PII kinds found in an answer to the audit record, marked as the response's. */
export function noteResponsePii(r: PipelineRequest, found: string[]): void {
  if (found.length) r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...found.map((f) => `response:${f}`)])];
}

