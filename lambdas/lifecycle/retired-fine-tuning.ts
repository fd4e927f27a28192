import { z } from 'zod';
import { RetiredFineTuning, type TenantRecord } from '../../lib/tenant-record.js';
import { updateTenant } from '../shared/registry.js';
import { writeAudit } from './offboarding-support.js';

/**
 * Records what offboarding's *Retire fine-tuned models* reported (the fine-tuning events Lambda,
 * lambdas/fine-tuning/retire-fine-tuned-models.ts: `$.fineTuning` of the execution) as the other
 * offboarding steps record theirs: in the registry (`offboarding.fineTuning`) and in the audit bucket
 * (`tessera-audit/lifecycle/<tenant>/…-fine-tuning-retired-…`, under `tessera-audit/dr-tier/` for a DR tier). The fine-tuning Lambda reaches the
 * registry only as the tenant (the tenant-data role: `fineTunedModels` only) and writes only the
 * fine-tuning audit prefix, so the next lifecycle step records it. Once per execution: the export
 * step runs many times. A later execution (a re-run, whose retirement looked again) adds a
 * `rechecks` entry with what it found that the record did not list, and adds that to the lists.
 * A tenant that had nothing to retire and nothing to look at (no job, no model)
 * gets no entry (its record stays as before).
 */
export async function recordRetiredFineTuning(record: TenantRecord, reported: unknown, context: { requestId: string; executionArn?: string }): Promise<TenantRecord> {
  const parsed = RetiredFineTuning.safeParse(reported);
  const existing = record.offboarding?.fineTuning;
  if (existing) {
    const sameExecution = existing.executionArn !== undefined && existing.executionArn === context.executionArn;
    if (!parsed.success || sameExecution || (existing.rechecks ?? []).some((r) => r.executionArn !== undefined && r.executionArn === context.executionArn)) return record;
    const cancelledJobs = parsed.data.cancelledJobs.filter((j) => !existing.cancelledJobs.some((x) => x.jobId === j.jobId));
    const retiredModels = parsed.data.retiredModels.filter((m) => !existing.retiredModels.some((x) => x.id === m.id));
    const lookedAgain = (reported as { lookedAgain?: unknown }).lookedAgain !== false;
    const recheck = { cancelledJobs, retiredModels, at: new Date().toISOString(), ...(context.executionArn ? { executionArn: context.executionArn } : {}), lookedAgain };
    await writeAudit(record, 'fine-tuning-retired-again', 'fine-tuning', { ...recheck, accountId: record.accountId, step: 'Retire fine-tuned models', ...context });
    return updateTenant(record.tenantId, { offboarding: { ...record.offboarding!, fineTuning: {
      ...existing, cancelledJobs: [...existing.cancelledJobs, ...cancelledJobs], retiredModels: [...existing.retiredModels, ...retiredModels], rechecks: [...(existing.rechecks ?? []), recheck],
    } } });
  }
  // A retirement that looked at anything in the tenant's account (`checkedNames`: a job that failed
  // deploying, one cancelled before it ran) is recorded even with no job cancelled and no model
  // retired: unrecorded, an offboarding resumed after the stack deletion would need the launcher again.
  const checked = z.object({ checkedNames: z.array(z.string()) }).safeParse(reported);
  if (!parsed.success || (!parsed.data.cancelledJobs.length && !parsed.data.retiredModels.length && !(checked.success && checked.data.checkedNames.length))) return record;
  const entry = { cancelledJobs: parsed.data.cancelledJobs, retiredModels: parsed.data.retiredModels, at: new Date().toISOString(), ...(context.executionArn ? { executionArn: context.executionArn } : {}) };
  await writeAudit(record, 'fine-tuning-retired', 'fine-tuning', { ...entry, accountId: record.accountId, step: 'Retire fine-tuned models', ...context });
  return updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, fineTuning: entry } });
}
