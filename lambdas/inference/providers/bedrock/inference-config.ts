import type { InferenceConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { given, unsupported } from './refuse.js';

/**
 * OpenAI's sampling and length fields → Converse `inferenceConfig`.
 *
 *   max_completion_tokens ?? max_tokens → maxTokens   (only when sent: none → none, the model's own limit)
 *   temperature                         → temperature (0 to 1 in Converse; above 1 is refused)
 *   top_p                               → topP
 *   stop: "s" | ["s", ...]              → stopSequences: ["s", ...]
 *
 * `max_completion_tokens` wins over the deprecated `max_tokens` when both are sent (the gateway
 * reserves the larger of the two, pipeline.ts `completionLimit`, so the budget holds either way). Returns
 * `undefined` when none of these was sent, so Bedrock applies the model's defaults.
 *
 * AWS reference: InferenceConfiguration
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InferenceConfiguration.html):
 * temperature and topP are floats from 0 to 1, maxTokens at least 1.
 */
export function inferenceConfig(body: ChatCompletionCreateParams): InferenceConfiguration | undefined {
  const config: InferenceConfiguration = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (given(maxTokens)) config.maxTokens = maxTokens;
  if (given(body.temperature)) {
    if (body.temperature > 1) throw unsupported('temperature', 'Converse takes a temperature from 0 to 1; values above 1 have no equivalent');
    config.temperature = body.temperature;
  }
  if (given(body.top_p)) config.topP = body.top_p;
  if (given(body.stop)) config.stopSequences = typeof body.stop === 'string' ? [body.stop] : [...body.stop];
  return Object.keys(config).length ? config : undefined;
}
