import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { sha256 } from '../audit.js';
import { normaliseFinishReason } from '../chat/finish-reason.js';
import { callerTextsOf, textOfContent } from '../chat/message-texts.js';
import { ChatCompletionRequest, type ChatRequestBody } from '../chat/request-schema.js';
import { StreamRelay } from '../chat/stream-relay.js';
import type { GatewayResponder } from '../gateway.js';
import { applyInputGuardrails } from '../guardrails/caller-texts.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { providerOf } from '../policy.js';
import { costOf, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { ProviderError } from '../providers/provider.js';
import { parseJson, parseWith } from '../request-body.js';
import { countCompletionTokens, countPromptTokens, loadTokenizer, tokenizerLoaded } from '../token-count.js';
import { CallerGone, callerErrorOf } from '../upstream-calls.js';

/**
 * `POST /v1/chat/completions`, OpenAI's contract (`ChatCompletionCreateParams` in,
 * `ChatCompletion` or `ChatCompletionChunk`s out) on the shared pipeline. The body goes to the
 * provider whole, after the tenant's guardrails; the answer comes back whole, with the gateway's
 * id and the catalog model id. A stream's usage is metered whether or not the caller asked for it.
 */
export async function chatCompletions(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const body = parseWith(ChatCompletionRequest, parseJson(rawBody)) as unknown as ChatRequestBody;
  const model = pipeline.model(r, body.model);
  const stream = body.stream === true;
  r.audit.stream = stream;
  await pipeline.admit(r);

  const guarded = await guard(pipeline, r, body);
  const limit = pipeline.completionLimit(r, model, body);
  if (limit.add !== undefined) guarded.max_completion_tokens = limit.add;
  // The gateway starts loading the tokenizer when it is built; a request before it is ready waits for it.
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined); // without it, counts are the byte bound: larger, never smaller
  const promptTokens = countPromptTokens(guarded);
  const choices = body.n ?? 1;
  const reservation = await pipeline.reserve(r, model, promptTokens, limit.reserve * choices);

  let settled = false;
  const settle = async (used: ModelEntry, usage: CompletionUsage, estimated: boolean) => {
    settled = true;
    const costUsd = costOf(used, usage.prompt_tokens, usage.completion_tokens);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, usageEstimated: estimated, costUsd });
    if (used.id !== model.id) r.audit.fallbackFrom = model.id;
    await pipeline.settle(reservation, usage.total_tokens, costUsd);
  };
  const chain = pipeline.chain(r, model);
  try {
    if (stream) await streamed(pipeline, r, guarded, chain, promptTokens, settle, res);
    else await whole(pipeline, r, guarded, chain, promptTokens, settle, res);
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw new GatewayError(429, e.message, e.type, e.code, e.param, { ...e.headers, ...(await pipeline.withRateHeaders(r, e.headers)) });
    throw e;
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was produced: release the reservation
  }
}

/**
 * The tenant's input guardrails on every text the caller sent (PII redaction, the injection
 * screen, Bedrock ApplyGuardrail), the tenant's system prompt first, the prompt's fingerprint
 * in the audit record. Returns a new body; the caller's is not changed.
 */
async function guard(pipeline: RequestPipeline, r: PipelineRequest, body: ChatRequestBody): Promise<ChatRequestBody> {
  const g = r.policy.gateway.guardrails;
  // PromptInjectionError is the caller's 400 `prompt_injection_detected`, naming the text's path.
  const screened = applyInputGuardrails(body.messages, { redactPii: g.redactPii, promptInjectionScreen: g.promptInjectionScreen });
  let messages: ChatCompletionMessageParam[] = screened.messages;
  if (screened.piiFound.length) r.audit.piiRedacted = [...new Set(screened.piiFound)];
  if (g.bedrockGuardrailId) {
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, callerTextsOf(messages, ['user', 'tool', 'function']));
    if (verdict.blocked) throw invalid(`the request was blocked by the tenant's Bedrock guardrail${verdict.reason ? `: ${verdict.reason}` : ''}`, 'messages', 'guardrail_intervened');
  }
  let prediction = body.prediction;
  if (g.redactPii && prediction?.type === 'content') {
    // A predicted output is the caller's text too (usually a file it is editing).
    const red = applyInputGuardrails([{ role: 'user', content: prediction.content }], { redactPii: true, promptInjectionScreen: false });
    if (red.piiFound.length) {
      prediction = { ...prediction, content: red.messages[0].content as typeof prediction.content };
      r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...red.piiFound])];
    }
  }
  if (r.policy.gateway.systemPrompt) messages = [{ role: 'system', content: r.policy.gateway.systemPrompt }, ...messages];
  r.audit.promptSha256 = sha256(JSON.stringify(messages));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = callerTextsOf(messages).join('\n');
  return prediction === body.prediction ? { ...body, messages } : { ...body, messages, prediction };
}

type Settle = (used: ModelEntry, usage: CompletionUsage, estimated: boolean) => Promise<void>;

/** The upstream's usage, or the gateway's count when it reported none (marked estimated in the audit). */
function usageOf(reported: CompletionUsage | undefined | null, promptTokens: number, produced: () => string): { usage: CompletionUsage; estimated: boolean } {
  // Only counts that can be counts are billed: whole, non-negative, and a total that is their sum.
  const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (reported && count(reported.prompt_tokens) && count(reported.completion_tokens)) {
    return { usage: { ...reported, total_tokens: reported.prompt_tokens + reported.completion_tokens }, estimated: false };
  }
  const completion = countCompletionTokens(produced());
  return { usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion }, estimated: true };
}

