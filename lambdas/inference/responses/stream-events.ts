import type { ChatCompletionChunk, ChatCompletionContentPart } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type {
  Response, ResponseCustomToolCallItem, ResponseFileSearchToolCall, ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputRefusal, ResponseOutputText, ResponseReasoningItem, ResponseStreamEvent,
} from 'openai/resources/responses/responses';
import { reasoningOf } from '../chat/answer-texts.js';
import type { FinishReason } from '../chat/finish-reason.js';
import { textOfContent } from '../chat/message-texts.js';
import type { GatewayError } from '../openai-errors.js';
import { newCallId, newId } from './ids.js';
import { annotationsOf, customToolCallItem, logprobsOf, reasoningItem, statusOf, usageOfChat } from './response-object.js';

type Emit = (event: ResponseStreamEvent) => void | Promise<void>;
type Part = ResponseOutputText | ResponseOutputRefusal;

interface OpenMessage { kind: 'message'; index: number; item: ResponseOutputMessage; part?: Part }
interface OpenCall { kind: 'call'; index: number; item: ResponseFunctionToolCall | ResponseCustomToolCallItem; done?: boolean }
interface OpenReasoning { kind: 'reasoning'; index: number; item: ResponseReasoningItem & { content: ResponseReasoningItem.Content[] } }
type OutputItem = ResponseOutputMessage | ResponseFunctionToolCall | ResponseCustomToolCallItem | ResponseReasoningItem | ResponseFileSearchToolCall;
/** An output item's events not sent yet (it waits behind the item streaming) and whether it is done. */
interface Slot { held: Array<Record<string, unknown>>; done: boolean }

/**
 * Chat chunks (already relayed: the gateway's finish reasons, redacted text) as the Responses
 * API's typed stream events, each with its `sequence_number` (0, 1, 2, … in order):
 * `response.created`, `response.in_progress`; for the upstream's reasoning (`reasoning_content` /
 * `reasoning` deltas: vLLM, DeepSeek, OpenRouter) `response.output_item.added` (a `reasoning` item),
 * `response.content_part.added` (`reasoning_text`), `response.reasoning_text.delta`…, closed by
 * `response.reasoning_text.done`, `response.content_part.done` and `response.output_item.done` when
 * the text or a call starts (reasoning after text is a new reasoning item); for text
 * `response.output_item.added` (a message),
 * `response.content_part.added` (`output_text`), `response.output_text.delta`…; a refusal gets its
 * own part (`response.refusal.delta`…); a delta's `annotations` (url citations, mapped by
 * `annotationOf`; an exact repeat once) go on the text part, each with
 * `response.output_text.annotation.added`; each tool call (the chunk's `tool_calls[k]`, by its
 * index) opens a `function_call` item (`response.function_call_arguments.delta`…), or for a custom tool's call (`type:
 * 'custom'`, the delta's `custom: {name, input}`) a `custom_tool_call` item (`response.custom_tool_call_input.delta`…,
 * closed by `response.custom_tool_call_input.done`, the `openai` package's ResponseCustomToolCallInputDeltaEvent and
 * ResponseCustomToolCallInputDoneEvent).
 * One item is streamed at a time, as OpenAI streams them: an item's `.done` events and
 * `response.output_item.done` come before the next item's `response.output_item.added`, and every
 * done event carries the item whole, as `response.completed` has it. A message is done when a call
 * starts (text after it is a new message). A call is done only when the choice finishes: a chat
 * upstream may send a fragment of a call after the next call started (interleaved arguments) or
 * after text resumed, so no earlier point is sure. The first item streams live; an item started
 * while a call streams (the next parallel call, or text after a call) is held, its events kept in
 * order, and sent when the items before it are done: at the finish for items after a call (so
 * calls after the first, and text after a call, come in one burst at the end; their events and
 * order are unchanged).
 * `finish` closes the open items (`…text.done`, `…content_part.done`,
 * `…function_call_arguments.done`, `response.output_item.done`) and ends with `response.completed`
 * (or `response.incomplete` for finish reasons length and content_filter); `fail` closes them as
 * incomplete and ends with OpenAI's `error` event, then `response.failed`. Only the first choice is
 * read: a Responses request never asks for more.
 */
