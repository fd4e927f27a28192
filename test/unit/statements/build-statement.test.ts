import { describe, expect, it } from 'vitest';
import type { FineTuningJob } from '../../../lib/fine-tuning.js';
import { TenantStatement } from '../../../lib/statements/schema.js';
import { buildStatement, reconcile, trainingSpan } from '../../../lambdas/statements/build-statement.js';
import { usageReported } from '../../../lib/statements/usage-event.js';
import { AS_OF, INFRASTRUCTURE_AMOUNT, JOBS, KEY_ID, MODEL_USAGE, MONTH, USER_ID } from './fixture.js';

const tenant = { tenantId: 'acme', name: 'Acme', tier: 'professional', isolation: 'vpc' as const };
const build = (over: Partial<Parameters<typeof buildStatement>[0]> = {}) => buildStatement({
  tenant, month: MONTH, asOf: AS_OF, modelUsage: MODEL_USAGE,
  users: { subjects: [{ id: USER_ID, month: { tokens: 2000, costUsd: 0.0019, requests: 12 } }], incomplete: false },
  keys: { subjects: [{ id: KEY_ID, month: { tokens: 900, costUsd: 0.00067, requests: 7 } }], incomplete: false },
  jobs: JOBS,
  infrastructure: { costUsd: Number(INFRASTRUCTURE_AMOUNT), estimated: false, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } },
  ...over,
});

