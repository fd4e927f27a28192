import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { ProviderError, type ImageAnswer, type ImageForm, type ImageFormProviderRequest, type ImageProviderRequest } from '../provider.js';
import { given, invalidField, unsupported } from './refuse.js';
import { providerErrorFromSdk } from './sdk-errors.js';

/**
 * OpenAI's `POST /v1/images/generations` on Bedrock's image models through InvokeModel, task `TEXT_IMAGE`.
 * Pure mapping (`imageInvokeBody`: every 400 thrown before anything is sent) and the call (`bedrockImages`).
 *
 * Amazon Nova Canvas (`amazon.nova-canvas-v1:0`), per the Nova user guide "Image generation request and response
 * structure" (https://docs.aws.amazon.com/nova/latest/userguide/image-gen-req-resp-structure.html):
 * - `textToImageParams.text` 1-1,024 characters; `negativeText` 1-1,024;
 * - `imageGenerationConfig`: `width`, `height` 320-4,096, each divisible by 16, aspect ratio between 1:4 and 4:1,
 *   at most 4,194,304 pixels (default 1024x1024); `quality` standard | premium; `cfgScale` 1.1-10;
 *   `seed` 0-2,147,483,646; `numberOfImages` 1-5.
 *
 * Amazon Titan Image Generator v2 (`amazon.titan-image-generator-v2:0`), per the Bedrock user guide "Amazon Titan
 * Image Generator G1 models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html):
 * - `textToImageParams.text` 1-512 characters; `negativeText` 1-512;
 * - `imageGenerationConfig`: `width` x `height` one of {@link TITAN_SIZES} (default 1024x1024); `quality`
 *   standard | premium; `cfgScale` 1.1-10; `seed` 0-2,147,483,646; `numberOfImages` 1-5.
 *
 * Both answer `{images: [base64 PNG...], error?: string}`.
 *
 * OpenAI's fields (ImageGenerateParams):
 * | field | both models |
 * |---|---|
 * | `prompt` | `textToImageParams.text` (longer than the model takes: 400 naming `prompt`) |
 * | `n` | `numberOfImages`, 1-5 (more: 400 naming `n`) |
 * | `size` | `width`, `height` when the model takes it (else 400 naming `size` and the allowed values); `auto`: the model's default |
 * | `quality` | `standard`, `low`, `medium` → standard; `hd`, `high`, `xhigh`, `max` → premium; `auto`: the model's default |
 * | `response_format` | `b64_json` (absent: b64_json); `url` 400 (Bedrock returns no URL) |
 * | `output_format` | `png` (Bedrock's images are PNG); `jpeg`, `webp` 400 |
 * | `user`, `safety_identifier` | the gateway's audit record (InvokeModel has no end-user field) |
 * | `stream`, `background`, `moderation` | `false`; `opaque`, `auto`; `auto` taken (TAKEN: they ask for nothing the models do not do); other values 400 (`stream: true` is endpoints/images.ts's) |
 * | `style`, `output_compression`, `partial_images`, `complexity`, `frame_count`, `frame_duration_ms`, `svg`, any other field | 400 naming it |
 *
 * `negativeText`, `cfgScale` and `seed` are not sent: OpenAI's request has no field for them.
 */
export type ImageFamily = 'nova-canvas' | 'titan-image-v2';

/** Most images one InvokeModel call of either model returns (`numberOfImages`). */
export const BEDROCK_MAX_IMAGES = 5;

/** Titan Image Generator v2's sizes (width x height), from the user guide's table of supported sizes. */
export const TITAN_SIZES: readonly string[] = [
  '1024x1024', '768x768', '512x512', '768x1152', '384x576', '1152x768', '576x384', '768x1280', '384x640', '1280x768', '640x384',
  '896x1152', '448x576', '1152x896', '576x448', '768x1408', '384x704', '1408x768', '704x384', '640x1408', '320x704', '1408x640', '704x320',
  '1152x640', '1173x640',
];

