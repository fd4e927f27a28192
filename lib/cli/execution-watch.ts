/**
 * What `tessera tenants watch` and `tessera tenants upgrade --watch` print of an execution's steps (the admin API's
 * `steps`: lambdas/admin/execution-steps.ts stepsOfHistory), in one style, and how they follow it (followUntilEnd).
 */
import { CliError } from './cli-error.js';
import { interruptionLine } from './json-error.js';

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
 * The width of the step-name column of `watch`'s text: the longest state name a lifecycle workflow has,
 * `Failed at Enable EBS encryption by default` (42 characters: the Pass state a failure of that step passes through,
 * constructs/lifecycle-workflows.ts), so that every duration starts in one column. Until 2026-12-07 it was 30, and
 * *Enable EBS encryption by default* (32) and every longer `Failed at …` pushed their duration out of line.
 * test/infra/watch-step-column.test.ts fails when a workflow gets a longer state name (raise it then) or loses this one.
 */
export const STEP_NAME_COLUMN = 42;

/** A state the watch leaves out once done: a Choice (`…?`), a `Start …` or `… ready` Pass, a `Wait …`. */
const QUIET = /\?$|^Start |ready$|^Wait /;
/** The states between two polls of a loop (constructs/lifecycle-workflows.ts: its Wait and its Choice), while DONE or RUNNING. */
const BETWEEN_POLLS = /\?$|^Wait /;

/** A step as watch prints it: a poll loop's entries of one Task state folded into one, `polls` of them (set when more than one). */
export interface FoldedStep extends WatchedStep { polls?: number }

/**
 * Folds each poll loop of `steps` into one step: consecutive entries of the same state (a polling Task: *Check regions*,
 * *Check blueprint*, *Snapshot database*…) separated only by the loop's Wait and Choice states (BETWEEN_POLLS, DONE or
 * RUNNING) make one step, named as the state, whose `seconds` is the loop's total (every entry's from the first poll's
 * start to the last's end, the waits between them included), `polls` the number of entries, and its status, attempts,
 * error and cause the last entry's (the one that ended the loop). Any other step is a group of one.
 * A group is `open` while another poll of it may still follow: the execution not `ended`, its last entry DONE, and every
 * state entered after it one of the loop's Wait and Choice states, at least one (a step the state machine left for a
 * Wait or Choice may be a loop's first poll; a step with nothing entered after it yet is not held).
 * @param steps the admin API's steps, in order (lambdas/admin/execution-steps.ts stepsOfHistory)
 * @param ended the execution is no longer RUNNING @default false
 * @returns one group per step to print, in order: `entries` the indexes into `steps` of the state's entries, `indexes`
 *   every index the group covers (the entries and the states between them)
 */
export function foldPollLoops(steps: readonly WatchedStep[], ended = false): Array<{ entries: number[]; indexes: number[]; step: FoldedStep; open: boolean }> {
  const groups: Array<{ entries: number[]; indexes: number[]; step: FoldedStep; open: boolean }> = [];
  const between = (s: WatchedStep) => BETWEEN_POLLS.test(s.name) && (s.status === 'DONE' || s.status === 'RUNNING');
  let i = 0;
  while (i < steps.length) {
    const first = steps[i];
    const entries = [i];
    if (!between(first)) {
      // The next entry of the same state after nothing but the loop's Wait and Choice states is another poll of it.
      for (let k = i + 1; k < steps.length && steps[entries.at(-1)!].status === 'DONE'; k++) {
        if (steps[k].name === first.name) entries.push(k);
        else if (!between(steps[k])) break;
      }
    }
    const lastAt = entries.at(-1)!;
    const last = steps[lastAt];
    const indexes = Array.from({ length: lastAt - i + 1 }, (_, n) => i + n);
    const rest = steps.slice(lastAt + 1);
    const open = !ended && !between(first) && last.status === 'DONE' && rest.length > 0 && rest.every(between);
    const seconds = entries.length === 1 ? first.seconds
      : indexes.reduce<number | undefined>((sum, n) => (steps[n].seconds === undefined ? sum : (sum ?? 0) + steps[n].seconds!), undefined);
    groups.push({ entries, indexes, step: entries.length === 1 ? first : { ...last, name: first.name, seconds, polls: entries.length }, open });
    i = lastAt + 1;
  }
  return groups;
}

/**
 * Whether the Wait entered at `to` is the same poll loop's as the one entered at `from` (indexes into `steps`): the same
 * Wait state, and between them only its Wait and Choice states and the entries of one other state (the polled Task).
 * `tessera tenants watch` says `… wait for regions` once per loop with it, not at each poll.
 * @returns false when `from` is negative (no Wait said yet)
 */
export function samePollLoop(steps: readonly WatchedStep[], from: number, to: number): boolean {
  if (from < 0 || to < from || steps[from]?.name !== steps[to]?.name) return false;
  return new Set(steps.slice(from + 1, to).filter((s) => !BETWEEN_POLLS.test(s.name)).map((s) => s.name)).size <= 1;
}

