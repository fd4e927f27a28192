// How every `tessera` command (and `npm run preflight`) reports a failure: one line (or a short
// list) on stderr, no stack trace unless --debug, an exit code that says whose fault it was.
import { CommanderError, type Command } from 'commander';
import { nearest } from '../config/nearest.js';
import { printable } from '../printable.js';
import { ConfigError } from '../config/config-error.js';
import { CliError } from './cli-error.js';
import { errorJson, jsonLine, usageErrorJson } from './json-error.js';

/** What to print and the exit code for a failure. */
export interface FailureReport {
  /** The text for stderr, ending in a newline (with `json`, one line of JSON: json-error.ts errorJson). */
  text: string;
  /** 2 usage or config error, 1 runtime error (0 for commander's help and version exits). */
  exitCode: number;
}

const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError || (e as Error | undefined)?.name === 'ConfigError';

/**
 * The report for an error that ended a command:
 * - `CliError` (and its subclasses: `ServeError`, `AdminApiError`): `<label>: <message>` with the
 *   error's exit code (`label` is `error` unless the error has a `label` of its own, as
 *   `ServeError`'s `tessera serve`, so a server's lines say where they come from);
 * - `ConfigError`: its list of problems and the fix, exit 2;
 * - anything else: `error: <message> (--debug prints the stack trace)`, exit 1.
 * With `debug`, the stack trace follows (and that of the error's `cause`, when it has one).
 * With `json` (`tessera --json`), the text is one line of JSON instead, `{"error": {...}}` (errorJson), after the stack
 * trace when `debug`; the exit code is the same.
 */
export function reportError(e: unknown, debug: boolean, json = false): FailureReport {
  let text: string;
  let exitCode: number;
  if (e instanceof CliError) {
    text = `${(e as CliError & { label?: string }).label ?? 'error'}: ${e.message}`;
    exitCode = e.exitCode;
  } else if (isConfigError(e)) {
    text = `error: ${e.message}\n  fix the config file named above (or leave out --config to use the embedded default)`;
    exitCode = 2;
  } else {
    const message = e instanceof Error ? e.message : String(e);
    text = `error: ${message.split('\n')[0]}${debug ? '' : ' (--debug prints the stack trace)'}`;
    exitCode = 1;
  }
  if (json) text = '';
  if (debug) {
    for (let err: unknown = e; err instanceof Error; err = err.cause) if (err.stack) text += `\n${err.stack}`;
  }
  if (json) return { text: `${text.split('\n').filter(Boolean).map(printable).map((l) => `${l}\n`).join('')}${jsonLine(errorJson(e))}`, exitCode };
  // Each line's control characters shown escaped (lib/printable.ts): a message quotes what came from elsewhere (the admin
  // API's message and field, a file's text in a parser's error), and an ESC in it moved the terminal's cursor or retitled
  // its window when printed. The lines themselves stay lines.
  return { text: `${text.split('\n').map(printable).join('\n')}\n`, exitCode };
}

/** The command line of `cmd` as typed, e.g. `tessera tenants create`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Makes commander's own refusals (unknown option, unknown command, missing argument, a required
 * option not given, a bad choice) house style, on `cmd` and every subcommand below it: one line
 * (commander's message with its nearest-name suggestion from `showSuggestionAfterError`; every
 * required option not given, not only the first), then where the options are listed
 * (`see \`tessera tenants create --help\``); exit 2. Help and `--version` still exit 0.
 * Call it once every command is registered (`addCommand` does not pass settings on).
 * With `options.json` (`tessera --json`), each refusal is one line of JSON instead (json-error.ts usageErrorJson), and a
 * command group run without its command (`tessera tenants`) says so in JSON rather than printing its help on stderr.
 *
 * @throws CommanderError - from `parse`/`parseAsync`, once the message is printed; `exitCode` 0 or 2
 */
