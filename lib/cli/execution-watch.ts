/**
 * What `tessera tenants watch` and `tessera tenants upgrade --watch` print of an execution's steps (the admin API's
 * `steps`: lambdas/admin/execution-steps.ts stepsOfHistory), in one style, and how they follow it (followUntilEnd).
 */
import { CliError } from './cli-error.js';

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

/** How {@link followUntilEnd} polls, prints and says that what it follows goes on. */
export interface Follow<T, R> {
  /** One poll: the admin API's GET of the execution's progress (AdminClient.call). */
  readonly poll: () => Promise<T>;
  /** Prints what an answer adds; returns what the watch returns once the followed execution ended, undefined while it runs. */
  readonly answered: (progress: T) => R | undefined;
  /** Between the end of one poll and the next (ms). */
  readonly intervalMs: number;
  /** What is followed, as the Ctrl-C line names it: `upgrade <upgradeId>`, `tenant acme`. */
  readonly what: string;
  /**
   * The line said after the reason a watch ended early: that the operation goes on and the command that follows it again
   * (upgradeGoesOn, executionGoesOn). Asked when said, so that it may name what the answers told (the execution's kind).
   */
  readonly goesOn: () => string;
  /** The execution is known to exist (the call that started it answered with it): its first poll's failure says it goes on too. @default false */
  readonly started?: boolean;
}

/**
 * The loop of `tessera tenants watch`, of every `--watch` of `tenants create|update|suspend|resume|delete|retry` and of
 * `tenants upgrade --watch|--follow`: polls until `answered` says the execution ended. A watch that ends before the
 * execution says that it goes on in Step Functions and how to follow it again (`goesOn`): ending the watch stops
 * nothing, though a Ctrl-C could be taken for a cancel (in tools whose watch is the operation), and a long operation
 * outlives an Identity Center session (TesseraPlatformAdmin's: 4 hours), after which a poll fails.
 * - Ctrl-C (SIGINT, while it polls or waits): `stopped following <what> (Ctrl-C): <goesOn>` on stderr, process.exitCode
 *   130 (as a shell reports a SIGINT; dlq redrive's code); a second Ctrl-C ends the process at once (Node's default
 *   handler, back once this one is removed after the first);
 * - a poll that fails once an answer was read, or at once when `started`: a CliError of its message, then `goesOn`, with its exit code.
 * The SIGINT listener is removed whatever the end.
 * @returns what `answered` returned for the ended execution, or undefined after Ctrl-C
 * @throws CliError the first poll's error as it is unless `started` (an unknown id, the admin API unreachable); any other
 *   error (not a CliError) as it is
 */
export async function followUntilEnd<T, R>(f: Follow<T, R>): Promise<R | undefined> {
  let read = f.started ?? false;
  let interrupted = (): void => undefined;
  const stop = new Promise<'stop'>((resolve) => { interrupted = () => resolve('stop'); });
  process.once('SIGINT', interrupted);
  const stopped = (): undefined => {
    process.stderr.write(`stopped following ${f.what} (Ctrl-C): ${f.goesOn()}\n`);
    process.exitCode = 130;
    return undefined;
  };
  try {
    for (;;) {
      let p: T | 'stop';
      try {
        p = await Promise.race([f.poll(), stop]);
      } catch (e) {
        if (read && e instanceof CliError) throw new CliError(`${e.message}\n${f.goesOn()}`, e.exitCode);
        throw e;
      }
      if (p === 'stop') return stopped();
      read = true;
      const ended = f.answered(p);
      if (ended !== undefined) return ended;
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([new Promise<'waited'>((r) => { timer = setTimeout(() => r('waited'), f.intervalMs); }), stop]);
      clearTimeout(timer);
      if (waited === 'stop') return stopped();
    }
  } finally {
    process.off('SIGINT', interrupted);
  }
}
