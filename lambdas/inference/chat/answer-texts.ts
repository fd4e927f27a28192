import type { ChatCompletion } from 'openai/resources/chat/completions';

/** A text of an answer beside each choice's content that the output guardrail checks as a text of its own. */
export interface AnswerExtra {
  /** The choice's position in the list given (a whole answer's choice, a stream's choice being released). */
  choice: number;
  /**
   * `arguments`: a function tool call's; `input`: a custom tool call's (chat `{type: 'custom', custom: {name, input}}`, free
   * text: masked, it need not be JSON); `function_call`: the deprecated legacy `function_call`'s (the answer to a request with
   * `functions`).
   */
  kind: 'refusal' | 'transcript' | 'arguments' | 'input' | 'function_call' | 'reasoning';
  text: string;
  /** For `arguments` and `input`: the call's position in the message's `tool_calls`. */
  call?: number;
}

/** Whether an extra is a call's arguments (a tool call's or the legacy `function_call`'s): masked, they must still be JSON. */
export function isCallArguments(e: AnswerExtra): boolean {
  return e.kind === 'arguments' || e.kind === 'function_call';
}

/**
 * An answer's texts beside each choice's content that the output guardrail checks: refusal, audio
 * transcript, tool-call arguments (non-empty) and custom tool calls' input (non-empty), the legacy `function_call`'s arguments (non-empty;
 * an OpenAI-compatible upstream asked with the deprecated `functions`), in that order per choice. Used for a whole answer
 * (completeChat) and for a stream's choice whose tool calls or refusal were held until complete
 * (StreamOutputGuard), so both check the same texts.
 */
export function answerExtras(choices: Array<{ message: Pick<ChatCompletion.Choice['message'], 'refusal' | 'audio' | 'tool_calls' | 'function_call'> }>): AnswerExtra[] {
  const extras: AnswerExtra[] = [];
  choices.forEach((c, choice) => {
    if (c.message.refusal) extras.push({ choice, kind: 'refusal', text: c.message.refusal });
    if (c.message.audio?.transcript) extras.push({ choice, kind: 'transcript', text: c.message.audio.transcript });
    (c.message.tool_calls ?? []).forEach((t, call) => {
      if (t.type === 'function' && t.function.arguments) extras.push({ choice, kind: 'arguments', text: argumentsAsRead(t.function.arguments), call });
      // A custom tool's input is free text the tool runs (a shell command, a patch): checked as it is.
      if (t.type === 'custom' && t.custom?.input) extras.push({ choice, kind: 'input', text: t.custom.input, call });
    });
    if (c.message.function_call?.arguments) extras.push({ choice, kind: 'function_call', text: argumentsAsRead(c.message.function_call.arguments) });
    // A reasoning model's thinking as vLLM, DeepSeek and OpenRouter send it (not OpenAI's type): the caller sees it too.
    const thinking = reasoningOf(c.message);
    if (thinking) extras.push({ choice, kind: 'reasoning', text: thinking });
  });
  return extras;
}

/**
 * A call's arguments as the tool will read them, for the guardrail: JSON parsed and written again,
 * so its escapes are decoded (`"bob\u0040example.com"` is `"bob@example.com"`: a guardrail's PII
 * and word filters read text, and would miss what the client decodes) and its spacing is JSON's
 * own; arguments that are not JSON as they are. Masked, this form is what the caller gets.
 */
export function argumentsAsRead(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args));
  } catch {
    return args;
  }
}

/** Whether a text parses as JSON (masked tool-call and function_call arguments must: else the answer is blocked, fail closed). */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A message's or delta's reasoning text (`reasoning_content`: vLLM before 0.9, DeepSeek;
 * `reasoning`: OpenRouter, vLLM since), not OpenAI's type; '' when none. A server that sends both
 * with the same text (vLLM while it kept `reasoning_content` as an alias of `reasoning`, mlx-vlm)
 * said it once: it counts once.
 */
export function reasoningOf(m: unknown): string {
  const r = m as { reasoning_content?: unknown; reasoning?: unknown } | null | undefined;
  const legacy = typeof r?.reasoning_content === 'string' ? r.reasoning_content : '';
  const current = typeof r?.reasoning === 'string' ? r.reasoning : '';
  return legacy === current ? legacy : legacy + current;
}
