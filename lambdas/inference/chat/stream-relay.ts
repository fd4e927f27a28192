import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { StreamRedactor } from '../guardrails.js';
import { applyInputGuardrails } from '../guardrails/caller-texts.js';
import { audioOf, callKeyer, callOf } from './output-guard.js';
import { normaliseFinishReason } from './finish-reason.js';
import { deltaText } from './output-limit.js';
import { reasoningOf } from './answer-texts.js';
import { billedUsage } from './reported-usage.js';
import { missingCallType } from '../providers/chat-answer.js';
import { newCallId } from '../responses/ids.js';
import { FirstToolCallFilter } from './one-tool-call.js';

type ToolCallDelta = ChatCompletionChunk.Choice.Delta.ToolCall;
/** A reasoning model's streamed thinking (not OpenAI's type): vLLM's and DeepSeek's `reasoning_content`, OpenRouter's `reasoning`. */
const REASONING_FIELDS = ['reasoning_content', 'reasoning'] as const;
type FunctionCallDelta = ChatCompletionChunk.Choice.Delta.FunctionCall;

export interface StreamRelayOptions {
  /** The gateway's id for the answer (`chatcmpl-…`) and the catalog id of the model that answers. */
  id: string;
  model: string;
  /** The caller's `stream_options.include_usage`: pass on the usage chunk (`choices: []`), every other chunk with `usage: null`, or no usage at all. */
  includeUsage: boolean;
  /** Redact PII in answer text (`redactResponses`), per choice. */
  redactAnswers: boolean;
  /**
   * The caller sent `parallel_tool_calls: false` (oneToolCall, one-tool-call.ts): each choice's first tool call is
   * relayed, the fragments of any other left out (counted in `droppedToolCalls`). @default false
   */
  oneToolCall?: boolean;
}

/**
 * An upstream's chunks as the caller gets them: the gateway's id and model, `object:
 * "chat.completion.chunk"` (whatever the upstream called it), one `created`, OpenAI's finish
 * reasons, the usage chunk only when the caller asked for it (so `chunk.choices[0]` exists in
 * every chunk otherwise), PII redaction of each choice's content (a string or the text parts of a
 * list), refusal and audio transcript that never splits a pattern across chunks, and of its
 * tool calls: under redaction a choice's tool-call fragments are held until the choice finishes
 * (its finish_reason, or `drain`) and each call goes out whole in that chunk, one fragment per
 * call, its arguments redacted as a whole answer's are (inside JSON strings, a card number a
 * string "[CREDIT_CARD]": still JSON); a fragment redacted alone could miss a pattern split across
 * fragments or break the JSON. The deprecated legacy `delta.function_call` fragments (an upstream
 * asked with `functions`) are held the same way and go out whole, redacted, in the finishing chunk.
 * Under `oneToolCall` (`parallel_tool_calls: false`) only each choice's first tool call is relayed.
 * A chunk left with nothing to carry (a held fragment only, or a call left out) is not sent.
 * Everything else in a chunk (tool-call deltas without redaction, logprobs, audio data, system_fingerprint) is relayed
 * as it came, but logprobs under redaction: null on every chunk (they would spell what was redacted). Keeps what the answer said, to estimate usage when the upstream reports none.
 */
