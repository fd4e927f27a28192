import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { describeIssues } from '../../../lib/zod-issues.js';
import { argumentsAsText } from './chat-answer.js';
import { ProviderError } from './provider.js';
import { upstreamErrorFields } from './upstream-error-fields.js';

/**
 * What the gateway reads of a chunk (`ChatCompletionChunk` of the `openai` package): `choices`, each
 * with a `delta` whose `content` is a string, null or a list of parts, whose `refusal` is a string or
 * null and whose `tool_calls` are objects
 * (`index`, `id`, `function.name` and `function.arguments` fragments as strings). Loose: every other
 * field is relayed as sent. `choices` and `delta` left out or null are read as empty (some servers
 * send a usage chunk without `choices`, or a finishing choice without `delta`), and a choice's
 * `index` left out or null as its place in the list.
 */
const Fragment = z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() });
const Chunk = z.looseObject({
  choices: z.array(z.looseObject({
    index: z.number().int().nonnegative().nullish(),
    delta: z.looseObject({
      // a string, or a list of parts as some servers stream them (Mistral's thinking models)
      content: z.union([z.string(), z.array(z.looseObject({}))]).nullish(),
      refusal: z.string().nullish(),
      tool_calls: z.array(z.looseObject({ index: z.number().int().nonnegative().nullish(), id: z.string().nullish(), function: Fragment.nullish() })).nullish(),
      function_call: Fragment.nullish(),
    }).nullish(),
    finish_reason: z.string().nullish(),
  })).nullish(),
});

/**
 * OpenAI chat-completion chunks from an upstream's server-sent events, byte chunks in. Framing is
 * eventsource-parser's (the WHATWG rules: LF, CRLF or CR line ends, multi-line `data:`), and bytes
 * are decoded as UTF-8 across reads (`TextDecoder` with `stream: true`), so any split point,
 * even inside a multi-byte character, yields the same chunks.
 *
 * A comment line (`: keep-alive`) calls `onComment`, so the caller can count it as a sign of life.
 * `data: [DONE]` ends the stream. An event whose data carries `error` (OpenAI's mid-stream error,
 * also vLLM's and TGI's), or named `error`, ends it with a ProviderError holding the upstream's
 * message and code, read as an error body is (`upstreamErrorFields`: an `error` object, string or a
 * bare `message`); `error: null` on a chunk is no error (null is absent, as in every field). A
 * chunk outside the shape the gateway reads (`Chunk`) ends it too, naming the field.
 * @throws ProviderError - for an error event, data that is not JSON, or a chunk the gateway cannot read
 */
export async function* sseChunks(body: AsyncIterable<Uint8Array | string>, upstream: string, onComment?: () => void): AsyncGenerator<ChatCompletionChunk> {
  yield* sseEvents(body, upstream, toChunk, onComment);
}

/**
 * OpenAI legacy text completion chunks (`Completion` objects, `object: "text_completion"`) from an upstream's
 * server-sent events: the same framing, `[DONE]` and error events as sseChunks, each chunk relayed as the upstream
 * wrote it (no chat `delta` added); a chunk without `choices` gets `choices: []` (a usage chunk some servers send so).
 * @throws ProviderError - for an error event, data that is not JSON, or a chunk that is not an object
 */
export async function* sseTextCompletionChunks(body: AsyncIterable<Uint8Array | string>, upstream: string, onComment?: () => void): AsyncGenerator<Record<string, unknown>> {
  yield* sseEvents(body, upstream, toTextCompletionChunk, onComment);
}

/** A text completion chunk as it came (sseTextCompletionChunks). */
function toTextCompletionChunk(event: EventSourceMessage, upstream: string): Record<string, unknown> | 'done' | undefined {
  const parsed = eventData(event, upstream);
  if (parsed === 'done' || parsed === undefined) return parsed;
  if (!Array.isArray(parsed.choices)) parsed.choices = [];
  return parsed;
}

/** The events of an SSE body, each read by `read` (undefined: skipped; 'done': the end). */
async function* sseEvents<T>(body: AsyncIterable<Uint8Array | string>, upstream: string, read: (e: EventSourceMessage, upstream: string) => T | 'done' | undefined, onComment?: () => void): AsyncGenerator<T> {
  const decoder = new TextDecoder('utf-8');
  const ready: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => ready.push(e), onComment });
  for await (const bytes of body) {
    parser.feed(typeof bytes === 'string' ? bytes : decoder.decode(bytes, { stream: true }));
    while (ready.length) {
      const chunk = read(ready.shift()!, upstream);
      if (chunk === 'done') return;
      if (chunk) yield chunk;
    }
  }
  parser.feed(decoder.decode());
  parser.feed('\n\n'); // an upstream that closes without a final blank line still delivers its last event
  for (const e of ready) {
    const chunk = read(e, upstream);
    if (chunk === 'done') return;
    if (chunk) yield chunk;
  }
}

/**
 * An event's data as JSON: `undefined` for an empty one, 'done' for `[DONE]`.
 * @throws ProviderError - an error event, data that is not JSON (or not an object)
 */
function eventData(event: EventSourceMessage, upstream: string): Record<string, unknown> | 'done' | undefined {
  const data = event.data.trim();
  if (!data) return undefined;
  if (data === '[DONE]') return 'done';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new ProviderError(`${upstream} sent a stream event that is not JSON: ${data.slice(0, 120)}`, undefined, false);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProviderError(`${upstream} sent a stream event that is not a JSON object: ${data.slice(0, 120)}`, undefined, false);
  if ((parsed.error !== undefined && parsed.error !== null) || event.event === 'error') {
    const error = upstreamErrorFields(parsed);
    throw new ProviderError(error.message ?? `${upstream} sent an error event: ${data.slice(0, 300)}`, undefined, false, { type: error.type ?? 'upstream_error', code: error.code ?? 'upstream_stream_error', param: error.param ?? null });
  }
  return parsed;
}

function toChunk(event: EventSourceMessage, upstream: string): ChatCompletionChunk | 'done' | undefined {
  const parsed = eventData(event, upstream);
  if (parsed === 'done' || parsed === undefined) return parsed;
  // TGI before 3.2 streamed one tool call as an object, not a list, with its arguments as JSON
  // (huggingface/text-generation-inference#3086): mapped to OpenAI's shape.
  for (const choice of Array.isArray(parsed.choices) ? (parsed.choices as Array<{ delta?: { tool_calls?: unknown } } | null>) : []) {
    const delta = choice?.delta;
    if (!delta || typeof delta !== 'object') continue;
    if (delta.tool_calls !== null && typeof delta.tool_calls === 'object' && !Array.isArray(delta.tool_calls)) delta.tool_calls = [delta.tool_calls];
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((call) => argumentsAsText(call));
  }
  const checked = Chunk.safeParse(parsed);
  if (!checked.success) throw new ProviderError(`${upstream} sent a stream chunk the gateway cannot read: ${describeIssues(checked.error, parsed)[0].slice(0, 300)}`, undefined, false);
  if (!Array.isArray(parsed.choices)) parsed.choices = [];
  // A choice without `index` (some servers, and proxies in front of them, leave it out) is numbered by
  // its place in the chunk, as OpenAI numbers choices: the SDKs' stream helpers assemble choices by it
  // (Node: "invalid choice index: undefined"; Python: "list indices must be integers").
  (parsed.choices as Array<Record<string, unknown>>).forEach((choice, k) => {
    choice.delta ??= {};
    if (typeof choice.index !== 'number') choice.index = k;
  });
  return parsed as unknown as ChatCompletionChunk;
}
