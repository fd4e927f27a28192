import { Command, CommanderError, Help, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { asksDetailedExitcode, detailedFailureCode } from './detailed-exitcode.js';
import { asksJson, interruptionLine } from './json-error.js';
import { politeCommander, reportError } from './report-error.js';

/**
 * The commands of `tessera` in help order, each as its name and a loader of its module: a run
 * imports only the command it runs (and that command's AWS SDK clients), so `tessera init` or
 * `tessera tenants list` does not load serve's gateway, doctor's twelve SDK clients or the Cognito
 * sign-in. The name is the one the module's `new Command(...)` gives (test/unit/cli/program.test.ts
 * checks that they agree).
 */
export const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<Command> }> = [
  { name: 'tenants', load: async () => (await import('./tenants-command.js')).tenantsCommand() },
  { name: 'serve', load: async () => (await import('./serve-command.js')).serveCommand() },
  { name: 'dev-token', load: async () => (await import('./serve-command.js')).devTokenCommand() },
  { name: 'dev-key', load: async () => (await import('./serve-command.js')).devKeyCommand() },
  { name: 'fine-tuning', load: async () => (await import('./fine-tuning-command.js')).fineTuningCommand() },
  { name: 'init', load: async () => (await import('./init-command.js')).initCommand() },
  { name: 'config', load: async () => (await import('./config-command.js')).configCommand() },
  { name: 'doctor', load: async () => (await import('./doctor-command.js')).doctorCommand() },
  { name: 'admins', load: async () => (await import('./admins-command.js')).adminsCommand() },
  { name: 'users', load: async () => (await import('./users-command.js')).usersCommand() },
  { name: 'login', load: async () => (await import('./users-command.js')).loginCommand() },
  { name: 'roles', load: async () => (await import('./roles-command.js')).rolesCommand() },
  { name: 'keys', load: async () => (await import('./keys-command.js')).keysCommand() },
  { name: 'requests', load: async () => (await import('./requests-command.js')).requestsCommand() },
  { name: 'dlq', load: async () => (await import('./dlq-command.js')).dlqCommand() },
  { name: 'platform', load: async () => (await import('./platform-command.js')).platformCommand() },
];

/** The program's options that take a value (`--api-url <url>`, `--region <region>`): their value is not a command name. */
const VALUED_GLOBALS = new Set(['--api-url', '--region']);
/** The program's flags. */
const FLAG_GLOBALS = new Set(['--json', '--debug']);

/**
 * The command `args` run: the first argument after the program's own options (and their values),
 * when it names one of COMMANDS; undefined otherwise: no command, `help`, an unknown or misspelt
 * command, or any other option before it (`tessera --help tenants` prints the program's help, an
 * unknown option the program's refusal): the whole program answers those, with every command in
 * its help and suggestions.
 */
export function commandOf(args: readonly string[]): string | undefined {
  const at = commandIndex(args);
  return at === undefined ? undefined : args[at];
}

/** `--profile <name>` is no option of the program but of the commands that sign AWS calls; before the command it is moved after it (withProfileAfterCommand). */
const PROFILE = '--profile';

/** Where commandOf's command is in `args` (a leading `--profile <name>` or `--profile=<name>` skipped with its value), or undefined. */
function commandIndex(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (VALUED_GLOBALS.has(arg) || arg === PROFILE) i++;
    else if (FLAG_GLOBALS.has(arg) || [...VALUED_GLOBALS, PROFILE].some((o) => arg.startsWith(`${o}=`))) continue;
    else if (arg.startsWith('-')) return undefined;
    else return COMMANDS.some((c) => c.name === arg) ? i : undefined;
  }
  return undefined;
}

