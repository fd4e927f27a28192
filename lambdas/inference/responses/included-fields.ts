import { invalid } from '../openai-errors.js';
import type { StoredResponse } from '../stores/response-store.js';
import { withPartDefaults } from './item-part-defaults.js';
import type { IncludeQueryValue } from './request-fields.js';

/**
 * The `include` values whose data a response keeps only when its create asked for it (POST /v1/responses `include`):
 * `file_search_call.results` (the search results, else `results: null`: file-search.ts fileSearchCallItem) and
 * `message.output_text.logprobs` (asked of the upstream as chat `logprobs`, else never produced: chat-request.ts).
 * `message.input_image.image_url` is not one: the stored input items keep every image URL.
 */
export const KEPT_ON_REQUEST = ['file_search_call.results', 'message.output_text.logprobs'] as const;

type Item = Record<string, unknown>;

const isFileSearchCall = (item: Item) => item.type === 'file_search_call';
const outputTexts = (item: Item): Item[] =>
  item.type === 'message' && Array.isArray(item.content) ? (item.content as Item[]).filter((part) => part?.type === 'output_text') : [];

/**
 * The KEPT_ON_REQUEST values a stored response was created with: its `include` as stored, or, for a response stored
 * before it was (2026-12-05), those its output shows (a `file_search_call` with results, an output text with logprobs).
 */
export function keptIncludes(stored: Pick<StoredResponse, 'include' | 'response'>): readonly string[] {
  if (stored.include) return stored.include;
  const output = Array.isArray(stored.response.output) ? (stored.response.output as Item[]) : [];
  return [
    ...(output.some((item) => isFileSearchCall(item) && Array.isArray(item.results)) ? ['file_search_call.results'] : []),
    ...(output.some((item) => outputTexts(item).some((part) => Array.isArray(part.logprobs) && part.logprobs.length > 0)) ? ['message.output_text.logprobs'] : []),
  ];
}

/**
 * Refuses a retrieve's `include` value (`GET /v1/responses/{id}?include[]=…`) whose data the response did not keep: one
 * of KEPT_ON_REQUEST its create did not ask for, when its output has something it names (a `file_search_call`, an
 * output text). OpenAI keeps them and shows them on request; this gateway keeps only what the create asked for, so
 * the answer would lack what the caller asked for, unsaid.
 * @throws GatewayError 400 `unsupported_parameter` naming `include[i]`, the value and why
 */
export function refuseNotKept(stored: Pick<StoredResponse, 'include' | 'response' | 'responseId'>, include: readonly IncludeQueryValue[]): void {
  const kept = keptIncludes(stored);
  const output = Array.isArray(stored.response.output) ? (stored.response.output as Item[]) : [];
  for (const { value, field } of include) {
    if (kept.includes(value)) continue;
    const names = value === 'file_search_call.results' ? output.some(isFileSearchCall) : value === 'message.output_text.logprobs' ? output.some((item) => outputTexts(item).length > 0) : false;
    if (names) {
      throw invalid(`${field} '${value}': not stored by this gateway for response '${stored.responseId}', created without it (it keeps ${value === 'file_search_call.results' ? 'file_search_call results' : 'output text logprobs'} only when POST /v1/responses asks for them); ask for it at create time: include: ['${value}']`, field, 'unsupported_parameter');
    }
  }
}

/**
 * Items (a Response's `output`, a response's input items, a conversation's items) as an `include` shows them, OpenAI's
 * way: a `file_search_call`'s `results` only with `file_search_call.results` (else null), an output text's `logprobs`
 * only with `message.output_text.logprobs` (else `[]`); a message's parts with the fields OpenAI's answer types require
 * (withPartDefaults: an `input_image`'s `detail`, an `output_text`'s `annotations`). Other fields, and image URLs
 * (always kept), as they are.
 * @returns new items where one changes; the items themselves are not changed
 */
export function withIncluded<T extends Item>(items: readonly T[], include: readonly IncludeQueryValue[]): T[] {
  const asked = new Set(include.map((i) => i.value));
  return withPartDefaults(items).map((item) => {
    if (isFileSearchCall(item) && !asked.has('file_search_call.results') && item.results != null) return { ...item, results: null };
    if (!asked.has('message.output_text.logprobs') && outputTexts(item).some((part) => Array.isArray(part.logprobs) && part.logprobs.length > 0)) {
      return { ...item, content: (item.content as Item[]).map((part) => (part?.type === 'output_text' && Array.isArray(part.logprobs) ? { ...part, logprobs: [] } : part)) };
    }
    return item;
  });
}

/** A Response object as an `include` shows it: its `output` through withIncluded. */
export function responseWithIncluded(response: Record<string, unknown>, include: readonly IncludeQueryValue[]): Record<string, unknown> {
  return Array.isArray(response.output) ? { ...response, output: withIncluded(response.output as Item[], include) } : response;
}

/**
 * One replayed stream event (`GET /v1/responses/{id}?stream=true`) as an `include` shows it, the way responseWithIncluded
 * shows the Response: the Response of `response.created`, `response.in_progress`, `response.completed` (and the other
 * events that carry `response`) through responseWithIncluded; the `item` of `response.output_item.added`/`.done` through
 * withIncluded; without `message.output_text.logprobs`, the `logprobs` of `response.output_text.delta`/`.done` (OpenAI's
 * ResponseTextDeltaEvent/ResponseTextDoneEvent `logprobs: Array<Logprob>`) and of an `output_text` content `part`
 * (`response.content_part.added`/`.done`) as `[]`. The events are stored as the create streamed them, with its own
 * `include` (background-events.ts); other events and fields as they are.
 * @returns a new event where one changes; the event itself is not changed
 */
export function eventWithIncluded<T extends Item>(event: T, include: readonly IncludeQueryValue[]): T {
  let shown: Item = event;
  if (shown.response && typeof shown.response === 'object' && !Array.isArray(shown.response)) shown = { ...shown, response: responseWithIncluded(shown.response as Item, include) };
  if (shown.item && typeof shown.item === 'object' && !Array.isArray(shown.item)) {
    const [item] = withIncluded([shown.item as Item], include);
    if (item !== shown.item) shown = { ...shown, item };
  }
  if (include.some((i) => i.value === 'message.output_text.logprobs')) return shown as T;
  const part = shown.part as Item | undefined;
  if (part?.type === 'output_text' && Array.isArray(part.logprobs) && part.logprobs.length > 0) shown = { ...shown, part: { ...part, logprobs: [] } };
  if ((shown.type === 'response.output_text.delta' || shown.type === 'response.output_text.done') && Array.isArray(shown.logprobs) && shown.logprobs.length > 0) shown = { ...shown, logprobs: [] };
  return shown as T;
}
