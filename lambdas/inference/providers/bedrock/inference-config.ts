import type { InferenceConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, unsupported } from './refuse.js';

/**
 * OpenAI's sampling and length fields → Converse `inferenceConfig`.
 *
 *   max_completion_tokens, max_tokens   → maxTokens   (the lower when both are sent; none → none, the model's own limit)
 *   temperature                         → temperature (0 to 1 in Converse; above 1 is refused)
 *   top_p                               → topP
 *   stop: "s" | ["s", ...]              → stopSequences: ["s", ...] (an empty string is a 400 at `stop` /
 *                                         `stop[i]`: Converse's sequences have a minimum length of 1)
 *
 * With both sent, the lower is Bedrock's limit: the gateway holds every choice of every provider to
 * the lower of the two (chat/output-limit.ts), so the model is asked to stop there rather than be
 * cut there. (The gateway reserves the larger, pipeline.ts `completionLimit`: a relayed upstream
 * may honour either. `max_tokens` is deprecated in favour of `max_completion_tokens` in OpenAI's
 * reference, and OpenAI's reasoning models refuse it.) Returns
 * `undefined` when none of these was sent, so Bedrock applies the model's defaults.
 *
 * AWS reference: InferenceConfiguration
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InferenceConfiguration.html):
 * temperature and topP are floats from 0 to 1, maxTokens at least 1.
 */
export function inferenceConfig(body: ChatCompletionCreateParams): InferenceConfiguration | undefined {
  const config: InferenceConfiguration = {};
  const limits = [body.max_completion_tokens, body.max_tokens].filter((v): v is number => given(v));
  if (limits.length) config.maxTokens = Math.min(...limits);
  if (given(body.temperature)) {
    if (body.temperature > 1) throw unsupported('temperature', 'Converse takes a temperature from 0 to 1; values above 1 have no equivalent');
    config.temperature = body.temperature;
  }
  if (given(body.top_p)) config.topP = body.top_p;
  if (given(body.stop)) {
    const sequences = typeof body.stop === 'string' ? [body.stop] : [...body.stop];
    const empty = sequences.findIndex((s) => s === '');
    if (empty >= 0) throw unsupported(typeof body.stop === 'string' ? 'stop' : `stop[${empty}]`, 'is an empty string, and Converse stop sequences are at least one character long: leave it out');
    config.stopSequences = sequences;
  }
  return Object.keys(config).length ? config : undefined;
}
