/**
 * `npm run preflight [-- --config tessera.config.yaml] [--account 123456789012] [--region us-west-2] [--verbose]`
 *
 * Builds the blueprints of the config offline and prints, per tier: resources, handler permissions
 * evaluated / denied / not exercised, name collisions, service rules passed/failed, service-role SCP
 * denials, the quota table, the model catalog's OpenAI shutdown dates (rule `model-shutdown-dates`), and
 * what the preflight cannot see. Exits 0 when every tier passes and no catalog model is past its shutdown
 * date (warnings, a shutdown within 90 days among them, pass), 1 on any failing finding, 2 when it cannot
 * run (a bad config, an unknown option, cfn-lint missing from .venv).
 */
import { parseArgs } from 'node:util';
import { CliError } from '../cli/cli-error.js';
import { reportError } from '../cli/report-error.js';
import { nearest } from '../config/nearest.js';
import { loadConfig } from '../config/load-config.js';
import { parseAsOfDay } from '../config/model-lifecycle.js';

const OPTIONS = {
  config: { type: 'string' },
  account: { type: 'string' },
  region: { type: 'string' },
  'as-of': { type: 'string' },
  verbose: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const HELP = 'npm run preflight -- --help';

/**
 * The command line, refused in house style (exit 2): an unknown option names the nearest known
 * one, an option missing its value says so, a stray argument is named. parseArgs runs lenient
 * (`strict: false`, with tokens) so the refusal is ours, built from the tokens, not from its text.
 * @throws CliError
 */
export function parseCommandLine(args: string[]): { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean } {
  const { values, tokens, positionals } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const known = Object.keys(OPTIONS);
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!(token.name in OPTIONS)) {
      const guess = nearest(token.name, known);
      throw new CliError(`unknown option ${token.rawName}${guess ? `; did you mean --${guess}?` : ''} (${HELP} lists the options)`);
    }
    const option = OPTIONS[token.name as keyof typeof OPTIONS];
    if (option.type === 'string' && (token.value === undefined || token.value.startsWith('--'))) {
      throw new CliError(`${token.rawName} needs a value, e.g. ${token.rawName} ${token.name === 'config' ? 'tessera.config.yaml' : token.name === 'account' ? '123456789012' : token.name === 'as-of' ? '2027-01-14' : 'us-west-2'} (${HELP})`);
    }
    if (option.type === 'boolean' && token.value !== undefined) throw new CliError(`${token.rawName} takes no value (${HELP})`);
  }
  if (positionals.length) {
    throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}: options only (${HELP}); with npm run, put them after -- (npm run preflight -- --config tessera.config.yaml)`);
  }
  return values as never;
}

async function main(): Promise<number> {
  const values = parseCommandLine(process.argv.slice(2));
  debug = Boolean(values.debug);
  if (values.help) {
    process.stdout.write([
      'npm run preflight [-- options]   offline deploy preflight of the tier blueprints',
      '  --config <file>     YAML or JSON config merged over the embedded default (as cdk synth -c tessera:configFile=…)',
      '  --account <id>      account the tenants are instantiated in (default: the config\'s workloadAccountId)',
      '  --region <name>     region (default: the config\'s homeRegion)',
      '  --as-of <day>       judge model shutdown dates as of YYYY-MM-DD (default: today, UTC)',
      '  --verbose           list every denied permission, not the first 40',
      '  --debug             print the stack trace of an error',
      'exit codes: 0 every tier passes (warnings pass), 1 a failing finding, 2 cannot run',
      '',
    ].join('\n'));
    return 0;
  }
  let today: Date | undefined;
  try {
    today = values['as-of'] === undefined ? undefined : parseAsOfDay(values['as-of']);
  } catch (e) {
    throw new CliError(`${(e as Error).message} (${HELP})`);
  }
  const config = loadConfig({ file: values.config }); // a bad config fails before anything is printed
  process.stdout.write(`preflight of ${values.config ? `embedded default + ${values.config}` : 'the embedded default config'}\n`);
  process.stdout.write([
    `organization ${config.organization.organizationId} (management ${config.organization.managementAccountId}), platform account ${config.platformAccountId}`,
    `tenant stacks instantiated in account ${values.account ?? config.workloadAccountId}, region ${values.region ?? config.homeRegion}; allowed regions ${config.allowedRegions.join(', ')}`,
    '',
  ].join('\n'));
  // The blueprints (aws-cdk-lib, cdk-nag) and the IAM simulator are imported only once the command
  // line and the config are good: a refusal or --help costs a Node start and the config's schemas,
  // not theirs (bundled, 0.85 -> 0.1 s of CPU a refusal; through tsx, 2.0 -> 0.6 s).
  const [{ loadBlueprints }, { formatReport }, { runPreflight, preflightPasses }] = await Promise.all([import('./blueprints.js'), import('./format.js'), import('./run.js')]);
  const loaded = loadBlueprints(config);
  const report = await runPreflight(loaded, { account: values.account, region: values.region, today });
  process.stdout.write(`${formatReport(report, { verbose: values.verbose ?? false })}\n`);
  return preflightPasses(report) ? 0 : 1;
}

let debug = process.argv.includes('--debug');
// Errors as the tessera CLI prints them (lib/cli/report-error.ts): one line (or the config's list
// of problems), no stack trace unless --debug; always exit 2 (it cannot run): 1 means a finding.
main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(reportError(err, debug).text.replace(/^error: /, 'preflight: '));
  process.exit(2);
});
