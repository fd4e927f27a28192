import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * `parallel_tool_calls: false`, OpenAI's "at most one tool call per assistant turn" (the `openai` package:
 * "Whether to enable parallel function calling during tool use"), held by the gateway for every provider.
 *
 * OpenAI honours the field itself; other upstreams may not: vLLM ignored it until vllm-project/vllm#26233 (2025-10;
 * vllm-project/vllm#9451), SGLang answered several calls with it (sgl-project/sglang#9696), TGI's chat request has no
 * such field, and Converse has no switch for it (Bedrock holds its answers itself too:
 * providers/bedrock/one-tool-call.ts). A client that sent `false` relies on one call (LangChain's
 * `with_structured_output`, LlamaIndex's `structured_predict`, the Agents SDK and the AI SDK send it), so a whole
 * answer keeps each choice's first tool call and a stream relays each choice's first call only (StreamRelay,
 * `oneToolCall`). Text, `finish_reason` ("tool_calls") and usage stay as the upstream answered: the calls dropped were
 * generated and are billed; their count goes to an INFO log line (logDroppedCalls). On an upstream that honoured
 * the field nothing changes.
 *
 * @returns true when the body asks for one call per turn: `parallel_tool_calls: false` with a non-empty `tools`
 *   (without tools the field is a 400 already: request-schema.ts)
 */
export function oneToolCall(body: Pick<ChatCompletionCreateParams, 'parallel_tool_calls' | 'tools'>): boolean {
  return body.parallel_tool_calls === false && (body.tools?.length ?? 0) > 0;
}

/**
 * A whole answer with each choice's `message.tool_calls` cut to its first call (the choice otherwise as it came),
 * and how many calls were dropped over all choices. An answer with at most one call per choice comes back as it is.
 */
export function firstToolCalls(answer: ChatCompletion): { answer: ChatCompletion; dropped: number } {
  let dropped = 0;
  const choices = (answer.choices ?? []).map((c) => {
    const calls = c.message?.tool_calls;
    if (!Array.isArray(calls) || calls.length <= 1) return c;
    dropped += calls.length - 1;
    return { ...c, message: { ...c.message, tool_calls: calls.slice(0, 1) } };
  });
  return dropped ? { answer: { ...answer, choices }, dropped } : { answer, dropped };
}

/**
 * Per choice, the streamed index of its first tool call: the fragments of any other call are left out
 * (`keep`). The fragments must carry their `index` (StreamRelay numbers the calls of an upstream that sends none).
 */
export class FirstToolCallFilter {
  private readonly kept = new Map<number, number>();
  private readonly others = new Map<number, Set<number>>();

  /** `calls` of choice `choice` without the fragments of calls other than its first; undefined when none is left (an empty list as it came). */
  keep(choice: number, calls: ChatCompletionChunk.Choice.Delta.ToolCall[]): ChatCompletionChunk.Choice.Delta.ToolCall[] | undefined {
    if (!calls.length) return calls;
    if (!this.kept.has(choice)) this.kept.set(choice, calls[0].index);
    const first = this.kept.get(choice);
    const kept = calls.filter((t) => {
      if (t.index === first) return true;
      let others = this.others.get(choice);
      if (!others) this.others.set(choice, (others = new Set()));
      others.add(t.index);
      return false;
    });
    return kept.length ? (kept.length === calls.length ? calls : kept) : undefined;
  }

  /** How many calls were left out, over all choices. */
  get dropped(): number {
    return [...this.others.values()].reduce((n, s) => n + s.size, 0);
  }
}

/** One JSON log line when calls were dropped for `parallel_tool_calls: false` (nothing when none was). */
export function logDroppedCalls(model: string, dropped: number): void {
  if (dropped > 0) {
    logger.info('parallel_tool_calls false: the upstream answered more than one tool call; the first of each choice is returned, the others dropped', { model, dropped });
  }
}
