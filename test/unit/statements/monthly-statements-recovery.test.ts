import { mockCostExplorer } from '../../support/cost-explorer-strict.js';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { reportable, writeMonthlyStatements, type MonthlyDeps } from '../../../lambdas/statements/monthly-statements.js';
import { tenant } from '../lifecycle/support.js';
import { AS_OF, MODEL_USAGE, MONTH } from './fixture.js';

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const eb = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const ce = mockCostExplorer();
afterEach(() => { s3.reset(); eb.reset(); ce.reset(); });

describe('the monthly statements job recovers and reports the right tenants (hostile review)', () => {
  it('a CSV put that failed once is written by the next run (the JSON, whose hash marks the statement done, goes last)', async () => {
    const objects = new Map<string, Record<string, string>>();
    let failCsv = true;
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    s3.on(HeadObjectCommand).callsFake((i) => {
      const m = objects.get(i.Key);
      if (!m) throw new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } });
      return { Metadata: m };
    });
    const bodies = new Map<string, string>();
    s3.on(GetObjectCommand).callsFake((i) => ({ Body: { transformToString: async () => bodies.get(i.Key)! } }));
    s3.on(PutObjectCommand).callsFake((i) => {
      if (i.Key.endsWith('.csv') && failCsv) { failCsv = false; throw Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }); }
      objects.set(i.Key, i.Metadata);
      bodies.set(i.Key, String(i.Body));
      return {};
    });
    const deps: MonthlyDeps = {
      sources: { modelUsage: async () => MODEL_USAGE, usageBy: async () => ({ subjects: [], incomplete: false }), jobs: async () => [], costExplorer: new CostExplorerClient({ region: 'us-east-1' }) },
      s3: new S3Client({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), bucket: 'statements', eventBus: 'bus',
      tenants: async () => [localTenant('acme', 'professional', { createdAt: '2026-01-05T00:00:00.000Z' })],
    };
    const first = await writeMonthlyStatements(deps, MONTH, AS_OF);
    expect(first.failed.map((f) => f.tenantId)).toEqual(['acme']);
    expect(objects.has(`statements/${MONTH}/acme.json`)).toBe(false);
    const second = await writeMonthlyStatements(deps, MONTH, AS_OF); // EventBridge's retry of the failed run
    expect(second.reported).toEqual(['acme']);
    expect([...objects.keys()].sort()).toEqual([`statements/${MONTH}/acme.csv`, `statements/${MONTH}/acme.event.json`, `statements/${MONTH}/acme.json`]);
    // The event went out on the first run and again, the same, on the second (a consumer drops the repeat by its idempotencyKey).
    const sent = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].Detail);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toBe(sent[0]);
  });

  it('an offboarded tenant is reportable up to the month its offboarding ended, whatever later writes touched its record', () => {
    // Offboarded 2026-10-28; the daily key-deletion job wrote the record on 2026-11-04.
    const t = tenant({
      createdAt: '2026-01-05T00:00:00.000Z', status: 'OFFBOARDED', updatedAt: '2026-11-04T10:00:00.000Z',
      executions: [{ kind: 'offboard', requestId: 'req-offboard-1', startedAt: '2026-10-28T09:00:00.000Z', endedAt: '2026-10-28T09:40:00.000Z', status: 'SUCCEEDED' }],
    });
    expect(reportable(t, '2026-10')).toBe(true);
    expect(reportable(t, '2026-11')).toBe(false);
    expect(reportable(tenant({ createdAt: '2026-01-01T00:00:00.000Z', status: 'ACTIVE', updatedAt: '2026-01-01T00:00:00.000Z' }), '2026-11')).toBe(true);
  });
});
