import type { ModelEntry } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import { providerOf } from '../policy.js';

/**
 * OpenAI's per-model rules for the image fields, as the installed `openai` package (7.55.0,
 * `resources/images.d.ts`) documents them on `ImageGenerateParams` and `ImageEditParams` (the same words on
 * `responses.d.ts`'s `image_generation` tool). Only what those doc comments state outright is checked; where they
 * are silent (a model they do not name for a field, a limit they name without its value: "the model's current pixel
 * and edge limits") the request is relayed and the upstream answers. The rules apply to provider `openai` only:
 * an `openai-compatible` server's models are its own, whatever their name.
 */
const SOURCE = 'openai package 7.55.0, images.d.ts';

/** The models that take any `WIDTHxHEIGHT` (ImageGenerateParams.size: "For `gpt-image-2`, ... arbitrary resolutions are supported"). */
const ANY_SIZE = /^(gpt-image-2(-2026-04-21)?|gpt-image-2\.5-(sunburst|flare)(-2026-09-08)?)$/;
/** The models the docs give only the standard sizes ("The standard sizes ... are supported by the GPT image models"). */
const STANDARD_SIZE_ONLY = /^(gpt-image-1-mini|gpt-image-1\.5)$/;
/** The standard sizes of the GPT image models, and `auto` ("supported for models that allow automatic sizing"). */
export const GPT_IMAGE_STANDARD_SIZES: readonly string[] = ['1024x1024', '1536x1024', '1024x1536', 'auto'];
/** "the maximum supported resolution is `3840x2160`": checked as a pixel count (either orientation). */
export const MAX_IMAGE_PIXELS = 3840 * 2160;

/** ImageGenerateParams.quality: "`high`, `medium` and `low` are supported for the GPT image models"; `auto` the default. */
const QUALITIES = ['auto', 'low', 'medium', 'high'];
/** "... `gpt-image-2.5-sunburst` and `gpt-image-2.5-flare`, including their `2026-09-08` snapshots, also support `xhigh` and `max`". */
const XHIGH_QUALITY = /^gpt-image-2\.5-(sunburst|flare)(-2026-09-08)?$/;
/** The models whose quality the docs bound to low/medium/high (+auto); other GPT image models (2.6, chatgpt-image-latest) are relayed. */
const LOW_TO_HIGH_QUALITY = /^(gpt-image-1-mini|gpt-image-1\.5|gpt-image-2(-2026-04-21)?)$/;

/**
 * ImageEditParams.input_fidelity: "Supports `high` and `low` on `gpt-image-1.5`; `gpt-image-1-mini` supports only
 * `low`. For `gpt-image-2`, omit this parameter." (none: refused). Other models: relayed.
 */
const INPUT_FIDELITY: Record<string, readonly string[]> = {
  'gpt-image-1.5': ['high', 'low'],
  'gpt-image-1-mini': ['low'],
  'gpt-image-2': [],
  'gpt-image-2-2026-04-21': [],
};

/** The fields checked, as the caller sent them (a form's text, or a JSON body's value; null or absent: not checked). */
export interface ImageFieldsToCheck {
  size?: unknown;
  quality?: unknown;
  input_fidelity?: unknown;
}

/**
 * Checks `size`, `quality` and (edits) `input_fidelity` against OpenAI's rules for the model that serves the request,
 * by its `upstream` id, on provider `openai` only:
 * - `size`: gpt-image-2 and gpt-image-2.5-sunburst/-flare (and their dated snapshots) take `auto`, the standard sizes
 *   or any `WIDTHxHEIGHT` with both sides positive and divisible by 16, an aspect ratio from 1:3 to 3:1 and at most
 *   3840x2160's pixels (MAX_IMAGE_PIXELS); gpt-image-1-mini and gpt-image-1.5 only 1024x1024, 1536x1024, 1024x1536
 *   or auto.
 * - `quality`: auto, low, medium or high on gpt-image-1-mini, gpt-image-1.5 and gpt-image-2 (+ snapshot); the same
 *   and xhigh, max on gpt-image-2.5-sunburst/-flare (+ snapshots).
 * - `input_fidelity` (edits): high or low on gpt-image-1.5, low on gpt-image-1-mini, none on gpt-image-2 (+ snapshot).
 * Every other model (gpt-image-2.6-*, chatgpt-image-latest, a newer one, any openai-compatible or Bedrock model) and
 * every other field: no check here (Bedrock's mapping has its own: providers/bedrock/image-models.ts).
 * Source: the `openai` package 7.55.0, `resources/images.d.ts`, the doc comments of ImageGenerateParams and
 * ImageEditParams (`size`, `quality`, `input_fidelity`).
 * @param route which request: `input_fidelity` is an edit's field only
 * @throws GatewayError 400 `invalid_value` naming the field, its value, the model and what it takes
 */
