import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseFileSearchToolCall } from 'openai/resources/responses/responses';
import { refuseIntegerOutOfRange } from '../openai-issues.js';
import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, unknownParameter } from '../openai-errors.js';
import { checkFilter } from '../vector-stores/filters.js';
import type { VectorFilter } from '../vector-stores/vector-index.js';
import { newId } from './ids.js';

type Item = Record<string, any>;

/**
 * The Responses API's hosted `file_search` tool (openai `FileSearchTool`) as the gateway runs it: the model is offered a
 * function tool of this name (FILE_SEARCH_FUNCTION), a call of it is searched in the request's vector stores
 * (vector-stores/service.ts searchForTool) and answered with the results, and the Response shows the call as a
 * `file_search_call` item (openai `ResponseFileSearchToolCall`).
 */
export const FILE_SEARCH_NAME = 'file_search';

/**
 * Vector stores one `file_search` tool may name: OpenAI's Responses API refuses more than 2 ("array too long. Expected
 * an array with maximum length 2"; its file search guide: a search covers at most two vector stores).
 */
export const MAX_VECTOR_STORES = 2;
/** `max_num_results` (openai `FileSearchTool.max_num_results`: "between 1 and 50 inclusive"), default 10 as the search endpoint's. */
export const MAX_RESULTS = { min: 1, max: 50, default: 10 } as const;
/**
 * File searches one response runs when `max_tool_calls` does not say (OpenAI: "the maximum number of total calls to
 * built-in tools that can be processed in a response"): each is an embeddings call and a model call more, so the loop is
 * bounded; once it is reached the model is asked to answer without the tool.
 */
export const DEFAULT_MAX_SEARCHES = 4;

/** A `file_search` tool as the request sent it, checked. */
export interface FileSearchSpec {
  /** Its index in `tools`. */
  index: number;
  vectorStoreIds: string[];
  maxResults: number;
  filter?: VectorFilter;
  /** `ranking_options.score_threshold` (0-1) @default 0 */
  scoreThreshold: number;
}

const quoted = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 100);

/**
 * The request's `file_search` tool, checked, or undefined when it has none.
 * @throws GatewayError 400 naming the field and the value: `tools[i].vector_store_ids` missing, empty, longer than
 *   MAX_VECTOR_STORES or not strings; `tools[i].max_num_results` outside 1-50; `tools[i].filters…` (checkFilter);
 *   `tools[i].ranking_options.*` (ranker other than `auto`, hybrid_search, score_threshold outside 0-1); a second
 *   `file_search` tool (`tools[i].type`); an unknown field of the tool
 */
