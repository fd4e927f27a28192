type Item = Record<string, unknown>;

/** OpenAI's default `detail` of an `input_image` sent without one (API reference, "Input image": "Defaults to auto"). */
const DEFAULT_IMAGE_DETAIL = 'auto';

/** A message's content part with what OpenAI's answer types require filled in, or the part itself when nothing lacks. */
function partWithDefaults(part: unknown): unknown {
  if (part === null || typeof part !== 'object' || Array.isArray(part)) return part;
  const p = part as Item;
  if (p.type === 'input_image' && p.detail == null) return { ...p, detail: DEFAULT_IMAGE_DETAIL };
  if (p.type === 'output_text' && p.annotations == null) return { ...p, annotations: [] };
  return part;
}

/**
 * Items (a response's input items, a conversation's items) as OpenAI answers them: each part of a message's `content`
 * and of a `function_call_output`'s (or `custom_tool_call_output`'s) `output` list with the fields the `openai` packages' answer types require and the
 * caller may leave out when it sends the item. An `input_image` without `detail` is shown with `detail: "auto"`, the
 * default it was sent to the model with (`ResponseInputImage.detail: ImageDetail`, required, in a message and in
 * `ResponseFunctionToolCallOutputItem.output` both); an `output_text` without `annotations` (an assistant turn
 * replayed as input, or added to a conversation) with `annotations: []` (`ResponseOutputText.annotations`, required;
 * a string content is already stored so: input-items.ts inputItemsOf). Without them a Python app's
 * `for a in part.annotations` raises TypeError on None, and Node's typed `part.annotations.length` throws. Items are
 * stored as sent; only the answer is filled. Other items, parts and fields as they are.
 * @param items stored items, any type
 * @returns new items where a part changes; the items themselves are not changed
 */
export function withPartDefaults<T extends Item>(items: readonly T[]): T[] {
  return items.map((item) => {
    const field = item.type === 'message' ? 'content' : item.type === 'function_call_output' || item.type === 'custom_tool_call_output' ? 'output' : undefined;
    const parts = field && item[field];
    if (!Array.isArray(parts)) return item;
    const shown = (parts as unknown[]).map(partWithDefaults);
    return shown.some((part, i) => part !== parts[i]) ? { ...item, [field!]: shown } : item;
  });
}
