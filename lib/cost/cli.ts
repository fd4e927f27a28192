/**
 * `npm run cost [-- --config tessera.config.yaml] [--region us-east-1] [--shared-tenants 10] [--assume key=value]... [--json]`
 *
 * Builds the tier blueprints of the config in-process (no bundling, no full synth: about a second)
 * and prints, per tier, the fixed cost per month (730 h) line by line, named by resource; the GPU
 * cost per node-hour of each GPU instance type; and the cost per 1M tokens of each catalog model
 * the tier may call; for a DR tier, its DR blueprint at the DR region's figures and the usage-priced DR
 * extras (lib/cost/dr-costs.ts). Prices come from the shipped table of the region (lib/cost/prices-<region>.json);
 * a region without one is refused. Exit 0 on success, 2 when it cannot run (bad option, config or table).
 */
import { reportError } from '../cli/report-error.js';
import { loadConfig } from '../config/load-config.js';
import { HELP_TEXT, parseCostCommandLine } from './cli-options.js';
import { formatCostReport } from './format.js';
import { loadPriceTable, withAssumptions } from './price-table.js';
import { costTiers } from './tier-costs.js';

async function main(): Promise<number> {
  const cl = parseCostCommandLine(process.argv.slice(2));
  if (cl.help) {
    process.stdout.write(HELP_TEXT);
    return 0;
  }
  const config = loadConfig({ file: cl.config });
  const table = withAssumptions(loadPriceTable(cl.region ?? config.homeRegion), cl.assumptions); // an unpriced region fails before the build
  // aws-cdk-lib is loaded only now: a bad option, config or region is refused in a fraction of a second.
  const { loadBlueprints } = await import('../preflight/blueprints.js');
  const loaded = loadBlueprints(config, '0.0.0-cost');
  const report = costTiers(loaded, table, { sharedTenants: cl.sharedTenants });
  process.stdout.write(cl.json ? `${JSON.stringify(report, null, 2)}\n` : formatCostReport(report));
  return 0;
}

const debug = process.argv.includes('--debug');
main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(reportError(err, debug).text.replace(/^error: /, 'cost: '));
  process.exit(2);
});
