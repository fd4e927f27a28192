import type { ChatCompletionChunk, ChatCompletionContentPart } from 'openai/resources/chat/completions';
import type { GuardrailVerdict } from '../pipeline.js';
import { textOfContent, withTextOfContent } from './message-texts.js';

/**
 * Characters of a choice's new text checked at once. Bedrock bills ApplyGuardrail by text units of
 * up to 1,000 characters: a window and its context (`GUARD_CONTEXT_CHARS`) make one unit, so a
 * streamed answer costs about what the whole answer's one check costs per 1,000 characters, plus
 * a quarter for the overlap. The caller waits for a window to fill before seeing it: ~750
 * characters is ~150–190 tokens, 2–4 s at 50–100 tokens/s (Bedrock's own synchronous stream mode
 * buffers "one or more response chunks" the same way; NVIDIA NeMo Guardrails' output-rail
 * streaming defaults to 200 tokens per chunk).
 */
export const GUARD_WINDOW_CHARS = 750;

/**
 * Characters of already released text sent again before a window, so a phrase or sentence cut by
 * a window boundary is judged whole (a denied topic, a word filter spanning two windows). ~50
 * tokens, NeMo Guardrails' default `context_size`.
 */
export const GUARD_CONTEXT_CHARS = 250;

/** ApplyGuardrail failed (throttled, unreachable): the held text is not released (the check fails closed). */
export class OutputGuardrailFailed extends Error {}

/** Bedrock ApplyGuardrail (OUTPUT) on one text per choice. */
export type OutputCheck = (texts: string[]) => Promise<GuardrailVerdict>;

/** What a blocked choice shows when the guardrail gave no message. */
const WITHHELD = "The answer was withheld by the tenant's guardrail.";

/**
 * A stream held back for the tenant's Bedrock output guardrail, as Bedrock Guardrails' synchronous
 * stream mode does: relayed chunks wait in order until ApplyGuardrail(OUTPUT) passed on the text
 * they carry (each choice's content, the texts `completeChat` checks), a window of
 * `GUARD_WINDOW_CHARS` at a time with `GUARD_CONTEXT_CHARS` of the text shown before it; `end`
 * checks what is left before the stream may finish. A guardrail that masks (ANONYMIZE) has each
 * choice's window shown masked: the masked text past the context goes in the window's first chunk
 * of that choice, the later ones carry `""` (unmaskedRest, showInQueue), and the masked text is
 * the next window's context; a masked text that no longer starts with its context (an entity cut
 * by a window boundary, its first half already shown) blocks the answer (fail closed). Chunks that carry no content (role, tool-call
 * fragments, finish reasons, usage) keep their place in the queue: nothing goes out before the
 * text that came before it passed. A block stops the release: `blockedChunks` ends every choice not
 * yet finished with the guardrail's text and finish_reason `content_filter`, as a whole answer is
 * blocked.
 */
export class StreamOutputGuard {
  private queue: ChatCompletionChunk[] = [];
  private readonly pending = new Map<number, string>();
  /** The last `GUARD_CONTEXT_CHARS` checked characters of each choice. */
  private readonly context = new Map<number, string>();
  /** Choices seen, and those whose first delta (role) and finish reason went out. */
  private readonly seen = new Set<number>();
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();
  /** The guardrail's text once it blocked the answer. */
  blocked: string | undefined;
  /** Windows of a choice whose text the guardrail masked (one per choice and window), for the audit record. */
  masked = 0;

  constructor(
    private readonly check: OutputCheck,
    private readonly send: (chunk: ChatCompletionChunk) => void | Promise<void>,
    /** Fields for the log line of a fail-closed masking (request id, tenant, guardrail). @default - none */
    private readonly log: Record<string, unknown> = {},
  ) {}

  /** Queues a relayed chunk and checks a window when one is full; false once the answer is blocked. */
  async push(chunk: ChatCompletionChunk): Promise<boolean> {
    if (this.blocked !== undefined) return false;
    // A window also ends where a choice's held text is followed by a tool call: its text, masked or
    // not, then goes out before the call, never moved past it (showInQueue puts a masked window in
    // the window's first chunk).
    if ((chunk.choices ?? []).some((c) => c.delta?.tool_calls?.length && this.pending.has(c.index)) && !(await this.release())) return false;
    this.queue.push(chunk);
    let full = false;
    for (const c of chunk.choices ?? []) {
      this.seen.add(c.index);
      const text = textOfContent(c.delta?.content as string | ChatCompletionContentPart[] | null | undefined);
      if (!text) continue;
      const pending = (this.pending.get(c.index) ?? '') + text;
      this.pending.set(c.index, pending);
      if (pending.length >= GUARD_WINDOW_CHARS) full = true;
    }
    // Nothing unchecked: the chunk goes out as it came (no added latency for what need not be checked).
    if (full || this.pending.size === 0) return this.release();
    return true;
  }

