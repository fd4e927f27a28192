import { answerCostHeaders } from '../audit.js';
import type { ModerationCreateResponse } from 'openai/resources/moderations';
import type { GatewayResponder } from '../gateway.js';
import { defaultModerationModel } from '../moderations/default-model.js';
import { guardModerationInput } from '../moderations/guard.js';
import { resultCount } from '../moderations/inputs.js';
import { ModerationRequest, type ModerationRequestBody } from '../moderations/request-schema.js';
import { GatewayError, upstream } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { providerOf } from '../policy.js';
import { parseJson, parseStrictWith } from '../request-body.js';

/**
 * `POST /v1/moderations`, OpenAI's contract (`ModerationCreateParams` in, `ModerationCreateResponse`
 * out) on the shared pipeline: the model (`model` absent or null: the caller's first moderation
 * model, moderations/default-model.ts; a chat or embedding model is a 400 `model_kind_mismatch`) →
 * rate limits (a moderation is one request, as any call) → input guardrails as embeddings applies
 * them (moderations/guard.ts) → a reservation of 0 tokens and USD 0 against the budgets → the
 * provider (OpenAI's `/moderations`), with retries but no fallback to another model (another
 * classifier's categories and scores differ: an application's thresholds tuned to one would be
 * applied to the other's unseen) → settled at 0 tokens and USD 0 (OpenAI's moderation is free and
 * reports no usage), recorded in the usage ledger as a request of the model → the answer as the
 * upstream gave it (`id`, `results`, any other field), `model` being the catalog id.
 *
 * Budgets: the reservation of 0 is refused only when a budget is already past its limit (a settle
 * can overrun it), as every other call then is; a budget at its limit still takes moderations.
 */
export async function moderations(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const body = parseStrictWith(ModerationRequest, parseJson(rawBody)) as ModerationRequestBody;
  const model = body.model == null ? defaultModerationModel(r) : pipeline.model(r, body.model, 'moderation');
  r.audit.stream = false;
  await pipeline.admit(r);

  const guarded = await guardModerationInput(pipeline, r, body);
  const reservation = await pipeline.reserve(r, model, 0, 0);
  let settled = false;
  try {
    const chain = pipeline.chain(r, model).slice(0, 1);
    const called = performance.now();
    const { result, model: used } = await pipeline.upstream.moderate(chain, { body: guarded, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: 0, completionTokens: 0, costUsd: 0 });
    settled = true;
    await pipeline.settle(reservation, 0, 0, { model: used.id, promptTokens: 0, completionTokens: 0, reported: false, estimatedTokens: 0 });
    // One result per string of a list, one for a string or for parts together (OpenAI's answer): an application pairs them with its inputs.
    const want = resultCount(guarded.input);
    const got = result.results.length;
    if (got !== want) throw upstream(`${used.id} answered ${got} moderation results for ${want} input${want === 1 ? '' : 's'}`, 'upstream_invalid_answer');
    // Each result as the SDK's type has it (an object with a boolean `flagged`): an application reads `results[i].flagged`.
    const bad = result.results.findIndex((x) => typeof x !== 'object' || x === null || typeof (x as { flagged?: unknown }).flagged !== 'boolean');
    if (bad >= 0) throw upstream(`${used.id} answered results[${bad}] without a boolean flagged (${JSON.stringify(result.results[bad])?.slice(0, 80)})`, 'upstream_invalid_answer');
    const answer: ModerationCreateResponse = { ...result, model: used.id };
    await res.json(200, JSON.stringify(answer), { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit) });
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
    throw e;
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was answered: release the reservation
  }
}
