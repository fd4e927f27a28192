import type { ContentBlock, DocumentFormat } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionContentPart } from 'openai/resources/chat/completions';
import { decodeBase64, decodeDataUrl, isDataUrl } from './data-url.js';
import { invalidField, unsupported } from './refuse.js';

/**
 * An OpenAI `file` content part → a Converse `document` block.
 *
 *   {type:'file', file:{file_data:'data:application/pdf;base64,...', filename:'Q3 report.pdf'}}
 *     → {document:{format:'pdf', name:'Q3 report', source:{bytes: <decoded>}}}
 *
 * - `file_data` is a base64 data URL whose media type picks the format (application/pdf → pdf,
 *   and the other Converse DocumentFormat values: csv, doc, docx, xls, xlsx, html, txt, md). Bare
 *   base64 is taken when `filename` has one of those extensions. Anything else: 400 at `<field>.file`.
 * - `file_id`: the gateway resolves the tenant's file ids to `file_data` before (../../input-files.ts); one
 *   left unresolved is a 400 at `<field>.file.file_id` (send `file_data`).
 * - The name comes from `filename` through `names` (a `DocumentNamer`, one per request): Converse
 *   document names allow only letters, digits, single whitespace, hyphens, parentheses and square
 *   brackets, 1-200 characters, and must be unique within the request.
 *
 * AWS reference: DocumentBlock (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html).
 */
export function documentBlock(part: ChatCompletionContentPart.File, field: string, names: DocumentNamer): ContentBlock {
  const { file_data: data, file_id: id, filename } = part.file;
  if (id) throw unsupported(`${field}.file.file_id`, 'OpenAI file ids name files stored at OpenAI; send the file inline as file_data (a data URL)');
  if (!data) throw invalidField(`${field}.file`, 'needs file_data (a base64 data URL)');
  let format: DocumentFormat | undefined;
  let bytes: Uint8Array;
  if (isDataUrl(data)) {
    const decoded = decodeDataUrl(data, `${field}.file.file_data`);
    format = DOCUMENT_FORMATS[decoded.mediaType];
    if (!format) throw unsupported(`${field}.file`, `Converse takes pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not ${decoded.mediaType || 'an untyped data URL'}`);
    bytes = decoded.bytes;
  } else {
    format = extensionFormat(filename ?? '');
    if (!format) throw invalidField(`${field}.file.file_data`, 'is not a data URL (data:application/pdf;base64,...), and filename has no document extension to tell its format');
    bytes = decodeBase64(data, `${field}.file.file_data`);
  }
  return { document: { format, name: names(filename ?? undefined), source: { bytes } } };
}

/** Gives each document of one request its Converse name; make one per request. */
export type DocumentNamer = (filename: string | undefined) => string;

/**
 * `report.final.pdf` → `report final`; characters Converse refuses become spaces, whitespace runs
 * one space, at most 200 characters, `document` when nothing is left; a name already given in this
 * request (case-insensitively) gets ` (2)`, ` (3)`...
 */
export function documentNamer(): DocumentNamer {
  const used = new Set<string>();
  return (filename) => {
    const base = sanitizeDocumentName(filename ?? '');
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base.slice(0, 200 - ` (${n})`.length).trimEnd()} (${n})`;
    used.add(name.toLowerCase());
    return name;
  };
}

export function sanitizeDocumentName(filename: string): string {
  const stem = extensionFormat(filename) ? filename.replace(/\.[^.]*$/, '') : filename;
  const name = stem.replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200).trimEnd();
  return name || 'document';
}

function extensionFormat(filename: string): DocumentFormat | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1].toLowerCase();
  return ext && (EXTENSIONS as readonly string[]).includes(ext) ? (ext as DocumentFormat) : undefined;
}

const EXTENSIONS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'] as const;

const DOCUMENT_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};
