/**
 * An error a CLI command reports politely: `message` is one line (or a short list) that names the
 * flag, file or value at fault and the fix. The CLI prints it without a stack trace (unless
 * `--debug`) and exits with `exitCode`: 2 for usage and config errors, 1 for runtime ones
 * (an AWS call refused, a port busy, a server unreachable).
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message);
    this.name = 'CliError';
  }
}
