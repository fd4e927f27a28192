import type { CompletionUsage } from 'openai/resources/completions';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { midStreamError, noteResponsePii } from '../chat/chat-exchange.js';
import { billedUsage, cacheTokensOf } from '../chat/reported-usage.js';
import { withCacheCounters } from '../stores/model-usage.js';
import { completionReservation, guardCompletionInput } from '../completions/prompts.js';
import { checkBestOf, CompletionRequest, DEFAULT_COMPLETION_MAX_TOKENS, type CompletionRequestBody } from '../completions/request-schema.js';
import { answerCostHeaders, noteGuardrailMasked } from '../audit.js';
import { auditEndUser } from '../end-user.js';
import type { GatewayResponder } from '../gateway.js';
import { redactPii } from '../guardrails.js';
import { GatewayError, upstream as upstreamFailed } from '../openai-errors.js';
import { providerOf } from '../policy.js';
import { costOf, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { ProviderError, type CompletionAnswer } from '../providers/provider.js';
import { keepIntegerLiteral } from '../json-integer-literals.js';
import { refuseInt64Literal } from '../openai-issues.js';
import { parseJson, parseWith } from '../request-body.js';
import type { Reservation } from '../stores/gateway-store.js';
import { countCompletionTokens, countTextTokens, loadTokenizer, tokenizerLoaded } from '../token-count.js';
import { CallerGone } from '../upstream-calls.js';

type Choice = CompletionAnswer['choices'][number];

/**
 * `POST /v1/completions`, OpenAI's legacy text completions (`CompletionCreateParams` in, `Completion` out, streamed as
 * `Completion` chunks and `[DONE]`), for a model of `kind: completion` (openai and openai-compatible providers) on the
 * shared pipeline: `best_of` against `n` and `stream` (checkBestOf: fewer than `n`, or over 1 streamed, a 400 naming
 * `best_of`) → the model (404 `model_not_found` naming the missing kind; 400 `model_kind_mismatch`) → the completion
 * limit (`max_tokens` checked against the tenant's cap and the model's maximum; absent or null, OpenAI's 16, at most
 * the cap and the maximum, is sent to the upstream so that the reservation bounds it) → rate limits → input guardrails on
 * each prompt string and `suffix` (completions/prompts.ts; a token-id prompt on a guarded tenant is a 400 naming
 * `prompt`) → reserve the prompt tokens + `max_tokens` × max(`n`, `best_of`) per prompt (completionReservation; a 429
 * as chat's) → the upstream, the body relayed as sent but `model` (and `max_tokens` when absent) → settle with the answer's usage (the gateway's o200k
 * count of `choices[].text` when it reported none, marked estimated) → the answer as the upstream wrote it, with the
 * gateway's id (`cmpl-…`, the request id) and the catalog model id, after the tenant's output guardrails on
 * `choices[].text` (Bedrock ApplyGuardrail: a blocked choice shows the guardrail's message with finish_reason
 * `content_filter`; a masked one its masked text; PII redaction with `redactResponses`; a changed choice loses its
 * logprobs, which spell the text as written). A stream is relayed chunk by chunk (usage passed on only with
 * `stream_options.include_usage`, the gateway's own usage chunk when the upstream sent none); on a tenant with output
 * guardrails it is held whole, guarded, then sent as one chunk per choice and the usage chunk.
 * @throws GatewayError 400/404/429 as above; the upstream's errors; 502 `upstream_invalid_answer` when a choice is not
 *   one (notAChoice: null, a string, a `text` that is not a string), charged for the usage it reported (in a stream,
 *   OpenAI's error event after the chunks before it)
 */
export async function textCompletions(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const raw = parseJson(rawBody);
  const body = parseWith(CompletionRequest, raw);
  // A seed past 64 bits whose Number is not (JSON.parse reads 9223372036854775808 as 2^63): refused on its digits.
  refuseInt64Literal(raw, 'seed');
  keepIntegerLiteral(raw, body, 'seed');
  checkBestOf(body);
  const model = pipeline.model(r, body.model, 'completion');
  const stream = body.stream === true;
  r.audit.stream = stream;
  auditEndUser(r.audit, body);
  // `max_tokens` absent or null is OpenAI's 16 (at most the tenant's cap and the model's maximum, as chat adds its
  // limit), and it is sent: an upstream's own default may be larger (vLLM reads null as "up to the context length",
  // llama.cpp and Ollama have none), and the reservation must bound what is generated.
  const maxTokens = body.max_tokens ?? Math.min(DEFAULT_COMPLETION_MAX_TOKENS, r.policy.gateway.maxTokens ?? DEFAULT_COMPLETION_MAX_TOKENS, model.maxOutputTokens);
  const limit = pipeline.completionLimit(r, model, { max_tokens: maxTokens });
  await pipeline.admit(r);
  const screened = await guardCompletionInput(pipeline, r, body);
  const guarded = body.max_tokens == null ? { ...screened, max_tokens: maxTokens } : screened;
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined); // without it, counts are the byte bound: larger, never smaller
  const tokens = completionReservation(guarded, countTextTokens, limit.reserve);
  const reservation = await pipeline.reserve(r, model, tokens.prompt, tokens.completion, tokens.choices);
  const x = { pipeline, r, model, promptTokens: tokens.prompt, reservation, settled: false };
  try {
    if (!stream) await whole(x, guarded, res);
    else await streamed(x, guarded, res);
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
    throw e;
  } finally {
    if (!x.settled) await pipeline.settle(reservation, 0, 0); // nothing was produced: release the reservation
  }
}

