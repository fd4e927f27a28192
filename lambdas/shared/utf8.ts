/**
 * UTF-8 sizes of strings, the unit AWS counts in: DynamoDB's 400 KB item ("Item sizes and formats": the UTF-8 bytes of
 * each attribute's name and value) and EventBridge's 256 KB PutEvents entry ("Calculating Amazon EventBridge PutEvents
 * event entry size": the UTF-8 bytes of Source, DetailType and Detail). A JavaScript string's `length` counts UTF-16 code
 * units: a CJK character is 1 of them and 3 bytes, an emoji 2 and 4. The platform's own encoder (Buffer, TextEncoder)
 * does the counting and the cutting: no library is needed for it.
 */

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text` (a lone surrogate counts as U+FFFD's 3, as it is stored). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The longest start of `text` of at most `maxBytes` UTF-8 bytes, cut on a character boundary: never inside a multi-byte
 * character, never between the halves of a surrogate pair (TextEncoder.encodeInto writes whole code points only).
 * @param maxBytes at least 0
 * @returns `text` itself when it fits
 */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  const { read } = encoder.encodeInto(text, new Uint8Array(Math.max(0, maxBytes)));
  return text.slice(0, read);
}
