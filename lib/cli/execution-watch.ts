/**
 * What `tessera tenants watch` and `tessera tenants upgrade --watch` print of an execution's steps (the admin API's
 * `steps`: lambdas/admin/execution-steps.ts stepsOfHistory), in one style.
 */

/** One step as the admin API answers it. */
export interface WatchedStep { name: string; seconds?: number; status: string; attempts?: number; error?: string; cause?: string }

/** The step statuses of an execution that ended while the step ran (lambdas/admin/execution-steps.ts stepsOfHistory). */
export const ENDED_WITH_EXECUTION: Record<string, string> = { ABORTED: 'aborted', TIMED_OUT: 'timed out' };

/**
 * The mark of a finished step in `watch`'s text: `✗` for a step that failed and for the states a failure passes
 * through (`Failed at <step>`, `Refused at <step>`: Pass states that exit normally, which showed a `✓`), `✓` for
 * any other; the `✗` red when `colour` (stdout a terminal, NO_COLOR unset).
 */
export function stepMark(step: { name: string; status: string }, colour: boolean): string {
  if (step.status !== 'FAILED' && !(step.status in ENDED_WITH_EXECUTION) && !/^(Failed|Refused) at /.test(step.name)) return '✓';
  return colour ? '\u001b[31m✗\u001b[39m' : '✗';
}

/** Colour on stdout: a terminal, and NO_COLOR (no-color.org) unset or empty. */
export const stdoutColour = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

/** Seconds between two ISO 8601 times, to a tenth (` in 1.6 s`); '' when either is missing or unreadable. */
export function secondsBetween(from: string | undefined, to: string | number | undefined): string {
  const a = from === undefined ? NaN : Date.parse(from);
  const b = typeof to === 'string' ? Date.parse(to) : to ?? NaN;
  return Number.isFinite(a) && Number.isFinite(b) ? ` ${Math.max(0, (b - a) / 1000).toFixed(1)} s` : '';
}

/**
 * Prints each step not printed yet (`printed`: indexes into `steps`, updated) once it has finished: a line of text (its
 * mark, name, duration, attempts, how it ended with the execution), or with `json` one JSON object per step. Choices,
 * waits and the like are left out once done; one the execution ended in is printed (it is where it stopped).
 */
export function printSteps(steps: readonly WatchedStep[], printed: Set<number>, json: boolean, colour: boolean, print: (line: string) => void): void {
  steps.forEach((s, i) => {
    if (s.status === 'RUNNING' || printed.has(i) || (s.status === 'DONE' && /\?$|^Start |ready$|^Wait /.test(s.name))) return;
    printed.add(i);
    if (json) print(JSON.stringify({ step: s.name, status: s.status, seconds: s.seconds, ...(s.attempts ? { attempts: s.attempts } : {}), ...(s.error ? { error: s.error } : {}), ...(s.cause ? { cause: s.cause } : {}) }));
    else print(`  ${stepMark(s, colour)} ${s.name.padEnd(30)} ${s.seconds !== undefined ? `${s.seconds.toFixed(1)} s` : ''}${s.attempts && s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}${ENDED_WITH_EXECUTION[s.status] ? ` (${ENDED_WITH_EXECUTION[s.status]} with the execution)` : ''}`);
  });
}
