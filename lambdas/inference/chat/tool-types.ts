import type { ChatCompletionAllowedTools, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { invalid, quoted } from '../openai-errors.js';

/**
 * The tool types of OpenAI's Chat Completions API (`ChatCompletionTool` of the `openai` package, 7.x: a function or a
 * custom tool). The Responses API's built-in tools (`file_search`, `web_search`, `code_interpreter`…) are not chat tools:
 * OpenAI answers such a tool in a chat request with a 400 naming `tools[i].type`. The compile fails when the package
 * adds a type not listed here.
 */
export const CHAT_TOOL_TYPES = ['function', 'custom'] as const satisfies ReadonlyArray<ChatCompletionTool['type']>;
const _everyToolType: [Exclude<ChatCompletionTool['type'], (typeof CHAT_TOOL_TYPES)[number]>] extends [never] ? true : false = true;
void _everyToolType;

type ToolChoiceObject = Exclude<ChatCompletionToolChoiceOption, string>;
/** `tool_choice` as a string (`ChatCompletionToolChoiceOption`): none, auto or required. */
export const CHAT_TOOL_CHOICE_MODES = ['none', 'auto', 'required'] as const satisfies ReadonlyArray<Extract<ChatCompletionToolChoiceOption, string>>;
/** `tool_choice` as an object: a named function or custom tool, or a set of allowed tools. */
export const CHAT_TOOL_CHOICE_TYPES = ['function', 'custom', 'allowed_tools'] as const satisfies ReadonlyArray<ToolChoiceObject['type']>;
const _everyChoice: [Exclude<Extract<ChatCompletionToolChoiceOption, string>, (typeof CHAT_TOOL_CHOICE_MODES)[number]> | Exclude<ToolChoiceObject['type'], (typeof CHAT_TOOL_CHOICE_TYPES)[number]>] extends [never] ? true : false = true;
void _everyChoice;
/** `tool_choice.allowed_tools.mode` (`ChatCompletionAllowedTools`): auto or required. */
export const ALLOWED_TOOLS_MODES = ['auto', 'required'] as const satisfies ReadonlyArray<ChatCompletionAllowedTools['mode']>;

/** OpenAI's list of supported values: `'a' and 'b'`, `'a', 'b', and 'c'`. */
function listed(values: readonly string[]): string {
  const each = values.map((v) => `'${v}'`);
  return each.length <= 2 ? each.join(' and ') : `${each.slice(0, -1).join(', ')}, and ${each.at(-1)}`;
}

/** A value shown in a message: a string as itself, anything else as JSON (`null`, `3`, `{"a":1}`), at most 200 characters (`quoted`). */
const shown = (v: unknown): string => quoted(v);

/**
 * Refuses a tool or a tool choice that OpenAI's Chat Completions API does not define, for every provider, before
 * anything is counted or sent: a relay would pass it on (an OpenAI-compatible server may ignore it and answer as if no
 * tool were offered), and a mapping would have to drop it. Checked, in order:
 * - `tools[i].type`: function or custom (CHAT_TOOL_TYPES), e.g. not the Responses API's `file_search`;
 * - `tool_choice`: none, auto or required as a string; else an object whose `type` is function, custom or
 *   allowed_tools; `tool_choice.allowed_tools.mode` auto or required, and each `tool_choice.allowed_tools.tools[j].type`
 *   a chat tool type.
 * The answer to a `tool_choice` object without a `type` is OpenAI's for a missing field (400 `missing_required_parameter`
 * naming `tool_choice.type`). The answer is OpenAI's form for a value outside an enum: 400 `invalid_request_error`, code `invalid_value`, `param` the
 * field's path, message `Invalid value: 'file_search'. Supported values are: 'function' and 'custom'.` (no public report
 * quotes OpenAI's words for these fields: the form is that of OpenAI's other invalid_value answers).
 * @param body the request as parsed by ChatCompletionRequest (`tools` an array of objects when present)
 * @throws GatewayError 400 `invalid_value` naming the first field at fault
 */
export function refuseUndefinedToolTypes(body: { tools?: ReadonlyArray<{ type?: unknown }> | null; tool_choice?: unknown }): void {
  const refuse = (value: unknown, field: string, values: readonly string[]) => {
    throw invalid(`Invalid value: '${shown(value)}'. Supported values are: ${listed(values)}.`, field, 'invalid_value');
  };
  (body.tools ?? []).forEach((tool, i) => {
    if (!(CHAT_TOOL_TYPES as readonly unknown[]).includes(tool.type)) refuse(tool.type, `tools[${i}].type`, CHAT_TOOL_TYPES);
  });
  const choice = body.tool_choice;
  if (choice == null) return;
  if (typeof choice !== 'object' || Array.isArray(choice)) {
    if (!(CHAT_TOOL_CHOICE_MODES as readonly unknown[]).includes(choice)) refuse(choice, 'tool_choice', CHAT_TOOL_CHOICE_MODES);
    return;
  }
  const { type, allowed_tools: allowed } = choice as { type?: unknown; allowed_tools?: { mode?: unknown; tools?: unknown } | null };
  // OpenAI's words for a field left out ("Missing required parameter: 'tools[0].type'.", code missing_required_parameter).
  if (type == null) throw invalid("Missing required parameter: 'tool_choice.type'.", 'tool_choice.type', 'missing_required_parameter');
  if (!(CHAT_TOOL_CHOICE_TYPES as readonly unknown[]).includes(type)) refuse(type, 'tool_choice.type', CHAT_TOOL_CHOICE_TYPES);
  if (type !== 'allowed_tools' || allowed == null || typeof allowed !== 'object') return;
  if (!(ALLOWED_TOOLS_MODES as readonly unknown[]).includes(allowed.mode)) refuse(allowed.mode, 'tool_choice.allowed_tools.mode', ALLOWED_TOOLS_MODES);
  if (!Array.isArray(allowed.tools)) return;
  allowed.tools.forEach((tool: unknown, j: number) => {
    const t = (tool as { type?: unknown } | null)?.type;
    if (!(CHAT_TOOL_TYPES as readonly unknown[]).includes(t)) refuse(t, `tool_choice.allowed_tools.tools[${j}].type`, CHAT_TOOL_TYPES);
  });
}
