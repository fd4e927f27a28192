import { BatchLineCheck, customIdOfEdges, LINE_EDGE_BYTES, MAX_BATCH_LINE_BYTES, type BatchLine, type BatchLineError } from './input-file.js';

/**
 * A batch input file read as a stream of bytes from a byte offset (on AWS an S3 GetObject with `Range: bytes=<offset>-`),
 * so that neither batches.create nor a worker chunk holds the whole file (up to 200 MiB) in memory. Measured on
 * 2026-12-06 (Node 24, --max-old-space-size=896): reading a 200 MiB file of 50,000 lines whole (files.content's
 * GetObject body collected, then readBatchFile) peaked at 994 MiB RSS, 868 MiB for one of 200 lines of 1 MiB: over what
 * the router Lambda's 1024 MB leaves beside its own code, so it died (Runtime.OutOfMemory) at create and again at every chunk.
 */

/** Where a block of the file's requests starts: the 0-based index of its first request, that line's 1-based number and its byte offset. */
export interface BatchInputBlock {
  index: number;
  line: number;
  offset: number;
}

/** A new block starts after this many requests… */
export const BLOCK_REQUESTS = 1_000;
/** …or once the block holds this many bytes (8 MiB), whichever comes first: a batch of 200 MiB has at most 76 blocks. */
export const BLOCK_BYTES = 8 * 1024 * 1024;
/**
 * The most bytes of request lines a worker chunk reads (16 MiB), one line at least: the chunk runs those lines (and the
 * ones left waiting by the chunk before) and leaves the rest to the next chunk's message.
 */
export const WINDOW_BYTES = 16 * 1024 * 1024;

/** Opens the file's bytes from byte `offset` to its end; undefined when the file is gone. */
export type OpenBatchFile = (offset: number) => Promise<AsyncIterable<Uint8Array> | undefined>;

/** The UTF-8 byte order mark (U+FEFF), which may open a batch file: skipped, as readBatchFile skips it. */
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** One line of the file as read: its text (without `\n`), 1-based number, byte offset and byte length (with its `\n`). */
export interface RawLine {
  text: string;
  line: number;
  offset: number;
  bytes: number;
  /**
   * Set for a line past MAX_BATCH_LINE_BYTES, whose `text` is then empty (it is not held): its first and last
   * LINE_EDGE_BYTES as text, where its custom_id is looked for (customIdOfEdges).
   */
  edges?: { head: string; tail: string; bytes: number };
}

/**
 * The lines of a byte stream that starts at `start.offset` (a line's start) with line number `start.line`; a UTF-8 byte
 * order mark at offset 0 is skipped, as readBatchFile skips it. Holds only the line being read, and of a line past
 * `maxLineBytes` only its first and last LINE_EDGE_BYTES (RawLine.edges).
 * @param maxLineBytes @default MAX_BATCH_LINE_BYTES
 */
