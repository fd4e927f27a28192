/**
 * The gateway's own guardrails over every text a caller sends in OpenAI's message list: PII
 * redaction and the prompt-injection screen (see ../guardrails.ts for both). Pure: the input is
 * never mutated, and a message is copied only where one of its texts changed.
 *
 * What is text: string contents and `text` parts of every role (system, developer, user,
 * assistant, tool, legacy function), assistant `refusal` (the field and `refusal` parts), the
 * arguments of assistant tool calls (`function.arguments`, a custom tool's `input`) and of the
 * legacy `function_call`, and text files (`file` parts whose `file_data` is a plain-text, Markdown,
 * CSV, JSON, XML, YAML or HTML file: text-file-data.ts; re-encoded as they came). Images, audio and
 * other files (PDF, Word, Excel) are not read: they pass untouched, and so do ids and function names.
 * A participant's `name` is redacted (its label without brackets: the name stays in OpenAI's pattern).
 *
 * Which texts are screened for prompt injection: those that come from outside the application —
 * user text, tool results (`tool` and legacy `function` messages: the classic route of indirect
 * injection, a web page or document a tool fetched) and tool-call arguments (a model that read an
 * injected document passes the payload on through them). Not system and developer messages: they
 * are the application's own instructions, written by the tenant that holds the key, so screening
 * them protects no one from anyone, and real ones say exactly what the screen looks for ("if the
 * user asks you to ignore previous instructions, refuse"). Not assistant text and refusals
 * either: they are the model's earlier answers, which quote such phrases when a user asked about
 * them, and any instruction planted there reached the model through a screened text first.
 */
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartRefusal,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { GatewayError } from '../openai-errors.js';
import { redactPii, screenPromptInjection } from '../guardrails.js';
import { textFileData } from './text-file-data.js';

export interface InputGuardrails { redactPii: boolean; promptInjectionScreen: boolean }

/** The screen matched: a 400 `prompt_injection_detected` whose `param` is the path of the text. */
export class PromptInjectionError extends GatewayError {
  declare readonly param: string;

  constructor(param: string, readonly pattern: string) {
    super(400, `the request was refused by the prompt-injection screen of this tenant (in ${param})`, 'invalid_request_error', 'prompt_injection_detected', param);
    this.name = 'PromptInjectionError';
  }
}

type Part = ChatCompletionContentPart | ChatCompletionContentPartText | ChatCompletionContentPartRefusal;

/** A JSON string or number literal; on valid JSON, what lies between them is punctuation, whitespace, true, false and null. */
const JSON_LITERAL = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

class Visitor {
  readonly found: string[] = [];

  constructor(private readonly options: InputGuardrails) {}

  /** One plain text: screened (when `screen`), then redacted. */
  text(text: string, path: string, screen: boolean): string {
    this.screen(text, path, screen);
    if (!this.options.redactPii) return text;
    const r = redactPii(text);
    this.found.push(...r.found);
    return r.found.length ? r.text : text;
  }

  /**
   * Tool-call arguments: a JSON string. Each string literal is decoded, screened and redacted,
   * then written back as a JSON string; a number literal that is PII (a card number) becomes the
   * string "[CREDIT_CARD]". Everything else keeps its bytes, so valid JSON stays valid JSON with
   * the same shape. Arguments that are not JSON (models do write such) are treated as plain text.
   */
  json(json: string, path: string, screen: boolean): string {
    try {
      JSON.parse(json);
    } catch {
      return this.text(json, path, screen);
    }
    return json.replace(JSON_LITERAL, (literal) => {
      const isString = literal.startsWith('"');
      const value = isString ? (JSON.parse(literal) as string) : literal;
      if (isString) this.screen(value, path, screen);
      if (!this.options.redactPii) return literal;
      const r = redactPii(value);
      if (!r.found.length) return literal;
      this.found.push(...r.found);
      return JSON.stringify(r.text);
    });
  }

