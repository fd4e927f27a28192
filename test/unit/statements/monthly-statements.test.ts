import { mockCostExplorer } from '../../support/cost-explorer-strict.js';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { CostExplorerError } from '../../../lambdas/statements/cost-explorer.js';
import { EVENT_PUT_ATTEMPTS, handler, putUsageReported, reportable, writeMonthlyStatements, type MonthlyDeps } from '../../../lambdas/statements/monthly-statements.js';
import { AS_OF, MODEL_USAGE, MONTH } from './fixture.js';

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const eb = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const ce = mockCostExplorer();
afterEach(() => { s3.reset(); eb.reset(); ce.reset(); });

const deps = (over: Partial<MonthlyDeps['sources']> = {}): MonthlyDeps => ({
  sources: {
    modelUsage: async (tenantId) => (tenantId === 'acme' ? MODEL_USAGE : []),
    usageBy: async () => ({ subjects: [], incomplete: false }),
    jobs: async () => [],
    costExplorer: new CostExplorerClient({ region: 'us-east-1' }),
    ...over,
  },
  s3: new S3Client({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), bucket: 'statements', eventBus: 'tessera-lifecycle',
  tenants: async () => [localTenant('zeta', 'starter', { createdAt: ONBOARDED }), localTenant('acme', 'professional', { createdAt: ONBOARDED })],
});
/** Before the fixture's month: a tenant has a statement only for months it existed in (localTenant stamps now). */
const ONBOARDED = '2026-01-05T00:00:00.000Z';
const notFound = new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });

