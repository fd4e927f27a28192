import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Response, ResponseFileSearchToolCall, ResponseOutputItem } from 'openai/resources/responses/responses';
import { answerCostHeaders } from '../audit.js';
import { completeChat, runChat } from '../chat/chat-exchange.js';
import type { ChatRequestBody } from '../chat/request-schema.js';
import type { GatewayResponder } from '../gateway.js';
import { GatewayError, invalid } from '../openai-errors.js';
import type { ModelEntry } from '../../../lib/config/schema.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { citedText, DEFAULT_MAX_SEARCHES, FILE_SEARCH_NAME, fileSearchCallItem, newFileSearchCallId, queriesOf, resultsForModel, type FileSearchResult, type FileSearchSpec } from '../responses/file-search.js';
import { responseOfChat } from '../responses/response-object.js';
import { ResponseEventStream } from '../responses/stream-events.js';
import type { VectorStoreService } from '../vector-stores/service.js';

/** What a file_search turn needs besides the pipeline. */
export interface FileSearchTurn {
  spec: FileSearchSpec;
  service: VectorStoreService;
  /** The chat request the Responses request became (chatRequestOf: the search function among its tools). */
  body: ChatRequestBody;
  shell: Response;
  stream: boolean;
  /** `include` has `file_search_call.results`. */
  withResults: boolean;
  /** `max_tool_calls` @default DEFAULT_MAX_SEARCHES */
  maxSearches?: number | null;
  /** Keeps the answered Response (stored, added to the conversation) given the chat messages of the turn as the model saw them (guarded, without the system prompt and instructions). */
  keep: (response: Response, turnMessages: ChatCompletionMessageParam[]) => Promise<Response>;
  /** Messages of `body` before the conversation (the tenant's system prompt and the instructions), left out of what is kept. */
  leading: number;
  /** A reasoning item as its `response.output_item.done` carries it (ResponseEventStream's `sealed`). @default - as it is */
  sealed?: <T>(item: T) => Promise<T>;
  /**
   * Aborted when `tessera serve` stops, for a background run (runBackgroundResponse's `stopping`): no further round (model
   * call or search) starts after it; the turn fails with serverStopped's 503. @default - never stops
   */
  stopping?: AbortSignal;
}

/**
 * The failure of a `file_search` turn that `tessera serve`'s stop ended between its rounds: 503 `server_stopping`,
 * saying how far it went (its model calls and searches were made, billed and audited). A background response settles
 * `failed` with it (server_error: background.ts failureOf) and is not run again by the next serve, as a lapsed run is not.
 */
export const serverStopped = (modelCalls: number, searches: number): GatewayError => new GatewayError(503,
  `tessera serve stopped while this response ran its file_search tool, after ${modelCalls} model call${modelCalls === 1 ? '' : 's'} and ${searches} search${searches === 1 ? '' : 'es'} (billed); no further round was started, and it is not run again: create it again`,
  'server_error', 'server_stopping');

/**
 * The tool's vector stores, each the caller's tenant's and unexpired, checked before any model call.
 * @throws GatewayError 400 naming `tools[i].type` when this gateway serves no vector stores; 404 `vector_store_not_found`
 *   or 400 `vector_store_expired` naming `tools[i].vector_store_ids[j]`
 */
export async function checkFileSearch(spec: FileSearchSpec, service: VectorStoreService | undefined, tenantId: string): Promise<VectorStoreService> {
  if (!service) throw invalid(`tools[${spec.index}].type 'file_search' is not served by this gateway: it serves no vector stores (/v1/vector_stores); send function tools and run the search in your application`, `tools[${spec.index}].type`, 'unsupported_tool');
  await service.checkSearchable(tenantId, spec.vectorStoreIds, spec.vectorStoreIds.map((_, j) => `tools[${spec.index}].vector_store_ids[${j}]`));
  return service;
}

const isSearch = (t: ChatCompletionMessageToolCall) => t.type === 'function' && t.function.name === FILE_SEARCH_NAME;