/**
 * Prints each step not printed yet (`printed`: indexes into `steps`, updated) once it has finished: a line of text (its
 * mark, name, duration, attempts, how it ended with the execution), or with `json` one JSON object per step. Choices,
 * waits and the like are left out once done; one the execution ended in is printed (it is where it stopped).
 * A poll loop ({@link foldPollLoops}) is one step, printed once when it ended, with its total duration and the number of
 * polls (`✓ Check regions  412.0 s, 7 polls`; JSON `polls`): a loop polling every 60 s for 8 hours printed up to 480
 * lines. A step followed so far only by a Wait or Choice is held until the next state begins (it may be a loop's first
 * poll). Should a loop's first poll have been printed before its Choice was read, the loop's line still follows once.
 * @param ended the execution is no longer RUNNING: every loop is over @default false
 * @returns the number of lines printed
 */
export function printSteps(steps: readonly WatchedStep[], printed: Set<number>, json: boolean, colour: boolean, print: (line: string) => void, ended = false): number {
  let lines = 0;
  for (const { entries, indexes, step: s, open } of foldPollLoops(steps, ended)) {
    if (s.status === 'RUNNING' || open || entries.every((n) => printed.has(n)) || (s.status === 'DONE' && QUIET.test(s.name))) continue;
    for (const n of indexes) printed.add(n);
    lines++;
    if (json) print(JSON.stringify({ step: s.name, status: s.status, seconds: s.seconds, ...(s.polls ? { polls: s.polls } : {}), ...(s.attempts ? { attempts: s.attempts } : {}), ...(s.error ? { error: s.error } : {}), ...(s.cause ? { cause: s.cause } : {}) }));
    else print(`  ${stepMark(s, colour)} ${s.name.padEnd(STEP_NAME_COLUMN)} ${s.seconds !== undefined ? `${s.seconds.toFixed(1)} s` : ''}${s.polls ? `, ${s.polls} polls` : ''}${s.attempts && s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}${ENDED_WITH_EXECUTION[s.status] ? ` (${ENDED_WITH_EXECUTION[s.status]} with the execution)` : ''}`);
  }
  return lines;
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
  /** The Ctrl-C line as JSON (`tessera --json`: json-error.ts interruptionLine, code `watch_stopped`). @default false */
  readonly json?: boolean;
  /**
   * The line said after the reason a watch ended early: that the operation goes on and the command that follows it again
   * (upgradeGoesOn, executionGoesOn). Asked when said, so that it may name what the answers told (the execution's kind).
   */
  readonly goesOn: () => string;
  /** The execution is known to exist (the call that started it answered with it): its first poll's failure says it goes on too. @default false */
  readonly started?: boolean;
  /**
   * A bound on the wait (`tenants drift --detect --wait --timeout`): `at`, the time (ms since the epoch, as Date.now()) of
   * the last poll; `passed`, what ends the watch once an answer read at or after `at` still runs (it throws the command's
   * error, or returns what the watch returns). The wait before a poll is cut to end at `at`, so the last poll is made at
   * the bound, neither after it nor never (with `--timeout` shorter than `--interval` it gave up after the first poll).
   * @default - none: the watch polls until the execution ends or Ctrl-C
   */
  readonly deadline?: { readonly at: number; readonly passed: (progress: T) => R };
}

/**
 * The loop of `tessera tenants watch`, of every `--watch` of `tenants create|update|suspend|resume|delete|retry` and of
 * `tenants upgrade --watch|--follow`: polls until `answered` says the execution ended. A watch that ends before the
 * execution says that it goes on in Step Functions and how to follow it again (`goesOn`): ending the watch stops
 * nothing, though a Ctrl-C could be taken for a cancel (in tools whose watch is the operation), and a long operation
 * outlives an Identity Center session (TesseraPlatformAdmin's: 4 hours), after which a poll fails.
 * - Ctrl-C (SIGINT, while it polls or waits): `stopped following <what> (Ctrl-C): <goesOn>` on stderr (one JSON line with
 *   `json`: interruptionLine), process.exitCode
 *   130 (as a shell reports a SIGINT; dlq redrive's code); a second Ctrl-C ends the process at once (Node's default
 *   handler, back once this one is removed after the first);
 * - a poll that fails once an answer was read, or at once when `started`: a CliError of its message, then `goesOn`, with its exit code;
 * - a `deadline`: each wait ends at it at the latest, and an answer read at or after it that `answered` does not end
 *   ends the watch with `deadline.passed`.
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
    process.stderr.write(interruptionLine(`stopped following ${f.what} (Ctrl-C): ${f.goesOn()}`, 'watch_stopped', Boolean(f.json)));
    process.exitCode = 130;
    return undefined;
  };
  try {
    for (;;) {
      let p: T | 'stop';
      try {
        p = await Promise.race([f.poll(), stop]);
      } catch (e) {
        if (read && e instanceof CliError) throw new CliError(`${e.message}\n${f.goesOn()}`, e.exitCode, e.errorClass, e);
        throw e;
      }
      if (p === 'stop') return stopped();
      read = true;
      const ended = f.answered(p);
      if (ended !== undefined) return ended;
      const left = f.deadline === undefined ? Infinity : f.deadline.at - Date.now();
      if (left <= 0) return f.deadline!.passed(p);
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([new Promise<'waited'>((r) => { timer = setTimeout(() => r('waited'), Math.min(f.intervalMs, left)); }), stop]);
      clearTimeout(timer);
      if (waited === 'stop') return stopped();
    }
  } finally {
    process.off('SIGINT', interrupted);
  }
}
