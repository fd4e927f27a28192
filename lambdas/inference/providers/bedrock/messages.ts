import type { ContentBlock, ConversationRole, Message, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { contentBlocks, textBlocks } from './content-parts.js';
import { documentNamer } from './file-part.js';
import { shownKey } from '../../../../lib/zod-issues.js';
import { given, invalidField, unknownNested, unsupported } from './refuse.js';
import { checkFunctionName, legacyFunctionCallId, toolResult, toolResultBlock, toolUse, toolUseBlocks } from './tool-calls.js';

/**
 * OpenAI `messages` → Converse `system` and `messages`.
 *
 *   [{role:'system', content:'Be brief'},
 *    {role:'user', content:'Weather in Oslo and Rome?'},
 *    {role:'assistant', content:null, tool_calls:[{id:'a',...}, {id:'b',...}]},
 *    {role:'tool', tool_call_id:'a', content:'3°C'}, {role:'tool', tool_call_id:'b', content:'18°C'},
 *    {role:'user', content:'And tomorrow?'}]
 *   → system: [{text:'Be brief'}]
 *     messages: [{role:'user', content:[{text:'Weather in Oslo and Rome?'}]},
 *                {role:'assistant', content:[{toolUse:a}, {toolUse:b}]},
 *                {role:'user', content:[{toolResult:a}, {toolResult:b}, {text:'And tomorrow?'}]}]
 *
 * - `system` and `developer` messages, wherever they are, become `system` blocks in order
 *   (Converse keeps the system prompt apart from the turns).
 * - `user` content parts: content-parts.ts; `assistant`: its text and refusal (content parts or the
 *   `refusal` field, both as text) then its tool calls as toolUse blocks (tool-calls.ts).
 * - `tool` (and legacy `function`) messages become toolResult blocks in a user turn.
 * - Converse wants turns to alternate: consecutive turns of one role (tool results then the next
 *   user message, two assistant messages...) are merged into one turn, blocks in order.
 * - A message left with no blocks (only empty or whitespace-only text) carries nothing and
 *   Converse refuses blank text, so it adds no turn.
 * - Converse requires the conversation to start with a user turn and to hold one: an assistant
 *   message before any user content (a chat UI's greeting, a trimmed history) is a 400 naming it,
 *   and a request with no turn at all (system instructions only) a 400 naming `messages`, before
 *   anything is sent (Converse's own "A conversation must start with a user message").
 * - A `tool` message's `name` (@langchain/openai sends it on every tool message) repeats the
 *   function name of the call its `tool_call_id` answers: accepted when it is that call's name (from
 *   an earlier assistant message's `tool_calls` in this request), a 400 at `messages[i].name`
 *   naming both names when it differs or answers no call of this request.
 * - Each `tool` message answers a call of the assistant message before it (tool and system
 *   messages between aside), and each of that message's calls is answered before the next user
 *   or assistant message (or the end): OpenAI's own rule, and Converse's (a toolResult answers a
 *   toolUse of the turn before; Bedrock's ValidationException said so without a `param`). A tool
 *   message answering an id the conversation lacks (a history trimmed past its assistant message)
 *   is a 400 at `messages[i].tool_call_id`, a call left unanswered one at `messages[j].tool_calls`.
 * - `name` on a system, developer, user or assistant message (a participant name) has no Converse
 *   equivalent: 400 at `messages[i].name`, saying to drop it or put the speaker in the content;
 *   so has an assistant's `audio` (`messages[i].audio`). `annotations` echoed back on an assistant message
 *   are output-only and ignored, as OpenAI does; so is `parsed`, which the official clients' parse helpers add. Any other field: 400 naming it.
 *
 * `hasToolBlocks` tells tools.ts whether the conversation holds tool calls or results.
 * AWS reference: Message, "Converse API" guide on alternating roles
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Message.html).
 */
export function converseMessages(input: ChatCompletionMessageParam[]): { system: SystemContentBlock[]; messages: Message[]; hasToolBlocks: boolean } {
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  const names = documentNamer();
  const legacyCalls: Array<{ name: string; id: string }> = [];
  /** The function name of each assistant tool call so far, by its id: what a tool message's `name` must repeat. */
  const callNames = new Map<string, string>();
  let hasToolBlocks = false;
  /** The tool calls of the last assistant message not answered yet (id → function name), and that message's index. */
  let pending = new Map<string, string>();
  let pendingAt = -1;
  const checkAnswered = () => {
    if (!pending.size) return;
    throw invalidField(`messages[${pendingAt}].tool_calls`, `holds tool calls no tool result answers (${[...pending.keys()].map((id) => JSON.stringify(id)).join(', ')}): as at OpenAI, each call needs its result right after the assistant turn that made it (Converse requires a toolResult for every toolUse in the next turn); send the results, or leave the calls out`);
  };
  /** The index in `input` of the message being mapped, and of the one that opened the first turn. */
  let current = 0;
  let firstTurnAt = -1;

  const add = (role: ConversationRole, blocks: ContentBlock[]) => {
    if (!blocks.length) return;
    if (blocks.some((b) => b.toolUse || b.toolResult)) hasToolBlocks = true;
    if (firstTurnAt < 0) firstTurnAt = current;
    const last = messages.at(-1);
    if (last?.role === role) last.content = [...(last.content ?? []), ...blocks];
    else messages.push({ role, content: blocks });
  };

  input.forEach((message, i) => {
    const at = `messages[${i}]`;
    current = i;
    checkFields(message, at);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `${at}.content`));
        return;
      case 'user':
        checkAnswered();
        add('user', contentBlocks(message.content, `${at}.content`, ['text', 'image_url', 'file', 'input_audio'], names));
        return;
      case 'assistant': {
        const blocks = contentBlocks(message.content, `${at}.content`, ['text', 'refusal'], names);
        if (message.refusal?.trim()) blocks.push({ text: message.refusal });
        blocks.push(...toolUseBlocks(message.tool_calls ?? [], at));
        checkAnswered();
        pending = new Map();
        pendingAt = i;
        for (const call of message.tool_calls ?? []) if (call.type === 'function') {
          callNames.set(call.id, call.function.name);
          pending.set(call.id, call.function.name);
        }
        if (given(message.function_call)) {
          const id = legacyFunctionCallId(i);
          checkFunctionName(message.function_call.name, `${at}.function_call.name`);
          legacyCalls.push({ name: message.function_call.name, id });
          blocks.push(toolUse(id, message.function_call.name, message.function_call.arguments, `${at}.function_call.arguments`));
        }
        add('assistant', blocks);
        return;
      }
      case 'tool':
        checkToolName(message, callNames, at);
        checkAnswers(message.tool_call_id, pending, pendingAt, callNames, at);
        pending.delete(message.tool_call_id);
        add('user', [toolResultBlock(message, at, names)]);
        return;
      case 'function': {
        const k = legacyCalls.findLastIndex((c) => c.name === message.name);
        if (k < 0) throw invalidField(`${at}.name`, `names ${message.name}, but no earlier assistant function_call called it`);
        const [call] = legacyCalls.splice(k, 1);
        add('user', [toolResult(call.id, message.content?.trim() ? [{ text: message.content }] : [])]);
        return;
      }
      default:
        throw invalidField(`${at}.role`, `is ${String((message as { role: unknown }).role)}, not a chat-completions role`);
    }
  });
  checkAnswered();
  if (!messages.length) throw unsupported('messages', 'Converse needs a conversation, and this request holds no user message with content (only system or developer instructions, or empty messages): send the prompt as a user message');
  if (messages[0].role === 'assistant') {
    throw unsupported(`messages[${firstTurnAt}]`, 'Converse requires a conversation to start with a user message, and this assistant message comes before any (a chat UI\'s greeting, or a history trimmed to its last turns: LangChain\'s trim_messages with start_on="human" keeps a user message first): leave it out, or send it as a system message');
  }
  return { system, messages, hasToolBlocks };
}