/** Longest `textToImageParams.text`, in characters. */
export const PROMPT_MAX_CHARS: Record<ImageFamily, number> = { 'nova-canvas': 1024, 'titan-image-v2': 512 };

/** What the rule for Nova Canvas sizes says, for a 400. */
export const NOVA_SIZE_RULE = 'WIDTHxHEIGHT with each side 320-4096 and divisible by 16, an aspect ratio between 1:4 and 4:1, and at most 4194304 pixels (e.g. 1024x1024, 1280x720, 2048x2048)';

/** The fields each model maps; `user` and `safety_identifier` go to the audit record (endpoints/images.ts); `prompt`, `model` are read. */
const MAPPED = new Set(['model', 'prompt', 'n', 'size', 'quality', 'response_format', 'output_format', 'user', 'safety_identifier']);

/**
 * The values of refused fields that ask for nothing Bedrock's image models do not do, taken (as the chat mapping takes
 * `n: 1`): `stream: false` (the whole answer, what InvokeModel gives), `background` `opaque` or `auto` (OpenAI: "the
 * model will automatically determine the best background"; both models make opaque PNGs) and `moderation: 'auto'`
 * (OpenAI's default, "standard filtering": Bedrock's own content filters always run). `background: 'transparent'`
 * and `moderation: 'low'` are refused as before. A form's fields come as text (`"false"`).
 */
const TAKEN: Record<string, readonly unknown[]> = { stream: [false, 'false'], background: ['opaque', 'auto'], moderation: ['auto'] };

const taken = (field: string, value: unknown): boolean => (TAKEN[field] ?? []).includes(typeof value === 'string' ? value.trim() : value);

/** Why each field OpenAI names that Bedrock cannot honour is refused. */
const REFUSED: Record<string, string> = {
  style: 'Bedrock\'s image models have no vivid/natural style (DALL·E 3\'s); leave it out',
  background: 'Bedrock\'s image models make no transparent background; send opaque or auto, or leave it out',
  moderation: 'OpenAI\'s low (less restrictive) moderation level does not apply to Bedrock (its own content filters always run); send auto or leave it out',
  output_compression: 'Bedrock\'s image models answer PNG only, which has no compression level; leave it out',
  partial_images: 'Bedrock\'s image models do not stream partial images; leave it out',
  stream: 'Bedrock\'s image models do not stream; leave it out',
  frame_count: 'Bedrock\'s image models make still images, no animation frames; leave it out',
  frame_duration_ms: 'Bedrock\'s image models make still images, no animation frames; leave it out',
  svg: 'Bedrock\'s image models make PNG images, no SVG; leave it out',
};

/**
 * The family of a catalog entry, from its upstream id (a model id or an inference profile such as
 * `us.amazon.nova-canvas-v1:0`) or, for an application inference profile ARN, its catalog id.
 * @throws ProviderError 400 `unsupported_parameter` on `model` for a Bedrock model the gateway does not map
 */
export function imageFamily(model: ModelEntry): ImageFamily {
  const names = `${model.upstream} ${model.id}`;
  if (/amazon\.nova-canvas-v1/.test(names)) return 'nova-canvas';
  if (/amazon\.titan-image-generator-v2/.test(names)) return 'titan-image-v2';
  throw unsupported('model', `${model.id} is not an image model the gateway maps (amazon.nova-canvas-v1:0, amazon.titan-image-generator-v2:0)`);
}

/** Whether `size` (`WIDTHxHEIGHT`) is one Nova Canvas takes (NOVA_SIZE_RULE). */
export function novaSizeAllowed(width: number, height: number): boolean {
  const side = (x: number) => Number.isInteger(x) && x >= 320 && x <= 4096 && x % 16 === 0;
  return side(width) && side(height) && width / height <= 4 && height / width <= 4 && width * height <= 4_194_304;
}

