import { invalid, type GatewayError } from '../inference/openai-errors.js';

/**
 * Checks an uploaded fine-tuning file as OpenAI's fine-tuning input formats define it, before it is
 * stored: UTF-8 (strict: a byte sequence that is not UTF-8 is refused, never replaced), JSON Lines,
 * every non-blank line one JSON object of one of the formats
 * - chat (supervised, reinforcement): `{"messages": [{"role": "...", ...}, ...], ...}`
 * - preference (DPO): `{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}`
 * - completions (legacy): `{"prompt": "...", "completion": "..."}`
 * Source: OpenAI API reference, "Fine-tuning: training format for chat / preference / completions models".
 * @returns the number of examples (non-blank lines)
 * @throws GatewayError 400 `invalid_file_format` (param `file`) naming the file, the line and what is wrong
 */
export function checkFineTuningFile(filename: string, bytes: Uint8Array): number {
  const refuse = (why: string): GatewayError => invalid(`file "${filename}" is not a fine-tuning file: ${why}`, 'file', 'invalid_file_format');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw refuse('it is not UTF-8 text (JSON Lines must be UTF-8)');
  }
  let examples = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw refuse(`line ${i + 1} is not JSON (${(e as Error).message})`);
    }
    const why = exampleProblem(value);
    if (why) throw refuse(`line ${i + 1} ${why}`);
    examples++;
  }
  if (examples === 0) throw refuse('it has no examples (one JSON object per line)');
  return examples;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function messagesProblem(messages: unknown, at: string): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return `has no messages (${at} must be a non-empty array)`;
  const bad = messages.findIndex((m) => !isObject(m) || typeof m.role !== 'string');
  return bad >= 0 ? `has a message without a role (${at}[${bad}] must be an object with a string "role")` : undefined;
}

/** What is wrong with one example, or undefined. */
function exampleProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'is not a JSON object';
  if ('messages' in value) return messagesProblem(value.messages, 'messages');
  if ('preferred_output' in value || 'non_preferred_output' in value || 'input' in value) {
    if (!isObject(value.input)) return 'is a preference example without "input" (an object with "messages")';
    const problem = messagesProblem(value.input.messages, 'input.messages');
    if (problem) return problem;
    for (const field of ['preferred_output', 'non_preferred_output'] as const) {
      if (!Array.isArray(value[field]) || value[field].length === 0) return `is a preference example without "${field}" (a non-empty array of messages)`;
    }
    return undefined;
  }
  if ('prompt' in value || 'completion' in value) {
    return typeof value.prompt === 'string' && typeof value.completion === 'string' ? undefined : 'is a completions example whose "prompt" and "completion" are not both strings';
  }
  return 'is none of the fine-tuning formats (chat: "messages"; preference: "input", "preferred_output", "non_preferred_output"; completions: "prompt", "completion")';
}