/**
 * `args` with a `--profile <name>` (or `--profile=<name>`) given before the command moved after it, as
 * `--profile <name>`: `tessera --profile ops tenants list` runs as `tessera tenants list --profile ops` (it was refused,
 * `unknown option '--profile'`, as commander reads an option before the command as the program's). The command decides:
 * one that takes --profile (tenants, keys, users, login, dlq, doctor, admins, serve, init, platform) uses it, one that takes none
 * (it makes no AWS call) refuses it as it refuses `tessera roles --profile ops`. Placed at the end of the command's options (before a `--`), or before a
 * `--profile` given after the command, which stays the one that counts. Without a command (`tessera --profile ops`), as given.
 */
export function withProfileAfterCommand(args: readonly string[]): string[] {
  const at = commandIndex(args);
  if (at === undefined) return [...args];
  const moved: string[] = [];
  const before: string[] = [];
  for (let i = 0; i < at; i++) {
    if (args[i] === PROFILE) moved.push(PROFILE, args[++i]!);
    else if (args[i]!.startsWith(`${PROFILE}=`)) moved.push(PROFILE, args[i]!.slice(PROFILE.length + 1));
    else before.push(args[i]!);
  }
  if (!moved.length) return [...args];
  const after = args.slice(at);
  const end = after.findIndex((a) => a === '--' || a === PROFILE || a.startsWith(`${PROFILE}=`));
  const cut = end === -1 ? after.length : end;
  return [...before, ...after.slice(0, cut), ...moved, ...after.slice(cut)];
}

/**
 * The version of this checkout: package.json's `version`, the blueprint version `cdk deploy`
 * publishes from it (bin/tessera-app.ts). The CLI bundle of the tests keeps this file's
 * import.meta.url (test/support/cli-bundle.ts), so the same package.json is read.
 */
export function tesseraVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * The `tessera` program: the global options, commander's refusals in house style (in JSON with `options.json`), and every
 * command, or only `only` (a name of COMMANDS) when given: the same program for that command's
 * runs, which never reach the others.
 */
export async function tesseraProgram(only?: string, options: { json?: boolean } = {}): Promise<Command> {
  const program = new Command('tessera')
    .description('Tessera platform CLI: the tenant lifecycle, through the admin API (SigV4, your AWS credentials)')
    .version(tesseraVersion(), '-V, --version', 'print the version (package.json: the blueprint version cdk deploy publishes from this checkout)')
    .option('--api-url <url>', 'admin API base URL (default: $TESSERA_API_URL)')
    .option('--region <region>', 'AWS region: the admin API\'s, or for tessera dlq the queues\' (default: $AWS_REGION)')
    .option('--json', 'print JSON instead of text; a failure is one JSON line on stderr, {"error": {...}}, with the same exit code')
    .option('--debug', 'print the stack trace of an error');
  listProfileInHelp(program);
  const commands = await Promise.all(COMMANDS.filter((c) => only === undefined || c.name === only).map((c) => c.load()));
  for (const command of commands) program.addCommand(command);
  // `tessera dlq list --help` lists --region and --json too (global options work after the command as well).
  showGlobalOptions(program);
  return politeCommander(program, options);
}

/** The commands that take `--profile` (they call AWS with your credentials); the others make no AWS call and refuse it. */
export const PROFILE_COMMANDS = ['tenants', 'keys', 'requests', 'users', 'login', 'dlq', 'doctor', 'admins', 'serve', 'init', 'platform'] as const;

/**
 * `tessera --help` lists `--profile` with the program's options (after --region), saying which commands take it: it is
 * no option of the program (each command that calls AWS declares its own, and one given before the command is moved
 * after it: withProfileAfterCommand), so commander listed it only in those commands' help, and a new user reading the
 * program's help did not learn of it. Listed, not declared: declaring it on the program would let the program take it
 * from after any command, so a command without AWS calls (roles) would accept it silently.
 */