async function whole(pipeline: RequestPipeline, r: PipelineRequest, body: ChatRequestBody, chain: ModelEntry[], promptTokens: number, settle: Settle, res: GatewayResponder): Promise<void> {
  const { result, model } = await pipeline.upstream.complete(chain, { body, tenantId: r.caller.tenantId }, r.signal);
  // What the answer said, joined only when the upstream reported no usage to bill.
  const produced = () => (result.choices ?? []).map((c) => `${textOfContent(c.message?.content)}${c.message?.refusal ?? ''}${(c.message?.tool_calls ?? []).map((t) => ('function' in t ? `${t.function.name}${t.function.arguments}` : '')).join('')}`).join('');
  const { usage, estimated } = usageOf(result.usage, promptTokens, produced);
  await settle(model, usage, estimated); // the tokens were spent whether or not the answer is shown
  const answer: ChatCompletion = { ...result, id: r.audit.requestId, model: model.id, usage, choices: (result.choices ?? []).map((c) => ({ ...c, finish_reason: normaliseFinishReason(c.finish_reason) ?? 'stop' })) };
  const g = r.policy.gateway.guardrails;
  if (g.bedrockGuardrailId) {
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, answer.choices.map((c) => textOfContent(c.message.content)), 'OUTPUT');
    if (verdict.blocked) {
      // OpenAI's convention for a filtered answer: 200, finish_reason content_filter.
      answer.choices = answer.choices.map((c) => ({ ...c, message: { ...c.message, content: verdict.reason ?? "The answer was withheld by the tenant's guardrail.", tool_calls: undefined }, finish_reason: 'content_filter' }));
      r.audit.outcome = 'guardrail_blocked_answer';
    }
  }
  if (g.redactResponses) {
    // The same walk as the caller's texts: content, refusal, tool-call arguments (kept valid JSON).
    const found: string[] = [];
    answer.choices = answer.choices.map((c) => {
      const red = applyInputGuardrails([c.message as ChatCompletionMessageParam], { redactPii: true, promptInjectionScreen: false });
      found.push(...red.piiFound);
      return red.piiFound.length ? { ...c, message: red.messages[0] as ChatCompletion.Choice['message'] } : c;
    });
    noteResponsePii(r, found);
  }
  await res.json(200, JSON.stringify(answer), { 'x-request-id': r.audit.requestId });
}

async function streamed(pipeline: RequestPipeline, r: PipelineRequest, body: ChatRequestBody, chain: ModelEntry[], promptTokens: number, settle: Settle, res: GatewayResponder): Promise<void> {
  const open = await pipeline.upstream.stream(chain, { body, tenantId: r.caller.tenantId }, r.signal);
  const relay = new StreamRelay({ id: r.audit.requestId, model: open.model.id, includeUsage: body.stream_options?.include_usage === true, redactAnswers: r.policy.gateway.guardrails.redactResponses });
  const out = res.stream({ 'x-request-id': r.audit.requestId });
  const send = async (chunk: ChatCompletionChunk | undefined) => {
    if (chunk) await out.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  let failure: GatewayError | undefined;
  try {
    if (open.first) await send(relay.relay(open.first));
    for await (const chunk of open.rest) {
      if (r.signal.aborted) throw new CallerGone(); // even from a provider that does not honour the abort
      await send(relay.relay(chunk));
    }
  } catch (e) {
    if (e instanceof CallerGone || r.signal.aborted) r.audit.outcome = 'cancelled';
    else {
      failure = e instanceof ProviderError ? midStreamError(e, chain) : new GatewayError(502, `upstream stream interrupted: ${(e as Error).message}`, 'upstream_error', 'upstream_stream_interrupted');
      r.audit.outcome = failure.code;
    }
  } finally {
    await open.close();
  }
  if (!failure && r.audit.outcome !== 'cancelled' && relay.unfinished()) {
    // The upstream closed before every choice had its finish_reason: cut off, not complete.
    failure = new GatewayError(502, 'the upstream stream ended before the answer was finished (no finish_reason)', 'upstream_error', 'upstream_stream_interrupted');
    r.audit.outcome = failure.code;
  }
  for (const chunk of relay.drain()) await send(chunk);
  noteResponsePii(r, relay.piiFound);
  const { usage, estimated } = usageOf(relay.usage, promptTokens, () => relay.produced);
  await settle(open.model, usage, estimated);
  if (r.audit.outcome === 'cancelled') return void (await out.end());
  if (failure) {
    r.audit.status = failure.status;
    // OpenAI's mid-stream error event: the SDKs raise it; no made-up finish follows.
    await out.write(`data: ${failure.body()}\n\n`);
    return void (await out.end());
  }
  if (!relay.usage && body.stream_options?.include_usage === true) {
    await send({ id: r.audit.requestId, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: open.model.id, choices: [], usage });
  }
  await out.write('data: [DONE]\n\n');
  await out.end();
}

/** An upstream's mid-stream error as the caller's error event: its own message and code, a timeout as 504. */
function midStreamError(e: ProviderError, chain: ModelEntry[]): GatewayError {
  if (e.details.timedOut) return new GatewayError(504, `the upstream sent nothing for longer than the idle timeout: ${e.message}`, 'timeout_error', 'upstream_timeout');
  if (e.status !== undefined) return callerErrorOf(e, chain);
  return new GatewayError(502, e.message, e.details.type ?? 'upstream_error', e.details.code ?? 'upstream_stream_error', e.details.param ?? null);
}

/** Adds the PII kinds found in an answer to the audit record, marked as the response's. */
function noteResponsePii(r: PipelineRequest, found: string[]): void {
  if (found.length) r.audit.piiRedacted = [...new Set([...(r.audit.piiRedacted ?? []), ...found.map((f) => `response:${f}`)])];
}
