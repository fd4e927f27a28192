import type { ChatCompletion, ChatCompletionChunk, ChatCompletionContentPart, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { GuardrailVerdict } from '../pipeline.js';
import { answerExtras, isCallArguments, isJson, reasoningOf } from './answer-texts.js';
import { textOfContent, withTextOfContent } from './message-texts.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

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

/** ApplyGuardrail failed (throttled, unreachable, stopped by the request's deadline: `cause`): the held text is not released (the check fails closed). */
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
 * by a window boundary, its first half already shown) blocks the answer (fail closed).
 *
 * A choice's tool calls and refusal are checked whole, as a whole answer's are (answerExtras: each
 * call's arguments and the refusal a text of its own): from the choice's first tool-call fragment
 * or refusal delta until it finishes (its finish_reason, or `end`), its chunks, and every chunk
 * after them, stay in the queue (a call's arguments can be masked, and kept JSON, only when
 * complete; a client acts on a call only once it is complete). Its text before the call still goes
 * out in windows (a window ends where a call follows text); text after it waits with the call.
 * The choice's finish then releases with one ApplyGuardrail call: the pending windows, then each
 * complete choice's refusal and arguments (a custom tool call's `input`, likewise). Masked: a call's masked arguments (or input) go in its first
 * fragment that carries arguments, `""` in its later ones (showHeld), the refusal likewise; masked
 * arguments that are no longer JSON block the answer (fail closed, as a whole answer).
 * The deprecated legacy `delta.function_call` fragments (`{name?, arguments}`: an OpenAI-compatible
 * upstream asked with `functions`) are held and checked the same way, as one call of their own.
 * A streamed audio answer (`modalities: ["text", "audio"]`: `delta.audio` with transcript and
 * base64 audio data in pieces) is held the same way from the choice's first audio delta, and its
 * transcript checked whole as a text of its own (as a whole answer's `message.audio.transcript`);
 * a transcript the guardrail masks blocks the answer (fail closed: the audio data says what the
 * transcript would mask, and no audio of it goes out).
 *
 * A held choice holds back only its own chunks: other choices' chunks (with `n` > 1, each choice a
 * stream of its own, interleaved by index) go out once their text passed, unless a chunk also
 * carries a held choice (then that chunk and every later one of its choices wait); a chunk
 * without choices (the usage chunk) waits behind anything held before it.
 *
 * Chunks that carry nothing checked (role, finish reasons, usage) keep their place in the queue:
 * nothing goes out before what came before it passed. A block stops the release: `blockedChunks`
 * ends every choice not yet finished with the guardrail's text and finish_reason `content_filter`,
 * as a whole answer is blocked.
 */
export class StreamOutputGuard {
  private queue: ChatCompletionChunk[] = [];
  private readonly pending = new Map<number, string>();
  /** Each choice's streamed reasoning (reasoning_content / reasoning) not checked yet: a text of its own per choice, checked with the windows; masked, it blocks (fail closed: it cannot be shown masked). */
  private readonly thinking = new Map<number, string>();
  /** The last `GUARD_CONTEXT_CHARS` checked characters of each choice's reasoning, sent before its next window as a text's context is (a phrase or an entity cut by a window boundary is judged whole). */
  private readonly thinkingContext = new Map<number, string>();
  /** The last `GUARD_CONTEXT_CHARS` checked characters of each choice. */
  private readonly context = new Map<number, string>();
  /**
   * Where each choice's unchecked chunks begin in the queue (0 when absent): a window checked while
   * a tool call ahead of it is held stays queued, and the next window is shown from here.
   */
  private readonly checkedTo = new Map<number, number>();
  /** Choices whose tool calls, refusal or audio are held: where in the queue the hold began (their first fragment). */
  private readonly holdFrom = new Map<number, number>();
  /** Choices with a chunk that waits in the queue, as the last release left it (and chunks queued after it that wait: waitsBehind). */
  private stuck = new Set<number>();
  /** An ApplyGuardrail call failed (OutputGuardrailFailed thrown): nothing more is checked or sent. */
  private failed = false;
  /** Characters each held choice holds (heldSize), bounded by maxHeldChars. */
  private readonly heldChars = new Map<number, number>();
  /** Held choices that finished (their finish_reason is queued): checked at the next release. */
  private readonly complete = new Set<number>();
  /** Choices seen, and those whose first delta (role) and finish reason went out. */
  private readonly seen = new Set<number>();
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();
  /** The guardrail's text once it blocked the answer. */
  blocked: string | undefined;
  /**
   * For the audit record: windows of a choice whose text the guardrail masked (one per choice and
   * window), and held choices whose refusal or tool-call arguments it masked (one per choice).
   */
  masked = 0;

