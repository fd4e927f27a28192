import type { ChatCompletionChunk, ChatCompletionContentPart } from 'openai/resources/chat/completions';
import { textOfContent } from './message-texts.js';

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
export type OutputCheck = (texts: string[]) => Promise<{ blocked: boolean; reason?: string }>;

/**
 * A stream held back for the tenant's Bedrock output guardrail, as Bedrock Guardrails' synchronous
 * stream mode does: relayed chunks wait in order until ApplyGuardrail(OUTPUT) passed on the text
 * they carry (each choice's content, the texts `completeChat` checks), a window of
 * `GUARD_WINDOW_CHARS` at a time with `GUARD_CONTEXT_CHARS` of the text before it; `end` checks
 * what is left before the stream may finish. Chunks that carry no content (role, tool-call
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

  constructor(private readonly check: OutputCheck, private readonly send: (chunk: ChatCompletionChunk) => void | Promise<void>) {}

  /** Queues a relayed chunk and checks a window when one is full; false once the answer is blocked. */
  async push(chunk: ChatCompletionChunk): Promise<boolean> {
    if (this.blocked !== undefined) return false;
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
        this.blocked = verdict.reason ?? "The answer was withheld by the tenant's guardrail.";
        return false;
      }
      for (const [i, text] of this.pending) this.context.set(i, ((this.context.get(i) ?? '') + text).slice(-GUARD_CONTEXT_CHARS));
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
