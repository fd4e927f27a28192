import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { answerAudio, type AudioCall } from './fake-audio.js';
import { openAiRefusal, type OpenAiRefusal } from './openai-strict.js';

/** One request the upstream received in scripted mode, and what became of its connection. */
export interface UpstreamCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as JSON (undefined when it was not JSON) and as it came. */
  body: any;
  rawBody: string;
  /** `Date.now()` when the request was complete, and when its response (or connection) closed. */
  receivedAt: number;
  closedAt?: number;
  /** Resolves with `closedAt`. */
  closed: Promise<number>;
  /** Stream events written before the response ended or the connection closed. */
  eventsWritten: number;
}

/** A whole answer: JSON (or a string written as is), status and headers. */
export interface ScriptedJson {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
}

/**
 * One event of a scripted stream: `data` (JSON-encoded unless a string; a string with line breaks
 * becomes several `data:` lines) with an optional `event` name, a `pause` before the next write,
 * `until`: no write before the promise settles (a gate the test opens: an order forced without a
 * timer; pending, the stream stays open without a byte, as a stall), or `raw` text written as is
 * (framing included).
 */
export type ScriptedEvent = { data: unknown; event?: string } | { pause: number } | { until: PromiseLike<unknown> } | { raw: string };
/** The events that write something. */
type WrittenEvent = Exclude<ScriptedEvent, { pause: number } | { until: PromiseLike<unknown> }>;
const written = (e: ScriptedEvent): e is WrittenEvent => !('pause' in e) && !('until' in e);

/** A server-sent-events answer, misbehaving as asked. */
export interface ScriptedStream {
  status?: number;
  headers?: Record<string, string>;
  events: ScriptedEvent[];
  /** Line ending of every field and blank line. @default 'lf' */
  lineEnding?: 'lf' | 'crlf' | 'cr';
  /**
   * How the bytes go out: one write per event (pauses, `until` gates and `eventDelayMs` apply), one byte per write,
   * or the whole stream cut at these byte offsets (a cut may fall inside a multi-byte character).
   * In the last two modes pauses and gates are ignored. @default 'events'
   */
  writes?: 'events' | 'bytes' | number[];
  /** Wait between two events (ms), in 'events' mode. */
  eventDelayMs?: number;
  /** Wait before the first byte of the body (headers go out at once). */
  firstByteDelayMs?: number;
  /** Leave off the line ending(s) after the last event: the stream stops right after its last field. */
  noFinalBlankLine?: boolean;
  /** After the last event, keep the connection open and send nothing more (a stall) instead of ending. */
  hang?: boolean;
}

export type Scripted = ScriptedJson | ScriptedStream | ((call: UpstreamCall) => ScriptedJson | ScriptedStream);

const EOL = { lf: '\n', crlf: '\r\n', cr: '\r' } as const;

/** The text of one event, framed with `eol` (fields, then the blank line). */
export function sseEventText(event: WrittenEvent, eol = '\n'): string {
  if ('raw' in event) return event.raw;
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  const fields = [...(event.event ? [`event: ${event.event}`] : []), ...data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`)];
  return `${fields.map((f) => f + eol).join('')}${eol}`;
}

/** The bytes of a whole scripted stream (pauses left out), as the upstream writes them. */
export function sseBytes(stream: Pick<ScriptedStream, 'events' | 'lineEnding' | 'noFinalBlankLine'>): Buffer {
  return Buffer.from(eventTexts(stream).join(''), 'utf8');
}

function eventTexts(stream: Pick<ScriptedStream, 'events' | 'lineEnding' | 'noFinalBlankLine'>): string[] {
  const eol = EOL[stream.lineEnding ?? 'lf'];
  const texts = stream.events.filter(written).map((e) => sseEventText(e, eol));
  if (stream.noFinalBlankLine && texts.length) texts[texts.length - 1] = texts[texts.length - 1].replace(/(\r\n|\r|\n)+$/, '');
  return texts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The non-scripted chat answer: the last user message echoed (the text of its parts, line breaks
 * kept), whole (`payload`) or as stream events of up to 6 characters (`events`, each written as it
 * is), with usage; `n` choices when `n` > 1 (a tool-calling answer too). It answers with a tool call only in tool-calling mode (`callTools`; two calls at once with
 * `parallelToolCalls`) and honours `response_format` only in follow-format mode (`followFormat`): a test that needs
 * those otherwise scripts the answer (`FakeUpstream.script`).
 */
function echoAnswer(body: any, callTools = false, followFormat = false, reasoning = false, parallelToolCalls = false): { headers: Record<string, string>; payload?: string; events?: string[] } {
  const calls = callTools ? toolCallsOf(body, parallelToolCalls ? 2 : 1) : [];
  if (calls.length) return toolCallAnswer(body, calls);
  const lastMessage = (body.messages ?? []).at(-1);
  const last = [...(body.messages ?? [])].reverse().find((m: any) => m.role === 'user');
  // Content parts: their texts, one after another (an image part adds nothing).
  const content = Array.isArray(last?.content) ? last.content.filter((p: any) => p?.type === 'text').map((p: any) => p.text).join('') : last?.content;
  const format = followFormat ? body.response_format : undefined;
  if (format?.type === 'json_schema') return textAnswer(body, JSON.stringify(instanceOf(format.json_schema?.schema, String(content ?? ''))));
  if (format?.type === 'json_object') return textAnswer(body, JSON.stringify({ echo: String(content ?? '') }));
  if (callTools && lastMessage?.role === 'tool') return textAnswer(body, `echo: ${toolResults(body.messages)}`);
  // Reasoning mode: the echo comes with a model's thinking, as vLLM's and DeepSeek's reasoning_content (whole, or streamed before the text).
  return textAnswer(body, `echo: ${content ?? ''}`, reasoning ? `The user wrote ${JSON.stringify(String(content ?? ''))}; echo it.` : undefined);
}

/**
 * The follow-format mode's answer to `response_format: json_schema` (FakeUpstream.followFormat):
 * an instance of the schema, as a model under structured outputs makes one. Every property of an
 * object (required or not, but a property left out rather than recursing forever: see below); a
 * string gets `text` (the user's last message; a sample of its `format`: date-time, date, time,
 * email, uri, uuid, ipv4, ipv6, hostname; padded or cut to `minLength`/`maxLength`), a number or
 * integer 1 (or the nearest value within `minimum`/`maximum` and their exclusive forms), a boolean
 * true, an array one item (`minItems` of them); `const` and `enum` their (first) value, `anyOf`/`oneOf`
 * their first branch that is not `null` and does not recurse, `allOf` its branches' objects merged
 * (pydantic v1 wraps a described `$ref` in one), `$ref` the JSON pointer it names in the root (`#`
 * itself, `#/$defs/X`, `#/definitions/X`: what zod and pydantic write).
 * A recursive schema (a `$ref` met again inside itself) ends where the schema lets it: an array
 * empty, an `anyOf` its `null` branch, a property not required left out; where it cannot, `text`.
 * Not honoured: `pattern` (a string is `text` whatever it asks), `multipleOf`, `uniqueItems`.
 */
function instanceOf(schema: any, text: string): unknown {
  const value = valueOf(schema, text, schema, []);
  return value === RECURSES ? text : value;
}

/** What valueOf answers for a schema that can only be met by recursing past a `$ref` already being valued. */
const RECURSES = Symbol('recurses');
/** Samples of the string formats of JSON Schema 2020-12 §7.3 that zod and pydantic write. */
const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': '2026-01-01T00:00:00Z', date: '2026-01-01', time: '00:00:00Z', duration: 'P1D', email: 'user@example.com',
  uri: 'https://example.com/', url: 'https://example.com/', uuid: '00000000-0000-4000-8000-000000000000',
  ipv4: '127.0.0.1', ipv6: '::1', hostname: 'example.com',
};

