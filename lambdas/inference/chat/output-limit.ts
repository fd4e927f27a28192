import type { ChatCompletion, ChatCompletionChunk, ChatCompletionContentPart } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { countCompletionTokens } from '../token-count.js';
import { reasoningOf } from './answer-texts.js';
import { textOfContent } from './message-texts.js';
import { isCount } from './reported-usage.js';

/**
 * The output limit of a chat request, per choice: the lower of the caller's `max_tokens` /
 * `max_completion_tokens` (the tenant's cap is sent as `max_completion_tokens` when the caller sent
 * neither), never more than what was reserved per choice (`reserve`: the model's maximum when no
 * limit was sent). The gateway enforces it itself (`OutputLimiter`, `capAnswer`): an upstream that
 * ignores the limit must not spend past the tenant's cap and budgets.
 */
export function outputLimitOf(body: { max_tokens?: number | null; max_completion_tokens?: number | null }, reserve: number): number {
  const sent = [body.max_tokens, body.max_completion_tokens].filter((v): v is number => typeof v === 'number');
  return Math.min(reserve, ...sent);
}

/**
 * Where the gateway cuts an upstream that answers past the output limit, in its o200k count: the
 * limit plus a quarter of it, at least 16 tokens more (Infinity stays Infinity). An upstream that
 * honours the limit counts it in its own tokenizer (Llama's, Claude's, Qwen's), which can make
 * fewer tokens of the same text than o200k does: held to the o200k count itself, an honest answer
 * would lose its last words and be called `length`. The cut is for upstreams that ignore the
 * limit (8,001 tokens for a limit of 100), not for tokenizer differences; what passes the limit
 * within the margin is billed as any answer is.
 */
export function overrunCeiling(limit: number): number {
  return Number.isFinite(limit) ? limit + Math.max(16, Math.ceil(limit / 4)) : limit;
}

/**
 * What a tool call (a whole answer's, or a stream's fragment) says, for the counts: a function's name and arguments, a
 * custom tool's name and input (chat `{type: 'custom', custom: {name, input}}`: free text the model wrote, output as a
 * function's arguments are).
 */
export function callText(t: { function?: { name?: string | null; arguments?: string | null } | null; custom?: { name?: string | null; input?: string | null } | null }): string {
  return `${t.function?.name ?? ''}${t.function?.arguments ?? ''}${t.custom?.name ?? ''}${t.custom?.input ?? ''}`;
}

/** What a delta says, for the counts (the limit's, the usage estimate's): content (a string or its text parts), refusal, tool names and arguments (a custom tool call's input too; the legacy function_call's too), streamed reasoning, an audio answer's transcript (its audio is spoken text: the transcript is the count's stand-in). */
export function deltaText(delta: ChatCompletionChunk.Choice['delta'] | undefined): string {
  if (!delta) return '';
  // reasoning_content / reasoning: what vLLM, DeepSeek and OpenRouter stream of a model's thinking (not OpenAI's type; billed as output; once when a server sends both with one text)
  let text = textOfContent(delta.content as string | ChatCompletionContentPart[] | null | undefined) + (delta.refusal ?? '') + reasoningOf(delta);
  for (const t of delta.tool_calls ?? []) text += callText(t);
  if (delta.function_call) text += (delta.function_call.name ?? '') + (delta.function_call.arguments ?? '');
  const transcript = (delta as { audio?: { transcript?: unknown } }).audio?.transcript;
  if (typeof transcript === 'string') text += transcript;
  return text;
}

/**
 * The longest prefix of `text` (whole code points) whose o200k count, after `before`, stays within
 * `limit` tokens (binary search: the count of a prefix grows with its length).
 */
export function prefixWithin(text: string, limit: number, before = ''): string {
  const points = Array.from(text);
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countCompletionTokens(before + points.slice(0, mid).join('')) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return points.slice(0, lo).join('');
}

interface Counted {
  /** Everything the choice said so far (what was relayed of it). */
  text: string;
  /** Its count: exact after a recount, then plus the count of each delta since (an estimate at or a little above the exact count). */
  tokens: number;
}

/**
 * Tokens an upstream may go on producing past the limit, while other choices are still open,
 * before the gateway closes it (`OutputLimiter.over`; more when `limit` × `n` is more): an upstream
 * that ignores `n` sends no other choice to wait for, and one chunk carrying more than the limit
 * must not end choices that are still answering within theirs. About a second of generation.
 */
const DROPPED_BEFORE_CLOSING = 1024;