describe('writeMonthlyStatements', () => {
  it('emits the event before writing the objects, tenants in id order, revision 1 for a new month', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    const order: string[] = [];
    eb.on(PutEventsCommand).callsFake((i) => { order.push(`event ${JSON.parse(i.Entries[0].Detail).tenantId}`); return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }; });
    s3.on(PutObjectCommand).callsFake((i) => { order.push(`put ${i.Key}`); return {}; });
    const out = await writeMonthlyStatements(deps(), MONTH, AS_OF);
    expect(out).toEqual({ month: MONTH, reported: ['acme', 'zeta'], unchanged: [], failed: [] });
    expect(order).toEqual([
      'put statements/2026-10/acme.event.json', 'event acme', 'put statements/2026-10/acme.csv', 'put statements/2026-10/acme.json',
      'put statements/2026-10/zeta.event.json', 'event zeta', 'put statements/2026-10/zeta.csv', 'put statements/2026-10/zeta.json',
    ]);
    const detail = JSON.parse(eb.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!);
    expect(detail).toMatchObject({ tenantId: 'acme', meterApiName: 'tessera.total_usd', meterValue: 0.00257, revision: 1 });
    expect(s3.commandCalls(PutObjectCommand)[1].args[0].input.Metadata).toEqual({ 'statement-sha256': expect.stringMatching(/^[0-9a-f]{64}$/), 'statement-revision': '1', 'statement-total-usd': '0.00257', 'statement-estimated': 'false', 'statement-final-revision': '1', 'statement-final-total-usd': '0.00257' });
    expect(detail.previous).toBeUndefined();
  });

  it('writes no statement object when EventBridge refuses the event (only the event kept before it is put), and goes on with the next tenant', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    eb.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'boom' }] }).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await writeMonthlyStatements(deps(), MONTH, AS_OF);
    expect(out.failed).toEqual([{ tenantId: 'acme', error: 'EventBridge rejected Tenant Usage Reported: AccessDeniedException boom' }]);
    expect(out.reported).toEqual(['zeta']);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['statements/2026-10/acme.event.json', 'statements/2026-10/zeta.event.json', 'statements/2026-10/zeta.csv', 'statements/2026-10/zeta.json']);
  });

  // Faults pass: a rejected entry (200, FailedEntryCount) was a plain Error, whatever its ErrorCode: a throttled
  // put failed the tenant's statement at once, as a refusal did. The lifecycle's announcements name it (events.ts).
  it('puts an event EventBridge throttled again (the same event), and reports the tenant', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    s3.on(PutObjectCommand).resolves({});
    eb.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] }).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await writeMonthlyStatements({ ...deps(), eventRetryDelayMs: 0 }, MONTH, AS_OF);
    expect(out).toMatchObject({ reported: ['acme', 'zeta'], failed: [] });
    const puts = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].Detail);
    expect(puts).toHaveLength(3);
    expect(puts[1]).toBe(puts[0]);
  });

  it('names a rejected entry\'s error after its ErrorCode: a transient one is put EVENT_PUT_ATTEMPTS times, a refusal once', async () => {
    const detail = { tenantId: 'acme' } as Parameters<typeof putUsageReported>[1];
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(putUsageReported({ ...deps(), eventRetryDelayMs: 0 }, detail)).rejects.toMatchObject({ name: 'InternalFailure', message: 'EventBridge rejected Tenant Usage Reported: InternalFailure boom' });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(EVENT_PUT_ATTEMPTS);
    eb.reset();
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    await expect(putUsageReported({ ...deps(), eventRetryDelayMs: 0 }, detail)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(1);
    eb.reset();
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{}] });
    await expect(putUsageReported({ ...deps(), eventRetryDelayMs: 0 }, detail)).rejects.toMatchObject({ name: 'EventBridgeRejected' });
  });

  it('reports changed figures with the next revision, and records a Cost Explorer failure against its tenant', async () => {
    ce.on(GetCostAndUsageCommand).rejectsOnce(Object.assign(new Error('Access denied'), { name: 'AccessDeniedException' })).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).resolves({ Metadata: { 'statement-sha256': 'old', 'statement-revision': '2', 'statement-total-usd': '1.5' } });
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await writeMonthlyStatements(deps(), MONTH, AS_OF);
    expect(out.failed).toEqual([{ tenantId: 'acme', error: `${new CostExplorerError(MONTH, Object.assign(new Error('Access denied'), { name: 'AccessDeniedException' })).message}` }]);
    expect(out.failed[0].error).toBe('Cost Explorer did not answer for 2026-10: AccessDeniedException: Access denied');
    expect(JSON.parse(eb.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!)).toMatchObject({ tenantId: 'zeta', revision: 3, previous: { revision: 2, meterValue: 1.5 }, meterValue: 0 });
  });

  it('leaves out tenants offboarded before the month began', () => {
    expect(reportable(localTenant('gone', 'starter', { createdAt: ONBOARDED, status: 'OFFBOARDED', updatedAt: '2026-09-30T12:00:00Z' }), MONTH)).toBe(false);
    expect(reportable(localTenant('left', 'starter', { createdAt: ONBOARDED, status: 'OFFBOARDED', updatedAt: '2026-10-15T12:00:00Z' }), MONTH)).toBe(true);
    expect(reportable(localTenant('live', 'starter', { createdAt: ONBOARDED }), MONTH)).toBe(true);
  });

  it('keeps a tenant whose offboarding ended in the first second of the month (times compared as instants, not as strings)', () => {
    // toISOString's '2026-10-01T00:00:00.500Z' sorted before '2026-10-01T00:00:00Z' ('.' < 'Z'): the tenant lost its October.
    const ended = (endedAt: string) => localTenant('left', 'starter', {
      createdAt: ONBOARDED, status: 'OFFBOARDED', updatedAt: endedAt,
      executions: [{ kind: 'offboard', requestId: 'r-1', executionArn: 'arn:aws:states:us-east-1:111111111111:execution:offboard:r-1', startedAt: '2026-09-30T23:50:00.000Z', endedAt, status: 'SUCCEEDED' }],
    });
    expect(reportable(ended('2026-10-01T00:00:00.500Z'), MONTH)).toBe(true);
    expect(reportable(ended('2026-09-30T23:59:59.999Z'), MONTH)).toBe(false);
  });

  // s37n: listTenants leaves out a record edited by hand into a shape the schema refuses (72ef5a1f), and the job wrote no
  // statement for that tenant and succeeded: a month of its usage unbilled, said only in a log line. It is a failed tenant now.
  it('counts a tenant whose registry record cannot be read as failed, naming each field and value, after writing the others', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    s3.on(PutObjectCommand).resolves({});
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await writeMonthlyStatements({
      ...deps(),
      tenants: async (unreadable) => {
        unreadable?.({ tenantId: 'broken', problems: ['tier = (missing): Invalid input'] });
        return [localTenant('acme', 'professional', { createdAt: ONBOARDED })];
      },
    }, MONTH, AS_OF);
    expect(out.reported).toEqual(['acme']);
    expect(out.failed).toEqual([{ tenantId: 'broken', error: `its registry record does not match the schema (tier = (missing): Invalid input): no statement of ${MONTH} written; correct the record, then run the month again ({"month": "${MONTH}"})` }]);
  });

  it('leaves out tenants created after the month ended: no $0 statement, no revision-1 Tenant Usage Reported', async () => {
    expect(reportable(localTenant('late', 'starter', { createdAt: '2026-11-01T00:00:00.000Z' }), MONTH)).toBe(false);
    expect(reportable(localTenant('new', 'starter', { createdAt: '2026-10-31T23:59:59.999Z' }), MONTH)).toBe(true);
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const out = await writeMonthlyStatements({ ...deps(), tenants: async () => [localTenant('acme', 'professional', { createdAt: ONBOARDED }), localTenant('late', 'starter', { createdAt: '2026-11-02T09:00:00.000Z' })] }, MONTH, AS_OF);
    expect(out).toEqual({ month: MONTH, reported: ['acme'], unchanged: [], failed: [] });
    expect(eb.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).tenantId)).toEqual(['acme']);
    expect(s3.commandCalls(PutObjectCommand).some((c) => c.args[0].input.Key!.includes('late'))).toBe(false);
  });

  it('the job refuses a re-run month that is not a YYYY-MM string, naming it, before any call: it ran the previous month instead', async () => {
    const run = (event: unknown) => (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(event, {});
    await expect(run({ month: 202610 })).rejects.toThrow('month = 202610: must be a month as a "YYYY-MM" string (e.g. {"month": "2026-10"}), or left out for the previous month');
    await expect(run({ month: null })).rejects.toThrow('month = null: must be a month as a "YYYY-MM" string');
    await expect(run({ month: '2026-1' })).rejects.toThrow('month = "2026-1": must be a month as YYYY-MM');
    expect(s3.calls()).toHaveLength(0);
  });
});