/** The schema at a `$ref`'s JSON pointer (RFC 6901) in `root`: `#` is the root; undefined when it names nothing. */
function atPointer(root: any, ref: string): any {
  if (!ref.startsWith('#')) return undefined;
  return ref.slice(1).split('/').slice(1).map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, token) => (node && typeof node === 'object' ? node[token] : undefined), root);
}

/** A number within the schema's bounds: 1, else the bound nearest it (an integer for `integer`). */
function numberWithin(schema: any, integer: boolean): number {
  const exMin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const exMax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  const lo = Math.max(schema.minimum ?? -Infinity, exMin === undefined ? -Infinity : exMin + 1);
  const hi = Math.min(schema.maximum ?? Infinity, exMax === undefined ? Infinity : exMax - 1);
  // A range narrower than the exclusive bounds' 1 (exclusiveMinimum 0, exclusiveMaximum 1): its middle.
  const n = lo > hi ? ((exMin ?? schema.minimum) + (exMax ?? schema.maximum)) / 2 : Math.min(Math.max(1, lo), hi);
  return integer && Math.ceil(n) <= hi ? Math.ceil(n) : integer ? Math.floor(n) : n;
}

/** instanceOf's walk: `refs` are the `$ref`s being valued on the way here (a cycle's guard). */
function valueOf(schema: any, text: string, root: any, refs: readonly string[]): unknown {
  if (!schema || typeof schema !== 'object') return text;
  if (typeof schema.$ref === 'string') {
    if (refs.includes(schema.$ref) || refs.length > 32) return RECURSES;
    return valueOf(atPointer(root, schema.$ref), text, root, [...refs, schema.$ref]);
  }
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    const parts = schema.allOf.map((b: any) => valueOf(b, text, root, refs));
    if (parts.includes(RECURSES)) return RECURSES;
    return parts.every((v: unknown) => v && typeof v === 'object' && !Array.isArray(v)) ? Object.assign({}, ...parts) : parts[0];
  }
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches) && branches.length) {
    const ordered = [...branches.filter((b: any) => b?.type !== 'null'), ...branches.filter((b: any) => b?.type === 'null')];
    for (const b of ordered) {
      const v = valueOf(b, text, root, refs);
      if (v !== RECURSES) return v;
    }
    return RECURSES;
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t: unknown) => t !== 'null') : schema.type;
  if (type === 'object' || schema.properties) {
    const required: string[] = Array.isArray(schema.required) ? schema.required : [];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema.properties ?? {})) {
      const value = valueOf(v, text, root, refs);
      if (value === RECURSES && required.includes(k)) return RECURSES;
      if (value !== RECURSES) out[k] = value;
    }
    return out;
  }
  if (type === 'array') {
    const item = valueOf(schema.items, text, root, refs);
    const count = Math.max(1, Number.isInteger(schema.minItems) ? schema.minItems : 1);
    if (item === RECURSES) return (schema.minItems ?? 0) > 0 ? RECURSES : [];
    return Array.from({ length: Number.isInteger(schema.maxItems) ? Math.min(count, schema.maxItems) : count }, () => item);
  }
  if (type === 'number' || type === 'integer') return numberWithin(schema, type === 'integer');
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  const sample = FORMAT_SAMPLES[schema.format] ?? text;
  const chars = [...sample];
  if (Number.isInteger(schema.maxLength) && chars.length > schema.maxLength) return chars.slice(0, schema.maxLength).join('');
  if (Number.isInteger(schema.minLength) && chars.length < schema.minLength) return sample + 'x'.repeat(schema.minLength - chars.length);
  return sample;
}

/**
 * `text` as a chat answer, whole or streamed in pieces of up to 6 characters, with usage: `n` choices
 * (index 0..n-1, each the same text; completion tokens counted for each), and with `logprobs: true`
 * each choice's `logprobs.content`, one entry per piece (the pieces are the fake's tokens) with its
 * bytes and `top_logprobs` alternatives (the piece itself first, then `<piece>~1`… less likely), whole
 * on the message's choice or each piece's on its chunk.
 */
