/**
 * Work started off a request's path and not yet ended (an API key's `lastUsedAt` write, an audit
 * batch being appended), for code that must wait for it before it stops: a Lambda before it answers
 * (Lambda freezes the environment when the handler returns), `tessera serve` before it exits.
 */
export class PendingWork {
  private readonly running = new Set<Promise<unknown>>();

  /** `work`, tracked until it ends (resolved or rejected): the promise to hand on, with `work`'s outcome. */
  track<T>(work: Promise<T>): Promise<T> {
    const tracked: Promise<T> = work.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  /** Whether some tracked work has not ended. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /**
   * Resolves when every tracked work has ended, work tracked meanwhile included.
   * @throws the first rejection among them (the caller decides whether that is an error)
   */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.all(this.running);
  }
}
