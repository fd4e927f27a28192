/**
 * What a Ctrl-C says while the request that starts a lifecycle operation (`POST /admin/tenants`, `PATCH
 * /admin/tenants/{id}`, suspend, resume, `DELETE`) waits for its answer: the admin API may have received it, and the
 * operation may run under a request id the CLI made and printed only with the answer. Before, the CLI ended at once
 * (exit 130) saying nothing, and the same command run again made a new request id, which the running onboarding met as
 * a 409 `tenant_exists` (a new user's trial, s40h).
 * @param requestId the request id sent (the CLI's own, or the `--request-id` given)
 * @param what the operation, as the message names it: `onboarding`, `change`, `suspend`, `resume`, `offboarding`
 * @param follow the command that follows it: `tessera tenants watch acme`
 * @returns the line for stderr
 */
export function interruptedStartLine(requestId: string, what: string, follow: string): string {
  return `interrupted (Ctrl-C) before the admin API answered: if it received the request, the ${what} may have started: its request id is ${requestId}; `
    + `the same command with --request-id ${requestId} answers with that ${what} (or starts it), ${follow} follows it`;
}

import { interruptionLine } from './json-error.js';

/**
 * Waits for `call` (the request that starts an operation) with a SIGINT listener: a Ctrl-C before its answer prints
 * {@link interruptedStartLine} on stderr and ends the process with 130, as a shell reports a SIGINT. The listener is
 * removed once the call ends, whatever its end, so a later `--watch` has its own Ctrl-C.
 * @param options.json the line as JSON, `{"error": {"type": "interrupted", "code": "start_unanswered", …}}` (`tessera
 *   --json`: json-error.ts interruptionLine) @default false
 * @param options.exit how the process ends @default process.exit
 */
export async function untilStartAnswered<T>(call: Promise<T>, requestId: string, what: string, follow: string,
  options: { json?: boolean; exit?: (code: number) => void } = {}): Promise<T> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const interrupted = () => {
    process.stderr.write(interruptionLine(interruptedStartLine(requestId, what, follow), 'start_unanswered', Boolean(options.json)));
    exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    return await call;
  } finally {
    process.off('SIGINT', interrupted);
  }
}
