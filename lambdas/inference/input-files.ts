import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { BatchFile } from './batches/stores.js';
import { fileIdNotServed } from './file-ids.js';
import { TEXT_EXTENSIONS } from './guardrails/text-file-data.js';
import { GatewayError, invalid } from './openai-errors.js';
import type { InputItem } from './responses/input-items.js';

/**
 * Model input files: uploaded with `client.files.create({file, purpose: "user_data" | "vision"})` into the tenant's
 * gateway file store (batches/stores.ts BatchFileStore), then named by `file_id` in chat completions
 * (`{type: "file", file: {file_id}}`) and the Responses API (`{type: "input_file", file_id}`,
 * `{type: "input_image", file_id}`). The gateway resolves each id to the stored bytes inline (a data URL) before the
 * guardrails and the providers see the request: an upstream never sees an id (an OpenAI upstream's would name a file
 * of the platform's provider organisation, not the caller's).
 */

/** The purposes of model input files (openai FilePurpose): `user_data` (any file a model reads), `vision` (images). */
export const INPUT_FILE_PURPOSES = ['user_data', 'vision'] as const;
export type InputFilePurpose = (typeof INPUT_FILE_PURPOSES)[number];

/** Image types a model takes (OpenAI's vision guide: PNG, JPEG, WEBP, non-animated GIF), by extension. */
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
/** Documents by extension: the types Bedrock's Converse takes (DocumentFormat) and OpenAI's file inputs name, and JSON. */
const DOCUMENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', markdown: 'text/markdown', csv: 'text/csv', html: 'text/html', htm: 'text/html', json: 'application/json',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};
/** The leading bytes of each binary type (a file whose bytes do not start so is not of its extension's type). */
const MAGIC: Record<string, number[][]> = {
  'image/png': [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  'image/jpeg': [[0xff, 0xd8, 0xff]],
  'image/gif': [[0x47, 0x49, 0x46, 0x38]],
  'image/webp': [[0x52, 0x49, 0x46, 0x46]],
  'application/pdf': [[0x25, 0x50, 0x44, 0x46, 0x2d]],
  'application/msword': [[0xd0, 0xcf, 0x11, 0xe0]],
  'application/vnd.ms-excel': [[0xd0, 0xcf, 0x11, 0xe0]],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': [[0x50, 0x4b, 0x03, 0x04]],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': [[0x50, 0x4b, 0x03, 0x04]],
};

const extensionOf = (name: string) => /\.([A-Za-z0-9]+)$/.exec(name)?.[1].toLowerCase() ?? '';

/**
 * The media type of a model input file, from its name's extension (images, documents, and text files: plain text,
 * data and source code, as text/plain): the type of the data URL the file is sent as.
 * @returns undefined when the extension is none of those
 */
export function inputFileMediaType(filename: string): string | undefined {
  const ext = extensionOf(filename);
  return IMAGE_TYPES[ext] ?? DOCUMENT_TYPES[ext] ?? (TEXT_EXTENSIONS.has(ext) ? 'text/plain' : undefined);
}

/** Whether `mediaType` is an image type a model takes (IMAGE_TYPES). */
const isImage = (mediaType: string | undefined) => !!mediaType && mediaType.startsWith('image/');

/**
 * Checks an upload of purpose `user_data` or `vision` as OpenAI does ("Upload file": `vision` takes images, PNG,
 * JPEG, WEBP or GIF; `user_data` any file a model reads as input: PDFs and other documents, text files, images):
 * the name's extension says the type, the bytes must be of it (an image's or a binary document's leading bytes,
 * a text file UTF-8), and the file is not empty.
 * @param name the file part's filename (already checked: 1 to 255 bytes, no path separators or control characters)
 * @param field the request field the errors name @default `file`
 * @throws GatewayError 400 `invalid_file_format` naming `field`
 */
export function checkInputFile(purpose: InputFilePurpose, name: string, bytes: Uint8Array, field = 'file'): void {
  const check = new InputFileCheck(purpose, name, field);
  check.push(bytes);
  check.end();
}

/**
 * checkInputFile on a file that arrives in pieces (the parts of an upload, `POST /v1/uploads/{id}/complete`): the same
 * checks and messages, holding only the leading bytes the type's magic needs (a text file's UTF-8 decoded as a stream,
 * a character split between pieces decoded whole), never the whole file.
 * @throws GatewayError 400 `invalid_file_format` naming `field`, at construction for the name, in push or end for the bytes
 */
export class InputFileCheck {
  private readonly quoted: string;
  private readonly mediaType: string;
  private readonly magic: number[][] | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** The leading bytes read so far, up to the longest magic. */
  private head: number[] = [];
  private bytes = 0;

  /** @param purpose the upload's purpose, as the refusal names it: `assistants` (vector stores' files) is checked as `user_data` */
  constructor(purpose: InputFilePurpose | 'assistants', name: string, private readonly field = 'file') {
    this.quoted = JSON.stringify(name.slice(0, 200));
    const mediaType = inputFileMediaType(name);
    if (purpose === 'vision' && !isImage(mediaType)) {
      throw invalid(`${field} ${this.quoted}: a file of purpose "vision" is an image (png, jpg, jpeg, gif, webp, by the name's extension)`, field, 'invalid_file_format');
    }
    if (!mediaType) {
      throw invalid(`${field} ${this.quoted}: a file of purpose "${purpose}" is one a model reads: an image (png, jpg, jpeg, gif, webp), a document (pdf, doc, docx, xls, xlsx, csv, html, md) or a text file (txt, json, source code, ...), by the name's extension`, field, 'invalid_file_format');
    }
    this.mediaType = mediaType;
    this.magic = MAGIC[mediaType];
  }

  /** Checks the next bytes. @throws GatewayError 400 as checkInputFile */
  push(bytes: Uint8Array): void {
    this.bytes += bytes.byteLength;
    if (this.magic) {
      const longest = Math.max(...this.magic.map((m) => m.length));
      if (this.head.length < longest) this.head.push(...bytes.subarray(0, longest - this.head.length));
      return;
    }
    this.decode(bytes, true);
  }

  /** Checks what only the whole file tells (empty, shorter than its magic, a character cut at the end). @throws GatewayError 400 as checkInputFile */
  end(): undefined {
    if (!this.bytes) throw invalid(`${this.field} ${this.quoted} is empty`, this.field, 'invalid_file_format');
    if (this.magic && !this.magic.some((m) => m.every((b, i) => this.head[i] === b))) {
      throw invalid(`${this.field} ${this.quoted}: its bytes are not ${this.mediaType} (the type its name's extension says)`, this.field, 'invalid_file_format');
    }
    if (!this.magic) this.decode(new Uint8Array(), false);
    return undefined;
  }

  private decode(bytes: Uint8Array, stream: boolean): void {
    try {
      this.decoder.decode(bytes, { stream });
    } catch {
      throw invalid(`${this.field} ${this.quoted}: a ${this.mediaType} file is UTF-8 text (the type its name's extension says)`, this.field, 'invalid_file_format');
    }
  }
}

/**
 * OpenAI's bound on the files one request hands a model, in bytes: "You can upload up to 100 pages and 32MB of total
 * content in a single request to the API, across multiple file inputs" (OpenAI API docs, guides "File inputs" / "PDF
 * files", *File size limitations*), read as 32 MiB so that no request OpenAI takes is refused. Counted over a request's
 * file parts: chat completions' `file` parts and the Responses API's `input_file` parts, `file_data` (its decoded
 * bytes) and `file_id` (the stored file's `bytes`, for each part naming it: an id named twice is sent twice). Images (`image_url`, `input_image`) are not file inputs.
 */
export const MAX_INPUT_FILE_BYTES_PER_REQUEST = 32 * 1024 * 1024;

/**
 * The most bytes of images a request may name by `file_id` (`input_image` parts), counted per part: 50 MiB (OpenAI's
 * images and vision guide, "Image input requirements": "Up to 50 MB total payload size per request", read as 50 MiB as
 * the file bound is). Each part becomes a base64 data URL of its own in what the upstream is sent, so without a bound a
 * 500 MiB `vision` file named as an image was read whole and failed past V8's longest string (a 500).
 */
export const MAX_INPUT_IMAGE_BYTES_PER_REQUEST = 50 * 1024 * 1024;

/** A stored file, as the resolver reads it: its record, and its bytes read only when the record's `bytes` fit. */
export interface StoredInputFile {
  file: BatchFile;
  /** Reads the file's bytes (whole). @returns undefined when they are gone (the file deleted or expired meanwhile) */
  read(): Promise<Uint8Array | undefined>;
}

/**
 * Finds one of the caller's tenant's files: batch-service.ts BatchService.inputFile on the gateway's file store.
 * @returns undefined for an id the tenant has no unexpired file of (another tenant's id included)
 */
export type InputFileReader = (tenantId: string, id: string) => Promise<StoredInputFile | undefined>;

/**
 * The bytes a `file_data` decodes to: a data URL's (`data:<type>;base64,<data>`) or bare base64 (OpenAI's type says
 * "the base64 encoded file data"), three bytes per four characters less the padding; a data URL without `;base64`
 * counts its characters. 0 for what is not a string.
 */
export function fileDataBytes(fileData: unknown): number {
  if (typeof fileData !== 'string') return 0;
  const comma = fileData.startsWith('data:') ? fileData.indexOf(',') : -1;
  const data = fileData.length - comma - 1;
  if (comma >= 0 && !/;base64$/i.test(fileData.slice(0, comma))) return data;
  const padding = fileData.endsWith('==') ? 2 : fileData.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((data * 3) / 4) - padding);
}

