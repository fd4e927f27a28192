import type { ChatCompletionFunctionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { invalid } from '../openai-errors.js';
import { FILE_SEARCH_FUNCTION, FILE_SEARCH_NAME, fileSearchSpecOf } from './file-search.js';

type Item = Record<string, any>;

/** What a JSON value is, as a type error names it ("a string", "an array", "null"). */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`;
}

/**
 * Refuses a field of the wrong JSON type (null counts as absent), as OpenAI does ("Invalid type for
 * 'tools[0].parameters': expected an object, but got a string instead."), rather than pass it to the
 * upstream and echo it in the Response, where it breaks the `openai` package's types
 * (`FunctionTool.parameters` is an object, `strict` a boolean, `description` a string).
 * @throws GatewayError 400 `invalid_type` naming `path`
 */
export function checkType(value: unknown, expected: 'object' | 'boolean' | 'string', path: string): void {
  if (value == null) return;
  const ok = expected === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === expected;
  if (!ok) throw invalid(`Invalid type for '${path}': expected ${expected === 'object' ? 'an object' : `a ${expected}`}, but got ${kindOf(value)} instead (${JSON.stringify(value)?.slice(0, 60)})`, path, 'invalid_type');
}

/** Tools OpenAI runs itself; a chat-completions upstream cannot. */
const HOSTED = ['web_search', 'web_search_preview', 'web_search_2025_08_26', 'web_search_preview_2025_03_11', 'code_interpreter', 'computer_use_preview', 'computer', 'image_generation', 'mcp', 'local_shell', 'shell', 'apply_patch', 'tool_search', 'namespace'];

/** Why a custom tool (free-form input, optionally a grammar) is refused: chat has them, this mapping does not carry them. */
export const CUSTOM_NOT_MAPPED = 'custom tools are not mapped by /v1/responses here; /v1/chat/completions passes them on (chat `custom` tools), or send a function tool';

/**
 * Function tools as chat tools: `{type:'function', name, description, parameters, strict}` →
 * `{type:'function', function:{name, description, parameters, strict}}`. The hosted `file_search` tool (checked by
 * file-search.ts fileSearchSpecOf) is run by the gateway: the model is offered FILE_SEARCH_FUNCTION for it, last
 * (a function tool of that name beside it is a 400 naming its `tools[i].name`). OpenAI's other hosted tools
 * (`web_search`, `code_interpreter`, `computer_use_preview`, `image_generation`,
 * `mcp`, `local_shell`, …) are refused: a chat-completions upstream cannot run them. `custom`
 * tools are refused too, for what they are: a tool the application runs, which this mapping does
 * not carry (chat completions passes them on). So are function-tool options chat has no
 * equivalent for (`defer_loading: true`, programmatic callers, `output_schema`, `async: true`: each taken at the value
 * that changes nothing; before session 47 `async`, a field of openai 7.55's `FunctionTool`, was refused at any value as
 * "not a field of FunctionTool"). `parameters` must be an object, `strict` and `async` booleans and `description` a
 * string (`checkType`).
 * @throws GatewayError 400 `unsupported_tool` naming `tools[i].type` (or the option's path); `invalid_type` naming a field of the wrong type
 */
export function toolsToChat(tools: Item[] | null | undefined): ChatCompletionFunctionTool[] | undefined {
  if (!tools || tools.length === 0) return undefined;
  const fileSearch = fileSearchSpecOf(tools);
  const mapped = tools.flatMap((t, i): ChatCompletionFunctionTool[] => {
    const path = `tools[${i}]`;
    if (t.type === 'file_search') return [];
    if (fileSearch && t.type === 'function' && t.name === FILE_SEARCH_NAME) throw invalid(`${path}.name '${FILE_SEARCH_NAME}' is the name of the function the gateway offers the model for the file_search tool (tools[${fileSearch.index}]); rename your function`, `${path}.name`, 'invalid_value');
    if (t.type === 'custom') throw invalid(`${path}.type 'custom': ${CUSTOM_NOT_MAPPED}`, `${path}.type`, 'unsupported_tool');
    if (t.type !== 'function') {
      const what = HOSTED.includes(t.type) ? `the hosted tool '${t.type}' runs at OpenAI, and chat-completions upstreams (every provider of this gateway) cannot run it` : `'${t.type}' is not a tool type this gateway serves`;
      throw invalid(`${path}.type: ${what}; send function tools and run the tool in your application`, `${path}.type`, 'unsupported_tool');
    }
    if (typeof t.name !== 'string' || !t.name) throw invalid(`${path}.name is required for a function tool`, `${path}.name`);
    checkType(t.parameters, 'object', `${path}.parameters`);
    checkType(t.strict, 'boolean', `${path}.strict`);
    checkType(t.description, 'string', `${path}.description`);
    if (t.defer_loading === true) throw invalid(`${path}.defer_loading is not served (chat tools are always loaded); leave it out`, `${path}.defer_loading`, 'unsupported_parameter');
    if (Array.isArray(t.allowed_callers) && t.allowed_callers.some((c: string) => c !== 'direct')) throw invalid(`${path}.allowed_callers: only 'direct' callers are served`, `${path}.allowed_callers`, 'unsupported_parameter');
    if (t.output_schema != null) throw invalid(`${path}.output_schema has no chat-completions equivalent; leave it out`, `${path}.output_schema`, 'unsupported_parameter');
    checkType(t.async, 'boolean', `${path}.async`);
    if (t.async === true) throw invalid(`${path}.async is not served (chat-completions function tools have no asynchronous calls: each call is answered by a function_call_output in a later turn); leave it out or send false`, `${path}.async`, 'unsupported_parameter');
    return [{
      type: 'function',
      function: {
        name: t.name,
        ...(t.description != null ? { description: t.description } : {}),
        ...(t.parameters != null ? { parameters: t.parameters } : {}),
        ...(t.strict != null ? { strict: t.strict } : {}),
      },
    }];
  });
  return fileSearch ? [...mapped, FILE_SEARCH_FUNCTION] : mapped;
}

/**
 * `tool_choice` as chat's: `none` | `auto` | `required` as they are; `{type:'function', name}` →
 * `{type:'function', function:{name}}`; `{type:'allowed_tools', mode, tools:[{type:'function', name}]}`
 * → chat's `allowed_tools` (`mode` `auto` or `required`, as both APIs define it). `{type:'file_search'}` (openai
 * `ToolChoiceTypes`: the model must search) → the search function (FILE_SEARCH_NAME), as is a `file_search` entry of
 * `allowed_tools`; the request must have a file_search tool (references.ts checkToolChoiceNames). Another hosted tool,
 * MCP or custom choice is refused.
 * @throws GatewayError 400 naming `tool_choice` (`tool_choice.mode`, `tool_choice.tools[i].type`, …)
 */
export function toolChoiceToChat(choice: string | Item | null | undefined): ChatCompletionToolChoiceOption | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') {
    if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
    throw invalid(`tool_choice '${choice}' is not one of none, auto, required`, 'tool_choice');
  }
  if (choice.type === 'file_search') return { type: 'function', function: { name: FILE_SEARCH_NAME } };
  if (choice.type === 'function') {
    if (typeof choice.name !== 'string' || !choice.name) throw invalid('tool_choice.name is required for a function choice', 'tool_choice.name');
    return { type: 'function', function: { name: choice.name } };
  }
  if (choice.type === 'allowed_tools') {
    if (choice.mode !== 'auto' && choice.mode !== 'required') throw invalid(`tool_choice.mode ${JSON.stringify(choice.mode ?? null)?.slice(0, 60)} is not one of auto, required (allowed_tools modes)`, 'tool_choice.mode');
    const tools = Array.isArray(choice.tools) ? choice.tools : [];
    return {
      type: 'allowed_tools',
      allowed_tools: {
        mode: choice.mode,
        tools: tools.map((t: Item, i: number) => {
          if (t?.type === 'file_search') return { type: 'function', function: { name: FILE_SEARCH_NAME } };
          if (t?.type !== 'function') throw invalid(`tool_choice.tools[${i}].type '${t?.type}': only function tools are served`, `tool_choice.tools[${i}].type`, 'unsupported_tool');
          return { type: 'function', function: { name: t.name } };
        }),
      },
    };
  }
  if (choice.type === 'custom') throw invalid(`tool_choice.type 'custom': ${CUSTOM_NOT_MAPPED}`, 'tool_choice.type', 'unsupported_tool');
  throw invalid(`tool_choice.type '${choice.type}': only none, auto, required, a function, file_search or allowed_tools (of functions and file_search) can be chosen here; other hosted tools and MCP tools are not served`, 'tool_choice.type', 'unsupported_tool');
}
