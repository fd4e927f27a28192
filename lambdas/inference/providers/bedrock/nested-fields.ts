import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { shownKey } from '../../../../lib/zod-issues.js';
import { given, unknownNested } from './refuse.js';

type Item = Record<string, unknown>;

/**
 * The keys one object inside a chat-completions request may have on the way to Converse: the keys of its type in the
 * `openai` package (resources/chat/completions/completions.d.ts, resources/shared.d.ts, openai 7.55), each read by a
 * rule module (content-parts.ts, tools.ts, tool-calls.ts, response-format.ts), which refuses the values it cannot map.
 * `inner`: the shapes of the keys whose value is itself an object checked here.
 */
interface Shape {
  /** The type's name in the `openai` package, for the hint after "Unknown parameter: '…'." (not a field of …). */
  name: string;
  keys: readonly string[];
  inner?: Record<string, Shape>;
}

const PARTS: Record<string, Shape> = {
  text: { name: 'ChatCompletionContentPartText', keys: ['type', 'text', 'prompt_cache_breakpoint'] },
  image_url: {
    name: 'ChatCompletionContentPartImage', keys: ['type', 'image_url', 'prompt_cache_breakpoint'],
    inner: { image_url: { name: 'ChatCompletionContentPartImage.ImageURL', keys: ['url', 'detail'] } },
  },
  input_audio: {
    name: 'ChatCompletionContentPartInputAudio', keys: ['type', 'input_audio', 'prompt_cache_breakpoint'],
    inner: { input_audio: { name: 'ChatCompletionContentPartInputAudio.InputAudio', keys: ['data', 'format'] } },
  },
  file: {
    name: 'ChatCompletionContentPart.File', keys: ['type', 'file', 'prompt_cache_breakpoint'],
    inner: { file: { name: 'ChatCompletionContentPart.File.File', keys: ['file_data', 'file_id', 'filename'] } },
  },
  refusal: { name: 'ChatCompletionContentPartRefusal', keys: ['type', 'refusal'] },
};

/**
 * `parsed_arguments`: what the official clients' parse and stream helpers add to a tool call they parsed
 * (`ParsedFunction`), sent back when an application appends `choices[0].message` to its history; derived from
 * `arguments`, ignored, as `parsed` on the message is (messages.ts) and as OpenAI's gpt-4o and later ignore them.
 */
const FUNCTION_CALL: Shape = { name: 'ChatCompletionMessageFunctionToolCall.Function', keys: ['name', 'arguments', 'parsed_arguments'] };
const TOOL_CALL: Shape = { name: 'ChatCompletionMessageFunctionToolCall', keys: ['id', 'type', 'function'], inner: { function: FUNCTION_CALL } };
const FUNCTION_TOOL: Shape = { name: 'ChatCompletionFunctionTool', keys: ['type', 'function'], inner: { function: { name: 'FunctionDefinition', keys: ['name', 'description', 'parameters', 'strict'] } } };
const NAMED: Shape = { name: 'ChatCompletionNamedToolChoice.Function', keys: ['name'] };
const TOOL_CHOICES: Record<string, Shape> = {
  function: { name: 'ChatCompletionNamedToolChoice', keys: ['type', 'function'], inner: { function: NAMED } },
  allowed_tools: { name: 'ChatCompletionAllowedToolChoice', keys: ['type', 'allowed_tools'], inner: { allowed_tools: { name: 'ChatCompletionAllowedTools', keys: ['mode', 'tools'] } } },
};
/** An allowed tool (`ChatCompletionAllowedTools.tools[i]`, as OpenAI's reference writes it: `{type: 'function', function: {name}}`). */
const ALLOWED_FUNCTION: Shape = { name: "an allowed_tools entry ({type: 'function', function: {name}})", keys: ['type', 'function'], inner: { function: NAMED } };
const FORMATS: Record<string, Shape> = {
  text: { name: 'ResponseFormatText', keys: ['type'] },
  json_object: { name: 'ResponseFormatJSONObject', keys: ['type'] },
  json_schema: { name: 'ResponseFormatJSONSchema', keys: ['type', 'json_schema'], inner: { json_schema: { name: 'ResponseFormatJSONSchema.JSONSchema', keys: ['name', 'description', 'schema', 'strict'] } } },
};

