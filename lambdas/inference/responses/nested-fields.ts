import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, unknownParameter } from '../openai-errors.js';
import type { ResponsesRequestBody } from './request-schema.js';

type Item = Record<string, any>;

/**
 * The keys one object of a Responses request may have, from the `openai` package's types
 * (resources/responses/responses.d.ts, resources/shared.d.ts).
 * - `carried`: mapped onto the chat request, checked and refused where the mapping refuses a value
 *   (tools.ts, items-to-messages.ts, text-format.ts, request-fields.ts), or consciously ignored on
 *   replayed items (an output item's `id` and `status`, an `output_text`'s `annotations` and
 *   `logprobs`: chat messages have no place for them, and OpenAI ignores them on input too);
 * - `notServed`: defined by the types but not carried to a chat upstream: why, or undefined for a
 *   value that changes nothing (`caller: {type:'direct'}`, an `input_file`'s `detail: 'auto'`).
 */
interface Shape {
  /** The type's name in the `openai` package, for the hint after "Unknown parameter: '…'." (`ResponseInputText has no such field`). */
  name: string;
  carried: readonly string[];
  notServed?: Record<string, (value: any) => string | undefined>;
}

const always = (why: string) => () => why;
const PROMPT_CACHE_BREAKPOINT = always('explicit prompt-cache breakpoints have no chat-completions equivalent (prompt_cache_key and prompt_cache_retention are forwarded)');
const CALLER = (v: Item) => (v?.type === 'direct' ? undefined : 'programmatic tool calling is not served (a chat upstream makes direct calls only); send caller {type: "direct"} or leave it out');

const TEXT: Shape = { name: 'ResponseTextConfig', carried: ['format', 'verbosity'] };
const FORMATS: Record<string, Shape> = {
  text: { name: 'ResponseFormatText', carried: ['type'] },
  json_object: { name: 'ResponseFormatJSONObject', carried: ['type'] },
  json_schema: { name: 'ResponseFormatTextJSONSchemaConfig', carried: ['type', 'name', 'schema', 'description', 'strict'] },
};
const REASONING: Shape = {
  name: 'Reasoning',
  // summary and generate_summary: `auto` taken, the others refused with their own message; context: `auto` and
  // `current_turn` taken, `all_turns` refused with its own (request-fields.ts).
  carried: ['effort', 'summary', 'generate_summary', 'context'],
  notServed: {
    mode: always('chat completions has no reasoning mode; reasoning.effort is forwarded as reasoning_effort'),
  },
};
// `defer_loading`, `allowed_callers`, `output_schema` and `async` (openai 7.55's FunctionTool) are tools.ts's: taken at the
// value that changes nothing, refused otherwise.
const FUNCTION_TOOL: Shape = { name: 'FunctionTool', carried: ['type', 'name', 'description', 'parameters', 'strict', 'defer_loading', 'allowed_callers', 'output_schema', 'async'] };
// A custom tool's `format` keys are tools.ts's (customFormatToChat), its options taken as a function tool's are.
const CUSTOM_TOOL: Shape = { name: 'CustomTool', carried: ['type', 'name', 'description', 'format', 'defer_loading', 'allowed_callers', 'async'] };
const TOOL_CHOICES: Record<string, Shape> = {
  function: { name: 'ToolChoiceFunction', carried: ['type', 'name'] },
  custom: { name: 'ToolChoiceCustom', carried: ['type', 'name'] },
  allowed_tools: { name: 'ToolChoiceAllowed', carried: ['type', 'mode', 'tools'] },
};
const ALLOWED_FUNCTION: Shape = { name: "an allowed_tools function entry ({type: 'function', name})", carried: ['type', 'name'] };
const ALLOWED_CUSTOM: Shape = { name: "an allowed_tools custom entry ({type: 'custom', name})", carried: ['type', 'name'] };
/** A custom tool call's `async` (openai 7.55's ResponseCustomToolCall): false changes nothing; a chat upstream's calls are never asynchronous. */
const ASYNC = (v: unknown) => (v === false ? undefined : 'asynchronous tool calls are not served (a chat upstream\'s calls are answered by an output item in a later turn); send false or leave it out');
const STREAM_OPTIONS: Shape = { name: 'ResponseCreateParams.StreamOptions', carried: ['include_obfuscation'] };

