import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { writeMonthlyStatements, type MonthlyDeps } from '../../../lambdas/statements/monthly-statements.js';
import type { TenantUsageReported } from '../../../lib/statements/usage-event.js';
import { AS_OF, MONTH } from './fixture.js';

const s3 = mockClient(S3Client);
const eb = mockClient(EventBridgeClient);
const ce = mockClient(CostExplorerClient);
afterEach(() => { s3.reset(); eb.reset(); ce.reset(); });

/** A bucket of object metadata (HeadObject / PutObject) and the events put, in order. */
function world() {
  const objects = new Map<string, Record<string, string>>();
  const events: TenantUsageReported[] = [];
  s3.on(HeadObjectCommand).callsFake((i) => {
    const m = objects.get(i.Key);
    if (!m) throw new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } });
    return { Metadata: m };
  });
  s3.on(PutObjectCommand).callsFake((i) => { objects.set(i.Key, i.Metadata); return {}; });
  eb.on(PutEventsCommand).callsFake((i) => { events.push(JSON.parse(i.Entries[0].Detail)); return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }; });
  const deps: MonthlyDeps = {
    sources: { modelUsage: async () => [], usageBy: async () => ({ subjects: [], incomplete: false }), jobs: async () => [], costExplorer: new CostExplorerClient({ region: 'us-east-1' }) },
    s3: new S3Client({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), bucket: 'statements', eventBus: 'bus',
    tenants: async () => [localTenant('acme', 'professional')],
  };
  /** One run on which Cost Explorer answers `amount` for the tenant's tag, estimated or not. */
  const run = async (amount: string, estimated: boolean) => {
    ce.reset();
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Estimated: estimated, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } } }] }] });
    return writeMonthlyStatements(deps, MONTH, AS_OF);
  };
  return { events, run };
}

/**
 * The README's Stripe consumer (*Worked example: Stripe meter events*): it bills final figures only,
 * each report the difference to what it billed before.
 */
const stripeCents = (events: TenantUsageReported[]) => events.reduce((billed, d) => {
  if (d.estimated) return billed;
  return billed + Math.round(d.meterValue * 100) - Math.round((d.previousFinal?.meterValue ?? 0) * 100);
}, 0);

describe('Tenant Usage Reported across revisions: a consumer that bills final figures only (hostile review)', () => {
  it('an estimated first report (the 3rd) then a final one (the 10th): the final total is billed whole, not its difference to the unbilled estimate', async () => {
    const { events, run } = world();
    await run('100', true); // the 3rd: Cost Explorer still estimates the month
    await run('120', false); // the 10th: final
    expect(events.map((e) => [e.revision, e.estimated, e.meterValue])).toEqual([[1, true, 100], [2, false, 120]]);
    expect(events[1].previous).toEqual({ revision: 1, meterValue: 100, estimated: true });
    expect(events[1].previousFinal).toBeUndefined();
    expect(stripeCents(events)).toBe(12_000);
  });

  it('final, then estimated again, then final: each final report is billed against the last final one', async () => {
    const { events, run } = world();
    await run('100', false);
    await run('90', true);
    await run('130', false);
    expect(events.map((e) => [e.revision, e.estimated, e.meterValue])).toEqual([[1, false, 100], [2, true, 90], [3, false, 130]]);
    expect(events[2].previous).toEqual({ revision: 2, meterValue: 90, estimated: true });
    expect(events[2].previousFinal).toEqual({ revision: 1, meterValue: 100 });
    expect(stripeCents(events)).toBe(13_000);
  });

  it('a statement stored before its metadata said whether it was estimated counts as final (what consumers were told then)', async () => {
    const { events, run } = world();
    await run('100', false);
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'statement-sha256': 'old', 'statement-revision': '1', 'statement-total-usd': '100' } });
    await run('120', false);
    expect(events[1]).toMatchObject({ revision: 2, previous: { revision: 1, meterValue: 100 }, previousFinal: { revision: 1, meterValue: 100 } });
    expect(events[1].previous).not.toHaveProperty('estimated');
  });
});