/** The 400 for the images a request names by id past MAX_INPUT_IMAGE_BYTES_PER_REQUEST, naming `path`, the part that took them past it. */
function tooManyImageBytes(path: string, partBytes: number, totalBytes: number, id: string): GatewayError {
  return invalid(
    `${path}: image file ${id} is ${partBytes} bytes, which takes the images this request names by file_id to ${totalBytes} bytes, over the ` +
      `${MAX_INPUT_IMAGE_BYTES_PER_REQUEST} bytes (50 MiB) a request may hand a model (OpenAI: "Up to 50 MB total payload size per request"); ` +
      'send fewer or smaller images per request',
    path, 'file_too_large',
  );
}

/**
 * The 400 for a request's file inputs past MAX_INPUT_FILE_BYTES_PER_REQUEST, naming `path`, the part that took them
 * past it. The advice fits the part: an image (`mediaType` image/*) is sent as an image part (`input_image`, chat's
 * `image_url`: by URL, or resized smaller; bounded apart, MAX_INPUT_IMAGE_BYTES_PER_REQUEST), which a vector store would
 * not read; a document is searched with a vector store (file_search).
 * @param mediaType the part's media type (its data URL's, else its filename's: inputFileMediaType) @default - a document
 */
function tooManyFileBytes(path: string, partBytes: number, totalBytes: number, what: string, mediaType?: string): GatewayError {
  const advice = isImage(mediaType)
    ? 'send the image as an image part (input_image, or image_url in chat completions) by URL, or resized or compressed to fewer bytes; images are bounded apart (50 MB a request) and a vector store does not read them'
    : 'send fewer or smaller files per request, or search a large file with a vector store (file_search)';
  return invalid(
    `${path}: ${what} is ${partBytes} bytes, which takes this request's file inputs to ${totalBytes} bytes, over the ${MAX_INPUT_FILE_BYTES_PER_REQUEST} bytes (32 MiB) ` +
      `a request may hand a model across its file parts (OpenAI: "up to 100 pages and 32MB of total content in a single request"); ${advice}`,
    path, 'file_too_large',
  );
}

