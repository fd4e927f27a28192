import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, unsupported } from './refuse.js';

/**
 * OpenAI's request tags → Converse `requestMetadata` (key-value pairs Bedrock writes to the
 * model invocation log, where they can be filtered on: the same use as OpenAI's `metadata`).
 *
 *   metadata: { k: v, ... }    → requestMetadata: { k: v, ... }
 *   user: "u"                  → requestMetadata.user = "u"
 *   safety_identifier: "s"     → requestMetadata.safety_identifier = "s"
 *
 * Converse constraints (RequestMetadata in the Bedrock runtime API model): 1 to 16 entries; keys
 * 1-256 and values 0-256 characters of `[a-zA-Z0-9\s:_@$#=/+,-.]`. OpenAI allows 16 pairs with
 * values up to 512 of any character, plus `user`; whatever does not fit is a 400 naming the field
 * (`metadata.<key>`, `user`), never truncated. A `metadata` key named `user` or
 * `safety_identifier` sent together with that field is refused too (one would overwrite the other).
 * Returns `undefined` when nothing was sent.
 */
export function requestMetadata(body: ChatCompletionCreateParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body.metadata ?? {})) {
    if (!KEY.test(key)) throw unsupported(`metadata.${key}`, `Bedrock requestMetadata keys are 1-256 characters of ${CHARS}`);
    if (typeof value !== 'string' || !VALUE.test(value)) throw unsupported(`metadata.${key}`, `Bedrock requestMetadata values are strings of 0-256 characters of ${CHARS}`);
    out[key] = value;
  }
  for (const field of ['user', 'safety_identifier'] as const) {
    const value = body[field];
    if (!given(value)) continue;
    if (field in out) throw unsupported(field, `metadata.${field} is sent too; both would be requestMetadata.${field}`);
    if (!VALUE.test(value)) throw unsupported(field, `Bedrock requestMetadata values are 0-256 characters of ${CHARS}`);
    out[field] = value;
  }
  const count = Object.keys(out).length;
  if (count > 16) throw unsupported('metadata', `Bedrock takes at most 16 requestMetadata entries, and metadata, user and safety_identifier make ${count}`);
  return count ? out : undefined;
}

const CHARS = 'letters, digits, whitespace and :_@$#=/+,-.';
const KEY = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}$/;
const VALUE = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$/;
