import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Network } from '../../constructs/network.js';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseCostCommandLine } from '../../lib/cost/cli-options.js';
import { formatCostReport } from '../../lib/cost/format.js';
import { loadPriceTable } from '../../lib/cost/price-table.js';
import { costTiers, type CostReport, type TierCost } from '../../lib/cost/tier-costs.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith, newStack } from '../support/synth.js';

const table = loadPriceTable('us-east-1');
// The blueprints as `npm run cost` builds them (lib/preflight/blueprints.ts loadBlueprints), through the test synth cache.
const report = async (config: PlatformConfig): Promise<CostReport> => costTiers(await cachedBlueprints(config, '0.0.0-test'), table);
const tier = (r: CostReport, name: string): TierCost => r.tiers.find((t) => t.tier === name)!;
const root = join(import.meta.dirname, '..', '..');
const defaultsLoaded = await cachedBlueprints(configWith(), '0.0.0-test');

describe('cost of each tier (default config)', () => {
  const defaults = costTiers(defaultsLoaded, table);

  it('prices every resource of every blueprint: none of an unknown type', () => {
    for (const t of defaults.tiers) expect(t.blueprint.unpriced, t.tier).toEqual([]);
    for (const t of defaults.tiers) expect(t.namespace?.unpriced ?? [], t.tier).toEqual([]);
    expect(defaults.sharedCluster?.unpriced).toEqual([]);
  });

  it('keeps the starter tier at or under $150 a month fixed, shared-cluster share included, with no interface endpoint in its VPC', () => {
    const starter = tier(defaults, 'starter');
    expect(starter.fixedMonthlyUsd).toBeLessThanOrEqual(150);
    expect(starter.blueprint.lines.filter((l) => / interface endpoint in /.test(l.item))).toEqual([]);
    // the gateway endpoints (free) stay: S3 and DynamoDB remain reachable without NAT
    expect(starter.blueprint.lines.filter((l) => / gateway endpoint$/.test(l.item)).map((l) => l.item)).toEqual(['s3 gateway endpoint', 'dynamodb gateway endpoint']);
    // the fixed figure is the sum of its parts
    expect(starter.fixedMonthlyUsd).toBeCloseTo(starter.blueprint.monthlyUsd + starter.namespace!.monthlyUsd + starter.sharedCluster!.monthlyUsd, 2);
  });

  it('keeps the workload endpoints where something runs in the tenant VPC (training, a dedicated cluster)', () => {
    const endpoints = (t: TierCost) => t.blueprint.lines.filter((l) => / interface endpoint in /.test(l.item)).length;
    expect(endpoints(tier(defaults, 'professional'))).toBe(8);
    expect(endpoints(tier(defaults, 'enterprise'))).toBe(13);
  });

  it('splits the shared cluster evenly among --shared-tenants tenants', () => {
    const pool = defaults.sharedCluster!.monthlyUsd;
    expect(tier(defaults, 'starter').sharedCluster).toEqual({ tenants: 10, poolMonthlyUsd: pool, monthlyUsd: Math.round((pool / 10) * 100) / 100 });
    const four = costTiers(defaultsLoaded, table, { sharedTenants: 4 });
    expect(tier(four, 'starter').sharedCluster!.monthlyUsd).toBe(Math.round((pool / 4) * 100) / 100);
    expect(tier(defaults, 'enterprise').sharedCluster).toBeUndefined();
  });

  it('gives the GPU node-hour of each GPU type a tier can schedule on: instance plus its root volume', () => {
    // 200 GiB x $0.08 / 730 h = $0.021918 per hour
    expect(tier(defaults, 'enterprise').gpu.map((g) => [g.instanceType, g.nodeHourUsd])).toEqual([
      ['g5.2xlarge', 1.2339], ['g5.4xlarge', 1.6459], ['p4d.24xlarge', 32.7945],
    ]);
    expect(tier(defaults, 'professional').gpu.map((g) => [g.instanceType, g.cluster])).toEqual([['g5.2xlarge', 'shared'], ['g6.2xlarge', 'shared']]);
    expect(tier(defaults, 'starter').gpu).toEqual([]); // quota of 0 GPUs
  });

  it('gives the cost per 1M tokens of each catalog model the tier may call', () => {
    const starter = tier(defaults, 'starter').models;
    // starter allows bedrock and openai only
    expect(starter.map((m) => m.id)).toEqual(['bedrock/anthropic.claude-3-5-haiku', 'bedrock/amazon.nova-lite', 'openai/gpt-4o-mini', 'openai/gpt-5.4-mini', 'bedrock/amazon.titan-embed-text-v2', 'bedrock/cohere.embed-english-v3', 'openai/text-embedding-3-small', 'openai/omni-moderation-latest', 'openai/gpt-image-2.5-flare']);
    expect(starter[0]).toEqual({ id: 'bedrock/anthropic.claude-3-5-haiku', kind: 'chat', inputPer1M: 0.8, outputPer1M: 4 });
    expect(starter[3]).toEqual({ id: 'openai/gpt-5.4-mini', kind: 'chat', inputPer1M: 0.75, outputPer1M: 4.5 });
    expect(starter[4]).toEqual({ id: 'bedrock/amazon.titan-embed-text-v2', kind: 'embedding', inputPer1M: 0.02, outputPer1M: 0 });
    expect(starter[7]).toEqual({ id: 'openai/omni-moderation-latest', kind: 'moderation', inputPer1M: 0, outputPer1M: 0 });
    expect(starter[8]).toEqual({ id: 'openai/gpt-image-2.5-flare', kind: 'image', inputPer1M: 0, outputPer1M: 0, perImageUsd: 0.25 });
    expect(formatCostReport(defaults)).toMatch(/^ {4}openai\/gpt-image-2\.5-flare +image +\$0\.25 per image +-$/m);
    expect(formatCostReport(defaults)).toContain("  models, USD per 1M tokens (input / output), image models per image:");
  });

  it('prints every line named by its resource', () => {
    const text = formatCostReport(defaults);
    expect(text).toMatch(/^starter +vpc +shared +\$[\d.]+ +\$0\.00 +\$[\d.]+ \(1\/10\) +\$[\d.]+$/m);
    expect(text).toContain('DatabaseInstance02E622FB');
    expect(text).toMatch(/^  tier blueprint: \$[\d,.]+ per month: database \$[\d,.]+, cache \$[\d,.]+, /m); // starter: no VPC endpoints among its kinds
    expect(text).toMatch(/CacheReplicationGroupBFE59FF3 +1 x cache\.t4g\.small valkey node +730 node-hours x \$0\.0256 +\$18\.69 +derived/);
    expect(text).toMatch(/g5\.2xlarge +\$1\.23 +=/);
  });

  it('prints token prices as the catalog gives them: $0.035 per 1M was printed $0.04 (a unit price rounded to cents)', () => {
    const models = [{ id: 'bedrock/amazon.nova-micro', kind: 'chat' as const, inputPer1M: 0.035, outputPer1M: 0.14 }, { id: 'bedrock/x.tiny-embed', kind: 'embedding' as const, inputPer1M: 0.0075, outputPer1M: 0 }];
    const text = formatCostReport({ ...defaults, tiers: defaults.tiers.map((t) => (t.tier === 'starter' ? { ...t, models } : t)) });
    expect(text).toMatch(/^ {4}bedrock\/amazon\.nova-micro +chat +\$0\.035 +\$0\.14$/m);
    expect(text).toMatch(/^ {4}bedrock\/x\.tiny-embed +embedding +\$0\.0075 +-$/m);
    expect(text).toMatch(/^ {4}bedrock\/anthropic\.claude-3-5-haiku +chat +\$0\.80 +\$4\.00$/m);
  });
});

