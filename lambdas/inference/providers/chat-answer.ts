import type { ChatCompletion } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { describeIssues } from '../../../lib/zod-issues.js';
import { newCallId } from '../responses/ids.js';
import { ProviderError } from './provider.js';

/**
 * What the gateway reads of an upstream's whole chat answer (`ChatCompletion` of the `openai`
 * package): `choices`, each with a `message` object whose `content` is a string, null or a list of
 * parts (some servers answer parts), `refusal` a string or null, `tool_calls` a list of objects
 * whose `function` has a string `name` and `arguments`. Loose: every other field is relayed as the
 * upstream sent it. An answer outside this shape is the upstream's failure (502), not the
 * gateway's: the metering, the output guardrails and the Responses mapping read these fields.
 */
const ToolCall = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
  custom: z.looseObject({ name: z.string(), input: z.string() }).nullish(),
});
const Message = z.looseObject({
  content: z.union([z.string(), z.array(z.looseObject({}))]).nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(ToolCall).nullish(),
  function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
  annotations: z.array(z.unknown()).nullish(),
});
const ChatAnswer = z.looseObject({
  choices: z.array(z.looseObject({ index: z.number().int().nonnegative().nullish(), message: Message, finish_reason: z.string().nullish() })),
});

/**
 * A tool call whose `function.arguments` is a JSON object instead of its text (TGI before 3.2,
 * huggingface/text-generation-inference#3076): the text of that object, as OpenAI sends it. Mapped,
 * not refused: the arguments are all there. With `whole`, arguments left out or null are `''`, as
 * a stream's null fragments add up to (a whole answer's call then reads the same as a streamed one).
 */
export function argumentsAsText(call: unknown, whole = false): void {
  const fn = (call as { function?: { arguments?: unknown } } | null)?.function;
  if (!fn || typeof fn !== 'object') return;
  if (fn.arguments !== null && typeof fn.arguments === 'object') fn.arguments = JSON.stringify(fn.arguments);
  else if (whole && fn.arguments == null) fn.arguments = '';
}

/**
 * The `type` a tool call's body names, for a call that has none: `function` for a `function`
 * object, `custom` for a `custom` one. OpenAI's tool calls always carry it (the `openai` package's
 * `ChatCompletionMessageToolCall` is a union discriminated by it); some servers leave it out
 * (vLLM's streamed calls with a named `tool_choice`, vllm-project/vllm#16340), and the Node SDK's
 * stream helpers (`chat.completions.stream`, `runTools`) then throw "tool call snapshot missing
 * `type`". For a stream, the relay asks this of the fragment that opens each call (StreamRelay).
 * @param call a whole call, or the fragment that opens a streamed call
 * @returns the type to add, or undefined (the call has one, or names no body)
 */
export function missingCallType(call: unknown): 'function' | 'custom' | undefined {
  if (!call || typeof call !== 'object') return undefined;
  const c = call as { type?: unknown; function?: unknown; custom?: unknown };
  if (c.type !== undefined && c.type !== null) return undefined;
  return c.function && typeof c.function === 'object' ? 'function' : c.custom && typeof c.custom === 'object' ? 'custom' : undefined;
}

/**
 * `text` as an upstream's whole chat answer.
 * @param who the upstream as the messages name it (`openai-compatible`, `SageMaker endpoint x`)
 * @throws ProviderError (502 to the caller, retryable as `retryable` says) for a body that is not
 *   JSON, an error body with status 200 (no `choices`), or an answer outside the shape the gateway
 *   reads (the first field at fault named)
 */
export function chatAnswerOf(text: string, who: string, retryable: boolean): ChatCompletion {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ProviderError(`${who} answered with a body that is not JSON: ${text.slice(0, 120)}`, undefined, retryable);
  }
  const record = answer !== null && typeof answer === 'object' ? (answer as { choices?: unknown; error?: { message?: unknown } }) : undefined;
  // Some servers answer a failure with 200 and an error body: a failure, not an empty answer.
  if (!Array.isArray(record?.choices)) {
    const said = typeof record?.error?.message === 'string' ? `: ${record.error.message.slice(0, 300)}` : '';
    throw new ProviderError(`${who} answered 200 without choices${said}`, undefined, retryable);
  }
  return readableChatAnswer(answer, who);
}

/**
 * `answer` (a parsed body with `choices`) when it has the shape the gateway reads, with what some
 * servers leave out filled in as OpenAI sends it (changed in place): a choice's `index` (its place in
 * `choices`), a tool call's `type` (missingCallType), its `id` (a new `call_…`, newCallId) and its
 * arguments as text (argumentsAsText).
 * @throws ProviderError naming the first field at fault (`choices[0].message.content = 5: ...`),
 *   not retried on the same model (the model answers the same shape again: each retry would be a
 *   billed call); the next model of the chain is tried
 */
export function readableChatAnswer(answer: unknown, who: string): ChatCompletion {
  for (const [k, choice] of (answer as { choices: unknown[] }).choices.entries()) {
    // a choice without `index` is numbered by its place, as OpenAI numbers them (ChatCompletion.Choice requires it)
    if (choice && typeof choice === 'object' && (choice as { index?: unknown }).index == null) (choice as { index: number }).index = k;
    const calls = (choice as { message?: { tool_calls?: unknown } } | null)?.message?.tool_calls;
    if (!Array.isArray(calls)) continue;
    for (const call of calls) {
      argumentsAsText(call, true);
      const type = missingCallType(call);
      if (type) (call as { type?: string }).type = type;
      // OpenAI's calls always have an id, which the next turn's tool message names (tool_call_id); some servers send none.
      if (call && typeof call === 'object' && !(call as { id?: unknown }).id) (call as { id?: string }).id = newCallId();
    }
  }
  const parsed = ChatAnswer.safeParse(answer);
  if (!parsed.success) throw new ProviderError(`${who} answered 200 with an answer the gateway cannot read: ${describeIssues(parsed.error, answer)[0].slice(0, 300)}`, undefined, false);
  return answer as ChatCompletion;
}