/** The media type of an inline `file_data`: its data URL's (`data:<type>;base64,`), else its filename's extension's (inputFileMediaType). */
function inlineMediaType(fileData: unknown, filename: unknown): string | undefined {
  const declared = typeof fileData === 'string' ? /^data:([^;,]+)[;,]/i.exec(fileData.slice(0, 200))?.[1]?.toLowerCase() : undefined;
  return declared ?? (typeof filename === 'string' ? inputFileMediaType(filename) : undefined);
}

/**
 * One resolution of a request's file ids: each id read once, whatever the number of parts naming it; the file parts'
 * bytes counted (inline `file_data` first, then the stored `bytes` of each part's id, however often it is named: each
 * part becomes a data URL of its own), a file's bytes read only once they fit.
 */
class Resolver {
  private readonly read = new Map<string, Promise<StoredInputFile | undefined>>();
  private readonly bytes = new Map<string, Promise<Uint8Array | undefined>>();

  /** @param total the bytes of the request's inline file parts (`file_data`), already checked against the bound */
  constructor(private readonly tenantId: string, private readonly files: InputFileReader | undefined, private readonly instead: string, private total = 0) {}
  /** Bytes of the images named by id so far (MAX_INPUT_IMAGE_BYTES_PER_REQUEST). */
  private imageTotal = 0;

