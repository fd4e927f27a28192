import { invalid, type GatewayError } from '../inference/openai-errors.js';
import { Utf8LineReader } from '../shared/utf8-lines.js';
import { exampleToolsProblem, messageShapeProblem } from './training-example-shape.js';

/**
 * Checks an uploaded fine-tuning file as OpenAI's fine-tuning input formats define it, before it is
 * stored: UTF-8 (strict: a byte sequence that is not UTF-8 is refused, never replaced), JSON Lines,
 * every non-blank line one JSON object of one of the formats
 * - chat (supervised): `{"messages": [{"role": "...", "content": ..., ...}, ...], ...}` (each message's content and weight: messageProblem;
 *   its tool calls, name, content parts and the example's tools: training-example-shape.ts)
 * - completions (legacy): `{"prompt": "...", "completion": "..."}`
 * An image given by URL rather than inline (`data:`) is refused: the training job cannot fetch it.
 * A preference (DPO) example (`input`, `preferred_output`, `non_preferred_output`) is refused:
 * only supervised jobs are trained here (`method.type` `dpo` is refused too), and a supervised job
 * on preference data would fail in its training container hours later.
 * Source: OpenAI API reference, "Fine-tuning: training format for chat / preference / completions models".
 * @returns the number of examples (non-blank lines)
 * @throws GatewayError 400 `invalid_file_format` (param `file`) naming the file, the line and what is wrong
 */
export function checkFineTuningFile(filename: string, bytes: Uint8Array): number {
  const check = new FineTuningFileCheck(filename);
  check.push(bytes);
  return check.end();
}

/**
 * checkFineTuningFile on a file that arrives in pieces (the parts of an upload, `POST /v1/uploads/{id}/complete`):
 * the same checks and messages, holding only the line being read (a line may span pieces; its number is counted
 * over the whole file), never the whole file as one string.
 */
export class FineTuningFileCheck extends Utf8LineReader {
  private examples = 0;
  private started = false;

  /** @param filename named in every refusal */
  constructor(private readonly filename: string) {
    // ignoreBOM: a byte order mark stays in the text, where `decoded` finds it.
    super(true);
  }

  private refuse(why: string): GatewayError {
    return invalid(`file "${this.filename}" is not a fine-tuning file: ${why}`, 'file', 'invalid_file_format');
  }

  /**
   * Checks the last line once every byte was pushed.
   * @returns the number of examples (non-blank lines)
   * @throws GatewayError 400 `invalid_file_format` as push, or when the file has no example
   */
  end(): number {
    this.finish();
    if (this.examples === 0) throw this.refuse('it has no examples (one JSON object per line)');
    return this.examples;
  }

  protected notUtf8(): GatewayError {
    return this.refuse('it is not UTF-8 text (JSON Lines must be UTF-8)');
  }

  protected decoded(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      // Stored as uploaded, a BOM would reach the training job, whose JSON reader refuses it (Python's
      // json.loads: "Unexpected UTF-8 BOM"); refused here rather than removed from the caller's bytes.
      if (text.startsWith('\uFEFF')) throw this.refuse('it starts with a UTF-8 byte order mark, which JSON Lines readers refuse; save it as UTF-8 without BOM');
    }
  }

  protected checkLine(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw this.refuse(`line ${this.line} is not JSON (${(e as Error).message})`);
    }
    const why = exampleProblem(value);
    if (why) throw this.refuse(`line ${this.line} ${why}`);
    this.examples++;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The roles of OpenAI's chat format (`function` is the legacy tool role). */
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

