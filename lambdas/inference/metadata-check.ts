import { z } from 'zod';
import { Metadata } from '../../lib/openai-metadata.js';
import { parseWith } from './request-body.js';

/** `metadata` as a body field, read by OpenAI's `Metadata` schema (lib/openai-metadata.ts). */
const MetadataField = z.object({ metadata: Metadata.nullish() });

/**
 * OpenAI's `Metadata` for a route that reads its body without a zod schema (the batch and vector store routes), read by
 * the same schema the chat, Responses, conversation and fine-tuning routes read it with, so every route answers a
 * metadata alike: at most 16 string pairs, keys up to 64 characters (an empty key is taken, as every route takes it),
 * values up to 512; the key `__proto__` refused. Until 2026-12-07 these routes checked it themselves, and a vector store
 * refused an empty key the others took.
 * @param value the body's `metadata` (undefined or null: none)
 * @returns the metadata, or null when none was given
 * @throws GatewayError 400 naming `metadata` or `metadata.<key>` in OpenAI's words and code (request-body.ts parseWith:
 *   `object_above_max_properties`, `property_name_above_max_length` naming `metadata`, `string_above_max_length`,
 *   `invalid_type`)
 */
export function checkMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  return parseWith(MetadataField, { metadata: value }).metadata ?? null;
}
