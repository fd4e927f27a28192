import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletion, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import { logDroppedToolCalls } from './one-tool-call.js';
import { openAiServiceTier } from './service-tier.js';
import { finishReason } from './stop-reason.js';
import { completionUsage } from './usage.js';

/** What OpenAI's answer carries that Converse does not: placeholders the gateway replaces. */
export interface AnswerMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

/**
 * A Converse answer → OpenAI's `ChatCompletion` (one choice).
 *
 *   output.message.content [{text:'Let me check.'}, {toolUse:{toolUseId:'t1', name:'weather', input:{city:'Oslo'}}}]
 *   → choices[0].message {role:'assistant', content:'Let me check.', refusal:null,
 *       tool_calls:[{id:'t1', type:'function', function:{name:'weather', arguments:'{"city":"Oslo"}'}}]}
 *
 * - `content` is the text blocks joined; `null` when the answer is only tool calls; `""` when the
 *   answer is empty. Reasoning blocks are left out: OpenAI's chat completions never return
 *   reasoning text either (only its token count).
 * - `finish_reason` from `stopReason` (stop-reason.ts), `usage` (usage.ts), `logprobs: null`,
 *   `service_tier` when Bedrock names the tier it used (service-tier.ts).
 * - `oneToolCall` (the caller sent `parallel_tool_calls: false`, one-tool-call.ts): only the first
 *   toolUse block becomes a tool call; the others are dropped (and counted in the log);
 *   text, `finish_reason` and usage unchanged.
 *
 * AWS reference: ConverseResponse (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax).
 */
export function chatCompletion(out: ConverseResponse, meta: AnswerMeta, oneToolCall = false): ChatCompletion {
  const blocks = out.output?.message?.content ?? [];
  const text = blocks.flatMap((b) => (typeof b.text === 'string' ? [b.text] : [])).join('');
  const allCalls: ChatCompletionMessageFunctionToolCall[] = blocks.flatMap((b) => b.toolUse ? [{
    id: b.toolUse.toolUseId ?? '',
    type: 'function' as const,
    function: { name: b.toolUse.name ?? '', arguments: JSON.stringify(b.toolUse.input ?? {}) },
  }] : []);
  const toolCalls = oneToolCall ? allCalls.slice(0, 1) : allCalls;
  logDroppedToolCalls(meta.model, toolCalls[0]?.function.name, allCalls.length - toolCalls.length);
  const tier = openAiServiceTier(out.serviceTier);
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: text || (toolCalls.length ? null : ''), refusal: null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      finish_reason: finishReason(out.stopReason),
      logprobs: null,
    }],
    ...(out.usage ? { usage: completionUsage(out.usage) } : {}),
    ...(tier ? { service_tier: tier } : {}),
  };
}