/**
 * The InvokeModel body (TEXT_IMAGE) of an images request on a Bedrock image model, and the number of images asked.
 * @param body the caller's ImageGenerateParams (after the guardrails)
 * @throws ProviderError 400 naming the field: `prompt` too long or empty, `n` outside 1-5, `size` the model does not
 *   take (with the allowed values), `quality` unknown, `response_format: url`, `output_format` other than png,
 *   a field Bedrock cannot honour (`style`, `background`, ...) or one OpenAI does not name
 */
export function imageInvokeBody(body: ImageProviderRequest['body'], model: ModelEntry): { family: ImageFamily; invoke: Record<string, unknown>; n: number } {
  const family = imageFamily(model);
  const name = family === 'nova-canvas' ? 'Amazon Nova Canvas' : 'Titan Image Generator v2';
  for (const [field, value] of Object.entries(body)) {
    if (MAPPED.has(field) || !given(value)) continue;
    // TAKEN: `stream: false` (what endpoints/images.ts tells a caller of `stream: true` to send), `background: 'opaque'`...;
    // before session 47 each was refused here (an edit's form took `stream: false` only).
    if (taken(field, value)) continue;
    if (REFUSED[field]) throw unsupported(field, REFUSED[field]);
    throw unsupported(field, `${name} has no equivalent of ${field}; leave it out`);
  }
  const prompt = body.prompt;
  const max = PROMPT_MAX_CHARS[family];
  if (typeof prompt !== 'string' || prompt.length < 1) throw invalidField('prompt', `must be a non-empty string for ${name}`);
  if (prompt.length > max) throw invalidField('prompt', `is ${prompt.length} characters; ${name} takes at most ${max}`);
  const n = given(body.n) ? body.n : 1;
  if (!Number.isInteger(n) || n < 1 || n > BEDROCK_MAX_IMAGES) throw invalidField('n', `is ${n}; ${name} generates 1 to ${BEDROCK_MAX_IMAGES} images a request`);
  if (given(body.response_format) && body.response_format !== 'b64_json') {
    throw unsupported('response_format', `${name} on Bedrock returns the images themselves, no URL: use response_format "b64_json" (or leave it out)`);
  }
  if (given(body.output_format) && body.output_format !== 'png') throw unsupported('output_format', `${name} answers PNG only: use output_format "png" (or leave it out), not ${JSON.stringify(body.output_format)}`);
  const config = generationConfig(body, n, family, name);
  return { family, n, invoke: { taskType: 'TEXT_IMAGE', textToImageParams: { text: prompt }, imageGenerationConfig: config } };
}

/**
 * `imageGenerationConfig` of `n` images, `size` and `quality` mapped (TEXT_IMAGE and IMAGE_VARIATION take the same).
 * @throws ProviderError 400 naming `size` (with the sizes the model takes) or `quality`
 */
function generationConfig(body: { size?: unknown; quality?: unknown }, n: number, family: ImageFamily, name: string): Record<string, unknown> {
  const config: Record<string, unknown> = { numberOfImages: n };
  const size = body.size as string | null | undefined;
  if (given(size) && size !== 'auto') {
    const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
    const [width, height] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
    const ok = family === 'titan-image-v2' ? TITAN_SIZES.includes(size) : match !== null && novaSizeAllowed(width, height);
    if (!ok) throw invalidField('size', `is ${JSON.stringify(size)}; ${name} takes ${family === 'titan-image-v2' ? TITAN_SIZES.join(', ') : NOVA_SIZE_RULE}, or auto`);
    Object.assign(config, { width, height });
  }
  const quality = body.quality as string | null | undefined;
  if (given(quality) && quality !== 'auto') {
    const mapped = ['hd', 'high', 'xhigh', 'max'].includes(quality) ? 'premium' : ['standard', 'low', 'medium'].includes(quality) ? 'standard' : undefined;
    if (!mapped) throw invalidField('quality', `is ${JSON.stringify(quality)}; use standard, low, medium (Bedrock's standard), hd, high, xhigh, max (its premium) or auto`);
    config.quality = mapped;
  }
  return config;
}

