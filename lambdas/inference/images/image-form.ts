import type { ModelEntry } from '../../../lib/config/schema.js';
import { boundaryOf, formParts, type FormPart } from '../audio/multipart.js';
import { MAX_AUDIO_BODY_BYTES } from '../audio/pricing.js';
import { invalid, tooLarge } from '../openai-errors.js';
import { refuseIntegerOutOfRange } from '../openai-issues.js';
import type { ImageForm, ImageFormFile } from '../providers/provider.js';
import { checkImageFieldsFor } from './model-rules.js';

/**
 * The largest body `POST /v1/images/edits` and `/v1/images/variations` take: the audio uploads' 4 MiB and a little
 * (audio/pricing.ts MAX_AUDIO_BODY_BYTES). A Lambda invocation takes at most 6 MB, and API Gateway hands the router a
 * multipart body base64-encoded (4/3 of its size); OpenAI takes images of up to 50 MB (the GPT image models: ImageEditParams.image).
 */
export const MAX_IMAGE_FORM_BYTES = MAX_AUDIO_BODY_BYTES;

/** Most input images of one edit: OpenAI's API reference, "Create image edit": "You can provide up to 16 images." */
export const MAX_EDIT_IMAGES = 16;

/** The media type of an image's bytes from its signature (PNG, JPEG, WebP), or undefined for anything else. */
export function sniffImage(bytes: Buffer): string | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

/** An image form as read (ImageForm), with where `model` and `prompt` lie in the body (to replace them when relayed). */
export interface ReadImageForm {
  form: ImageForm;
  modelPart?: FormPart;
  promptPart?: FormPart;
}

const isFile = (p: FormPart) => p.filename !== undefined || p.typed;

/**
 * The text fields of OpenAI's `ImageEditParams` / `ImageCreateVariationParams` (API reference, "Create image edit",
 * "Create image variation"): sent as a file part (a filename or a Content-Type of its own) one is refused, as the
 * gateway reads it as an extra file but an upstream may read it as the field (an unscreened prompt, a model the caller
 * may not use, billed at the default model's price).
 */
