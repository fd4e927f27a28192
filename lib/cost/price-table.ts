/**
 * The price table `npm run cost` prices blueprints with: one JSON file per region shipped beside
 * this module (`prices-<region>.json`), public on-demand list prices with the date they were
 * retrieved and the source page of each figure, plus the usage assumptions that turn
 * usage-priced resources (logs, NAT and endpoint traffic, backups) into a monthly figure. Usage-priced
 * stores a quiet tenant leaves empty (the S3 Vectors bucket) are priced at quantity 0, each term named.
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
  // Disaster recovery (lib/cost/dr-costs.ts): S3 replication, Backup copies, restore tests.
  's3.standardGbMonth', 's3.putRequest1k', 's3.interRegionTransferGb', 's3.replicationTimeControlGb', 'cloudwatch.customMetricMonth',
  'backup.crossRegionTransferGb', 'backup.restoreTestJob', 'cloudwatch.alarmMonth',
  // Amazon S3 Vectors (the tenant's vector bucket): usage-priced, $0 while empty; the lines name each term.
  's3vectors.storageGbMonth', 's3vectors.putGb', 's3vectors.queryRequests1M', 's3vectors.queryTbProcessed',
  // Amazon ECR (a dedicated cluster's Cluster Autoscaler image cache): storage of the images held.
  'ecr.storageGbMonth',
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

export const ASSUMPTION_KEYS = [
  'natGatewayGbPerMonth', 'interfaceEndpointGbPerMonth', 'flowLogGbPerMonth', 'serviceLogGbPerMonth', 'logStorageMonths',
  'enhancedMonitoringGbPerMonth', 'backupStorageFactor', 'sharedClusterTenants',
  // Disaster recovery (lib/cost/dr-costs.ts).
  'drBucketDataGb', 'drBucketChangeGbPerMonth', 'drBucketObjectsPerMonth', 'databaseChangeGbPerMonth', 'restoreTestRestoreHours',
  // A dedicated cluster's image cache (constructs/cluster-autoscaler.ts).
  'imageCacheGbPerRepository',
] as const;
export type AssumptionKey = (typeof ASSUMPTION_KEYS)[number];

const entries = z.record(z.string().min(1), PriceEntrySchema);
const REGION_NAME = /^[a-z]{2}-[a-z]+-\d$/;

/**
 * Another region's figures (a DR region's), kept in the home region's table: one table, and where a
 * region's price differs it says so. A DR blueprint and the storage DR fills in the DR region are
 * priced with these (`pricesInRegion`).
 */
export const RegionPricesSchema = z.strictObject({
  /** The region's name on the pricing pages, e.g. `US West (Oregon)`. */
  name: z.string().min(1),
  /** Date the comparison was made, YYYY-MM-DD. */
  retrieved: z.iso.date(),
  /** Basis of the claim that the `sameAsTable` figures are equal in this region. */
  basis: PriceBasisSchema,
  /** Keys whose figure in this region is the table's. */
  sameAsTable: z.array(z.enum(PRICE_KEYS)),
  /** Keys whose figure differs in this region, with the region's figure. */
  prices: z.partialRecord(z.enum(PRICE_KEYS), PriceEntrySchema),
  note: z.string().min(1).optional(),
});
export type RegionPrices = z.infer<typeof RegionPricesSchema>;

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
  /** Other regions' figures, by region name (DR regions). @default - none: every other region is priced with the table's figures, flagged not checked */
  regions: z.record(z.string().regex(REGION_NAME, 'must be an AWS region name such as us-west-2'), RegionPricesSchema).optional(),
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

/** A price entry as a pricer sees it: `regionNote` says whose figure it is when it prices another region than the table's. */
export type RegionalPriceEntry = PriceEntry & { readonly regionNote?: string };

/** How the figures used for a region relate to the table's. */
export interface RegionPriceCheck {
  readonly region: string;
  /**
   * `home`: the table's own region. `compared`: the table's `regions` block covers the region (its
   * `sameAsTable` keys are equal, its `prices` differ). `not compared`: no block, every figure is the
   * table's and each line says so.
   */
  readonly status: 'home' | 'compared' | 'not compared';
  /** Keys whose figure is the table's, checked equal in the region. */
  readonly same: PriceKey[];
  /** Keys whose figure differs in the region (the region's figure is used). */
  readonly differs: PriceKey[];
  /** When the comparison was made. */
  readonly retrieved?: string;
  readonly basis?: PriceEntry['basis'];
}

/**
 * The table as it prices resources in `region`: the table itself for its own region; otherwise the
 * `regions.<region>` figures where they differ, the table's where they are checked equal, and the
 * table's, flagged `not checked`, for any other key (and every instance, node and cache type).
 * Every entry carries a `regionNote` for the report.
 */
export function pricesInRegion(table: PriceTable, region: string): { table: PriceTable; check: RegionPriceCheck } {
  if (region === table.region) return { table, check: { region, status: 'home', same: [], differs: [] } };
  const block = table.regions?.[region];
  const unchecked = (e: PriceEntry): RegionalPriceEntry => ({ ...e, regionNote: `${table.region} figure, not checked for ${region}` });
  const prices = Object.fromEntries(PRICE_KEYS.map((k): [PriceKey, RegionalPriceEntry] => {
    const differs = block?.prices[k];
    if (differs) return [k, { ...differs, regionNote: `${region} figure` }];
    if (block?.sameAsTable.includes(k)) return [k, { ...table.prices[k], regionNote: `${region} = ${table.region} (${block.basis}, ${block.retrieved})` }];
    return [k, unchecked(table.prices[k])];
  })) as PriceTable['prices'];
  const group = (g: Record<string, PriceEntry>) => Object.fromEntries(Object.entries(g).map(([k, e]) => [k, unchecked(e)]));
  return {
    table: {
      ...table,
      region,
      prices,
      rdsPostgresInstanceHour: group(table.rdsPostgresInstanceHour),
      ec2InstanceHour: group(table.ec2InstanceHour),
      elastiCacheNodeHour: Object.fromEntries(Object.entries(table.elastiCacheNodeHour).map(([engine, g]) => [engine, group(g)])),
    },
    check: block
      ? { region, status: 'compared', same: [...block.sameAsTable], differs: PRICE_KEYS.filter((k) => block.prices[k]), retrieved: block.retrieved, basis: block.basis }
      : { region, status: 'not compared', same: [], differs: [] },
  };
}

/**
 * The table with some assumptions replaced (`npm run cost -- --assume key=value`); each replaced
 * assumption's `why` says it was given on the command line.
 * @throws CliError for a negative or non-finite value
 */
export function withAssumptions(table: PriceTable, overrides: Partial<Record<AssumptionKey, number>>): PriceTable {
  const assumptions = { ...table.assumptions };
  for (const [key, value] of Object.entries(overrides) as Array<[AssumptionKey, number]>) {
    if (!Number.isFinite(value) || value < 0) throw new CliError(`--assume ${key} must be a number >= 0, got ${value}`);
    assumptions[key] = { ...assumptions[key], value, why: `given with --assume (table: ${table.assumptions[key].value}); ${table.assumptions[key].why}` };
  }
  return { ...table, assumptions };
}