export class StreamRelay {
  /** The upstream's usage, when it reported one. */
  usage: CompletionUsage | undefined;
  /**
   * The upstream's `service_tier`, the last a chunk carried (Bedrock's is on its usage chunk, which
   * is not relayed without include_usage), for the Responses API's Response; undefined when none did.
   */
  serviceTier: string | undefined;
  /** Everything the answer produced (text, refusals, tool names and arguments, streamed reasoning: deltaText), for a usage estimate. */
  produced = '';
  /** The reasoning text streamed (reasoning_content / reasoning, in `produced` too): what of a reported reasoning_tokens the count saw. */
  reasoningShown = '';
  private readonly redactors = new Map<number, StreamRedactor>();
  /** Each choice's calls by index, once their opening fragment went out: the call's id and name (indexed). */
  private readonly openedCalls = new Map<number, Map<number, { id: string; name: string | undefined }>>();
  /** Each choice's numbering of tool calls an upstream sent without `index` (indexed). */
  private readonly callNumbers = new Map<number, { key: ReturnType<typeof callKeyer>; numbers: Map<number | string, number> }>();
  /** Under redaction, each choice's audio transcript redactor. */
  private readonly transcripts = new Map<number, StreamRedactor>();
  /** Under redaction, each choice's reasoning redactors (by `field:index`). */
  private readonly reasonings = new Map<string, StreamRedactor>();
  /** Under redaction, each choice's tool calls held until it finishes (by call key, in order), and the PII found in them. */
  private readonly calls = new Map<number, { key: ReturnType<typeof callKeyer>; calls: Map<number | string, ToolCallDelta> }>();
  private readonly callPii: string[] = [];
  /** Under redaction, each choice's legacy function_call fragments merged (name the latest given, arguments appended) until it finishes. */
  private readonly functionCalls = new Map<number, FunctionCallDelta>();
  /** Choices seen, and whether each has had its finish_reason. */
  private readonly finished = new Map<number, boolean>();
  private firstCreated: number | undefined;
  /** Under `oneToolCall`, each choice's first call, and the others left out. */
  private readonly firstCalls = new FirstToolCallFilter();

  constructor(private readonly options: StreamRelayOptions) {}

  /** Tool calls left out so far for `parallel_tool_calls: false` (`oneToolCall`), over all choices. */
  get droppedToolCalls(): number {
    return this.firstCalls.dropped;
  }

  /** PII kinds found in the answer so far. */
  get piiFound(): string[] {
    return [...[...this.redactors.values(), ...this.transcripts.values(), ...this.reasonings.values()].flatMap((r) => r.found), ...this.callPii];
  }

  /**
   * The stream's `created` (Unix seconds), on every chunk relayed and every chunk the gateway adds
   * (OpenAI's chunks of one completion all carry the same `created`): the upstream's first chunk's,
   * or the time of the first chunk when it had none (or not a whole number). @default now, before any chunk
   */
  get created(): number {
    return this.firstCreated ?? Math.floor(Date.now() / 1000);
  }

  /** The chunk to send for an upstream chunk, or undefined when nothing is to be sent. */
  relay(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
    if (chunk.usage) this.usage = chunk.usage;
    if (typeof chunk.service_tier === 'string' && chunk.service_tier) this.serviceTier = chunk.service_tier;
    // One `created` for the whole stream (a number, as ChatCompletionChunk requires): the upstream's first, or now when it
    // sent none or not a whole number (llama.cpp stamps each chunk with its own time; some servers send none).
    this.firstCreated ??= Number.isSafeInteger(chunk.created) && chunk.created >= 0 ? chunk.created : Math.floor(Date.now() / 1000);
    const choices = chunk.choices ?? [];
    if (choices.length === 0 && !(this.options.includeUsage && chunk.usage)) return undefined;
    // A choice whose chunk carried only tool-call (or function_call) fragments, held under redaction, has nothing to send.
    const shown = choices.map((c) => this.choice(c)).filter((c, k) => !(callOf(choices[k].delta) && c.finish_reason === null && Object.keys(c.delta).length === 0));
    if (choices.length > 0 && shown.length === 0) return undefined;
    const out: ChatCompletionChunk = { ...chunk, id: this.options.id, object: 'chat.completion.chunk', created: this.firstCreated, model: this.options.model, choices: shown };
    if (!this.options.includeUsage) delete out.usage;
    // OpenAI's contract with include_usage: every chunk says `usage: null` but the usage chunk
    // (`choices: []`); an upstream that puts usage on every chunk (vLLM's continuous usage stats)
    // has it kept here, and the caller gets it once, in the usage chunk (sent by the endpoint when
    // the upstream sent none).
    else if (choices.length > 0) out.usage = null;
    else out.usage = billedUsage(out.usage) ?? out.usage; // as billed, as a whole answer's
    return out;
  }