  constructor(
    private readonly check: OutputCheck,
    private readonly send: (chunk: ChatCompletionChunk) => void | Promise<void>,
    /** Fields for the log line of a fail-closed masking (request id, tenant, guardrail). @default - none */
    private readonly log: Record<string, unknown> = {},
    /** Most characters one choice may hold (tool-call arguments, refusal, audio data and transcript) before it is blocked. @default MAX_HELD_CHARS */
    private readonly maxHeldChars = MAX_HELD_CHARS,
  ) {}

  /** Queues a relayed chunk and checks a window when one is full or a held choice finished; false once the answer is blocked. */
  async push(chunk: ChatCompletionChunk): Promise<boolean> {
    if (this.blocked !== undefined || this.failed) return false;
    // A window also ends where a choice's held text is followed by a tool call: its text, masked or
    // not, then goes out before the call, never moved past it (showInQueue puts a masked window in
    // the window's first chunk). Text after the call waits with it (checked with it at the finish).
    if ((chunk.choices ?? []).some((c) => callOf(c.delta) && this.pending.has(c.index) && !this.holdFrom.has(c.index)) && !(await this.release())) return false;
    const at = this.queue.length;
    this.queue.push(chunk);
    let full = false;
    let finished = false;
    for (const c of chunk.choices ?? []) {
      this.seen.add(c.index);
      // The choice's first tool-call (or legacy function_call) fragment, refusal delta or audio delta (transcript or audio data): it is held from here until it finishes.
      if (!this.holdFrom.has(c.index) && (callOf(c.delta) || (typeof c.delta?.refusal === 'string' && c.delta.refusal) || audioOf(c.delta))) this.holdFrom.set(c.index, at);
      if (this.holdFrom.has(c.index)) {
        const held = (this.heldChars.get(c.index) ?? 0) + heldSize(c.delta);
        this.heldChars.set(c.index, held);
        if (held > this.maxHeldChars) {
          // Held whole until the choice finishes, an answer the upstream never ends would fill the process: fail closed.
          logger.warn(`a guarded stream's choice held more than ${this.maxHeldChars} characters (tool calls, refusal, audio) before it finished: the answer is blocked (fail closed)`, { ...this.log, choice: c.index });
          this.blocked = WITHHELD;
          return false;
        }
      }
      if (c.finish_reason && this.holdFrom.has(c.index)) {
        this.complete.add(c.index);
        finished = true;
      }
      const thought = reasoningOf(c.delta);
      if (thought) {
        const all = (this.thinking.get(c.index) ?? '') + thought;
        this.thinking.set(c.index, all);
        if (all.length >= GUARD_WINDOW_CHARS) full = true;
      }
      const text = textOfContent(c.delta?.content as string | ChatCompletionContentPart[] | null | undefined);
      if (!text) continue;
      const pending = (this.pending.get(c.index) ?? '') + text;
      this.pending.set(c.index, pending);
      if (pending.length >= GUARD_WINDOW_CHARS) full = true;
    }
    if (full || finished) return this.release();
    if (this.pending.size > 0 || this.thinking.size > 0) return true;
    // Nothing unchecked: the chunk goes out as it came (no added latency for what need not be checked),
    // unless a held choice is ahead of it. With nothing pending, the queue holds only chunks that wait (the last
    // release left them); a chunk that waits too (it carries a held or stuck choice, or it is the usage chunk behind
    // them) changes nothing another release would see: it just joins them (a release walks the whole queue, once per
    // chunk of a held answer would be quadratic: 40,000 held audio or tool-call chunks took minutes).
    if (this.waitsBehind(chunk)) return true;
    return this.release();
  }