function listProfileInHelp(program: Command): void {
  const profile = new Option('--profile <profile>', `AWS profile whose credentials sign the AWS calls, before or after the command (default: $AWS_PROFILE, else the default credential chain); taken by ${PROFILE_COMMANDS.join(', ')}`);
  program.configureHelp({
    // In the printed help only: commander also reads visibleOptions for its "Did you mean" of an unknown option, and
    // `tessera roles --profile ops` would then be answered "(Did you mean --profile?)".
    formatHelp(cmd: Command, helper: Help) {
      if (cmd !== program) return Help.prototype.formatHelp.call(helper, cmd, helper);
      const listing = Object.create(helper) as Help;
      listing.visibleOptions = (c: Command) => {
        const options = helper.visibleOptions(c);
        if (c !== program) return options;
        const at = options.findIndex((o) => o.long === '--region');
        return [...options.slice(0, at + 1), profile, ...options.slice(at + 1)];
      };
      return Help.prototype.formatHelp.call(listing, cmd, listing);
    },
  });
}

/**
 * Runs `tessera <args>` and returns its exit code instead of exiting: commander's refusals exit 2
 * (politeCommander printed them), CliError and its kin print one line with their exit code,
 * anything else one line and exit 1; the stack trace only with `--debug`. With `--detailed-exitcode` on the command line
 * (tenants apply, tenants drift), every failure that would exit 2 exits 1 (detailed-exitcode.ts detailedFailureCode),
 * commander's refusals included: 2 then means "succeeded, and there are changes or drift", which the command sets itself.
 * With `--json` (json-error.ts asksJson) every such failure is one line of JSON on stderr, `{"error": {...}}`, with the
 * same exit code.
 * @param given the arguments after `tessera`
 */
export async function runTesseraProgram(given: string[]): Promise<number> {
  const args = withProfileAfterCommand(given);
  const failure = asksDetailedExitcode(args) ? detailedFailureCode : (code: number) => code;
  const json = asksJson(args);
  const program = await tesseraProgram(commandOf(args), { json });
  // The program's listener goes on before bin/tessera.mjs's comes off: SIGINT never has none in between, in which Node
  // stops watching it and a Ctrl-C already received but not yet dispatched would be lost.
  const whileLoading = listenerWhileLoading();
  const stopOnSigint = json ? sayInterruptedInJson(commandLine(args), whileLoading ? 1 : 0) : () => undefined;
  whileLoading?.();
  try {
    await program.parseAsync(['node', 'tessera', ...withoutHelpOfUnknownSubcommand(program, args)]);
    // A command that finished but failed (tessera tenants ... --watch of a FAILED execution) sets exitCode.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return failure(e.exitCode);
    const report = reportError(e, Boolean(program.opts().debug) || args.includes('--debug'), json);
    process.stderr.write(report.text);
    return failure(report.exitCode);
  } finally {
    stopOnSigint();
  }
}

/**
 * bin/tessera.mjs's SIGINT listener of a `--json` run (a Ctrl-C while Node loads the CLI: one JSON line, exit 130), found by
 * its `Symbol.for` name, as what removes it: from then on the program's own listeners decide (sayInterruptedInJson, a
 * command's own). Undefined when the program runs without that entry (the tests' runTesseraInProcess) or without `--json`.
 * @returns what removes that listener, or undefined
 */
function listenerWhileLoading(): (() => void) | undefined {
  const key = Symbol.for('tessera.cli.sigint-while-loading');
  const listener = (globalThis as Record<symbol, unknown>)[key];
  if (typeof listener !== 'function') return undefined;
  return () => {
    process.off('SIGINT', listener as () => void);
    delete (globalThis as Record<symbol, unknown>)[key];
  };
}

/** The words of the command run, from its name to its first option (`tenants show acme`), or undefined without a command (commandOf). */
function commandLine(args: readonly string[]): string | undefined {
  const at = commandIndex(args);
  if (at === undefined) return undefined;
  const end = args.findIndex((a, i) => i > at && a.startsWith('-'));
  return args.slice(at, end === -1 ? undefined : end).join(' ');
}