export class ResponseEventStream {
  private seq = 0;
  private readonly output: OutputItem[] = [];
  /** By output index: the item's held events and whether it is done. */
  private readonly slots: Slot[] = [];
  /** The output index of the item whose events are sent as they come (the items before it are done). */
  private live = 0;
  private message: OpenMessage | undefined;
  /** A delta of the first choice carried `content` as a string (`""` included): an answer with nothing else still has its (empty) text. */
  private textAnswered = false;
  /** The reasoning item streaming, until text or a call starts. */
  private reasoning: OpenReasoning | undefined;
  /** Every call of the answer by its key (callKey); all stay open until the choice finishes. */
  private readonly calls = new Map<number | string, OpenCall>();
  /** The last tool call that came without an `index`. */
  private lastUnindexed: string | undefined;
  private finishReason: FinishReason | null = null;

  /**
   * @param sealed a reasoning item as its `response.output_item.done` carries it: with its `encrypted_content` when the
   *   request asked for it (encrypted-reasoning.ts reasoningSealerOf) @default - as it is
   */
  constructor(private readonly shell: Response, private readonly emit: Emit, private readonly sealed: <T>(item: T) => Promise<T> = async (item) => item) {}

  private send(event: Record<string, unknown>): void | Promise<void> {
    return this.emit({ ...event, sequence_number: this.seq++ } as unknown as ResponseStreamEvent);
  }

  /** A new output item at the next index: its events go out live when every item before it is done, else are held. */
  private addItem(item: OutputItem): number {
    this.output.push(item);
    this.slots.push({ held: [], done: false });
    return this.output.length - 1;
  }

  /** An event of the item at `index`: sent if it is the live item, else held until it is. */
  private async post(index: number, event: Record<string, unknown>): Promise<void> {
    if (index === this.live) await this.send(event);
    else this.slots[index].held.push(event);
  }

  /** The item at `index` is done (its done events posted): the next items' held events go out until one not done. */
  private async done(index: number): Promise<void> {
    this.slots[index].done = true;
    while (this.live < this.slots.length) {
      const slot = this.slots[this.live];
      for (const event of slot.held.splice(0)) await this.send(event);
      if (!slot.done) return;
      this.live++;
    }
  }

  /**
   * Which call a tool-call delta continues: its `index`; without one (Gemini's OpenAI endpoint sends
   * whole calls without it, several in one delta), a delta with a new `id` is a new call and one
   * without an id continues the last.
   */
  private callKey(t: { index?: number | null; id?: string | null }): number | string {
    if (typeof t.index === 'number') return t.index;
    if (t.id) this.lastUnindexed = `id:${t.id}`;
    return (this.lastUnindexed ??= 'id:');
  }

  /** `response.created` and `response.in_progress`, with the echoed request and no output. */
  async start(): Promise<void> {
    await this.send({ type: 'response.created', response: this.snapshot() });
    await this.send({ type: 'response.in_progress', response: this.snapshot() });
  }

  /**
   * A `file_search_call` item the gateway runs (file-search.ts), in OpenAI's order: `response.output_item.added` (status
   * `in_progress`), `response.file_search_call.in_progress`, `response.file_search_call.searching`, then `search` runs,
   * then `response.file_search_call.completed` and `response.output_item.done` with the item whole. Called between
   * answers (no item open). A search that throws leaves the item `failed` (`response.output_item.done`) and rethrows.
   * @returns the item as done
   */
  async fileSearchCall(id: string, queries: string[], search: () => Promise<ResponseFileSearchToolCall>): Promise<ResponseFileSearchToolCall> {
    const item: ResponseFileSearchToolCall = { id, type: 'file_search_call', status: 'in_progress', queries, results: null };
    const index = this.addItem(item);
    const at = { item_id: id, output_index: index };
    await this.post(index, { type: 'response.output_item.added', output_index: index, item: structuredClone(item) });
    await this.post(index, { type: 'response.file_search_call.in_progress', ...at });
    item.status = 'searching';
    await this.post(index, { type: 'response.file_search_call.searching', ...at });
    try {
      Object.assign(item, await search());
    } catch (e) {
      item.status = 'failed';
      await this.post(index, { type: 'response.output_item.done', output_index: index, item: structuredClone(item) });
      await this.done(index);
      throw e;
    }
    await this.post(index, { type: 'response.file_search_call.completed', ...at });
    await this.post(index, { type: 'response.output_item.done', output_index: index, item: structuredClone(item) });
    await this.done(index);
    return item;
  }