  private choice(c: ChatCompletionChunk.Choice): ChatCompletionChunk.Choice {
    const delta = c.delta ?? {};
    // a list of parts (some servers' thinking models) counts its text parts; streamed reasoning is output too
    this.produced += deltaText(delta);
    this.reasoningShown += reasoningOf(delta);
    const finish = normaliseFinishReason(c.finish_reason);
    const first = !this.finished.has(c.index);
    if (!this.finished.get(c.index)) this.finished.set(c.index, finish !== null);
    let content = delta.content;
    let refusal = delta.refusal;
    let toolCalls = delta.tool_calls && this.indexed(c.index, delta.tool_calls);
    if (toolCalls && this.options.oneToolCall) toolCalls = this.firstCalls.keep(c.index, toolCalls);
    let functionCall = delta.function_call;
    let audio = audioOf(delta);
    const thoughts: Record<string, string> = {};
    if (this.options.redactAnswers) {
      if (toolCalls?.length) {
        this.holdCalls(c.index, toolCalls);
        toolCalls = undefined;
      }
      if (functionCall && typeof functionCall === 'object') {
        this.holdFunctionCall(c.index, functionCall);
        functionCall = undefined;
      }
      if (typeof audio?.transcript === 'string') audio = { ...audio, transcript: this.transcriptRedactor(c.index).push(audio.transcript) };
      const redactor = this.redactorFor(c.index);
      const refusals = this.redactorFor(-1 - c.index);
      if (typeof content === 'string') content = redactor.push(content);
      // Content streamed as a list of parts (some servers' thinking models): its text and refusal
      // parts go through the same redactors as string deltas (one text, in order, whatever shape
      // each delta has); other parts (a model's thinking) are relayed as sent, as in whole answers.
      else if (Array.isArray(content)) content = redactedParts(content as unknown[], redactor, refusals) as unknown as string;
      if (typeof refusal === 'string') refusal = refusals.push(refusal);
      // A reasoning model's thinking (reasoning_content / reasoning: vLLM, DeepSeek, OpenRouter) is answer text the caller sees: redacted as content, its own redactor per field.
      // The thinking ends where the answer starts (text, a refusal, a call): what its redactor holds goes out with this delta, before
      // the answer, not at the finish after it (/v1/responses would make a second reasoning item of it, after the message).
      const answering = (typeof delta.content === 'string' && delta.content !== '') || (Array.isArray(delta.content) && delta.content.length > 0)
        || (typeof delta.refusal === 'string' && delta.refusal !== '') || (delta.tool_calls?.length ?? 0) > 0 || delta.function_call != null;
      for (const field of REASONING_FIELDS) {
        const text = (delta as Record<string, unknown>)[field];
        if (typeof text === 'string') thoughts[field] = this.reasoningRedactor(c.index, field).push(text);
        const rest = answering ? this.reasonings.get(`${field}:${c.index}`)?.flush() : '';
        if (rest) thoughts[field] = (thoughts[field] ?? '') + rest;
      }
      // The choice ends here: what the redactors still hold goes out with this chunk.
      if (finish !== null) {
        const held = redactor.flush();
        if (Array.isArray(content)) content = (held ? [...(content as unknown[]), { type: 'text', text: held }] : content) as unknown as string;
        else content = (content ?? '') + held;
        const rest = refusals.flush();
        if (rest) refusal = (refusal ?? '') + rest;
        for (const field of REASONING_FIELDS) {
          const rest = this.reasonings.get(`${field}:${c.index}`)?.flush();
          if (rest) thoughts[field] = (thoughts[field] ?? '') + rest;
        }
        const spoken = this.transcripts.get(c.index)?.flush();
        if (spoken) audio = { ...audio, transcript: (audio?.transcript ?? '') + spoken };
        const calls = this.wholeCalls(c.index);
        if (calls.length) toolCalls = calls;
        functionCall = this.wholeFunctionCall(c.index) ?? functionCall;
      }
    }
    const thought = Object.keys(thoughts).length > 0;
    const same = !thought && content === delta.content && refusal === delta.refusal && toolCalls === delta.tool_calls && functionCall === delta.function_call && audio === audioOf(delta);
    let out = same ? delta : { ...delta, content, ...(refusal !== undefined ? { refusal } : {}), ...(audio !== undefined ? { audio } : {}), ...thoughts, tool_calls: toolCalls, function_call: functionCall };
    if (!same) {
      if (out.tool_calls === undefined) delete out.tool_calls;
      if (out.function_call === undefined) delete out.function_call;
      if (out.content === undefined && delta.content === undefined) delete out.content;
      out = out as typeof delta;
    }
    // OpenAI's first delta of a choice carries role "assistant", and no later one: the openai SDK's stream helper
    // (ChatCompletionStream) throws "missing role for choice" without it, and some servers omit it; the Python SDK's
    // helper appends every role it gets ("assistantassistant…", which the next turn's request then sends back), and
    // TGI repeats it on every delta (huggingface/text-generation-inference#1648 shows its chunks).
    // Under redaction a choice's logprobs go, every chunk's: the redactor holds text across chunks, so a
    // chunk's tokens may be redacted in a later chunk's text, after their logprobs went out.
    const logprobs = this.options.redactAnswers && c.logprobs != null ? { logprobs: null } : {};
    let shown = out;
    if (first && out.role === undefined) shown = { role: 'assistant', ...out };
    else if (!first && out.role !== undefined) {
      const { role: _role, ...rest } = out;
      shown = rest;
    }
    return { ...c, delta: shown, finish_reason: finish, ...logprobs };
  }

