import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CliError } from '../cli-error.js';

/**
 * Where `tessera login` asks for what it needs: a terminal (prompts on stderr, secrets without
 * echo) or, for scripts, lines of stdin. stdout carries only the result (the token).
 */
export interface Terminal {
  /** True when stdin is a terminal, so prompts can be answered. */
  readonly interactive: boolean;
  /** Asks on the terminal; `secret` turns echo off. Only when `interactive`. */
  ask(question: string, secret: boolean): Promise<string>;
  /** The next line of stdin (without its line break), or undefined at its end. */
  nextLine(): Promise<string | undefined>;
  /** A message for the person at the terminal (stderr). */
  info(text: string): void;
  /** Stops reading stdin, so the process can exit while a pipe stays open. @default - nothing to close */
  close?(): void;
}

/** The process's terminal: process.stdin / process.stderr. */
export function processTerminal(stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void } = process.stdin, stderr: Writable = process.stderr): Terminal {
  let lines: AsyncIterator<string> | undefined;
  let rl: Interface | undefined;
  const reader = () => {
    if (!lines) {
      rl = createInterface({ input: stdin, crlfDelay: Infinity, terminal: false });
      lines = rl[Symbol.asyncIterator]();
    }
    return lines;
  };
  return {
    interactive: Boolean(stdin.isTTY),
    info: (text) => void stderr.write(`${text}\n`),
    async nextLine() {
      const next = await reader().next();
      return next.done ? undefined : next.value;
    },
    async ask(question, secret) {
      stderr.write(question);
      if (!stdin.setRawMode) {
        const next = await reader().next();
        return next.done ? '' : next.value;
      }
      return readTerminalLine(stdin as Readable & { setRawMode: (raw: boolean) => void }, stderr, !secret);
    },
    close: () => rl?.close(),
  };
}

/**
 * Reads one line from a terminal in raw mode (so prompts never share stdin with a line reader),
 * echoing the characters unless it is a secret; Backspace deletes, Ctrl-C and Ctrl-D cancel.
 */
export function readTerminalLine(stdin: Readable & { setRawMode: (raw: boolean) => void }, stderr: Writable, echo: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new CliError('tessera login cancelled', 1));
        if (ch === '\u007f' || ch === '\b') {
          if (echo && value) stderr.write('\b \b');
          value = value.slice(0, -1);
        } else {
          value += ch;
          if (echo) stderr.write(ch);
        }
      }
    };
    stdin.on('data', onData);
  });
}
