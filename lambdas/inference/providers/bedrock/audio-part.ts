import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionContentPartInputAudio } from 'openai/resources/chat/completions';
import { decodeBase64 } from './data-url.js';
import { unsupported } from './refuse.js';

/**
 * An OpenAI `input_audio` content part → a Converse `audio` block.
 *
 *   {type:'input_audio', input_audio:{data:'<base64>', format:'wav'|'mp3'}}
 *     → {audio:{format:'wav'|'mp3', source:{bytes: <decoded>}}}
 *
 * Converse has an AudioBlock (AudioFormat includes wav and mp3, OpenAI's two input formats), so
 * the part maps one to one; a model that takes no audio answers Bedrock's own 400
 * (ValidationException), relayed as the caller's 400. Any other format: 400 at
 * `<field>.input_audio.format`.
 *
 * AWS reference: AudioBlock (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_AudioBlock.html).
 */
export function audioBlock(part: ChatCompletionContentPartInputAudio, field: string): ContentBlock {
  const { data, format } = part.input_audio;
  if (format !== 'wav' && format !== 'mp3') throw unsupported(`${field}.input_audio.format`, `OpenAI audio input is wav or mp3, not ${String(format)}`);
  return { audio: { format, source: { bytes: decodeBase64(data, `${field}.input_audio.data`) } } };
}
