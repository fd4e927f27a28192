import type { ServerResponse } from 'node:http';

/**
 * A stream's server-sent events to a node:http response (`tessera serve`), the events produced in
 * one turn of the event loop written as one: one HTTP chunk and one write to the socket instead of
 * one per event (node frames every `res.write` of a chunked answer on its own). Nothing waits for
 * a later event: what is pending goes out when the current turn ends (`process.nextTick`), and at
 * `end`. A slow reader is waited for: once a write finds the response's buffer full, the next
 * `write` returns a promise that settles on `drain` (or when the connection closes), so the
 * upstream is read no faster than the caller reads. Writes after the caller left are dropped.
 */
export class SseWriter {
  private pending: string[] | undefined;
  private drained: Promise<void> | undefined;
  /** The bytes written to the response so far (UTF-8), counted once per turn's write: the access line's `bytesOut`. */
  bytes = 0;

  constructor(private readonly res: ServerResponse) {}

  /** Queues `event` (its framing included) for this turn's write; a promise while the caller's buffer is full. */
  write(event: string): Promise<void> | undefined {
    if (this.res.destroyed) return undefined;
    if (!this.pending) {
      this.pending = [];
      process.nextTick(flushPending, this);
    }
    this.pending.push(event);
    return this.drained;
  }

  /** Writes what is pending (called at the end of the turn, and by `end`). */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    if (this.res.destroyed || this.res.writableEnded) return;
    const chunk = pending.length === 1 ? pending[0] : pending.join('');
    this.bytes += Buffer.byteLength(chunk);
    const full = !this.res.write(chunk);
    if (full && !this.res.destroyed && !this.drained) {
      this.drained = new Promise<void>((ok) => {
        const done = () => {
          this.drained = undefined;
          ok();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    }
  }

  /** Writes what is pending and ends the answer. */
  end(): void {
    this.flush();
    this.res.end();
  }
}

function flushPending(writer: SseWriter): void {
  writer.flush();
}