  /**
   * The file `id` at `path` as a data URL.
   * @param image whether the part is an image (`input_image`): the file must then be an image, and counts against
   *   MAX_INPUT_IMAGE_BYTES_PER_REQUEST instead of MAX_INPUT_FILE_BYTES_PER_REQUEST
   * @throws GatewayError 404 `file_not_found` (unknown, expired or another tenant's id), 400 `invalid_value`
   *   (a file of a purpose models do not read, a non-image file as an image), 400 `file_too_large` (the request's
   *   file parts past MAX_INPUT_FILE_BYTES_PER_REQUEST, or its images past MAX_INPUT_IMAGE_BYTES_PER_REQUEST: the
   *   file is not read), 400 `unsupported_parameter` when
   *   this gateway keeps no files; each naming `path` and the id
   */
  async dataUrl(id: unknown, path: string, image: boolean): Promise<{ url: string; filename: string }> {
    if (!this.files) throw fileIdNotServed(path, this.instead);
    if (typeof id !== 'string') throw invalid(`${path} must be a string (a file id, file-...)`, path, 'invalid_type');
    if (!this.read.has(id)) this.read.set(id, this.files(this.tenantId, id));
    const stored = await this.read.get(id)!;
    const shown = id.slice(0, 100);
    const gone = () => new GatewayError(404, `${path}: No such File object: ${shown} (files are found by their tenant; an expired or deleted file is gone)`, 'invalid_request_error', 'file_not_found', path);
    if (!stored) throw gone();
    const { file } = stored;
    if (!(INPUT_FILE_PURPOSES as readonly string[]).includes(file.purpose)) {
      throw invalid(`${path}: file ${shown} has purpose "${file.purpose}"; a model reads files uploaded with purpose "user_data" or "vision"`, path, 'invalid_value');
    }
    const mediaType = inputFileMediaType(file.filename) ?? 'application/octet-stream';
    if (image && !isImage(mediaType)) {
      throw invalid(`${path}: file ${shown} (${JSON.stringify(file.filename.slice(0, 200))}) is not an image (png, jpeg, gif, webp); send a document as an input_file part`, path, 'invalid_value');
    }
    // Every part counts, an id named again included: each part is a data URL of its own in what the upstream is sent.
    if (!image) {
      this.total += file.bytes;
      if (this.total > MAX_INPUT_FILE_BYTES_PER_REQUEST) throw tooManyFileBytes(path, file.bytes, this.total, `file ${shown}`, mediaType);
    } else {
      this.imageTotal += file.bytes;
      if (this.imageTotal > MAX_INPUT_IMAGE_BYTES_PER_REQUEST) throw tooManyImageBytes(path, file.bytes, this.imageTotal, shown);
    }
    if (!this.bytes.has(id)) this.bytes.set(id, stored.read());
    const bytes = await this.bytes.get(id)!;
    if (!bytes) throw gone();
    return { url: `data:${mediaType};base64,${Buffer.from(bytes).toString('base64')}`, filename: file.filename };
  }
}

/**
 * The bytes of the inline file parts (`file_data`) found by `parts` (each with its `file_data` and that field's
 * path, and its filename), checked against MAX_INPUT_FILE_BYTES_PER_REQUEST.
 * @throws GatewayError 400 `file_too_large` naming the `file_data` that takes the total past the bound
 */
function inlineFileBytes(parts: Iterable<[fileData: unknown, path: string, filename: unknown]>): number {
  let total = 0;
  for (const [data, path, filename] of parts) {
    const bytes = fileDataBytes(data);
    total += bytes;
    if (total > MAX_INPUT_FILE_BYTES_PER_REQUEST) throw tooManyFileBytes(path, bytes, total, 'file_data', inlineMediaType(data, filename));
  }
  return total;
}

type Part = Record<string, any>;

/**
 * Chat completions' `file` parts with `file.file_id`, resolved: `{type: "file", file: {file_data: <data URL of the
 * stored bytes>, filename: <the caller's filename, else the stored one>}}`. Returns `messages` itself when no part
 * names an id; otherwise new messages (the caller's objects are not changed).
 * @throws GatewayError naming `messages[i].content[k].file.file_id` (Resolver.dataUrl)
 */
