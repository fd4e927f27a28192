import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { ProviderError } from '../provider.js';
import { unsupported } from './refuse.js';

/** Bedrock's ValidationException for a toolChoice the model does not take names the Converse field: `toolConfig.toolChoice.any` / `.tool`. */
const TOOL_CHOICE_FIELD = /\btoolConfig\.toolChoice\b/;

/**
 * Bedrock's refusal of the `toolChoice` the gateway made of the caller's `tool_choice`, in the caller's terms.
 *
 * Converse's `toolChoice` `any` (OpenAI's `required`, an `allowed_tools` of mode `required`) and `tool` (a named
 * function) are taken by some models only: the API reference's ToolChoice says of `tool` "Only supported by Anthropic
 * Claude 3 and Amazon Nova models" (older copies: ToolChoice "is only supported by Anthropic Claude 3 models and by
 * Mistral AI Mistral Large"), and Bedrock answers any other with a ValidationException naming its own field, "This
 * model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again."
 * (strands-agents/harness-sdk#1241, aws-samples/bedrock-access-gateway#92 for Nova and `any`). The caller sent no
 * `toolConfig`: that 400 came back with `param: null` and Bedrock's field name. Which model takes which is not
 * listed anywhere complete, so the gateway does not guess before the call; it renames Bedrock's answer.
 *
 *   ValidationException (400) whose message names `toolConfig.toolChoice`, the caller having sent a `tool_choice`
 *     → 400 `unsupported_parameter`, `param: tool_choice`, the value sent, Bedrock's words, and what to do
 *   any other error → as it is
 */
export function toolChoiceRefusal(e: ProviderError, body: Pick<ChatCompletionCreateParams, 'tool_choice'>): ProviderError {
  if (e.status !== 400 || e.details.code !== 'ValidationException' || !TOOL_CHOICE_FIELD.test(e.message) || body.tool_choice == null) return e;
  return unsupported('tool_choice', `${JSON.stringify(body.tool_choice)} is not taken by this Bedrock model (Bedrock: "${e.message}"). ` +
    'Converse forces a tool call (toolChoice any or tool) only on some models, Anthropic Claude and Amazon Nova among them; send tool_choice "auto" (or none), or use such a model');
}
