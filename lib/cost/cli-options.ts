/** The command line of `npm run cost` (lib/cost/cli.ts), parsed apart from running it so it can be tested. */
import { parseArgs } from 'node:util';
import { CliError } from '../cli/cli-error.js';
import { nearest } from '../config/nearest.js';
import { ASSUMPTION_KEYS, type AssumptionKey } from './price-table.js';

const OPTIONS = {
  config: { type: 'string' },
  region: { type: 'string' },
  'shared-tenants': { type: 'string' },
  assume: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The largest `--assume` value (and `--shared-tenants`): beyond it, dollar figures lose their cents to floating point. */
const MAX_ASSUMPTION = 1_000_000_000;

export const HELP_TEXT = [
  'npm run cost [-- options]   fixed monthly cost of each tier, GPU node-hours, token prices',
  '  --config <file>          YAML or JSON config merged over the embedded default',
  '  --region <name>          price table to use (default: the config\'s homeRegion); only regions with lib/cost/prices-<region>.json',
  '  --shared-tenants <n>     tenants sharing the shared cluster, whose cost they split evenly, 1 to 1,000,000,000 (default: the table\'s assumption)',
  '  --assume <key>=<value>   replace one of the table\'s assumptions (repeatable), e.g. --assume drBucketDataGb=500',
  `                           keys: ${ASSUMPTION_KEYS.join(', ')}`,
  '  --json                   the report as JSON',
  '  --debug                  print the stack trace of an error',
  'exit codes: 0 report printed, 2 cannot run',
  '',
].join('\n');

export interface CostCommandLine {
  config?: string;
  region?: string;
  sharedTenants?: number;
  /** `--assume key=value` overrides of the table's assumptions. */
  assumptions: Partial<Record<AssumptionKey, number>>;
  json: boolean;
  debug: boolean;
  help: boolean;
}

/**
 * The command line, refused in the preflight's style: an unknown option names the nearest known
 * one, a missing value or a stray argument is named.
 * @throws CliError (exit 2)
 */
export function parseCostCommandLine(args: string[]): CostCommandLine {
  const { values, tokens, positionals } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!(token.name in OPTIONS)) {
      const guess = nearest(token.name, Object.keys(OPTIONS));
      throw new CliError(`unknown option ${token.rawName}${guess ? `; did you mean --${guess}?` : ''} (npm run cost -- --help lists the options)`);
    }
    const option = OPTIONS[token.name as keyof typeof OPTIONS];
    if (option.type === 'string' && (token.value === undefined || token.value.startsWith('--'))) throw new CliError(`${token.rawName} needs a value (npm run cost -- --help)`);
    if (option.type === 'boolean' && token.value !== undefined) throw new CliError(`${token.rawName} takes no value`);
  }
  if (positionals.length) throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}: options only; with npm run, put them after -- (npm run cost -- --json)`);
  const raw = values['shared-tenants'] as string | undefined;
  let sharedTenants: number | undefined;
  if (raw !== undefined) {
    sharedTenants = Number(raw);
    if (!/^\d+$/.test(raw) || sharedTenants < 1) throw new CliError(`--shared-tenants must be a positive integer, got ${JSON.stringify(raw)}`);
    // The bound of --assume sharedClusterTenants, which sets the same count: past 2^53 the count priced is not the one typed.
    if (sharedTenants > MAX_ASSUMPTION) throw new CliError(`--shared-tenants must be at most ${MAX_ASSUMPTION.toLocaleString('en-US')}, got ${raw}`);
  }
  const assumptions: Partial<Record<AssumptionKey, number>> = {};
  for (const raw of (values.assume as string[] | undefined) ?? []) {
    const m = /^([A-Za-z0-9]+)=(.*)$/.exec(raw);
    if (!m) throw new CliError(`--assume takes <key>=<value>, got ${JSON.stringify(raw)} (e.g. --assume drBucketDataGb=500)`);
    const [, key, value] = m as unknown as [string, string, string];
    if (!(ASSUMPTION_KEYS as readonly string[]).includes(key)) {
      const guess = nearest(key, [...ASSUMPTION_KEYS]);
      throw new CliError(`--assume: unknown assumption ${JSON.stringify(key)}${guess ? `; did you mean ${guess}?` : ''} (keys: ${ASSUMPTION_KEYS.join(', ')})`);
    }
    if (!/^\d+(\.\d+)?$/.test(value)) throw new CliError(`--assume ${key} must be a decimal number >= 0 (e.g. 500 or 0.5), got ${JSON.stringify(value)}`);
    if (Number(value) > MAX_ASSUMPTION) throw new CliError(`--assume ${key} must be at most ${MAX_ASSUMPTION.toLocaleString('en-US')}, got ${value}`);
    if (key === 'sharedClusterTenants' && (!Number.isInteger(Number(value)) || Number(value) < 1)) throw new CliError(`--assume sharedClusterTenants must be a positive integer, got ${JSON.stringify(value)}`);
    assumptions[key as AssumptionKey] = Number(value);
  }
  if (sharedTenants !== undefined && assumptions.sharedClusterTenants !== undefined) {
    throw new CliError(`--shared-tenants ${sharedTenants} and --assume sharedClusterTenants=${assumptions.sharedClusterTenants} both set the tenants sharing the cluster: give one`);
  }
  return {
    config: values.config as string | undefined, region: values.region as string | undefined, sharedTenants, assumptions,
    json: Boolean(values.json), debug: Boolean(values.debug), help: Boolean(values.help),
  };
}
