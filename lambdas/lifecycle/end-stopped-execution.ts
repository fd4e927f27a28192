import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { sendOwed } from './announcements.js';
import { endDeadOperation } from './lease.js';
import { usageKeyAfterEndedChange } from './manage-usage-key.js';
import { stackStanding } from './stack-standing.js';
import { stoppedReason } from './stopped-reason.js';

/** The `detail` of Step Functions' "Step Functions Execution Status Change" event (default bus). */
export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name?: string;
  status: 'ABORTED' | 'TIMED_OUT' | 'FAILED' | 'SUCCEEDED' | 'RUNNING' | string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

/** The tenant an execution works on, from its input (`request.tenantId`, or a bus request's `tenantId`). */
export function tenantOfInput(input: string | null | undefined): string | undefined {
  try {
    const parsed = JSON.parse(input ?? '{}') as { request?: { tenantId?: string }; tenantId?: string };
    return parsed.request?.tenantId ?? parsed.tenantId;
  } catch {
    return undefined;
  }
}

/**
 * Ends the operation of a lifecycle execution that stopped without its Catch running (stopped by
 * an operator, timed out, or failed inside Step Functions itself): when it still holds its
 * tenant's lease, the failure is recorded as Record failure would (the status its kind leaves on
 * failure, the step it was at, the lease released; for a change or upgrade, the tier and version its stack completed
 * an update to, stack-standing.ts, with the usage key moved into that tier's plan: manage-usage-key.ts settleUsageKey) and announced. Triggered by EventBridge's
 * execution status change events of the tessera-* state machines; a no-op for executions that
 * released their lease (every normal end), except that it sends the announcements such an execution
 * still owes (stopped after its completing write, before PutEvents). An execution that failed because its failure recorder
 * failed (stopped-reason.ts failedRecorderCause) is recorded with the failed step's own error, then the recorder's.
 */
export const handler = lifecycleHandler('End stopped execution', async (event: { detail: ExecutionStatusChange }) => {
  const detail = event.detail;
  const tenantId = tenantOfInput(detail.input);
  if (!tenantId) return { ended: false, reason: 'no tenant in the execution input' };
  const record = await getTenant(tenantId);
  const lease = record?.lease;
  if (!record || lease?.executionArn !== detail.executionArn) {
    // Stopped after its completing write (lease released) but before its announcement went out: no Catch ran, so
    // neither a retry of the step nor Record failure sends it. Sent here; one that fails again stays owed, with its error.
    const owed = (record?.owedAnnouncements ?? []).filter((a) => a.executionArn === detail.executionArn);
    if (!record || !owed.length) return { ended: false, reason: 'the execution holds no lease' };
    try {
      return { ended: false, reason: 'the execution holds no lease', announced: await sendOwed({ ...record, owedAnnouncements: owed }) };
    } catch (e) {
      logger.error('announcement owed by a stopped execution not sent; it stays owed (tessera tenants retry)', { tenantId, executionArn: detail.executionArn, error: e as Error });
      return { ended: false, reason: 'the execution holds no lease', owed: owed.map((a) => a.detailType) };
    }
  }
  const step = record.currentStep ?? 'unknown';
  // A change stopped after its stack update went through, before Check blueprint recorded it: the registry says what the stack runs.
  const standing = await stackStanding(record, lease.kind, 'End stopped execution');
  const reason = `${stoppedReason(detail, step)}${standing.note ? `; ${standing.note}` : ''}`;
  // An onboarding stopped between lifting the quarantine and its completing write: fenced again first.
  const result = await endDeadOperation(record, lease, { step, reason, changes: standing.changes, ...(standing.updating ? { details: { stackUpdating: standing.updating } } : {}) });
  logger.warn('ended the operation of a stopped execution', { tenantId, executionArn: detail.executionArn, status: result.status });
  // The usage key follows the tier the registry records now (a standing, or Check blueprint's before the stop) into its plan.
  const usageKey = await usageKeyAfterEndedChange(lease.kind, record, standing.changes.tier);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: lease.kind, step, reason, executionArn: detail.executionArn, status: result.status, ...(usageKey ? { usageKey } : {}) });
  return { ended: true, status: result.status, ...(usageKey ? { usageKey } : {}) };
}, { trackStep: false });