const FIELDS: Record<string, readonly string[]> = {
  system: ['role', 'content'],
  developer: ['role', 'content'],
  user: ['role', 'content'],
  // `parsed`: what the official clients' parse helpers add to a message they parsed (openai-node's and openai-python's
  // `chat.completions.parse`), sent back when an application appends `choices[0].message` to its history, as OpenAI's
  // docs show; derived from `content`, ignored, as OpenAI's gpt-4o and later ignore it (openai/openai-node#1161).
  assistant: ['role', 'content', 'refusal', 'tool_calls', 'function_call', 'annotations', 'parsed'],
  tool: ['role', 'content', 'tool_call_id', 'name'],
  function: ['role', 'content', 'name'],
};

/**
 * Refuses a key of a message (`at`: `messages[i]`) that its role's FIELDS lack: `name` and an assistant's `audio`, which
 * OpenAI defines and Converse cannot honour, as `unsupported_parameter`; any other key, which OpenAI's message types do
 * not define, in OpenAI's words for one (`Unknown parameter: 'messages[0].foo'.`, code `unknown_parameter`).
 * @throws UnsupportedFieldError 400 naming `messages[i].<key>`
 */
function checkFields(message: ChatCompletionMessageParam, at: string): void {
  const known = FIELDS[message.role];
  if (!known) return;
  for (const [key, value] of Object.entries(message)) {
    if (!given(value) || known.includes(key)) continue;
    if (key === 'name') throw unsupported(`${at}.name`, 'Converse has no participant names: leave `name` out, or put the speaker in the content (e.g. "researcher: ..."), as multi-agent frameworks such as LangGraph can');
    if (key === 'audio' && message.role === 'assistant') throw unsupported(`${at}.audio`, 'Converse has no audio answers to refer back to');
    // A key OpenAI's message types do not define (`audio` is an assistant message's only): OpenAI's words for it.
    throw unknownNested(`${at}.${shownKey(key)}`, `not a field of OpenAI's chat-completions ${message.role} message, and Converse has no place for it: leave it out`);
  }
}