  /** Whether a chunk queued last waits, every chunk before it waiting (nothing pending): it carries a held choice or one queued before it, or it has no choices and follows a waiting chunk. */
  private waitsBehind(chunk: ChatCompletionChunk): boolean {
    const choices = chunk.choices ?? [];
    const before = this.queue.length - 1;
    if (before === 0) return choices.some((c) => this.holdFrom.has(c.index));
    if (choices.length === 0) return true;
    const wait = choices.some((c) => this.holdFrom.has(c.index) || this.stuck.has(c.index));
    if (wait) for (const c of choices) this.stuck.add(c.index);
    return wait;
  }

  /** Checks what is left (every held choice too, finished or not) and releases it; false when it was blocked. */
  end(options: { cut?: boolean } = {}): Promise<boolean> {
    // After a failed check nothing more is checked or released: the stream ends with that failure's error event.
    if (this.blocked !== undefined || this.failed) return Promise.resolve(false);
    if (options.cut) this.dropUnfinishedCalls();
    return this.release(true);
  }

  /**
   * The stream was cut (an upstream error, a timeout) before a held choice finished: its tool calls,
   * function_call and audio are incomplete and go nowhere (a client acts on a call once it is
   * whole, which it never will be); its text (content, refusal) is still checked and sent.
   */
  private dropUnfinishedCalls(): void {
    const open = new Set([...this.holdFrom.keys()].filter((i) => !this.complete.has(i)));
    if (!open.size) return;
    this.queue = this.queue.map((chunk) => (chunk.choices?.some((c) => open.has(c.index))
      ? { ...chunk, choices: chunk.choices.map((c) => {
        if (!open.has(c.index)) return c;
        const { tool_calls: _calls, function_call: _fn, audio: _audio, ...delta } = c.delta as ChatCompletionChunk.Choice['delta'] & { audio?: unknown };
        return { ...c, delta };
      }) }
      : chunk));
  }

