import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { unknownParameter } from '../openai-errors.js';

/**
 * The fields of OpenAI's `POST /v1/responses/input_tokens` body (`InputTokenCountParams` of the `openai` package):
 * the Responses create's input fields; any other create field (`stream`, `store`, `max_output_tokens`, …) is no part
 * of a count. `personality` is OpenAI's too, and refused as the create refuses it (request-fields.ts).
 */
export const COUNT_FIELDS: readonly string[] = [
  'conversation', 'input', 'instructions', 'model', 'parallel_tool_calls', 'personality', 'previous_response_id', 'reasoning',
  'text', 'tool_choice', 'tools', 'truncation',
];

/**
 * Refuses a field of a count body that `InputTokenCountParams` has not (OpenAI's count endpoint takes its fields only).
 * @throws GatewayError 400 `unknown_parameter` naming the first such field
 */
export function checkCountFields(raw: unknown): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return; // the schema names it
  for (const field of Object.keys(raw)) {
    if (!COUNT_FIELDS.includes(field)) {
      throw unknownParameter(field.slice(0, 64), `POST /v1/responses/input_tokens takes the input fields of a Responses request (${COUNT_FIELDS.join(', ')}); a field that shapes the answer (max_output_tokens, temperature, stream, store, …) counts no input token: leave it out`);
    }
  }
}

type Part = Record<string, unknown> & { type?: string };

/**
 * Chat-completions messages (a translated Responses request, responses/chat-request.ts, as the provider would get it)
 * back into Responses input items, for an upstream that counts a Responses request itself (OpenAI's
 * `/responses/input_tokens`): the chained or conversation history the gateway holds goes inline, as the upstream
 * cannot read this gateway's response ids. system/developer/user/assistant messages → `message` items (text parts
 * `input_text`, an assistant's `output_text`; `image_url` → `input_image`; `file` → `input_file`; `input_audio` kept as
 * it is); an assistant's `tool_calls` → `function_call` / `custom_tool_call` items; a `tool` message →
 * `function_call_output` (or `custom_tool_call_output` for a custom tool's call), its text parts joined.
 */
export function messagesToItems(messages: readonly ChatCompletionMessageParam[]): Array<Record<string, unknown>> {
  const customCalls = new Set<string>();
  const items: Array<Record<string, unknown>> = [];
  for (const m of messages) {
    if (m.role === 'tool') {
      const output = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
      items.push({ type: customCalls.has(m.tool_call_id) ? 'custom_tool_call_output' : 'function_call_output', call_id: m.tool_call_id, output });
      continue;
    }
    if (m.role === 'function') {
      items.push({ type: 'message', role: 'user', content: m.content ?? '' });
      continue;
    }
    const assistant = m.role === 'assistant';
    const content = m.content;
    if (typeof content === 'string' ? content !== '' : Array.isArray(content) && content.length > 0) {
      items.push({ type: 'message', role: m.role, content: typeof content === 'string' ? content : (content as unknown as Part[]).map((p) => partOf(p, assistant)) });
    }
    if (assistant) {
      for (const call of m.tool_calls ?? []) {
        if (call.type === 'custom') {
          customCalls.add(call.id);
          items.push({ type: 'custom_tool_call', call_id: call.id, name: call.custom.name, input: call.custom.input });
        } else items.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
      }
    }
  }
  return items;
}

function partOf(p: Part, assistant: boolean): Record<string, unknown> {
  switch (p.type) {
    case 'text':
      return { type: assistant ? 'output_text' : 'input_text', text: p.text, ...(assistant ? { annotations: [] } : {}) };
    case 'refusal':
      return { type: 'refusal', refusal: p.refusal };
    case 'image_url': {
      const image = p.image_url as { url: string; detail?: string };
      return { type: 'input_image', image_url: image.url, detail: image.detail ?? 'auto' };
    }
    case 'file': {
      const file = p.file as { file_data?: string; file_id?: string; filename?: string };
      return { type: 'input_file', ...file };
    }
    default:
      return p;
  }
}