const isObject = (v: unknown): v is Item => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Refuses a key of `obj` that `shape` does not have (null counts as absent), then checks its `inner` objects.
 * @throws UnsupportedFieldError 400 `unknown_parameter` naming `path.key`, in OpenAI's words (refuse.ts unknownNested)
 */
function checkKeys(obj: Item, shape: Shape, path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!given(value)) continue;
    const at = `${path}.${shownKey(key)}`;
    if (!shape.keys.includes(key)) throw unknownNested(at, `not a field of OpenAI's ${shape.name}, and Converse has no place to forward it: leave it out`);
    const inner = shape.inner?.[key];
    if (inner && isObject(value)) checkKeys(value, inner, at);
  }
}

/** `checkKeys` when `obj` is an object whose `type` the table knows; another type is the rule modules' to refuse. */
function checkTyped(obj: unknown, shapes: Record<string, Shape>, path: string): void {
  if (isObject(obj) && typeof obj.type === 'string' && Object.hasOwn(shapes, obj.type)) checkKeys(obj, shapes[obj.type], path);
}

/**
 * Refuses a key inside the objects of a chat-completions request that the Converse mapping would otherwise drop
 * without a word: in each message's content parts (and their `image_url`, `input_audio`, `file`), an assistant
 * message's `tool_calls[k]` (and `.function`) and `function_call`, each function tool (and `.function`),
 * `tool_choice` (a named function or `allowed_tools`, and each allowed entry), and `response_format` (and
 * `.json_schema`). The keys are those the `openai` package's types define; whatever else a client adds (Anthropic's
 * `cache_control` on a part or a tool, a made-up key) is a 400 naming its path, as an unknown top-level field is
 * (request-fields.ts), in OpenAI's words for one (`Unknown parameter: '<path>'.`, code `unknown_parameter`; until
 * 2026-12-07 `unsupported_parameter` in the gateway's). Before session 47 each such key was left out of the Converse request silently. The
 * message-level keys are messages.ts's (`checkFields`); values and types are the rule modules'.
 * @throws UnsupportedFieldError 400 `unknown_parameter` naming the key's path (`messages[0].content[0].cache_control`)
 */
export function checkNestedFields(body: ChatCompletionCreateParams): void {
  (body.messages as unknown[]).forEach((message, i) => {
    if (!isObject(message)) return;
    const at = `messages[${i}]`;
    if (Array.isArray(message.content)) message.content.forEach((part, j) => checkTyped(part, PARTS, `${at}.content[${j}]`));
    if (message.role !== 'assistant') return;
    if (Array.isArray(message.tool_calls)) message.tool_calls.forEach((call, k) => checkTyped(call, { function: TOOL_CALL }, `${at}.tool_calls[${k}]`));
    if (isObject(message.function_call)) checkKeys(message.function_call, { name: 'ChatCompletionAssistantMessageParam.FunctionCall', keys: ['name', 'arguments'] }, `${at}.function_call`);
  });
  (body.tools as unknown[] | undefined)?.forEach((tool, i) => checkTyped(tool, { function: FUNCTION_TOOL }, `tools[${i}]`));
  const choice = body.tool_choice as unknown;
  checkTyped(choice, TOOL_CHOICES, 'tool_choice');
  if (isObject(choice) && choice.type === 'allowed_tools' && isObject(choice.allowed_tools) && Array.isArray(choice.allowed_tools.tools)) {
    choice.allowed_tools.tools.forEach((t, j) => checkTyped(t, { function: ALLOWED_FUNCTION }, `tool_choice.allowed_tools.tools[${j}]`));
  }
  checkTyped(body.response_format, FORMATS, 'response_format');
}
