import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { invalid, quoted } from '../openai-errors.js';
import { listedToolNames } from '../chat/tool-choice-names.js';
import type { StoredResponse } from '../stores/response-store.js';
import type { InputItem } from './input-items.js';

type Item = Record<string, any>;

/**
 * Item ids are unique within a request: `GET /v1/responses/{id}/input_items` pages by id (`after`),
 * and a repeated id would send the SDKs' auto-pagination round in a loop.
 * @throws GatewayError 400 naming `input[i].id` (OpenAI: "Duplicate item found with id …")
 */
export function checkUniqueItemIds(items: InputItem[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) throw invalid(`Duplicate item found with id ${item.id} (input[${i}].id): item ids must be unique within a request`, `input[${i}].id`, 'duplicate_item_id');
    seen.add(item.id);
  });
}

/**
 * No input item is an item of the conversation chained by `previous_response_id`: the previous
 * response's input and output items are already before the new input, and one sent again (a
 * replayed `function_call`, an `item_reference` to the previous answer) would reach the model
 * twice. OpenAI refuses it ("Duplicate item found with id …"); an item reference counts as the item
 * it names (it keeps the referenced id, item-references.ts).
 * Only the previous response's own items are known by id: the turns before it are kept as chat
 * messages (StoredResponse.messages), which have no item ids.
 * @param items the request's input items (references resolved or not: the ids are the same)
 * @param previous the stored response named by `previous_response_id`, absent without one
 * @throws GatewayError 400 `duplicate_item_id` naming `input[i].id`
 */
export function checkItemsNotInHistory(items: InputItem[], previous: Pick<StoredResponse, 'responseId' | 'response' | 'inputItems'> | undefined): void {
  if (!previous) return;
  const output = Array.isArray(previous.response.output) ? (previous.response.output as Item[]) : [];
  const chained = new Set([...previous.inputItems, ...output].map((item) => item?.id).filter((id): id is string => typeof id === 'string'));
  items.forEach((item, i) => {
    if (!chained.has(item.id)) return;
    const what = item.type === 'item_reference' ? 'an item_reference to an item' : 'an item';
    throw invalid(`Duplicate item found with id ${item.id} (input[${i}].id): ${what} of previous_response_id ${previous.responseId}, which is already in the conversation; send only the new items (function_call_output, the next message) with previous_response_id`, `input[${i}].id`, 'duplicate_item_id');
  });
}

/**
 * Function calls and their outputs pair up, as OpenAI requires (a custom tool's `custom_tool_call` and
 * `custom_tool_call_output` as a function's, either output answering either call: both are a chat tool message):
 * - each `function_call_output` answers a function call made before it: a `function_call` item
 *   earlier in `input`, or a tool call of the conversation chained by `previous_response_id`
 *   (OpenAI: "No tool call found for function call output with call_id …");
 * - each function call still unanswered (a tool call of the chained conversation with no tool
 *   message after it, or a `function_call` item of `input`) has a `function_call_output` in
 *   `input` (OpenAI: "No tool output found for function call …"): a chat upstream needs a tool
 *   message for every tool call, and would refuse (or worse, answer) after the request was counted.
 * @param history the chained conversation (chat messages), empty without `previous_response_id`
 * @throws GatewayError 400 `tool_call_not_found` naming `input[i].call_id`, or `tool_output_not_found` naming `input`
 */
export function checkCallOutputs(items: InputItem[], history: ChatCompletionMessageParam[]): void {
  const calls = new Set<string>();
  // Each unanswered call's kind, for the message: a custom tool's call is answered by a custom_tool_call_output item.
  const unanswered = new Map<string, CallKind>();
  for (const m of history) {
    if (m.role === 'assistant') for (const t of m.tool_calls ?? []) (calls.add(t.id), unanswered.set(t.id, t.type === 'custom' ? CUSTOM_CALL : FUNCTION_CALL));
    if (m.role === 'tool') unanswered.delete(m.tool_call_id);
  }
  items.forEach((item: Item, i) => {
    if ((item.type === 'function_call' || item.type === 'custom_tool_call') && typeof item.call_id === 'string') {
      calls.add(item.call_id);
      unanswered.set(item.call_id, item.type === 'custom_tool_call' ? CUSTOM_CALL : FUNCTION_CALL);
    }
    if (item.type !== 'function_call_output' && item.type !== 'custom_tool_call_output') return;
    if (!calls.has(item.call_id)) {
      const kind = item.type === 'custom_tool_call_output' ? CUSTOM_CALL : FUNCTION_CALL;
      throw invalid(`No tool call found for ${kind.name} output with call_id ${String(item.call_id).slice(0, 100)} (input[${i}].call_id): send the ${kind.call} item before it, or chain with previous_response_id from the response that made the call`, `input[${i}].call_id`, 'tool_call_not_found');
    }
    unanswered.delete(item.call_id);
  });
  const [first] = unanswered;
  if (first !== undefined) {
    const [missing, kind] = first;
    throw invalid(`No tool output found for ${kind.name} ${missing.slice(0, 100)} (input): send a ${kind.output} item with call_id ${missing.slice(0, 100)} for each ${kind.name}${unanswered.size > 1 ? ` (${unanswered.size} calls have none)` : ''}, after its ${kind.call} item or with previous_response_id of the response that made the call`, 'input', 'tool_output_not_found');
  }
}

