import { createInterface } from 'node:readline/promises';
import { CliError } from '../cli-error.js';
import type { Asker } from './collect-answers.js';
import { InvalidValue } from './field-rules.js';

/** The streams prompts use; tests pass a PassThrough for `input`. */
export interface PromptStreams {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

/**
 * An {@link Asker} on a pair of streams (node:readline/promises). Each question is written as
 * `Question [default]: `; an empty answer takes the default; an answer `parse` refuses is answered
 * with the reason and the question again; a required question without a default is asked again
 * when left empty. Lines are read through the interface's async iterator, so answers that arrive
 * before their question (piped or pasted input) are kept, not dropped.
 * Call `close()` when done.
 * @throws CliError (exit 2) from `ask` when the input ends before the question is answered
 */
export function createPrompter(streams: PromptStreams): Asker & { close(): void } {
  const rl = createInterface({ input: streams.input, crlfDelay: Infinity, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask<T>(question: string, defaultAnswer: string | undefined, parse: (raw: string) => T): Promise<T> {
      for (;;) {
        streams.output.write(`${question}${defaultAnswer ? ` [${defaultAnswer}]` : ''}: `);
        const next = await lines.next();
        if (next.done) {
          streams.output.write('\n');
          throw new CliError(`the input ended before "${question}" was answered: answer every question, or run with --yes and flags`);
        }
        const raw = next.value.trim() || defaultAnswer || '';
        if (raw === '') {
          streams.output.write('  a value is required\n');
          continue;
        }
        try {
          return parse(raw);
        } catch (e) {
          if (!(e instanceof InvalidValue)) throw e;
          streams.output.write(`  "${raw}": ${e.message}; try again\n`);
        }
      }
    },
    close: () => rl.close(),
  };
}