  /** The events for one relayed chat chunk. */
  async chunk(chunk: ChatCompletionChunk): Promise<void> {
    const choice = chunk.choices?.find((c) => c.index === 0);
    if (!choice) return;
    const d = choice.delta ?? {};
    const thinking = reasoningOf(d);
    if (thinking) await this.reasoningDelta(thinking);
    // Content streamed as a list of parts (some servers' thinking models): its text parts are the text.
    const text = Array.isArray(d.content) ? textOfContent(d.content as ChatCompletionContentPart[]) : d.content;
    if (typeof text === 'string') this.textAnswered = true;
    if (typeof text === 'string' && text) {
      const part = await this.openPart('output_text');
      (part as ResponseOutputText).text += text;
      const logprobs = logprobsOf(choice.logprobs?.content);
      if (logprobs?.length) (part as ResponseOutputText).logprobs = [...((part as ResponseOutputText).logprobs ?? []), ...logprobs];
      await this.post(this.message!.index, { type: 'response.output_text.delta', item_id: this.message!.item.id, output_index: this.message!.index, content_index: this.message!.item.content.length - 1, delta: text, logprobs: logprobs ?? [] });
    }
    const annotations = annotationsOf((d as { annotations?: unknown }).annotations);
    if (annotations.length) {
      // OpenAI's search models send a message's annotations in a delta of their own after the text
      // (openai/openai-java#297); some providers repeat them on later deltas: an exact repeat is kept once.
      const part = (await this.openPart('output_text')) as ResponseOutputText;
      const seen = new Set(part.annotations.map((a) => JSON.stringify(a)));
      for (const annotation of annotations) {
        const key = JSON.stringify(annotation);
        if (seen.has(key)) continue;
        seen.add(key);
        part.annotations.push(annotation);
        await this.post(this.message!.index, { type: 'response.output_text.annotation.added', item_id: this.message!.item.id, output_index: this.message!.index, content_index: this.message!.item.content.length - 1, annotation_index: part.annotations.length - 1, annotation });
      }
    }
    if (typeof d.refusal === 'string' && d.refusal) {
      const part = (await this.openPart('refusal')) as ResponseOutputRefusal;
      part.refusal += d.refusal;
      await this.post(this.message!.index, { type: 'response.refusal.delta', item_id: this.message!.item.id, output_index: this.message!.index, content_index: this.message!.item.content.length - 1, delta: d.refusal });
    }
    for (const t of d.tool_calls ?? []) {
      const key = this.callKey(t);
      let call = this.calls.get(key);
      if (!call) {
        await this.closeReasoning();
        await this.closeMessage('completed');
        const custom = t.type === 'custom' || (t.custom != null && t.function == null);
        const item: ResponseFunctionToolCall | ResponseCustomToolCallItem = custom ? customToolCallItem(t.id || newCallId(), t.custom?.name ?? '', '', 'in_progress')
          : { id: newId('fc'), type: 'function_call', status: 'in_progress', call_id: t.id || newCallId(), name: t.function?.name ?? '', arguments: '' };
        call = { kind: 'call', index: this.addItem(item), item };
        this.calls.set(key, call);
        await this.post(call.index, { type: 'response.output_item.added', output_index: call.index, item: { ...item } });
      } else {
        const name = call.item.type === 'custom_tool_call' ? t.custom?.name : t.function?.name;
        if (name && !call.item.name) call.item.name = name;
      }
      if (call.item.type === 'custom_tool_call') {
        const input = t.custom?.input;
        if (input) {
          call.item.input += input;
          await this.post(call.index, { type: 'response.custom_tool_call_input.delta', item_id: call.item.id, output_index: call.index, delta: input });
        }
        continue;
      }
      const args = t.function?.arguments;
      if (args) {
        call.item.arguments += args;
        // Live, or held behind the call streaming (a fragment of an earlier call may still come: interleaved).
        await this.post(call.index, { type: 'response.function_call_arguments.delta', item_id: call.item.id, output_index: call.index, delta: args });
      }
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /**
   * Closes what is open and ends the stream with `response.completed` (or `response.incomplete`).
   * @param keep called with the finished Response before the last event (to store it); its result is what the event carries
   * @returns the finished Response
   */
  async finish(usage: CompletionUsage, keep: (response: Response) => Promise<Response> = async (x) => x, serviceTier?: string | null): Promise<Response> {
    const status = statusOf(this.finishReason);
    const itemStatus = status.status === 'completed' ? 'completed' : 'incomplete';
    // An answer of empty text alone (content "", no refusal, no call) is a message with an empty output_text, as the
    // whole Response has it (outputOfChoice), not an output of no message at all.
    if (this.textAnswered && !this.output.some((o) => o.type === 'message' || o.type === 'function_call')) await this.openPart('output_text');
    await this.closeAll(itemStatus);
    const response = await keep({
      ...this.snapshot(), ...status, usage: usageOfChat(usage),
      ...(status.status === 'completed' ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
      ...(serviceTier ? { service_tier: serviceTier as Response['service_tier'] } : {}),
    });
    await this.send({ type: status.status === 'completed' ? 'response.completed' : 'response.incomplete', response });
    return response;
  }

  /**
   * Closes what is open as incomplete, then the `error` event and `response.failed` (with the error),
   * in OpenAI's order: its failed streams send `error` first and end with `response.failed` (the
   * Vercel AI SDK's `@ai-sdk/openai` 4.0 reads them so: the `error` event is the stream's one error
   * part, and a `response.failed` after it only sets the finish reason; the other order made two
   * error parts of one failure, `streamText`'s `onError` called twice). The official Node SDK throws
   * at the `error` event, so it never yields `response.failed`, as against OpenAI.
   * The failed Response says `store: false`: a failed response is not stored (a GET of its id is a
   * 404), whatever `response.created` said; the gateway cannot confirm that OpenAI keeps failed
   * responses retrievable, so it keeps none rather than invent a stored state.
   */
  async fail(error: GatewayError, usage?: CompletionUsage): Promise<void> {
    await this.closeAll('incomplete');
    const response = { ...this.snapshot(), status: 'failed', store: false, error: { code: 'server_error', message: error.message }, ...(usage ? { usage: usageOfChat(usage) } : {}) } as Response;
    await this.send({ type: 'error', code: error.code, message: error.message, param: error.param });
    await this.send({ type: 'response.failed', response });
  }

  private snapshot(): Response {
    return { ...this.shell, output: this.output.map((o) => structuredClone(o)) };
  }

  /** The open message's last part when it is of `type`; else a new part (and a new message when none is open). */
  private async openPart(type: Part['type']): Promise<Part> {
    if (!this.message) {
      await this.closeReasoning();
      // Text after a call: a new message, held until the calls before it are done (at the finish).
      const item: ResponseOutputMessage = { id: newId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] };
      this.message = { kind: 'message', index: this.addItem(item), item };
      await this.post(this.message.index, { type: 'response.output_item.added', output_index: this.message.index, item: { ...item, content: [] } });
    }
    const m = this.message;
    if (m.part?.type === type) return m.part;
    if (m.part) await this.closePart(m);
    const part: Part = type === 'output_text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
    m.item.content.push(part);
    m.part = part;
    await this.post(m.index, { type: 'response.content_part.added', item_id: m.item.id, output_index: m.index, content_index: m.item.content.length - 1, part: structuredClone(part) });
    return part;
  }

  /** A reasoning delta: on the open reasoning item, or a new one (after the message open, which it closes). */
  private async reasoningDelta(text: string): Promise<void> {
    if (!this.reasoning) {
      await this.closeMessage('completed');
      const item = { ...reasoningItem(''), content: [] as ResponseReasoningItem.Content[] };
      const r: OpenReasoning = { kind: 'reasoning', index: this.addItem(item), item };
      this.reasoning = r;
      await this.post(r.index, { type: 'response.output_item.added', output_index: r.index, item: structuredClone(item) });
      item.content.push({ type: 'reasoning_text', text: '' });
      await this.post(r.index, { type: 'response.content_part.added', item_id: item.id, output_index: r.index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    const r = this.reasoning;
    r.item.content[0].text += text;
    await this.post(r.index, { type: 'response.reasoning_text.delta', item_id: r.item.id, output_index: r.index, content_index: 0, delta: text });
  }

  /** Closes the reasoning item streaming: `response.reasoning_text.done`, `response.content_part.done`, `response.output_item.done`. */
  private async closeReasoning(): Promise<void> {
    const r = this.reasoning;
    if (!r) return;
    const at = { item_id: r.item.id, output_index: r.index, content_index: 0 };
    const text = r.item.content[0].text;
    await this.post(r.index, { type: 'response.reasoning_text.done', ...at, text });
    await this.post(r.index, { type: 'response.content_part.done', ...at, part: { type: 'reasoning_text', text } });
    await this.post(r.index, { type: 'response.output_item.done', output_index: r.index, item: await this.sealed(structuredClone(r.item)) });
    this.reasoning = undefined;
    await this.done(r.index);
  }

  private async closePart(m: OpenMessage): Promise<void> {
    const part = m.part!;
    const at = { item_id: m.item.id, output_index: m.index, content_index: m.item.content.indexOf(part) };
    if (part.type === 'output_text') await this.post(m.index, { type: 'response.output_text.done', ...at, text: part.text, logprobs: part.logprobs ?? [] });
    else await this.post(m.index, { type: 'response.refusal.done', ...at, refusal: part.refusal });
    await this.post(m.index, { type: 'response.content_part.done', ...at, part: structuredClone(part) });
    m.part = undefined;
  }

  private async closeMessage(status: ResponseOutputMessage['status']): Promise<void> {
    const m = this.message;
    if (!m) return;
    if (m.part) await this.closePart(m);
    m.item.status = status;
    await this.post(m.index, { type: 'response.output_item.done', output_index: m.index, item: structuredClone(m.item) });
    this.message = undefined;
    await this.done(m.index);
  }

  /**
   * Closes the items still open (the open message and every call), in output order: the last item
   * gets `status` (the one a cut or failure left unfinished), the ones before it `completed`.
   */
  private async closeAll(status: 'completed' | 'incomplete'): Promise<void> {
    const last = this.output.length - 1;
    const open = [...this.calls.values()].filter((c) => !c.done).map((c) => c.index);
    if (this.message) open.push(this.message.index);
    if (this.reasoning) open.push(this.reasoning.index);
    for (const index of open.sort((a, b) => a - b)) {
      const s = index === last ? status : 'completed';
      if (this.reasoning?.index === index) await this.closeReasoning();
      else if (this.message?.index === index) await this.closeMessage(s);
      else await this.closeCall([...this.calls.values()].find((c) => c.index === index)!, s);
    }
  }

  /** Closes a call: `response.function_call_arguments.done` (a custom tool's: `response.custom_tool_call_input.done`), then `response.output_item.done`. */
  private async closeCall(call: OpenCall, status: 'completed' | 'incomplete'): Promise<void> {
    const item = call.item;
    if (item.type === 'custom_tool_call') await this.post(call.index, { type: 'response.custom_tool_call_input.done', item_id: item.id, output_index: call.index, input: item.input });
    else await this.post(call.index, { type: 'response.function_call_arguments.done', item_id: item.id, output_index: call.index, name: item.name, arguments: item.arguments });
    call.item.status = status;
    await this.post(call.index, { type: 'response.output_item.done', output_index: call.index, item: structuredClone(call.item) });
    call.done = true;
    await this.done(call.index);
  }
}
