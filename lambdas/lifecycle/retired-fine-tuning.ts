import { z } from 'zod';
import { RetiredFineTuning, type TenantRecord } from '../../lib/tenant-record.js';
import { updateTenant } from '../shared/registry.js';
import { writeAudit } from './offboarding-support.js';

/**
 * Records what offboarding's *Retire fine-tuned models* reported (the fine-tuning events Lambda,
 * lambdas/fine-tuning/retire-fine-tuned-models.ts: `$.fineTuning` of the execution) as the other
 * offboarding steps record theirs: in the registry (`offboarding.fineTuning`) and in the audit bucket
 * (`tessera-audit/lifecycle/<tenant>/…-fine-tuning-retired-…`). The fine-tuning Lambda reaches the
 * registry only as the tenant (the tenant-data role: `fineTunedModels` only) and writes only the
 * fine-tuning audit prefix, so the next lifecycle step records it. Once: a record that has it is
 * returned as it is. A tenant that had nothing to retire and nothing to look at (no job, no model)
 * gets no entry (its record stays as before).
 */
export async function recordRetiredFineTuning(record: TenantRecord, reported: unknown, context: { requestId: string; executionArn?: string }): Promise<TenantRecord> {
  if (record.offboarding?.fineTuning) return record;
  const parsed = RetiredFineTuning.safeParse(reported);
  // A retirement that looked at anything in the tenant's account (`checkedNames`: a job that failed
  // deploying, one cancelled before it ran) is recorded even with no job cancelled and no model
  // retired: unrecorded, an offboarding resumed after the stack deletion would need the launcher again.
  const checked = z.object({ checkedNames: z.array(z.string()) }).safeParse(reported);
  if (!parsed.success || (!parsed.data.cancelledJobs.length && !parsed.data.retiredModels.length && !(checked.success && checked.data.checkedNames.length))) return record;
  const entry = { cancelledJobs: parsed.data.cancelledJobs, retiredModels: parsed.data.retiredModels, at: new Date().toISOString() };
  await writeAudit(record.tenantId, 'fine-tuning-retired', 'fine-tuning', { ...entry, accountId: record.accountId, step: 'Retire fine-tuned models', ...context });
  return updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, fineTuning: entry } });
}
