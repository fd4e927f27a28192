import { GatewayError } from './openai-errors.js';

/**
 * OpenAI's first sentences to a request with no `Authorization: Bearer …` credential: no header, a header of another
 * scheme (`Basic …`, `Token sk-…`), a bare key, or `Bearer` with nothing after it. Quoted from its 401 (type
 * `invalid_request_error`, param null, code null) in chatboxai/chatbox#98 and continuedev/continue's reports; OpenAI's
 * answer goes on to point at its own key page, where this gateway's says what it takes.
 */
export const NO_API_KEY_SENTENCES = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";

/** An auth scheme (RFC 9110 §11.1: a token) of at most 20 characters, followed by a space and a credential. */
const OTHER_SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,19}) +\S/;

/**
 * OpenAI's 401 to a request that sends no Bearer credential: status 401, type `invalid_request_error`, `param` null and
 * `code` null on the wire, as OpenAI answers it; the message is OpenAI's sentences, then what this gateway takes and,
 * for a header it could read, what was wrong with it (its scheme when it names one, never the credential; a header of one word
 * (a bare key or token) told to put `Bearer ` in front). The audit record's and the access line's outcome keeps the gateway's own
 * code, `missing_token` (no header) or `malformed_token` (a header without `Bearer `), which `wireCode` hides.
 * `WWW-Authenticate: Bearer` without an error code, as RFC 6750 §3.1 asks for a request with no credential or one of an
 * unsupported method. Until 2026-12-07 the gateway answered both `authentication_error` in its own words.
 * @param header the Authorization header's value @default - none (no header was sent)
 */
export function noApiKey(header?: string): GatewayError {
  const value = header?.trim() ?? '';
  const what = header === undefined || value === '' ? 'no Authorization header was sent'
    : /^Bearer$/i.test(value) || /^Bearer\s+$/i.test(header) ? 'the Authorization header says Bearer with nothing after it'
      : !/\s/.test(value) ? 'the Authorization header holds one word, a key or token without "Bearer " in front of it'
        : OTHER_SCHEME.test(value) ? `the Authorization header uses the ${OTHER_SCHEME.exec(value)![1]} scheme, not Bearer`
          : 'the Authorization header does not begin with "Bearer "';
  const code = header === undefined || value === '' ? 'missing_token' : 'malformed_token';
  const e = new GatewayError(401, `${NO_API_KEY_SENTENCES} This gateway takes a token issued by the platform's identity provider (a JWT) or a tenant API key (tsk_…) as "Authorization: Bearer <token or key>"; ${what}`,
    'invalid_request_error', code, null, { 'www-authenticate': 'Bearer' });
  e.wireCode = null;
  return e;
}
