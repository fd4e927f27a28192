import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { ProviderError, UnsupportedFieldError } from '../../../../lambdas/inference/providers/provider.js';

/** The error `fn` throws (the test fails when it throws none). */
export function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected a refusal, got none');
}

/** Asserts `fn` refuses `field` as unsupported by Bedrock (a 400 naming it). */
export function expectUnsupported(fn: () => unknown, field: string): UnsupportedFieldError {
  const e = thrown(fn);
  if (!(e instanceof UnsupportedFieldError)) throw new Error(`expected UnsupportedFieldError for ${field}, got ${e.constructor.name}: ${e.message}`);
  if (e.field !== field || e.status !== 400 || e.provider !== 'bedrock' || e.details.param !== field) {
    throw new Error(`expected ${field} refused with 400, got ${e.field} ${e.status} (${e.message})`);
  }
  return e;
}

/** Asserts `fn` refuses `field` as an invalid value (a 400 naming it). */
export function expectInvalid(fn: () => unknown, field: string): ProviderError {
  const e = thrown(fn);
  if (e instanceof UnsupportedFieldError || e.status !== 400 || e.details.param !== field || e.details.code !== 'invalid_value') {
    throw new Error(`expected ${field} invalid with 400, got ${e.details.param} ${e.status} (${e.message})`);
  }
  return e;
}

/** A request body with one user message, plus `extra`. */
export const body = (extra: Record<string, unknown> = {}): ChatCompletionCreateParams =>
  ({ model: 'bedrock/claude', messages: [{ role: 'user', content: 'hi' }], ...extra }) as ChatCompletionCreateParams;
