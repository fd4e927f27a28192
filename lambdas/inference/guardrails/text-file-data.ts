/** Media types whose bytes are text the model reads as it is (a data URL's type, its parameters ignored). */
const TEXT_MEDIA_TYPES = /^(text\/[a-z0-9.+-]+|application\/(json|ld\+json|x-ndjson|jsonl|xml|yaml|x-yaml|csv|javascript|x-javascript|typescript|x-sh|x-shellscript|x-python|sql|toml|rtf))$/;

/**
 * Whether `mediaType` (a bare type, lowercase, no parameters) is one of text the model reads as it is: `text/*`, and
 * the application types of JSON, XML, YAML, CSV, scripts and source code (TEXT_MEDIA_TYPES).
 */
export const isTextMediaType = (mediaType: string): boolean => TEXT_MEDIA_TYPES.test(mediaType);

/** Media types that say nothing of the bytes: the `filename`'s extension decides, as for bare base64. */
const GENERIC_MEDIA_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** Extensions of text files (documents, data and source code), for bare base64 or a generic media type. */
export const TEXT_EXTENSIONS: ReadonlySet<string> = new Set([
  'txt', 'text', 'md', 'markdown', 'rst', 'adoc', 'csv', 'tsv', 'json', 'jsonl', 'ndjson', 'xml', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'env', 'properties',
  'html', 'htm', 'css', 'svg', 'rtf', 'tex', 'log', 'sql', 'graphql', 'proto',
  'py', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'sh', 'bash', 'zsh', 'ps1', 'rb', 'go', 'java', 'kt', 'scala', 'c', 'h', 'cc', 'cpp', 'hpp', 'cs', 'rs', 'swift', 'php', 'pl', 'r', 'lua', 'dart', 'tf', 'hcl',
]);

/** JSON by media type or extension: redacted inside its strings so it stays JSON (caller-texts.ts). */
const JSON_MEDIA_TYPES = /^application\/(json|ld\+json)$/;

/** A text file's decoded text, whether it is JSON, and how to put a changed text back in the same form. */
export interface TextFileData {
  text: string;
  json: boolean;
  encode(text: string): string;
}

/**
 * The text of a chat `file` part's `file_data` when the file is text (plain text, Markdown, CSV,
 * JSON, XML, YAML, HTML, source code: a data URL of such a media type, or bare base64 — or a data
 * URL of a generic type, `application/octet-stream` or none — whose `filename` has such an
 * extension) in UTF-8 or UTF-16 (with its byte-order mark, or ASCII-led without), base64 or
 * percent-encoded (RFC 2397);
 * undefined otherwise (a PDF, a Word or Excel file, an image, text in another encoding, data that is
 * not base64: the caller's guardrails cannot read those, and the part passes as it is). `encode`
 * gives the same form back: the data URL's prefix, encoding and byte-order mark kept.
 * @param fileData OpenAI's `file.file_data`: `data:<media type>[;params][;base64],<data>` or bare base64
 * @param filename OpenAI's `file.filename`, consulted for bare base64 and generic media types
 */
export function textFileData(fileData: string, filename: string | null | undefined): TextFileData | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename ?? '')?.[1].toLowerCase();
  const textByName = !!ext && TEXT_EXTENSIONS.has(ext);
  const url = /^data:([^,;]*)((?:;[^,;]*)*),(.*)$/is.exec(fileData);
  if (url) {
    const mediaType = url[1].trim().toLowerCase();
    const base64 = /;base64$/i.test(url[2]);
    if (!(TEXT_MEDIA_TYPES.test(mediaType) || (GENERIC_MEDIA_TYPES.has(mediaType) && textByName))) return undefined;
    const prefix = fileData.slice(0, fileData.length - url[3].length);
    const json = JSON_MEDIA_TYPES.test(mediaType) || (GENERIC_MEDIA_TYPES.has(mediaType) && ext === 'json');
    if (!base64) {
      let text: string;
      try {
        text = decodeURIComponent(url[3]);
      } catch {
        return undefined;
      }
      return { text, json, encode: (t) => `${prefix}${encodeURIComponent(t)}` };
    }
    const decoded = decodeText(url[3]);
    return decoded && { text: decoded.text, json, encode: (t) => `${prefix}${decoded.encode(t)}` };
  }
  if (!textByName) return undefined;
  const decoded = decodeText(fileData);
  return decoded && { text: decoded.text, json: ext === 'json', encode: decoded.encode };
}

/** Base64 → text (UTF-8, or UTF-16 with its byte-order mark) and back to base64 in the same encoding; undefined for anything else. */
function decodeText(base64: string): { text: string; encode(text: string): string } | undefined {
  const compact = base64.replace(/\s+/g, '');
  if (!compact || compact.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  const bom = bytes[0] === 0xff && bytes[1] === 0xfe ? 'le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'be' : undefined;
  // UTF-16 without a byte-order mark: a NUL byte beside each of the first two ASCII letters.
  const bare = !bom && bytes.length >= 4 && bytes.length % 2 === 0 ? (bytes[1] === 0 && bytes[3] === 0 && bytes[0] && bytes[2] ? 'le' : bytes[0] === 0 && bytes[2] === 0 && bytes[1] && bytes[3] ? 'be' : undefined) : undefined;
  const utf16 = bom ?? bare;
  try {
    if (utf16) {
      // ignoreBOM: false strips the mark; it is written back only if it was there
      const text = new TextDecoder(`utf-16${utf16}`, { fatal: true, ignoreBOM: false }).decode(bytes);
      return { text, encode: (t) => utf16Bytes(t, utf16, !!bom).toString('base64') };
    }
    // ignoreBOM: true keeps a UTF-8 byte-order mark in the text, so it is encoded back
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return { text, encode: (t) => Buffer.from(t, 'utf8').toString('base64') };
  } catch {
    return undefined;
  }
}

/** `text` in UTF-16, little- or big-endian, with its byte-order mark when `mark`. */
function utf16Bytes(text: string, order: 'le' | 'be', mark: boolean): Buffer {
  const le = Buffer.from(`${mark ? '\ufeff' : ''}${text}`, 'utf16le');
  return order === 'le' ? le : le.swap16();
}
