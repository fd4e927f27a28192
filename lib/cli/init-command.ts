import { Command } from 'commander';
import { CliError } from './cli-error.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { collectAnswers, type InitAnswers, type InitFlags } from './init/collect-answers.js';
import { readOrganization, type OrganizationFacts } from './init/organization-lookup.js';
import { createPrompter, type PromptStreams } from './init/prompt.js';
import { renderConfig } from './init/render-config.js';
import { checkOutput, writeConfigFile } from './init/write-config.js';

/** Options of `tessera init` as commander parses them. */
export interface InitOptions extends InitFlags {
  /** @default './tessera.config.yaml' */
  output: string;
  force?: boolean;
  yes?: boolean;
  fromOrganization?: boolean;
}

/** Where `runInit` reads and writes; the CLI passes process.stdin/stdout. */
export interface InitIo extends PromptStreams {
  /** Ask for missing values (the CLI: stdin is a TTY and no --yes). */
  readonly interactive: boolean;
  /** Reads the organization for --from-organization. @default - readOrganization() with the SDK's default credentials */
  readonly readOrganization?: () => Promise<OrganizationFacts>;
}

/**
 * `tessera init`: resolves the values (flags, --from-organization, prompts when `io.interactive`,
 * defaults), writes the commented config to `options.output`, loads it back through `loadConfig`
 * (the same checks as synth) and prints the path and the next two commands to `io.output`.
 * @returns the values written
 * @throws CliError (exit 2) for a bad or missing value, an existing file without --force, or an
 *   unwritable path; (exit 1) when --from-organization's calls fail or the written file does not load
 */
export async function runInit(options: InitOptions, io: InitIo): Promise<InitAnswers> {
  checkOutput(options.output, Boolean(options.force));
  const organization = options.fromOrganization ? await (io.readOrganization ?? (() => readOrganization()))() : undefined;
  const prompter = io.interactive ? createPrompter(io) : undefined;
  if (prompter) io.output.write('tessera init: answer each question; Enter takes the [default].\n');
  let answers: InitAnswers;
  try {
    answers = await collectAnswers(options, {
      asker: prompter,
      organization,
      noPromptReason: options.yes ? '--yes never prompts' : 'stdin is not a terminal, so nothing is asked',
    });
  } finally {
    prompter?.close();
  }
  writeConfigFile(options.output, renderConfig(answers), Boolean(options.force));
  try {
    loadConfig({ file: options.output });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new CliError(`wrote ${options.output}, but it does not load (a bug of tessera init; please report it): ${e.problems.join('; ')}`, 1);
  }
  const file = shellWord(options.output);
  io.output.write([
    `Wrote ${options.output}`,
    'Next:',
    `  npx tessera doctor --config ${file}`,
    `  npx cdk synth -c tessera:configFile=${file}`,
    '',
  ].join('\n'));
  return answers;
}

/** `word` quoted for a POSIX shell when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w./=:@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `tessera init`: writes a commented tessera.config.yaml from flags or prompts (`--yes` for CI). */
export function initCommand(): Command {
  return new Command('init')
    .description('write a commented tessera.config.yaml from flags or prompts (--yes for CI: flags and defaults only)')
    .option('--output <file>', 'where to write the config', './tessera.config.yaml')
    .option('--force', 'overwrite --output if it exists')
    .option('--yes', 'never prompt: take flags and defaults; a missing required value is an error')
    .option('--from-organization', 'read the organization id, root id and management account id with your AWS credentials (Organizations DescribeOrganization, ListRoots; read-only)')
    .option('--management-account-id <id>', 'the organization\'s management account (12 digits)')
    .option('--organization-id <id>', 'the AWS Organizations id (o-...)')
    .option('--root-id <id>', 'the organization root id (r-...)')
    .option('--platform-account-id <id>', 'the account TesseraPlatform deploys to (12 digits)')
    .option('--workload-account-id <id>', 'the account of VPC-isolated tenants (12 digits)')
    .option('--home-region <region>', 'the region the platform runs in, e.g. us-east-1')
    .option('--allowed-regions <regions>', 'regions tenants may use, comma-separated, including the home region, e.g. us-east-1,us-west-2')
    .option('--availability-zones <region=zones>', 'zones of a region, e.g. us-east-1=us-east-1a,us-east-1b,us-east-1c (repeatable; default <region>a,b,c)', collect)
    .option('--tiers <tiers>', 'default tiers to keep, comma-separated (default starter,professional,enterprise)')
    .option('--base-models-bucket <name>', 'S3 bucket of the base-model weights (default tessera-base-models-<platform account id>)')
    .option('--provider-secret <provider=secret>', 'Secrets Manager secret of a provider\'s API key, e.g. openai=prod/openai (repeatable; default tessera/providers/<provider>)', collect)
    .option('--debug', 'print the stack trace of an error')
    // Commander's own refusals (unknown option, missing value) are usage errors too: exit 2.
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
    .action(async (options: InitOptions & { debug?: boolean }) => {
      try {
        await runInit(options, { input: process.stdin, output: process.stdout, interactive: !options.yes && Boolean(process.stdin.isTTY) });
      } catch (e) {
        fail(e, Boolean(options.debug));
      }
    });
}

/** One line (or a short list) on stderr, no stack trace unless --debug; exit 2 for usage, 1 for runtime errors. */
function fail(e: unknown, debug: boolean): never {
  const known = e instanceof CliError;
  const message = known ? e.message : `${e instanceof Error ? e.message : String(e)}${debug ? '' : ' (--debug prints the stack trace)'}`;
  const lines = message.split('\n');
  process.stderr.write(lines.length > 1 ? `tessera init:\n${lines.map((l) => `  - ${l}`).join('\n')}\n` : `tessera init: ${message}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(known ? e.exitCode : 1);
}
