import { paginateDescribeReservedCacheNodesOfferings, type ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { paginateDescribeOrderableDBInstanceOptions, type OrderableDBInstanceOption, type RDSClient } from '@aws-sdk/client-rds';
import { TENANT_DB_ENGINE, TENANT_DB_STORAGE_TYPE } from '../../tenant-store-settings.js';
import { describeAwsError, isAccessDenied } from '../aws-errors.js';
import { pages } from '../../aws-pages.js';
import { result } from './results.js';
import { once, tierRegions, tierWhere, type TierRegion } from './tier-regions.js';
import type { CheckResult, DoctorContext } from './types.js';

/** The command that lists the DB instance classes RDS offers the tenant database in `region`. */
export const orderableClassesCommand = (region: string, major: string, multiAz: boolean) =>
  `aws rds describe-orderable-db-instance-options --region ${region} --engine ${TENANT_DB_ENGINE} --vpc --query "OrderableDBInstanceOptions[?starts_with(EngineVersion, '${major}.') && StorageType=='${TENANT_DB_STORAGE_TYPE}'${multiAz ? ' && MultiAZCapable' : ''}].DBInstanceClass" --output text`;

/** The command that lists the node types ElastiCache offers (for Valkey or Redis OSS) in `region`. */
export const cacheNodeTypesCommand = (region: string) =>
  `aws elasticache describe-reserved-cache-nodes-offerings --region ${region} --query "ReservedCacheNodesOfferings[?ProductDescription=='redis' || ProductDescription=='valkey'].CacheNodeType" --output text`;

/** Product descriptions of reserved-node offerings that show a node type runs the tenant cache's engine. */
const CACHE_PRODUCTS = ['valkey', 'redis'];

/**
 * RDS's orderable options for one DB instance class of the tenant database's engine in a VPC
 * (DescribeOrderableDBInstanceOptions: Engine, DBInstanceClass, Vpc true; every page) on the
 * blueprint's storage type, every engine version: one read per Region and class serves every
 * tier's major (ofMajor). The request names no EngineVersion: the tier gives a major version only
 * (CreateDBInstance picks its minor), and the filter takes a whole version.
 */
async function orderable(rds: RDSClient, instanceClass: string): Promise<OrderableDBInstanceOption[]> {
  const out: OrderableDBInstanceOption[] = [];
  for await (const page of paginateDescribeOrderableDBInstanceOptions(pages(rds, 1000), { Engine: TENANT_DB_ENGINE, DBInstanceClass: instanceClass, Vpc: true })) {
    for (const o of page.OrderableDBInstanceOptions ?? []) {
      if (o.DBInstanceClass === instanceClass && o.StorageType === TENANT_DB_STORAGE_TYPE) out.push(o);
    }
  }
  return out;
}

/** The options of PostgreSQL `major` (EngineVersion `<major>.<minor>`): any `<major>.x` offering the class is taken as the offer. */
const ofMajor = (options: readonly OrderableDBInstanceOption[], major: string) => options.filter((o) => o.EngineVersion?.split('.')[0] === major);

/** Engine versions lowest first by number (`17.4` before `17.10`), as `localeCompare` with `numeric` orders digit runs. */
const byVersion = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * The product descriptions of ElastiCache's reserved-node offerings of `nodeType` in the client's
 * Region (DescribeReservedCacheNodesOfferings with CacheNodeType; every page).
 *
 * Why this call: ElastiCache has no "orderable" API (nothing like RDS's
 * DescribeOrderableDBInstanceOptions or EC2's DescribeInstanceTypeOfferings), and its API reference
 * sends the reader to the "Supported node types" page for Region availability, a table that is not
 * an API. The reserved-node offerings are per Region and per node type, and are what AWS CLI users
 * query to see whether a node type exists in a Region. No ProductDescription is sent: the API
 * reference documents no values for that filter, and Redis OSS reservations also cover Valkey nodes
 * (size- and engine-flexible reserved nodes), so an offering for either engine (`redis`,
 * `valkey`) counts. Limit: a node type sold on demand only, without reservations, would read as
 * not offered; the failure's fix names the call to look for yourself.
 */
async function cacheOfferingProducts(elastiCache: ElastiCacheClient, nodeType: string): Promise<Set<string>> {
  const products = new Set<string>();
  for await (const page of paginateDescribeReservedCacheNodesOfferings(pages(elastiCache, 100), { CacheNodeType: nodeType })) {
    for (const o of page.ReservedCacheNodesOfferings ?? []) {
      if (o.CacheNodeType === nodeType && o.ProductDescription) products.add(o.ProductDescription.toLowerCase());
    }
  }
  return products;
}

/** The line of a read that failed: a warning, since doctor cannot tell whether the Region offers the class (not "not offered"). */
function unchecked(id: string, title: string, call: string, e: unknown, key: string, value: string, region: string, command: string): CheckResult {
  return result(id, title, 'warn', `could not check whether ${region} offers ${key} ${value}: ${describeAwsError(call, e)}`, {
    region, fix: `${isAccessDenied(e) ? `grant ${call} (read-only) to your credentials, or` : 'rerun doctor, or'} look yourself: ${command}`,
  });
}

/** Where else the tier could go, for the fix of a failure in a DR Region. */
const orRegion = (t: TierRegion) => (t.role === 'dr' ? `, or another ${t.regionKey}` : '');

/** One tier's database class in one Region. */
async function databaseLine(t: TierRegion, rds: RDSClient, read: ReturnType<typeof once<OrderableDBInstanceOption[]>>): Promise<CheckResult> {
  const { instanceClass, engineMajorVersion: major, multiAz } = t.config.database;
  const key = `tiers.${t.tier}.database.instanceClass`;
  const id = `instance-offer:database:${t.tier}:${t.region}`;
  const title = `RDS ${instanceClass} ${tierWhere(t)}`;
  const where = { region: t.region };
  const command = orderableClassesCommand(t.region, major, multiAz);
  let options: OrderableDBInstanceOption[];
  try {
    options = ofMajor(await read(`${t.region}|${instanceClass}`, () => orderable(rds, instanceClass)), major);
  } catch (e) {
    return unchecked(id, title, 'rds:DescribeOrderableDBInstanceOptions', e, key, instanceClass, t.region, command);
  }
  const what = `PostgreSQL ${major} on ${TENANT_DB_STORAGE_TYPE} storage in a VPC`;
  if (options.length === 0) {
    return result(id, title, 'fail', `${key} ${instanceClass}: RDS offers no ${instanceClass} for ${what} in ${t.region} (DescribeOrderableDBInstanceOptions), so CreateDBInstance would refuse the ${t.role === 'dr' ? 'failover blueprint\'s' : 'first tenant\'s'} database`, {
      ...where, fix: `set ${key} to a class RDS offers in ${t.region}${orRegion(t)}; the classes offered: ${command}`,
    });
  }
  const versions = [...new Set(options.map((o) => o.EngineVersion!))].sort(byVersion);
  const shown = `${versions.length} version(s) ${versions[0]}${versions.length > 1 ? ` to ${versions.at(-1)}` : ''}`;
  if (multiAz && !options.some((o) => o.MultiAZCapable)) {
    return result(id, title, 'fail', `${key} ${instanceClass}: offered in ${t.region} for ${what} (${shown}) but not Multi-AZ (MultiAZCapable false), and tiers.${t.tier}.database.multiAz is true`, {
      ...where, fix: `set ${key} to a Multi-AZ class RDS offers in ${t.region}${orRegion(t)}, or tiers.${t.tier}.database.multiAz to false; the classes offered: ${command}`,
    });
  }
  return result(id, title, 'pass', `offered for ${what} (${shown})${multiAz ? ', Multi-AZ capable' : ''}`, where);
}

/** One tier's cache node type in one Region. */
async function cacheLine(t: TierRegion, elastiCache: ElastiCacheClient, read: ReturnType<typeof once<Set<string>>>): Promise<CheckResult> {
  const { nodeType } = t.config.cache;
  const key = `tiers.${t.tier}.cache.nodeType`;
  const id = `instance-offer:cache:${t.tier}:${t.region}`;
  const title = `ElastiCache ${nodeType} ${tierWhere(t)}`;
  const where = { region: t.region };
  const command = cacheNodeTypesCommand(t.region);
  let products: Set<string>;
  try {
    products = await read(`${t.region}|${nodeType}`, () => cacheOfferingProducts(elastiCache, nodeType));
  } catch (e) {
    return unchecked(id, title, 'elasticache:DescribeReservedCacheNodesOfferings', e, key, nodeType, t.region, command);
  }
  const engines = CACHE_PRODUCTS.filter((p) => products.has(p));
  if (engines.length === 0) {
    const others = products.size ? ` (only for ${[...products].sort().join(', ')})` : '';
    return result(id, title, 'fail', `${key} ${nodeType}: ElastiCache lists no reserved-node offering of ${nodeType} for Valkey or Redis OSS in ${t.region}${others}, so the node type is not offered there and CreateReplicationGroup would refuse the ${t.role === 'dr' ? 'failover blueprint\'s' : 'first tenant\'s'} cache`, {
      ...where, fix: `set ${key} to a node type ElastiCache offers in ${t.region}${orRegion(t)}; the node types offered: ${command}`,
    });
  }
  return result(id, title, 'pass', `offered (reserved-node offerings for ${engines.join(', ')})`, where);
}

/**
 * Each tier's RDS DB instance class and ElastiCache node type against what AWS offers in every
 * Region the tier's blueprints create them in (tierRegions: the home Region, and the DR Region of a
 * tier with disaster recovery). The config accepts classes from a global catalog
 * (lib/config/instance-catalog.ts), but not every family is in every Region (`db.r7g` is not in
 * eu-west-3, `cache.m7g` not in ca-west-1): synth passes, and the first onboarding fails in
 * CloudFormation. A failed read is a warning (doctor cannot tell), never "not offered".
 * Calls (your credentials, each Region): rds:DescribeOrderableDBInstanceOptions,
 * elasticache:DescribeReservedCacheNodesOfferings. Region offers are the same for every account.
 */
export async function storeOfferChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const readDb = once<OrderableDBInstanceOption[]>();
  const readCache = once<Set<string>>();
  const lines = tierRegions(ctx.config, ctx.region).map(async (t) => {
    const clients = ctx.callerIn(t.region);
    return [await databaseLine(t, clients.rds, readDb), await cacheLine(t, clients.elastiCache, readCache)];
  });
  return (await Promise.all(lines)).flat();
}
