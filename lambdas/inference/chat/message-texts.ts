import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

type Content = ChatCompletionMessageParam['content'];

/** The text of a message content: the string, or its `text` (and `refusal`) parts joined; '' for none. */
export function textOfContent(content: Content | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text : p.type === 'refusal' ? p.refusal : '')).join('');
}

/**
 * Every text of the messages, in order: contents and text parts, refusals, tool results, and
 * tool-call (and legacy function-call) arguments. `roles` narrows it (e.g. what the user and
 * tools said, for Bedrock ApplyGuardrail's INPUT source). @default every role
 */
export function callerTextsOf(messages: ChatCompletionMessageParam[], roles?: Array<ChatCompletionMessageParam['role']>): string[] {
  const texts: string[] = [];
  for (const m of messages) {
    if (roles && !roles.includes(m.role)) continue;
    const text = textOfContent(m.content);
    if (text) texts.push(text);
    if (m.role === 'assistant') {
      if (m.refusal) texts.push(m.refusal);
      for (const t of m.tool_calls ?? []) if (t.type === 'function') texts.push(t.function.arguments);
      if (m.function_call) texts.push(m.function_call.arguments);
    }
  }
  return texts;
}
