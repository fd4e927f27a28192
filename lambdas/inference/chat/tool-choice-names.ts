import { invalid, quoted } from '../openai-errors.js';
import { kindOf } from './tool-names.js';

type ToolLike = { type?: unknown; function?: unknown; custom?: unknown };

/** The names of the request's tools of `type` (`tools[i].function.name` or `tools[i].custom.name`). */
function namesOf(tools: readonly ToolLike[], type: 'function' | 'custom'): Set<unknown> {
  return new Set(tools.filter((t) => t.type === type).map((t) => (t[type] as { name?: unknown } | null | undefined)?.name));
}

/**
 * A request's tool names as a tool_choice refusal lists them (chat here, the Responses API in responses/references.ts):
 * joined with `, `, at most 500 characters (`quoted`); `none` when there are none.
 */
export const listedToolNames = (names: ReadonlySet<unknown>): string => (names.size ? quoted([...names].map(String).join(', '), 500) : 'none');

/**
 * A chat `tool_choice` that names a tool names one of the request's `tools`, for every provider, before anything is
 * counted or sent: a named function (`{type: 'function', function: {name}}`) one of its function tools, a named custom
 * tool (`{type: 'custom', custom: {name}}`) one of its custom tools, and each entry of an `allowed_tools` choice
 * (`{type: 'allowed_tools', allowed_tools: {mode, tools: [{type: 'function', function: {name}} | {type: 'custom',
 * custom: {name}}]}}`) one of them likewise. OpenAI refuses such a choice with a 400 whose message is
 * "Tool choice 'function' not found in 'tools' parameter." (`param: tool_choice`, type `invalid_request_error`; quoted
 * from the Responses API's answer in public reports, e.g. `Tool choice 'image_generation' not found in 'tools'
 * parameter.` with `param: tool_choice`; no public report quotes its chat answer nor a `code`): the gateway's message
 * starts with those words and names the field, the name sent and the request's tools; `code` is `tool_not_found`, as
 * the gateway's refusal of the same choice on `/v1/responses` (responses/references.ts checkToolChoiceNames). Before
 * 2026-12-07 such a choice went upstream: OpenAI answered its 400 after the gateway had counted the request, and a
 * self-hosted server or Bedrock answered a call to another tool, or none.
 *
 * A choice's name that is absent or not a string is OpenAI's `missing_required_parameter` / `invalid_type` naming it.
 * @param body the request as parsed by ChatCompletionRequest, its tool and choice types already checked (tool-types.ts)
 * @throws GatewayError 400 `tool_not_found` naming `tool_choice` (a named choice) or
 *   `tool_choice.allowed_tools.tools[j].function.name` / `.custom.name` (an allowed tool); 400 `missing_required_parameter` / `invalid_type` naming the
 *   choice's name field
 */
export function checkChatToolChoiceNames(body: { tools?: ReadonlyArray<ToolLike> | null; tool_choice?: unknown }): void {
  const choice = body.tool_choice;
  if (choice == null || typeof choice !== 'object' || Array.isArray(choice)) return;
  const tools = body.tools ?? [];
  const names = { function: namesOf(tools, 'function'), custom: namesOf(tools, 'custom') };
  const { type } = choice as { type?: unknown };
  const check = (entry: unknown, field: string) => {
    const kind = (entry as { type?: unknown } | null)?.type;
    if (kind !== 'function' && kind !== 'custom') return; // another type: tool-types.ts answered it
    const def = (entry as Record<string, unknown>)[kind];
    const name = def != null && typeof def === 'object' ? (def as { name?: unknown }).name : undefined;
    const path = `${field}.${kind}.name`;
    // OpenAI's `param` of a named choice is `tool_choice`; an allowed tool's is its name's path.
    const param = field === 'tool_choice' ? 'tool_choice' : path;
    if (name == null || name === '') throw invalid(`Missing required parameter: '${path}'.`, path, 'missing_required_parameter');
    if (typeof name !== 'string') throw invalid(`Invalid type for '${path}': expected a string, but got ${kindOf(name)} instead (${quoted(name, 60)}).`, path, 'invalid_type');
    if (names[kind].has(name)) return;
    throw invalid(`Tool choice '${kind}' not found in 'tools' parameter. ${path} '${quoted(name)}' is not ${kind === 'function' ? 'a function' : 'a custom tool'} in tools (${kind === 'function' ? 'functions' : 'custom tools'}: ${listedToolNames(names[kind])}); name one of them, or send tool_choice 'auto' or 'required'`, param, 'tool_not_found');
  };
  if (type === 'function' || type === 'custom') return check(choice, 'tool_choice');
  if (type !== 'allowed_tools') return;
  const allowed = (choice as { allowed_tools?: { tools?: unknown } | null }).allowed_tools?.tools;
  if (Array.isArray(allowed)) allowed.forEach((entry, j) => check(entry, `tool_choice.allowed_tools.tools[${j}]`));
}
