import { z } from 'zod';
import type { AuditRecord } from './audit.js';

/**
 * The most characters of `safety_identifier` OpenAI takes: the `openai` package (7.55) documents it on chat completions
 * and the Responses API as "a string that uniquely identifies each user, with a maximum length of 128 characters".
 * The gateway refuses a longer one with a 400 naming `safety_identifier` (chat completions, the Responses API, image
 * generation), for every provider, before anything is counted or sent.
 */
export const MAX_SAFETY_IDENTIFIER = 128;

/**
 * The most characters of an end-user field (`user`, `safety_identifier`) the audit record keeps. OpenAI documents no
 * length for `user` (deprecated, "a stable identifier for your end-users"), so a longer `user` is taken and sent on as
 * it is; the audit record keeps its first MAX_AUDIT_END_USER characters and "…", as it keeps the path's first 1,024.
 */
export const MAX_AUDIT_END_USER = 256;

/** `safety_identifier`'s schema: a string of at most MAX_SAFETY_IDENTIFIER characters (code points), null or absent. */
export const SafetyIdentifier = z.string().refine((s) => [...s].length <= MAX_SAFETY_IDENTIFIER, {
  error: (issue) => `safety_identifier is at most ${MAX_SAFETY_IDENTIFIER} characters (OpenAI's limit); this one has ${[...String(issue.input)].length}`,
}).nullish();

const shorten = (text: string) => (text.length > MAX_AUDIT_END_USER ? `${text.slice(0, MAX_AUDIT_END_USER)}…` : text);

/**
 * Records a request's end-user fields in its audit record: `user` as `detail.endUser`, `safety_identifier` as
 * `detail.safetyIdentifier`, each at most MAX_AUDIT_END_USER characters (and "…" when cut). A field that is absent,
 * empty or not a string is not recorded. One helper for every endpoint that takes them (chat completions, the Responses API, embeddings, images).
 */
export function auditEndUser(audit: AuditRecord, body: { user?: unknown; safety_identifier?: unknown }): void {
  if (typeof body.user === 'string' && body.user) audit.detail = { ...audit.detail, endUser: shorten(body.user) };
  if (typeof body.safety_identifier === 'string' && body.safety_identifier) audit.detail = { ...audit.detail, safetyIdentifier: shorten(body.safety_identifier) };
}
