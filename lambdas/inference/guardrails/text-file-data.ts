/** Media types whose bytes are text the model reads as it is (a data URL's type, its parameters ignored). */
const TEXT_MEDIA_TYPES = /^(text\/[a-z0-9.+-]+|application\/(json|ld\+json|x-ndjson|jsonl|xml|yaml|x-yaml|csv|javascript|x-sh|sql|toml))$/;

/** Extensions of text files, for bare base64 `file_data` (no data URL) named by `filename`. */
const TEXT_EXTENSIONS = new Set(['txt', 'md', 'markdown', 'csv', 'tsv', 'json', 'jsonl', 'ndjson', 'xml', 'yaml', 'yml', 'html', 'htm', 'log', 'sql', 'toml', 'ini']);

/** A text file's decoded text, and how to put a changed text back in the same form (data URL or bare base64). */
export interface TextFileData {
  text: string;
  encode(text: string): string;
}

/**
 * The text of a chat `file` part's `file_data` when the file is text (a plain-text, Markdown, CSV,
 * JSON, XML, YAML or HTML file: a data URL of such a media type, or bare base64 whose `filename`
 * has such an extension) and its bytes are valid UTF-8 base64; undefined otherwise (a PDF, a Word
 * or Excel file, an image, bytes that are not UTF-8, data that is not base64: the caller's
 * guardrails cannot read those, and the part passes as it is).
 * @param fileData OpenAI's `file.file_data`: `data:<media type>[;params];base64,<data>` or bare base64
 * @param filename OpenAI's `file.filename`, consulted only for bare base64
 */
export function textFileData(fileData: string, filename: string | null | undefined): TextFileData | undefined {
  const url = /^(data:([^,;]*)((?:;[^,;]*)*);base64,)(.*)$/is.exec(fileData);
  if (url) {
    const mediaType = url[2].trim().toLowerCase();
    if (!TEXT_MEDIA_TYPES.test(mediaType)) return undefined;
    const text = utf8Of(url[4]);
    return text === undefined ? undefined : { text, encode: (t) => `${url[1]}${Buffer.from(t, 'utf8').toString('base64')}` };
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename ?? '')?.[1].toLowerCase();
  if (!ext || !TEXT_EXTENSIONS.has(ext)) return undefined;
  const text = utf8Of(fileData);
  return text === undefined ? undefined : { text, encode: (t) => Buffer.from(t, 'utf8').toString('base64') };
}

/** Base64 → UTF-8 text; undefined for data that is not base64 or bytes that are not UTF-8. */
function utf8Of(base64: string): string | undefined {
  const compact = base64.replace(/\s+/g, '');
  if (!compact || compact.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
}
