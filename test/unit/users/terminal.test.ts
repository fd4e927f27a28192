import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { processTerminal } from '../../../lib/cli/users/terminal.js';

/** A fake TTY: a stream with isTTY and setRawMode that records the raw-mode switches. */
function tty() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, raw: [] as boolean[], setRawMode(raw: boolean) { stdin.raw.push(raw); } });
  const stderr = new PassThrough();
  let shown = '';
  stderr.on('data', (d) => (shown += String(d)));
  return { stdin, stderr, shown: () => shown };
}

describe('the login terminal', () => {
  it('reads a secret in raw mode without echo (Backspace deletes), then leaves raw mode', async () => {
    const t = tty();
    const terminal = processTerminal(t.stdin, t.stderr);
    expect(terminal.interactive).toBe(true);
    const answer = terminal.ask('Password: ', true);
    t.stdin.write('hunter2x\u007f\r');
    expect(await answer).toBe('hunter2');
    expect(t.shown()).toBe('Password: \n');
    expect(t.stdin.raw).toEqual([true, false]);
  });

  it('echoes what is not secret (the code)', async () => {
    const t = tty();
    const answer = processTerminal(t.stdin, t.stderr).ask('Code: ', false);
    t.stdin.write('1239\u007f4\n');
    expect(await answer).toBe('1234');
    expect(t.shown()).toBe('Code: 1239\b \b4\n');
  });

  it('Ctrl-C cancels with a CliError', async () => {
    const t = tty();
    const answer = processTerminal(t.stdin, t.stderr).ask('Password: ', true);
    t.stdin.write('abc\u0003');
    await expect(answer).rejects.toThrow(new CliError('tessera login cancelled', 1));
    expect(t.stdin.raw).toEqual([true, false]);
  });

  it('without a TTY, hands out stdin lines one at a time, undefined at the end', async () => {
    const stdin = new PassThrough();
    const terminal = processTerminal(stdin, new PassThrough());
    expect(terminal.interactive).toBe(false);
    stdin.write('first\r\nsecond\n');
    expect(await terminal.nextLine()).toBe('first');
    expect(await terminal.nextLine()).toBe('second');
    stdin.end();
    expect(await terminal.nextLine()).toBeUndefined();
    terminal.close?.();
  });
});
