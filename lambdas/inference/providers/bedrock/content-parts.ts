import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionContentPart, ChatCompletionContentPartRefusal, ChatCompletionContentPartText } from 'openai/resources/chat/completions';
import { audioBlock } from './audio-part.js';
import { documentBlock, type DocumentNamer } from './file-part.js';
import { imageBlock } from './image-part.js';
import { given, unsupported } from './refuse.js';

type Part = ChatCompletionContentPart | ChatCompletionContentPartRefusal;

/**
 * A message's `content` (a string or an array of parts) → Converse content blocks.
 *
 *   "hi"                                     → [{text:'hi'}]
 *   {type:'text', text}                      → {text}
 *   {type:'image_url', ...}                  → {image}    (image-part.ts)
 *   {type:'file', ...}                       → {document} (file-part.ts)
 *   {type:'input_audio', ...}                → {audio}    (audio-part.ts)
 *   {type:'refusal', refusal} (assistant)    → {text: refusal}
 *
 * - Which part types a role may carry is `allowed` (user: text, image_url, file, input_audio;
 *   assistant: text, refusal; system, developer, tool: text); another type is a 400 at
 *   `<field>[j]`.
 * - A refusal the assistant gave earlier is history the model should see as what it said, so it
 *   becomes text in the assistant turn (Converse has no refusal block).
 * - Empty or whitespace-only text carries nothing and Converse refuses blank text blocks ("The
 *   text field in the ContentBlock object is blank", "text content blocks must contain
 *   non-whitespace text"), so such parts are left out (other text goes as sent, its spaces kept).
 *   Frameworks replay such text: an assistant turn that opened with "\n\n" before its tool call
 *   (vLLM's hermes tool parser answers so), a tool's empty output with its newline.
 * - `prompt_cache_breakpoint` on a part is a 400 at `<field>[j].prompt_cache_breakpoint`:
 *   Converse cache points have other TTLs (5m, 1h) than OpenAI's breakpoints (30m minimum).
 *
 * `field` is the content's path, e.g. `messages[2].content`.
 * AWS reference: ContentBlock (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html).
 */
export function contentBlocks(content: string | Part[] | null | undefined, field: string, allowed: readonly Part['type'][], names: DocumentNamer): ContentBlock[] {
  if (!given(content)) return [];
  if (typeof content === 'string') return hasText(content) ? [{ text: content }] : [];
  return content.flatMap((part, j): ContentBlock[] => {
    const at = `${field}[${j}]`;
    if (!allowed.includes(part.type)) throw unsupported(at, `a ${String(part.type)} part has no place in this message`);
    if ('prompt_cache_breakpoint' in part && given(part.prompt_cache_breakpoint)) {
      throw unsupported(`${at}.prompt_cache_breakpoint`, "Converse cache points have other TTLs (5m, 1h) than OpenAI's prompt cache breakpoints");
    }
    switch (part.type) {
      case 'text': return hasText(part.text) ? [{ text: part.text }] : [];
      case 'refusal': return hasText(part.refusal) ? [{ text: part.refusal }] : [];
      case 'image_url': return [imageBlock(part, at)];
      case 'file': return [documentBlock(part, at, names)];
      case 'input_audio': return [audioBlock(part, at)];
    }
  });
}

/** Whether `text` holds more than whitespace: what Converse takes as a text block. */
const hasText = (text: string | null | undefined): text is string => typeof text === 'string' && text.trim() !== '';

/** The text of a text-only content (system, developer, tool), as Converse text blocks. */
export function textBlocks(content: string | ChatCompletionContentPartText[] | null | undefined, field: string): { text: string }[] {
  return contentBlocks(content, field, ['text'], () => '') as { text: string }[];
}
