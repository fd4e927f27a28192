/**
 * What `tessera --json` says of a failure beside its message (lib/cli/json-error.ts): its class (`type`) and a stable code.
 * `type` is one of the CLI's (usage_error, config_error, credentials_error, connection_error, api_gateway_error,
 * unexpected_response, cli_error); `code` a snake_case or AWS name a script can branch on.
 */
export interface ErrorClass {
  readonly type: string;
  readonly code?: string;
}

/**
 * An error a CLI command reports politely: `message` is one line (or a short list) that names the
 * flag, file or value at fault and the fix. The CLI prints it without a stack trace (unless
 * `--debug`) and exits with `exitCode`: 2 for usage and config errors, 1 for runtime ones
 * (an AWS call refused, a port busy, a server unreachable).
 * @param errorClass what `--json` reports as the error's `type` and `code` @default - `usage_error` for exit 2, `cli_error` for exit 1, no code
 * @param cause the error it says in the CLI's words (an AdminApiError whose answer `--json` passes on)
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 2, readonly errorClass?: ErrorClass, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CliError';
  }
}
