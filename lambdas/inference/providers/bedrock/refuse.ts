import { ProviderError, UnsupportedFieldError } from '../provider.js';

/**
 * The two ways the Bedrock mapping says no, both 400s thrown before anything is sent to Bedrock:
 * - `unsupported(field, why)`: OpenAI defines the field (or this value of it) but Converse has no
 *   equivalent: `UnsupportedFieldError`, `code: 'unsupported_parameter'`.
 * - `invalidField(field, what)`: the value itself is malformed (arguments that are not JSON, a
 *   data URL that is not base64): `code: 'invalid_value'`.
 * `field` is the caller's path: `messages[2].content[1].image_url`, `logprobs`, `n`.
 */
export function unsupported(field: string, why: string): UnsupportedFieldError {
  return new UnsupportedFieldError(field, 'bedrock', why);
}

export function invalidField(field: string, what: string): ProviderError {
  return new ProviderError(`${field} ${what}`, 400, false, { type: 'invalid_request_error', code: 'invalid_value', param: field });
}

/** OpenAI accepts `null` for every optional field and reads it as absent; so does this mapping. */
export function given<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}
