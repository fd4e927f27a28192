import type { ChatCompletionCustomTool, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, quoted, unknownParameter } from '../openai-errors.js';
import { checkToolName, kindOf } from '../chat/tool-names.js';
import { strictSchemaObjectsProblem } from '../chat/strict-schema-objects.js';
import { FILE_SEARCH_FUNCTION, FILE_SEARCH_NAME, fileSearchSpecOf } from './file-search.js';

type Item = Record<string, any>;


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

/** The `format` types of a custom tool (`CustomToolInputFormat` of the `openai` package's shared.d.ts). */
const CUSTOM_FORMAT_KEYS: Record<string, readonly string[]> = { text: ['type'], grammar: ['type', 'definition', 'syntax'] };
/** A grammar's syntaxes (`CustomToolInputFormat.Grammar.syntax`; chat's `Custom.Grammar.Grammar.syntax` is the same). */
const GRAMMAR_SYNTAXES = ['lark', 'regex'];

/**
 * A custom tool's `format` as chat's (`ChatCompletionCustomTool.Custom.format`): `{type:'text'}` as it is;
 * `{type:'grammar', definition, syntax}` (flat in the Responses API's `CustomToolInputFormat.Grammar`) →
 * `{type:'grammar', grammar:{definition, syntax}}` (nested in chat's). A key either type lacks has no place in chat's
 * format and would be dropped: refused, as is a `type` other than text or grammar, a `definition` that is not a string
 * or a `syntax` other than lark or regex.
 * @throws GatewayError 400 naming `tools[i].format.<field>`
 */
function customFormatToChat(format: unknown, path: string): ChatCompletionCustomTool.Custom['format'] {
  checkType(format, 'object', path);
  const f = format as Item;
  const keys = CUSTOM_FORMAT_KEYS[f.type];
  if (!keys) throw invalid(`Invalid value: '${String(f.type).slice(0, 60)}'. Supported values are: 'text' and 'grammar' (${path}.type).`, `${path}.type`, 'invalid_value');
  for (const [key, value] of Object.entries(f)) {
    if (value != null && !keys.includes(key)) throw unknownParameter(`${path}.${shownKey(key)}`, `CustomToolInputFormat.${f.type === 'text' ? 'Text' : 'Grammar'} has no such field (nor has chat completions' custom tool format); leave it out`);
  }
  if (f.type === 'text') return { type: 'text' };
  if (typeof f.definition !== 'string') throw invalid(`${path}.definition is required for a grammar format: the grammar's text (a string)`, `${path}.definition`, f.definition == null ? 'missing_required_parameter' : 'invalid_type');
  if (!GRAMMAR_SYNTAXES.includes(f.syntax)) throw invalid(`Invalid value: '${String(f.syntax).slice(0, 60)}'. Supported values are: 'lark' and 'regex' (${path}.syntax).`, `${path}.syntax`, 'invalid_value');
  return { type: 'grammar', grammar: { definition: f.definition, syntax: f.syntax } };
}

/**
 * A custom tool (free-form input, optionally constrained by a grammar: the Responses API's `CustomTool`) as chat's
 * (`ChatCompletionCustomTool`): `{type:'custom', name, description, format}` → `{type:'custom', custom:{name,
 * description, format}}` (`customFormatToChat`). The options chat has no equivalent for are taken at the value that
 * changes nothing (`defer_loading` false, `allowed_callers` ['direct'], `async` false), as a function tool's are.
 * The provider decides whether it takes chat custom tools: the OpenAI-compatible relay and SageMaker pass them on,
 * Bedrock refuses them (providers/bedrock/tools.ts: `tools[i].type`, Converse takes JSON input only).
 * @throws GatewayError 400 naming `tools[i].<field>`
 */
function customToolToChat(t: Item, path: string): ChatCompletionCustomTool {
  checkToolName(t.name, `${path}.name`, 'A custom tool');
  checkType(t.description, 'string', `${path}.description`);
  checkNoOpOptions(t, path, 'chat custom tools');
  return {
    type: 'custom',
    custom: {
      name: t.name,
      ...(t.description != null ? { description: t.description } : {}),
      ...(t.format != null ? { format: customFormatToChat(t.format, `${path}.format`) } : {}),
    },
  };
}

/**
 * The tool options chat has no equivalent for, taken at the value that changes nothing: `defer_loading` false,
 * `allowed_callers` ['direct'], `async` false (a boolean).
 * @throws GatewayError 400 `unsupported_parameter` naming `tools[i].<option>`
 */
function checkNoOpOptions(t: Item, path: string, what: string): void {
  if (t.defer_loading === true) throw invalid(`${path}.defer_loading is not served (${what} are always loaded); leave it out`, `${path}.defer_loading`, 'unsupported_parameter');
  if (Array.isArray(t.allowed_callers) && t.allowed_callers.some((c: string) => c !== 'direct')) throw invalid(`${path}.allowed_callers: only 'direct' callers are served`, `${path}.allowed_callers`, 'unsupported_parameter');
  checkType(t.async, 'boolean', `${path}.async`);
  if (t.async === true) throw invalid(`${path}.async is not served (${what} have no asynchronous calls: each call is answered by an output item in a later turn); leave it out or send false`, `${path}.async`, 'unsupported_parameter');
}