export function checkImageFieldsFor(model: ModelEntry, fields: ImageFieldsToCheck, route: 'generations' | 'edits'): void {
  if (providerOf(model) !== 'openai') return;
  const upstream = model.upstream;
  const who = `${model.id} (${upstream})`;
  const { size, quality } = fields;
  if (typeof size === 'string') {
    const shown = JSON.stringify(size.slice(0, 40));
    if (ANY_SIZE.test(upstream) && !GPT_IMAGE_STANDARD_SIZES.includes(size)) {
      const m = /^(\d{1,5})x(\d{1,5})$/.exec(size);
      const takes = `${who} takes auto or WIDTHxHEIGHT with both sides divisible by 16, an aspect ratio from 1:3 to 3:1 and at most 3840x2160's pixels (${SOURCE}, ImageGenerateParams.size)`;
      if (!m) throw invalid(`size is ${shown}; ${takes}`, 'size', 'invalid_value');
      const [w, h] = [Number(m[1]), Number(m[2])];
      const why = w === 0 || h === 0 ? 'a side is 0'
        : w % 16 || h % 16 ? `${w % 16 ? w : h} is not divisible by 16`
        : Math.max(w, h) > 3 * Math.min(w, h) ? `its aspect ratio ${w}:${h} is outside 1:3 to 3:1`
        : w * h > MAX_IMAGE_PIXELS ? `its ${w * h} pixels are over 3840x2160's ${MAX_IMAGE_PIXELS}`
        : undefined;
      if (why) throw invalid(`size is ${shown}: ${why}; ${takes}`, 'size', 'invalid_value');
    } else if (STANDARD_SIZE_ONLY.test(upstream) && !GPT_IMAGE_STANDARD_SIZES.includes(size)) {
      throw invalid(`size is ${shown}; ${who} makes ${GPT_IMAGE_STANDARD_SIZES.join(', ')} (${SOURCE}: arbitrary WIDTHxHEIGHT sizes are gpt-image-2's and gpt-image-2.5's)`, 'size', 'invalid_value');
    }
  }
  if (typeof quality === 'string') {
    const allowed = XHIGH_QUALITY.test(upstream) ? [...QUALITIES, 'xhigh', 'max'] : LOW_TO_HIGH_QUALITY.test(upstream) ? QUALITIES : undefined;
    if (allowed && !allowed.includes(quality)) throw invalid(`quality is ${JSON.stringify(quality.slice(0, 40))}; ${who} takes ${allowed.join(', ')} (${SOURCE}, ImageGenerateParams.quality${allowed.length === QUALITIES.length ? ': xhigh and max are gpt-image-2.5-sunburst\'s and -flare\'s' : ''})`, 'quality', 'invalid_value');
  }
  const fidelity = fields.input_fidelity;
  if (route === 'edits' && typeof fidelity === 'string' && Object.hasOwn(INPUT_FIDELITY, upstream)) {
    const allowed = INPUT_FIDELITY[upstream]!;
    if (!allowed.includes(fidelity)) throw invalid(`input_fidelity is ${JSON.stringify(fidelity.slice(0, 40))}; ${allowed.length ? `${who} takes ${allowed.join(' or ')}` : `${who} takes none: leave input_fidelity out`} (${SOURCE}, ImageEditParams.input_fidelity)`, 'input_fidelity', 'invalid_value');
  }
}