function textAnswer(body: any, text: string, thinking?: string): { headers: Record<string, string>; payload?: string; events?: string[] } {
  const n = Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const usage = { prompt_tokens: 11, completion_tokens: 7 * n, total_tokens: 11 + 7 * n };
  const base = { id: 'up-1', created: 1, model: body.model };
  const split = (t: string) => t.match(/.{1,6}/gsu) ?? [];
  const logprob = (token: string, i = 0) => ({ token: i ? `${token}~${i}` : token, logprob: -0.01 - i, bytes: [...Buffer.from(i ? `${token}~${i}` : token)] });
  const logprobs = (tokens: string[]) => (body.logprobs === true
    ? { logprobs: { content: tokens.map((t) => ({ ...logprob(t), top_logprobs: Array.from({ length: body.top_logprobs ?? 0 }, (_, i) => logprob(t, i)) })), refusal: null } }
    : {});
  const choices = Array.from({ length: n }, (_, index) => index);
  if (body.stream) {
    const chunk = (index: number, delta: object, finish: string | null, extra = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index, delta, ...extra, finish_reason: finish }] })}\n\n`;
    const events = choices.flatMap((i) => [
      ...(thinking ? split(thinking).map((piece) => chunk(i, { reasoning_content: piece }, null)) : []),
      ...split(text).map((piece) => chunk(i, { content: piece }, null, logprobs([piece]))),
      chunk(i, {}, 'stop'),
    ]);
    events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    events.push('data: [DONE]\n\n');
    return { headers: { 'content-type': 'text/event-stream' }, events };
  }
  const message = { role: 'assistant', content: text, ...(thinking ? { reasoning_content: thinking } : {}) };
  const payload = JSON.stringify({ ...base, object: 'chat.completion', choices: choices.map((index) => ({ index, message, ...logprobs(split(text)), finish_reason: 'stop' })), usage });
  return { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }, payload };
}

/** A call the tool-calling mode answers: a function's (`arguments`, JSON) or a custom tool's (`input`, free text). */
type FakeCall = { name: string; arguments: string; input?: undefined } | { name: string; input: string; arguments?: undefined };

/** The name of a chat tool (`function.name`, or `custom.name` for a custom tool), or undefined when it is neither. */
const toolName = (t: any): string | undefined => (t?.type === 'function' ? t.function?.name : t?.type === 'custom' ? t.custom?.name : undefined);

/**
 * The tool-calling mode's calls for a request (FakeUpstream.callTools): when the request offers
 * function or custom tools, `tool_choice` is not `none` and the last message is the user's, `count` calls: the
 * tool `tool_choice` names (a function's or a custom tool's name; every call), else the first offered (of those an
 * `allowed_tools` choice lists, when it is one), the second call of
 * the second offered one if there is one (else of the first again, as a model calls one tool for two places). Each function
 * call's arguments are each required (else each declared) property of its schema, valued as the follow-format
 * mode values a schema (instanceOf: a string gets the user's last message or a sample of its format, a
 * number or integer 1 or the nearest within its bounds, a boolean true, an enum its first value, an
 * array one item, an object each of its properties, a `$ref` the definition it points at, a recursive
 * schema ended where it allows); a custom tool's call has the user's last message as its free-form `input` (its `format`
 * is not read). The request's `parallel_tool_calls` is not read: with `count` 2 the
 * fake answers two calls whatever it says, as TGI, SGLang and vLLM before October 2025 did (docs/gateway.md,
 * `parallel_tool_calls: false` is held by the gateway).
 * @param count 1 (`--tools`) or 2 (`--parallel-tool-calls`)
 * @returns the calls, in order; none when the answer is text
 */
function toolCallsOf(body: any, count: 1 | 2): FakeCall[] {
  // An allowed_tools choice (chat's `{type: 'allowed_tools', allowed_tools: {mode, tools}}`, each entry a tool's type and
  // name) limits the tools to call to those it lists, as OpenAI's models are limited.
  const allowed = body.tool_choice?.type === 'allowed_tools' ? body.tool_choice.allowed_tools?.tools : undefined;
  const tools = (body.tools ?? []).filter((t: any) => toolName(t)
    && (!Array.isArray(allowed) || allowed.some((a: any) => a?.type === t.type && toolName(a) === toolName(t))));
  const last = (body.messages ?? []).at(-1);
  if (!tools.length || body.tool_choice === 'none' || last?.role !== 'user') return [];
  const named = body.tool_choice?.function?.name ?? body.tool_choice?.custom?.name;
  const chosen = named && tools.find((t: any) => toolName(t) === named && t.type === body.tool_choice?.type);
  const text = Array.isArray(last.content) ? last.content.filter((p: any) => p?.type === 'text').map((p: any) => p.text).join('') : String(last.content ?? '');
  return (chosen ? [chosen, chosen] : [tools[0], tools[1] ?? tools[0]]).slice(0, count).map((tool: any) => (tool.type === 'custom' ? { name: tool.custom.name, input: text } : callOf(tool, text)));
}

/** A call of `tool` for the user's message `text`: its name, and its arguments from its schema (toolCallsOf). */
function callOf(tool: any, text: string): { name: string; arguments: string } {
  const schema = tool.function.parameters ?? {};
  const names: string[] = schema.required ?? Object.keys(schema.properties ?? {});
  const args: Record<string, unknown> = {};
  for (const n of names) {
    const value = valueOf(schema.properties?.[n], text, schema, []);
    // A property that only recursion could value: left out unless required (then `text`, as instanceOf).
    if (value !== RECURSES) args[n] = value;
    else if (schema.required) args[n] = text;
  }
  return { name: tool.function.name, arguments: JSON.stringify(args) };
}

/**
 * The tool-calling mode's answer to the tools' results: each `tool` message after the last assistant message, in
 * order, as `the tool answered <content>` (`; ` between two): what an agent loop sent back is seen in the answer.
 */
function toolResults(messages: any[]): string {
  const results = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) results.unshift(messages[i]);
  return results.map((m) => `the tool answered ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`).join('; ');
}

/**
 * Tool calls as OpenAI answers them: whole, or streamed (each call's id and name first, then its arguments in pieces,
 * under its `index`; a custom tool's call `{type: 'custom', custom: {name, input}}`, its input in pieces as `custom.input`),
 * finish_reason tool_calls, with usage. Their ids are call_fake_1, call_fake_2, ..., numbered after the
 * calls already in the request's messages, so no id repeats within a conversation, as OpenAI's do not: the Agents SDK's
 * sessions (SQLiteSession, OpenAIConversationsSession) keep one item per call id, and a repeated id in a later turn
 * lost that turn's call (its next request a 400 naming the unanswered call_fake_1) before 2026-12-06. With `n` > 1, `n`
 * choices, each with the calls (another choice's ids suffixed `_<choice>`); one choice whatever `n` asked before 2026-12-06.
 */
function toolCallAnswer(body: any, calls: ReadonlyArray<FakeCall>): { headers: Record<string, string>; payload?: string; events?: string[] } {
  // `n` choices, each with the calls (as textAnswer answers `n` echoes): OpenAI samples each choice apart.
  const n = Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const choices = Array.from({ length: n }, (_, index) => index);
  const usage = { prompt_tokens: 11, completion_tokens: 7 * calls.length * n, total_tokens: 11 + 7 * calls.length * n };
  const base = { id: 'up-1', created: 1, model: body.model };
  const before = (Array.isArray(body.messages) ? body.messages : []).reduce((n: number, m: any) => n + (m?.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls.length : 0), 0);
  // The first choice's ids as before (`call_fake_<k>`); another choice's calls are its own (`call_fake_<k>_<choice>`).
  const id = (index: number, choice = 0) => `call_fake_${before + index + 1}${choice ? `_${choice}` : ''}`;
  if (body.stream) {
    const chunk = (choice: number, delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: choice, delta, finish_reason: finish }] })}\n\n`;
    const events: string[] = [];
    for (const choice of choices) {
      for (const [index, call] of calls.entries()) {
        const custom = call.input !== undefined;
        const head = custom ? { index, id: id(index, choice), type: 'custom', custom: { name: call.name, input: '' } } : { index, id: id(index, choice), type: 'function', function: { name: call.name, arguments: '' } };
        events.push(chunk(choice, index === 0 ? { role: 'assistant', content: null, tool_calls: [head] } : { tool_calls: [head] }));
        for (const piece of (call.input ?? call.arguments ?? '').match(/.{1,8}/gsu) ?? []) events.push(chunk(choice, { tool_calls: [{ index, ...(custom ? { custom: { input: piece } } : { function: { arguments: piece } }) }] }));
      }
      events.push(chunk(choice, {}, 'tool_calls'));
    }
    events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`, 'data: [DONE]\n\n');
    return { headers: { 'content-type': 'text/event-stream' }, events };
  }
  const message = (choice: number) => ({
    role: 'assistant', content: null,
    tool_calls: calls.map((call, index) => (call.input !== undefined ? { id: id(index, choice), type: 'custom', custom: { name: call.name, input: call.input } } : { id: id(index, choice), type: 'function', function: { name: call.name, arguments: call.arguments } })),
  });
  const payload = JSON.stringify({ ...base, object: 'chat.completion', choices: choices.map((index) => ({ index, message: message(index), finish_reason: 'tool_calls' })), usage });
  return { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }, payload };
}

/** A request the fake cannot read: answered with OpenAI's 400 (`invalid_request_error`), its message as given. */
class BadRequest extends Error {}

/**
 * A JSON body as the fake reads it: an empty body is `{}` (as before: a GET, a bare POST); one that is not JSON is
 * OpenAI's 400 ("We could not parse the JSON body of your request").
 * @throws BadRequest
 */
function jsonOf(rawBody: string): any {
  if (!rawBody) return {};
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new BadRequest('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)');
  }
}

/**
 * An image edit's or variation's form: a body that is not multipart/form-data (none, JSON, a form without its
 * boundary) is OpenAI's 400 naming the Content-Type it got.
 * @throws BadRequest
 */
async function formOf(contentType: string | undefined, bytes: Buffer): Promise<FormData> {
  try {
    return await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(contentType ?? '') }, body: bytes }).formData();
  } catch {
    throw new BadRequest(`Invalid Content-Type header (${String(contentType ?? 'none').slice(0, 100)}), expected multipart/form-data. (HINT: If you're using curl, you can pass -F 'image=@file.png' to send a form.)`);
  }
}

