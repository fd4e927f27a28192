import type { ModelEntry } from '../../../lib/config/schema.js';
import { answerCostHeaders, sha256 } from '../audit.js';
import type { GatewayResponder } from '../gateway.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { auditEndUser } from '../end-user.js';
import { ImageGenerateRequest, type ImageGenerateRequestBody } from '../images/request-schema.js';
import { GatewayError, invalid, upstream } from '../openai-errors.js';
import { kindOf, type PipelineRequest, type RequestPipeline } from '../pipeline.js';
import { providerOf } from '../policy.js';
import type { ImageAnswer, ImageProviderRequest } from '../providers/provider.js';
import { boundaryOf, withFields, type FormPart } from '../audio/multipart.js';
import { checkImageFormFor, readImageForm } from '../images/image-form.js';
import { createHash } from 'node:crypto';
import { checkImageFieldsFor } from '../images/model-rules.js';
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
 * budgets (after OpenAI's per-model rules for `size` and `quality` on provider openai: images/model-rules.ts) → the provider along the tenant's fallbacks of image models, with its retries and timeouts (the OpenAI
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
  checkImageFieldsFor(model, body, 'generations');
  // OpenAI's end-user ids (abuse monitoring): passed on to OpenAI-compatible upstreams (scoped to the tenant on the platform's key:
  // providers/tenant-end-user.ts), and kept in the audit record as sent (Bedrock has no field for them).
  auditEndUser(r.audit, body);
  await pipeline.admit(r);

  const { texts, changed } = await guardInputTexts(pipeline, r, [body.prompt], () => 'prompt', 'prompt');
  const prompt = texts[0]!;
  r.audit.promptSha256 = sha256(prompt);
  if (r.policy.gateway.auditPromptText) r.audit.prompt = prompt;
  const sent = (changed ? { ...body, prompt } : body) as ImageProviderRequest['body'];
  await answerImages(pipeline, r, model, body.n ?? 1, res, (chain) => pipeline.upstream.generateImages(chain, { body: sent, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit));
}

/**
 * `POST /v1/images/edits` and `POST /v1/images/variations`, OpenAI's contract (`ImageEditParams`,
 * `ImageCreateVariationParams`: multipart/form-data in, `ImagesResponse` out) on the shared pipeline, as generations:
 * the form read (images/image-form.ts readImageForm: image count and types, `prompt`, `n`, `stream`...) → the model
 * (`model` absent: the caller's first image model; another kind: 400 `model_kind_mismatch`; a variation on provider
 * `openai`: 400 `endpoint_retired`, variationsRetired) and its own rules (checkImageFormFor: an edit's `size`, `quality`,
 * `input_fidelity` on provider openai) → rate limits → the tenant's input guardrails on an edit's `prompt` →
 * a reservation of `n` × `pricePerImageUsd` → the provider along the tenant's fallbacks of image models (the OpenAI
 * relay sends the caller's body byte for byte, only `model`'s content the upstream's id and `prompt`'s the guarded
 * text; Bedrock maps the form: providers/bedrock/image-models.ts imageFormInvokeBody) → settled at the images
 * returned → the answer as the upstream gave it.
 * The audit record: `promptSha256` (an edit's prompt as sent upstream; a variation's: of its image's bytes), the
 * prompt when the tenant audits prompt text, `detail.images` (returned), `detail.inputImages`, `detail.mask`.
 * @param bytes the body as received; @param contentType the request's Content-Type
 * @throws GatewayError 400 naming the field (or the body), 413, 404, 429, the upstream's errors, 502 as generations'
 */
export async function imageForms(pipeline: RequestPipeline, r: PipelineRequest, kind: 'edits' | 'variations', bytes: Buffer | undefined, contentType: string | undefined, res: GatewayResponder): Promise<void> {
  const { form, modelPart, promptPart } = readImageForm(kind, bytes, contentType);
  const model = form.fields.model === undefined ? defaultImageModel(r, kind) : pipeline.model(r, form.fields.model, 'image');
  if (kind === 'variations' && !canVary(model)) throw variationsRetired(`model ${model.id} (upstream ${model.upstream.slice(0, 100)}) is on provider openai`);
  checkImageFormFor(form, model);
  r.audit.stream = false;
  auditEndUser(r.audit, form.fields);
  r.audit.detail = { ...r.audit.detail, inputImages: form.images.length, ...(form.mask ? { mask: true } : {}) };
  await pipeline.admit(r);

  let prompt: string | undefined;
  if (form.fields.prompt !== undefined && kind === 'edits') {
    const guarded = await guardInputTexts(pipeline, r, [form.fields.prompt], () => 'prompt', 'prompt');
    if (guarded.changed) prompt = guarded.texts[0]!;
    const sent = guarded.texts[0]!;
    form.fields.prompt = sent;
    r.audit.promptSha256 = sha256(sent);
    if (r.policy.gateway.auditPromptText) r.audit.prompt = sent;
  } else {
    r.audit.promptSha256 = createHash('sha256').update(form.images[0]!.bytes).digest('hex');
  }
  // The caller's bytes, only `model`'s content the upstream's id (put in when the caller named none) and `prompt`'s the guarded text.
  const body = (upstream: string) => (modelPart
    ? { bytes: withFields(bytes!, [[modelPart, upstream], ...(prompt !== undefined ? [[promptPart!, prompt] as const] : [])]), contentType: contentType! }
    : withModel(bytes!, contentType!, upstream, prompt, promptPart));
  const n = form.fields.n === undefined ? 1 : Number(form.fields.n);
  // A fallback that cannot vary (an openai/ model behind an openai-compatible one) would only fail upstream: left out.
  await answerImages(pipeline, r, model, n, res, (chain) => pipeline.upstream.editImages(kind === 'variations' ? chain.filter(canVary) : chain, { form, body, tenantId: r.caller.tenantId, providerKeys: r.policy.gateway.providerKeys }, r.signal, r.deadline, r.audit));
}

/**
 * Whether `model` can make image variations: no model on provider `openai` (the `openai` package 7.55.0,
 * images.d.ts `Images.createVariation`: "This endpoint is retired and no longer available. Use the image edits
 * endpoint with a GPT Image model and a prompt"; dall-e-2, its only model, retired 2026-05-12); any other provider's
 * model is left to its upstream (an openai-compatible server's models differ; Bedrock maps a variation to its own
 * task: providers/bedrock/image-models.ts).
 */
export const canVary = (model: ModelEntry): boolean => providerOf(model) !== 'openai';

/**
 * The 400 for a variation that would go to OpenAI: `endpoint_retired`, naming `model` (the field that decides it:
 * the gateway serves variations on openai-compatible and Bedrock models, so another `model` is one fix, an edit with
 * a prompt the other), before anything is reserved or sent.
 * @param why which model and why it is OpenAI's (named by the caller, or the only image models it may use)
 */
export const variationsRetired = (why: string): GatewayError => invalid(`${why}, and OpenAI retired POST /v1/images/variations (the openai package 7.55.0: images.createVariation "is retired and no longer available"): use images.edit (POST /v1/images/edits) with a GPT image model and a prompt describing the variation, or name an openai-compatible or Bedrock image model that makes variations`, 'model', 'endpoint_retired');

/**
 * The body of a form without `model` (the gateway chose the model): the caller's bytes with a `model` part put in
 * front of the first part, `prompt` replaced where guarded; every other byte as it came.
 */
function withModel(bytes: Buffer, contentType: string, upstream: string, prompt: string | undefined, promptPart: FormPart | undefined): { bytes: Uint8Array; contentType: string } {
  const base = prompt !== undefined && promptPart ? withFields(bytes, [[promptPart, prompt]]) : bytes;
  const boundary = boundaryOf(contentType)!;
  const at = base.indexOf(`--${boundary}`);
  const part = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${upstream}\r\n`, 'utf8');
  return { bytes: Buffer.concat([base.subarray(0, at), part, base.subarray(at)]), contentType };
}

/**
 * The shared tail of generations, edits and variations: a reservation of `n` × the model's `pricePerImageUsd`, the
 * provider call along the chain, settled at the images returned × the price of the model that answered, the audit
 * record's model, provider, cost and `detail.images`, the answer as the upstream gave it.
 * @throws GatewayError 429 with the served rate headers; 502 `upstream_invalid_answer` for more images than `n`, or a
 *   `data` entry that is not an image (charged for the images answered); the upstream's errors
 */
async function answerImages(pipeline: RequestPipeline, r: PipelineRequest, model: ModelEntry, n: number, res: GatewayResponder, call: (chain: ModelEntry[]) => Promise<{ result: ImageAnswer; model: ModelEntry }>): Promise<void> {
  const reservation = await pipeline.reserve(r, model, 0, 0, n, imageCostOf(model, n));
  let settled = false;
  try {
    const chain = pipeline.chain(r, model);
    const called = performance.now();
    const { result, model: used } = await call(chain);
    r.audit.upstreamLatencyMs = Math.round(performance.now() - called);
    const data: unknown[] = Array.isArray(result.data) ? result.data : [];
    const images = data.filter(isImage).length;
    const costUsd = imageCostOf(used, images);
    Object.assign(r.audit, { model: used.id, provider: providerOf(used), promptTokens: 0, completionTokens: 0, costUsd });
    if (used.id !== model.id) r.audit.fallbackFrom = model.id; // as chat's and text completions' records say a fallback
    r.audit.detail = { ...r.audit.detail, images };
    settled = true;
    // The images were made whether or not the answer is shown: the tenant pays for what came back.
    await pipeline.settle(reservation, 0, costUsd, { model: used.id, promptTokens: 0, completionTokens: 0, reported: false, estimatedTokens: 0 });
    if (images < data.length) throw upstream(`${used.id} answered ${data.length - images} of its ${data.length} data entries without an image (an object with a b64_json or url string): ${JSON.stringify(data.find((d) => !isImage(d)))?.slice(0, 100)}`, 'upstream_invalid_answer');
    if (images > n) throw upstream(`${used.id} answered ${images} images for n: ${n}`, 'upstream_invalid_answer');
    await res.json(200, JSON.stringify(result), { 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...answerCostHeaders(r.audit) });
  } catch (e) {
    await withRates(pipeline, r, e);
  } finally {
    if (!settled) await pipeline.settle(reservation, 0, 0); // nothing was answered: release the reservation
  }
}

/** A 429 with the served rate headers; any other error as it was. */
async function withRates(pipeline: RequestPipeline, r: PipelineRequest, e: unknown): Promise<never> {
  if (e instanceof GatewayError && e.status === 429) throw await pipeline.upstreamRateLimited(r, e);
  throw e;
}

/** Whether an entry of an answer's `data` is an image (OpenAI's `Image`: an object with `b64_json` or `url`, a string). */
const isImage = (d: unknown): boolean => typeof d === 'object' && d !== null && (typeof (d as { b64_json?: unknown }).b64_json === 'string' || typeof (d as { url?: unknown }).url === 'string');

/**
 * The model of a request that names none (OpenAI then uses its default image model): the caller's first
 * `kind: image` model in catalog order (the tenant's tier's, narrowed to a key's `models`); for a variation the first
 * that can make one (canVary: not on provider openai). The audit record gets it.
 * @param kind the route: generations and edits take any image model, variations only one that canVary
 * @throws GatewayError 400 `image_model_unavailable` naming `model` when the caller has no image model; for a
 *   variation when all it has are OpenAI's, 400 `endpoint_retired` (variationsRetired)
 */
function defaultImageModel(r: PipelineRequest, kind: 'generations' | 'edits' | 'variations' = 'generations'): ModelEntry {
  const images = [...r.policy.models.values()].filter((m) => kindOf(m) === 'image');
  const model = kind === 'variations' ? images.find(canVary) : images[0];
  if (!model) {
    const keyModels = r.caller.keyId ? r.caller.key?.models : undefined;
    const whose = keyModels ? `API key ${r.caller.keyId} (limited to its models list)` : `tenant ${r.caller.tenantId}'s tier "${r.caller.tenant.tier}"`;
    if (images.length) throw variationsRetired(`model is absent, and the image models ${whose} allows are all on provider openai (${images.slice(0, 5).map((m) => m.id).join(', ')})`);
    throw invalid(`model is absent, and ${whose} allows no image model (kind: image); name one, or the platform adds one to the catalog and the tier's models`, 'model', 'image_model_unavailable');
  }
  Object.assign(r.audit, { model: model.id, provider: providerOf(model) });
  return model;
}