  /**
   * One ApplyGuardrail call on the pending windows and the held choices that are complete (all of
   * them at the `end`), then the queue goes out up to the first chunk of a choice still held.
   */
  private async release(final = false): Promise<boolean> {
    const ready = [...this.holdFrom.keys()].filter((i) => final || this.complete.has(i)).sort((a, b) => a - b);
    const held = ready.map((i) => this.heldOf(i));
    // Each ready choice's refusal and call arguments, a text of its own (`choice`: the position in `ready`).
    const extras = answerExtras(held.map((h) => ({ message: h.message })));
    if (this.pending.size || this.thinking.size || extras.length) {
      const thoughts = [...this.thinking];
      const thoughtTexts = thoughts.map(([i, t]) => (this.thinkingContext.get(i) ?? '') + t);
      const texts = [...[...this.pending].map(([i, text]) => (this.context.get(i) ?? '') + text), ...thoughtTexts, ...extras.map((e) => e.text)];
      const verdict = await this.check(texts).catch((e: unknown) => {
        this.failed = true;
        throw new OutputGuardrailFailed((e as Error)?.message ?? String(e), { cause: e });
      });
      if (verdict.blocked) {
        this.blocked = verdict.reason ?? WITHHELD;
        return false;
      }
      const masked = verdict.masked;
      const windows = this.pending.size + thoughts.length; // the verdict's texts: the windows, the reasoning, then the extras
      // Masked reasoning cannot be shown masked (its chunks are relayed as they came): the answer is blocked (fail closed).
      const thoughtMasked = thoughts.findIndex((_, k) => masked !== undefined && masked[this.pending.size + k] !== thoughtTexts[k]);
      if (thoughtMasked >= 0) {
        logger.warn('the output guardrail masked streamed reasoning: the answer is blocked (fail closed)', { ...this.log, choice: thoughts[thoughtMasked][0] });
        this.blocked = WITHHELD;
        return false;
      }
      const maskedExtra = (k: number) => masked?.[windows + k] ?? extras[k].text;
      // Masked arguments that are no longer JSON cannot be shown: the answer is blocked (fail closed), as a whole answer's.
      const broken = extras.findIndex((e, k) => isCallArguments(e) && maskedExtra(k) !== e.text && !isJson(maskedExtra(k)));
      if (broken >= 0) {
        logger.warn('the output guardrail masked streamed tool-call (or function_call) arguments into text that is not JSON: the answer is blocked (fail closed)', { ...this.log, choice: ready[extras[broken].choice] });
        this.blocked = WITHHELD;
        return false;
      }
      // A masked audio transcript cannot un-say the audio that speaks it: the answer is blocked (fail closed), as a whole answer's.
      const spoken = extras.findIndex((e, k) => e.kind === 'transcript' && maskedExtra(k) !== e.text);
      if (spoken >= 0) {
        logger.warn('the output guardrail masked a streamed audio transcript: the audio says what was masked, the answer is blocked (fail closed)', { ...this.log, choice: ready[extras[spoken].choice] });
        this.blocked = WITHHELD;
        return false;
      }
      const shown = masked ? this.unmaskedRest(masked) : new Map(this.pending);
      if (shown === undefined) {
        this.blocked = WITHHELD;
        return false;
      }
      const checked = this.queue.length;
      for (const [i, text] of shown) {
        if (text !== this.pending.get(i)) this.showInQueue(i, text);
        this.context.set(i, ((this.context.get(i) ?? '') + text).slice(-GUARD_CONTEXT_CHARS));
        this.checkedTo.set(i, checked);
      }
      this.pending.clear();
      for (const [k, [i]] of thoughts.entries()) this.thinkingContext.set(i, thoughtTexts[k].slice(-GUARD_CONTEXT_CHARS));
      this.thinking.clear();
      ready.forEach((i, p) => {
        let refusal: string | undefined;
        let fn: string | undefined;
        const args = new Map<number | string, string>();
        extras.forEach((e, k) => {
          if (e.choice !== p || maskedExtra(k) === e.text) return;
          if (e.kind === 'refusal') refusal = maskedExtra(k);
          else if (e.kind === 'arguments' || e.kind === 'input') args.set(held[p].keys[e.call!], maskedExtra(k));
          else if (e.kind === 'function_call') fn = maskedExtra(k);
        });
        if (refusal === undefined && fn === undefined && !args.size) return;
        this.showHeld(i, refusal, args, fn);
        this.masked += 1;
      });
    }
    for (const i of ready) {
      this.holdFrom.delete(i);
      this.complete.delete(i);
      this.heldChars.delete(i);
    }
    // A choice still held waits for its finish from its first held chunk on; other choices' chunks go out (each
    // choice is a stream of its own, interleaved by index). A chunk waits when it carries a held choice there, or a
    // choice of which an earlier chunk waits (each choice keeps its order); a chunk without choices (the usage chunk)
    // when anything before it waits.
    const stuck = new Set<number>();
    const waits = this.queue.map((chunk, n) => {
      const choices = chunk.choices ?? [];
      const wait = choices.length === 0 ? stuck.size > 0 : choices.some((c) => stuck.has(c.index) || n >= (this.holdFrom.get(c.index) ?? Infinity));
      if (wait) for (const c of choices) stuck.add(c.index);
      if (wait && choices.length === 0) stuck.add(-1);
      return wait;
    });
    this.stuck = stuck;
    const out = this.queue.filter((_, n) => !waits[n]);
    this.queue = this.queue.filter((_, n) => waits[n]);
    // Positions in the queue move back by the chunks sent before them.
    const sentBefore = (p: number) => waits.slice(0, p).filter((w) => !w).length;
    for (const [i, n] of this.checkedTo) n - sentBefore(n) > 0 ? this.checkedTo.set(i, n - sentBefore(n)) : this.checkedTo.delete(i);
    for (const [i, n] of this.holdFrom) this.holdFrom.set(i, n - sentBefore(n));
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
   * Choice `index`'s held refusal, tool calls and legacy function_call, read from its queued chunks since the hold began:
   * as a message for answerExtras, and each call's key (by position in `tool_calls`).
   */
  private heldOf(index: number): { message: Pick<ChatCompletion.Choice['message'], 'refusal' | 'audio' | 'tool_calls' | 'function_call'>; keys: Array<number | string> } {
    const key = callKeyer();
    let refusal = '';
    let transcript = '';
    let fn: string | undefined;
    const calls = new Map<number | string, string>();
    // Calls whose fragments carry `custom` (a custom tool's, its `input` streamed as a function's `arguments` is).
    const custom = new Set<number | string>();
    for (const chunk of this.queue.slice(this.holdFrom.get(index))) {
      const c = chunk.choices?.find((x) => x.index === index);
      if (!c) continue;
      if (typeof c.delta?.refusal === 'string') refusal += c.delta.refusal;
      const audio = audioOf(c.delta);
      if (typeof audio?.transcript === 'string') transcript += audio.transcript;
      for (const t of c.delta?.tool_calls ?? []) {
        const k = key(t);
        const fragment = t as typeof t & { custom?: { input?: string } };
        if (fragment.custom) custom.add(k);
        calls.set(k, (calls.get(k) ?? '') + (t.function?.arguments ?? '') + (fragment.custom?.input ?? ''));
      }
      if (c.delta?.function_call) fn = (fn ?? '') + (c.delta.function_call.arguments ?? '');
    }
    const toolCalls = [...calls].map(([k, text], n): ChatCompletionMessageToolCall => (custom.has(k)
      ? { id: String(n), type: 'custom', custom: { name: '', input: text } }
      : { id: String(n), type: 'function', function: { name: '', arguments: text } }));
    const audio = transcript ? { audio: { id: '', data: '', expires_at: 0, transcript } } : {};
    const functionCall = fn !== undefined ? { function_call: { name: '', arguments: fn } } : {};
    return { message: { refusal: refusal || null, ...audio, tool_calls: toolCalls, ...functionCall }, keys: [...calls.keys()] };
  }

  /**
   * Choice `index`'s held chunks show its masked refusal and call arguments (the legacy function_call's: `fn`): each in the first
   * queued fragment that carries it (a call's by its key), `""` in the later ones; the choice's
   * logprobs in the held chunks become null (as showInQueue). The chunks are replaced, not changed.
   */
  private showHeld(index: number, refusal: string | undefined, args: Map<number | string, string>, fn?: string): void {
    const from = this.holdFrom.get(index) ?? 0;
    const key = callKeyer();
    const shown = new Set<number | string>();
    let refused = false;
    let called = false;
    this.queue = this.queue.map((chunk, n) => {
      const choice = n < from ? undefined : chunk.choices?.find((c) => c.index === index);
      if (!choice) return chunk;
      let delta = choice.delta ?? {};
      if (refusal !== undefined && typeof delta.refusal === 'string' && delta.refusal) {
        delta = { ...delta, refusal: refused ? '' : refusal };
        refused = true;
      }
      if (fn !== undefined && delta.function_call?.arguments) {
        delta = { ...delta, function_call: { ...delta.function_call, arguments: called ? '' : fn } };
        called = true;
      }
      if (delta.tool_calls?.length) {
        delta = {
          ...delta,
          tool_calls: delta.tool_calls.map((t) => {
            const k = key(t);
            const masked = args.get(k);
            const fragment = t as typeof t & { custom?: { name?: string; input?: string } };
            if (masked !== undefined && fragment.custom?.input) { // a custom tool's call: its masked input likewise
              const first = !shown.has(k);
              shown.add(k);
              return { ...t, custom: { ...fragment.custom, input: first ? masked : '' } } as typeof t;
            }
            if (masked === undefined || !t.function?.arguments) return t;
            const first = !shown.has(k);
            shown.add(k);
            return { ...t, function: { ...t.function, arguments: first ? masked : '' } };
          }),
        };
      }
      const next = { ...choice, delta, logprobs: null };
      return { ...chunk, choices: chunk.choices.map((c) => (c === choice ? next : c)) };
    });
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
        logger.warn('the output guardrail masked text already shown (an entity across a window boundary): the answer is blocked (fail closed)', { ...this.log, choice: i, contextChars: context.length });
        return undefined;
      }
      const rest = masked[k].slice(context.length);
      if (rest !== text) this.masked += 1;
      shown.set(i, rest);
    }
    return shown;
  }

  /**
   * Choice `index`'s text in the queued chunks not checked before (checkedTo) becomes `text`: all of
   * it in the first such chunk that carries text of that choice, none (`""`) in the later ones, which stay in the queue (they
   * may carry a role, a finish reason, tool calls). The choice's logprobs in the queued chunks
   * become null: they spell the tokens as the model wrote them, the masked text too. The chunks are
   * replaced, not changed.
   */
  private showInQueue(index: number, text: string): void {
    let first = true;
    const from = this.checkedTo.get(index) ?? 0;
    this.queue = this.queue.map((chunk, n) => {
      const choice = n < from ? undefined : chunk.choices?.find((c) => c.index === index);
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

/** Whether a delta carries a call: tool-call fragments or a legacy `function_call` fragment (an upstream asked with the deprecated `functions`). */
export function callOf(delta: ChatCompletionChunk.Choice['delta'] | null | undefined): boolean {
  return Boolean(delta?.tool_calls?.length || (delta?.function_call && typeof delta.function_call === 'object'));
}

/**
 * Most characters a guarded stream holds for one choice until it finishes (its tool-call arguments,
 * refusal, audio data and transcript): 32 Mi, about 8 minutes of base64 PCM16 audio at 24 kHz, far
 * past any tool call, and far under the router Lambda's 1,024 MB.
 */
export const MAX_HELD_CHARS = 32 * 1024 * 1024;

/** The characters of what a held choice's delta adds to its hold: tool-call names and arguments, function_call, refusal, audio data and transcript. */
function heldSize(delta: ChatCompletionChunk.Choice['delta'] | undefined): number {
  if (!delta) return 0;
  let n = typeof delta.refusal === 'string' ? delta.refusal.length : 0;
  for (const t of delta.tool_calls ?? []) n += (t.function?.name?.length ?? 0) + (t.function?.arguments?.length ?? 0);
  if (delta.function_call) n += (delta.function_call.name?.length ?? 0) + (delta.function_call.arguments?.length ?? 0);
  const audio = audioOf(delta);
  if (audio) n += (typeof audio.data === 'string' ? audio.data.length : 0) + (typeof audio.transcript === 'string' ? audio.transcript.length : 0);
  return n;
}

/** A streamed delta's audio (chat completions with `modalities: ["text", "audio"]`: `id`, base64 `data`, `transcript`, `expires_at` in pieces), which OpenAI's chunk type does not declare. */
export function audioOf(delta: unknown): { id?: string; data?: string; transcript?: string; expires_at?: number } | undefined {
  const audio = (delta as { audio?: unknown } | null | undefined)?.audio;
  return audio && typeof audio === 'object' ? (audio as { transcript?: string }) : undefined;
}

/**
 * Which call a tool-call fragment continues, for one choice's fragments read in order: its `index`;
 * without one (Gemini's OpenAI endpoint sends whole calls without it), a fragment with a new `id`
 * is a new call and one without an id continues the last (as the Responses stream reads them).
 */
export function callKeyer(): (t: { index?: number | null; id?: string | null }) => number | string {
  let last: string | undefined;
  return (t) => {
    if (typeof t.index === 'number') return t.index;
    if (t.id) last = `id:${t.id}`;
    return (last ??= 'id:');
  };
}
