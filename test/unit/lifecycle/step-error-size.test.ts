import { afterEach, describe, expect, it, vi } from 'vitest';
import { lifecycleHandler } from '../../../lambdas/shared/handler.js';
import { ERROR_CAUSE_BUDGET, boundedError } from '../../../lambdas/shared/error-size.js';
import { ChangeRefusedError } from '../../../lambdas/shared/errors.js';

/**
 * A step's error as the `… failed, not recorded` Fail state nests it: Lambda's error JSON (errorType, errorMessage, and
 * trace: the stack's lines), escaped once more by States.JsonToString. Two of them must fit Step Functions' execution
 * cause, at most 32,768 characters.
 */
const nested = (e: Error) => JSON.stringify(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: String(e.stack).split('\n') }));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a lifecycle step\'s error, bounded for the cause of a failure that was not recorded', () => {
  it('is thrown with its class and name, its message cut with a marker saying how much, small enough that two fit the execution cause', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // GIVEN a step whose error message is 40,000 characters, quotes among them (each escaped twice when nested)
    const long = `stacks "${'x'.repeat(39_991)}"`;
    const step = lifecycleHandler('Deploy blueprint', async () => {
      throw new ChangeRefusedError(long);
    });
    // WHEN
    const thrown = await step({} as never).then(() => undefined, (e: Error) => e);
    // THEN the Catch still matches it (class, name), and its message keeps its beginning and says what was cut
    expect(thrown).toBeInstanceOf(ChangeRefusedError);
    expect(thrown!.name).toBe('ChangeRefused');
    expect(thrown!.message.startsWith('stacks "xxxx')).toBe(true);
    const marker = /… \[(\d+) of 40000 characters cut\]$/.exec(thrown!.message);
    expect(marker).not.toBeNull();
    expect(thrown!.message.length - marker![0].length + Number(marker![1])).toBe(40_000);
    // AND nested as the Fail state nests it, it takes at most the budget (was: 80,000 and more: the cause over 32,768)
    expect(nested(thrown!).length).toBeLessThanOrEqual(ERROR_CAUSE_BUDGET);
    expect(nested(thrown!).length).toBeGreaterThan(ERROR_CAUSE_BUDGET - 100);
    expect(2 * ERROR_CAUSE_BUDGET + 2 * 256 + 64).toBeLessThanOrEqual(32_768);
    // AND the stack starts with the cut message and keeps at most 10 frames
    expect(thrown!.stack!.split('\n')[0]).toBe(`ChangeRefused: ${thrown!.message}`);
    expect(thrown!.stack!.split('\n').length).toBeLessThanOrEqual(11);
  });

  it('leaves an error within the budget as it was', () => {
    const e = new Error('tenant acme was rebuilt in its DR region by the failover runbook: ' + 'a'.repeat(6_000));
    const { message, stack } = e;
    expect(boundedError(e)).toBe(e);
    expect(e.message).toBe(message);
    expect(e.stack).toBe(stack);
  });

  it('counts characters JSON escapes twice: a message of control characters is cut shorter', () => {
    const e = boundedError(new Error('\u0001'.repeat(20_000)));
    expect(nested(e).length).toBeLessThanOrEqual(ERROR_CAUSE_BUDGET);
    expect(e.message).toMatch(/… \[\d+ of 20000 characters cut\]$/);
  });
});