/**
 * Enforces a request's output limit on an upstream's chunks, before they are relayed: each choice's
 * output is counted as it comes (o200k, the tokenizer that settles usage the upstream does not
 * report); the delta that passes the limit is cut to what fits (its text; a tool-call or legacy
 * function_call fragment in it is left out) and ends its choice with finish_reason `length`, as OpenAI ends a length-limited
 * choice. Later deltas of that choice are dropped (their text is kept in `dropped`: the upstream
 * produced it, the usage estimate counts it). `over` says when the stream is to end: every choice
 * of the request has ended and at least one was cut, or the text dropped past the limit is more
 * than the whole request may have (`limit` × `n`, at least DROPPED_BEFORE_CLOSING: an upstream that
 * ignores `n` too never sends the other choices); the upstream is then closed, and `closing` ends the choices still open.
 *
 * Counting: each delta is counted alone and added (cheap: short deltas are cached); only when that
 * sum passes the limit is the choice's whole text counted again, exactly, so a long answer is
 * recounted a few times near its limit, not at every chunk.
 */
export class OutputLimiter {
  private readonly counts = new Map<number, Counted>();
  private readonly ended = new Set<number>();
  /** Choices cut at the limit. */
  readonly cut = new Set<number>();
  /** Text the upstream produced past the limit, not relayed. */
  dropped = '';

  constructor(readonly limit: number, private readonly choices: number) {}

  /** o200k tokens of `dropped`. */
  private droppedTokens = 0;

  /** Whether to stop reading the upstream: the limit cut a choice, and every choice has ended or more than the request's whole limit was dropped. */
  get over(): boolean {
    if (this.cut.size === 0) return false;
    if (this.droppedTokens > Math.max(this.limit * this.choices, DROPPED_BEFORE_CLOSING)) return true;
    for (let i = 0; i < this.choices; i++) if (!this.ended.has(i)) return false;
    return true;
  }

  /**
   * Once `over`: a chunk (shaped as `template`) ending each choice seen but not ended with
   * finish_reason `length`, so the stream ends as a length-limited one; undefined when none is open.
   */
  closing(template: ChatCompletionChunk): ChatCompletionChunk | undefined {
    const open = [...this.counts.keys()].filter((i) => !this.ended.has(i));
    if (!open.length) return undefined;
    for (const i of open) {
      this.ended.add(i);
      this.cut.add(i);
    }
    const { usage: _usage, ...rest } = template;
    return { ...rest, choices: open.map((index) => ({ index, delta: {}, finish_reason: 'length' as const, logprobs: null })) };
  }

  /** The chunk as it may be relayed (choices past the limit cut or left out), or undefined when nothing of it is. */
  pass(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
    const choices = chunk.choices ?? [];
    if (choices.length === 0) return chunk;
    const out: ChatCompletionChunk.Choice[] = [];
    for (const c of choices) {
      const kept = this.choice(c);
      if (kept) out.push(kept);
    }
    if (out.length === 0) return undefined; // its usage, if any, is the caller's to keep (streamChat), not a usage chunk to send
    return { ...chunk, choices: out };
  }

  private choice(c: ChatCompletionChunk.Choice): ChatCompletionChunk.Choice | undefined {
    const piece = deltaText(c.delta);
    if (this.cut.has(c.index) || this.ended.has(c.index)) {
      this.dropped += piece;
      if (piece) this.droppedTokens += countCompletionTokens(piece);
      return undefined;
    }
    let n = this.counts.get(c.index);
    if (!n) this.counts.set(c.index, (n = { text: '', tokens: 0 }));
    const estimate = n.tokens + (piece ? countCompletionTokens(piece) : 0);
    const before = n.text;
    n.text += piece;
    n.tokens = estimate;
    if (estimate > this.limit) n.tokens = countCompletionTokens(n.text);
    if (n.tokens <= this.limit) {
      if (c.finish_reason) this.ended.add(c.index);
      return c;
    }
    // Past the limit: what fits of this delta's text goes out, and the choice ends with `length`: its
    // reasoning first (a reasoning model thinks before it answers; /v1/responses shows it first), then its content.
    const thought = reasoningOf(c.delta);
    const keptThought = thought ? prefixWithin(thought, this.limit, before) : '';
    const fullContent = typeof c.delta?.content === 'string' ? c.delta.content : '';
    const content = fullContent ? prefixWithin(fullContent, this.limit, before + keptThought) : '';
    n.text = before + keptThought + content;
    // Counted for billing, not toward closing: one large chunk must not end the other choices (only what comes after it does).
    // What was not relayed of it, once (the relay counts what it relays).
    // (piece is the content's text, the refusal, the reasoning, then the calls' and the transcript's: deltaText)
    const contentText = textOfContent(c.delta?.content as string | ChatCompletionContentPart[] | null | undefined);
    const refusal = c.delta?.refusal ?? '';
    this.dropped += contentText.slice(content.length) + refusal + thought.slice(keptThought.length) + piece.slice(contentText.length + refusal.length + thought.length);
    this.cut.add(c.index);
    this.ended.add(c.index);
    const { tool_calls: _calls, function_call: _function, refusal: _refusal, content: _content, audio: _audio, ...rest } = (c.delta ?? {}) as ChatCompletionChunk.Choice['delta'] & { audio?: unknown };
    return { ...c, delta: { ...rest, ...cutReasoning(c.delta, keptThought), ...(content ? { content } : {}) }, finish_reason: 'length' };
  }
}