export function politeCommander(cmd: Command, options: { json?: boolean } = {}): Command {
  let printed = '';
  cmd.showSuggestionAfterError(true)
    .showHelpAfterError(false)
    // Kept until exitOverride knows which refusal it is. With --json, the help commander prints for a group run without
    // its command (on stderr, exit 2) is left out: the JSON line says it.
    .configureOutput({ outputError: (str) => { printed = str; }, ...(options.json ? { writeErr: () => undefined } : {}) })
    .exitOverride((e: CommanderError) => {
      if (e.exitCode !== 0 && printed) {
        const line = usageLine(cmd, e.code, printed);
        process.stderr.write(options.json ? jsonLine(usageErrorJson(line, e.code)) : line);
      } else if (e.exitCode !== 0 && options.json && e.code === 'commander.help') {
        process.stderr.write(jsonLine({ error: { message: `${commandPath(cmd)} needs a command: \`${commandPath(cmd)} --help\` lists them`, type: 'usage_error', code: 'missing_command' } }));
      }
      printed = '';
      throw new CommanderError(e.exitCode === 0 ? 0 : 2, e.code, e.message);
    });
  for (const sub of cmd.commands) politeCommander(sub, options);
  return cmd;
}

/**
 * The first option typed on `cmd`'s line that neither `cmd` nor a command above it knows
 * (`--tenat` of `tessera dev-token --tenat acme`), with the nearest known flag, in commander's
 * words; undefined when every option is known. Commander checks required options before unknown
 * ones, so a misspelt required option would otherwise be reported as missing, never as misspelt.
 * Commander keeps no trace of `--` here, so an operand after `--` that starts with `-` counts as an
 * option too (only when a required option is missing as well).
 */
function unknownOptionLine(cmd: Command): string | undefined {
  const known = new Set<string>();
  for (let c: Command | null = cmd; c; c = c.parent) for (const o of c.options) for (const f of [o.long, o.short]) if (f) known.add(f);
  known.add('--help').add('-h');
  const typed = cmd.args.find((a) => a.startsWith('-') && a !== '-' && a !== '--' && !known.has(a.split('=')[0]));
  if (typed === undefined) return undefined;
  const flag = typed.split('=')[0];
  const near = flag.startsWith('--') ? nearest(flag, [...known].filter((f) => f.startsWith('--'))) : undefined;
  return `error: unknown option '${flag}'${near ? ` (Did you mean ${near}?)` : ''}`;
}

/** A commander refusal in house style: one line, and the help pointer. */
export function usageLine(cmd: Command, code: string, commanderText: string): string {
  // commander puts its suggestion on a line of its own; it quotes the argument as typed (printable: an ESC in it shown escaped).
  let line = printable(commanderText.trimEnd().split('\n').join(' '));
  if (code === 'commander.missingMandatoryOptionValue') {
    const unknown = unknownOptionLine(cmd);
    if (unknown) return `${unknown}${profileHint(unknown)}\n  see \`${commandPath(cmd)} --help\` for the options\n`;
    const missing = cmd.options.filter((o) => o.mandatory && cmd.getOptionValue(o.attributeName()) === undefined);
    // One option missing: what it is, from its help (`tenants failover-plan` without --config said the flag alone, and a
    // new user did not learn which file it wants); several: the flags, the help pointer below describes them.
    const what = missing.length === 1 && missing[0].description ? `: ${missing[0].description.replace(/^\(required\)\s*/, '')}` : '';
    line = `error: ${commandPath(cmd)} needs ${missing.length === 1 ? 'the option' : 'the options'} ${missing.map((o) => o.flags).join(', ')}${what}`;
  }
  return `${line}${code === 'commander.unknownOption' ? profileHint(line) : ''}\n  see \`${commandPath(cmd)} --help\` for the options\n`;
}

/**
 * For a command that takes no `--profile`: every command that calls AWS takes it (tenants, keys, users, login, dlq, doctor,
 * admins, serve, init, platform), so one that refuses it makes no AWS call (roles, dev-token, dev-key, fine-tuning): said, rather than
 * the unknown option alone (it told the user to set AWS_PROFILE for calls the command never makes).
 */
const profileHint = (line: string): string => (/unknown option '--profile(=[^']*)?'/.test(line) ? '; this command makes no AWS call: leave out --profile' : '');
