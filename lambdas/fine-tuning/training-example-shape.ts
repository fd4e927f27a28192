/**
 * The shapes of OpenAI's supervised chat fine-tuning example (`FineTuneChatRequestInput`, OpenAI API reference,
 * "Fine-tuning: training format for chat models", and the openai package's chat types it is built of) that
 * training-file-format.ts checks beside roles and content: tool and function calls, the tools an example offers, a
 * message's `name`, which messages take a `weight`, and the content parts. Each of these was answered `processed` when
 * malformed and reached the training job's chat template, which renders a tool call's `arguments` as the string the
 * model is to learn to write (an object is no such string) and fails, or trains on something else, hours later.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown, max = 60) => (v === undefined ? 'missing' : JSON.stringify(v).slice(0, max));
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * What is wrong with one function call (`ChatCompletionMessageToolCall.Function` or a legacy `function_call`): `name`
 * a string, `arguments` a string (the JSON text the model writes, not a JSON object).
 * @param at the call's path in the example, e.g. `messages[1].tool_calls[0].function`
 */
function functionCallProblem(call: unknown, at: string): string | undefined {
  if (!isObject(call)) return `has a function call that is not an object (${at} = ${shown(call)})`;
  if (!isString(call.name) || call.name === '') return `has a function call without a name (${at}.name = ${shown(call.name)}: a string)`;
  if (!isString(call.arguments)) {
    return `has a function call whose arguments are not a string (${at}.arguments = ${shown(call.arguments)}: the JSON text of the arguments, e.g. "{\\"city\\": \\"Paris\\"}", as the model writes it)`;
  }
  return undefined;
}

/**
 * What is wrong with a message's tool and function fields, its `name` and its `weight`, by role
 * (FineTuneChatCompletionRequestAssistantMessage, ChatCompletionRequestToolMessage, ChatCompletionRequestFunctionMessage):
 * - `tool_calls` (assistant only): an array of `{id: string, type: "function", function: {name, arguments}}`;
 * - `function_call` (assistant only, legacy): `{name, arguments}`;
 * - a `tool` message names the call it answers (`tool_call_id`, a string); a `function` message its function (`name`);
 * - `name`, where given, a string;
 * - `weight` on assistant messages only (whether that answer is trained on): on another role it would be dropped.
 * @param m a message whose `role` is one of OpenAI's (checked before)
 * @param at its path, e.g. `messages[1]`
 * @returns why the message is refused, or undefined
 */
export function messageShapeProblem(m: Record<string, unknown>, at: string): string | undefined {
  const role = m.role as string;
  if (role !== 'assistant') {
    for (const k of ['tool_calls', 'function_call', 'weight'] as const) {
      if (m[k] !== undefined && (k === 'weight' || m[k] !== null)) return `has a message of role "${role}" with ${k} (${at}.${k}: only an assistant message takes ${k})`;
    }
  }
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    if (!Array.isArray(m.tool_calls)) return `has tool_calls that are not an array (${at}.tool_calls = ${shown(m.tool_calls)})`;
    for (const [i, call] of m.tool_calls.entries()) {
      const where = `${at}.tool_calls[${i}]`;
      if (!isObject(call)) return `has a tool call that is not an object (${where} = ${shown(call)})`;
      if (!isString(call.id) || call.id === '') return `has a tool call without an id (${where}.id = ${shown(call.id)}: a string, which the tool message's tool_call_id names)`;
      if (call.type !== 'function') return `has a tool call of type ${shown(call.type)} (${where}.type must be "function")`;
      const why = functionCallProblem(call.function, `${where}.function`);
      if (why) return why;
    }
  }
  if (m.function_call !== undefined && m.function_call !== null) {
    const why = functionCallProblem(m.function_call, `${at}.function_call`);
    if (why) return why;
  }
  if (role === 'tool' && (!isString(m.tool_call_id) || m.tool_call_id === '')) {
    return `has a tool message without tool_call_id (${at}.tool_call_id = ${shown(m.tool_call_id)}: the id of the assistant's tool call it answers)`;
  }
  if (role === 'function' && (!isString(m.name) || m.name === '')) return `has a function message without a name (${at}.name = ${shown(m.name)}: the function it answers)`;
  if ('name' in m && !isString(m.name)) return `has a message whose name is not a string (${at}.name = ${shown(m.name)})`;
  return contentPartsProblem(m, at);
}

/**
 * What is wrong with a message's content parts, where `content` is an array: each an object with a `type` the
 * fine-tuning chat format has (`text` with a string `text`; `image_url`, checked by imageUrlProblem; `refusal` with a
 * string `refusal`, on an assistant message). Another type (`input_audio`, `file`, ...) is no part of a training
 * example and would be dropped or fail the chat template.
 */
function contentPartsProblem(m: Record<string, unknown>, at: string): string | undefined {
  if (!Array.isArray(m.content)) return undefined;
  const types = m.role === 'assistant' ? ['text', 'refusal'] : m.role === 'user' ? ['text', 'image_url'] : ['text'];
  for (const [j, part] of m.content.entries()) {
    const where = `${at}.content[${j}]`;
    if (!isObject(part)) return `has a content part that is not an object (${where} = ${shown(part)})`;
    if (!isString(part.type) || !types.includes(part.type)) {
      return `has a content part of type ${shown(part.type)} in a message of role "${m.role as string}" (${where}.type must be ${types.map((t) => `"${t}"`).join(' or ')})`;
    }
    if (part.type === 'text' && !isString(part.text)) return `has a text part without text (${where}.text = ${shown(part.text)}: a string)`;
    if (part.type === 'refusal' && !isString(part.refusal)) return `has a refusal part without refusal (${where}.refusal = ${shown(part.refusal)}: a string)`;
  }
  return undefined;
}

/**
 * What is wrong with an example's own fields beside `messages`: `tools` an array of `{type: "function", function:
 * {name, ...}}` (ChatCompletionTool), `functions` (legacy) an array of `{name, ...}`, `parallel_tool_calls` a boolean.
 * @param example a chat example (an object with `messages`)
 * @returns why the example is refused, or undefined
 */
export function exampleToolsProblem(example: Record<string, unknown>): string | undefined {
  if (example.tools !== undefined && example.tools !== null) {
    if (!Array.isArray(example.tools)) return `has tools that are not an array (tools = ${shown(example.tools)})`;
    for (const [i, tool] of example.tools.entries()) {
      if (!isObject(tool) || tool.type !== 'function') return `has a tool that is not {"type": "function", ...} (tools[${i}] = ${shown(tool)})`;
      if (!isObject(tool.function) || !isString(tool.function.name) || tool.function.name === '') {
        return `has a tool without a function name (tools[${i}].function.name = ${shown(isObject(tool.function) ? tool.function.name : tool.function)}: a string)`;
      }
    }
  }
  if (example.functions !== undefined && example.functions !== null) {
    if (!Array.isArray(example.functions)) return `has functions that are not an array (functions = ${shown(example.functions)})`;
    const bad = example.functions.findIndex((f) => !isObject(f) || !isString(f.name) || f.name === '');
    if (bad >= 0) return `has a function without a name (functions[${bad}] = ${shown(example.functions[bad])}: an object with a string "name")`;
  }
  if ('parallel_tool_calls' in example && typeof example.parallel_tool_calls !== 'boolean') {
    return `has parallel_tool_calls = ${shown(example.parallel_tool_calls)} (true or false)`;
  }
  return undefined;
}