/** The form fields an edit or variation maps on Bedrock (imageFormInvokeBody); `prompt` an edit's only. */
const FORM_MAPPED = new Set(['model', 'n', 'size', 'quality', 'response_format', 'output_format', 'user', 'safety_identifier']);

/** Why each ImageEditParams field Bedrock cannot honour is refused. */
const FORM_REFUSED: Record<string, string> = {
  mask: 'Bedrock\'s INPAINTING takes a black (edit) and white (keep) maskImage, where OpenAI\'s mask is a PNG whose fully transparent pixels mark the area; the gateway carries no PNG decoder to convert it. Leave mask out (the edit is then an IMAGE_VARIATION guided by the prompt) or use an OpenAI image model',
  background: REFUSED.background!,
  input_fidelity: 'Bedrock\'s image models have no input fidelity setting; leave it out',
  output_compression: REFUSED.output_compression!,
  partial_images: REFUSED.partial_images!,
  stream: REFUSED.stream!,
  moderation: REFUSED.moderation!,
};

/** Most input images of one IMAGE_VARIATION request of either model (`imageVariationParams.images`). */
export const BEDROCK_MAX_VARIATION_IMAGES = 5;

/**
 * The InvokeModel body of an image edit or variation on a Bedrock image model: both map to task `IMAGE_VARIATION`
 * (Nova user guide, "Image generation request and response structure"; Bedrock user guide, "Amazon Titan Image
 * Generator G1 models"): `imageVariationParams.images` the input images (PNG or JPEG, base64, 1-5), `text` an edit's
 * prompt (a variation has none), `imageGenerationConfig` from `n`, `size` and `quality` as generations map them.
 * An edit without mask is OpenAI's "edit the whole image by the prompt": Bedrock has no such task; IMAGE_VARIATION
 * guided by the prompt (at Bedrock's default similarityStrength, 0.7) is the closest, and the docs (docs/gateway.md)
 * say so. An edit with `mask` is refused (FORM_REFUSED.mask: converting OpenAI's alpha mask needs a PNG decoder).
 * @throws ProviderError 400 naming the field: `mask`, `background`... (FORM_REFUSED), any other field or file part,
 *   `image` (WebP, more than 5), `prompt` too long, `n` over 5, `size`, `quality`, `response_format: url`, `output_format` other than png
 */
export function imageFormInvokeBody(form: ImageForm, model: ModelEntry): { family: ImageFamily; invoke: Record<string, unknown>; n: number } {
  const family = imageFamily(model);
  const name = family === 'nova-canvas' ? 'Amazon Nova Canvas' : 'Titan Image Generator v2';
  if (form.mask) throw unsupported('mask', FORM_REFUSED.mask!);
  for (const [field, value] of Object.entries(form.fields)) {
    if (FORM_MAPPED.has(field) || (field === 'prompt' && form.kind === 'edits')) continue;
    if (taken(field, value)) continue;
    if (FORM_REFUSED[field]) throw unsupported(field, FORM_REFUSED[field]);
    throw unsupported(field, `${name} has no equivalent of ${field} on ${form.kind === 'edits' ? 'an edit' : 'a variation'}; leave it out`);
  }
  if (form.extraFiles?.length) throw unsupported(form.extraFiles[0]!, `${name} has no equivalent of the file ${form.extraFiles[0]}; leave it out`);
  if (form.images.length > BEDROCK_MAX_VARIATION_IMAGES) throw invalidField('image', `is ${form.images.length} images; ${name} takes 1 to ${BEDROCK_MAX_VARIATION_IMAGES} input images (IMAGE_VARIATION)`);
  const webp = form.images.findIndex((i) => i.type !== 'image/png' && i.type !== 'image/jpeg');
  if (webp >= 0) throw invalidField('image', `is ${form.images[webp]!.type ?? 'not an image'}; ${name} takes PNG or JPEG input images`);
  const params: Record<string, unknown> = { images: form.images.map((i) => i.bytes.toString('base64')) };
  if (form.kind === 'edits') {
    const prompt = form.fields.prompt ?? '';
    const max = PROMPT_MAX_CHARS[family];
    if (prompt.length < 1) throw invalidField('prompt', `must be a non-empty string for ${name}`);
    if (prompt.length > max) throw invalidField('prompt', `is ${prompt.length} characters; ${name} takes at most ${max}`);
    params.text = prompt;
  }
  const n = form.fields.n === undefined ? 1 : Number(form.fields.n);
  if (!Number.isInteger(n) || n < 1 || n > BEDROCK_MAX_IMAGES) throw invalidField('n', `is ${form.fields.n}; ${name} makes 1 to ${BEDROCK_MAX_IMAGES} images a request`);
  const { response_format: format, output_format: output } = form.fields;
  if (format !== undefined && format !== 'b64_json') throw unsupported('response_format', `${name} on Bedrock returns the images themselves, no URL: use response_format "b64_json" (or leave it out)`);
  if (output !== undefined && output !== 'png') throw unsupported('output_format', `${name} answers PNG only: use output_format "png" (or leave it out), not ${JSON.stringify(output.slice(0, 40))}`);
  const config = generationConfig(form.fields, n, family, name);
  return { family, n, invoke: { taskType: 'IMAGE_VARIATION', imageVariationParams: params, imageGenerationConfig: config } };
}

