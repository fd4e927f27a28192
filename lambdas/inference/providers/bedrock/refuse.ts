import { shownKey } from '../../../../lib/zod-issues.js';
import { ProviderError, UnsupportedFieldError } from '../provider.js';

/**
 * The two ways the Bedrock mapping says no, both 400s thrown before anything is sent to Bedrock:
 * - `unsupported(field, why)`: OpenAI defines the field (or this value of it) but Converse has no
 *   equivalent: `UnsupportedFieldError`, `code: 'unsupported_parameter'` (`unknownField(field, why)` for a field OpenAI
 *   does not define: `code: 'unknown_parameter'`).
 * - `invalidField(field, what)`: the value itself is malformed (arguments that are not JSON, a
 *   data URL that is not base64): `code: 'invalid_value'`.
 * `field` is the caller's path: `messages[2].content[1].image_url`, `logprobs`, `n`.
 */
export function unsupported(field: string, why: string): UnsupportedFieldError {
  return new UnsupportedFieldError(field, 'bedrock', why);
}

/**
 * A field OpenAI's request does not define (`top_k`, vLLM's `stream_options.continuous_usage_stats`), which Bedrock has
 * no place for: `UnsupportedFieldError` with OpenAI's words and code for an unknown field, `Unknown parameter:
 * 'top_k'.` and `code: 'unknown_parameter'`; `field` is cut as a message shows a key (lib/zod-issues.ts shownKey).
 */
export function unknownField(field: string, why: string): UnsupportedFieldError {
  return new UnsupportedFieldError(shownKey(field), 'bedrock', why, 'unknown_parameter');
}

/**
 * A key inside the request's objects that OpenAI's types do not define (`messages[0].content[0].cache_control`), as
 * unknownField answers a top-level one: `Unknown parameter: 'messages[0].content[0].cache_control'.`, code
 * `unknown_parameter`, `param` the path, as OpenAI answers a nested key (`'messages[1].tool_calls[0].index'`:
 * songquanpeng/one-api#1319). `path` is whole, its last key already cut as a message shows one (shownKey).
 */
export function unknownNested(path: string, why: string): UnsupportedFieldError {
  return new UnsupportedFieldError(path, 'bedrock', why, 'unknown_parameter');
}

export function invalidField(field: string, what: string): ProviderError {
  return new ProviderError(`${field} ${what}`, 400, false, { type: 'invalid_request_error', code: 'invalid_value', param: field });
}

/** OpenAI accepts `null` for every optional field and reads it as absent; so does this mapping. */
export function given<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}
