import { GatewayError } from './openai-errors.js';

/** Characters of a credential OpenAI shows before its stars, and after them (its 401's `sk-VKMIs****…wjh3`). */
const SHOWN_HEAD = 8;
const SHOWN_TAIL = 4;
/** At most this many stars: OpenAI writes one per hidden character; a 6 KB header would make a 6 KB message. */
const MAX_STARS = 64;

/**
 * A bearer credential as OpenAI's 401 shows it: its first 8 and last 4 characters with a star for each one between
 * (`sk-VKMIs***************************************wjh3`, `kod-460f****…2829`; OpenAI's answers quoted in
 * chatanywhere/GPT_API_free#62 and continuedev/continue#11409), a value of 12 characters or fewer whole (OpenAI
 * answered `Bearer Toxic` with `Incorrect API key provided: Toxic.`: continuedev/continue#10276). The stars stop at 64
 * (OpenAI's do not); a character outside printable ASCII is shown as `?` (the message is JSON and a log line).
 * @param credential the header's value after `Bearer `
 */
export function maskedCredential(credential: string): string {
  const printable = [...credential].map((c) => (/^[\x20-\x7e]$/.test(c) ? c : '?'));
  if (printable.length <= SHOWN_HEAD + SHOWN_TAIL) return printable.join('');
  const hidden = printable.length - SHOWN_HEAD - SHOWN_TAIL;
  return `${printable.slice(0, SHOWN_HEAD).join('')}${'*'.repeat(Math.min(hidden, MAX_STARS))}${printable.slice(-SHOWN_TAIL).join('')}`;
}

/**
 * OpenAI's 401 to `Authorization: Bearer <something that is no key>`: type `invalid_request_error`, code
 * `invalid_api_key`, param null, "Incorrect API key provided: sk-VKMIs****…wjh3. …" (its answers quoted in
 * chatanywhere/GPT_API_free#62, continuedev/continue#11409). OpenAI's sentence then points at its own key page; this one
 * says what this gateway takes instead. The SDKs raise `AuthenticationError` (by the status). Until 2026-12-07 the
 * gateway answered it `authentication_error` / `malformed_token` in its own words.
 * @param credential the header's value after `Bearer ` (shown masked: maskedCredential)
 */
export function incorrectApiKey(credential: string): GatewayError {
  return new GatewayError(401, `Incorrect API key provided: ${maskedCredential(credential)}. This gateway takes a token issued by the platform's identity provider (a JWT: three base64url parts separated by dots) or a tenant API key (tsk_…)`,
    'invalid_request_error', 'invalid_api_key', null, { 'www-authenticate': 'Bearer error="invalid_token"' });
}
