import { TEXT_EXTENSIONS } from '../guardrails/text-file-data.js';
import type { VectorStoreFileError } from './records.js';

/**
 * The text of a vector store file, by its name's extension: text files (txt, md, json, jsonl, csv, html, source
 * code: guardrails/text-file-data.ts TEXT_EXTENSIONS) as UTF-8, HTML without its tags, scripts and styles. Other
 * types (pdf, docx, images) are not parsed here: no library of the project reads them offline.
 * @returns the text, or the file's `last_error` (`unsupported_file`, `invalid_file`)
 */
export function fileText(filename: string, bytes: Uint8Array): { text: string } | { error: VectorStoreFileError } {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  if (!TEXT_EXTENSIONS.has(ext)) {
    return { error: { code: 'unsupported_file', message: `file ${JSON.stringify(filename.slice(0, 200))}: ${ext ? `.${ext}` : 'a file without an extension'} is not a type this gateway's vector stores read; they read text files (txt, md, json, jsonl, csv, html, source code)` } };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: { code: 'invalid_file', message: `file ${JSON.stringify(filename.slice(0, 200))} is not UTF-8 text` } };
  }
  if (ext === 'html' || ext === 'htm') text = htmlText(text);
  if (!text.trim()) return { error: { code: 'invalid_file', message: `file ${JSON.stringify(filename.slice(0, 200))} holds no text` } };
  return { text };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** An HTML document's text: scripts, styles and comments removed, tags as spaces, the common entities decoded. */
function htmlText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}