function messagesProblem(messages: unknown, at: string): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return `has no messages (${at} must be a non-empty array)`;
  const bad = messages.findIndex((m) => !isObject(m) || typeof m.role !== 'string');
  if (bad >= 0) return `has a message without a role (${at}[${bad}] must be an object with a string "role")`;
  const unknown = messages.findIndex((m) => !ROLES.includes((m as { role: string }).role));
  if (unknown >= 0) return `has a message of role ${JSON.stringify((messages[unknown] as { role: string }).role).slice(0, 60)} (${at}[${unknown}].role must be one of ${ROLES.join(', ')})`;
  // A chat example teaches the assistant's turns: without one it teaches nothing (OpenAI refuses such a file too).
  if (!messages.some((m) => (m as { role: string }).role === 'assistant')) return `has no assistant message (${at} must hold at least one, the answer to learn)`;
  for (const [i, m] of (messages as Array<Record<string, unknown>>).entries()) {
    const why = messageProblem(m, `${at}[${i}]`) ?? messageShapeProblem(m, `${at}[${i}]`);
    if (why) return why;
  }
  return imageUrlProblem(messages as Array<Record<string, unknown>>, at);
}

/**
 * What is wrong with one message's `content` and `weight`, as OpenAI's fine-tuning chat format types them
 * (FineTuneChatCompletionRequest*Message): `content` a string or an array of parts; only an assistant message
 * that calls a tool or function (`tool_calls`, `function_call`) or refuses (`refusal`), or a legacy `function`
 * message, may have none (absent or null); `weight` 0 or 1 ("Controls whether the assistant message is trained
 * against (0 or 1)"). A number, an object or a missing content was answered `processed` and reached the training
 * job's chat template, which fails on it hours later; a weight of 2 or 0.5 trained as neither.
 */
function messageProblem(m: Record<string, unknown>, at: string): string | undefined {
  const content = m.content;
  if (typeof content !== 'string' && !Array.isArray(content)) {
    const mayBeEmpty = (m.role === 'assistant' && ['tool_calls', 'function_call', 'refusal'].some((k) => m[k] !== undefined && m[k] !== null)) || m.role === 'function';
    if (!(mayBeEmpty && (content === undefined || content === null))) {
      return `has a message of role "${m.role}" whose content is ${content === undefined ? 'missing' : JSON.stringify(content).slice(0, 60)} (${at}.content must be a string or an array of content parts${m.role === 'assistant' ? ', or absent with tool_calls' : ''})`;
    }
  }
  if ('weight' in m && m.weight !== 0 && m.weight !== 1) return `has a message of weight ${JSON.stringify(m.weight).slice(0, 30)} (${at}.weight must be 0 or 1: whether the message is trained on)`;
  return undefined;
}

/**
 * An image given by URL (`{"type": "image_url", "image_url": {"url": "https://..."}}`, OpenAI's vision fine-tuning
 * format) rather than inline as a `data:` URL: the training job runs with network isolation (no internet,
 * fine-tuning-service.ts `EnableNetworkIsolation`), so it can never fetch it, and the job would fail or train
 * without the image, after the upload was answered `processed`. Inline images pass (a vision base model trains them).
 */
function imageUrlProblem(messages: Array<Record<string, unknown>>, at: string): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, part] of m.content.entries()) {
      if (!isObject(part) || part.type !== 'image_url') continue;
      const url = isObject(part.image_url) ? part.image_url.url : undefined;
      if (typeof url === 'string' && /^data:/i.test(url)) continue;
      return `has an image by URL (${at}[${i}].content[${j}].image_url.url = ${JSON.stringify(typeof url === 'string' ? url.slice(0, 80) : url ?? null)}): training runs without network access and cannot fetch it; embed the image as a data: URL (base64)`;
    }
  }
  return undefined;
}

/** What is wrong with one example, or undefined. */
function exampleProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'is not a JSON object';
  if ('messages' in value) return messagesProblem(value.messages, 'messages') ?? exampleToolsProblem(value);
  if ('preferred_output' in value || 'non_preferred_output' in value || 'input' in value) {
    return 'is a preference (DPO) example ("input", "preferred_output", "non_preferred_output"): only supervised fine-tuning is trained on this platform (chat "messages" or "prompt"/"completion" examples)';
  }
  if ('prompt' in value || 'completion' in value) {
    return typeof value.prompt === 'string' && typeof value.completion === 'string' ? undefined : 'is a completions example whose "prompt" and "completion" are not both strings';
  }
  return 'is none of the fine-tuning formats (chat: "messages"; completions: "prompt", "completion")';
}