/** One request's state on its way: the model asked for, the prompt tokens counted, the reservation and whether it was settled. */
interface Exchange { pipeline: RequestPipeline; r: PipelineRequest; model: ModelEntry; promptTokens: number; reservation: Reservation; settled: boolean }

/** The whole answer: the upstream's, settled, with the gateway's id and the catalog model, its texts guarded. */
async function whole(x: Exchange, body: CompletionRequestBody, res: GatewayResponder): Promise<void> {
  const { pipeline, r } = x;
  const called = performance.now();
  const { result, model } = await pipeline.upstream.textComplete(pipeline.chain(r, x.model), { body, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
  r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
  const bad = notAChoice(result.choices);
  const usage = await settle(x, model, result.usage, result.choices.map((c) => (typeof c?.text === 'string' ? c.text : '')).join(''));
  // Answered, so charged (above); but not relayed: the official clients would hand the caller what is not a Completion.
  if (bad) throw upstreamFailed(`${model.id} answered ${bad}`, 'upstream_invalid_answer');
  const created = Number.isSafeInteger(result.created) ? result.created : Math.floor(Date.now() / 1000);
  const answer = { ...result, id: r.audit.requestId, object: 'text_completion', created, model: model.id, choices: await guardOutput(pipeline, r, result.choices), usage };
  await res.json(200, JSON.stringify(answer), { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit) });
}

/**
 * The streamed answer: the upstream's chunks relayed with the gateway's id and the catalog model (the chunk otherwise
 * as it came), the usage chunk only when the caller asked, `[DONE]` last; a mid-stream failure as OpenAI's error event.
 * With output guardrails the stream is held and sent guarded once whole.
 */
async function streamed(x: Exchange, body: CompletionRequestBody, res: GatewayResponder): Promise<void> {
  const { pipeline, r } = x;
  const id = r.audit.requestId;
  const includeUsage = body.stream_options?.include_usage === true;
  const g = r.policy.gateway.guardrails;
  const hold = Boolean(g.bedrockGuardrailId || g.redactResponses);
  const called = performance.now();
  const open = await pipeline.upstream.textStream(pipeline.chain(r, x.model), { body, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
  r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
  const model = open.model;
  let out: ReturnType<GatewayResponder['stream']> | undefined;
  const opened = () => (out ??= res.stream({ 'x-request-id': id, ...pipeline.servedRateHeaders(r) }));
  const send = async (chunk: Record<string, unknown>) => await opened().write(`data: ${JSON.stringify(chunk)}\n\n`);
  let reported: CompletionUsage | null | undefined;
  let created = Math.floor(Date.now() / 1000);
  const texts = new Map<number, Choice & { text: string }>();
  let failure: GatewayError | undefined;
  try {
    const chunks = (async function* () {
      if (open.first) yield open.first;
      yield* open.rest;
    })();
    for await (const chunk of chunks) {
      if (chunk.usage) reported = chunk.usage;
      if (Number.isSafeInteger(chunk.created)) created = chunk.created as number;
      const bad = notAChoice(chunk.choices, true);
      if (bad) throw upstreamFailed(`${model.id} streamed ${bad}`, 'upstream_invalid_answer');
      for (const c of chunk.choices) {
        const index = typeof c.index === 'number' ? c.index : 0;
        const seen = texts.get(index) ?? { index, text: '', finish_reason: null, logprobs: null };
        seen.text += typeof c.text === 'string' ? c.text : '';
        if (c.finish_reason) seen.finish_reason = c.finish_reason;
        texts.set(index, seen);
      }
      if (hold) continue;
      if (chunk.choices.length === 0 && chunk.usage && !includeUsage) continue; // the usage the gateway asked for, not the caller
      const { usage, ...rest } = chunk;
      await send({ ...rest, id, model: model.id, ...(includeUsage && usage !== undefined ? { usage } : {}) });
    }
  } catch (e) {
    if (e instanceof CallerGone || r.signal.aborted) {
      await settle(x, model, reported, [...texts.values()].map((c) => c.text).join(''));
      await out?.end();
      throw new CallerGone();
    }
    failure = e instanceof ProviderError ? midStreamError(e, model) : e instanceof GatewayError ? e : new GatewayError(502, (e as Error).message, 'upstream_error', 'upstream_stream_error');
  } finally {
    await open.close();
  }
  const usage = await settle(x, model, reported, [...texts.values()].map((c) => c.text).join(''));
  if (failure) {
    r.audit.status = failure.status;
    // OpenAI's mid-stream error event: the SDKs raise it; no made-up finish follows.
    await opened().write(`data: ${failure.body()}\n\n`);
    return void (await opened().end());
  }
  if (hold) {
    const guarded = await guardOutput(pipeline, r, [...texts.values()].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)));
    for (const choice of guarded) await send({ id, object: 'text_completion', created, model: model.id, choices: [choice] });
  }
  if (includeUsage && (hold || !reported)) await send({ id, object: 'text_completion', created, model: model.id, choices: [], usage });
  await opened().write('data: [DONE]\n\n');
  await opened().end();
}

/**
 * What is wrong with an answer's (or a chunk's) `choices`, or undefined when each is a `CompletionChoice` as far as the
 * gateway reads it: an object whose `text` is a string and whose `index`, when present, a whole number ≥ 0.
 * @param chunk a stream chunk's choices, whose `text` may also be absent or null (a last chunk with only `finish_reason`)
 * @returns e.g. `choices[0] null, not a choice (an object with a text string and a whole index)`
 */
export function notAChoice(choices: readonly unknown[], chunk = false): string | undefined {
  const textOk = (t: unknown) => typeof t === 'string' || (chunk && t == null);
  const i = choices.findIndex((c) => typeof c !== 'object' || c === null || Array.isArray(c) || !textOk((c as { text?: unknown }).text)
    || ((c as { index?: unknown }).index !== undefined && !(Number.isSafeInteger((c as { index?: unknown }).index) && ((c as { index: number }).index >= 0))));
  return i < 0 ? undefined : `choices[${i}] ${JSON.stringify(choices[i])?.slice(0, 100) ?? String(choices[i])}, not a choice (an object with a text string and a whole index)`;
}

/**
 * Replaces the reservation by the usage of the model that answered: the upstream's as billed (reported-usage.ts), or
 * the prompt tokens counted and the o200k count of the text answered (marked estimated in the audit record).
 */
async function settle(x: Exchange, used: ModelEntry, reported: CompletionUsage | null | undefined, produced: string): Promise<CompletionUsage> {
  if (x.settled) return { prompt_tokens: x.r.audit.promptTokens ?? 0, completion_tokens: x.r.audit.completionTokens ?? 0, total_tokens: (x.r.audit.promptTokens ?? 0) + (x.r.audit.completionTokens ?? 0) };
  x.settled = true;
  const completion = countCompletionTokens(produced);
  const billed = billedUsage(reported);
  const usage = billed ?? { prompt_tokens: x.promptTokens, completion_tokens: completion, total_tokens: x.promptTokens + completion };
  // A server with prefix caching (vLLM's prompt_tokens_details.cached_tokens) reports its cache reads as chat does: priced at the cache price.
  const cache = billed ? cacheTokensOf(billed) : undefined;
  const costUsd = costOf(used, usage.prompt_tokens, usage.completion_tokens, cache);
  Object.assign(x.r.audit, withCacheCounters({ model: used.id, provider: providerOf(used), promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, usageEstimated: !billed, costUsd }, cache ?? {}));
  if (used.id !== x.model.id) x.r.audit.fallbackFrom = x.model.id;
  await x.pipeline.settle(x.reservation, usage.total_tokens, costUsd, { model: used.id, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, reported: Boolean(billed), estimatedTokens: x.promptTokens + completion, ...cache });
  return usage;
}

/**
 * The tenant's output guardrails on each choice's `text`, as chat's on a message's content: Bedrock ApplyGuardrail
 * (blocked: the guardrail's message, finish_reason `content_filter`; masked: the masked text), then PII redaction with
 * `redactResponses`. A changed choice's `logprobs` become null (they spell the text as the model wrote it).
 */
async function guardOutput(pipeline: RequestPipeline, r: PipelineRequest, choices: Choice[]): Promise<Choice[]> {
  const g = r.policy.gateway.guardrails;
  let out = choices;
  if (g.bedrockGuardrailId && out.length) {
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, out.map((c) => c.text ?? ''), 'OUTPUT', r.deadline);
    if (verdict.blocked) {
      const withheld = verdict.reason ?? "The answer was withheld by the tenant's guardrail.";
      out = out.map((c) => ({ ...c, text: withheld, logprobs: null, finish_reason: 'content_filter' }));
      r.audit.outcome = 'guardrail_blocked_answer';
    } else if (verdict.masked) {
      const masked = verdict.masked;
      let count = 0;
      out = out.map((c, i) => (masked[i] === undefined || masked[i] === (c.text ?? '') ? c : (count++, { ...c, text: masked[i], logprobs: null })));
      noteGuardrailMasked(r.audit, 'output', count);
    }
  }
  if (g.redactResponses) {
    const found: string[] = [];
    out = out.map((c) => {
      const red = redactPii(c.text ?? '');
      if (!red.found.length) return c;
      found.push(...red.found);
      return { ...c, text: red.text, logprobs: null };
    });
    noteResponsePii(r, found);
  }
  return out;
}
