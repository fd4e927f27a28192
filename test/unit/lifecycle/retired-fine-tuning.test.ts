import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { configWith } from '../../support/config-with.js';
import { EXECUTION_ARN, setLifecycleEnv, tenant, useConfig } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', async (importOriginal) => ({ ...(await importOriginal<object>()), ...registryMock }));

/**
 * The export step records what *Retire fine-tuned models* reported (lambdas/lifecycle/retired-fine-tuning.ts):
 * once, in the registry's offboarding record and the lifecycle audit trail; nothing for a tenant that had nothing to retire.
 */
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const reported = {
  state: 'COMPLETE', deleted: [], deleting: [], stopped: [],
  cancelledJobs: [{ jobId: `ftjob-${'e'.repeat(24)}`, trainingJobName: `acme-ft-${'e'.repeat(24)}` }],
  retiredModels: [{ id: 'ft:llama-3.1-8b-instruct:acme:d', endpointName: `acme-ft-${'d'.repeat(24)}` }],
};
const context = { requestId: 'req-offboard', executionArn: EXECUTION_ARN };
// Imported after vi.mock has replaced the registry.
const recordRetiredFineTuning = async (record: TenantRecord, report: unknown, ctx: typeof context) =>
  (await import('../../../lambdas/lifecycle/retired-fine-tuning.js')).recordRetiredFineTuning(record, report, ctx);

beforeEach(() => {
  setLifecycleEnv();
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  records.clear();
  records.set('acme', tenant({ status: 'OFFBOARDING', offboarding: { liftedProtections: [], stackId: 'stack-1' } }));
});

describe('recording retired fine-tuning (offboarding)', () => {
  it('records the jobs cancelled and the models retired in offboarding.fineTuning, beside what is there, and in the lifecycle audit trail', async () => {
    const out = await recordRetiredFineTuning(records.get('acme')!, reported, context);
    expect(out.offboarding).toEqual({ liftedProtections: [], stackId: 'stack-1', fineTuning: { cancelledJobs: reported.cancelledJobs, retiredModels: reported.retiredModels, at: expect.any(String), executionArn: EXECUTION_ARN } });
    expect(records.get('acme')!.offboarding?.fineTuning).toEqual(out.offboarding!.fineTuning);
    const put = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(put).toHaveLength(1);
    expect(put[0].Key).toMatch(/^tessera-audit\/lifecycle\/acme\/\d{4}-\d{2}-\d{2}\/.+-fine-tuning-retired-fine-tuning\.json$/);
    expect(JSON.parse(put[0].Body as string)).toMatchObject({ tenantId: 'acme', action: 'fine-tuning-retired', step: 'Retire fine-tuned models', requestId: 'req-offboard', executionArn: EXECUTION_ARN, retiredModels: reported.retiredModels });
  });

  it('writes the audit record of a tenant whose tier has a DR region under tessera-audit/dr-tier/lifecycle/, of a none tier\'s under tessera-audit/lifecycle/', async () => {
    useConfig(configWith({ allowedRegions: ['us-east-1', 'us-west-2'], tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } }));
    records.set('initech', tenant({ tenantId: 'initech', tier: 'enterprise', status: 'OFFBOARDING', offboarding: { liftedProtections: [], stackId: 'stack-2' } }));
    await recordRetiredFineTuning(records.get('initech')!, reported, context);
    await recordRetiredFineTuning(records.get('acme')!, reported, context);
    const put = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(put.map((p) => p.Key)).toEqual([
      expect.stringMatching(/^tessera-audit\/dr-tier\/lifecycle\/initech\/\d{4}-\d{2}-\d{2}\/.+-fine-tuning-retired-fine-tuning\.json$/),
      expect.stringMatching(/^tessera-audit\/lifecycle\/acme\/\d{4}-\d{2}-\d{2}\/.+-fine-tuning-retired-fine-tuning\.json$/),
    ]);
    expect(put.map((p) => JSON.parse(p.Body as string).tier)).toEqual(['enterprise', 'starter']);
  });

  it('a later execution (a re-run, whose retirement looked again) adds what it found that the record did not list, once, with a recheck entry and an audit record', async () => {
    const first = await recordRetiredFineTuning(records.get('acme')!, reported, context);
    const late = { jobId: `ftjob-${'f'.repeat(24)}`, trainingJobName: `acme-ft-${'f'.repeat(24)}` };
    const lateModel = { id: 'ft:llama-3.1-8b-instruct:acme:f', endpointName: `acme-ft-${'f'.repeat(24)}` };
    const rerun = { requestId: 'req-offboard-2', executionArn: `${EXECUTION_ARN}-2` };
    const again = await recordRetiredFineTuning(first, { ...reported, cancelledJobs: [...reported.cancelledJobs, late], retiredModels: [...reported.retiredModels, lateModel] }, rerun);
    expect(again.offboarding?.fineTuning).toEqual({
      cancelledJobs: [...reported.cancelledJobs, late], retiredModels: [...reported.retiredModels, lateModel], at: first.offboarding!.fineTuning!.at, executionArn: EXECUTION_ARN,
      rechecks: [{ cancelledJobs: [late], retiredModels: [lateModel], at: expect.any(String), executionArn: rerun.executionArn, lookedAgain: true }],
    });
    // the export step runs many times in that execution: recorded once
    expect(await recordRetiredFineTuning(again, reported, rerun)).toBe(again);
    // a re-run that could not look (the launcher gone with the stack) says so
    const third = await recordRetiredFineTuning(again, { ...reported, lookedAgain: false }, { requestId: 'req-3', executionArn: `${EXECUTION_ARN}-3` });
    expect(third.offboarding?.fineTuning?.rechecks?.[1]).toMatchObject({ cancelledJobs: [], retiredModels: [], lookedAgain: false });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      expect.stringMatching(/-fine-tuning-retired-fine-tuning\.json$/), expect.stringMatching(/-fine-tuning-retired-again-fine-tuning\.json$/), expect.stringMatching(/-fine-tuning-retired-again-fine-tuning\.json$/),
    ]);
  });

  it('records once: a record that has it is returned as it is (the export step runs many times)', async () => {
    const first = await recordRetiredFineTuning(records.get('acme')!, reported, context);
    const again = await recordRetiredFineTuning(first, { ...reported, retiredModels: [] }, context);
    expect(again).toEqual(first);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('records a retirement that looked in the tenant\'s account even with no job cancelled and no model retired (a resumed offboarding must not need the launcher after the stack deletion)', async () => {
    // a tenant whose one job failed deploying: its names were looked at (and anything left deleted), nothing to list
    const looked = { ...reported, cancelledJobs: [], retiredModels: [], checkedNames: [`acme-ft-${'f'.repeat(24)}`] };
    const out = await recordRetiredFineTuning(records.get('acme')!, looked, context);
    expect(out.offboarding?.fineTuning).toEqual({ cancelledJobs: [], retiredModels: [], at: expect.any(String), executionArn: EXECUTION_ARN });
    expect(records.get('acme')!.offboarding?.fineTuning).toEqual(out.offboarding!.fineTuning);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('records nothing for a tenant that had nothing to retire, or when the state carries no report', async () => {
    const before = records.get('acme')!;
    for (const r of [{ ...reported, cancelledJobs: [], retiredModels: [] }, { ...reported, cancelledJobs: [], retiredModels: [], checkedNames: [] }, undefined, { state: 'COMPLETE' }]) {
      expect(await recordRetiredFineTuning(before, r, context)).toBe(before);
    }
    expect(records.get('acme')).toEqual(before);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
