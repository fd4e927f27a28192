import { invalid } from './openai-errors.js';

/**
 * The request header carrying a caller's tags: a comma-separated list (`x-tessera-tags: checkout, jobID:214590`), as
 * LiteLLM's `x-litellm-tags` (https://docs.litellm.ai/docs/proxy/request_tags) and as any list-valued HTTP field
 * (RFC 9110 §5.6.1: elements separated by commas, optional whitespace around them). A header, not a body field: the
 * body stays OpenAI's (its `metadata` is OpenAI's `Metadata`, string values only, which LiteLLM's `metadata.tags` list
 * is not), every route takes it alike (chat, embeddings, audio uploads, reads), and the official clients send it with
 * `defaultHeaders` / `default_headers` or per call (`{ headers }`, `extra_headers`).
 */
export const REQUEST_TAGS_HEADER = 'x-tessera-tags';

/** At most this many tags on one request (OpenAI's `Metadata` takes 16 pairs). */
export const MAX_REQUEST_TAGS = 16;

/** At most this many characters in one tag (OpenAI's `Metadata` key length). */
export const MAX_REQUEST_TAG_LENGTH = 64;

/**
 * One tag: ASCII letters, digits and `_ . : / = + - @`, starting with a letter or digit (`team-api`, `jobID:214590`,
 * `env=prod`, `us-east-1`, `feature/summarize`). No spaces, quotes, commas or control characters: a tag is a label to
 * group spend and records by, read back in JSON, CSV and a shell, never free text.
 */
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:/=+@-]*$/;

/**
 * A request's tags from its `x-tessera-tags` header: each element trimmed of spaces and tabs, in the order sent, a tag
 * sent twice kept once (a set of labels: one request counts once under each). An absent or blank header is no tags.
 * @param header the header's value (GatewayRequest `headers`, the last one when repeated) @default - none
 * @param repeated whether the request carried the header more than once (GatewayRequest `repeatedHeaders`): API
 *   Gateway's single-value `headers` (and serve's) keep the last line only, so the earlier lines would be dropped unseen
 *   @default false
 * @returns the tags, `[]` for none
 * @throws GatewayError 400 `invalid_value`, `param: x-tessera-tags`, naming the tag and its position: an empty element
 *   (`a,,b`, a trailing comma), a tag longer than MAX_REQUEST_TAG_LENGTH or outside TAG, more than MAX_REQUEST_TAGS
 *   tags, or the header sent more than once
 */
export function parseRequestTags(header: string | undefined, repeated = false): string[] {
  if (repeated) {
    throw invalid(`${REQUEST_TAGS_HEADER} was sent more than once: send one ${REQUEST_TAGS_HEADER} header holding every tag, separated by commas (${REQUEST_TAGS_HEADER}: team-api, jobID:214590)`, REQUEST_TAGS_HEADER, 'invalid_value');
  }
  if (header === undefined || header.trim() === '') return [];
  const elements = header.split(',').map((t) => t.replace(/^[ \t]+|[ \t]+$/g, ''));
  const tags: string[] = [];
  for (const [i, tag] of elements.entries()) {
    if (tag === '') throw invalid(`${REQUEST_TAGS_HEADER} = ${JSON.stringify(shown(header))}: tag ${i + 1} is empty (two commas in a row, or one at an end); separate tags with one comma`, REQUEST_TAGS_HEADER, 'invalid_value');
    if (tag.length > MAX_REQUEST_TAG_LENGTH) throw invalid(`${REQUEST_TAGS_HEADER}: tag ${i + 1} ${JSON.stringify(shown(tag))} is ${tag.length} characters long; a tag is at most ${MAX_REQUEST_TAG_LENGTH}`, REQUEST_TAGS_HEADER, 'invalid_value');
    if (!TAG.test(tag)) throw invalid(`${REQUEST_TAGS_HEADER}: tag ${i + 1} ${JSON.stringify(tag)} is not a tag: ${offending(tag)}; use ASCII letters, digits and _ . : / = + - @, starting with a letter or digit (e.g. team-api, jobID:214590, env=prod)`, REQUEST_TAGS_HEADER, 'invalid_value');
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > MAX_REQUEST_TAGS) throw invalid(`${REQUEST_TAGS_HEADER} holds ${tags.length} tags; a request takes at most ${MAX_REQUEST_TAGS}`, REQUEST_TAGS_HEADER, 'invalid_value');
  return tags;
}

/**
 * The first character of `tag` that TAG refuses, named by its place and code point (`character 2 is "K" (U+212A)`):
 * a look-alike (the Kelvin sign for K, a Cyrillic а, a no-break space) shows in the message as the character it imitates.
 * @param tag a tag TAG refuses
 */
function offending(tag: string): string {
  // A header's bytes read as Latin-1 (Node's HTTP server, so `tessera serve`): a tag sent as UTF-8 bytes is named by the
  // characters those bytes encode (the Kelvin sign's E2 84 AA as "K" U+212A, not "â" U+00E2), when they are valid UTF-8.
  const asUtf8 = /[\u0080-\u00ff]/.test(tag) && !/[^\u0000-\u00ff]/.test(tag) ? new TextDecoder('utf-8', { fatal: true }) : undefined;
  if (asUtf8) {
    try {
      return `${offending(asUtf8.decode(Buffer.from(tag, 'latin1')))} (sent as UTF-8 bytes)`;
    } catch { /* not UTF-8: named as read */ }
  }
  const chars = [...tag];
  const at = chars.findIndex((c, k) => !(k === 0 ? /^[A-Za-z0-9]$/ : /^[A-Za-z0-9_.:/=+@-]$/).test(c));
  const c = chars[at];
  return `character ${at + 1} is ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})${at === 0 && /^[_.:/=+@-]$/.test(c) ? ', and a tag starts with a letter or digit' : ''}`;
}

/** A header value as a message shows it: its first 100 characters and "…". */
const shown = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}…` : text);
