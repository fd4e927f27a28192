import { Command } from 'commander';
import { ConfigError, loadConfigReport, type LoadedConfig } from '../config/load-config.js';
import { parseAsOfDay } from '../config/model-lifecycle.js';
import { awsClientFactory, type ClientFactory } from './doctor/clients.js';
import { exitCodeOf, formatJson, formatReport } from './doctor/format.js';
import { DoctorStopped, result, stoppedReport } from './doctor/results.js';
import { runDoctor } from './doctor/runner.js';

interface DoctorFlags {
  config?: string; profile?: string; region?: string; accountProfile: string[]; identityCenterRegion?: string; asOf?: string; json?: boolean; debug?: boolean;
}

/** `--account-profile 555555555555=platform-ro` → { '555555555555': 'platform-ro' }. @throws CliError (exit 2) naming the bad value */
export function parseAccountProfiles(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^(\d{12})=(.+)$/.exec(v);
    if (!m) {
      throw new DoctorStopped(result('account-profile', '--account-profile', 'fail', `--account-profile ${v}: expected <12-digit account id>=<profile name>`, {
        fix: 'e.g. --account-profile 555555555555=platform-readonly',
      }), 2, `--account-profile ${v}: expected <12-digit account id>=<profile name>, e.g. --account-profile 555555555555=platform-readonly`);
    }
    out[m[1]] = m[2];
  }
  return out;
}

/** `--as-of 2027-01-14` → that day (midnight UTC). @throws DoctorStopped (exit 2) naming the bad value */
function asOfDay(value: string): Date {
  try {
    return parseAsOfDay(value);
  } catch (e) {
    throw new DoctorStopped(result('as-of', '--as-of', 'fail', (e as Error).message, { fix: 'e.g. --as-of 2027-01-14' }), 2, (e as Error).message);
  }
}

/**
 * The config as synth loads it (lib/config loadConfigReport), with the embedded default's
 * placeholders still in force: synth refuses a file that keeps any (`refusePlaceholders`), so
 * doctor reports them on its config line instead of a pass.
 * @throws CliError (exit 2) for an invalid config
 */
export function readDoctorConfig(file: string | undefined): LoadedConfig {
  try {
    return loadConfigReport({ file });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new DoctorStopped(result('config', 'Config', 'fail', `Invalid Tessera config (${e.source}): ${e.problems.join('; ')}`, { fix: `fix ${file ?? 'the config'}` }), 2, `${e.message}\n  fix the config file named above`);
    }
    throw e;
  }
}

/**
 * Runs doctor and prints the report; returns the exit code (0 all pass, 1 any fail).
 * With `--json` every outcome prints one report on stdout: when doctor stops (the errors below), a
 * report of the one failing line naming the cause, before the error goes on to stderr and its exit code.
 * @throws CliError for usage/config errors (2) and unusable credentials or endpoint (1)
 */
export async function doctor(flags: DoctorFlags, out: (text: string) => void = (t) => process.stdout.write(`${t}\n`), factory: ClientFactory = awsClientFactory()): Promise<0 | 1> {
  try {
    return await runAndPrint(flags, out, factory);
  } catch (e) {
    if (flags.json) out(formatJson(stoppedReport(e)));
    // The offline checks' lines (model shutdowns: no AWS needed) are printed though the AWS checks could not run; the stop's one line goes to stderr.
    else if (e instanceof DoctorStopped && e.offline.length) out(formatReport(stoppedReport(e)));
    throw e;
  }
}

async function runAndPrint(flags: DoctorFlags, out: (text: string) => void, factory: ClientFactory): Promise<0 | 1> {
  const accountProfiles = parseAccountProfiles(flags.accountProfile);
  const today = flags.asOf === undefined ? undefined : asOfDay(flags.asOf);
  const { config, placeholders } = readDoctorConfig(flags.config);
  const report = await runDoctor({
    config, configFile: flags.config, placeholders, region: flags.region, profile: flags.profile, accountProfiles, identityCenterRegion: flags.identityCenterRegion, today, factory,
  });
  out(flags.json ? formatJson(report) : formatReport(report));
  return exitCodeOf(report);
}

/** `tessera doctor`: read-only checks of every deploy prerequisite, one line each with the fix. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check the deploy prerequisites with read-only AWS calls (run it with credentials of the management account): one ✓/✗ line per prerequisite, with the fix; exit 1 when any fails')
    .option('--config <file>', 'platform config file (default: the embedded default, whose placeholder ids cannot pass)')
    .option('--profile <name>', 'AWS profile of the management account (default: the default credential chain)')
    .option('--region <region>', 'Region to check (default: the config\'s homeRegion)')
    .option('--account-profile <account=profile>', 'read this account with a named profile instead of its CDK lookup role (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--identity-center-region <region>', 'Region of the IAM Identity Center instance (default: --region)')
    .option('--as-of <day>', 'judge date-based checks (OpenAI model shutdowns) as of YYYY-MM-DD (default: today, UTC)')
    .option('--json', 'print { checks, summary } as JSON')
    .option('--debug', 'print the stack trace of an unexpected error')
    .action(async (_o, command: Command) => {
      // Errors go to runTesseraProgram's reportError, as every command's: `error: <message>`, its exit code.
      process.exitCode = await doctor(command.optsWithGlobals<DoctorFlags>());
    });
}
