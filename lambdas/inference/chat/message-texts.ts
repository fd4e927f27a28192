import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { textFileData } from '../guardrails/text-file-data.js';

type Content = ChatCompletionMessageParam['content'];

/** The text of a message content: the string, or its `text` (and `refusal`) parts joined; '' for none. */
export function textOfContent(content: Content | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text : p.type === 'refusal' ? p.refusal : '')).join('');
}

/** Options of callerTextsOf and withCallerTexts (both must be given the same). */
export interface CallerTextOptions {
  /**
   * The decoded text of each text file (`file` parts whose `file_data` textFileData reads) counts
   * as a text of its own, after the message's content text, in part order; withCallerTexts writes
   * a changed one back encoded as it came. @default false
   */
  files?: boolean;
}

/** The text files of a content (parts whose file_data textFileData reads, non-empty), with their part index. */
function textFilesOf(content: ChatCompletionMessageParam['content'] | undefined): Array<{ at: number; file: NonNullable<ReturnType<typeof textFileData>> }> {
  if (!Array.isArray(content)) return [];
  const files: Array<{ at: number; file: NonNullable<ReturnType<typeof textFileData>> }> = [];
  content.forEach((p, at) => {
    if (p.type !== 'file' || typeof p.file?.file_data !== 'string') return;
    const file = textFileData(p.file.file_data, p.file.filename);
    if (file?.text) files.push({ at, file });
  });
  return files;
}

/**
 * Every text of the messages, in order: contents and text parts, text files (with `files`),
 * refusals, tool results, and tool-call (and legacy function-call) arguments (a custom tool call's `input`). `roles` narrows it
 * (e.g. what the user and tools said, for Bedrock ApplyGuardrail's INPUT source). @default every role
 */
export function callerTextsOf(messages: ChatCompletionMessageParam[], roles?: Array<ChatCompletionMessageParam['role']>, options: CallerTextOptions = {}): string[] {
  const texts: string[] = [];
  for (const m of messages) {
    if (roles && !roles.includes(m.role)) continue;
    const text = textOfContent(m.content);
    if (text) texts.push(text);
    if (options.files) for (const { file } of textFilesOf(m.content)) texts.push(file.text);
    if (m.role === 'assistant') {
      if (m.refusal) texts.push(m.refusal);
      for (const t of m.tool_calls ?? []) {
        if (t.type === 'function') texts.push(t.function.arguments);
        else if (t.type === 'custom') texts.push(t.custom.input); // a custom tool call's free-text input
      }
      if (m.function_call) texts.push(m.function_call.arguments);
    }
  }
  return texts;
}

/**
 * `content` with its text replaced by `text`, the inverse of `textOfContent`: a string becomes
 * `text`; in a list of parts, the first part that carries text (a `text` part, or a `refusal`
 * part, as textOfContent reads them) carries all of `text` and the other text-carrying parts are
 * left out (their text is in it: a masked text cannot be split back at the old boundaries); every
 * other part (image, audio, file) is kept in its place. A null or absent content, or a list
 * without a text part, becomes `text` as a string.
 */
export function withTextOfContent<C extends Content>(content: C | undefined, text: string): C {
  if (!Array.isArray(content)) return text as C;
  const at = content.findIndex((p) => p.type === 'text' || p.type === 'refusal');
  if (at < 0) return text as C;
  const parts = content.filter((p, i) => i === at || (p.type !== 'text' && p.type !== 'refusal'));
  return parts.map((p) => (p !== content[at] ? p : p.type === 'text' ? { ...p, text } : { ...p, refusal: text })) as C;
}

/**
 * `messages` with the texts `callerTextsOf(messages, roles)` returned replaced by `texts` (one
 * each, in the same order): a message's content (withTextOfContent), an assistant's refusal and
 * its tool-call (and legacy function-call) arguments (a custom tool call's `input`). Only a text that differs is replaced; a
 * message with nothing replaced is the same object. Returns a new list and the number of texts
 * replaced; `messages` is not changed.
 * @throws Error when `texts` is not one text per caller text (a caller bug, never the guardrail's: its verdicts are checked for that)
 */
export function withCallerTexts(messages: ChatCompletionMessageParam[], texts: string[], roles?: Array<ChatCompletionMessageParam['role']>, options: CallerTextOptions = {}): { messages: ChatCompletionMessageParam[]; replaced: number } {
  let next = 0;
  let replaced = 0;
  /** The next replacement for `old`, or undefined when it is the same text. */
  const take = (old: string): string | undefined => {
    if (next >= texts.length) throw new Error(`withCallerTexts: ${texts.length} texts for more caller texts`);
    const text = texts[next++];
    if (text === old) return undefined;
    replaced += 1;
    return text;
  };
  const out = messages.map((m) => {
    if (roles && !roles.includes(m.role)) return m;
    let message = m;
    const text = textOfContent(m.content);
    const content = text ? take(text) : undefined;
    // Text files first (their part indexes are the caller's), then the content text, which may drop parts.
    let parts = m.content;
    if (options.files) {
      for (const { at, file } of textFilesOf(m.content)) {
        const masked = take(file.text);
        if (masked === undefined) continue;
        const list = [...(parts as Exclude<typeof parts, string | null | undefined>)] as Array<{ type: string; file?: object }>;
        list[at] = { ...list[at], file: { ...list[at].file, file_data: file.encode(masked) } };
        parts = list as typeof parts;
      }
    }
    if (content !== undefined) message = { ...message, content: withTextOfContent(parts, content) } as ChatCompletionMessageParam;
    else if (parts !== m.content) message = { ...message, content: parts } as ChatCompletionMessageParam;
    if (m.role === 'assistant') {
      const refusal = m.refusal ? take(m.refusal) : undefined;
      if (refusal !== undefined) message = { ...message, refusal } as ChatCompletionMessageParam;
      const calls = m.tool_calls?.map((t) => {
        if (t.type === 'custom') {
          const input = take(t.custom.input);
          return input === undefined ? t : { ...t, custom: { ...t.custom, input } };
        }
        if (t.type !== 'function') return t;
        const args = take(t.function.arguments);
        return args === undefined ? t : { ...t, function: { ...t.function, arguments: args } };
      });
      if (calls && calls.some((t, i) => t !== m.tool_calls![i])) message = { ...message, tool_calls: calls } as ChatCompletionMessageParam;
      const fn = m.function_call ? take(m.function_call.arguments) : undefined;
      if (fn !== undefined) message = { ...message, function_call: { ...m.function_call!, arguments: fn } } as ChatCompletionMessageParam;
    }
    return message;
  });
  if (next !== texts.length) throw new Error(`withCallerTexts: ${texts.length} texts for ${next} caller texts`);
  return { messages: out, replaced };
}