  content<C extends string | Part[] | null | undefined>(content: C, path: string, screen: boolean): C {
    if (typeof content === 'string') return this.text(content, path, screen) as C;
    if (!Array.isArray(content)) return content;
    let changed = false;
    const parts = content.map((part, j) => {
      let next: Part = part;
      if (part.type === 'text') {
        const text = this.text(part.text, `${path}[${j}].text`, screen);
        if (text !== part.text) next = { ...part, text };
      } else if (part.type === 'refusal') {
        const refusal = this.text(part.refusal, `${path}[${j}].refusal`, screen);
        if (refusal !== part.refusal) next = { ...part, refusal };
      } else if (part.type === 'file' && typeof part.file?.file_data === 'string') {
        // A text file is text the model reads: screened and redacted as a text part is, then encoded as it came.
        const file = textFileData(part.file.file_data, part.file.filename);
        if (file) {
          const text = file.json ? this.json(file.text, `${path}[${j}].file.file_data`, screen) : this.text(file.text, `${path}[${j}].file.file_data`, screen);
          if (text !== file.text) next = { ...part, file: { ...part.file, file_data: file.encode(text) } };
        }
      } // image_url, input_audio, files that are not text (PDF, Word, Excel): not read
      changed ||= next !== part;
      return next;
    });
    // A phrase split across text parts reaches the model whole: screen the parts joined too.
    if (screen && content.length > 1) this.screen(content.map((p) => (p.type === 'text' ? p.text : '')).join(''), path, true);
    return (changed ? parts : content) as C;
  }

  toolCall(call: ChatCompletionMessageToolCall, path: string): ChatCompletionMessageToolCall {
    if (call.type === 'function' && call.function) {
      const args = this.json(call.function.arguments, `${path}.function.arguments`, true);
      return args === call.function.arguments ? call : { ...call, function: { ...call.function, arguments: args } };
    }
    if (call.type === 'custom' && call.custom) { // free text the model wrote for a custom tool
      const input = this.text(call.custom.input, `${path}.custom.input`, true);
      return input === call.custom.input ? call : { ...call, custom: { ...call.custom, input } };
    }
    return call;
  }

  assistant(m: ChatCompletionAssistantMessageParam, path: string): ChatCompletionAssistantMessageParam {
    const next: ChatCompletionAssistantMessageParam = { ...m };
    next.content = this.content(m.content, `${path}.content`, false);
    if (typeof m.refusal === 'string') next.refusal = this.text(m.refusal, `${path}.refusal`, false);
    if (m.tool_calls) {
      const calls = m.tool_calls.map((c, k) => this.toolCall(c, `${path}.tool_calls[${k}]`));
      next.tool_calls = calls.some((c, k) => c !== m.tool_calls![k]) ? calls : m.tool_calls;
    }
    if (m.function_call) {
      const args = this.json(m.function_call.arguments, `${path}.function_call.arguments`, true);
      next.function_call = args === m.function_call.arguments ? m.function_call : { ...m.function_call, arguments: args };
    }
    const changed = next.content !== m.content || next.refusal !== m.refusal || next.tool_calls !== m.tool_calls || next.function_call !== m.function_call;
    return changed ? next : m;
  }

  message(m: ChatCompletionMessageParam, i: number): ChatCompletionMessageParam {
    const path = `messages[${i}]`;
    switch (m.role) {
      case 'assistant':
        return this.named(this.assistant(m, path));
      case 'system':
      case 'developer':
      case 'user':
      case 'tool':
      case 'function': {
        const screen = m.role === 'user' || m.role === 'tool' || m.role === 'function';
        const content = this.content(m.content, `${path}.content`, screen);
        const next = content === m.content ? m : ({ ...m, content } as ChatCompletionMessageParam);
        return m.role === 'tool' || m.role === 'function' ? next : this.named(next as typeof m);
      }
      default:
        return m; // a role OpenAI may add later: passed through as it is
    }
  }

  /**
   * A participant's `name`, PII-redacted. The schema (chat/request-schema.ts) has refused any name
   * outside OpenAI's `^[a-zA-Z0-9_-]+$` (an address, a spaced phone number, an IP address): what
   * is left is a run of digits, hyphens and letters, a card or SSN number at most. The label goes
   * in without its brackets (`CREDIT_CARD`), so the name stays one OpenAI takes.
   */
  private named<M extends { name?: string | null }>(m: M): M {
    if (!this.options.redactPii || typeof m.name !== 'string' || !m.name) return m;
    const r = redactPii(m.name);
    if (!r.found.length) return m;
    this.found.push(...r.found);
    return { ...m, name: r.text.replace(/[[\]]/g, '') };
  }

  private screen(text: string, path: string, screen: boolean): void {
    if (!screen || !this.options.promptInjectionScreen) return;
    const pattern = screenPromptInjection(text);
    if (pattern) throw new PromptInjectionError(path, pattern);
  }
}