  private reasoningRedactor(index: number, field: string): StreamRedactor {
    const key = `${field}:${index}`;
    let r = this.reasonings.get(key);
    if (!r) this.reasonings.set(key, (r = new StreamRedactor()));
    return r;
  }

  /**
   * Choice `choice`'s tool-call fragments as OpenAI streams them, which the SDKs' stream helpers
   * assemble:
   * - each with its `index` (the helpers assemble calls by it): an upstream that sends calls without
   *   one (Gemini's OpenAI endpoint sends whole calls, several in one delta) has them numbered in
   *   order of first appearance, a fragment with a new `id` a new call and one without continuing
   *   the last (callKeyer);
   * - the fragment that opens a call (its first, with an id or a name) with its `type` (missingCallType: vLLM leaves it out with a
   *   named tool_choice, vllm-project/vllm#16340, and the Node helpers throw without it) and an `id`
   *   (a new `call_…` when the upstream sent none, as vLLM did there: the next turn's tool message
   *   names it);
   * - the call's `id` and name once, on that fragment: vLLM repeated the name (and some servers the
   *   id) on every fragment (vllm-project/vllm#13078), and the Python SDK's helper and LangChain
   *   append each string they get (`get_weatherget_weather…`, vllm-project/vllm#14951). A later
   *   fragment's name or id equal to the call's is left out; a different one is relayed. A custom
   *   tool's call (`custom: {name, input}`, which ChatCompletionChunk's delta carries as it does
   *   `function`) has its repeated `custom.name` left out the same way.
   * Fragments that need none of this are passed as they came.
   */
  private indexed(choice: number, calls: ToolCallDelta[]): ToolCallDelta[] {
    let numbered = calls;
    if (!calls.every((t) => typeof t.index === 'number')) {
      let numbering = this.callNumbers.get(choice);
      if (!numbering) this.callNumbers.set(choice, (numbering = { key: callKeyer(), numbers: new Map() }));
      const { key, numbers } = numbering;
      numbered = calls.map((t) => {
        if (typeof t.index === 'number') return t;
        const k = key(t);
        if (!numbers.has(k)) numbers.set(k, numbers.size);
        return { ...t, index: numbers.get(k)! };
      });
    }
    let opened = this.openedCalls.get(choice);
    if (!opened) this.openedCalls.set(choice, (opened = new Map()));
    const open = opened;
    return numbered.map((t) => {
      // A custom tool's call (`type: 'custom'`, ChatCompletionChunk's delta `custom: {name, input}`) is named as a function's is.
      const named = t.function?.name ?? t.custom?.name;
      const seen = open.get(t.index);
      if (!seen) {
        // A first fragment with neither id nor name (arguments alone) opens nothing the gateway could complete: as it came.
        if (!t.id && !named) return t;
        const type = missingCallType(t);
        const id = t.id || newCallId();
        open.set(t.index, { id, name: named ?? undefined });
        return type || id !== t.id ? ({ ...t, id, ...(type ? { type } : {}) } as ToolCallDelta) : t;
      }
      const sameFunctionName = seen.name !== undefined && t.function?.name === seen.name;
      const sameCustomName = seen.name !== undefined && t.custom?.name === seen.name;
      if (named && seen.name === undefined) seen.name = named;
      const sameId = t.id !== undefined && t.id !== null && t.id === seen.id;
      if (!sameFunctionName && !sameCustomName && !sameId) return t;
      const { id: _id, ...rest } = t;
      let out = (sameId ? rest : t) as ToolCallDelta;
      if (sameFunctionName) {
        const { name: _name, ...fn } = t.function!;
        out = { ...out, function: fn };
      }
      if (sameCustomName) {
        const { name: _name, ...custom } = t.custom!;
        out = { ...out, custom };
      }
      return out;
    });
  }

