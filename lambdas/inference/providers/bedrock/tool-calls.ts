import { createHash } from 'node:crypto';
import type { ContentBlock, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { DocumentType } from '@smithy/types';
import type { ChatCompletionMessageToolCall, ChatCompletionToolMessageParam } from 'openai/resources/chat/completions';
import { contentBlocks } from './content-parts.js';
import { documentNamer, type DocumentNamer } from './file-part.js';
import { invalidField, unsupported } from './refuse.js';

/**
 * Tool calls and their results in the conversation → Converse toolUse / toolResult blocks.
 *
 *   assistant tool_calls[k] {id, type:'function', function:{name, arguments:'{"city":"Oslo"}'}}
 *     → {toolUse:{toolUseId: id, name, input:{city:'Oslo'}}}
 *   tool message {tool_call_id, content}
 *     → {toolResult:{toolUseId: tool_call_id, content:[{text}|{image}|{document}...]}}   (goes in a user turn)
 *   legacy assistant function_call {name, arguments} and role 'function' {name, content}
 *     → the same blocks, paired by an id made from the assistant message's index
 *
 * - `arguments` must parse as JSON (`""` reads as `{}`, no arguments): otherwise a 400 at
 *   `<field>.tool_calls[k].function.arguments`. Converse takes the input as a JSON document.
 * - `custom` tool calls: 400 at `<field>.tool_calls[k].type` (Converse tools take JSON input only).
 * - Ids are opaque pairing tokens. Converse allows 1-64 characters of `[a-zA-Z0-9_-]` (ToolUseBlock and
 *   ToolResultBlock `toolUseId`); an id outside that (`call.abc:1`, `fc_1|item_2`, 70 characters) becomes
 *   `h_` + 40 hex of its SHA-256, the same on both sides, so pairs still match (an id of that form given
 *   by the caller is mapped too, so two ids never meet: toolUseId).
 * - Two calls of one assistant message with the same id: 400 at the second's `<field>.tool_calls[k].id` (Converse
 *   refuses duplicate toolUse ids in a turn; a second tool result for one id is refused by messages.ts).
 * - A function name outside Converse's tool names (1-64 characters of `[a-zA-Z0-9_-]`, OpenAI's own rule for
 *   function names): 400 at `<field>.tool_calls[k].function.name` (or `.function_call.name`) naming it.
 * - An empty tool result is an empty content list: Converse refuses blank text blocks.
 * - A tool message's `image_url` and `file` parts (only /v1/responses makes them: a
 *   `function_call_output` returning `input_image` / `input_file`; chat's tool messages are text)
 *   become the toolResult's image and document blocks, mapped as a user message's are
 *   (content-parts.ts); Converse's ToolResultContentBlock takes both.
 *
 * AWS references: ToolUseBlock, ToolResultBlock, ToolUseId pattern in the Bedrock runtime API model
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolUseBlock.html).
 */
export function toolUseBlocks(calls: ChatCompletionMessageToolCall[], field: string): ContentBlock[] {
  const seen = new Map<string, number>();
  return calls.map((call, k) => {
    // Converse refuses a turn whose toolUse blocks share an id ("The toolUse blocks at messages.2.content contain
    // duplicate Ids: ...", a ValidationException without a param): named here, with the call it repeats.
    const first = seen.get(call.id);
    if (first !== undefined) throw invalidField(`${field}.tool_calls[${k}].id`, `is ${JSON.stringify(call.id)}, the id of ${field}.tool_calls[${first}] too: each call of a turn needs its own id (Converse refuses a turn whose tool calls share one, and a result could not say which call it answers)`);
    seen.set(call.id, k);
    if (call.type !== 'function') throw unsupported(`${field}.tool_calls[${k}].type`, `is ${String(call.type)}: Converse tools take JSON input, and a ${String(call.type)} tool call has no equivalent`);
    checkFunctionName(call.function.name, `${field}.tool_calls[${k}].function.name`);
    return toolUse(toolUseId(call.id), call.function.name, call.function.arguments, `${field}.tool_calls[${k}].function.arguments`);
  });
}

export function toolUse(id: string, name: string, args: string, field: string): ContentBlock {
  let input: DocumentType;
  try {
    input = args.trim() === '' ? {} : (JSON.parse(args) as DocumentType);
  } catch (e) {
    throw invalidField(field, `is not valid JSON (${(e as Error).message}); Converse takes tool input as a JSON document`);
  }
  return { toolUse: { toolUseId: id, name, input } };
}

export function toolResultBlock(message: ChatCompletionToolMessageParam, field: string, names: DocumentNamer = documentNamer()): ContentBlock {
  const content = message.content as Parameters<typeof contentBlocks>[0]; // image and file parts: see above
  return toolResult(toolUseId(message.tool_call_id), contentBlocks(content, `${field}.content`, ['text', 'image_url', 'file'], names) as ToolResultContentBlock[]);
}

export function toolResult(id: string, content: ToolResultContentBlock[]): ContentBlock {
  return { toolResult: { toolUseId: id, content } };
}

/**
 * A caller's tool-call id as Converse accepts it: itself when it is 1-64 characters of `[a-zA-Z0-9_-]`
 * (ToolUseBlock.toolUseId, API_runtime_ToolUseBlock) and not of the mapped form nor a legacy call's
 * (`function_call_<i>`, legacyFunctionCallId), else `h_` + 40 hex of its SHA-256.
 * An id already of the mapped form (`h_` + 40 lower-case hex) is mapped too, so that no id kept as it is can equal
 * another's mapping: `call.1` and a literal `h_<the first 40 hex of SHA-256("call.1")>` in one conversation were both sent
 * as that id, pairing a result with the wrong call (two ids meet only if SHA-256's first 160 bits do).
 */
export function toolUseId(id: string): string {
  return TOOL_USE_ID.test(id) && !MAPPED_ID.test(id) && !LEGACY_ID.test(id) ? id : `h_${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

const MAPPED_ID = /^h_[0-9a-f]{40}$/;
/** The ids legacyFunctionCallId makes: a caller's tool call id of that form is mapped, so it never meets a legacy call's. */
const LEGACY_ID = /^function_call_\d+$/;

const TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Converse's tool names: ToolSpecification, ToolUseBlock and SpecificToolChoice `name`, "Minimum length of 1. Maximum length of 64. Pattern: [a-zA-Z0-9_-]+". */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Refuses a function name Converse does not take as a tool name (1-64 characters of letters, digits, `_`
 * and `-`; OpenAI's FunctionDefinition.name has the same rule), such as an MCP tool's `server.tool`.
 * @throws ProviderError - 400 (unsupported_parameter) at `field`, naming the name
 */
export function checkFunctionName(name: string, field: string): void {
  if (!TOOL_NAME.test(name)) {
    throw unsupported(field, `is ${JSON.stringify(name)}, and Bedrock tool names are 1-64 characters of letters, digits, _ and - (OpenAI's rule for function names too): rename the tool, e.g. ${JSON.stringify(name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'tool')}`);
  }
}

/** The id pairing a legacy assistant `function_call` with the `function` message answering it. */
export function legacyFunctionCallId(messageIndex: number): string {
  return `function_call_${messageIndex}`;
}
