import { expect } from 'vitest';

/** What a CLI run printed and how it ended. */
export interface CliRun { code: number; stdout: string; stderr: string }

/** A line of a stack trace (`    at f (file:1:2)`): never printed without --debug. */
export const STACK_LINE = /^\s+at /m;

/** Exit code, a message of at most `lines` lines matching `pattern`, nothing on stdout, no stack trace. */
export function expectPolite(run: CliRun, code: number, pattern: RegExp, lines = 1): void {
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(lines);
  expect(run.stdout).toBe('');
  expect(run.code).toBe(code);
}