describe('a tier change moves the total', () => {
  it('Multi-AZ on the starter database adds a standby instance and a second copy of its storage', async () => {
    // GIVEN the starter tier with a Multi-AZ database
    const before = tier(costTiers(defaultsLoaded, table), 'starter');
    const after = tier(await report(configWith({ tiers: { starter: { database: { multiAz: true } } } })), 'starter');
    // THEN the blueprint grows by 730 h x $0.065 + 20 GiB x $0.115 = $47.45 + $2.30
    expect(after.blueprint.monthlyUsd - before.blueprint.monthlyUsd).toBeCloseTo(49.75, 2);
  });

  it('a starter tier that trains gets the workload endpoints back: 8 x 2 AZs x 730 h x $0.01 + 8 x 1 GB x $0.01', async () => {
    const before = tier(costTiers(defaultsLoaded, table), 'starter');
    const training = { enabled: true, maxConcurrentJobs: 1, instanceTypes: ['ml.g5.2xlarge'], endpointInstanceTypes: ['ml.g5.xlarge'], baseModels: ['llama-3.1-8b-instruct'] };
    const after = tier(await report(configWith({ tiers: { starter: { training } } })), 'starter');
    const endpointLines = after.blueprint.lines.filter((l) => / interface endpoint /.test(l.item));
    expect(endpointLines.reduce((n, l) => n + l.monthlyUsd, 0)).toBeCloseTo(8 * 2 * 730 * 0.01 + 8 * 0.01, 6);
    expect(after.blueprint.monthlyUsd).toBeGreaterThan(before.blueprint.monthlyUsd + 116);
  });

  it('the network refuses a private EKS cluster without the workload endpoints', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => new Network(stack, 'Network', { cidr: '10.1.0.0/22', prefixLength: 22, encryptionKey: key, flowLogGroupName: '/x/flow', workloadEndpoints: false, eksEndpoints: true }))
      .toThrow(/workloadEndpoints is false but eksEndpoints is true/);
  });
});

describe('npm run cost command line', () => {
  it('parses its options and refuses bad ones in house style', () => {
    expect(parseCostCommandLine(['--json', '--shared-tenants', '4', '--region', 'us-east-1'])).toMatchObject({ json: true, sharedTenants: 4, region: 'us-east-1' });
    expect(() => parseCostCommandLine(['--jsn'])).toThrow('unknown option --jsn; did you mean --json?');
    expect(() => parseCostCommandLine(['--shared-tenants', '0'])).toThrow('--shared-tenants must be a positive integer, got "0"');
    expect(() => parseCostCommandLine(['--region'])).toThrow('--region needs a value');
    expect(() => parseCostCommandLine(['starter'])).toThrow(/unexpected argument "starter"/);
  });

  it('refuses a region without a shipped price table with exit 2, before building anything', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'lib', 'cost', 'cli.ts'), '--region', 'eu-west-1'], { cwd: root, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('cost: no price table for region "eu-west-1": prices ship for us-east-1 only (lib/cost/prices-<region>.json); add a table for eu-west-1 with its source and date, or price with --region us-east-1\n');
  });
});
