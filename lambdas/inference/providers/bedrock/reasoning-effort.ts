import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, unsupported } from './refuse.js';

/**
 * OpenAI `reasoning_effort` → Converse `outputConfig.effort`.
 *
 *   'low' | 'medium' | 'high' | 'xhigh' | 'max' → the same value
 *   'none' | 'minimal'                          → 400 `reasoning_effort` (no Converse level below low)
 *
 * Converse documents these five levels ("Higher effort levels allow the model to spend more time
 * reasoning before responding"), the same scale as OpenAI's. A model without effort levels, or
 * above `high` without extended thinking, is Bedrock's own 400, relayed to the caller.
 *
 * AWS reference: OutputConfig.effort (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html).
 */
export function effort(body: ChatCompletionCreateParams): string | undefined {
  const value = body.reasoning_effort;
  if (!given(value)) return undefined;
  if (!LEVELS.has(value)) throw unsupported('reasoning_effort', `Converse effort levels are low, medium, high, xhigh and max, not ${value}`);
  return value;
}

const LEVELS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);