  /** Checks what is left and releases it; false when it was blocked. */
  end(): Promise<boolean> {
    return this.blocked !== undefined ? Promise.resolve(false) : this.release();
  }

  private async release(): Promise<boolean> {
    if (this.pending.size) {
      const texts = [...this.pending].map(([i, text]) => (this.context.get(i) ?? '') + text);
      const verdict = await this.check(texts).catch((e: unknown) => {
        throw new OutputGuardrailFailed((e as Error)?.message ?? String(e));
      });
      if (verdict.blocked) {
        this.blocked = verdict.reason ?? WITHHELD;
        return false;
      }
      const shown = verdict.masked ? this.unmaskedRest(verdict.masked) : new Map(this.pending);
      if (shown === undefined) {
        this.blocked = WITHHELD;
        return false;
      }
      for (const [i, text] of shown) {
        if (text !== this.pending.get(i)) this.showInQueue(i, text);
        this.context.set(i, ((this.context.get(i) ?? '') + text).slice(-GUARD_CONTEXT_CHARS));
      }
      this.pending.clear();
    }
    const out = this.queue;
    this.queue = [];
    for (const chunk of out) {
      for (const c of chunk.choices ?? []) {
        this.started.add(c.index);
        if (c.finish_reason) this.finished.add(c.index);
      }
      await this.send(chunk);
    }
    return true;
  }

  /**
   * What each pending choice shows after a masked verdict (one masked text per text checked, each
   * the choice's context and window): the masked text past the context that was sent, which must
   * start it (the context was shown already and cannot change). Undefined when a masked text does
   * not start with its context: the guardrail masked into text already shown (an entity cut by the
   * window boundary: its first half went out as it was, only the whole was recognised): blocked,
   * fail closed, with a warning in the log.
   */
  private unmaskedRest(masked: string[]): Map<number, string> | undefined {
    const shown = new Map<number, string>();
    for (const [k, [i, text]] of [...this.pending].entries()) {
      const context = this.context.get(i) ?? '';
      if (!masked[k].startsWith(context)) {
        console.warn(JSON.stringify({ level: 'WARN', message: 'the output guardrail masked text already shown (an entity across a window boundary): the answer is blocked (fail closed)', ...this.log, choice: i, contextChars: context.length }));
        return undefined;
      }
      const rest = masked[k].slice(context.length);
      if (rest !== text) this.masked += 1;
      shown.set(i, rest);
    }
    return shown;
  }

  /**
   * Choice `index`'s text in the queued chunks becomes `text`: all of it in the first queued chunk
   * that carries text of that choice, none (`""`) in the later ones, which stay in the queue (they
   * may carry a role, a finish reason, tool calls). The choice's logprobs in the queued chunks
   * become null: they spell the tokens as the model wrote them, the masked text too. The chunks are
   * replaced, not changed.
   */
  private showInQueue(index: number, text: string): void {
    let first = true;
    this.queue = this.queue.map((chunk) => {
      const choice = chunk.choices?.find((c) => c.index === index);
      if (!choice) return chunk;
      const content = choice.delta?.content as string | ChatCompletionContentPart[] | null | undefined;
      const carries = Boolean(textOfContent(content));
      if (!carries && choice.logprobs == null) return chunk;
      const shown = carries ? (withTextOfContent(content, first ? text : '') as string) : undefined;
      if (carries) first = false;
      const next = { ...choice, ...(carries ? { delta: { ...choice.delta, content: shown } } : {}), logprobs: null };
      return { ...chunk, choices: chunk.choices.map((c) => (c === choice ? next : c)) };
    });
  }

  /**
   * After a block: the guardrail's text as the rest of each choice not finished yet (with role
   * `assistant` when none of it went out) and finish_reason `content_filter`, then the held usage
   * chunk, if any (the caller asked for usage). `created`: the stream's (Unix seconds).
   */
  blockedChunks(id: string, model: string, created: number): ChatCompletionChunk[] {
    const open = [...this.seen].filter((i) => !this.finished.has(i)).sort((a, b) => a - b);
    const choices: ChatCompletionChunk.Choice[] = open.map((index) => ({
      index, delta: { ...(this.started.has(index) ? {} : { role: 'assistant' as const }), content: this.blocked ?? '' }, finish_reason: 'content_filter', logprobs: null,
    }));
    const usage = this.queue.filter((c) => (c.choices ?? []).length === 0 && c.usage);
    this.queue = [];
    return [...(choices.length ? [{ id, object: 'chat.completion.chunk' as const, created, model, choices }] : []), ...usage];
  }
}
