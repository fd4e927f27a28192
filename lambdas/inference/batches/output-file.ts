import { newFileId } from '../../fine-tuning/files-service.js';
import type { AppendableFile, BatchFile, BatchFileStore } from './stores.js';

/** One line of an output or error file (OpenAI's "request output object"). */
export interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/**
 * A batch's output or error file (`<batchId>_output.jsonl` / `<batchId>_error.jsonl`, purpose `batch_output`) written
 * as its lines end: each `add` appends the line to the store's file at once where the store writes a piece at a time
 * (BatchFileStore.appendable: `tessera serve`), so a batch's answers are not held until its end; elsewhere the lines
 * are kept and stored whole by `finish`. The order is the order lines end (OpenAI promises none: lines carry custom_id).
 */
export class BatchOutputFile {
  /** The lines added (with those a stopped run wrote, once `resume` has read them). */
  lines = 0;
  /** The file's id. */
  readonly id: string;
  private readonly kept: string[] = [];
  private file: Promise<AppendableFile> | undefined;
  /** The appends, one after the other (a FileHandle takes one write at a time). */
  private chain: Promise<unknown> = Promise.resolve();

  /** @param id the file's id (StoredBatch.appending: one a stopped run began, then `resume`) @default - a new file id */
  constructor(private readonly files: BatchFileStore, private readonly tenantId: string, private readonly batchId: string, private readonly what: 'output' | 'error', id?: string) {
    this.id = id ?? newFileId();
  }

  /**
   * Takes on the lines a stopped run of the batch wrote to this file (`tessera serve` stopped mid-batch: the store's
   * `appendable` with resume), each handed to `line` parsed and counted in `lines`; the next `add` goes after them.
   * A line cut by the stop is dropped; so are a line that is not an answer (not a JSON object with a string `custom_id`:
   * bytes a failed write left, an edit by hand) and every line after it, whose requests then run again, rather than
   * the batch failing to resume at every start. Only where the store appends (BatchFileStore.appendable); elsewhere nothing.
   */
  async resume(line: (out: OutputLine) => void): Promise<void> {
    if (!this.files.appendable) return;
    this.file = this.files.appendable(this.tenantId, this.id, (text) => {
      let out: unknown;
      try {
        out = JSON.parse(text);
      } catch {
        return false;
      }
      if (typeof out !== 'object' || out === null || typeof (out as OutputLine).custom_id !== 'string') return false;
      this.lines++;
      line(out as OutputLine);
      return true;
    });
    await this.file;
  }

  /** Adds a line. @throws what the store's write throws */
  add(line: OutputLine): Promise<void> {
    this.lines++;
    const text = `${JSON.stringify(line)}\n`;
    if (!this.files.appendable) {
      this.kept.push(text);
      return Promise.resolve();
    }
    const written = this.chain.then(async () => {
      this.file ??= this.files.appendable!(this.tenantId, this.id);
      await (await this.file).append(text);
    });
    this.chain = written.catch(() => undefined);
    return written;
  }

  /**
   * Ends the writing without a record, what was written kept for a later run's `resume` (AppendableFile.close): the end
   * of a run that stopped or failed before `finish`. Nothing after `finish`, nor where the store does not append.
   */
  async close(): Promise<void> {
    await this.chain;
    const file = await this.file?.catch(() => undefined);
    await file?.close();
  }

  /**
   * Stores the file's record (none when no line was added).
   * @param createdAt, expiresAt seconds since the epoch (expiresAt: createdAt + the batch's output TTL)
   * @returns the file's id, or undefined when it has no line
   */
  async finish(createdAt: number, expiresAt: number): Promise<string | undefined> {
    await this.chain;
    if (!this.lines) {
      // A file resumed with no whole line (the stop cut its first): nothing to keep.
      if (this.file) await (await this.file).discard();
      return undefined;
    }
    const record: BatchFile = { id: this.id, filename: `${this.batchId}_${this.what}.jsonl`, purpose: 'batch_output', bytes: 0, createdAt, expiresAt };
    if (this.file) {
      const file = await this.file;
      await file.commit({ ...record, bytes: file.bytes });
    } else {
      const bytes = Buffer.from(this.kept.join(''));
      this.kept.length = 0;
      await this.files.put(this.tenantId, { ...record, bytes: bytes.byteLength }, bytes);
    }
    return this.id;
  }
}
