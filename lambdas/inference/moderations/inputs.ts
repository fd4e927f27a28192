import type { ModerationCreateParams, ModerationMultiModalInput } from 'openai/resources/moderations';

type Input = ModerationCreateParams['input'];

/**
 * The texts of a moderations `input`, in order, with the caller's path of each: a string is one
 * text (`input`), an array of strings one per item (`input[i]`), an array of parts its `text`
 * parts (`input[i].text`; image parts hold no text the gateway reads).
 */
export function textsOf(input: Input): Array<{ text: string; path: string }> {
  if (typeof input === 'string') return [{ text: input, path: 'input' }];
  return input.flatMap((item, i) => {
    if (typeof item === 'string') return [{ text: item, path: `input[${i}]` }];
    return item.type === 'text' ? [{ text: item.text, path: `input[${i}].text` }] : [];
  });
}

/** `input` with its texts (in textsOf's order) replaced by `texts`, in the caller's shape; image parts unchanged. */
export function withTexts(input: Input, texts: string[]): Input {
  if (typeof input === 'string') return texts[0]!;
  let next = 0;
  return input.map((item) => {
    if (typeof item === 'string') return texts[next++]!;
    return item.type === 'text' ? { ...item, text: texts[next++]! } : item;
  }) as string[] | ModerationMultiModalInput[];
}

/** Whether `input` is a list of parts (one moderation of them together) rather than texts (one each). */
export const isMultiModal = (input: Input): input is ModerationMultiModalInput[] => Array.isArray(input) && typeof input[0] === 'object';

/** Results OpenAI answers for `input`: one per string of an array of strings, one for a string or for parts together. */
export const resultCount = (input: Input): number => (Array.isArray(input) && !isMultiModal(input) ? input.length : 1);