describe('buildStatement', () => {
  it('adds the gateway up by model and by day, as by hand', () => {
    const s = build();
    expect(TenantStatement.parse(s)).toEqual(s);
    // gpt-4o-mini: 10 + 5 requests, 1000 + 300 prompt, 500 + 100 completion, $0.00045 + $0.00012
    expect(s.gateway.byModel).toEqual([
      { model: 'gpt-4o-mini', requests: 15, promptTokens: 1300, completionTokens: 600, totalTokens: 1900, costUsd: 0.00057, reportedRequests: 15, reportedTokens: 1900, estimatedTokens: 1930 },
      { model: 'llama-3.1-8b-instruct', requests: 4, promptTokens: 800, completionTokens: 200, totalTokens: 1000, costUsd: 0.002, reportedRequests: 4, reportedTokens: 1000, estimatedTokens: 1150 },
    ]);
    // 3 October: 10 + 4 requests, 1000 + 800 prompt, 500 + 200 completion, $0.00045 + $0.002
    expect(s.gateway.byDay).toEqual([
      { day: '2026-10-03', requests: 14, promptTokens: 1800, completionTokens: 700, totalTokens: 2500, costUsd: 0.00245 },
      { day: '2026-10-17', requests: 5, promptTokens: 300, completionTokens: 100, totalTokens: 400, costUsd: 0.00012 },
    ]);
    expect(s.gateway).toMatchObject({ requests: 19, promptTokens: 2100, completionTokens: 800, totalTokens: 2900, costUsd: 0.00257, subjectsIncomplete: false });
    expect(s.gateway.byUser).toEqual([{ id: USER_ID, tokens: 2000, costUsd: 0.0019, requests: 12 }]);
    expect(s.gateway.byKey).toEqual([{ id: KEY_ID, tokens: 900, costUsd: 0.00067, requests: 7 }]);
  });

  it('rounds each line from its exact sum: three days of USD 0.0000004 embeddings are USD 0.000001 for the model and the gateway (rounding each model-day first made them 0), 0 for each day', () => {
    const row = (day: string) => ({ day, model: 'text-embedding-3-small', requests: 1, promptTokens: 20, completionTokens: 0, costUsd: 0.0000004, reportedRequests: 1, reportedTokens: 20, estimatedTokens: 20 });
    const s = build({ modelUsage: [row('2026-10-03'), row('2026-10-04'), row('2026-10-05')], users: { subjects: [], incomplete: false }, keys: { subjects: [], incomplete: false } });
    expect(s.gateway.byModel.map((m) => [m.model, m.costUsd])).toEqual([['text-embedding-3-small', 0.000001]]); // 0.0000012
    expect(s.gateway.byDay.map((d) => d.costUsd)).toEqual([0, 0, 0]); // 0.0000004 each
    expect(s.gateway.costUsd).toBe(0.000001); // the sum of its lines by model
    expect(s.rounding).toMatch(/from its exact sum/);
  });

  it('prices fine-tuning hours inside the month only: 2.5 h × $1.515 + 1 h (of 2) × $7.09', () => {
    const s = build();
    expect(s.fineTuning.jobs.map((j) => [j.jobId.slice(0, 7), j.instanceHours, j.gpuHours, j.costUsd, j.from, j.to])).toEqual([
      ['ftjob-a', 2.5, 2.5, 3.7875, '2026-10-10T00:00:00.000Z', '2026-10-10T02:30:00.000Z'],
      ['ftjob-b', 1, 4, 7.09, '2026-10-01T00:00:00.000Z', '2026-10-01T01:00:00.000Z'],
    ]);
    expect(s.fineTuning).toMatchObject({ instanceHours: 3.5, gpuHours: 6.5, costUsd: 10.8775, prices: { region: 'us-east-1', date: '2026-11-01' } });
  });

  it('totals gateway + infrastructure in micro-dollars: 0.00257 + 123.456789 = 123.459359; fine-tuning (tagged, billed by SageMaker) is inside infrastructure, not added again', () => {
    const s = build();
    expect(s.infrastructure).toEqual({ costUsd: 123.456789, metric: 'UnblendedCost', source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' }, estimated: false });
    // Cost Explorer's figure for the tag holds the tagged training jobs: adding the 10.8775 estimate on top counted them twice (134.336859).
    expect(s.totalUsd).toBe(123.459359);
    expect(s.fineTuning).toMatchObject({ costUsd: 10.8775, includedIn: 'infrastructure' });
    expect(s.period).toEqual({ start: '2026-10-01', end: '2026-11-01' });
    expect(s.notes).toEqual([]);
  });

  it('Tenant Usage Reported: the cost meters besides the total add up to it (no fine-tuning cost meter to count twice)', () => {
    const d = usageReported(build(), 'bucket', 'a'.repeat(64), 1);
    const costs = d.usage.filter((u) => u.meterApiName.endsWith('_usd') && u.meterApiName !== 'tessera.total_usd');
    expect(costs).toEqual([{ meterApiName: 'tessera.gateway.cost_usd', meterValue: 0.00257 }, { meterApiName: 'tessera.infrastructure.cost_usd', meterValue: 123.456789 }]);
    expect(Math.round(costs.reduce((a, u) => a + u.meterValue * 1e6, 0))).toBe(Math.round(d.meterValue * 1e6));
    expect(d.usage).toContainEqual({ meterApiName: 'tessera.fine_tuning.gpu_hours', meterValue: 6.5 });
  });

  it('flags the model whose estimate is more than 10% off the providers\' report, naming the figures', () => {
    const s = build();
    expect(s.reconciliation.flags).toEqual([{
      model: 'llama-3.1-8b-instruct', reportedRequests: 4, estimatedTokens: 1150, reportedTokens: 1000, deviationPercent: 15, thresholdPercent: 10,
      message: 'llama-3.1-8b-instruct: estimated 1150 tokens, providers reported 1000 over 4 requests (+15%, more than 10%)',
    }]);
    expect(reconcile({ model: 'm', reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1100 })).toEqual([]); // exactly 10%: not flagged
    expect(reconcile({ model: 'm', reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 899 })[0].deviationPercent).toBe(-10.1);
    expect(reconcile({ model: 'm', reportedRequests: 0, reportedTokens: 0, estimatedTokens: 500 })).toEqual([]); // nothing reported: nothing to compare
  });

  it('notes requests of users and keys that produced no usage by model', () => {
    const s = build({ keys: { subjects: [{ id: KEY_ID, month: { tokens: 900, costUsd: 0.00067, requests: 9 } }], incomplete: false } });
    expect(s.notes).toEqual(['users and keys made 21 requests; 19 produced usage by model (the others were refused, failed upstream or released their reservation)']);
    expect(build({ keys: { subjects: [], incomplete: true } }).notes).toEqual([]); // an incomplete list cannot be compared
  });

  it('counts a running job up to asOf, notes an unpriced type and an estimated month', () => {
    const running = { ...JOBS[2], status: 'running' as const, createdAt: Date.parse('2026-11-02T03:00:00Z') / 1000, instanceType: 'ml.x9.huge' };
    const s = build({ month: '2026-11', modelUsage: [], jobs: [running], infrastructure: { costUsd: 1, estimated: true, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } } });
    expect(s.fineTuning.jobs[0]).toMatchObject({ instanceHours: 2, costUsd: 0, gpuHours: 0 });
    expect(s.notes.join('\n')).toMatch(/no us-east-1 price for ml\.x9\.huge/);
    expect(s.notes.join('\n')).toMatch(/estimate/);
    expect(s.infrastructure.estimated).toBe(true);
  });

  describe('training hours: the training\'s own span, at most its max runtime', () => {
    const at = (iso: string) => Date.parse(iso) / 1000;
    const base: FineTuningJob = { ...JOBS[0]!, createdAt: at('2026-10-05T00:00:00Z'), finishedAt: undefined, events: [] };
    const hours = (job: FineTuningJob, month = MONTH) => build({ month, jobs: [job] }).fineTuning.jobs.map((j) => [j.instanceHours, j.from, j.to]);

    it('a job left running by a lost state event is billed at most its max runtime (12 h), not to the month\'s end (648 h)', () => {
      const stuck = { ...base, status: 'running' as const, maxRuntimeSeconds: 12 * 3600, trainingStartedAt: at('2026-10-05T00:10:00Z') };
      expect(hours(stuck)).toEqual([[12, '2026-10-05T00:10:00.000Z', '2026-10-05T12:10:00.000Z']]);
    });

    it('a record from before maxRuntimeSeconds was kept: SageMaker\'s 28 days (672 h) at most, from its "Training started" event', () => {
      const old = { ...base, status: 'running' as const, createdAt: at('2026-09-30T22:00:00Z'), events: [{ id: 'ftevent-1', created_at: at('2026-10-01T00:00:00Z'), level: 'info' as const, message: 'Training started (Starting)' }] };
      expect(hours(old)).toEqual([[672, '2026-10-01T00:00:00.000Z', '2026-10-29T00:00:00.000Z']]); // October has 744 h
    });

    it('training ends at its recorded end, not when the endpoint deployment finished the job', () => {
      const deployed = { ...base, status: 'succeeded' as const, maxRuntimeSeconds: 12 * 3600, trainingStartedAt: at('2026-10-05T00:30:00Z'), trainingEndedAt: at('2026-10-05T02:30:00Z'), finishedAt: at('2026-10-05T03:30:00Z') };
      expect(hours(deployed)).toEqual([[2, '2026-10-05T00:30:00.000Z', '2026-10-05T02:30:00.000Z']]);
      expect(build({ jobs: [deployed] }).fineTuning.costUsd).toBe(3.03); // 2 h × $1.515
    });

    it('a queued job has no span; one ended before it began has none either', () => {
      expect(trainingSpan({ ...base, status: 'queued' }, AS_OF)).toBeUndefined();
      expect(trainingSpan({ ...base, status: 'cancelled', trainingEndedAt: base.createdAt, finishedAt: base.createdAt }, AS_OF)).toBeUndefined();
    });

    it('a job stopped (or failed) while queued, 3 h after its creation, trained not at all: no hours (not its 3 h in the queue)', () => {
      const end = base.createdAt + 3 * 3600;
      const stopped = { ...base, status: 'cancelled' as const, maxRuntimeSeconds: 12 * 3600, trainingEndedAt: end, finishedAt: end, events: [{ id: 'ftevent-1', created_at: end, level: 'warn' as const, message: 'Training job stopped' }] };
      expect(trainingSpan(stopped, AS_OF)).toBeUndefined();
      expect(hours(stopped)).toEqual([]);
      expect(hours({ ...stopped, status: 'failed' as const })).toEqual([]);
      // Its files refused, or cancelled by its user while queued: no training end recorded, and no training either.
      const refused = { ...base, status: 'failed' as const, maxRuntimeSeconds: 12 * 3600, finishedAt: end, events: [{ id: 'ftevent-1', created_at: end, level: 'error' as const, message: 'Training file invalid' }] };
      expect(hours(refused)).toEqual([]);
      expect(hours({ ...refused, status: 'cancelled' as const })).toEqual([]);
      // Completed with no start known (its InProgress lost, no TrainingStartTime): from its creation, an upper bound.
      const completed = { ...stopped, status: 'succeeded' as const, events: [{ id: 'ftevent-2', created_at: end, level: 'info' as const, message: 'Training completed' }] };
      expect(hours(completed)).toEqual([[3, '2026-10-05T00:00:00.000Z', '2026-10-05T03:00:00.000Z']]);
    });

    it('training across the month\'s end is billed in each month, each its part', () => {
      const across = { ...base, status: 'succeeded' as const, maxRuntimeSeconds: 12 * 3600, trainingStartedAt: at('2026-10-31T22:00:00Z'), trainingEndedAt: at('2026-11-01T03:00:00Z'), finishedAt: at('2026-11-01T04:00:00Z') };
      expect(hours(across, '2026-10')).toEqual([[2, '2026-10-31T22:00:00.000Z', '2026-11-01T00:00:00.000Z']]);
      expect(build({ month: '2026-11', jobs: [across], asOf: new Date('2026-12-03T00:00:00Z') }).fineTuning.jobs.map((j) => [j.instanceHours, j.from, j.to])).toEqual([[3, '2026-11-01T00:00:00.000Z', '2026-11-01T03:00:00.000Z']]);
    });
  });
});
