/**
 * `npm run preflight [-- --config tessera.config.yaml] [--account 123456789012] [--region us-west-2] [--verbose]`
 *
 * Builds the blueprints of the config offline and prints, per tier: resources, handler permissions
 * evaluated / denied / not exercised, name collisions, service rules passed/failed, service-role SCP
 * denials, the quota table, and what the preflight cannot see. Exits 0 when every tier passes, 1 on
 * any finding, 2 when it cannot run (a bad config, an unknown option, cfn-lint missing from .venv).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { loadBlueprints } from './blueprints.js';
import { formatReport } from './format.js';
import { runPreflight, tierPasses } from './run.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write([
      'npm run preflight [-- options]   offline deploy preflight of the tier blueprints',
      '  --config <file>     YAML or JSON config merged over the embedded default (as cdk synth -c tessera:configFile=…)',
      '  --account <id>      account the tenants are instantiated in (default: the config\'s workloadAccountId)',
      '  --region <name>     region (default: the config\'s homeRegion)',
      '  --verbose           list every denied permission, not the first 40',
      'exit codes: 0 every tier passes, 1 a finding, 2 cannot run',
      '',
    ].join('\n'));
    return 0;
  }
  process.stdout.write(`preflight of ${values.config ? `embedded default + ${values.config}` : 'the embedded default config'}\n`);
  const config = loadConfig({ file: values.config });
  process.stdout.write([
    `organization ${config.organization.organizationId} (management ${config.organization.managementAccountId}), platform account ${config.platformAccountId}`,
    `tenant stacks instantiated in account ${values.account ?? config.workloadAccountId}, region ${values.region ?? config.homeRegion}; allowed regions ${config.allowedRegions.join(', ')}`,
    '',
  ].join('\n'));
  const loaded = loadBlueprints(config);
  const report = await runPreflight(loaded, { account: values.account, region: values.region });
  process.stdout.write(`${formatReport(report, { verbose: values.verbose ?? false })}\n`);
  return report.tiers.every(tierPasses) && report.baselinePresent ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`preflight: ${message}${/Unknown option/.test(message) ? ' (npm run preflight -- --help)' : ''}\n`);
  process.exit(2);
});