  private transcriptRedactor(index: number): StreamRedactor {
    let r = this.transcripts.get(index);
    if (!r) this.transcripts.set(index, (r = new StreamRedactor()));
    return r;
  }

  /**
   * Keeps choice `index`'s tool-call fragments, each call's merged as the openai SDK assembles them
   * (a function's `arguments` and a custom tool's `input` appended, its name and other fields the
   * latest given: openai-node ChatCompletionStream).
   */
  private holdCalls(index: number, fragments: ToolCallDelta[]): void {
    let held = this.calls.get(index);
    if (!held) this.calls.set(index, (held = { key: callKeyer(), calls: new Map() }));
    for (const t of fragments) {
      const k = held.key(t);
      const call = held.calls.get(k);
      if (!call) {
        held.calls.set(k, { ...t, ...(t.function ? { function: { ...t.function } } : {}), ...(t.custom ? { custom: { ...t.custom } } : {}) });
        continue;
      }
      const { function: fn, custom, ...rest } = t;
      for (const [field, value] of Object.entries(rest)) if (value != null) (call as unknown as Record<string, unknown>)[field] = value;
      if (fn) call.function = merged(call.function, fn, 'arguments');
      if (custom) call.custom = merged(call.custom, custom, 'input');
    }
  }

  /**
   * Choice `index`'s held tool calls, whole, their arguments (a custom tool's input) redacted as a
   * whole answer's (valid JSON stays valid JSON; the input as free text); none held after.
   */
  private wholeCalls(index: number): ToolCallDelta[] {
    const held = this.calls.get(index);
    this.calls.delete(index);
    return [...(held?.calls.values() ?? [])].map((call) => {
      const args = call.function?.arguments;
      const input = call.custom?.input;
      if (!args && !input) return call;
      const whole = args
        ? { id: '', type: 'function' as const, function: { name: '', arguments: args } }
        : { id: '', type: 'custom' as const, custom: { name: call.custom?.name ?? '', input: input! } };
      const red = applyInputGuardrails([{ role: 'assistant', tool_calls: [whole] }], { redactPii: true, promptInjectionScreen: false });
      if (!red.piiFound.length) return call;
      this.callPii.push(...red.piiFound);
      const redacted = (red.messages[0] as { tool_calls: Array<{ function?: { arguments: string }; custom?: { input: string } }> }).tool_calls[0]!;
      return args ? { ...call, function: { ...call.function, arguments: redacted.function!.arguments } } : { ...call, custom: { ...call.custom, input: redacted.custom!.input } };
    });
  }

  /** Keeps choice `index`'s legacy function_call fragments, merged as the openai SDK assembles them (arguments appended, the name the latest given). */
  private holdFunctionCall(index: number, fragment: FunctionCallDelta): void {
    const held = this.functionCalls.get(index);
    if (!held) {
      this.functionCalls.set(index, { ...fragment });
      return;
    }
    for (const [field, value] of Object.entries(fragment)) {
      if (field === 'arguments') held.arguments = (held.arguments ?? '') + (value ?? '');
      else if (value != null && value !== '') (held as Record<string, unknown>)[field] = value;
    }
  }