const ITEMS: Record<string, Shape> = {
  message: {
    name: 'EasyInputMessage, ResponseInputItem.Message or ResponseOutputMessage',
    carried: ['type', 'role', 'content', 'id', 'status'],
    notServed: { phase: always("chat messages carry no phase (commentary or final_answer), and this gateway's answers never set one") },
  },
  function_call: {
    name: 'ResponseFunctionToolCall',
    carried: ['type', 'call_id', 'name', 'arguments', 'id', 'status'],
    notServed: { caller: CALLER, namespace: always('tool namespaces are not served (chat function names are flat)') },
  },
  function_call_output: {
    name: 'ResponseInputItem.FunctionCallOutput',
    carried: ['type', 'call_id', 'output', 'id', 'status'],
    notServed: { caller: CALLER },
  },
  // A custom tool's call and its output (chat's custom tool calls and tool messages: items-to-messages.ts). `status` is
  // ResponseCustomToolCallItem's (the call as the API returns it), read and ignored on a replayed item as a function call's.
  custom_tool_call: {
    name: 'ResponseCustomToolCall',
    carried: ['type', 'call_id', 'name', 'input', 'id', 'status'],
    notServed: { caller: CALLER, namespace: always('tool namespaces are not served (chat custom tool names are flat)'), async: ASYNC },
  },
  custom_tool_call_output: {
    name: 'ResponseCustomToolCallOutput',
    carried: ['type', 'call_id', 'output', 'id', 'status'],
    notServed: { caller: CALLER },
  },
  item_reference: { name: 'ResponseInputItem.ItemReference', carried: ['type', 'id'] },
  // Replayed reasoning is left out of the chat messages (items-to-messages.ts), as it comes.
  reasoning: {
    name: 'ResponseReasoningItem',
    // encrypted_content: the gateway's own sealed reasoning, opened with the caller's tenant's key (encrypted-reasoning.ts checkSentReasoning).
    carried: ['type', 'id', 'summary', 'content', 'status', 'encrypted_content'],
  },
};
const PARTS: Record<string, Shape> = {
  input_text: { name: 'ResponseInputText', carried: ['type', 'text'], notServed: { prompt_cache_breakpoint: PROMPT_CACHE_BREAKPOINT } },
  input_image: { name: 'ResponseInputImage', carried: ['type', 'image_url', 'file_id', 'detail'], notServed: { prompt_cache_breakpoint: PROMPT_CACHE_BREAKPOINT } },
  input_file: {
    name: 'ResponseInputFile',
    carried: ['type', 'file_data', 'filename', 'file_id', 'file_url'],
    notServed: {
      prompt_cache_breakpoint: PROMPT_CACHE_BREAKPOINT,
      detail: (v) => (v === 'auto' ? undefined : "chat file parts have no detail level; send 'auto' (the default) or leave it out"),
    },
  },
  output_text: { name: 'ResponseOutputText', carried: ['type', 'text', 'annotations', 'logprobs'] },
  refusal: { name: 'ResponseOutputRefusal', carried: ['type', 'refusal'] },
};
/** A function call output's parts (ResponseFunctionCallOutputItem): text, image and file, mapped as a message's parts are. */
const OUTPUT_PARTS: Record<string, Shape> = {
  input_text: { name: 'ResponseInputTextContent', carried: ['type', 'text'], notServed: { prompt_cache_breakpoint: PROMPT_CACHE_BREAKPOINT } },
  input_image: { name: 'ResponseInputImageContent', carried: PARTS.input_image.carried, notServed: PARTS.input_image.notServed },
  input_file: { name: 'ResponseInputFileContent', carried: PARTS.input_file.carried, notServed: PARTS.input_file.notServed },
};