/**
 * Runs a Responses turn with the hosted `file_search` tool, as OpenAI runs it: the model is called (whole, through
 * runChat/completeChat: guardrails, budgets, retries and fallbacks, metering, each call settled on its own) with the
 * search function among its tools; each call of it is searched in the tool's vector stores (the caller's embeddings
 * calls, metered and audited as a search's) and answered with the results, and the model is called again, until it
 * answers without searching. Bounded: at most `max_tool_calls` searches (default DEFAULT_MAX_SEARCHES); the call after
 * the last search is not offered the function. After the first call, a `tool_choice` that forced a call (`required`,
 * `{type:'file_search'}`) is relaxed to `auto`: the call it asked for was made. A call the model makes of the caller's
 * function tools ends the turn (the Response has those `function_call` items after the searches). The Response's output
 * is the `file_search_call` items (results only with `include: ['file_search_call.results']`), then the answer's
 * items; its usage is the model calls' summed; so are the audit record's tokens and cost, and its `detail` has
 * `fileSearchCalls` and `modelCalls`. Streamed (`stream: true`), the stream opens with the first search or the answer;
 * each search is its item's events (ResponseEventStream.fileSearchCall) as it runs, the answer's items are streamed
 * from the whole answer (one text delta). Annotations: the results are given to the model numbered across the
 * response's searches, each with a marker to cite it by (resultsForModel); the answer's markers of those sources become
 * `file_citation` annotations and are taken out of its text (withCitations). A background run's `turn.stopping`
 * (`tessera serve` stopping) is checked between rounds, before each search and each model call after the first: once
 * aborted, nothing more starts and the turn throws serverStopped (the audit record has the calls made: finishAudit).
 * @throws GatewayError 503 `server_stopping` (serverStopped) when `turn.stopping` aborted before the turn answered
 */