  /** Choice `index`'s held legacy function_call, whole, its arguments redacted as a whole answer's (valid JSON stays valid JSON); none held after. */
  private wholeFunctionCall(index: number): FunctionCallDelta | undefined {
    const call = this.functionCalls.get(index);
    this.functionCalls.delete(index);
    if (!call?.arguments) return call;
    const red = applyInputGuardrails([{ role: 'assistant', function_call: { name: call.name ?? '', arguments: call.arguments } }], { redactPii: true, promptInjectionScreen: false });
    if (!red.piiFound.length) return call;
    this.callPii.push(...red.piiFound);
    return { ...call, arguments: (red.messages[0] as { function_call: { arguments: string } }).function_call.arguments };
  }

  private redactorFor(index: number): StreamRedactor {
    let r = this.redactors.get(index);
    if (!r) this.redactors.set(index, (r = new StreamRedactor()));
    return r;
  }

  /** Whether a choice was seen that never got its finish_reason (a stream cut off upstream). */
  unfinished(): boolean {
    return this.finished.size === 0 || [...this.finished.values()].some((done) => !done);
  }

  /**
   * Chunks that release text still held by the redactors when the upstream ended without a finish
   * reason for a choice (e.g. an error mid-stream), so no text the caller was due is lost. Tool calls
   * and function_calls held for such a choice are dropped: cut off, they are incomplete.
   */
  drain(): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const [key, r] of this.redactors) {
      const rest = r.flush();
      // Keys: a choice's index for its content, -1 - index for its refusal.
      const [index, delta] = key >= 0 ? [key, { content: rest }] : [-1 - key, { refusal: rest }];
      if (rest) out.push(this.drained(index, delta));
    }
    for (const [index, r] of this.transcripts) {
      const rest = r.flush();
      if (rest) out.push(this.drained(index, { audio: { transcript: rest } } as ChatCompletionChunk.Choice['delta']));
    }
    for (const [key, r] of this.reasonings) {
      const rest = r.flush();
      const [field, index] = key.split(':');
      if (rest) out.push(this.drained(Number(index), { [field]: rest } as ChatCompletionChunk.Choice['delta']));
    }
    // Tool calls and function_calls still held belong to a choice without its finish_reason: cut off, incomplete,
    // they go nowhere (a client acts on a whole call only); a whole answer never has half a call either.
    this.calls.clear();
    this.functionCalls.clear();
    return out;
  }

  private drained(index: number, delta: ChatCompletionChunk.Choice['delta']): ChatCompletionChunk {
    return { id: this.options.id, object: 'chat.completion.chunk', created: this.created, model: this.options.model, choices: [{ index, delta, finish_reason: null }], ...(this.options.includeUsage ? { usage: null } : {}) };
  }
}

/**
 * A delta's list of parts (a shape OpenAI's types do not have: `unknown[]`) with each `text` part's text and `refusal` part's refusal replaced by
 * what the choice's redactors release for it (possibly '': the redactor holds a tail that may be
 * the start of a pattern and releases it with a later delta). Other parts are kept as they are.
 */
function redactedParts(parts: unknown[], text: StreamRedactor, refusals: StreamRedactor): unknown[] {
  return parts.map((part) => {
    const p = part as { type?: unknown; text?: unknown; refusal?: unknown };
    if (p.type === 'text' && typeof p.text === 'string') return { ...p, text: text.push(p.text) };
    if (p.type === 'refusal' && typeof p.refusal === 'string') return { ...p, refusal: refusals.push(p.refusal) };
    return part;
  });
}

/**
 * A held call's `function` or `custom` with a later fragment's merged in, as the openai SDK
 * assembles them: `text` (`arguments`, `input`) appended, `name` and other fields the latest given.
 */
function merged<T extends { name?: string }>(held: T | undefined, fragment: T, text: 'arguments' | 'input'): T {
  const out: Record<string, unknown> = { ...held };
  for (const [field, value] of Object.entries(fragment)) {
    if (value == null || ((field === text || field === 'name') && !value)) continue;
    out[field] = field === text ? (typeof out[field] === 'string' ? out[field] : '') + String(value) : value;
  }
  return out as T;
}
