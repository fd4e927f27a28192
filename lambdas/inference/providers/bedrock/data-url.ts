import { invalidField } from './refuse.js';

/**
 * Inline bytes as OpenAI callers send them → the raw bytes Converse takes in `source.bytes`.
 *
 *   decodeDataUrl('data:image/png;base64,iVBOR...', field) → { mediaType: 'image/png', bytes: Uint8Array }
 *   decodeBase64('iVBOR...', field)                        → Uint8Array
 *
 * Only base64 data URLs (RFC 2397 with `;base64`): what OpenAI's SDKs and docs produce for
 * images and files. Anything else is a 400 naming `field`. The media type is lower-cased and its
 * parameters (`;charset=...`) dropped. Nothing here ever fetches a URL.
 */
export function isDataUrl(url: string): boolean {
  return /^data:/i.test(url);
}

export function decodeDataUrl(url: string, field: string): { mediaType: string; bytes: Uint8Array } {
  const match = /^data:([^,]*?);base64,(.*)$/is.exec(url);
  if (!match) throw invalidField(field, 'is not a base64 data URL (data:<media type>;base64,<data>)');
  const mediaType = match[1].split(';')[0].trim().toLowerCase();
  return { mediaType, bytes: decodeBase64(match[2], field) };
}

export function decodeBase64(data: string, field: string): Uint8Array {
  const compact = data.replace(/\s+/g, '');
  if (!compact || compact.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw invalidField(field, 'is not valid base64');
  return new Uint8Array(Buffer.from(compact, 'base64'));
}