/** An image edit or variation on Bedrock: one InvokeModel call (imageFormInvokeBody), answered as bedrockImages answers. */
export async function bedrockImageForm(client: BedrockRuntimeClient, r: ImageFormProviderRequest): Promise<ImageAnswer> {
  return await invokeImages(client, r.model, imageFormInvokeBody(r.form, r.model).invoke, r.signal);
}

/**
 * Images on Bedrock: one InvokeModel call (imageInvokeBody), the answer's `images` as OpenAI's `data[].b64_json`,
 * `created` the time of the answer (Unix seconds).
 * @throws ProviderError - a 400 of the mapping before anything is sent; Bedrock's error (sdk-errors.ts); a 400
 *   `content_policy_violation` when the model answers an `error` (its content filter) without images; a 502 for an
 *   answer without `images`
 */
export async function bedrockImages(client: BedrockRuntimeClient, r: ImageProviderRequest): Promise<ImageAnswer> {
  return await invokeImages(client, r.model, imageInvokeBody(r.body, r.model).invoke, r.signal);
}

/** One InvokeModel call of an image task, its `images` as OpenAI's `data[].b64_json` (bedrockImages' errors). */
async function invokeImages(client: BedrockRuntimeClient, model: ModelEntry, invoke: Record<string, unknown>, signal: AbortSignal): Promise<ImageAnswer> {
  const command = new InvokeModelCommand({ modelId: model.upstream, contentType: 'application/json', accept: 'application/json', body: new TextEncoder().encode(JSON.stringify(invoke)) });
  let out;
  try {
    out = await client.send(command, { abortSignal: signal });
  } catch (e) {
    throw providerErrorFromSdk(e);
  }
  let answer: { images?: unknown; error?: unknown } | undefined;
  try {
    answer = JSON.parse(new TextDecoder().decode(out.body));
  } catch {
    answer = undefined;
  }
  const images = answer?.images;
  if (typeof answer?.error === 'string' && answer.error && (!Array.isArray(images) || images.length === 0)) {
    throw new ProviderError(`${model.id} generated no image: ${answer.error}`, 400, false, { type: 'invalid_request_error', code: 'content_policy_violation', param: 'prompt' });
  }
  if (!Array.isArray(images) || images.some((x) => typeof x !== 'string')) throw new ProviderError(`bedrock answered ${model.upstream} without images (base64 strings)`, 502, true);
  return { created: Math.floor(Date.now() / 1000), data: images.map((b64_json: string) => ({ b64_json })) };
}
