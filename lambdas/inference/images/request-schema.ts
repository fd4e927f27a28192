import type { ImageGenerateParams } from 'openai/resources/images';
import { z } from 'zod';
import { SafetyIdentifier } from '../end-user.js';

/**
 * OpenAI's image generation request (`ImageGenerateParams` of the `openai` package is the contract). The gateway
 * reads only what it must: `model` (a catalog id of kind `image`; absent or null = the caller's first image model,
 * as OpenAI defaults to one), `n` (1-10, OpenAI's bounds: the reservation is `n` × the price per image), `prompt`
 * (the tenant's input guardrails) and `stream` (refused: endpoints/images.ts). Every other field is checked for its
 * type only where OpenAI's types are plain (`size`, `quality`... strings) and passed on as sent to an OpenAI or
 * OpenAI-compatible upstream, a field OpenAI does not name too (a compatible server's own, sent with
 * `extra_body`); the Bedrock mapping refuses what it cannot honour by name (providers/bedrock/image-models.ts).
 */
export const ImageGenerateRequest = z.looseObject({
  prompt: z.string().min(1, 'must not be empty'),
  model: z.string().min(1).max(256).nullish(), // as the other endpoints': a catalog id, never more
  n: z.number().int().min(1).max(10).nullish(),
  stream: z.boolean().nullish(),
  size: z.string().nullish(),
  quality: z.string().nullish(),
  response_format: z.enum(['url', 'b64_json']).nullish(),
  output_format: z.string().nullish(),
  user: z.string().nullish(),
  safety_identifier: SafetyIdentifier,
});

/** The parsed body: OpenAI's params (`model` null when the caller sent null), and any other field as sent. */
export type ImageGenerateRequestBody = Omit<ImageGenerateParams, 'model'> & { model?: string | null } & Record<string, unknown>;
