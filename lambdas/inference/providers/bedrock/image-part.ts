import type { ContentBlock, ImageFormat } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionContentPartImage } from 'openai/resources/chat/completions';
import { decodeDataUrl, isDataUrl } from './data-url.js';
import { unsupported } from './refuse.js';

/**
 * An OpenAI `image_url` content part → a Converse `image` block.
 *
 *   {type:'image_url', image_url:{url:'data:image/png;base64,...'}}
 *     → {image:{format:'png', source:{bytes: <decoded>}}}
 *
 * - Formats: image/png → png, image/jpeg (image/jpg) → jpeg, image/gif → gif, image/webp → webp,
 *   the four Converse ImageFormat values; any other type is a 400 at `<field>.image_url`.
 * - An http(s) (or any non-data) URL is a 400 at `<field>.image_url` asking for a data URL: Converse
 *   takes images inline (or from S3), and the gateway never fetches a URL a caller names (no SSRF).
 * - `detail` 'auto' (OpenAI's default) is accepted; 'low' and 'high' have no Converse equivalent
 *   and are a 400 at `<field>.image_url.detail`.
 *
 * `field` is the part's path, e.g. `messages[2].content[1]`.
 * AWS reference: ImageBlock, ImageSource (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ImageBlock.html).
 */
export function imageBlock(part: ChatCompletionContentPartImage, field: string): ContentBlock {
  const { url, detail } = part.image_url;
  if (!isDataUrl(url)) {
    throw unsupported(`${field}.image_url`, 'Converse takes images inline: send the image as a data URL (data:image/png;base64,...); the gateway does not fetch URLs');
  }
  if (detail && detail !== 'auto') throw unsupported(`${field}.image_url.detail`, `Converse has no image detail setting ("${detail}")`);
  const { mediaType, bytes } = decodeDataUrl(url, `${field}.image_url`);
  const format = IMAGE_FORMATS[mediaType];
  if (!format) throw unsupported(`${field}.image_url`, `Converse takes png, jpeg, gif and webp images, not ${mediaType || 'an untyped data URL'}`);
  return { image: { format, source: { bytes } } };
}

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp',
};
