import { answerCostHeaders } from '../audit.js';
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import { guardEmbeddingInput } from '../embeddings/guard.js';
import { textInputForTextOnlyModel } from '../embeddings/token-input.js';
import { inputPath, inputsOf } from '../embeddings/inputs.js';
import { EmbeddingRequest, type EmbeddingRequestBody } from '../embeddings/request-schema.js';
import { encodeVector, vectorLength } from '../embeddings/vector-encoding.js';
import type { GatewayResponder } from '../gateway.js';
import { GatewayError, invalid, upstream } from '../openai-errors.js';
import { providerOf } from '../policy.js';
import { costOf, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { parseJson, parseWith } from '../request-body.js';
import { countTextTokens, loadTokenizer, tokenizerLoaded } from '../token-count.js';
import { reservationTokens } from '../embeddings/reservation.js';
import { asksTruncation } from '../embeddings/truncation.js';
import { modelTextEncoding, withinTokenLimit } from '../embeddings/model-token-count.js';
import { checkRequestTokens } from '../embeddings/request-token-limit.js';
import { auditEndUser } from '../end-user.js';

/**
 * `POST /v1/embeddings`, OpenAI's contract (`EmbeddingCreateParams` in, `CreateEmbeddingResponse`
 * out) on the shared pipeline: the tenant's embedding model (a chat model is a 400
 * `model_kind_mismatch`) → rate limits → input guardrails (embeddings/guard.ts) → reserve the
 * input tokens at the model's input price → the provider, with retries but no fallback to another
 * model (its vectors would be in another space) → settle with the upstream's `prompt_tokens` (the gateway's
 * o200k count when it reported none, marked estimated in the audit) → the answer, each vector in
 * the caller's `encoding_format` (base64 = little-endian float32, whatever the provider returned),
 * with the catalog id of the model that answered.
 *
 * Input tokens: texts are counted in o200k (token-count.ts), a token-id input counts its length;
 * that count is checked against the catalog entry's `maxInputTokens` per input (400 naming
 * `input[i]`), unless the caller asked a Bedrock model to truncate (embeddings/truncation.ts: then each
 * counts at most `maxInputTokens`), and billed when the upstream reports no usage. The inputs' sum is held to OpenAI's
 * 300,000 tokens a request for every provider (embeddings/request-token-limit.ts: 400 `max_tokens_per_request` naming `input`). The reservation is an upper bound of
 * any upstream's count (embeddings/reservation.ts), so concurrent calls cannot spend past a budget.
 */
export async function embeddings(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const raw = parseJson(rawBody);
  const body = parseWith(EmbeddingRequest, raw) as unknown as EmbeddingRequestBody;
  const model = pipeline.model(r, body.model, 'embedding');
  r.audit.stream = false;
  // OpenAI's end-user id (abuse monitoring): forwarded to OpenAI-compatible upstreams, and kept in
  // the audit record for every provider (Bedrock and SageMaker have no field for it).
  auditEndUser(r.audit, body);
  await pipeline.admit(r);
  // The tenant's response cache (docs/gateway.md "Response cache"), after the rate limits: a HIT counts as a request.
  const hit = await r.cache?.lookup('/v1/embeddings', model, body);
  if (hit) return void (await res.json(200, hit.body, { 'x-request-id': r.audit.requestId, ...await pipeline.cacheHitRateHeaders(r), ...answerCostHeaders(r.audit), ...r.cache!.headers() }));

  // Bedrock takes text only: LangChain's default token ids are decoded first, then guarded as any text.
  const guarded = await guardEmbeddingInput(pipeline, r, await textInputForTextOnlyModel(r, body, model), model);
  if (!tokenizerLoaded()) await loadTokenizer().catch(() => undefined); // without it, counts are the byte bound: larger, never smaller
  const inputs = inputsOf(guarded.input);
  const counts = inputs.kind === 'text' ? inputs.texts.map(countTextTokens) : inputs.tokens.map((t) => t.length);
  // An input a Bedrock model is asked to cut (Cohere's truncate START|END; Titan refuses the field by name) is not refused, and counts at most the model's length.
  const truncating = asksTruncation(guarded, model) && model.maxInputTokens !== undefined;
  const perInput = truncating ? counts.map((n) => Math.min(n, model.maxInputTokens!)) : counts;
  if (model.maxInputTokens !== undefined && !truncating) {
    // A text the o200k count puts over the limit is counted again in the model's own encoding where the gateway knows it
    // (OpenAI's embedding models: cl100k_base), which may count it within (embeddings/model-token-count.ts).
    const encoding = inputs.kind === 'text' ? modelTextEncoding(model) : undefined;
    for (let i = 0; i < perInput.length; i++) {
      if (perInput[i]! <= model.maxInputTokens) continue;
      if (encoding && inputs.kind === 'text' && await withinTokenLimit(encoding, inputs.texts[i]!, model.maxInputTokens)) continue;
      const counted = encoding ? `over ${model.maxInputTokens} tokens of ${encoding} (${model.id}'s encoding)` : `${perInput[i]} tokens`;
      throw invalid(`${inputPath(guarded.input, i)} is ${counted}; ${model.id} takes at most ${model.maxInputTokens} tokens per input: split it`, inputPath(guarded.input, i), 'input_too_long');
    }
  }
  // OpenAI's 300,000 tokens summed over a request's inputs, for every provider, before anything is reserved or sent.
  await checkRequestTokens(inputs, perInput, inputs.kind === 'text' && !truncating ? modelTextEncoding(model) : undefined);
  const counted = perInput.reduce((a, b) => a + b, 0);
  // The reservation is what any upstream could bill (embeddings/reservation.ts), not the o200k count.
  const reservation = await pipeline.reserve(r, model, reservationTokens(inputs, model.maxInputTokens), 0);

  let settled = false;
  try {
    // No fallback to another model: its vectors live in another space, and a RAG index that mixed
    // them would return wrong neighbours without any error. Retries of this model still apply.
    const chain = pipeline.chain(r, model).slice(0, 1);
    const called = performance.now();
    const { result, model: used } = await pipeline.upstream.embed(chain, { body: guarded, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    const reported = result.promptTokens;
    const estimated = !(Number.isSafeInteger(reported) && reported! >= 0);
    const promptTokens = estimated ? counted : reported!;
    const costUsd = costOf(used, promptTokens, 0);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens, completionTokens: 0, usageEstimated: estimated, costUsd });
    settled = true;
    // The tokens were spent whether or not the answer is shown; the ledger keeps the o200k count beside a reported one.
    await pipeline.settle(reservation, promptTokens, costUsd, { model: used.id, promptTokens, completionTokens: 0, reported: !estimated, estimatedTokens: counted });
    const count = inputs.kind === 'text' ? inputs.texts.length : inputs.tokens.length;
    if (result.vectors.length !== count) throw invalidAnswer(`${used.id} answered ${result.vectors.length} embeddings for ${count} inputs`);
    checkDimensions(result.vectors, guarded.dimensions, used.id);
    const format = guarded.encoding_format ?? 'float';
    let data: CreateEmbeddingResponse['data'];
    try {
      data = result.vectors.map((v, index) => ({ object: 'embedding' as const, index, embedding: encodeVector(v, format) as number[] }));
    } catch (e) {
      throw invalidAnswer(`${used.id} answered an embedding the gateway cannot read: ${(e as Error).message}`);
    }
    const answer: CreateEmbeddingResponse = { object: 'list', data, model: used.id, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
    const json = JSON.stringify(answer);
    await r.cache?.keep(json);
    await res.json(200, json, { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit), ...r.cache?.headers() });
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
    throw e;
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was produced: release the reservation
  }
}

/**
 * Every vector has the same number of values, `dimensions` when the caller asked for it: an
 * upstream that ignores `dimensions` (Hugging Face TEI does) or answers ragged vectors would break a
 * fixed-width vector index far from the cause, so its answer is a 502, not passed on. The gateway
 * does not shorten vectors itself: truncating is right only for models trained for it (OpenAI's
 * text-embedding-3 are), not for the catalog's others.
 * @throws GatewayError 502 `upstream_invalid_answer` naming the lengths, or the vector that is not one
 */
function checkDimensions(vectors: Array<number[] | string>, dimensions: number | undefined | null, model: string): void {
  const lengths = vectors.map(vectorLength);
  const unreadable = lengths.indexOf(undefined);
  if (unreadable >= 0) throw invalidAnswer(`${model} answered an embedding that is neither an array of numbers nor base64 of float32 values (data[${unreadable}])`);
  const want = dimensions ?? lengths[0];
  const bad = lengths.findIndex((n) => n !== want);
  if (bad < 0) return;
  throw invalidAnswer(dimensions != null
    ? `${model} answered an embedding of ${lengths[bad]} dimensions for dimensions: ${dimensions} (data[${bad}]); the upstream does not honour dimensions: leave it out`
    : `${model} answered embeddings of different lengths (${lengths[0]} and ${lengths[bad]}, data[${bad}])`);
}

/**
 * A 502 `upstream_invalid_answer`: the upstream answered, and the gateway refuses what it answered.
 * With `x-should-retry: false`, as every 502 (openai-errors.ts NO_SDK_RETRY_STATUSES): the same
 * request gets the same answer, and each attempt is settled (the upstream billed its tokens), so
 * the OpenAI SDKs' 2 default retries would bill the tenant three times for nothing.
 */
const invalidAnswer = (message: string): GatewayError => upstream(message, 'upstream_invalid_answer');
