import { DescribeReservedCacheNodesOfferingsCommand, ElastiCacheClient, type ReservedCacheNodesOffering, ElastiCacheServiceException } from '@aws-sdk/client-elasticache';
import { DescribeOrderableDBInstanceOptionsCommand, RDSClient, type OrderableDBInstanceOption, RDSServiceException } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsClientFactory } from '../../../lib/cli/doctor/clients.js';
import { runDoctor } from '../../../lib/cli/doctor/runner.js';
import { storeOfferChecks } from '../../../lib/cli/doctor/store-offer-checks.js';
import { awsError, MANAGEMENT, testConfig, testContext } from './support.js';

const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const cache = mockStrict(ElastiCacheClient, 'elasticache', ElastiCacheServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);

/** An OrderableDBInstanceOption as the RDS API reference shapes it. */
const option = (DBInstanceClass: string, EngineVersion: string, extra: Partial<OrderableDBInstanceOption> = {}): OrderableDBInstanceOption => ({
  Engine: 'postgres', EngineVersion, DBInstanceClass, LicenseModel: 'postgresql-license', AvailabilityZones: [{ Name: 'x' }],
  MultiAZCapable: true, ReadReplicaCapable: true, Vpc: true, SupportsStorageEncryption: true, StorageType: 'gp3', SupportsIops: true,
  SupportsIAMDatabaseAuthentication: true, SupportsPerformanceInsights: true, ...extra,
});
/** A ReservedCacheNodesOffering as the ElastiCache API reference shapes it. */
const offering = (CacheNodeType: string, ProductDescription = 'redis'): ReservedCacheNodesOffering => ({
  ReservedCacheNodesOfferingId: '438012d3-4052-4cc7-b2e3-8d3372e0e706', CacheNodeType, Duration: 31536000, FixedPrice: 0, UsagePrice: 0,
  ProductDescription, OfferingType: 'No Upfront', RecurringCharges: [{ RecurringChargeAmount: 0.1, RecurringChargeFrequency: 'Hourly' }],
});

/** What each Region offers, by class (RDS) and node type (ElastiCache). */
type Offer = Record<string, { db: OrderableDBInstanceOption[]; cache: ReservedCacheNodesOffering[] }>;
/** The answers AWS would give in each Region, read from the calling client's Region. */
function answer(offer: Offer) {
  const regionOf = async (getClient: () => unknown) => (getClient() as { config: { region: () => Promise<string> } }).config.region();
  rds.on(DescribeOrderableDBInstanceOptionsCommand).callsFake(async (input: { DBInstanceClass: string }, getClient: () => unknown) =>
    ({ OrderableDBInstanceOptions: (offer[await regionOf(getClient)]?.db ?? []).filter((o) => o.DBInstanceClass === input.DBInstanceClass) }));
  cache.on(DescribeReservedCacheNodesOfferingsCommand).callsFake(async (input: { CacheNodeType: string }, getClient: () => unknown) =>
    ({ ReservedCacheNodesOfferings: (offer[await regionOf(getClient)]?.cache ?? []).filter((o) => o.CacheNodeType === input.CacheNodeType) }));
}

/** Every default tier's class and node type, PostgreSQL 17. */
const EVERYTHING = {
  db: ['db.t4g.medium', 'db.m7g.large', 'db.r7g.xlarge'].flatMap((c) => [option(c, '17.4'), option(c, '17.5')]),
  cache: ['cache.t4g.small', 'cache.m7g.large', 'cache.r7g.large'].flatMap((t) => [offering(t, 'redis'), offering(t, 'valkey')]),
};

/** A config at home in `region` (fine-tuning images from its registry, as the config requires). */
function homeIn(region: string, extra: Record<string, unknown> = {}) {
  const base = testConfig();
  return testConfig({
    homeRegion: region, allowedRegions: [region, 'us-west-2'],
    fineTuning: { baseModels: base.fineTuning.baseModels.map((m) => ({ ...m, trainingImage: m.trainingImage.replace('us-east-1', region), servingImage: m.servingImage.replace('us-east-1', region) })) },
    ...extra,
  });
}

beforeEach(() => {
  rds.reset();
  cache.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: MANAGEMENT, Arn: `arn:aws:sts::${MANAGEMENT}:assumed-role/Admin/eng` });
});

