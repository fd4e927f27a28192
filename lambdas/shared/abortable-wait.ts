/**
 * Waits `ms` milliseconds, or less when one of `signals` aborts (an undefined one is ignored; one already aborted does
 * not shorten the wait: callers check `aborted` before and after). Never rejects. Its `abort` listeners are removed when
 * the wait ends, so a long-lived signal (a caller's, a request's deadline) waited on in a loop gathers none.
 * @param ms the wait, ms
 */
export function abortableWait(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal?.addEventListener('abort', done, { once: true });
  });
}
