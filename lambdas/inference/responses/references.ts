import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { invalid } from '../openai-errors.js';
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
 * Each `function_call_output` answers a function call made before it: a `function_call` item
 * earlier in `input`, or a tool call of the conversation chained by `previous_response_id`. OpenAI
 * refuses an orphan output; a chat upstream would refuse the orphan tool message, or worse, answer
 * it, depending on the provider, after the request was counted and reserved.
 * @param history the chained conversation (chat messages), empty without `previous_response_id`
 * @throws GatewayError 400 naming `input[i].call_id` (OpenAI: "No tool call found for function call output with call_id …")
 */
export function checkCallOutputs(items: InputItem[], history: ChatCompletionMessageParam[]): void {
  const calls = new Set<string>();
  for (const m of history) if (m.role === 'assistant') for (const t of m.tool_calls ?? []) calls.add(t.id);
  items.forEach((item: Item, i) => {
    if (item.type === 'function_call' && typeof item.call_id === 'string') calls.add(item.call_id);
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      throw invalid(`No tool call found for function call output with call_id ${String(item.call_id).slice(0, 100)} (input[${i}].call_id): send the function_call item before it, or chain with previous_response_id from the response that made the call`, `input[${i}].call_id`, 'tool_call_not_found');
    }
  });
}

/**
 * A `tool_choice` that names a function (`{type:'function', name}`, or `allowed_tools`) names one
 * of the request's function tools, as OpenAI requires.
 * @throws GatewayError 400 naming `tool_choice.name` or `tool_choice.tools[i].name`
 */
export function checkToolChoiceNames(tools: Item[] | null | undefined, choice: string | Item | null | undefined): void {
  if (choice == null || typeof choice === 'string') return;
  const names = new Set((tools ?? []).filter((t) => t?.type === 'function').map((t) => t.name));
  const known = names.size ? [...names].join(', ') : 'none';
  if (choice.type === 'function' && typeof choice.name === 'string' && !names.has(choice.name)) {
    throw invalid(`tool_choice.name '${choice.name}' is not a function in tools (functions: ${known})`, 'tool_choice.name', 'tool_not_found');
  }
  if (choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    choice.tools.forEach((t: Item, i: number) => {
      if (t?.type === 'function' && !names.has(t.name)) throw invalid(`tool_choice.tools[${i}].name '${t.name}' is not a function in tools (functions: ${known})`, `tool_choice.tools[${i}].name`, 'tool_not_found');
    });
  }
}
