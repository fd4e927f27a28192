import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALLOW_REPLACEMENT_REASON, ALLOW_REPLACEMENT_REASON_RULE, AllowReplacement } from '../../../lib/tenant-record.js';
import { describe, expect, it } from 'vitest';
import { COMMANDS, PROFILE_COMMANDS, commandOf, tesseraProgram } from '../../../lib/cli/program.js';

/** Every command's help, and its subcommands', by command path: what commander answers with. */
function helps(command: Command, path = command.name()): Record<string, string> {
  return Object.assign({ [path]: command.helpInformation() }, ...command.commands.map((sub) => helps(sub, `${path} ${sub.name()}`)));
}

describe('the tessera program loads only the command a run names', () => {
  it('each entry of COMMANDS loads the command of its name, in the help\'s order', async () => {
    const program = await tesseraProgram();
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    for (const { name, load } of COMMANDS) expect((await load()).name()).toBe(name);
  });

  it('the program built for one command answers as the whole program does, for that command and each of its subcommands', async () => {
    const whole = helps(await tesseraProgram());
    for (const { name } of COMMANDS) {
      const only = await tesseraProgram(name);
      expect(only.commands.map((c) => c.name())).toEqual([name]);
      const mine = helps(only.commands[0]!, `tessera ${name}`);
      expect(Object.keys(mine).length).toBeGreaterThan(0);
      for (const [path, text] of Object.entries(mine)) expect(text, path).toBe(whole[path]);
    }
  });

  it('commandOf: the first argument that is not a global option or its value, when it is a command', () => {
    expect(commandOf(['tenants', 'list'])).toBe('tenants');
    expect(commandOf(['--json', 'init', '--yes'])).toBe('init');
    expect(commandOf(['--api-url', 'https://x.example/prod', '--region', 'eu-west-1', 'dlq', 'list'])).toBe('dlq');
    expect(commandOf(['--api-url=https://x.example/prod', 'keys', 'list'])).toBe('keys');
    // --profile before the command (moved after it: withProfileAfterCommand)
    expect(commandOf(['--profile', 'ops', 'tenants', 'list'])).toBe('tenants');
    expect(commandOf(['--profile=ops', '--json', 'roles'])).toBe('roles');
    // the value of --region, then no command: the whole program
    expect(commandOf(['--region', 'serve'])).toBeUndefined();
    // no command, help, an unknown or misspelt one: the whole program (its help lists every command, its suggestions name them)
    expect(commandOf([])).toBeUndefined();
    expect(commandOf(['--help'])).toBeUndefined();
    expect(commandOf(['help', 'tenants'])).toBeUndefined();
    expect(commandOf(['tenant', 'list'])).toBeUndefined();
    // any other option before the command: the program's help (which lists every command) or its refusal
    expect(commandOf(['--help', 'tenants'])).toBeUndefined();
    expect(commandOf(['-h', 'init'])).toBeUndefined();
    expect(commandOf(['--json', '--help', 'serve'])).toBeUndefined();
    expect(commandOf(['--jsn', 'tenants', 'list'])).toBeUndefined();
    // after the command, every option is the command's
    expect(commandOf(['--debug', 'tenants', '--help'])).toBe('tenants');
  });
});