const isObject = (v: unknown): v is Item => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Refuses a key of `obj` that `shape` does not carry. A key whose value is null counts as absent.
 * @throws GatewayError 400 `unsupported_parameter` naming `path.key` for a key the type defines that is not served;
 *   400 `unknown_parameter` in OpenAI's words (`Unknown parameter: 'input[0].foo'.`) for a key it does not define
 */
function checkKeys(obj: Item, shape: Shape, path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (value == null || shape.carried.includes(key)) continue;
    const at = `${path}.${shownKey(key)}`;
    const why = shape.notServed?.[key];
    if (why) {
      const reason = why(value);
      if (reason === undefined) continue;
      throw invalid(`${at} is not served by /v1/responses here: ${reason}`, at, 'unsupported_parameter');
    }
    throw unknownParameter(at, `${shape.name} has no such field; leave it out`);
  }
}

/** `checkKeys` when `obj` is an object whose `type` the table knows; other types are the mapping's to refuse. */
function checkTyped(obj: unknown, shapes: Record<string, Shape>, path: string, type = isObject(obj) ? obj.type : undefined): void {
  if (isObject(obj) && typeof type === 'string' && Object.hasOwn(shapes, type)) checkKeys(obj, shapes[type], path);
}

/** The keys of each input item and of its content parts (an item without `type` is a message). */
function checkItems(input: unknown): void {
  if (!Array.isArray(input)) return;
  input.forEach((item, i) => {
    if (!isObject(item)) return;
    const path = `input[${i}]`;
    const type = item.type ?? 'message';
    checkTyped(item, ITEMS, path, type);
    if (type === 'message' && Array.isArray(item.content)) item.content.forEach((p: unknown, j: number) => checkTyped(p, PARTS, `${path}.content[${j}]`));
    if ((type === 'function_call_output' || type === 'custom_tool_call_output') && Array.isArray(item.output)) item.output.forEach((p: unknown, j: number) => checkTyped(p, OUTPUT_PARTS, `${path}.output[${j}]`));
  });
}

/**
 * Refuses a key inside a request's objects that the gateway would otherwise drop: in `text`,
 * `text.format`, `reasoning`, `stream_options`, each function and custom tool, `tool_choice` (and its
 * allowed functions and custom tools), each input item and its content parts. A key the `openai` package's types
 * define but the chat mapping does not carry gets a 400 saying it is not served and why; a key the
 * types do not define gets OpenAI's 400 for it, `Unknown parameter: 'input[0].foo'.` (code `unknown_parameter`), then
 * the type that has no such field. Objects of a type the
 * mapping refuses anyway (a hosted tool) are left to that refusal.
 * @throws GatewayError 400 naming the key's path (`input[0].content[1].foo`): `unknown_parameter` for a key the types do
 *   not define, `unsupported_parameter` for one they define that is not served
 */
export function checkNestedFields(body: ResponsesRequestBody): void {
  const text = body.text as Item | null | undefined;
  if (isObject(text)) {
    checkKeys(text, TEXT, 'text');
    checkTyped(text.format, FORMATS, 'text.format');
  }
  if (isObject(body.reasoning)) checkKeys(body.reasoning, REASONING, 'reasoning');
  if (isObject(body.stream_options)) checkKeys(body.stream_options, STREAM_OPTIONS, 'stream_options');
  (body.tools as unknown[] | null | undefined)?.forEach((t, i) => checkTyped(t, { function: FUNCTION_TOOL, custom: CUSTOM_TOOL }, `tools[${i}]`));
  const choice = body.tool_choice as unknown;
  checkTyped(choice, TOOL_CHOICES, 'tool_choice');
  if (isObject(choice) && choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    choice.tools.forEach((t: unknown, i: number) => checkTyped(t, { function: ALLOWED_FUNCTION, custom: ALLOWED_CUSTOM }, `tool_choice.tools[${i}]`));
  }
  checkItems(body.input);
}