export async function resolveChatFileIds<M extends ChatCompletionMessageParam>(messages: M[], tenantId: string, files: InputFileReader | undefined): Promise<M[]> {
  const inline = inlineFileBytes((function* () {
    for (const [i, m] of messages.entries()) {
      if (!Array.isArray(m.content)) continue;
      for (const [k, p] of (m.content as Part[]).entries()) if (p?.type === 'file' && p.file?.file_data != null) yield [p.file.file_data, `messages[${i}].content[${k}].file.file_data`, p.file.filename];
    }
  })());
  if (!messages.some((m) => Array.isArray(m.content) && (m.content as Part[]).some((p) => p?.type === 'file' && p.file?.file_id != null))) return messages;
  const resolver = new Resolver(tenantId, files, 'send the file inline as file_data (base64) with a filename', inline);
  return Promise.all(messages.map(async (m, i) => {
    if (!Array.isArray(m.content)) return m;
    const content = await Promise.all((m.content as Part[]).map(async (p, k) => {
      if (p?.type !== 'file' || p.file?.file_id == null) return p;
      const { file_id: id, ...rest } = p.file;
      const { url, filename } = await resolver.dataUrl(id, `messages[${i}].content[${k}].file.file_id`, false);
      return { ...p, file: { ...rest, file_data: url, filename: rest.filename ?? filename } };
    }));
    return { ...m, content } as M;
  }));
}

/** Whether a Responses content part names a file by id. */
const namesFile = (p: Part) => (p?.type === 'input_file' || p?.type === 'input_image') && p.file_id != null;
/** The part lists of an item that may hold input_file and input_image parts: a message's `content`, a function call output's `output`. */
const partLists = (item: Part): Array<['content' | 'output', Part[]]> => [
  ...(item?.type === 'message' && Array.isArray(item.content) ? [['content', item.content] as ['content', Part[]]] : []),
  ...(item?.type === 'function_call_output' && Array.isArray(item.output) ? [['output', item.output] as ['output', Part[]]] : []),
];

/**
 * Responses input items with their `file_id`s resolved: `input_file` → `file_data` (data URL of the stored bytes)
 * and `filename` (the caller's, else the stored one); `input_image` → `image_url` (an image's data URL; the file
 * must be an image). In messages' `content` and function call outputs' `output`. Returns `items` itself when none
 * names an id; otherwise new items (the caller's, kept for the stored response's input items, are not changed).
 * @param base the items' path in the request (`input`, `conversation.items`)
 * @throws GatewayError naming `<base>[i].content[k].file_id` (Resolver.dataUrl)
 */
export async function resolveItemFileIds(items: InputItem[], base: string, tenantId: string, files: InputFileReader | undefined): Promise<InputItem[]> {
  const inline = inlineFileBytes((function* () {
    for (const [i, item] of items.entries()) {
      for (const [field, parts] of partLists(item as Part)) {
        for (const [k, p] of parts.entries()) if (p?.type === 'input_file' && p.file_data != null) yield [p.file_data, `${base}[${i}].${field}[${k}].file_data`, p.filename];
      }
    }
  })());
  if (!items.some((item) => partLists(item as Part).some(([, parts]) => parts.some(namesFile)))) return items;
  const resolver = new Resolver(tenantId, files, 'send the file inline (input_file: file_data, base64, with a filename; input_image: image_url, a data URL)', inline);
  return Promise.all(items.map(async (item, i) => {
    const lists = partLists(item as Part);
    if (!lists.some(([, parts]) => parts.some(namesFile))) return item;
    const out: Part = { ...(item as Part) };
    for (const [field, parts] of lists) {
      out[field] = await Promise.all(parts.map(async (p, k) => {
        if (!namesFile(p)) return p;
        const { file_id: id, ...rest } = p;
        const path = `${base}[${i}].${field}[${k}].file_id`;
        const { url, filename } = await resolver.dataUrl(id, path, p.type === 'input_image');
        return p.type === 'input_image' ? { ...rest, image_url: url } : { ...rest, file_data: url, filename: rest.filename ?? filename };
      }));
    }
    return out as InputItem;
  }));
}

/**
 * Items whose `file_id` parts stand in as inline parts (an empty data URL), to check what else they hold before the
 * ids are read (responses-create.ts checkMappable, before the rate limits).
 */
export function withFileStandIns(items: InputItem[]): InputItem[] {
  return items.map((item) => {
    const lists = partLists(item as Part);
    if (!lists.some(([, parts]) => parts.some(namesFile))) return item;
    const out: Part = { ...(item as Part) };
    for (const [field, parts] of lists) {
      out[field] = parts.map((p) => {
        if (!namesFile(p)) return p;
        const { file_id: _id, ...rest } = p;
        return p.type === 'input_image' ? { ...rest, image_url: 'data:image/png;base64,' } : { ...rest, file_data: 'data:application/octet-stream;base64,' };
      });
    }
    return out as InputItem;
  });
}