/** A prompt of a text completion as the fake echoes it: a string itself, token ids written out (`[1, 2]`), null empty. */
const promptText = (prompt: unknown): string => (typeof prompt === 'string' ? prompt : prompt == null ? '' : JSON.stringify(prompt));

/**
 * The fake's answer to `POST /completions` (OpenAI's legacy text completions, `Completion`): for each prompt (a string, a
 * list of strings, a list of token ids as one prompt, a list of such lists) `n` choices of text `echo: <the prompt>`
 * (`<the prompt>echo: <the prompt>` with `echo: true`, as OpenAI puts the prompt before the completion), finish_reason
 * `stop`, indexes prompt by prompt; `logprobs` (OpenAI's legacy shape: tokens, token_logprobs, top_logprobs, text_offset)
 * when asked; usage 11 prompt tokens a prompt and 7 completion tokens a choice, as the chat echo reports. Streamed
 * (`stream: true`) as `text_completion` chunks, a last one per choice with its finish_reason, the usage chunk
 * (`choices: []`) with `stream_options.include_usage`, then `[DONE]`.
 */
export function textCompletionAnswer(body: any): { headers: Record<string, string>; payload?: string; events?: string[] } {
  const raw = body.prompt;
  const prompts = Array.isArray(raw) && raw.length > 0 && typeof raw[0] !== 'number' ? raw.map(promptText) : [promptText(raw)];
  const n = Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const texts = prompts.flatMap((p) => Array.from({ length: n }, () => `${body.echo === true ? p : ''}echo: ${p}`));
  const usage = { prompt_tokens: 11 * prompts.length, completion_tokens: 7 * texts.length, total_tokens: 11 * prompts.length + 7 * texts.length };
  const base = { id: 'up-cmpl-1', object: 'text_completion', created: 1, model: body.model };
  const split = (t: string) => t.match(/.{1,6}/gsu) ?? [];
  const logprobsOf = (pieces: string[]) => (typeof body.logprobs === 'number'
    ? { tokens: pieces, token_logprobs: pieces.map(() => -0.01), top_logprobs: pieces.map((t) => ({ [t]: -0.01 })), text_offset: pieces.map((_, i) => pieces.slice(0, i).join('').length) }
    : null);
  if (body.stream === true) {
    const chunk = (index: number, text: string, finish: string | null) => `data: ${JSON.stringify({ ...base, choices: [{ index, text, logprobs: text ? logprobsOf([text]) : null, finish_reason: finish }] })}\n\n`;
    const events = texts.flatMap((t, index) => [...split(t).map((piece) => chunk(index, piece, null)), chunk(index, '', 'stop')]);
    if (body.stream_options?.include_usage === true) events.push(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
    events.push('data: [DONE]\n\n');
    return { headers: { 'content-type': 'text/event-stream' }, events };
  }
  const payload = JSON.stringify({ ...base, choices: texts.map((text, index) => ({ index, text, logprobs: logprobsOf(split(text)), finish_reason: 'stop' })), usage });
  return { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }, payload };
}

/**
 * The fake's answer to `POST /responses/input_tokens` (OpenAI's `{object: "response.input_tokens", input_tokens}`): the
 * words (runs of letters and digits) of every string in `input` (but an item's `type`, `role`, `id`, `status`,
 * `call_id`) and `instructions`, at least 1: a count that grows
 * with the input, not OpenAI's tokenizer's.
 */
export function inputTokensAnswer(body: any): { object: 'response.input_tokens'; input_tokens: number } {
  let words = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') words += v.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
    else if (Array.isArray(v)) v.forEach(walk);
    // An item's own words (its text, a tool's arguments), not its `type`, `role`, `id` or `status`.
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!['type', 'role', 'id', 'status', 'call_id'].includes(k)) walk(x);
  };
  walk(body.input);
  walk(body.instructions);
  return { object: 'response.input_tokens', input_tokens: Math.max(1, words) };
}

