import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { StreamRedactor } from '../guardrails.js';
import { normaliseFinishReason } from './finish-reason.js';
import { deltaText } from './output-limit.js';
import { billedUsage } from './reported-usage.js';

export interface StreamRelayOptions {
  /** The gateway's id for the answer (`chatcmpl-…`) and the catalog id of the model that answers. */
  id: string;
  model: string;
  /** The caller's `stream_options.include_usage`: pass on the usage chunk (`choices: []`), every other chunk with `usage: null`, or no usage at all. */
  includeUsage: boolean;
  /** Redact PII in answer text (`redactResponses`), per choice. */
  redactAnswers: boolean;
}

/**
 * An upstream's chunks as the caller gets them: the gateway's id and model, OpenAI's finish
 * reasons, the usage chunk only when the caller asked for it (so `chunk.choices[0]` exists in
 * every chunk otherwise), PII redaction of each choice's content (a string or the text parts of a
 * list) and refusal that never splits a pattern across chunks (streamed tool-call argument fragments are not redacted: a redacted JSON
 * number would break the arguments' JSON; whole answers redact them).
 * Everything else in a chunk (tool-call deltas, refusal, logprobs, system_fingerprint) is relayed
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
  private readonly redactors = new Map<number, StreamRedactor>();
  /** Choices seen, and whether each has had its finish_reason. */
  private readonly finished = new Map<number, boolean>();
  private firstCreated: number | undefined;

  constructor(private readonly options: StreamRelayOptions) {}

  /** PII kinds found in the answer so far. */
  get piiFound(): string[] {
    return [...this.redactors.values()].flatMap((r) => r.found);
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
    const out: ChatCompletionChunk = { ...chunk, id: this.options.id, created: this.firstCreated, model: this.options.model, choices: choices.map((c) => this.choice(c)) };
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
    const finish = normaliseFinishReason(c.finish_reason);
    const first = !this.finished.has(c.index);
    if (!this.finished.get(c.index)) this.finished.set(c.index, finish !== null);
    let content = delta.content;
    let refusal = delta.refusal;
    if (this.options.redactAnswers) {
      const redactor = this.redactorFor(c.index);
      const refusals = this.redactorFor(-1 - c.index);
      if (typeof content === 'string') content = redactor.push(content);
      // Content streamed as a list of parts (some servers' thinking models): its text and refusal
      // parts go through the same redactors as string deltas (one text, in order, whatever shape
      // each delta has); other parts (a model's thinking) are relayed as sent, as in whole answers.
      else if (Array.isArray(content)) content = redactedParts(content as unknown[], redactor, refusals) as unknown as string;
      if (typeof refusal === 'string') refusal = refusals.push(refusal);
      // The choice ends here: what the redactors still hold goes out with this chunk.
      if (finish !== null) {
        const held = redactor.flush();
        if (Array.isArray(content)) content = (held ? [...(content as unknown[]), { type: 'text', text: held }] : content) as unknown as string;
        else content = (content ?? '') + held;
        const rest = refusals.flush();
        if (rest) refusal = (refusal ?? '') + rest;
      }
    }
    const same = content === delta.content && refusal === delta.refusal;
    const out = same ? delta : { ...delta, content, ...(refusal !== undefined ? { refusal } : {}) };
    // OpenAI's first delta of a choice carries role "assistant"; the openai SDK's stream helper
    // (ChatCompletionStream) throws "missing role for choice" without it, and some servers omit it.
    // Under redaction a choice's logprobs go, every chunk's: the redactor holds text across chunks, so a
    // chunk's tokens may be redacted in a later chunk's text, after their logprobs went out.
    const logprobs = this.options.redactAnswers && c.logprobs != null ? { logprobs: null } : {};
    return { ...c, delta: first && out.role === undefined ? { role: 'assistant', ...out } : out, finish_reason: finish, ...logprobs };
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
   * Chunks that release text still held by the redactors when the upstream ended without a
   * finish reason for a choice (e.g. an error mid-stream), so nothing the caller was due is lost.
   */
  drain(): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const [key, r] of this.redactors) {
      const rest = r.flush();
      // Keys: a choice's index for its content, -1 - index for its refusal.
      const [index, delta] = key >= 0 ? [key, { content: rest }] : [-1 - key, { refusal: rest }];
      if (rest) out.push({ id: this.options.id, object: 'chat.completion.chunk', created: this.created, model: this.options.model, choices: [{ index, delta, finish_reason: null }], ...(this.options.includeUsage ? { usage: null } : {}) });
    }
    return out;
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
