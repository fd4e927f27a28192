import { serviceLogger } from '../../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * `parallel_tool_calls: false` on Bedrock (oneToolCall, chat/one-tool-call.ts). OpenAI's meaning is "at most one tool
 * call per assistant turn". Converse has no switch for it, so the gateway holds the answer to it: a whole
 * answer keeps its first toolUse block as its one tool call, a stream relays tool call 0 only
 * (response.ts, stream.ts). The text, `finish_reason` ("tool_calls") and usage stay as Bedrock
 * answered: the dropped calls were generated and are billed. The caller gets the contract
 * (one call); how many calls were dropped goes to the log line below, per answer.
 *
 * Anthropic's own switch (`tool_choice.disable_parallel_tool_use`) is not sent through
 * `additionalModelRequestFields`: no AWS document says Converse takes it there, and Converse
 * writes the model's `tool_choice` itself from `toolConfig.toolChoice`.
 *
 * One JSON log line when tool calls were dropped for `parallel_tool_calls: false` (nothing when none was).
 */
export function logDroppedToolCalls(model: string, kept: string | undefined, dropped: number): void {
  if (dropped > 0) {
    logger.info('parallel_tool_calls false: Bedrock answered more than one tool call; the first is returned, the others dropped', { model, kept, dropped });
  }
}
