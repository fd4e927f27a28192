import { mockCostExplorer } from '../../support/cost-explorer-strict.js';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { writeMonthlyStatements, type MonthlyDeps } from '../../../lambdas/statements/monthly-statements.js';
import type { TenantUsageReported } from '../../../lib/statements/usage-event.js';
import { AS_OF, MONTH } from './fixture.js';

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const eb = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const ce = mockCostExplorer();
afterEach(() => { s3.reset(); eb.reset(); ce.reset(); });

/** A bucket of object metadata (HeadObject / PutObject) and the events put, in order. */
function world() {
  const objects = new Map<string, { metadata: Record<string, string>; body: string }>();
  const events: TenantUsageReported[] = [];
  /** Puts of these keys fail once each (an S3 error, or the Lambda timing out there). */
  const failPut = new Set<string>();
  /** Puts of events fail while set (EventBridge refusing the entry). */
  const failEvents = { on: false };
  const notFound = () => new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } });
  s3.on(HeadObjectCommand).callsFake((i) => {
    const o = objects.get(i.Key);
    if (!o) throw notFound();
    return { Metadata: o.metadata };
  });
  s3.on(GetObjectCommand).callsFake((i) => {
    const o = objects.get(i.Key);
    if (!o) throw notFound();
    return { Body: { transformToString: async () => o.body } };
  });
  s3.on(PutObjectCommand).callsFake((i) => {
    if (failPut.delete(i.Key)) throw Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });
    objects.set(i.Key, { metadata: i.Metadata, body: String(i.Body) });
    return {};
  });
  eb.on(PutEventsCommand).callsFake((i) => {
    if (failEvents.on) return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] };
    events.push(JSON.parse(i.Entries[0].Detail));
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
  });
  const deps: MonthlyDeps = {
    sources: { modelUsage: async () => [], usageBy: async () => ({ subjects: [], incomplete: false }), jobs: async () => [], costExplorer: new CostExplorerClient({ region: 'us-east-1' }) },
    s3: new S3Client({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), bucket: 'statements', eventBus: 'bus', eventRetryDelayMs: 0,
    tenants: async () => [localTenant('acme', 'professional', { createdAt: '2026-01-05T00:00:00.000Z' })],
  };
  /** One run on which Cost Explorer answers `amount` for the tenant's tag, estimated or not. */
  const run = async (amount: string, estimated: boolean) => {
    ce.reset();
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Estimated: estimated, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } } }] }] });
    return writeMonthlyStatements(deps, MONTH, AS_OF);
  };
  return { events, run, failPut, failEvents };
}

/**
 * The Stripe consumer of docs/operations.md (*Worked example: Stripe meter events*): it bills final figures only,
 * each report the difference to what it billed before.
 */
const stripeCents = (events: TenantUsageReported[]) => events.reduce((billed, d, i) => {
  if (d.estimated) return billed;
  if (events.slice(0, i).some((e) => e.idempotencyKey === d.idempotencyKey)) return billed; // Stripe drops a repeated identifier
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

  it('figures that change and change back (final 100, final 120, final 100 again): the third report is billed, not dropped as a repeat of the first', async () => {
    const { events, run } = world();
    await run('100', false);
    await run('120', false);
    await run('100', false); // Cost Explorer back to the first figure (a charge reversed): the same statement as revision 1's
    expect(events.map((e) => [e.revision, e.meterValue])).toEqual([[1, 100], [2, 120], [3, 100]]);
    expect(new Set(events.map((e) => e.idempotencyKey)).size).toBe(3); // one key per report: a consumer drops only a repeat of the same report
    expect(events[2].previousFinal).toEqual({ revision: 2, meterValue: 120 });
    expect(stripeCents(events)).toBe(10_000);
  });

  it('a statement stored before its metadata said whether it was estimated counts as final (what consumers were told then)', async () => {
    const { events, run } = world();
    await run('100', false);
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'statement-sha256': 'old', 'statement-revision': '1', 'statement-total-usd': '100' } });
    await run('120', false);
    expect(events[1]).toMatchObject({ revision: 2, previous: { revision: 1, meterValue: 100 }, previousFinal: { revision: 1, meterValue: 100 } });
    expect(events[1].previous).not.toHaveProperty('estimated');
  });

  it('an event put whose statement was not written, then changed figures: the next report follows it (revision 2, previousFinal), never a second revision 1 billed again', async () => {
    const { events, run, failPut } = world();
    failPut.add(`statements/${MONTH}/acme.csv`); // the event went out; the objects were not written
    expect((await run('100', false)).failed.map((f) => f.tenantId)).toEqual(['acme']);
    await run('120', false); // a later run: Cost Explorer's figures changed meanwhile
    expect(events.map((e) => [e.revision, e.meterValue])).toEqual([[1, 100], [1, 100], [2, 120]]);
    expect(events[0].idempotencyKey).toBe(events[1].idempotencyKey); // the first one again: a consumer drops it
    expect(events[2].previousFinal).toEqual({ revision: 1, meterValue: 100 });
    expect(stripeCents(events)).toBe(12_000);
  });

  it('an event refused by EventBridge, then changed figures: the refused report is put first, so the consumer never subtracts a total it did not get', async () => {
    const { events, run, failEvents } = world();
    failEvents.on = true;
    expect((await run('100', false)).failed.map((f) => f.tenantId)).toEqual(['acme']);
    failEvents.on = false;
    await run('120', false);
    expect(events.map((e) => [e.revision, e.meterValue])).toEqual([[1, 100], [2, 120]]);
    expect(stripeCents(events)).toBe(12_000);
  });

  it('an event put whose statement was not written, same figures next time: the same event again, then the objects; a third run changes nothing', async () => {
    const { events, run, failPut } = world();
    failPut.add(`statements/${MONTH}/acme.json`);
    await run('100', false);
    expect((await run('100', false)).reported).toEqual(['acme']);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual(events[0]);
    expect(await run('100', false)).toMatchObject({ reported: [], unchanged: ['acme'] });
    expect(events).toHaveLength(2);
    expect(stripeCents(events)).toBe(10_000);
  });
});
