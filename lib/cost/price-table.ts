/**
 * The price table `npm run cost` prices blueprints with: one JSON file per region shipped beside
 * this module (`prices-<region>.json`), public on-demand list prices with the date they were
 * retrieved and the source page of each figure, plus the usage assumptions that turn
 * usage-priced resources (logs, NAT and endpoint traffic, backups) into a monthly figure.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { CliError } from '../cli/cli-error.js';

/**
 * Where a figure comes from: `published` read on its source page (or a dated page quoting it),
 * `list` the AWS list price as known on the retrieved date but not re-read, `derived` computed
 * from other figures as its note says.
 */
export const PriceBasisSchema = z.enum(['published', 'list', 'derived']);

export const PriceEntrySchema = z.strictObject({
  /** USD per `unit`. */
  usd: z.number().min(0),
  unit: z.string().min(1),
  basis: PriceBasisSchema,
  /** The AWS pricing page of the figure. */
  source: z.url(),
  /** A dated page that quotes the same figure. */
  corroboration: z.string().min(1).optional(),
  note: z.string().min(1).optional(),
});

export const AssumptionSchema = z.strictObject({ value: z.number().min(0), unit: z.string().min(1), why: z.string().min(1) });

/** The keys every table must price: the resource kinds `priceTemplate` knows. */
export const PRICE_KEYS = [
  'vpc.interfaceEndpointAzHour', 'vpc.interfaceEndpointGb', 'vpc.gatewayEndpoint', 'vpc.natGatewayHour', 'vpc.natGatewayGb', 'vpc.publicIpv4Hour',
  'eks.clusterHourStandard', 'eks.clusterHourExtended', 'ebs.gp3GbMonth', 'rds.gp3GbMonth', 'rds.backupGbMonth', 'rds.performanceInsights7Days',
  'kms.keyMonth', 'secretsmanager.secretMonth', 'logs.ingestionGb', 'logs.vendedIngestionGb', 'logs.storageGbMonth', 'backup.rdsSnapshotGbMonth',
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

export const ASSUMPTION_KEYS = [
  'natGatewayGbPerMonth', 'interfaceEndpointGbPerMonth', 'flowLogGbPerMonth', 'serviceLogGbPerMonth', 'logStorageMonths',
  'enhancedMonitoringGbPerMonth', 'backupStorageFactor', 'sharedClusterTenants',
] as const;
export type AssumptionKey = (typeof ASSUMPTION_KEYS)[number];

const entries = z.record(z.string().min(1), PriceEntrySchema);

export const PriceTableSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'must be an AWS region name such as us-east-1'),
  currency: z.literal('USD'),
  /** Date the figures were retrieved, YYYY-MM-DD. */
  retrieved: z.iso.date(),
  /** Hours in the month the table's monthly figures use (730 = 8,760 / 12). */
  hoursPerMonth: z.number().positive(),
  note: z.string().optional(),
  prices: z.strictObject(Object.fromEntries(PRICE_KEYS.map((k) => [k, PriceEntrySchema])) as Record<PriceKey, typeof PriceEntrySchema>),
  /** PostgreSQL, Single-AZ, by DB instance class. */
  rdsPostgresInstanceHour: entries,
  /** By engine (`valkey`, `redis`), then node type. */
  elastiCacheNodeHour: z.record(z.string().min(1), entries),
  /** Linux, by instance type. */
  ec2InstanceHour: entries,
  assumptions: z.strictObject(Object.fromEntries(ASSUMPTION_KEYS.map((k) => [k, AssumptionSchema])) as Record<AssumptionKey, typeof AssumptionSchema>),
});
export type PriceTable = z.infer<typeof PriceTableSchema>;
export type PriceEntry = z.infer<typeof PriceEntrySchema>;

const tableUrl = (region: string) => new URL(`./prices-${region}.json`, import.meta.url);

/** Regions with a shipped price table (`lib/cost/prices-<region>.json`). */
export function shippedRegions(): string[] {
  return readdirSync(new URL('./', import.meta.url)).map((f) => /^prices-(.+)\.json$/.exec(f)?.[1]).filter((r): r is string => r !== undefined).sort();
}

/**
 * Parses a price table, naming the key path of the first problems.
 * @throws CliError (exit 2) when the table does not match PriceTableSchema
 */
export function parsePriceTable(value: unknown, name: string): PriceTable {
  const parsed = PriceTableSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new CliError(`price table ${name} is invalid: ${problems}`);
  }
  return parsed.data;
}

/**
 * The shipped price table of `region`.
 * @throws CliError (exit 2) for a region without a shipped table: prices are per region, and
 *   pricing one region's blueprints with another's figures would be silently wrong
 */
export function loadPriceTable(region: string): PriceTable {
  const url = tableUrl(region);
  if (!/^[a-z]{2}-[a-z]+-\d$/.test(region) || !existsSync(url)) {
    throw new CliError(`no price table for region ${JSON.stringify(region)}: prices ship for ${shippedRegions().join(', ')} only (lib/cost/prices-<region>.json); add a table for ${region} with its source and date, or price with --region ${shippedRegions()[0]}`);
  }
  const table = parsePriceTable(JSON.parse(readFileSync(url, 'utf8')), `prices-${region}.json`);
  if (table.region !== region) throw new CliError(`price table prices-${region}.json says region ${table.region}`);
  return table;
}