/**
 * A minimal OpenAI-compatible upstream on loopback: echoes the last user message, reports usage,
 * streams SSE with a final usage chunk, and fails on demand (status, count) per model.
 *
 * Scripted mode, for the conformance suite: `script(...)` queues answers for the next requests to
 * `/chat/completions` (one each, in order; a function of the request picks its answer when it
 * comes): a JSON body with any status and headers, or a stream of events with the line ending,
 * write splitting, delays, stalls and framing faults asked for. Each scripted request is recorded
 * in `calls` with its body, headers and when its connection closed. With `scriptOnly` set, a
 * request that finds the queue empty is recorded too and answered 500, so a test sees every call.
 */
/** The 13 categories of OpenAI's omni-moderation models (`Moderation.Categories` of the `openai` package), and the input types each applies to. */
export const MODERATION_CATEGORIES: Record<string, Array<'text' | 'image'>> = {
  harassment: ['text'], 'harassment/threatening': ['text'], hate: ['text'], 'hate/threatening': ['text'],
  illicit: ['text'], 'illicit/violent': ['text'], 'self-harm': ['text', 'image'], 'self-harm/instructions': ['text', 'image'],
  'self-harm/intent': ['text', 'image'], sexual: ['text', 'image'], 'sexual/minors': ['text'], violence: ['text', 'image'], 'violence/graphic': ['text', 'image'],
};

/** A text the fake moderation flags (category `violence`): one that holds this word. */
export const FLAGGED_WORD = 'kill';

/**
 * A moderations answer in OpenAI's shape (`ModerationCreateResponse`), non-scripted mode: one result
 * per string of an array of strings, one for a string or for a list of parts together. A result is
 * flagged (`violence`, score 0.91) when its text holds FLAGGED_WORD, every other score 0.0001;
 * `category_applied_input_types` lists the input's types (text, and image when an image part came)
 * that each category applies to.
 */
export function moderationAnswer(body: { model?: string; input?: unknown }): Record<string, unknown> {
  const input = body.input;
  const items: Array<{ text: string; image: boolean }> = typeof input === 'string' ? [{ text: input, image: false }]
    : Array.isArray(input) && input.every((x) => typeof x === 'string') ? input.map((text) => ({ text, image: false }))
      : [{ text: (input as any[]).filter((p) => p?.type === 'text').map((p) => p.text).join(' '), image: (input as any[]).some((p) => p?.type === 'image_url') }];
  const results = items.map(({ text, image }) => {
    const flagged = text.includes(FLAGGED_WORD);
    const names = Object.keys(MODERATION_CATEGORIES);
    return {
      flagged,
      categories: Object.fromEntries(names.map((c) => [c, flagged && c === 'violence'])),
      category_scores: Object.fromEntries(names.map((c) => [c, flagged && c === 'violence' ? 0.91 : 0.0001])),
      category_applied_input_types: Object.fromEntries(names.map((c) => [c, MODERATION_CATEGORIES[c]!.filter((t) => (t === 'text' ? text.length > 0 || !image : image))])),
    };
  });
  return { id: 'modr-fake0001', model: body.model, results };
}

/** A 1x1 PNG (one transparent pixel), base64: the fake's generated image, small and valid. */
export const TINY_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/**
 * An image generation answer in OpenAI's shape (`ImagesResponse`), non-scripted mode: `n` (default 1) images, each
 * TINY_PNG_BASE64 as `b64_json`, or, with `response_format: "url"`, a URL the fake serves it at (`<baseUrl>/images/tiny.png`,
 * as OpenAI answers a URL to download), `created` fixed.
 * @param baseUrl the fake's `/v1` URL
 */
export function imagesAnswer(body: { n?: unknown; response_format?: unknown }, baseUrl: string): Record<string, unknown> {
  const n = typeof body.n === 'number' && body.n > 0 ? body.n : 1;
  const image = body.response_format === 'url' ? { url: `${baseUrl}/images/tiny.png` } : { b64_json: TINY_PNG_BASE64 };
  return { created: 1_700_000_000, data: Array.from({ length: n }, () => ({ ...image })) };
}

/** Width of the fake upstream's embeddings: OpenAI text-embedding-3-small's. */
export const EMBEDDING_DIMENSIONS = 1536;
/** One deterministic unit-scale vector, numbers written as a real upstream writes them (~9 significant digits). */
const FAKE_EMBEDDING = Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => Number((Math.sin(i * 12.9898) * 0.05).toPrecision(9)));

/**
 * The fixed vector `width` wide: the whole of it when `width` is `EMBEDDING_DIMENSIONS` (the bytes it
 * always answered), else its first `width` values scaled to unit length, as OpenAI shortens a
 * text-embedding-3 vector for `dimensions` (the leading values, normalised: its "Embeddings" guide,
 * "Reducing embedding dimensions").
 */
function fixedVector(width: number): number[] {
  if (width === EMBEDDING_DIMENSIONS) return FAKE_EMBEDDING;
  const head = FAKE_EMBEDDING.slice(0, width);
  const norm = Math.hypot(...head) || 1;
  return head.map((x) => Number((x / norm).toPrecision(9)));
}

/** Positions a word adds to in `wordVector`. */
const WORD_POSITIONS = 4;

/**
 * A vector of a text's words (follow-format mode), `width` floats of unit length: each lowercase word
 * (a run of letters or digits; a token id of a token-id input is a word) adds 1 at `WORD_POSITIONS`
 * positions hashed from it (FNV-1a), so texts sharing words are near by cosine and a retriever over
 * the fake ranks a document sharing the query's words first, as an embedding model ranks one sharing its
 * topic. A text without words gets the fixed vector's first `width` values.
 */