/**
 * A delta's or message's reasoning fields (`reasoning_content` / `reasoning`, as `reasoningOf` reads them)
 * holding only `kept`, a prefix of their text: the same text under both names stays so; different texts
 * (one text, the first then the second) are cut where `kept` ends. Fields that are not strings stay as they are.
 */
function cutReasoning(m: unknown, kept: string): Record<string, unknown> {
  const r = (m ?? {}) as { reasoning_content?: unknown; reasoning?: unknown };
  const legacy = typeof r.reasoning_content === 'string' ? r.reasoning_content : undefined;
  const current = typeof r.reasoning === 'string' ? r.reasoning : undefined;
  if (legacy === undefined && current === undefined) return {};
  if (legacy !== undefined && legacy === current) return { reasoning_content: kept, reasoning: kept };
  const first = (legacy ?? '').slice(0, kept.length);
  return {
    ...(legacy !== undefined ? { reasoning_content: first } : {}),
    ...(current !== undefined ? { reasoning: kept.slice(first.length) } : {}),
  };
}

/** Thrown for a whole answer whose tool calls pass the output limit: cut arguments would not be JSON. */
export class ToolCallsOverLimit extends Error {}

/**
 * A whole answer held to the output limit per choice (o200k counts of reasoning, content, refusal, tool
 * calls and the legacy function_call): a choice over it has its reasoning, then its content, cut to what fits after its
 * refusal, and finish_reason `length`. Returns the answer unchanged when every choice is within the limit.
 * @throws ToolCallsOverLimit when a choice over the limit has tool calls or a function_call (the endpoint answers 502
 *   `upstream_overrun`: truncated JSON arguments would be an unusable call, and a call dropped from
 *   a tool_calls answer would change what the caller does next)
 */
export function capAnswer(answer: ChatCompletion, limit: number): { answer: ChatCompletion; cut: boolean; largest: number } {
  let cut = false;
  let largest = 0;
  const choices = (answer.choices ?? []).map((c) => {
    const m = c.message;
    const content = textOfContent(m?.content as string | ChatCompletionContentPart[] | null | undefined);
    const calls = (m?.tool_calls ?? []).map(callText).join('')
      + (m?.function_call ? `${m.function_call.name ?? ''}${m.function_call.arguments ?? ''}` : '');
    // A reasoning model's thinking (reasoning_content / reasoning, once when both say one text) is output too, shown before the answer.
    const thought = reasoningOf(m);
    const tokens = countCompletionTokens(`${thought}${content}${m?.refusal ?? ''}${calls}`);
    largest = Math.max(largest, tokens);
    if (tokens <= limit) return c;
    if (m?.tool_calls?.length || m?.function_call) throw new ToolCallsOverLimit(`choice ${c.index} has ${m.function_call ? 'a function_call' : 'tool calls'} and ${tokens} completion tokens, over the limit of ${limit}`);
    cut = true;
    const room = Math.max(0, limit - (m?.refusal ? countCompletionTokens(m.refusal) : 0));
    const keptThought = thought ? prefixWithin(thought, room) : '';
    return { ...c, message: { ...m, ...cutReasoning(m, keptThought), content: prefixWithin(content, room, keptThought) }, finish_reason: 'length' as const };
  });
  return { answer: cut ? { ...answer, choices } : answer, cut, largest };
}

/** The completion tokens an upstream reported, when it reported any. */
export function reportedCompletion(usage: CompletionUsage | null | undefined): number | undefined {
  return isCount(usage?.completion_tokens) ? usage.completion_tokens : undefined;
}