describe('doctor: the Region offers each tier\'s RDS class and ElastiCache node type', () => {
  it('fails the classes ca-west-1 does not offer, naming the key, the value, the Region and the command (homeRegion ca-west-1)', async () => {
    // ca-west-1 (cfn-lint's pricing data): no db.t4g / db.m7g for this test, no cache.m7g
    answer({ 'ca-west-1': {
      db: [option('db.r7g.xlarge', '17.4')],
      cache: [offering('cache.t4g.small'), offering('cache.r7g.large', 'valkey'), offering('cache.m7g.large', 'memcached')],
    } });
    // ca-west-1 is an opt-in region, which the config refuses as the home of an account-isolation tier (the accounts the
    // onboarding creates have it disabled): enterprise isolates by VPC here, on shared compute, its database and cache unchanged
    // (its pool moved off 10.96.0.0/12, which holds 10.100.0.0/16, one of EKS's default Service blocks for the shared cluster).
    const vpcEnterprise = { tiers: { enterprise: { isolation: 'vpc', network: { tenantCidrPool: '10.112.0.0/12' }, compute: { mode: 'shared', kubernetesVersion: null, systemNodes: null, gpu: null, quota: { cpu: 64, memoryGiB: 256, gpus: 4, pods: 400 } } } } };
    const report = await runDoctor({ config: homeIn('ca-west-1', vpcEnterprise), configFile: 'acme.yaml', factory: awsClientFactory({ maxAttempts: 1 }), groups: [{ name: 'store-offers', run: storeOfferChecks }] });
    const lines = report.checks.slice(2);
    expect(lines.map((l) => [l.id, l.status, l.region])).toEqual([
      ['instance-offer:database:starter:ca-west-1', 'fail', 'ca-west-1'], ['instance-offer:cache:starter:ca-west-1', 'pass', 'ca-west-1'],
      ['instance-offer:database:professional:ca-west-1', 'fail', 'ca-west-1'], ['instance-offer:cache:professional:ca-west-1', 'fail', 'ca-west-1'],
      ['instance-offer:database:enterprise:ca-west-1', 'pass', 'ca-west-1'], ['instance-offer:cache:enterprise:ca-west-1', 'pass', 'ca-west-1'],
    ]);
    expect(lines[0].detail).toBe('tiers.starter.database.instanceClass db.t4g.medium: RDS offers no db.t4g.medium for PostgreSQL 17 on gp3 storage in a VPC in ca-west-1 (DescribeOrderableDBInstanceOptions), so CreateDBInstance would refuse the first tenant\'s database');
    expect(lines[0].fix).toBe('set tiers.starter.database.instanceClass to a class RDS offers in ca-west-1; the classes offered: aws rds describe-orderable-db-instance-options --region ca-west-1 --engine postgres --vpc --query "OrderableDBInstanceOptions[?starts_with(EngineVersion, \'17.\') && StorageType==\'gp3\'].DBInstanceClass" --output text');
    expect(lines[2].fix).toContain('&& MultiAZCapable].DBInstanceClass'); // professional is Multi-AZ
    expect(lines[3].detail).toBe('tiers.professional.cache.nodeType cache.m7g.large: ElastiCache lists no reserved-node offering of cache.m7g.large for Valkey or Redis OSS in ca-west-1 (only for memcached), so the node type is not offered there and CreateReplicationGroup would refuse the first tenant\'s cache');
    expect(lines[3].fix).toBe('set tiers.professional.cache.nodeType to a node type ElastiCache offers in ca-west-1; the node types offered: aws elasticache describe-reserved-cache-nodes-offerings --region ca-west-1 --query "ReservedCacheNodesOfferings[?ProductDescription==\'redis\' || ProductDescription==\'valkey\'].CacheNodeType" --output text');
    expect(lines[4].detail).toBe('offered for PostgreSQL 17 on gp3 storage in a VPC (1 version(s) 17.4), Multi-AZ capable');
    expect(lines[5].detail).toBe('offered (reserved-node offerings for valkey)');
    expect(report.summary).toEqual({ pass: 5, fail: 3, warn: 0 });
    // the request: the class, postgres, in a VPC (no EngineVersion: the tier names a major version only)
    expect(rds.commandCalls(DescribeOrderableDBInstanceOptionsCommand).map((c) => c.args[0].input)).toContainEqual({ Engine: 'postgres', DBInstanceClass: 'db.t4g.medium', Vpc: true, MaxRecords: 1000 });
    expect(cache.commandCalls(DescribeReservedCacheNodesOfferingsCommand).map((c) => c.args[0].input)).toContainEqual({ CacheNodeType: 'cache.m7g.large', MaxRecords: 100 });
  });

  it('passes what the Region offers, reading every page, and each class once', async () => {
    rds.on(DescribeOrderableDBInstanceOptionsCommand).callsFake((input: { DBInstanceClass: string; Marker?: string }) => (input.Marker
      ? { OrderableDBInstanceOptions: [option(input.DBInstanceClass, '17.5')] }
      : { OrderableDBInstanceOptions: [option(input.DBInstanceClass, '16.8')], Marker: 'page-2' }));
    cache.on(DescribeReservedCacheNodesOfferingsCommand).callsFake((input: { CacheNodeType: string; Marker?: string }) => (input.Marker
      ? { ReservedCacheNodesOfferings: [offering(input.CacheNodeType)] }
      : { ReservedCacheNodesOfferings: [offering(input.CacheNodeType, 'memcached')], Marker: 'page-2' }));
    const config = testConfig({ tiers: { professional: { database: { instanceClass: 'db.t4g.medium' } } } });
    const lines = await storeOfferChecks(testContext(config));
    expect(lines.every((l) => l.status === 'pass')).toBe(true);
    expect(lines[0]).toMatchObject({ title: 'RDS db.t4g.medium tier starter (us-east-1)', detail: 'offered for PostgreSQL 17 on gp3 storage in a VPC (1 version(s) 17.5)', region: 'us-east-1' });
    // starter and professional share db.t4g.medium in us-east-1: one read (2 pages) for both; db.r7g.xlarge 2 more
    expect(rds.commandCalls(DescribeOrderableDBInstanceOptionsCommand)).toHaveLength(4);
  });

  it('ends a listing whose next page has the Marker it was asked with (a proxy or endpoint that repeats its last page), instead of asking for ever', async () => {
    // The SDK's paginators stop on an absent token only (stopOnSameToken is off by default): a Marker
    // answered again loops. The fake gives up after 50 pages so that the old code ends too.
    const CAP = 50;
    let dbPages = 0;
    let cachePages = 0;
    rds.on(DescribeOrderableDBInstanceOptionsCommand).callsFake((input: { DBInstanceClass: string }) =>
      ({ OrderableDBInstanceOptions: [option(input.DBInstanceClass, '17.5')], ...(++dbPages < CAP ? { Marker: 'same' } : {}) }));
    cache.on(DescribeReservedCacheNodesOfferingsCommand).callsFake((input: { CacheNodeType: string }) =>
      ({ ReservedCacheNodesOfferings: [offering(input.CacheNodeType)], ...(++cachePages < CAP ? { Marker: 'same' } : {}) }));
    const config = testConfig({ tiers: { starter: null, professional: null }, defaultTier: 'enterprise' });
    const lines = await storeOfferChecks(testContext(config));
    expect(lines.map((l) => l.status)).toEqual(['pass', 'pass']);
    // the first page, then the page of Marker 'same', which names 'same' again: the end
    expect([dbPages, cachePages]).toEqual([2, 2]);
  });

  it('shows the versions offered from lowest to highest by number (17.10 comes after 17.9)', async () => {
    answer({ 'us-east-1': { db: ['17.10', '17.4', '17.9'].map((v) => option('db.r7g.xlarge', v)), cache: EVERYTHING.cache } });
    const config = testConfig({ tiers: { starter: null, professional: null }, defaultTier: 'enterprise' });
    const [db] = await storeOfferChecks(testContext(config));
    expect(db.detail).toBe('offered for PostgreSQL 17 on gp3 storage in a VPC (3 version(s) 17.4 to 17.10), Multi-AZ capable');
  });

  it('asks RDS once per Region and class, whatever the tiers\' PostgreSQL majors', async () => {
    answer({ 'us-east-1': { db: ['16.8', '17.4'].flatMap((v) => ['db.t4g.medium', 'db.m7g.large', 'db.r7g.xlarge'].map((c) => option(c, v))), cache: EVERYTHING.cache } });
    const config = testConfig({ tiers: { starter: { database: { engineMajorVersion: '16' } }, professional: { database: { instanceClass: 'db.t4g.medium' } } } });
    const lines = await storeOfferChecks(testContext(config));
    expect(lines.map((l) => l.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(lines[0].detail).toBe('offered for PostgreSQL 16 on gp3 storage in a VPC (1 version(s) 16.8)');
    expect(lines[2].detail).toBe('offered for PostgreSQL 17 on gp3 storage in a VPC (1 version(s) 17.4), Multi-AZ capable');
    expect(rds.commandCalls(DescribeOrderableDBInstanceOptionsCommand).map((c) => c.args[0].input.DBInstanceClass)).toEqual(['db.t4g.medium', 'db.r7g.xlarge']);
  });

  it('fails a PostgreSQL major the class is not offered with, and a class that is not Multi-AZ capable for a Multi-AZ tier', async () => {
    answer({ 'us-east-1': {
      db: [option('db.t4g.medium', '16.8'), option('db.m7g.large', '17.4', { MultiAZCapable: false }), option('db.r7g.xlarge', '17.4', { StorageType: 'io1' })],
      cache: EVERYTHING.cache,
    } });
    const [starter, , professional, , enterprise] = await storeOfferChecks(testContext());
    expect(starter).toMatchObject({ status: 'fail', detail: expect.stringContaining('RDS offers no db.t4g.medium for PostgreSQL 17 on gp3 storage in a VPC in us-east-1') });
    expect(professional).toMatchObject({ status: 'fail', detail: 'tiers.professional.database.instanceClass db.m7g.large: offered in us-east-1 for PostgreSQL 17 on gp3 storage in a VPC (1 version(s) 17.4) but not Multi-AZ (MultiAZCapable false), and tiers.professional.database.multiAz is true' });
    expect(professional.fix).toContain('or tiers.professional.database.multiAz to false');
    expect(enterprise).toMatchObject({ status: 'fail', detail: expect.stringContaining('RDS offers no db.r7g.xlarge for PostgreSQL 17 on gp3 storage') });
  });

  it('checks a DR tier in its disasterRecovery.region too (the failover blueprint recreates the database and cache there)', async () => {
    answer({ 'us-east-1': EVERYTHING, 'us-west-2': { db: EVERYTHING.db.filter((o) => o.DBInstanceClass !== 'db.r7g.xlarge'), cache: EVERYTHING.cache } });
    const config = testConfig({ tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 8 } } } });
    const lines = await storeOfferChecks(testContext(config));
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['instance-offer:database:starter:us-east-1', 'pass'], ['instance-offer:cache:starter:us-east-1', 'pass'],
      ['instance-offer:database:professional:us-east-1', 'pass'], ['instance-offer:cache:professional:us-east-1', 'pass'],
      ['instance-offer:database:enterprise:us-east-1', 'pass'], ['instance-offer:cache:enterprise:us-east-1', 'pass'],
      ['instance-offer:database:enterprise:us-west-2', 'fail'], ['instance-offer:cache:enterprise:us-west-2', 'pass'],
    ]);
    expect(lines[6]).toMatchObject({ title: 'RDS db.r7g.xlarge tier enterprise DR (us-west-2)', region: 'us-west-2' });
    expect(lines[6].detail).toContain('in us-west-2 (DescribeOrderableDBInstanceOptions), so CreateDBInstance would refuse the failover blueprint\'s database');
    expect(lines[6].fix).toContain('set tiers.enterprise.database.instanceClass to a class RDS offers in us-west-2, or another tiers.enterprise.disasterRecovery.region;');
  });

  it('a throttled or refused read is a warning that the check could not be done, not "not offered"', async () => {
    rds.on(DescribeOrderableDBInstanceOptionsCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    cache.on(DescribeReservedCacheNodesOfferingsCommand).rejects(awsError('AccessDenied', `User: arn:aws:iam::${MANAGEMENT}:user/eng is not authorized to perform: elasticache:DescribeReservedCacheNodesOfferings`, 403));
    const [db, redis] = await storeOfferChecks(testContext());
    expect(db).toMatchObject({ status: 'warn', region: 'us-east-1', detail: 'could not check whether us-east-1 offers tiers.starter.database.instanceClass db.t4g.medium: rds:DescribeOrderableDBInstanceOptions failed: Throttling: Rate exceeded' });
    expect(db.fix).toMatch(/^rerun doctor, or look yourself: aws rds describe-orderable-db-instance-options --region us-east-1 /);
    expect(redis.status).toBe('warn');
    expect(redis.detail).toMatch(/^could not check whether us-east-1 offers tiers\.starter\.cache\.nodeType cache\.t4g\.small: elasticache:DescribeReservedCacheNodesOfferings failed: AccessDenied: /);
    expect(redis.fix).toMatch(/^grant elasticache:DescribeReservedCacheNodesOfferings \(read-only\) to your credentials, or look yourself: aws elasticache describe-reserved-cache-nodes-offerings --region us-east-1 /);
    expect(db.account).toBeUndefined(); // the Region's offer, read with your credentials: the same for every account
  });
});