export async function* rawLines(chunks: AsyncIterable<Uint8Array>, start: { offset: number; line: number }, maxLineBytes = MAX_BATCH_LINE_BYTES): AsyncGenerator<RawLine> {
  let pieces: Buffer[] = [];
  let pending = 0;
  let offset = start.offset;
  let line = start.line;
  // A line past maxLineBytes: its first bytes, the last ones seen, and its length so far (pieces no longer kept).
  let long: { head: Buffer; tail: Buffer; bytes: number } | undefined;
  const lastBytes = (b: Buffer) => (b.byteLength > LINE_EDGE_BYTES ? Buffer.from(b.subarray(b.byteLength - LINE_EDGE_BYTES)) : b);
  // The byte order mark opening the file is not the first line's (readBatchFile strips it before measuring): its 3 bytes
  // are not counted against maxLineBytes, nor in the length a long line's error names; offsets still count them.
  const markOf = (held: Buffer[]) => (offset === 0 && Buffer.concat(held).subarray(0, 3).equals(UTF8_BOM) ? UTF8_BOM.byteLength : 0);
  let mark = 0;
  const keep = (piece: Buffer) => {
    if (long) {
      long.bytes += piece.byteLength;
      long.tail = lastBytes(Buffer.concat([long.tail, piece]));
      return;
    }
    pieces.push(Buffer.from(piece));
    pending += piece.byteLength;
    if (pending > maxLineBytes && pending > maxLineBytes + markOf(pieces)) {
      const all = Buffer.concat(pieces);
      mark = markOf(pieces);
      // its head is the line's, after the mark, as readBatchFile's (the mark is not JSON whitespace: a head opening with it is no object)
      long = { head: Buffer.from(all.subarray(mark, mark + LINE_EDGE_BYTES)), tail: lastBytes(all), bytes: all.byteLength };
      pieces = [];
    }
  };
  const take = (tail: Buffer): RawLine => {
    if (tail.byteLength && (long || (pending + tail.byteLength > maxLineBytes && pending + tail.byteLength > maxLineBytes + markOf([...pieces, tail])))) keep(tail);
    if (long) {
      const { head, tail: last, bytes: length } = long;
      long = undefined;
      pieces = [];
      pending = 0;
      const out = { text: '', line, offset, bytes: length + 1, edges: { head: head.toString('utf8'), tail: last.toString('utf8'), bytes: length - mark } };
      mark = 0;
      offset += length + 1;
      line++;
      return out;
    }
    const bytes = pieces.length ? Buffer.concat([...pieces, tail]) : tail;
    pieces = [];
    pending = 0;
    let text = bytes.toString('utf8');
    if (offset === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const out = { text, line, offset, bytes: bytes.byteLength + 1 };
    offset += bytes.byteLength + 1;
    line++;
    return out;
  };
  for await (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, from)) {
      yield take(buf.subarray(from, nl));
      from = nl + 1;
    }
    if (from < buf.byteLength) keep(buf.subarray(from));
  }
  if (pending || long || offset === start.offset) {
    const last = take(Buffer.alloc(0));
    yield { ...last, bytes: last.bytes - 1 };
  }
}

/**
 * batches.create's read of the file (readBatchFile's checks, BatchLineCheck, line by line as the stream arrives): the
 * same errors, and instead of the lines the number of requests and where each block of them starts.
 * @param size the file's bytes (its record's `bytes`): over MAX_BATCH_FILE_BYTES is `file_too_large`, nothing read
 * @returns `total` valid requests, the one `model`, `errors` (as readBatchFile's), `blocks` (the first at offset 0)
 */
export async function scanBatchFile(open: OpenBatchFile, size: number, endpoint: string): Promise<{ total: number; model: string | undefined; errors: BatchLineError[]; blocks: BatchInputBlock[] } | undefined> {
  const check = new BatchLineCheck(endpoint);
  const blocks: BatchInputBlock[] = [{ index: 0, line: 1, offset: 0 }];
  let total = 0;
  if (check.size(size)) {
    const stream = await open(0);
    if (!stream) return undefined;
    for await (const raw of rawLines(stream, { offset: 0, line: 1 })) {
      const last = blocks.at(-1)!;
      const blank = !raw.text.replace(/\r$/, '').trim();
      if (!blank && (total - last.index >= BLOCK_REQUESTS || raw.offset - last.offset >= BLOCK_BYTES) && total > last.index) blocks.push({ index: total, line: raw.line, offset: raw.offset });
      if (raw.edges ? check.tooLarge(raw.line, raw.edges.bytes, customIdOfEdges(raw.edges.head, raw.edges.tail)) : check.line(raw.text, raw.line)) total++;
      if (check.stopped) break;
    }
  }
  return { total, blocks, ...check.end() };
}

/**
 * The request of a line of a file checked at create (scanBatchFile: every non-blank line is a request object, and one
 * past MAX_BATCH_LINE_BYTES has its custom_id at an edge): parsed, or, for a line too long to hold, not read (`tooLarge`).
 */
