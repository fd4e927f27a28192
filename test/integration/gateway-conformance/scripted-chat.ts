import type { ScriptedJson, ScriptedStream } from '../../support/fake-upstream.js';

/** A tool call as OpenAI's chat completions answer it. */
export interface ScriptedToolCall { id: string; type?: string; function: { name: string; arguments: string } }

/** The usage every scripted answer reports (OpenAI's chat completions `usage`). */
export const SCRIPTED_USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

/**
 * OpenAI's chat completions answers, whole and streamed, for the fake upstream to send, as the framework suites script them
 * (LangChain Python and JS, LlamaIndex and instructor, Pydantic AI): each with `system_fingerprint` of its own, so a test
 * can see the upstream's answer reached the framework.
 * @param systemFingerprint the answers' `system_fingerprint`
 * @returns `answer(message, finish)`: a whole answer (`message` over an assistant message with content null);
 *   `chunk(delta, finish)`: one stream chunk; `streamed(pieces, call)`: a stream of the text `pieces`, or of one tool call
 *   (its arguments in two pieces, cut at `split`), then the finish chunk and the usage chunk (`choices: []`: the gateway
 *   always asks its upstream for it), then `[DONE]`
 */
export function scriptedChat(systemFingerprint: string, split = 6) {
  const base = { id: 'up-1', created: 1_764_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: systemFingerprint };
  const answer = (message: Record<string, unknown>, finish = 'stop'): ScriptedJson => ({
    body: { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage: SCRIPTED_USAGE },
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
  const streamed = (pieces: string[], call?: ScriptedToolCall): ScriptedStream => ({
    events: [
      { data: chunk({ role: 'assistant', content: call ? null : '', refusal: null }) },
      ...pieces.map((p) => ({ data: chunk({ content: p }) })),
      ...(call ? [
        { data: chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }) },
        { data: chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments.slice(0, split) } }] }) },
        { data: chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments.slice(split) } }] }) },
      ] : []),
      { data: chunk({}, call ? 'tool_calls' : 'stop') },
      { data: { ...base, object: 'chat.completion.chunk', choices: [], usage: SCRIPTED_USAGE } },
      { data: '[DONE]' },
    ],
  });
  return { answer, chunk, streamed };
}