/**
 * With `--json`, a Ctrl-C (SIGINT) that no command handles itself (`tenants apply`, `doctor`, `tenants list`: they have no
 * listener of their own; a watch, a start waiting for its answer and `dlq redrive` have, and say more) ends the process as
 * Node's default action does, exit 130, but first says so as one JSON line on stderr (json-error.ts interruptionLine, code
 * `command_stopped`): a script reading the last line of stderr found nothing there. It acts only while it is the only
 * SIGINT listener beside those there when it was added, so a command's own listener (and the second Ctrl-C after it, once
 * that listener is gone: the process ends at once, as before) decides.
 * @param command the command run (commandLine), as the line names it
 * @param leaving how many of the SIGINT listeners there now are about to be removed (bin/tessera.mjs's, listenerWhileLoading)
 *   and must not count among those it defers to
 * @returns what removes the listener
 */
function sayInterruptedInJson(command: string | undefined, leaving = 0): () => void {
  const others = process.listenerCount('SIGINT') - leaving;
  const interrupted = () => {
    if (process.listenerCount('SIGINT') > others + 1) return;
    process.stderr.write(interruptionLine(`interrupted (Ctrl-C) before tessera${command ? ` ${command}` : ''} ended; anything it had started goes on`, 'command_stopped', true));
    process.exit(130);
  };
  process.on('SIGINT', interrupted);
  return () => process.off('SIGINT', interrupted);
}

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * `args` without its help flags when they ask for the help of a subcommand the named command group does not have
 * (`tessera tenants upgade --help`): commander answers a group's help flag before it looks at the word after the
 * group, so it printed the group's help and exited 0, never saying that `upgade` is no command of it. Without the
 * flag commander refuses the word in house style (`unknown command 'upgade' (Did you mean upgrade?)`, exit 2).
 * Any other `args` are returned as they are (a known subcommand's help, the group's own help, `help <command>`).
 */
export function withoutHelpOfUnknownSubcommand(program: Command, args: readonly string[]): string[] {
  const name = commandOf(args);
  const group = name === undefined ? undefined : program.commands.find((c) => c.name() === name);
  if (!group?.commands.length || !args.some((a) => HELP_FLAGS.has(a))) return [...args];
  let word: string | undefined;
  for (let i = args.indexOf(name!) + 1; i < args.length && word === undefined; i++) {
    // `tessera tenants --profile ops list --help`: ops is the profile, not a subcommand (the help flag was dropped and list ran).
    if (VALUED_GLOBALS.has(args[i]) || args[i] === PROFILE) i++;
    else if (!args[i].startsWith('-')) word = args[i];
  }
  const known = word === undefined || word === 'help' || group.commands.some((c) => c.name() === word || c.aliases().includes(word!));
  return known ? [...args] : args.filter((a) => !HELP_FLAGS.has(a));
}

/**
 * Each subcommand's help lists the global options it accepts (commander's `showGlobalOptions`;
 * addCommand does not pass help settings on), but not one the subcommand declares itself
 * (`tessera doctor --region`, `--json`, `--debug`; `tessera dev-key --json`): commander lists an
 * ancestor's options whatever the command declares, so each such flag was listed twice, under
 * Options with the command's meaning and under Global Options with the program's. The program
 * parses the flag either way (its options are read after the command name too) and the command
 * reads it with `optsWithGlobals()`, so the command's own line is the one that holds.
 */
function showGlobalOptions(command: Command): void {
  for (const sub of command.commands) {
    sub.configureHelp({
      ...sub.configureHelp(),
      showGlobalOptions: true,
      visibleGlobalOptions(this: Help, cmd: Command) {
        const own = new Set(cmd.options.map((o) => o.long));
        // --version is the program's (tessera --version), not listed under each command.
        return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((o) => !own.has(o.long) && o.long !== '--version');
      },
    });
    showGlobalOptions(sub);
  }
}
