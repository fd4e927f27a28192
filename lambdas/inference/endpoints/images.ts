import type { ModelEntry } from '../../../lib/config/schema.js';
import { sha256 } from '../audit.js';
import type { GatewayResponder } from '../gateway.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { auditEndUser } from '../end-user.js';
import { ImageGenerateRequest, type ImageGenerateRequestBody } from '../images/request-schema.js';
import { GatewayError, invalid, upstream } from '../openai-errors.js';
import { kindOf, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { providerOf } from '../policy.js';
import type { ImageProviderRequest } from '../providers/provider.js';
import { parseJson, parseWith } from '../request-body.js';

/** USD of `images` images of `model` (its `pricePerImageUsd`; 0 when it has none). */
export const imageCostOf = (model: ModelEntry, images: number): number => images * (model.pricePerImageUsd ?? 0);

/**
 * `POST /v1/images/generations`, OpenAI's contract (`ImageGenerateParams` in, `ImagesResponse` out) on the shared
 * pipeline: the model (`model` absent or null: the caller's first image model, in catalog order; a model of another
 * kind is a 400 `model_kind_mismatch`) → `stream: true` refused (400 naming `stream`: the gateway's SSE relay carries
 * chat chunks, not `image_generation.*` events) → rate limits (one request) → the tenant's input guardrails on
 * `prompt`, as embeddings and moderations apply them to their inputs (injection screen, PII redaction, Bedrock
 * guardrail; 400 naming `prompt`) → a reservation of `n` × the model's `pricePerImageUsd` (0 tokens) against the
 * budgets → the provider along the tenant's fallbacks of image models, with its retries and timeouts (the OpenAI
 * relay sends the body as the caller sent it, `prompt` guarded and `model` the upstream's id; Bedrock maps it:
 * providers/bedrock/image-models.ts) → settled at the images returned (entries of `data` with a `b64_json` or `url`) × the price of the model that answered,
 * in the usage ledger as a request of it → the answer as the upstream gave it (`created`, `data`, `usage`...).
 * The audit record has `promptSha256` (of the prompt sent), the prompt when the tenant audits prompt text,
 * `costUsd`, 0 tokens and `detail.images` (the number returned).
 * @throws GatewayError 400 as above, 429 for rate limits and budgets, the upstream's errors (upstream-calls.ts);
 *   502 `upstream_invalid_answer` when the upstream answers more images than `n` asked, or a `data` entry that is
 *   not an image (an object with a `b64_json` or `url` string: `null`, a number...), charged for the images it did answer
 */
export async function imageGenerations(pipeline: RequestPipeline, r: PipelineRequest, rawBody: string | undefined, res: GatewayResponder): Promise<void> {
  const body = parseWith(ImageGenerateRequest, parseJson(rawBody)) as ImageGenerateRequestBody;
  const model = body.model == null ? defaultImageModel(r) : pipeline.model(r, body.model, 'image');
  r.audit.stream = false;
  if (body.stream === true) {
    throw invalid('stream is true; streamed image generation (partial images, image_generation.* events) is not served by this gateway: leave stream out or set it to false', 'stream', 'unsupported_parameter');
  }
  // OpenAI's end-user ids (abuse monitoring): passed on to OpenAI-compatible upstreams, and kept in the audit record (Bedrock has no field for them).
  auditEndUser(r.audit, body);
  await pipeline.admit(r);

  const { texts, changed } = await guardInputTexts(pipeline, r, [body.prompt], () => 'prompt', 'prompt');
  const prompt = texts[0]!;
  r.audit.promptSha256 = sha256(prompt);
  if (r.policy.gateway.auditPromptText) r.audit.prompt = prompt;
  const sent = (changed ? { ...body, prompt } : body) as ImageProviderRequest['body'];
  const n = body.n ?? 1;
  const reservation = await pipeline.reserve(r, model, 0, 0, n, imageCostOf(model, n));
  let settled = false;
  try {
    const chain = pipeline.chain(r, model);
    const called = performance.now();
    const { result, model: used } = await pipeline.upstream.generateImages(chain, { body: sent, tenantId: r.caller.tenantId }, r.signal, r.deadline);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    const data: unknown[] = Array.isArray(result.data) ? result.data : [];
    const images = data.filter(isImage).length;
    const costUsd = imageCostOf(used, images);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: 0, completionTokens: 0, costUsd });
    r.audit.detail = { ...r.audit.detail, images };
    settled = true;
    // The images were made whether or not the answer is shown: the tenant pays for what came back.
    await pipeline.settle(reservation, 0, costUsd, { model: used.id, promptTokens: 0, completionTokens: 0, reported: false, estimatedTokens: 0 });
    if (images < data.length) throw upstream(`${used.id} answered ${data.length - images} of its ${data.length} data entries without an image (an object with a b64_json or url string): ${JSON.stringify(data.find((d) => !isImage(d)))?.slice(0, 100)}`, 'upstream_invalid_answer');
    if (images > n) throw upstream(`${used.id} answered ${images} images for n: ${n}`, 'upstream_invalid_answer');
    await res.json(200, JSON.stringify(result), { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r) });
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) throw new GatewayError(429, e.message, e.type, e.code, e.param, { ...e.headers, ...(await pipeline.withRateHeaders(r, e.headers)) });
    throw e;
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was answered: release the reservation
  }
}

/** Whether an entry of an answer's `data` is an image (OpenAI's `Image`: an object with `b64_json` or `url`, a string). */
const isImage = (d: unknown): boolean => typeof d === 'object' && d !== null && (typeof (d as { b64_json?: unknown }).b64_json === 'string' || typeof (d as { url?: unknown }).url === 'string');

/**
 * The model of a request that names none (OpenAI then uses its default image model): the caller's first
 * `kind: image` model in catalog order (the tenant's tier's, narrowed to a key's `models`). The audit record gets it.
 * @throws GatewayError 400 `image_model_unavailable` naming `model` when the caller has none
 */
function defaultImageModel(r: PipelineRequest): ModelEntry {
  const model = [...r.policy.models.values()].find((m) => kindOf(m) === 'image');
  if (!model) {
    const keyModels = r.caller.keyId ? r.caller.key?.models : undefined;
    const whose = keyModels ? `API key ${r.caller.keyId} (limited to its models list)` : `tenant ${r.caller.tenantId}'s tier "${r.caller.tenant.tier}"`;
    throw invalid(`model is absent, and ${whose} allows no image model (kind: image); name one, or the platform adds one to the catalog and the tier's models`, 'model', 'image_model_unavailable');
  }
  Object.assign(r.audit, { model: model.id, provider: providerOf(model) });
  return model;
}