/**
 * Applies the tenant's input guardrails to every text of `messages`. Returns the messages (the
 * same objects where nothing changed; the same array when nothing did) and the PII labels
 * redacted, one per redaction, in message order. Throws PromptInjectionError when the screen
 * matches a user text, a tool result or tool-call arguments.
 */
export function applyInputGuardrails(messages: ChatCompletionMessageParam[], options: InputGuardrails): { messages: ChatCompletionMessageParam[]; piiFound: string[] } {
  if (!options.redactPii && !options.promptInjectionScreen) return { messages, piiFound: [] };
  const visitor = new Visitor(options);
  const out = messages.map((m, i) => visitor.message(m, i));
  return { messages: out.some((m, i) => m !== messages[i]) ? out : messages, piiFound: visitor.found };
}

type ItemRecord = Record<string, unknown>;

/**
 * PII redaction of Responses API items, as the gateway keeps them under the tenant's `guardrails.redactPii`: a stored
 * Response's input items (`input_items`), a conversation's items, a background response's queued request. The same
 * walk over the same texts as the chat messages they become (so the items kept say what the upstream saw): a message's
 * string `content` and its `input_text` / `output_text` `text`, `refusal` parts' `refusal`, text files (`input_file`
 * `file_data`, re-encoded as they came, a JSON file inside its strings), a `function_call`'s `arguments` (inside
 * their JSON strings: valid JSON stays valid), a `function_call_output`'s `output` (a string or those parts). A
 * replayed `reasoning` item's `summary` and `content` texts are redacted too, though the model is not sent them: no
 * text the tenant asked to have redacted is kept raw. Ids, roles, types, images, `file_id`s, function names and
 * every other field are kept as they are. Idempotent: `[EMAIL]` holds no PII, so redacting again changes nothing.
 * Pure: the items are not mutated; an item is copied only where one of its texts changed.
 * @param items the items (OpenAI's input item shapes; an item without `type` and with a `role` is a message)
 * @returns the items (the same array when nothing changed) and the PII labels found, one per redaction
 */
export function redactInputItems<T extends ItemRecord>(items: readonly T[]): { items: T[]; piiFound: string[] } {
  const v = new Visitor({ redactPii: true, promptInjectionScreen: false });
  const text = (s: unknown) => (typeof s === 'string' ? v.text(s, '', false) : s);
  const parts = (content: unknown): unknown => {
    if (typeof content === 'string') return v.text(content, '', false);
    if (!Array.isArray(content)) return content;
    const out = content.map((p: ItemRecord) => {
      if (!p || typeof p !== 'object') return p;
      let next = p;
      if ((p.type === 'input_text' || p.type === 'output_text' || p.type === 'summary_text' || p.type === 'reasoning_text' || p.type === 'text') && typeof p.text === 'string') {
        const t = v.text(p.text, '', false);
        if (t !== p.text) next = { ...p, text: t };
      } else if (p.type === 'refusal' && typeof p.refusal === 'string') {
        const t = v.text(p.refusal, '', false);
        if (t !== p.refusal) next = { ...p, refusal: t };
      } else if (p.type === 'input_file' && typeof p.file_data === 'string') {
        const file = textFileData(p.file_data, typeof p.filename === 'string' ? p.filename : undefined);
        if (file) {
          const t = file.json ? v.json(file.text, '', false) : v.text(file.text, '', false);
          if (t !== file.text) next = { ...p, file_data: file.encode(t) };
        }
      }
      return next;
    });
    return out.some((p, j) => p !== content[j]) ? out : content;
  };
  const out = items.map((item) => {
    if (!item || typeof item !== 'object') return item;
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    let next: ItemRecord = item;
    const set = (key: string, value: unknown) => {
      if (value !== item[key]) next = { ...next, [key]: value };
    };
    if (type === 'message') set('content', parts(item.content));
    else if (type === 'function_call' && typeof item.arguments === 'string') set('arguments', v.json(item.arguments, '', false));
    else if (type === 'function_call_output' || type === 'custom_tool_call_output') set('output', parts(item.output));
    else if (type === 'custom_tool_call') set('input', text(item.input));
    else if (type === 'reasoning') {
      set('summary', parts(item.summary));
      set('content', parts(item.content));
    }
    return next as T;
  });
  return { items: out.some((item, i) => item !== items[i]) ? out : (items as T[]), piiFound: v.found };
}
