/**
 * Strict UTF-8 text that arrives in pieces (an upload's parts, a file's bytes pushed whole), split into lines at `\n`:
 * each line is handed to `checkLine` with its 1-based number (`this.line`) counted over the whole text, holding only
 * the line being read, never the whole text as one string. A character split between two pieces is decoded whole
 * (TextDecoder `stream`); a byte sequence that is not UTF-8 is refused (`notUtf8`), never replaced.
 *
 * Subclasses: the batch input file's check (lambdas/inference/batches/batch-service.ts) and the fine-tuning file's
 * (lambdas/fine-tuning/training-file-format.ts), which differ in what a line must be and how they refuse.
 */
export abstract class Utf8LineReader {
  private readonly decoder: InstanceType<typeof TextDecoder>;
  /** The text of the current line read so far (after the last `\n`). */
  private pending = '';
  /** The number (1-based) of the line being read. */
  protected line = 1;

  /**
   * @param ignoreBOM true: a leading byte order mark stays in the text (for a check that refuses it);
   *   @default false (TextDecoder's: a leading BOM is dropped)
   */
  constructor(ignoreBOM = false) {
    this.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM });
  }

  /**
   * Reads the next bytes of the text, checking every line they complete.
   * @throws what `notUtf8` or `checkLine` throws
   */
  push(bytes: Uint8Array): void {
    this.take(this.decode(bytes, true));
  }

  /** Reads the end of the text and checks its last line (which has no `\n` after it, or is empty). */
  protected finish(): void {
    this.take(this.decode(new Uint8Array(), false));
    const last = this.pending;
    this.pending = '';
    this.checkLine(last);
  }

  /** The error thrown for bytes that are not UTF-8. */
  protected abstract notUtf8(): Error;

  /** Checks one line (without its `\n`; a `\r` before it is kept) numbered `this.line`. */
  protected abstract checkLine(line: string): void;

  /** Sees each decoded piece of text before it is split (the first one starts the text). @default nothing */
  protected decoded(_text: string): void {}

  private decode(bytes: Uint8Array, stream: boolean): string {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream });
    } catch {
      throw this.notUtf8();
    }
    this.decoded(text);
    return text;
  }

  private take(text: string): void {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const line = this.pending + text.slice(from, nl);
      this.pending = '';
      this.checkLine(line);
      this.line++;
      from = nl + 1;
    }
    this.pending += text.slice(from);
  }
}
