import { afterEach, describe, expect, it, vi } from 'vitest';
import { untilStartAnswered } from '../../../lib/cli/interrupted-start.js';

/**
 * Found by a new user's trial (s40h): Ctrl-C while `tessera tenants create` waited for the admin API's answer ended the
 * CLI with nothing said; the onboarding could run under a request id never printed, and the same create again (a new
 * request id) met it as a 409 tenant_exists.
 */
afterEach(() => vi.restoreAllMocks());

describe('a Ctrl-C before the start of an operation is answered', () => {
  it('says the operation may have started, its request id and the commands to get it back and follow it; exit 130', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    const exit = vi.fn();
    const pending = untilStartAnswered(new Promise(() => undefined), 'cli-1234', 'onboarding', 'tessera tenants watch acme', { exit });
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(err.join('')).toBe('interrupted (Ctrl-C) before the admin API answered: if it received the request, the onboarding may have started: its request id is cli-1234; '
      + 'the same command with --request-id cli-1234 answers with that onboarding (or starts it), tessera tenants watch acme follows it\n');
    void pending;
  });

  it('with --json, the same words as one JSON error line (type interrupted, code start_unanswered); exit 130', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    const exit = vi.fn();
    const pending = untilStartAnswered(new Promise(() => undefined), 'cli-1234', 'offboarding', 'tessera tenants watch acme', { json: true, exit });
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(err).toHaveLength(1);
    expect(err[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(err[0]!)).toEqual({ error: {
      message: 'interrupted (Ctrl-C) before the admin API answered: if it received the request, the offboarding may have started: its request id is cli-1234; '
        + 'the same command with --request-id cli-1234 answers with that offboarding (or starts it), tessera tenants watch acme follows it',
      type: 'interrupted', code: 'start_unanswered',
    } });
    void pending;
  });

  it('removes its listener once the call is answered, so a later Ctrl-C is the watch\'s', async () => {
    const before = process.listenerCount('SIGINT');
    expect(await untilStartAnswered(Promise.resolve('answer'), 'cli-1', 'change', 'tessera tenants watch acme', { exit: vi.fn() })).toBe('answer');
    await expect(untilStartAnswered(Promise.reject(new Error('refused')), 'cli-2', 'change', 'tessera tenants watch acme', { exit: vi.fn() })).rejects.toThrow('refused');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
