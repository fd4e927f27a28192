import type { ConverseRequest, OutputConfig } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { inferenceConfig } from './inference-config.js';
import { converseMessages } from './messages.js';
import { effort } from './reasoning-effort.js';
import { checkRequestFields } from './request-fields.js';
import { requestMetadata } from './request-metadata.js';
import { textFormat } from './response-format.js';
import { serviceTier } from './service-tier.js';
import { toolConfig } from './tools.js';

/** The fields Converse and ConverseStream share (everything but the guardrail config, unused here). */
export type ConverseInput = Omit<ConverseRequest, 'guardrailConfig'>;

/**
 * OpenAI's chat-completions request → one Converse / ConverseStream input, every rule applied:
 *
 *   {model, messages, tools, tool_choice, max_completion_tokens, temperature, top_p, stop,
 *    response_format, reasoning_effort, service_tier, user, metadata, ...}
 *   → {modelId, messages, system?, toolConfig?, inferenceConfig?, outputConfig?{textFormat?, effort?},
 *      serviceTier?, requestMetadata?}
 *
 * Keys are present only when the caller sent something for them. Every refusal (a 400 naming the
 * field) is thrown here, before anything is sent. `modelId` is the catalog entry's `upstream`
 * (a Bedrock model id, inference profile id or ARN).
 *
 * AWS reference: Converse request syntax (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
 */
export function converseRequest(body: ChatCompletionCreateParams, modelId: string): ConverseInput {
  checkRequestFields(body);
  const { system, messages, hasToolBlocks } = converseMessages(body.messages);
  const tools = toolConfig(body, hasToolBlocks);
  const inference = inferenceConfig(body);
  const format = textFormat(body);
  const level = effort(body);
  const outputConfig: OutputConfig = { ...(format ? { textFormat: format } : {}), ...(level ? { effort: level } : {}) };
  const metadata = requestMetadata(body);
  const tier = serviceTier(body);
  return {
    modelId,
    messages,
    ...(system.length ? { system } : {}),
    ...(tools ? { toolConfig: tools } : {}),
    ...(inference ? { inferenceConfig: inference } : {}),
    ...(Object.keys(outputConfig).length ? { outputConfig } : {}),
    ...(tier ? { serviceTier: tier } : {}),
    ...(metadata ? { requestMetadata: metadata } : {}),
  };
}
