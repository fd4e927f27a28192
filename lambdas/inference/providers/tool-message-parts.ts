import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { UnsupportedFieldError } from './provider.js';

/** What a non-text part of a tool message is, in words. */
const WHAT: Record<string, string> = { image_url: 'an image', file: 'a file' };

/**
 * Refuses a `tool` message whose content holds a part other than text, for a provider that sends
 * the chat request as it is (the OpenAI-compatible relay, SageMaker): a chat-completions tool
 * message carries text only (`ChatCompletionToolMessageParam`), so such an upstream cannot take it,
 * and dropping the part would answer without what the tool returned. Only `/v1/responses` makes
 * such a message (a `function_call_output` or `custom_tool_call_output` whose `output` holds `input_image` or `input_file`:
 * OpenAI's types allow it, and Bedrock's toolResult blocks carry images and documents);
 * `/v1/chat/completions` refuses one in its schema. The 400 names `messages[i].content[j]`, which
 * `/v1/responses` reports as `input[k].output[j]`. The message names the tool as the call's type says (the assistant
 * message's `tool_calls[k].type` of the same id): a function's output, or a custom tool's (before session 48, always a
 * function's), and leaves Bedrock out of a custom tool's advice (Bedrock takes no custom tools).
 * @throws UnsupportedFieldError 400 `unsupported_parameter` naming the part, before anything is sent
 */
export function refuseToolMessageMedia(body: ChatCompletionCreateParams, provider: string): void {
  // The type of each call the history made (`tool_calls[k].type`), to name the output's tool as the caller knows it.
  const callTypes = new Map<string, unknown>();
  for (const m of body.messages ?? []) {
    if (m?.role === 'assistant') for (const c of m.tool_calls ?? []) if (typeof c?.id === 'string') callTypes.set(c.id, c.type);
  }
  (body.messages ?? []).forEach((m, i) => {
    if (m?.role !== 'tool' || !Array.isArray(m.content)) return;
    const custom = callTypes.get(m.tool_call_id) === 'custom';
    (m.content as Array<{ type?: unknown }>).forEach((p, j) => {
      if (p?.type === 'text') return;
      const what = WHAT[String(p?.type)] ?? `a ${String(p?.type)} part`;
      throw new UnsupportedFieldError(`messages[${i}].content[${j}]`, provider,
        `a ${custom ? "custom tool's" : "function's"} output reaches this upstream as a chat-completions tool message, which carries text only, so ${what} in it cannot be sent (and is not dropped); ` +
        // Bedrock takes no custom tools (bedrock/tools.ts), so it is no way out for a custom tool's output.
        `send the output as text (describe the image or file)${custom ? ' or' : ','} put the image or file in a user message after the output${custom ? '' : ', or use a Bedrock model (its tool results carry images and documents)'}`);
    });
  });
}