/**
 * A tool message must answer a call of the assistant message before it (tool and system messages
 * between them aside), once: OpenAI refuses any other ("messages with role 'tool' must be a
 * response to a preceeding message with 'tool_calls'"), and so does Converse (a toolResult answers a
 * toolUse of the turn before it). Sent on, such a message came back as Bedrock's ValidationException
 * without a `param`, or (with no `tools` in the request) as its "toolConfig field must be defined".
 * @throws ProviderError 400 `invalid_value` at `messages[i].tool_call_id`
 */
function checkAnswers(id: string, pending: Map<string, string>, pendingAt: number, callNames: Map<string, string>, at: string): void {
  if (pending.has(id)) return;
  const field = `${at}.tool_call_id`;
  const quoted = JSON.stringify(id);
  if (pendingAt < 0) throw invalidField(field, `is ${quoted}, but no assistant turn with tool calls comes before it: a tool result answers a call of the assistant turn right before it (send that turn, or leave the result out)`);
  const why = callNames.has(id) ? 'a call already answered, or one of an earlier assistant turn' : 'no call of this conversation';
  const left = pending.size ? `left ${[...pending.keys()].map((k) => JSON.stringify(k)).join(', ')} to answer` : 'has no call left to answer';
  throw invalidField(field, `is ${quoted}, ${why}: a tool result answers a call of the assistant turn right before it (that turn ${left})`);
}

/** A tool message's `name`, when given, must be the function name of the call it answers (see above). */
function checkToolName(message: ChatCompletionMessageParam & { role: 'tool' }, callNames: Map<string, string>, at: string): void {
  const name = (message as { name?: unknown }).name;
  if (!given(name)) return;
  const called = callNames.get(message.tool_call_id);
  if (called === undefined) throw invalidField(`${at}.name`, `is ${JSON.stringify(name)}, but no earlier assistant tool call in this request has the id ${JSON.stringify(message.tool_call_id)} to compare it with (leave \`name\` out of tool messages, or send the call they answer)`);
  if (name !== called) throw invalidField(`${at}.name`, `is ${JSON.stringify(name)}, but the tool call ${JSON.stringify(message.tool_call_id)} it answers called ${JSON.stringify(called)}`);
}
