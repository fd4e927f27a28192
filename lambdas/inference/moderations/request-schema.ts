import type { ModerationCreateParams } from 'openai/resources/moderations';
import { z } from 'zod';

const TextInput = z.strictObject({ type: z.literal('text'), text: z.string() });
const ImageInput = z.strictObject({
  type: z.literal('image_url'),
  // As chat's image parts: a data URL, or an https URL the upstream fetches itself; never http, file...
  image_url: z.strictObject({ url: z.string().regex(/^(data:|https:\/\/)/i, 'must be a data URL (data:image/png;base64,...) or an https URL') }),
});

/**
 * OpenAI's moderations request (`ModerationCreateParams` of the `openai` package is the contract):
 * - `input`: a string, an array of strings (one result each), or an array of
 *   `ModerationMultiModalInput` parts, `{type: 'text', text}` and `{type: 'image_url', image_url: {url}}`
 *   (one result for them together); an array holds at least one item. A text may be empty: what
 *   OpenAI makes of one is OpenAI's answer, relayed.
 * - `model`: a catalog id of kind `moderation`; absent or null = the caller's first moderation
 *   model (moderations/default-model.ts), as OpenAI defaults to `omni-moderation-latest`.
 * Strict, at every level: OpenAI names no other field, and the only upstream is OpenAI's API, so a
 * field the gateway does not know is a 400 `unknown_parameter` naming it (request-body.ts
 * parseStrictWith), never dropped or passed on unseen.
 */
export const ModerationRequest = z.strictObject({
  model: z.string().min(1).max(256).nullish(), // as the other endpoints': a catalog id, never more
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, 'must hold at least one input'),
    z.array(z.discriminatedUnion('type', [TextInput, ImageInput])).min(1, 'must hold at least one input'),
  ]),
});

/** The parsed body: OpenAI's params (`model` null when the caller sent null). */
export type ModerationRequestBody = Omit<ModerationCreateParams, 'model'> & { model?: string | null };