export function fileSearchSpecOf(tools: Item[] | null | undefined): FileSearchSpec | undefined {
  let spec: FileSearchSpec | undefined;
  (tools ?? []).forEach((t, index) => {
    if (t?.type !== 'file_search') return;
    const path = `tools[${index}]`;
    if (spec) throw invalid(`${path}.type: only one file_search tool can be given (tools[${spec.index}] is one); name every vector store in its vector_store_ids`, `${path}.type`, 'invalid_value');
    const extra = Object.keys(t).find((k) => !['type', 'vector_store_ids', 'max_num_results', 'filters', 'ranking_options'].includes(k));
    if (extra) throw unknownParameter(`${path}.${shownKey(extra)}`, 'A file_search tool takes vector_store_ids, max_num_results, filters, ranking_options');
    const ids = t.vector_store_ids;
    if (ids === undefined || ids === null) throw invalid(`Missing required parameter: '${path}.vector_store_ids' (the vector stores to search, 1 to ${MAX_VECTOR_STORES} ids)`, `${path}.vector_store_ids`, 'missing_required_parameter');
    if (!Array.isArray(ids)) throw invalid(`Invalid type for '${path}.vector_store_ids': expected an array of vector store ids (vs_…), but got ${quoted(ids)}`, `${path}.vector_store_ids`, 'invalid_type');
    if (ids.length === 0) throw invalid(`Invalid '${path}.vector_store_ids': empty array. Expected an array with minimum length 1, but got an empty array instead.`, `${path}.vector_store_ids`, 'empty_array');
    if (ids.length > MAX_VECTOR_STORES) throw invalid(`Invalid '${path}.vector_store_ids': array too long. Expected an array with maximum length ${MAX_VECTOR_STORES}, but got an array with length ${ids.length} instead.`, `${path}.vector_store_ids`, 'array_above_max_length');
    ids.forEach((id, j) => {
      if (typeof id !== 'string' || !id) throw invalid(`Invalid type for '${path}.vector_store_ids[${j}]': expected a vector store id (vs_…), but got ${quoted(id)}`, `${path}.vector_store_ids[${j}]`, 'invalid_type');
    });
    const max = t.max_num_results ?? MAX_RESULTS.default;
    refuseIntegerOutOfRange(`${path}.max_num_results`, max, MAX_RESULTS);
    if (typeof max !== 'number' || !Number.isInteger(max) || max < MAX_RESULTS.min || max > MAX_RESULTS.max) {
      throw invalid(`Invalid '${path}.max_num_results': ${quoted(max)} must be an integer from ${MAX_RESULTS.min} to ${MAX_RESULTS.max}`, `${path}.max_num_results`, 'invalid_value');
    }
    const filter = t.filters == null ? undefined : checkFilter(t.filters, `${path}.filters`);
    let scoreThreshold = 0;
    const r = t.ranking_options;
    if (r != null) {
      if (typeof r !== 'object' || Array.isArray(r)) throw invalid(`Invalid type for '${path}.ranking_options': expected an object {ranker, score_threshold}, but got ${quoted(r)}`, `${path}.ranking_options`, 'invalid_type');
      const unknown = Object.keys(r).find((k) => k !== 'ranker' && k !== 'score_threshold' && k !== 'hybrid_search');
      if (unknown) throw unknownParameter(`${path}.ranking_options.${shownKey(unknown)}`, 'A file_search tool\'s ranking_options takes ranker, score_threshold, hybrid_search');
      if (r.ranker != null && r.ranker !== 'auto') throw invalid(`${path}.ranking_options.ranker ${quoted(r.ranker)} is not supported: this gateway ranks by cosine similarity of the embeddings only ("auto")`, `${path}.ranking_options.ranker`, 'unsupported_value');
      if (r.hybrid_search != null) throw invalid(`${path}.ranking_options.hybrid_search is not supported: this gateway's search is semantic only (no keyword index to fuse); leave it out`, `${path}.ranking_options.hybrid_search`, 'unsupported_parameter');
      if (r.score_threshold != null) {
        if (typeof r.score_threshold !== 'number' || r.score_threshold < 0 || r.score_threshold > 1) throw invalid(`Invalid '${path}.ranking_options.score_threshold': ${quoted(r.score_threshold)} must be a number from 0 to 1`, `${path}.ranking_options.score_threshold`, 'invalid_value');
        scoreThreshold = r.score_threshold;
      }
    }
    spec = { index, vectorStoreIds: ids as string[], maxResults: max, ...(filter ? { filter } : {}), scoreThreshold };
  });
  return spec;
}

/**
 * The function tool the model is offered for `file_search`: `{queries: string[]}` in, the results (a text) out.
 */
export const FILE_SEARCH_FUNCTION: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: FILE_SEARCH_NAME,
    description: "Searches the user's uploaded files (vector stores) for passages relevant to the queries, and returns them with their file names. Use it to answer questions the files may answer.",
    parameters: {
      type: 'object',
      properties: { queries: { type: 'array', items: { type: 'string' }, description: 'One or more search queries, each a short phrase or question.' } },
      required: ['queries'],
      additionalProperties: false,
    },
  },
};

/**
 * The queries of a model's call of the search function: its `queries` (strings), or a single `query`; at most 10 (the
 * search endpoint's bound). A call that names none (arguments not JSON, no strings) is undefined: answered as a tool
 * error, not searched.
 */
export function queriesOf(args: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return undefined;
  }
  const o = (parsed ?? {}) as Item;
  const list = Array.isArray(o.queries) ? o.queries : typeof o.queries === 'string' ? [o.queries] : typeof o.query === 'string' ? [o.query] : [];
  const queries = list.filter((q: unknown): q is string => typeof q === 'string' && q.trim() !== '').slice(0, 10);
  return queries.length ? queries : undefined;
}

/** One search result as the Response's `file_search_call.results[]` has it. */
export type FileSearchResult = ResponseFileSearchToolCall.Result & { file_id: string; filename: string; score: number; text: string };

/** The marker the model is asked to cite source `n` of a response's searches with: `【n】` (full-width brackets: rare in ordinary text). */
export const citationMarker = (n: number) => `\u3010${n}\u3011`;
const MARKERS = /\u3010(\d{1,4})\u3011/g;

