import { invalid } from '../openai-errors.js';
import { newId } from './ids.js';

/** An input item as the gateway keeps it: the caller's item, with an `id` (and `type`, `status`) when it had none. */
export type InputItem = Record<string, unknown> & { id: string; type: string };

const PREFIX: Record<string, 'msg' | 'fc' | 'fco' | 'ctc' | 'ctco'> = { message: 'msg', function_call: 'fc', function_call_output: 'fco', custom_tool_call: 'ctc', custom_tool_call_output: 'ctco' };

/**
 * A request's `input` as the list of input items OpenAI's `GET /v1/responses/{id}/input_items`
 * answers (`ResponseItem`s): a string is one user message with an `input_text` part; a message
 * given as a string becomes one `input_text` part (`output_text` for an assistant's); an item
 * without `type` is a message (`EasyInputMessage`); each item keeps its id or gets one
 * (`msg_…`, `fc_…`, `fco_…`, `ctc_…`, `ctco_…`) and is `completed`. Nothing else changes.
 * @param input the request's `input` (absent: no items)
 * @param base the request field the items came in, for the 400s (`items` on /v1/conversations) @default 'input'
 * @throws GatewayError 400 naming `<base>[i]` when an item is not an object
 */
export function inputItemsOf(input: string | Array<Record<string, unknown>> | null | undefined, base = 'input'): InputItem[] {
  if (input == null) return [];
  if (typeof input === 'string') return [{ id: newId('msg'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: input }] }];
  return input.map((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${base}[${i}] must be an object (a message, function_call, function_call_output, …)`, `${base}[${i}]`);
    const type = typeof raw.type === 'string' ? raw.type : 'message';
    const item: Record<string, unknown> = { ...raw, type };
    if (type === 'message' && typeof raw.content === 'string') item.content = [{ type: raw.role === 'assistant' ? 'output_text' : 'input_text', text: raw.content, ...(raw.role === 'assistant' ? { annotations: [] } : {}) }];
    if (type in PREFIX) item.status ??= 'completed';
    const id = typeof raw.id === 'string' && raw.id ? raw.id : newId(PREFIX[type] ?? 'item');
    return { ...item, id } as InputItem;
  });
}

/**
 * The indexes of the input items whose content the caller sent as a string (`input: "hello"`, or a
 * message with `content: "hello"`): `inputItemsOf` lists them as OpenAI does (one `input_text`
 * part), the chat request sends the string as it came (`itemsToMessages`' `plain`).
 */
export function plainContentOf(input: string | Array<Record<string, unknown>> | null | undefined): Set<number> {
  if (typeof input === 'string') return new Set([0]);
  const plain = new Set<number>();
  (input ?? []).forEach((raw, i) => {
    if (raw !== null && typeof raw === 'object' && (raw.type ?? 'message') === 'message' && typeof raw.content === 'string') plain.add(i);
  });
  return plain;
}