function requestOf(raw: RawLine, source: string): BatchLine {
  if (raw.edges) return { line: raw.line, customId: customIdOfEdges(raw.edges.head, raw.edges.tail) ?? '', url: '', body: {}, tooLarge: raw.edges.bytes };
  const o = JSON.parse(source) as { custom_id: string; url: string; body: Record<string, unknown> };
  return { line: raw.line, customId: o.custom_id, url: o.url, body: o.body };
}

/** The block in which request `index` lies. */
const blockOf = (blocks: readonly BatchInputBlock[], index: number) => blocks.findLast((b) => b.index <= index) ?? blocks[0]!;

/**
 * Reads requests `from`… of a file checked by scanBatchFile (its `blocks`): the stream opens at the offset of `from`'s
 * block and is closed once the lines read from `from` on reach `maxBytes` (one line at least) or `count` lines.
 * @returns the requests read, in order (the request at `from` first); undefined when the file is gone
 */
export async function readBatchLines(open: OpenBatchFile, blocks: readonly BatchInputBlock[], from: number, limit: { maxBytes: number; count?: number }): Promise<BatchLine[] | undefined> {
  const block = blockOf(blocks, from);
  const stream = await open(block.offset);
  if (!stream) return undefined;
  const out: BatchLine[] = [];
  let index = block.index;
  let bytes = 0;
  for await (const raw of rawLines(stream, block)) {
    const source = raw.text.replace(/\r$/, '');
    if (!raw.edges && !source.trim()) continue;
    if (index++ < from) continue;
    out.push(requestOf(raw, source));
    bytes += raw.bytes;
    if (bytes >= limit.maxBytes || out.length >= (limit.count ?? Infinity)) break;
  }
  return out;
}

/**
 * Reads the requests at `indexes` (0-based, of a file checked by scanBatchFile: its `blocks`), one stream for each block
 * they lie in, from that block's offset to the last of them in it (a chunk's lines left waiting: up to
 * BATCH_CONCURRENCY of them, often in one block, each read alone would stream that block again).
 * @returns the requests read, by index (an index past the file's requests is absent); undefined when the file is gone
 */
export async function readBatchLinesAt(open: OpenBatchFile, blocks: readonly BatchInputBlock[], indexes: readonly number[]): Promise<Map<number, BatchLine> | undefined> {
  const out = new Map<number, BatchLine>();
  const byBlock = new Map<BatchInputBlock, number[]>();
  for (const index of [...new Set(indexes)].sort((a, b) => a - b)) {
    const block = blockOf(blocks, index);
    byBlock.set(block, [...(byBlock.get(block) ?? []), index]);
  }
  for (const [block, wanted] of byBlock) {
    const stream = await open(block.offset);
    if (!stream) return undefined;
    const want = new Set(wanted);
    const last = wanted.at(-1)!;
    let index = block.index;
    for await (const raw of rawLines(stream, block)) {
      const source = raw.text.replace(/\r$/, '');
      if (!raw.edges && !source.trim()) continue;
      const at = index++;
      if (!want.has(at)) {
        if (at >= last) break;
        continue;
      }
      out.set(at, requestOf(raw, source));
      if (at >= last) break;
    }
  }
  return out;
}

/** The `custom_id` of every request from `from` to the end (an expired batch's lines not run), read as a stream. */
export async function customIdsFrom(open: OpenBatchFile, blocks: readonly BatchInputBlock[], from: number): Promise<Array<Pick<BatchLine, 'customId'>>> {
  const block = blockOf(blocks, from);
  const stream = await open(block.offset);
  const out: Array<Pick<BatchLine, 'customId'>> = [];
  if (!stream) return out;
  let index = block.index;
  for await (const raw of rawLines(stream, block)) {
    const source = raw.text.replace(/\r$/, '');
    if ((!raw.edges && !source.trim()) || index++ < from) continue;
    out.push({ customId: requestOf(raw, source).customId });
  }
  return out;
}
