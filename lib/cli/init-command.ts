import { Command } from 'commander';
import { CliError } from './cli-error.js';
import { ConfigError, loadConfigReport } from '../config/load-config.js';
import { collectAnswers, type InitAnswers, type InitFlags } from './init/collect-answers.js';
import type { OrganizationFacts } from './init/organization-lookup.js';
import { createPrompter, type PromptStreams } from './init/prompt.js';
import { gpuInstanceTypesFor, type GpuTypeChange, type InstanceTypeOffered } from './init/gpu-instance-types.js';
import { renderConfig } from './init/render-config.js';
import { DEFAULT_CONFIG } from '../config/default-config.js';
import { regionOfferings } from '../preflight/region-offerings.js';
import { checkOutput, writeConfigFile } from './init/write-config.js';

/** Options of `tessera init` as commander parses them. */
export interface InitOptions extends InitFlags {
  /** @default './tessera.config.yaml' */
  output: string;
  force?: boolean;
  yes?: boolean;
  fromOrganization?: boolean;
  /** The AWS profile of --from-organization's calls. @default - the SDK's default credential chain */
  profile?: string;
}

/** Where `runInit` reads and writes; the CLI passes process.stdin/stdout. */
export interface InitIo extends PromptStreams {
  /** Ask for missing values (the CLI: stdin is a TTY and no --yes). */
  readonly interactive: boolean;
  /** Reads the organization for --from-organization. @default - readOrganization() with the credentials of `--profile`, else the SDK's default chain */
  readonly readOrganization?: () => Promise<OrganizationFacts>;
  /** Whether EC2 offers an instance type in a Region. @default - the preflight's cfn-lint Region data (regionOfferings) */
  readonly instanceTypeOffered?: InstanceTypeOffered;
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
  // Organizations' SDK client is imported only for --from-organization: the other runs never call it.
  const organization = options.fromOrganization
    ? await (io.readOrganization ?? (async () => {
      const { organizationsClient, readOrganization } = await import('./init/organization-lookup.js');
      return readOrganization(organizationsClient(options.profile));
    }))()
    : undefined;
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
  const gpuTypes = gpuTypesOf(answers, io);
  writeConfigFile(options.output, renderConfig(answers, gpuTypes), Boolean(options.force));
  try {
    // As the CDK app loads a config file: placeholders of the embedded default refused.
    loadConfigReport({ file: options.output }, { refusePlaceholders: true });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new CliError(`wrote ${options.output}, but it does not load (a bug of tessera init; please report it): ${e.problems.join('; ')}`, 1);
  }
  const file = shellWord(options.output);
  io.output.write([
    `Wrote ${options.output}`,
    // The default's GPU types the home region does not sell, replaced (the preflight's offered-in-region rule would fail them).
    ...gpuTypes.map((change) => `  ${change.key}: [${change.to.join(', ')}] (${answers.homeRegion} does not offer ${change.from.filter((t) => !change.to.includes(t)).join(', ')} of the default's [${change.from.join(', ')}])`),
    'Next:',
    `  npx tessera doctor --config ${file}`,
    `  npx cdk synth -c tessera:configFile=${file}`,
    // Offline, what synth cannot see: whether homeRegion sells each instance type (init chose the GPU types from the same
    // Region data; the database, cache and system node types are the default's), and how many tenants fit the accounts' quotas.
    `  npm run preflight -- --config ${file}`,
    '',
  ].join('\n'));
  return answers;
}

/**
 * The GPU instance type lists to write for the home region (gpuInstanceTypesFor over `io.instanceTypeOffered`, by
 * default the preflight's cfn-lint Region data). Without cfn-lint (not installed) the default's lists are written
 * unchanged, and a line says that the preflight checks them.
 * @throws CliError (exit 2) when the home region offers no GPU type a node group of the config needs
 */
function gpuTypesOf(answers: InitAnswers, io: InitIo): GpuTypeChange[] {
  const offered = io.instanceTypeOffered ?? ((region: string, type: string) => regionOfferings().ec2InstanceTypeOffered(region, type));
  try {
    // Read once here, so that a missing cfn-lint (regionOfferings throws) writes the default's lists rather than failing init.
    offered(answers.homeRegion, DEFAULT_CONFIG.sharedCluster.gpu.instanceTypes[0]);
  } catch (e) {
    io.output.write(`GPU instance types not checked for ${answers.homeRegion} (${(e as Error).message}): npm run preflight checks them\n`);
    return [];
  }
  return gpuInstanceTypesFor(answers.homeRegion, answers.tiers, offered);
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
    .option('--profile <profile>', 'AWS profile of --from-organization\'s calls (default: $AWS_PROFILE, else the default credential chain); init makes no other AWS call')
    .option('--management-account-id <id>', 'the organization\'s management account (12 digits)')
    .option('--organization-id <id>', 'the AWS Organizations id (o-...)')
    .option('--root-id <id>', 'the organization root id (r-...)')
    .option('--platform-account-id <id>', 'the account TesseraPlatform deploys to (12 digits)')
    .option('--workload-account-id <id>', 'the account of VPC-isolated tenants (12 digits)')
    .option('--home-region <region>', 'the region the platform runs in, e.g. us-east-1')
    .option('--allowed-regions <regions>', 'regions tenants may use, comma-separated, including the home region, e.g. us-east-1,us-west-2')
    .option('--availability-zones <region=zones>', 'zones of a region, e.g. us-east-1=us-east-1a,us-east-1b,us-east-1c (repeatable; default: none pinned, the platform VPC takes the first zones Fn::GetAZs returns at deploy time)', collect)
    .option('--tiers <tiers>', 'default tiers to keep, comma-separated (default starter,professional,enterprise)')
    .option('--account-email <template>', 'root email of each account tenant\'s AWS account, an address of your platform team\'s with {tenantId}, e.g. aws+tessera-{tenantId}@platform.acme.com (required while an account-isolation tier is kept: enterprise)')
    .option('--base-models-bucket <name>', 'S3 bucket of the base-model weights (default tessera-base-models-<platform account id>)')
    .option('--provider-secret <provider=secret>', 'Secrets Manager secret of a provider\'s API key, e.g. openai=tessera/providers/openai-prod (repeatable; default tessera/providers/<provider>)', collect)
    // Errors go to bin/tessera-cli.ts's one handler (lib/cli/report-error.ts): a CliError is one line
    // (or a short list) with its exit code, no stack trace unless --debug.
    .action(async (options: InitOptions) => {
      await runInit(options, { input: process.stdin, output: process.stdout, interactive: !options.yes && Boolean(process.stdin.isTTY) });
    });
}
