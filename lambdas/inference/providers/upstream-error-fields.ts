import { wellFormedPrefix } from '../openai-errors.js';

/** An upstream error's fields as OpenAI's error object has them: strings, or absent. */
export interface UpstreamErrorFields { message?: string; type?: string; code?: string; param?: string }

/**
 * The error fields of an upstream's JSON error body, each a string (OpenAI's `error` object has
 * `message`, `type`, `code` and `param` as strings or null; the SDKs print them as they are):
 * - OpenAI's `{error: {message, type, param, code}}` (a numeric `code`, as vLLM sends its status, as text);
 * - vLLM's older flat `{object: "error", message, type, param, code}` (each field, as from the `error` object);
 * - a text `error` (TGI's `{error: "...", error_type}`, LMI's): the text is the message, and the
 *   `type`, `code` and `param` beside it are read as the flat body's are (TGI's `error_type` is not
 *   an OpenAI type and is not read);
 * - an `error` object without a `message`: the `message` beside it;
 * - FastAPI's `{detail}`: a string (an `HTTPException`), or the list of its default request
 *   validation answer (422, `[{loc: ["body", "messages", 0, "content"], msg: "Field required", type}]`),
 *   read as `body.messages.0.content: Field required`, the items joined with `; ` (it was relayed
 *   as `[object Object]`).
 * A message of any other shape is its JSON text, at most 500 characters (never half of a surrogate pair). Each field is bounded (`bounded`: a message
 * at 4,000 characters, a code or type at 64, a param at 256), the cut said in the message.
 * @param body the parsed body (any JSON value)
 * @returns the fields found; `{}` for a body that holds none
 */
export function upstreamErrorFields(body: unknown): UpstreamErrorFields {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const nested = b.error && typeof b.error === 'object' && !Array.isArray(b.error) ? (b.error as Record<string, unknown>) : undefined;
  // vLLM's flat error (`object: "error"`) and a text `error` have OpenAI's fields at the top: their type, code and param are read there.
  const source = nested ?? (b.object === 'error' || typeof b.error === 'string' ? b : undefined);
  const message = nested ? textOf(nested.message) ?? textOf(b.message) : textOf(b.error) ?? textOf(b.message) ?? textOf(b.detail);
  const field = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
  return bounded({
    ...(message !== undefined ? { message } : {}),
    ...(source && field(source.type) ? { type: field(source.type) } : {}),
    ...(source && field(source.code) ? { code: field(source.code) } : {}),
    ...(source && typeof source.param === 'string' && source.param ? { param: source.param } : {}),
  });
}

/** The most characters of an upstream's error message relayed (the gateway's own 400s are cut there too: MAX_INVALID_MESSAGE_CHARS). */
export const MAX_UPSTREAM_MESSAGE_CHARS = 4_000;
/** The most characters of an upstream's error `code` or `type` relayed: OpenAI's are words of under 40 (`context_length_exceeded`). */
export const MAX_UPSTREAM_CODE_CHARS = 64;
/** The most characters of an upstream's error `param` relayed: a field's path (`messages[12].content[3].image_url.url`). */
export const MAX_UPSTREAM_PARAM_CHARS = 256;

/**
 * The fields as the caller's answer may carry them: a hostile or broken upstream's 1 MB `code` (or `type`, `param`,
 * message) went into the caller's 502 or 4xx whole, and into every SDK exception and log line that prints it. The
 * message is cut at MAX_UPSTREAM_MESSAGE_CHARS with `… (the upstream's message cut: N characters)`; a code or type at
 * MAX_UPSTREAM_CODE_CHARS and a param at MAX_UPSTREAM_PARAM_CHARS, each cut said at the message's end (`(the upstream's
 * code cut to 64 of its 1048576 characters)`), the message being that note alone when the upstream sent none. Never half
 * of a surrogate pair (wellFormedPrefix).
 */
function bounded(fields: UpstreamErrorFields): UpstreamErrorFields {
  const out: UpstreamErrorFields = { ...fields };
  const notes: string[] = [];
  for (const [name, max] of [['code', MAX_UPSTREAM_CODE_CHARS], ['type', MAX_UPSTREAM_CODE_CHARS], ['param', MAX_UPSTREAM_PARAM_CHARS]] as const) {
    const value = fields[name];
    if (value === undefined || value.length <= max) continue;
    out[name] = wellFormedPrefix(value, max);
    notes.push(`the upstream's ${name} cut to ${max} of its ${value.length} characters`);
  }
  const message = fields.message;
  const cutMessage = message !== undefined && message.length > MAX_UPSTREAM_MESSAGE_CHARS
    ? `${wellFormedPrefix(message, MAX_UPSTREAM_MESSAGE_CHARS)}… (the upstream's message cut: ${message.length} characters)` : message;
  if (notes.length) out.message = cutMessage === undefined ? notes.join('; ') : `${cutMessage} (${notes.join('; ')})`;
  else if (cutMessage !== undefined) out.message = cutMessage;
  return out;
}

/** An error message of any JSON shape as text: a string as it is, FastAPI's validation list as `loc: msg; ...`, else its JSON. */
function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((d) => d && typeof d === 'object' && typeof (d as { msg?: unknown }).msg === 'string')) {
    return value.map((d: { loc?: unknown; msg: string }) => (Array.isArray(d.loc) && d.loc.length ? `${d.loc.join('.')}: ${d.msg}` : d.msg)).join('; ');
  }
  return wellFormedPrefix(JSON.stringify(value), 500);
}

/**
 * An OpenAI organization id (`org-…`), project id (`proj_…`) or key (`sk-…`, also as OpenAI prints it masked: `sk-proj-****abcd`),
 * wherever a message puts it: after a space or punctuation, an underscore (`organization_org-…`), or an escape that
 * stands for one, URL-encoding's `%XX` (`key%3Dsk-…`, `%20org-…`) or JSON's `\uXXXX` (`\u0022org-…`). `\b` alone missed
 * the last three (the character before the id is a letter or digit of the escape, or `_`, a word character), and left
 * those ids in the message; a letter or digit before `org`/`proj`/`sk` still keeps the word (`task-force`).
 */
const ACCOUNT_ID = /(?<=^|[^A-Za-z0-9]|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})(?:org-[A-Za-z0-9]{6,}|proj_[A-Za-z0-9]{6,}|sk-[A-Za-z0-9_*-]{4,})/g;

/**
 * An upstream's error message without the account it was called with: OpenAI names the organization (and a
 * project-scoped limit the project) whose limit ran out, "Rate limit reached for gpt-4o-mini in organization
 * org-exampleorgid123 on tokens per min (TPM): Limit …" (help.openai.com, "How can I solve 429: 'Too Many Requests'
 * errors?"); behind the gateway that account is the platform's (or a tenant's own provider key's), not the caller's.
 * Each id is `[redacted]`; every other word (the model, the limit, the figures, "Please try again in 7s") is kept.
 * @param message the upstream's message as upstreamErrorFields read it
 * @returns the message with each `org-…`, `proj_…` and `sk-…` token replaced
 */
export const withoutAccountIds = (message: string): string => message.replace(ACCOUNT_ID, '[redacted]');