/**
 * Function tools as chat tools: `{type:'function', name, description, parameters, strict}` →
 * `{type:'function', function:{name, description, parameters, strict}}`. The hosted `file_search` tool (checked by
 * file-search.ts fileSearchSpecOf) is run by the gateway: the model is offered FILE_SEARCH_FUNCTION for it, last
 * (a function or custom tool of that name beside it is a 400 naming its `tools[i].name`). `custom` tools (free-form input) →
 * chat custom tools (`customToolToChat`; before session 48 refused). OpenAI's other hosted tools
 * (`web_search`, `code_interpreter`, `computer_use_preview`, `image_generation`,
 * `mcp`, `local_shell`, …) are refused: a chat-completions upstream cannot run them. So are function-tool options chat has no
 * equivalent for (`defer_loading: true`, programmatic callers, `output_schema`, `async: true`: each taken at the value
 * that changes nothing; before session 47 `async`, a field of openai 7.55's `FunctionTool`, was refused at any value as
 * "not a field of FunctionTool"). `parameters` must be an object, `strict` and `async` booleans and `description` a
 * string (`checkType`); a `strict: true` function's `parameters` must keep OpenAI's strict rules (strict-schema-objects.ts).
 * @throws GatewayError 400 `unsupported_tool` naming `tools[i].type` (or the option's path); `invalid_type` naming a field of the wrong type
 */
export function toolsToChat(tools: Item[] | null | undefined): ChatCompletionTool[] | undefined {
  if (!tools || tools.length === 0) return undefined;
  const fileSearch = fileSearchSpecOf(tools);
  const mapped = tools.flatMap((t, i): ChatCompletionTool[] => {
    const path = `tools[${i}]`;
    if (t.type === 'file_search') return [];
    // A custom tool of that name too: the model would see two tools named file_search, and its call of either be ambiguous.
    if (fileSearch && (t.type === 'function' || t.type === 'custom') && t.name === FILE_SEARCH_NAME) throw invalid(`${path}.name '${FILE_SEARCH_NAME}' is the name of the function the gateway offers the model for the file_search tool (tools[${fileSearch.index}]); rename your ${t.type === 'custom' ? 'custom tool' : 'function'}`, `${path}.name`, 'invalid_value');
    if (t.type === 'custom') return [customToolToChat(t, path)];
    if (t.type !== 'function') {
      const what = HOSTED.includes(t.type) ? `the hosted tool '${quoted(t.type)}' runs at OpenAI, and chat-completions upstreams (every provider of this gateway) cannot run it` : `'${quoted(t.type)}' is not a tool type this gateway serves`;
      throw invalid(`${path}.type: ${what}; send function tools and run the tool in your application`, `${path}.type`, 'unsupported_tool');
    }
    checkToolName(t.name, `${path}.name`, 'A function tool');
    checkType(t.parameters, 'object', `${path}.parameters`);
    checkType(t.strict, 'boolean', `${path}.strict`);
    checkType(t.description, 'string', `${path}.description`);
    const strictProblem = t.strict === true ? strictSchemaObjectsProblem(`function '${quoted(t.name, 64)}'`, t.parameters) : undefined;
    if (strictProblem) throw invalid(strictProblem, `${path}.parameters`, 'invalid_function_parameters');
    if (t.output_schema != null) throw invalid(`${path}.output_schema has no chat-completions equivalent; leave it out`, `${path}.output_schema`, 'unsupported_parameter');
    checkNoOpOptions(t, path, 'chat-completions function tools');
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
 * `allowed_tools`; the request must have a file_search tool (references.ts checkToolChoiceNames). `{type:'custom', name}`
 * (`ToolChoiceCustom`) → chat's `{type:'custom', custom:{name}}`, as is a custom entry of `allowed_tools`. Another hosted
 * tool or MCP choice is refused.
 * @throws GatewayError 400 naming `tool_choice` (`tool_choice.mode`, `tool_choice.tools[i].type`, …)
 */
export function toolChoiceToChat(choice: string | Item | null | undefined): ChatCompletionToolChoiceOption | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') {
    if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
    throw invalid(`tool_choice '${quoted(choice)}' is not one of none, auto, required`, 'tool_choice');
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
          if (t?.type === 'custom') return { type: 'custom', custom: { name: t.name } };
          if (t?.type !== 'function') throw invalid(`tool_choice.tools[${i}].type '${quoted(t?.type)}': only function, custom and file_search tools are served`, `tool_choice.tools[${i}].type`, 'unsupported_tool');
          return { type: 'function', function: { name: t.name } };
        }),
      },
    };
  }
  if (choice.type === 'custom') {
    if (typeof choice.name !== 'string' || !choice.name) throw invalid('tool_choice.name is required for a custom choice', 'tool_choice.name', 'missing_required_parameter');
    return { type: 'custom', custom: { name: choice.name } };
  }
  throw invalid(`tool_choice.type '${quoted(choice.type)}': only none, auto, required, a function, a custom tool, file_search or allowed_tools (of functions, custom tools and file_search) can be chosen here; other hosted tools and MCP tools are not served`, 'tool_choice.type', 'unsupported_tool');
}