const TEXT_FIELDS = new Set(['prompt', 'model', 'n', 'size', 'response_format', 'user', 'stream', 'safety_identifier', 'background', 'input_fidelity', 'moderation', 'output_compression', 'output_format', 'partial_images', 'quality', '_charset_']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the multipart body of `POST /v1/images/edits` (`ImageEditParams`: `image` one file or several as `image[]`,
 * `prompt` required, `mask` optional...) or `/v1/images/variations` (`ImageCreateVariationParams`: one `image`) and
 * checks what OpenAI's API reference rules for every model: the images' count (edits 1-16, a variation 1), each a PNG,
 * JPEG or WebP (by its bytes), a mask a PNG, `prompt` (edits) a non-empty text, `n` 1-10, `response_format` url or
 * b64_json, `stream` not true (the relay reads answers whole), `safety_identifier` at most 128 characters, each text
 * field once. Other fields are kept as sent (`fields`) for the provider: the OpenAI relay passes them on, Bedrock
 * refuses what it cannot map.
 * @param bytes the body as received; @param contentType the request's Content-Type
 * @throws GatewayError 400 naming the field and value (or the body: invalid_content_type, invalid_multipart); 413 over MAX_IMAGE_FORM_BYTES
 */
export function readImageForm(kind: 'edits' | 'variations', bytes: Buffer | undefined, contentType: string | undefined): ReadImageForm {
  const route = `POST /v1/images/${kind}`;
  const boundary = boundaryOf(contentType);
  if (!boundary) throw invalid(`${route} takes multipart/form-data with the fields image${kind === 'edits' ? ' and prompt' : ''} (as the OpenAI SDKs send it), not ${contentType ? `"${contentType.slice(0, 100)}"` : 'a body without Content-Type'}`, null, 'invalid_content_type');
  if (!bytes || bytes.byteLength > MAX_IMAGE_FORM_BYTES) throw tooLarge(`the request body is over ${MAX_IMAGE_FORM_BYTES} bytes, the most ${route} reads on this gateway (a Lambda invocation takes at most 6 MB, with the body base64-encoded; OpenAI takes larger images): send smaller images`);
  let parts: FormPart[];
  try {
    parts = formParts(bytes, boundary);
  } catch (e) {
    throw invalid(`the multipart/form-data body could not be read (${(e as Error).message})`, null, 'invalid_multipart');
  }
  const images: ImageFormFile[] = [];
  const fields: Record<string, string> = {};
  const extraFiles: string[] = [];
  let mask: ImageFormFile | undefined;
  let modelPart: FormPart | undefined;
  let promptPart: FormPart | undefined;
  const file = (p: FormPart): ImageFormFile => {
    const content = bytes.subarray(p.start, p.end);
    return { bytes: content, type: sniffImage(content) };
  };
  for (const p of parts) {
    if (p.name === 'image' || p.name === 'image[]') {
      if (!isFile(p)) throw invalid(`image must be a file part (the image's bytes, as client.images.${kind === 'edits' ? 'edit' : 'createVariation'} sends it), not a text field`, 'image', 'invalid_value');
      images.push(file(p));
    } else if (p.name === 'mask') {
      if (!isFile(p)) throw invalid('mask must be a file part (a PNG), not a text field', 'mask', 'invalid_value');
      if (mask) throw invalid('mask is sent twice; an edit takes one mask', 'mask', 'invalid_value');
      mask = file(p);
    } else if (isFile(p)) {
      if (TEXT_FIELDS.has(p.name)) throw invalid(`${p.name} is sent as a file part (${p.filename !== undefined ? 'a filename' : 'a Content-Type of its own'}); it is a text field: send it without filename or Content-Type`, p.name, 'invalid_value');
      extraFiles.push(p.name);
    } else {
      if (Object.hasOwn(fields, p.name)) throw invalid(`${p.name} is sent twice; send each field once`, p.name, 'invalid_value');
      try {
        fields[p.name] = strictUtf8.decode(bytes.subarray(p.start, p.end));
      } catch {
        throw invalid(`${p.name} is not UTF-8 text (multipart/form-data text fields are UTF-8 on this gateway)`, p.name, 'invalid_value');
      }
      if (p.name === 'model') modelPart = p;
      if (p.name === 'prompt') promptPart = p;
    }
  }
  if (!images.length) throw invalid(`image is required: ${kind === 'edits' ? `1 to ${MAX_EDIT_IMAGES} image files (image, or image[] for several)` : 'one PNG file'}`, 'image', 'missing_required_parameter');
  if (kind === 'variations' && images.length > 1) throw invalid(`image is ${images.length} files; a variation takes one image`, 'image', 'invalid_value');
  if (images.length > MAX_EDIT_IMAGES) throw invalid(`image is ${images.length} files; an edit takes at most ${MAX_EDIT_IMAGES}`, 'image', 'invalid_value');
  const accepted = kind === 'variations' ? ['image/png'] : ['image/png', 'image/jpeg', 'image/webp'];
  images.forEach((img, i) => {
    if (!img.type || !accepted.includes(img.type)) throw invalid(`image${images.length > 1 ? `[${i}]` : ''} is ${img.type ?? 'not a PNG, JPEG or WebP image'}${img.type ? '' : ` (its first bytes: ${img.bytes.subarray(0, 8).toString('hex') || 'none'})`}; ${kind === 'variations' ? 'a variation takes a PNG' : 'an edit takes PNG, WebP or JPEG images'}`, 'image', 'invalid_value');
  });
  if (fields._charset_ !== undefined && !/^\s*utf-8\s*$/i.test(fields._charset_)) throw invalid(`_charset_ is ${JSON.stringify(fields._charset_.slice(0, 40))}; text fields are read as UTF-8 on this gateway: leave _charset_ out`, '_charset_', 'invalid_value');
  if (kind === 'variations' && fields.prompt !== undefined) throw invalid('prompt is an edit\'s field; a variation takes none (it would reach the upstream unscreened): leave it out, or use POST /v1/images/edits', 'prompt', 'unsupported_parameter');
  if (mask && kind === 'variations') throw invalid('mask is an edit\'s field; a variation takes none', 'mask', 'unsupported_parameter');
  if (mask && mask.type !== 'image/png') throw invalid(`mask is ${mask.type ?? 'not an image'}; the mask must be a PNG (its fully transparent pixels mark where to edit)`, 'mask', 'invalid_value');
  if (kind === 'edits') {
    if (fields.prompt === undefined) throw invalid('prompt is required: a text description of the edit', 'prompt', 'missing_required_parameter');
    if (!fields.prompt) throw invalid('prompt must not be empty', 'prompt', 'invalid_value');
  }
  if (fields.model !== undefined && (!fields.model || fields.model.length > 256)) throw invalid('model must be a model id of 1 to 256 characters', 'model', 'invalid_value');
  if (fields.n !== undefined && /^\d{1,3}$/.test(fields.n.trim())) refuseIntegerOutOfRange('n', Number(fields.n.trim()), { min: 1, max: 10 });
  if (fields.n !== undefined && (!/^\d{1,3}$/.test(fields.n.trim()) || +fields.n < 1 || +fields.n > 10)) throw invalid(`n is ${JSON.stringify(fields.n.slice(0, 20))}; it must be an integer from 1 to 10`, 'n', 'invalid_value');
  if (fields.response_format !== undefined && !['url', 'b64_json'].includes(fields.response_format)) throw invalid(`response_format is ${JSON.stringify(fields.response_format.slice(0, 40))}; it must be url or b64_json`, 'response_format', 'invalid_value');
  if (fields.stream !== undefined && fields.stream.trim() === 'true') throw invalid(`stream is true; streamed image ${kind === 'edits' ? 'edits' : 'variations'} (partial images, image_edit.* events) are not served by this gateway: leave stream out or set it to false`, 'stream', 'unsupported_parameter');
  if (fields.safety_identifier !== undefined && [...fields.safety_identifier].length > 128) throw invalid(`safety_identifier is ${[...fields.safety_identifier].length} characters; OpenAI takes at most 128`, 'safety_identifier', 'invalid_value');
  return { form: { kind, fields, images, ...(mask ? { mask } : {}), ...(extraFiles.length ? { extraFiles } : {}) }, modelPart, promptPart };
}

/**
 * The rules OpenAI gives for the model that serves an edit (images/model-rules.ts checkImageFieldsFor: `size`,
 * `quality`, `input_fidelity` on provider `openai`, per the `openai` package's ImageEditParams docs). A variation gets
 * none: on provider `openai` it is refused before this (OpenAI retired the endpoint), and other providers' upstreams
 * say. The rules of the retired models (dall-e-2 edits one square PNG at 256x256, 512x512 or 1024x1024; gpt-image-1's
 * sizes) are gone: OpenAI serves neither model any more (the package: dall-e-2 retired 2026-05-12, gpt-image-1 shut
 * down 2026-10-23), and an openai-compatible server that names a model so has its own rules.
 * @throws GatewayError 400 naming the field and value
 */
export function checkImageFormFor(form: ImageForm, model: ModelEntry): void {
  if (form.kind === 'edits') checkImageFieldsFor(model, form.fields, 'edits');
}
