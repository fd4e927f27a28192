import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { parseAccountId } from '../../../lib/cli/init/field-rules.js';
import { createPrompter } from '../../../lib/cli/init/prompt.js';

/** A writable that keeps what was written. */
function sink(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return Object.assign(stream, { text: () => text });
}

describe('createPrompter', () => {
  it('asks, shows the default, and takes it on an empty answer', async () => {
    // GIVEN
    const input = new PassThrough();
    const output = sink();
    const prompter = createPrompter({ input, output });
    input.end('\n');
    // WHEN
    const answer = await prompter.ask('Home region', 'us-east-1', (raw) => raw);
    prompter.close();
    // THEN
    expect(answer).toBe('us-east-1');
    expect(output.text()).toBe('Home region [us-east-1]: ');
  });

  it('says why an answer is refused and asks again; keeps answers that arrived before their question', async () => {
    // GIVEN: all answers written at once, as a paste or a pipe would
    const input = new PassThrough();
    const output = sink();
    const prompter = createPrompter({ input, output });
    input.write('12345\n\n 123456789012 \n234567890123\n');
    // WHEN
    const first = await prompter.ask('Platform account id', undefined, parseAccountId);
    const second = await prompter.ask('Workload account id', undefined, parseAccountId);
    prompter.close();
    // THEN
    expect([first, second]).toEqual(['123456789012', '234567890123']);
    // (a terminal echoes each answer and its newline; a stream does not)
    expect(output.text()).toBe([
      'Platform account id:   "12345": must be a 12-digit AWS account id such as 123456789012; try again',
      'Platform account id:   a value is required',
      'Platform account id: Workload account id: ',
    ].join('\n'));
  });

  it('ends with a CliError when the input ends before an answer', async () => {
    // GIVEN
    const input = new PassThrough();
    const prompter = createPrompter({ input, output: sink() });
    input.end('');
    // WHEN
    const error = await prompter.ask('Root id', undefined, (raw) => raw).catch((e: unknown) => e);
    // THEN
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('the input ended before "Root id" was answered: answer every question, or run with --yes and flags');
  });
});