/**
 * The results as the model is given them (the tool message's content): each as a numbered source with its file name,
 * id and, with `cite`, the marker to cite it with (citationMarker), then its text; then, with `cite`, how to cite; or a
 * line saying nothing was found.
 * @param first the number of the first result: a response's searches number their results on from the previous
 *   search's (so a marker names one source of the response) @default 1
 * @param cite whether the sources carry markers the answer is to cite (an earlier turn's results, given as context, do
 *   not: their numbers are not this response's) @default true
 */
export function resultsForModel(results: FileSearchResult[], first = 1, cite = true): string {
  if (!results.length) return 'No passages of the files matched the queries.';
  const sources = results.map((r, i) => `<source index="${first + i}"${cite ? ` marker="${citationMarker(first + i)}"` : ''} filename=${JSON.stringify(r.filename)} file_id="${r.file_id}" score="${r.score.toFixed(4)}">\n${r.text}\n</source>`).join('\n');
  return cite ? `${sources}\nWhen your answer uses a source, write its marker right after the statement it supports.` : sources;
}

/** OpenAI's `file_citation` annotation of an output text (openai `ResponseOutputText.FileCitation`). */
export interface FileCitation { type: 'file_citation'; file_id: string; filename: string; index: number }

/**
 * The answer's citations: each marker `【n】` of a source of the response's searches (`sources[n - 1]`) is taken out of
 * the text and becomes a `file_citation` annotation at the place it stood, `index` counted in Unicode code points of
 * the text without the markers (OpenAI: "the index in the output text at which to insert the file citation"). A
 * marker of no source of the response (a number past them, 0) is left in the text as written: nothing is guessed.
 * @param sources the results of the response's searches, in the order they were numbered (resultsForModel's `first`)
 */
export function citedText(text: string, sources: readonly FileSearchResult[]): { text: string; annotations: FileCitation[] } {
  const annotations: FileCitation[] = [];
  let out = '';
  let points = 0;
  let from = 0;
  for (const m of text.matchAll(MARKERS)) {
    const source = sources[Number(m[1]) - 1];
    if (!source) continue;
    const before = text.slice(from, m.index);
    out += before;
    points += [...before].length;
    annotations.push({ type: 'file_citation', file_id: source.file_id, filename: source.filename, index: points });
    from = m.index + m[0].length;
  }
  return { text: out + text.slice(from), annotations };
}

/**
 * A `file_search_call` output item (id `fs_…`): completed, its queries; its results only when the request's `include`
 * asks for `file_search_call.results` (else null, as OpenAI answers).
 */
export function fileSearchCallItem(id: string, queries: string[], results: FileSearchResult[] | undefined, withResults: boolean, status: ResponseFileSearchToolCall['status'] = 'completed'): ResponseFileSearchToolCall {
  return { id, type: 'file_search_call', status, queries, results: withResults && results ? results : null };
}

/** A new `file_search_call` item id (`fs_…`, derived from the response's id as its other items': ids.ts). */
export const newFileSearchCallId = () => newId('fs');

/**
 * An input `file_search_call` item (a previous response's output sent back, or a stored one referenced) as chat
 * messages: an assistant turn calling the search function with its queries, and the tool message with its results
 * (`resultsForModel`), or, when the item carries none (sent without `include: ['file_search_call.results']`), a line
 * saying they were not sent back. The call id is the item's id.
 * @throws GatewayError 400 naming `<path>.queries` when it is not a list of strings
 */
export function fileSearchCallMessages(item: Item, path: string): [ChatCompletionMessageParam, ChatCompletionMessageParam] {
  const queries = item.queries;
  if (!Array.isArray(queries) || !queries.every((q) => typeof q === 'string')) throw invalid(`${path}.queries must be a list of strings (the file_search_call's queries)`, `${path}.queries`, 'invalid_type');
  const id = typeof item.id === 'string' && item.id ? item.id : 'fs_input';
  const results = Array.isArray(item.results) ? (item.results as FileSearchResult[]) : undefined;
  return [
    { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: FILE_SEARCH_NAME, arguments: JSON.stringify({ queries }) } }] },
    { role: 'tool', tool_call_id: id, content: results ? resultsForModel(results.map((r) => ({ ...r, file_id: r.file_id ?? '', filename: r.filename ?? '', score: r.score ?? 0, text: r.text ?? '' })), 1, false) : 'The results of this earlier search were not sent back; search again if they are needed.' },
  ];
}