/** How a refusal names a call and the items that make and answer it (OpenAI's words: "function call", "custom tool call"). */
interface CallKind { name: string; call: string; output: string }
const FUNCTION_CALL: CallKind = { name: 'function call', call: 'function_call', output: 'function_call_output' };
const CUSTOM_CALL: CallKind = { name: 'custom tool call', call: 'custom_tool_call', output: 'custom_tool_call_output' };

/**
 * A `tool_choice` that names a function (`{type:'function', name}`, or `allowed_tools`) names one
 * of the request's function tools, as OpenAI requires, and one that names a custom tool (`{type:'custom', name}`) one of
 * its custom tools; `required` needs a function or custom tool to call, and `allowed_tools` its `tools` list.
 * @throws GatewayError 400 naming `tool_choice`, `tool_choice.name`, `tool_choice.tools` or `tool_choice.tools[i].name`
 */
export function checkToolChoiceNames(tools: Item[] | null | undefined, choice: string | Item | null | undefined): void {
  const names = new Set((tools ?? []).filter((t) => t?.type === 'function').map((t) => t.name));
  const customs = new Set((tools ?? []).filter((t) => t?.type === 'custom').map((t) => t.name));
  // The hosted file_search tool is run by the gateway (file-search.ts): a tool the model can call.
  const fileSearch = (tools ?? []).some((t) => t?.type === 'file_search');
  // `required` with nothing to call: the relay passed it on, and a lenient upstream answered text, a call the caller required never made.
  if (choice === 'required' && names.size === 0 && customs.size === 0 && !fileSearch) {
    throw invalid("tool_choice 'required' asks for a tool call, but tools holds no function, custom or file_search tool to call; send function tools, or tool_choice 'auto' or 'none'", 'tool_choice', 'tool_not_found');
  }
  const noFileSearch = (field: string) => invalid(`${field} 'file_search' chooses the file_search tool, but tools holds none; add {type: 'file_search', vector_store_ids: [...]} to tools`, field, 'tool_not_found');
  if (typeof choice === 'object' && choice?.type === 'file_search' && !fileSearch) throw noFileSearch('tool_choice.type');
  if (typeof choice === 'object' && choice?.type === 'allowed_tools' && Array.isArray(choice.tools) && !fileSearch) {
    const at = choice.tools.findIndex((t: Item) => t?.type === 'file_search');
    if (at >= 0) throw noFileSearch(`tool_choice.tools[${at}].type`);
  }
  if (choice == null || typeof choice === 'string') return;
  const known = listedToolNames(names);
  // ToolChoiceAllowed.tools is required: without it the relay sent an empty allowed list upstream.
  if (choice.type === 'allowed_tools' && !Array.isArray(choice.tools)) {
    throw invalid("tool_choice.tools is required for an allowed_tools choice: a list of {type: 'function', name} of the functions in tools the model may call", 'tool_choice.tools', 'missing_required_parameter');
  }
  if (choice.type === 'function' && typeof choice.name === 'string' && !names.has(choice.name)) {
    throw invalid(`tool_choice.name '${quoted(choice.name)}' is not a function in tools (functions: ${known})`, 'tool_choice.name', 'tool_not_found');
  }
  const knownCustom = listedToolNames(customs);
  if (choice.type === 'custom' && typeof choice.name === 'string' && !customs.has(choice.name)) {
    throw invalid(`tool_choice.name '${quoted(choice.name)}' is not a custom tool in tools (custom tools: ${knownCustom})`, 'tool_choice.name', 'tool_not_found');
  }
  if (choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    choice.tools.forEach((t: Item, i: number) => {
      if (t?.type === 'custom' && !customs.has(t.name)) throw invalid(`tool_choice.tools[${i}].name '${quoted(t.name)}' is not a custom tool in tools (custom tools: ${knownCustom})`, `tool_choice.tools[${i}].name`, 'tool_not_found');
      if (t?.type === 'function' && !names.has(t.name)) throw invalid(`tool_choice.tools[${i}].name '${quoted(t.name)}' is not a function in tools (functions: ${known})`, `tool_choice.tools[${i}].name`, 'tool_not_found');
    });
  }
}
