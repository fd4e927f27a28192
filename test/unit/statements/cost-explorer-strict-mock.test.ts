import { CostExplorerClient, GetCostAndUsageCommand, type GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { describe, expect, it } from 'vitest';
import { costRequest } from '../../../lambdas/statements/cost-explorer.js';
import { monthBounds, previousMonth } from '../../../lib/statements/schema.js';
import { getCostAndUsageRefusal, mockCostExplorer } from '../../support/cost-explorer-strict.js';

const now = new Date('2026-11-02T05:00:00Z');
const ok: GetCostAndUsageCommandInput = { TimePeriod: { Start: '2026-10-01', End: '2026-11-01' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'] };
const refusal = (patch: Partial<GetCostAndUsageCommandInput>, at = now) => getCostAndUsageRefusal({ ...ok, ...patch } as GetCostAndUsageCommandInput, at);

describe('the strict Cost Explorer mock (test/support/cost-explorer-strict.ts)', () => {
  it('takes a valid GetCostAndUsage and refuses each broken rule, naming it', () => {
    expect(refusal({})).toBeUndefined();
    expect(refusal({ TimePeriod: { Start: '2026/10/01', End: '2026-11-01' } })).toMatch(/TimePeriod.Start: Value '2026\/10\/01' must satisfy regular expression pattern/);
    expect(refusal({ TimePeriod: { Start: '2026-10-01', End: '2026-10-01' } })).toBe('Start date (and hour) should be before end date (and hour)');
    expect(refusal({ TimePeriod: { Start: '2026-10-01T05:00:00Z', End: '2026-10-01T06:00:00Z' }, Granularity: 'HOURLY' }, new Date('2026-10-02T00:00:00Z'))).toBeUndefined();
    expect(refusal({ TimePeriod: { Start: '2026-11-03', End: '2026-11-04' } })).toMatch(/TimePeriod.Start: 2026-11-03 is after the current date 2026-11-02/);
    expect(refusal({ TimePeriod: { Start: '2026-11-01', End: '2026-12-02' } })).toBe('end date past the beginning of next month');
    expect(refusal({ TimePeriod: { Start: '2026-11-01', End: '2026-12-01' } })).toBeUndefined();
    expect(refusal({ TimePeriod: { Start: '2026-10-15', End: '2026-10-20' }, Granularity: 'HOURLY' })).toMatch(/more than 14 days ago for hourly granularity/);
    expect(refusal({ TimePeriod: { Start: '2025-08-15', End: '2025-09-01' }, Granularity: 'DAILY' })).toMatch(/beyond the past 14 months, your start date needs to be the first day of the month/);
    expect(refusal({ TimePeriod: { Start: '2025-08-01', End: '2025-09-01' } })).toBeUndefined();
    expect(refusal({ Granularity: undefined })).toBe('Granularity: Member must not be null');
    expect(refusal({ Granularity: 'WEEKLY' as never })).toMatch(/Granularity: Value 'WEEKLY'/);
    expect(refusal({ Metrics: [] })).toMatch(/Metrics/);
    expect(refusal({ Metrics: ['UNBLENDED_COST'] })).toMatch(/Metrics: Value 'UNBLENDED_COST'/);
    expect(refusal({ GroupBy: [{ Type: 'TAG', Key: 'a' }, { Type: 'TAG', Key: 'b' }, { Type: 'TAG', Key: 'c' }] })).toMatch(/up to two different groups, not 3/);
    expect(refusal({ GroupBy: [{ Type: 'DIMENSION', Key: 'REGION' }] })).toMatch(/GroupBy.0.Key: Value 'REGION'/);
    expect(refusal({ GroupBy: [{ Type: 'ACCOUNT' as never, Key: 'x' }] })).toMatch(/GroupBy.0.Type: Value 'ACCOUNT'/);
    expect(refusal({ Filter: { Tags: { Key: 'k', Values: ['v'] }, Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['1'] } } })).toMatch(/Filter: an Expression takes exactly one of .*not 2 \(Dimensions, Tags\)/);
    expect(refusal({ Filter: { And: [{ Tags: { Key: 'k', Values: ['v'] } }, { Not: { Dimensions: { Key: 'ACCOUNT' as never, Values: ['1'] } } }] } })).toMatch(/Filter.And.1.Not.Dimensions.Key: Value 'ACCOUNT'/);
    expect(refusal({ Filter: {} })).toMatch(/Filter: an Expression takes exactly one of .*not 0/);
  });

  it('answers a refused request with the SDK\'s ValidationException (400), not the scripted answer, and keeps its checks over reset()', async () => {
    const ce = mockCostExplorer({ now: () => now });
    try {
      ce.reset();
      ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
      const client = new CostExplorerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      await expect(client.send(new GetCostAndUsageCommand({ ...ok, TimePeriod: { Start: '2026-10-01', End: '2026-10-01' } }))).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(0);
      await expect(client.send(new GetCostAndUsageCommand(ok))).resolves.toMatchObject({ ResultsByTime: [] });
    } finally {
      ce.restore();
    }
  });
});

describe('every period the product asks Cost Explorer for is one it takes', () => {
  const source = { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } as const;
  const month = (at: Date) => at.toISOString().slice(0, 7);
  it.each([
    ['the 1st at 00:00 UTC (month to date: Start = today, End = tomorrow)', '2026-11-01T00:00:00.000Z'],
    ['the last instant of a month', '2026-11-30T23:59:59.999Z'],
    ['New Year\'s Eve (End is the next year\'s 1 January)', '2026-12-31T23:00:00Z'],
    ['a leap day', '2028-02-29T12:00:00Z'],
    ['the day after a leap day', '2028-03-01T00:00:00Z'],
    ['mid-month', '2026-11-17T09:30:00Z'],
  ])('on %s: the running month, the previous month (the monthly job), a month 13 and 40 months back', (_, at) => {
    const t = new Date(at);
    const back = (n: number) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - n, 1)).toISOString().slice(0, 7);
    for (const m of [month(t), previousMonth(t), back(13), back(40)]) {
      const request = costRequest(source, m, t);
      expect(request.TimePeriod!.Start).toBe(monthBounds(m).start);
      expect(getCostAndUsageRefusal(request, t), `${m} at ${at}`).toBeUndefined();
    }
  });
});