describe('help lists each option once', () => {
  /** The long flags of a help text's option lines (`  -h, --help  ...`, `  --region <region>  ...`), in order. */
  const flagsOf = (help: string) => [...help.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);

  it('every command and subcommand: no flag twice (a command\'s own option hides the global one of the same name)', async () => {
    for (const [path, text] of Object.entries(helps(await tesseraProgram()))) {
      const flags = flagsOf(text);
      expect(flags.filter((f, i) => flags.indexOf(f) !== i), path).toEqual([]);
    }
  });

  it('tessera doctor --help: --region, --json and --debug once each, with doctor\'s meaning; the other globals still listed', async () => {
    const program = await tesseraProgram('doctor');
    const help = program.commands[0]!.helpInformation();
    for (const flag of ['--region', '--json', '--debug']) expect(flagsOf(help).filter((f) => f === flag), flag).toHaveLength(1);
    expect(help).toMatch(/--region <region> +Region to check \(default: the config's/);
    expect(help).not.toContain('the admin API\'s, or for');
    expect(help).toMatch(/Global Options:\n {2}--api-url <url>/);
  });
});

/**
 * Found by a new user (s23): `tessera --help` did not list --profile (each command that calls AWS declares its own, and
 * one given before the command is moved after it), so the program's help never said it exists.
 */
describe('tessera --help lists --profile', () => {
  it('with the program\'s options, naming the commands that take it', async () => {
    const help = (await tesseraProgram()).helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain(`--region <region> AWS region: the admin API's, or for tessera dlq the queues' (default: $AWS_REGION) --profile <profile> AWS profile whose credentials sign the AWS calls, before or after the command (default: $AWS_PROFILE, else the default credential chain); taken by ${PROFILE_COMMANDS.join(', ')} --json`);
  });

  it('PROFILE_COMMANDS: exactly the commands that declare --profile; it is listed, not declared, so a subcommand\'s help has it once', async () => {
    const program = await tesseraProgram();
    expect(program.options.map((o) => o.long)).not.toContain('--profile');
    // on the command itself (tenants, keys, ...) or on its subcommands (dlq list, admins create, ...)
    const takes = (c: Command): boolean => c.options.some((o) => o.long === '--profile') || c.commands.some(takes);
    expect(program.commands.filter(takes).map((c) => c.name()).sort()).toEqual([...PROFILE_COMMANDS].sort());
    expect(program.commands.find((c) => c.name() === 'tenants')!.commands[0]!.helpInformation().match(/--profile </g)).toHaveLength(1);
  });
});

describe('tessera --version', () => {
  it('prints package.json\'s version (the blueprint version cdk deploy publishes) and exits 0, as -V does', async () => {
    const { runTesseraInProcess } = await import('../../integration/support/tessera-cli.js');
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      expect(await runTesseraInProcess('http://127.0.0.1:9', flag)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe('tessera tenants update and upgrade: the help of --tier and --allow-replacement says what the admin API refuses', () => {
  it('names the tenant network and DR region --tier must keep, and the reason\'s length --allow-replacement needs', async () => {
    const program = await tesseraProgram();
    const tenants = program.commands.find((c) => c.name() === 'tenants')!;
    const help = (name: string) => tenants.commands.find((c) => c.name() === name)!.helpInformation().replace(/\s+/g, ' ');
    // --tier: a tier of another tenant network is refused network_change (the help said "same isolation mode" alone)
    expect(help('update')).toContain('--tier <tier> target tier: one of the same isolation mode and tenant network (network.tenantVpcPrefixLength, maxAzs, internetEgress) and, for a tenant with a DR stack, its DR region or no disaster recovery; another is refused (isolation_change, network_change, dr_region_change)');
    // --allow-replacement: a reason under 8 characters is refused, exit 2 (lib/tenant-record.ts allowReplacement); so is one
    // of 8-500 characters with fewer than 8 letters or digits ("........"), which the help did not say
    expect(help('update')).toContain('the reason, 8-500 characters saying why, at least 8 of them letters or digits, is recorded');
    expect(help('upgrade')).toContain('the reason, 8-500 characters saying why, at least 8 of them letters or digits, is recorded; without it such a tenant is refused');
  });

  it('the bounds --allow-replacement\'s help states are the ones the request schema holds a reason to', () => {
    const ok = (reason: string) => AllowReplacement.safeParse({ reason }).success;
    const { minChars, maxChars, minLettersOrDigits } = ALLOW_REPLACEMENT_REASON;
    expect(ALLOW_REPLACEMENT_REASON_RULE).toBe(`${minChars}-${maxChars} characters saying why, at least ${minLettersOrDigits} of them letters or digits`);
    expect([ok('a'.repeat(minChars - 1)), ok('a'.repeat(minChars)), ok('a'.repeat(maxChars)), ok('a'.repeat(maxChars + 1))]).toEqual([false, true, true, false]);
    expect([ok(`${'a'.repeat(minLettersOrDigits - 1)}${'.'.repeat(maxChars - minLettersOrDigits)}`), ok(`${'a'.repeat(minLettersOrDigits)}${'.'.repeat(10)}`)]).toEqual([false, true]);
  });
});