export function wordVector(input: unknown, width: number): number[] {
  const words = typeof input === 'string' ? input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [] : Array.isArray(input) ? input.map(String) : [];
  if (words.length === 0) return FAKE_EMBEDDING.slice(0, width);
  const v = new Array<number>(width).fill(0);
  for (const word of words) {
    let h = 0x811c9dc5;
    for (let k = 0; k < WORD_POSITIONS; k++) {
      for (const ch of `${k}:${word}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
      v[h % width]! += 1;
    }
  }
  const norm = Math.hypot(...v);
  return v.map((x) => Number((x / norm).toPrecision(9)));
}

export class FakeUpstream {
  readonly requests: Array<Record<string, any>> = [];
  /** Who waits in `received` for `requests` to reach a length. */
  private readonly arrivals: Array<{ count: number; arrived: () => void }> = [];

  /**
   * Resolves once `requests` holds `count` requests (read when the request's body is in, before it is
   * answered): the test's signal that a request reached the upstream, instead of polling `requests`.
   */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((arrived) => this.arrivals.push({ count, arrived }));
  }

  private noteRequest(body: Record<string, any>): void {
    this.requests.push(body);
    for (const waiter of this.arrivals.filter((w) => this.requests.length >= w.count)) {
      this.arrivals.splice(this.arrivals.indexOf(waiter), 1);
      waiter.arrived();
    }
  }
  /**
   * Misbehaving mode: a non-scripted chat answer that ignores `max_tokens`/`max_completion_tokens`:
   * `words` words ("w0 w1 …"), as text or (`toolCall`) as one tool call's arguments, whole or one
   * word an event (written one at a time, so a gateway that closes the stream early is seen in
   * `overrunStreams`), with usage (completion tokens = `words`, or `reportedCompletionTokens`: an
   * upstream whose own tokenizer counts the text otherwise) or (`usage: false`) without; streamed
   * as `reasoning_content` deltas (vLLM's and DeepSeek's thinking) with `reasoning`. One choice,
   * whatever `n` asks (it ignores that too).
   */
  ignoreLimits: { words: number; usage?: boolean; toolCall?: boolean; reportedCompletionTokens?: number; reasoning?: boolean } | undefined;
  /** Streams answered in `ignoreLimits` mode: events written before the connection closed, of how many. */
  readonly overrunStreams: Array<{ written: number; total: number }> = [];
  readonly failures = new Map<string, { status: number; times: number }>();
  delayMs = 0;
  /** Requests answered from the script (or, with `scriptOnly`, every chat request). */
  readonly calls: UpstreamCall[] = [];
  /** Answer only from the script: an unscripted chat request is recorded and gets a 500. */
  scriptOnly = false;
  /**
   * Strict mode: a chat completion or embeddings request that OpenAI's API refuses (a field it does not know, a
   * `tool_choice` without `tools`, `metadata` without `store: true`, `max_tokens` for an o-series or gpt-5 model, a
   * tool message answering no call...: openai-strict.ts, each rule with its source) is answered with OpenAI's 400,
   * instead of a scripted answer (which stays queued) or the fake's own, and recorded in `refusals` besides `requests`
   * (and `calls`, when scripted). Off, the fake
   * takes whatever comes, as a lenient OpenAI-compatible server does.
   * @default true
   */
  strict = true;
  /** Requests the strict mode refused: path, body, and the error answered. */
  readonly refusals: Array<{ path: string; body: unknown; error: OpenAiRefusal['error'] }> = [];
  /**
   * Tool-calling mode, for trying agents locally (fake-upstream-main.ts --tools): a non-scripted
   * request that offers function or custom tools and ends with the user's message is answered with a call of
   * one (toolCallsOf; a custom tool's input is the user's message); one that ends with a `tool` message with "echo: the tool answered <its content>".
   * @default false (text only: the echo)
   */
  callTools = false;
  /**
   * With `callTools`, two calls in one answer (toolCallsOf: the first two tools offered, or the one offered, or the one
   * `tool_choice` names, twice), whatever the request's `parallel_tool_calls` says, as an upstream that ignores it answers
   * (fake-upstream-main.ts --parallel-tool-calls): to see the gateway keep only the first under `parallel_tool_calls: false`.
   * @default false (one call)
   */
  parallelToolCalls = false;
  /**
   * Follow-format mode, for trying structured output and embeddings frameworks locally
   * (fake-upstream-main.ts --follow-format): a non-scripted chat request with `response_format`
   * `json_schema` is answered with an instance of the schema (instanceOf), one with `json_object`
   * with `{"echo": <the user's last message>}`; an embeddings request gets a vector of each input's
   * words (wordVector: texts sharing words are near, so a retriever's ranking means something),
   * `dimensions` wide when it asks. Without it the fake echoes text whatever `response_format` asks and answers
   * every text with the same fixed vector, shortened to `dimensions` when asked (fixedVector). An upstream
   * that ignores `dimensions` (TEI) is scripted by the conformance tests.
   * @default false
   */
  followFormat = false;
  /**
   * Reasoning mode, for trying /v1/responses' reasoning items locally (fake-upstream-main.ts --reasoning): the
   * non-scripted text answer (the echo) comes with `reasoning_content` ("The user wrote \"…\"; echo it."), on the
   * message or as deltas before the text, as vLLM's reasoning parsers and DeepSeek answer.
   * @default false
   */
  reasoning = false;
  /** The audio requests received (speech, transcriptions, translations), and image edits and variations, their bodies as bytes. */
  readonly audioCalls: AudioCall[] = [];
  /** The `Authorization` header of every request received, in order (`''` when absent): whose key called. */
  readonly authorizations: string[] = [];
  /**
   * API keys the fake refuses, as OpenAI refuses a wrong or revoked key: a request whose `Authorization` is `Bearer <key>`
   * for one of them gets OpenAI's 401 (`invalid_request_error`, `invalid_api_key`, the message quoting the key's start
   * and end as OpenAI's does), whatever its path, recorded in `authorizations` only. Kept across `reset`.
   */
  readonly refusedKeys = new Set<string>();
  /**
   * Answers for the next audio requests, in order, each writing the whole answer itself (status, headers, bytes as
   * it likes: a JSON error with status 200, no Content-Type...); an audio request finding none is answered as OpenAI
   * does (fake-audio.ts).
   */
  readonly audioScript: Array<(call: AudioCall, res: ServerResponse) => void> = [];
  private readonly queue: Scripted[] = [];
  private server!: Server;
  url = '';

  /** Queues answers for the next chat requests, in order. */
  script(...responses: Scripted[]): this {
    this.queue.push(...responses);
    return this;
  }

  /**
   * Answers a non-scripted request whose path and body were seen before with the bytes
   * answered then, without parsing it again nor recording it in `requests` (the gateway
   * benchmark's upstream: its own CPU per request shares the machine with the gateways it
   * measures). Only while no failure or delay is set. @default false
   */
  memoize = false;
  private readonly answers = new Map<string, { headers: Record<string, string>; payload: string }>();

  private memo(key: string, answer: { headers: Record<string, string>; payload?: string; events?: string[] }): void {
    if (this.answers.size >= 1_000) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, { headers: answer.headers, payload: answer.payload ?? answer.events!.join('') });
  }

  /** Scripted answers not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  /** Forgets queued answers, recorded calls and requests (between tests). */
  reset(): void {
    this.queue.length = 0;
    this.calls.length = 0;
    this.requests.length = 0;
    this.audioCalls.length = 0;
    this.audioScript.length = 0;
    this.failures.clear();
    this.delayMs = 0;
    this.ignoreLimits = undefined;
    this.overrunStreams.length = 0;
    this.refusals.length = 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.authorizations.push(req.headers.authorization ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => void this.answer(req.method ?? 'POST', req.url ?? '/', req.headers, chunks, res).catch((e: unknown) => {
        // A request the fake cannot read (a body that is not JSON, a form that is not multipart) is OpenAI's 400; anything
        // else the fake did not expect is a 500 in OpenAI's shape. Either way the fake answers and goes on serving.
        const bad = e instanceof BadRequest;
        if (!bad) process.stderr.write(`fake upstream: ${req.method} ${req.url} failed: ${e instanceof Error ? e.stack : String(e)}\n`);
        const error = { message: bad ? e.message : `the fake upstream failed on ${req.method} ${req.url}: ${e instanceof Error ? e.message : String(e)}`, type: bad ? 'invalid_request_error' : 'server_error', param: null, code: null };
        if (!res.headersSent) res.writeHead(bad ? 400 : 500, { 'content-type': 'application/json' });
        if (!res.writableEnded) res.end(JSON.stringify({ error }));
      }));
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
    return this;
  }

  /**
   * One request, its body in: the paths the fake serves (OpenAI's: `/chat/completions`, `/completions`,
   * `/responses/input_tokens`, `/embeddings`, `/moderations`, `/images/generations|edits|variations`, `/audio/*`,
   * `GET /models`, and the image it links, `GET /images/tiny.png`), a scripted answer for any path when one is queued,
   * and OpenAI's 404 "Invalid URL (POST /v1/x)" for every other path.
   * @throws BadRequest for a body it cannot read (not JSON; an image form that is not multipart/form-data)
   */
  private async answer(method: string, url: string, headers: IncomingHttpHeaders, chunks: Buffer[], res: ServerResponse): Promise<void> {
    const req = { method, url, headers };
    const route = url.split('?')[0]!;
    const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.refusedKeys.has(bearer)) {
      const error = { message: `Incorrect API key provided: ${bearer.slice(0, 7)}***${bearer.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' };
      return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
    }
    if (req.method === 'GET' && req.url?.endsWith('/images/tiny.png')) return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from(TINY_PNG_BASE64, 'base64'));
    if (req.url?.endsWith('/models')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'default', object: 'model' }] }));
    // OpenAI's audio endpoints (fake-audio.ts): recorded as bytes, answered as OpenAI does.
    // OpenAI's image edits and variations (multipart/form-data) too: recorded as bytes, answered as generations' (imagesAnswer of the form's n and response_format).
    if (req.url && (req.url.includes('/audio/') || /\/images\/(edits|variations)$/.test(req.url))) {
      const bytes = Buffer.concat(chunks);
      this.audioCalls.push({ path: req.url, headers: req.headers, bytes });
      const scriptedAudio = this.audioScript.shift();
      if (scriptedAudio) return void scriptedAudio(this.audioCalls.at(-1)!, res);
      if (req.url.includes('/images/')) {
        const form = await formOf(req.headers['content-type'], bytes);
        const answer = imagesAnswer({ n: form.has('n') ? Number(form.get('n')) : undefined, response_format: form.get('response_format') ?? undefined }, this.url);
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      }
      return void (await answerAudio(req.url, req.headers, bytes, res));
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const scripted = this.queue.length > 0 || this.scriptOnly;
    const known = !scripted && this.memoize && !this.failures.size && !this.delayMs ? this.answers.get(`${req.url}\n${rawBody}`) : undefined;
    if (known) return void res.writeHead(200, known.headers).end(known.payload);
    // Strict mode: what OpenAI refuses gets OpenAI's 400 instead of a script's or the fake's answer (openai-strict.ts);
    // the request is recorded as any other (in `calls` when scripted, in `requests`), so a test sees it reached the upstream.
    const refused = this.strict ? openAiRefusal(req.method ?? 'POST', req.url ?? '/', rawBody) : undefined;
    if (refused) {
      // A refusal is of a JSON body (openAiRefusal reads none other).
      const body = JSON.parse(rawBody);
      this.refusals.push({ path: req.url ?? '/', body, error: refused.error });
      if (scripted) return void this.scripted(req.method ?? 'POST', req.url ?? '/', req.headers, rawBody, res, refused);
      this.noteRequest(body);
      return void res.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: refused.error }));
    }
    if (scripted) return void this.scripted(req.method ?? 'POST', req.url ?? '/', req.headers, rawBody, res);
    const kind = route.endsWith('/chat/completions') ? 'chat' : route.endsWith('/completions') ? 'text' : route.endsWith('/responses/input_tokens') ? 'count'
      : route.endsWith('/embeddings') || route.endsWith('/moderations') || route.endsWith('/images/generations') ? 'other' : undefined;
    // A path the fake does not serve: OpenAI's 404 naming it, never a chat completion the gateway would find no answer in.
    if (!kind) return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Invalid URL (${req.method} ${route}): the fake upstream does not serve this path`, type: 'invalid_request_error', param: null, code: null } }));
    const body = jsonOf(rawBody);
    this.noteRequest(body);
    const failure = this.failures.get(body.model);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return void res.writeHead(failure.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error' } }));
    }
    if (req.url?.endsWith('/embeddings')) return void (await this.embeddings(body, res, `${req.url}\n${rawBody}`));
    if (req.url?.endsWith('/moderations')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(moderationAnswer(body)));
    if (req.url?.endsWith('/images/generations')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(imagesAnswer(body, this.url)));
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (kind === 'count') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(inputTokensAnswer(body)));
    if (kind === 'text') {
      const text = textCompletionAnswer(body);
      if (text.events) {
        res.writeHead(200, text.headers);
        for (const event of text.events.slice(0, -1)) res.write(event);
        return void res.end(text.events.at(-1));
      }
      return void res.writeHead(200, text.headers).end(text.payload);
    }
    if (this.ignoreLimits) return void (await this.overrun(body, this.ignoreLimits, res));
    const answer = echoAnswer(body, this.callTools, this.followFormat, this.reasoning, this.parallelToolCalls);
    if (this.memoize && !this.failures.size) this.memo(`${req.url}\n${rawBody}`, answer);
    if (answer.events) {
      res.writeHead(200, answer.headers);
      for (const event of answer.events.slice(0, -1)) res.write(event);
      return void res.end(answer.events.at(-1));
    }
    res.writeHead(200, answer.headers).end(answer.payload);
  }

  /** The `ignoreLimits` answer (see there). */
  private async overrun(body: any, mode: NonNullable<FakeUpstream['ignoreLimits']>, res: ServerResponse): Promise<void> {
    const words = Array.from({ length: mode.words }, (_, i) => `w${i}`);
    const completion = mode.reportedCompletionTokens ?? mode.words;
    const usage = mode.usage === false ? {} : { usage: { prompt_tokens: 11, completion_tokens: completion, total_tokens: 11 + completion } };
    const base = { id: 'up-over', created: 1, model: body.model };
    const finish = mode.toolCall ? 'tool_calls' : 'stop';
    if (!body.stream) {
      const message = mode.toolCall
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: JSON.stringify({ text: words.join(' ') }) } }] }
        : { role: 'assistant', content: words.join(' ') };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish }], ...usage }));
    }
    const delta = (i: number) => (mode.toolCall
      ? { tool_calls: [{ index: 0, ...(i === 0 ? { id: 'call_1', type: 'function' } : {}), function: { ...(i === 0 ? { name: 'f' } : {}), arguments: `${i === 0 ? '{"text":"' : ' '}${words[i]}` } }] }
      : { [mode.reasoning ? 'reasoning_content' : 'content']: `${i === 0 ? '' : ' '}${words[i]}` });
    const events = words.map((_, i) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: delta(i), finish_reason: null }] })}\n\n`);
    events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: mode.toolCall ? { tool_calls: [{ index: 0, function: { arguments: '"}' } }] } : {}, finish_reason: finish }] })}\n\n`);
    if (mode.usage !== false) events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], ...usage })}\n\n`);
    events.push('data: [DONE]\n\n');
    const record = { written: 0, total: events.length };
    this.overrunStreams.push(record);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let closed = false;
    res.on('close', () => (closed = true));
    for (const event of events) {
      if (closed) return;
      res.write(event);
      record.written += 1;
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  }

  /**
   * An embeddings answer (non-scripted mode): one float vector per input, as floats whatever
   * `encoding_format` asked (TEI's way), usage 8 tokens per input: the same fixed vector for every
   * input (fixedVector); in follow-format mode, a vector of each input's words (wordVector). Both
   * `EMBEDDING_DIMENSIONS` wide, or `dimensions` wide when the request asks, as OpenAI's
   * text-embedding-3 models honour it; a `dimensions` over `EMBEDDING_DIMENSIONS` (or not a positive
   * whole number) is a 400 naming it, as OpenAI refuses one over the model's width.
   */
  private async embeddings(body: { model?: string; input?: unknown; dimensions?: unknown }, res: ServerResponse, key?: string): Promise<void> {
    if (this.delayMs) await sleep(this.delayMs);
    const inputs = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
    const asked = body.dimensions ?? undefined;
    if (asked !== undefined && !(Number.isInteger(asked) && (asked as number) >= 1 && (asked as number) <= EMBEDDING_DIMENSIONS)) {
      const error = { message: `Invalid 'dimensions': ${JSON.stringify(asked)}. The fake upstream's embeddings are ${EMBEDDING_DIMENSIONS} wide (text-embedding-3-small's): ask a whole number from 1 to ${EMBEDDING_DIMENSIONS}.`, type: 'invalid_request_error', param: 'dimensions', code: 'invalid_value' };
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
    }
    const width = (asked as number | undefined) ?? EMBEDDING_DIMENSIONS;
    const fixed = this.followFormat ? undefined : fixedVector(width);
    const embeddingOf = (input: unknown) => fixed ?? wordVector(input, width);
    const payload = JSON.stringify({ object: 'list', model: body.model, data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: embeddingOf(input) })), usage: { prompt_tokens: 8 * inputs.length, total_tokens: 8 * inputs.length } });
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
    if (this.memoize && !this.failures.size && key !== undefined) this.memo(key, { headers, payload });
    res.writeHead(200, headers).end(payload);
  }

  /** A scripted request, recorded in `calls`: answered with the next scripted answer, or with `refused` (strict mode) leaving the script as it is. */
  private async scripted(method: string, path: string, headers: IncomingHttpHeaders, rawBody: string, res: ServerResponse, refused?: OpenAiRefusal): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    let resolveClosed!: (at: number) => void;
    const call: UpstreamCall = { method, path, headers, body, rawBody, receivedAt: Date.now(), closed: new Promise((r) => (resolveClosed = r)), eventsWritten: 0 };
    res.once('close', () => {
      call.closedAt = Date.now();
      resolveClosed(call.closedAt);
    });
    this.calls.push(call);
    if (body && typeof body === 'object') this.noteRequest(body as Record<string, any>);
    const next = refused ? { status: refused.status, body: { error: refused.error } } : this.queue.shift();
    const answer: ScriptedJson | ScriptedStream = next === undefined
      ? { status: 500, body: { error: { message: 'the fake upstream has no scripted answer for this request', type: 'server_error', code: 'unscripted' } } }
      : typeof next === 'function' ? next(call) : next;
    const open = () => !res.destroyed && !res.writableEnded;
    if (!('events' in answer)) {
      if (answer.delayMs) await sleep(answer.delayMs);
      if (!open()) return;
      const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...answer.headers }).end(payload);
      return;
    }
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...answer.headers });
    res.flushHeaders();
    if (answer.firstByteDelayMs) await sleep(answer.firstByteDelayMs);
    const writes = answer.writes ?? 'events';
    if (writes === 'events') {
      const eol = EOL[answer.lineEnding ?? 'lf'];
      const last = answer.events.reduce((at, e, i) => (written(e) ? i : at), -1);
      let first = true;
      for (const [i, event] of answer.events.entries()) {
        if ('pause' in event) {
          await sleep(event.pause);
          continue;
        }
        if ('until' in event) {
          await event.until;
          continue;
        }
        if (!first && answer.eventDelayMs) await sleep(answer.eventDelayMs);
        first = false;
        if (!open()) return;
        let text = sseEventText(event, eol);
        if (i === last && answer.noFinalBlankLine) text = text.replace(/(\r\n|\r|\n)+$/, '');
        res.write(text);
        call.eventsWritten += 1;
      }
    } else {
      const bytes = sseBytes(answer);
      const cuts = writes === 'bytes' ? Array.from({ length: bytes.length - 1 }, (_, i) => i + 1) : [...writes].sort((a, b) => a - b);
      let start = 0;
      for (const end of [...cuts, bytes.length]) {
        if (!open()) return;
        if (end > start) res.write(bytes.subarray(start, end));
        start = Math.max(start, end);
        // Let the bytes leave before the next write, so that the reader sees them apart.
        await new Promise((r) => setImmediate(r));
      }
      call.eventsWritten = answer.events.filter(written).length;
    }
    if (answer.hang || !open()) return;
    res.end();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
