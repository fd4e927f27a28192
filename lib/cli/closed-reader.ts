/**
 * What the CLI does when the reader of its output goes away first (`tessera tenants show acme --json | head -c 0`,
 * `tessera tenants create … --watch | head -2`): the next write to the closed pipe fails with EPIPE, which Node raises
 * as an 'error' event on `process.stdout`; unhandled, it crashed the CLI with an `Error: write EPIPE` stack trace.
 *
 * The CLI exits quietly instead, with code 0: the reader asked for no more output, which is how `head` is used, so
 * the command did what was asked (under `set -o pipefail` a non-zero code would fail a script that only wanted the
 * first line). Node ignores SIGPIPE itself, so the shell's 141 (128 + SIGPIPE) of a C tool killed by the signal would
 * only be imitated here; exiting 0 on EPIPE is what the Node modules made for it do (epipebomb), as npm does for its `completion` output.
 * Any other write error is rethrown as before.
 */
export function exitQuietlyWhenReaderCloses(stream: NodeJS.WriteStream, exit: (code: number) => never = process.exit): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(0);
    throw e;
  });
}
