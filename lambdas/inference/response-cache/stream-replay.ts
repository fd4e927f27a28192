import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { rederivedItemIds } from '../responses/ids.js';

/**
 * A streamed answer as the response cache keeps it (request-cache.ts `keep`): the JSON array of the stream's events in
 * the order they went out, each the object of one `data:` line (a ChatCompletionChunk, or a Responses API
 * ResponseStreamEvent, whose `type` is also its SSE `event:` name). Only a stream that ended whole is kept (the
 * endpoints: every choice finished, no error event, the caller still there), so no error event and no `[DONE]` is in it:
 * the replay ends as the stream did (`data: [DONE]` for chat completions, nothing after `response.completed` for the
 * Responses API, as OpenAI's streams end).
 */
export type CachedStream = ReadonlyArray<Record<string, unknown>>;

/** Records the events of a stream as it goes out, for the cache (`body()` the CachedStream's JSON). */
export class StreamRecorder {
  private readonly events: string[] = [];

  /** Notes one event, as its `data:` line's JSON. */
  add(event: unknown): void {
    this.events.push(JSON.stringify(event));
  }

  /** How many events were noted. */
  get size(): number {
    return this.events.length;
  }

  /** The events noted, as the cache keeps them (a CachedStream's JSON). */
  body(): string {
    return `[${this.events.join(',')}]`;
  }
}

/** Whether every choice a chat stream's chunks opened got its `finish_reason` (a stream cut short is never kept). */
export function chatStreamFinished(body: string): boolean {
  const open = new Set<number>();
  const finished = new Set<number>();
  for (const chunk of JSON.parse(body) as ChatCompletionChunk[]) {
    for (const c of chunk.choices ?? []) {
      open.add(c.index);
      if (c.finish_reason) finished.add(c.index);
    }
  }
  return open.size > 0 && [...open].every((i) => finished.has(i));
}

/**
 * The SSE text of a cached chat completions stream, as OpenAI streams it: one `data: <chunk>` event per chunk, each
 * with `id` this request's (as a whole HIT's chat completion has: the `x-request-id`), the rest as kept (`created`,
 * `model`, the role chunk, the content and tool call deltas with their ids, the finish chunk, the usage chunk when
 * `stream_options.include_usage` asked for it), then `data: [DONE]`.
 * @param body a CachedStream's JSON of ChatCompletionChunks
 * @param id the HIT's request id
 */
export function chatStreamEvents(body: string, id: string): string[] {
  const chunks = JSON.parse(body) as ChatCompletionChunk[];
  return [...chunks.map((chunk) => `data: ${JSON.stringify({ ...chunk, id })}\n\n`), 'data: [DONE]\n\n'];
}

/**
 * The SSE text of a cached Responses API stream, as OpenAI streams it: `event: <type>` and `data: <event>` per event,
 * `sequence_number`s as kept; the Response the lifecycle events carry (`response.created`,
 * `response.in_progress`, `response.completed`, `response.incomplete`) has `id` this request's response id (as a
 * whole HIT's Response has), and the item ids (`item.id`, `item_id`, the Response's `output[].id`) are derived from it
 * (ids.ts rederivedItemIds), never naming the response that was kept.
 * @param body a CachedStream's JSON of ResponseStreamEvents
 * @param responseId the HIT's response id (`resp_…`)
 */
export function responseStreamEvents(body: string, responseId: string): string[] {
  const events = JSON.parse(body) as Array<ResponseStreamEvent & { response?: Record<string, unknown> }>;
  // The kept Response's id, which its items' ids were derived from (ids.ts): derived from this request's instead.
  const kept = events.find((e) => e.response && typeof e.response.id === 'string')?.response!.id as string | undefined;
  return events.map((event) => {
    const e = kept === undefined ? event : rederivedItemIds(event, kept, responseId);
    const out = e.response && typeof e.response === 'object' ? { ...e, response: { ...e.response, id: responseId } } : e;
    return `event: ${e.type}\ndata: ${JSON.stringify(out)}\n\n`;
  });
}

/**
 * The body of a whole Responses API HIT: the kept Response under this request's response id, its items' ids derived
 * from that id (ids.ts rederivedItemIds), as a fresh answer's are; the rest as kept.
 * @param body the kept Response's JSON
 * @param responseId the HIT's response id (`resp_…`)
 */
export function cachedResponseOf(body: string, responseId: string): Response {
  const kept = JSON.parse(body) as Response;
  return { ...rederivedItemIds(kept, kept.id, responseId), id: responseId };
}

/** Whether a Responses API stream ended with its Response answered (`response.completed` or `response.incomplete`). */
export function responseStreamFinished(body: string): boolean {
  const events = JSON.parse(body) as ResponseStreamEvent[];
  const last = events[events.length - 1]?.type;
  return last === 'response.completed' || last === 'response.incomplete';
}
