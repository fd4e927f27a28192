import { mockCostExplorer } from '../../support/cost-explorer-strict.js';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { afterEach, describe, expect, it } from 'vitest';
import { costExplorerRegion, costRequest, infrastructureCost } from '../../../lambdas/statements/cost-explorer.js';
import { STATEMENT_JOBS_TABLE_ENV, STATEMENT_USAGE_TABLE_ENV } from '../../../lambdas/statements/environment.js';
import { FINE_TUNING_ENV } from '../../../lambdas/fine-tuning/lambda-deps.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';

const ce = mockCostExplorer();
afterEach(() => ce.reset());
const client = new CostExplorerClient({ region: 'us-east-1' });
const now = new Date('2026-11-02T05:00:00Z');

describe('Cost Explorer requests', () => {
  it('asks for a vpc-mode tenant\'s month by its cost-allocation tag, MONTHLY UnblendedCost, End exclusive, and follows NextPageToken', async () => {
    ce.on(GetCostAndUsageCommand)
      .resolvesOnce({ ResultsByTime: [{ Estimated: false, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '100.5', Unit: 'USD' } } }] }], NextPageToken: 'page-2' })
      .resolvesOnce({ ResultsByTime: [{ Estimated: true, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '23.2500001', Unit: 'USD' } } }, { Keys: ['tessera:tenant-id$other'], Metrics: { UnblendedCost: { Amount: '999', Unit: 'USD' } } }] }] });
    const cost = await infrastructureCost(client, { tenantId: 'acme', isolation: 'vpc' }, '2026-10', now);
    expect(cost).toEqual({ costUsd: 123.75, estimated: true, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } });
    const calls = ce.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        TimePeriod: { Start: '2026-10-01', End: '2026-11-01' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'],
        Filter: { Tags: { Key: 'tessera:tenant-id', Values: ['acme'], MatchOptions: ['EQUALS'] } }, GroupBy: [{ Type: 'TAG', Key: 'tessera:tenant-id' }], NextPageToken: undefined,
      },
      expect.objectContaining({ NextPageToken: 'page-2' }),
    ]);
  });

  it('asks for an account-mode tenant by its linked account, and ends the running month tomorrow', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Estimated: true, Groups: [{ Keys: ['210987654321'], Metrics: { UnblendedCost: { Amount: '42', Unit: 'USD' } } }] }] });
    const cost = await infrastructureCost(client, { tenantId: 'big', isolation: 'account', accountId: '210987654321' }, '2026-11', now);
    expect(cost).toEqual({ costUsd: 42, estimated: true, source: { groupBy: 'linked-account', key: 'LINKED_ACCOUNT', value: '210987654321' } });
    expect(ce.commandCalls(GetCostAndUsageCommand)[0].args[0].input).toMatchObject({
      TimePeriod: { Start: '2026-11-01', End: '2026-11-03' }, Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['210987654321'] } }, GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }],
    });
  });

  it('makes no call for an account-mode tenant without an account, and refuses a currency other than USD', async () => {
    expect((await infrastructureCost(client, { tenantId: 'new', isolation: 'account' }, '2026-10', now)).costUsd).toBe(0);
    expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(0);
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '1', Unit: 'EUR' } } }] }] });
    await expect(infrastructureCost(client, { tenantId: 'acme', isolation: 'vpc' }, '2026-10', now)).rejects.toThrow(/EUR/);
  });

  it('calls Cost Explorer in us-east-1 (cn-northwest-1 in China), and names the same tables as the gateway and fine-tuning', () => {
    expect(costExplorerRegion('aws')).toBe('us-east-1');
    expect(costExplorerRegion('aws-cn')).toBe('cn-northwest-1');
    expect(costRequest({ groupBy: 'tag', key: 'tessera:tenant-id', value: 'a' }, '2026-12', new Date('2026-12-31T23:00:00Z')).TimePeriod).toEqual({ Start: '2026-12-01', End: '2027-01-01' });
    expect(STATEMENT_JOBS_TABLE_ENV).toBe(FINE_TUNING_ENV.jobsTable);
    expect(STATEMENT_USAGE_TABLE_ENV).toBe(GATEWAY_ENV.usageTable);
  });
});