export async function runFileSearchTurn(pipeline: RequestPipeline, r: PipelineRequest, model: ModelEntry, res: GatewayResponder, turn: FileSearchTurn): Promise<void> {
  const { spec, service } = turn;
  const maxSearches = turn.maxSearches ?? DEFAULT_MAX_SEARCHES;
  const usage: CompletionUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const spent = { promptTokens: 0, completionTokens: 0, costUsd: 0, cachedTokens: 0, cacheWriteTokens: 0 };
  const headers = () => ({ 'x-request-id': r.audit.requestId, ...pipeline.servedRateHeaders(r), ...r.cache?.headers() });
  const { stream: _stream, stream_options: _options, ...base } = turn.body as ChatRequestBody & { stream_options?: unknown };
  let messages = base.messages as ChatCompletionMessageParam[];
  const searches: ResponseFileSearchToolCall[] = [];
  // Every result the model was given, numbered across the response's searches: what a marker of the answer cites.
  const sources: FileSearchResult[] = [];
  let out: ReturnType<GatewayResponder['stream']> | undefined;
  let events: ResponseEventStream | undefined;
  const open = async (): Promise<ResponseEventStream> => {
    if (!events) {
      out = res.stream(headers());
      events = new ResponseEventStream(turn.shell, (e) => out!.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`), turn.sealed);
      await events.start();
    }
    return events;
  };
  const detail = (r.audit.detail ??= {});
  let calls = 0;
  try {
    for (;;) {
      // Between rounds: a serve that stops starts no further model call (the first call is the run's own, as any background response's).
      if (calls > 0) stopsHere();
      const canSearch = searches.length < maxSearches;
      const body = { ...base, messages } as ChatRequestBody & Record<string, unknown>;
      if (!canSearch) withoutSearch(body);
      if (calls > 0 && body.tool_choice !== undefined && body.tool_choice !== 'none') delete body.tool_choice;
      let guarded: ChatCompletionMessageParam[] = [];
      const answer: ChatCompletion = await runChat(pipeline, r, model, body, 1, async (x) => {
        guarded = x.body.messages as ChatCompletionMessageParam[];
        return completeChat(x, r.audit.requestId);
      });
      calls++;
      addUsage(usage, answer.usage);
      spent.promptTokens += r.audit.promptTokens ?? 0;
      spent.completionTokens += r.audit.completionTokens ?? 0;
      spent.costUsd += r.audit.costUsd ?? 0;
      spent.cachedTokens += r.audit.cachedTokens ?? 0;
      spent.cacheWriteTokens += r.audit.cacheWriteTokens ?? 0;
      const choice = answer.choices[0];
      const toolCalls = (choice?.message.tool_calls ?? []) as ChatCompletionMessageToolCall[];
      const wanted = canSearch ? toolCalls.filter(isSearch).slice(0, maxSearches - searches.length) : [];
      // The turn's messages as the model saw them (guarded), after the leading system messages: what a later turn continues.
      const turnMessages = guarded.slice(turn.leading + (r.policy.gateway.systemPrompt ? 1 : 0));
      if (!wanted.length) return await answered(answer, turnMessages);
      const replies: ChatCompletionMessageParam[] = [];
      for (const call of wanted) {
        // Nor a search (its embeddings call is billed too) after the stop.
        stopsHere();
        const queries = queriesOf(call.type === 'function' ? call.function.arguments : '');
        const id = newFileSearchCallId();
        const search = async (): Promise<ResponseFileSearchToolCall & { found: FileSearchResult[] }> => {
          const found = queries ? ((await service.searchForTool(r.caller, spec.vectorStoreIds, queries, { max: spec.maxResults, threshold: spec.scoreThreshold, ...(spec.filter ? { filter: spec.filter } : {}) }, `tools[${spec.index}]`)) as FileSearchResult[]) : [];
          return { ...fileSearchCallItem(id, queries ?? [], found, turn.withResults), found };
        };
        let done: ResponseFileSearchToolCall & { found?: FileSearchResult[] };
        if (turn.stream) {
          let found: FileSearchResult[] = [];
          done = await (await open()).fileSearchCall(id, queries ?? [], async () => {
            const { found: f, ...item } = await search();
            found = f;
            return item;
          });
          done = { ...done, found };
        } else done = await search();
        const { found, ...item } = done;
        searches.push(item);
        const first = sources.length + 1;
        sources.push(...(found ?? []));
        replies.push({ role: 'tool', tool_call_id: call.id, content: queries ? resultsForModel(found ?? [], first) : 'The call named no queries: call file_search with {"queries": ["…"]}.' });
      }
      detail.fileSearchCalls = searches.length;
      // The assistant turn as the model answered it, with only the calls answered here and the caller's (which end the turn).
      const others = toolCalls.filter((t) => !isSearch(t));
      messages = [...messages, { role: 'assistant', content: choice!.message.content ?? null, tool_calls: [...wanted, ...others] } as ChatCompletionMessageParam, ...replies];
      // The caller's calls end the turn: kept after the searches and their results (a later turn answers them).
      if (others.length) {
        const searched = { role: 'assistant', content: null, tool_calls: wanted } as ChatCompletionMessageParam;
        return await answered({ ...answer, choices: [{ ...choice!, message: { ...choice!.message, content: choice!.message.content, tool_calls: others } }] }, [...turnMessages, searched, ...replies]);
      }
    }
  } catch (e) {
    if (!events || !(e instanceof GatewayError)) throw e;
    finishAudit();
    r.audit.status = e.status;
    await events.fail(e, usage);
    await out!.end();
  }

  /** The turn's end: the Response (whole, or the stream's last events), kept with the turn's messages before the answer. */
  async function answered(uncited: ChatCompletion, keptMessages: ChatCompletionMessageParam[]): Promise<void> {
    finishAudit();
    const answer = withCitations(uncited, sources);
    if (!turn.stream) {
      const whole = responseOfChat(turn.shell, answer, usage);
      const response = await turn.keep({ ...whole, output: [...searches, ...whole.output] as ResponseOutputItem[] }, keptMessages);
      return void (await res.json(200, JSON.stringify(response), { ...headers(), ...answerCostHeaders(r.audit) }));
    }
    const stream = await open();
    const choice = answer.choices[0];
    if (choice) await stream.chunk(chunkOf(answer, choice));
    await stream.finish(usage, (response) => turn.keep({ ...response, model: answer.model }, keptMessages), answer.service_tier);
    await out!.end();
  }

  /** @throws serverStopped when `turn.stopping` is aborted (the audit record's tokens and cost then the calls made: finishAudit) */
  function stopsHere(): void {
    if (!turn.stopping?.aborted) return;
    finishAudit();
    throw serverStopped(calls, searches.length);
  }

  /** The audit record's tokens and cost: every model call's, summed; `detail.modelCalls`. */
  function finishAudit(): void {
    Object.assign(r.audit, { promptTokens: spent.promptTokens, completionTokens: spent.completionTokens, costUsd: Number(spent.costUsd.toFixed(10)) });
    if (spent.cachedTokens) r.audit.cachedTokens = spent.cachedTokens;
    if (spent.cacheWriteTokens) r.audit.cacheWriteTokens = spent.cacheWriteTokens;
    detail.modelCalls = calls;
    detail.fileSearchCalls = searches.length;
  }
}

/** The request without the search function: the tool and a choice of it removed; no tools left, no tool fields. */
function withoutSearch(body: ChatRequestBody & Record<string, unknown>): void {
  const tools = ((body.tools ?? []) as Array<{ type: string; function?: { name: string } }>).filter((t) => !(t.type === 'function' && t.function?.name === FILE_SEARCH_NAME));
  const choice = body.tool_choice as { type?: string; function?: { name?: string } } | string | undefined;
  if (typeof choice === 'object' && choice?.function?.name === FILE_SEARCH_NAME) delete body.tool_choice;
  if (tools.length) {
    body.tools = tools as ChatRequestBody['tools'];
    if (choice === 'required') delete body.tool_choice;
    return;
  }
  delete body.tools;
  delete body.tool_choice;
  delete body.parallel_tool_calls;
}

function addUsage(sum: CompletionUsage, u: CompletionUsage | undefined): void {
  if (!u) return;
  sum.prompt_tokens += u.prompt_tokens;
  sum.completion_tokens += u.completion_tokens;
  sum.total_tokens += u.total_tokens;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  if (reasoning) sum.completion_tokens_details = { reasoning_tokens: (sum.completion_tokens_details?.reasoning_tokens ?? 0) + reasoning };
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (cached) sum.prompt_tokens_details = { cached_tokens: (sum.prompt_tokens_details?.cached_tokens ?? 0) + cached };
}

/** A whole answer's first choice as one chat chunk (its text, reasoning, refusal, calls with their indexes, logprobs, finish), for ResponseEventStream. */
/**
 * The answer with its markers of the searches' sources made `file_citation` annotations (file-search.ts citedText),
 * after the annotations the model sent, whole and streamed alike (the stream's delta carries them: each a
 * `response.output_text.annotation.added`).
 */
function withCitations(answer: ChatCompletion, sources: readonly FileSearchResult[]): ChatCompletion {
  const choice = answer.choices[0];
  const content = choice?.message.content;
  if (!choice || typeof content !== 'string' || !sources.length) return answer;
  const { text, annotations } = citedText(content, sources);
  if (!annotations.length) return answer;
  const message = { ...choice.message, content: text, annotations: [...(choice.message.annotations ?? []), ...annotations] } as unknown as ChatCompletion.Choice['message'];
  return { ...answer, choices: [{ ...choice, message }, ...answer.choices.slice(1)] };
}

function chunkOf(answer: ChatCompletion, choice: ChatCompletion.Choice): ChatCompletionChunk {
  const m = choice.message as ChatCompletion.Choice['message'] & Record<string, unknown>;
  const delta: Record<string, unknown> = { ...m };
  if (m.tool_calls) delta.tool_calls = m.tool_calls.map((t, index) => ({ index, ...t }));
  return { id: answer.id, object: 'chat.completion.chunk', created: answer.created, model: answer.model, choices: [{ index: 0, delta, logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason }] } as ChatCompletionChunk;
}

