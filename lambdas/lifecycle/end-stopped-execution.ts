import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { endDeadOperation } from './lease.js';

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
 * failure, the step it was at, the lease released) and announced. Triggered by EventBridge's
 * execution status change events of the tessera-* state machines; a no-op for executions that
 * released their lease (every normal end).
 */
export const handler = lifecycleHandler('End stopped execution', async (event: { detail: ExecutionStatusChange }) => {
  const detail = event.detail;
  const tenantId = tenantOfInput(detail.input);
  if (!tenantId) return { ended: false, reason: 'no tenant in the execution input' };
  const record = await getTenant(tenantId);
  const lease = record?.lease;
  if (!record || lease?.executionArn !== detail.executionArn) return { ended: false, reason: 'the execution holds no lease' };
  const step = record.currentStep ?? 'unknown';
  const reason = `execution ${detail.status}${detail.error ? `: ${detail.error}` : ''}${detail.cause ? ` (${detail.cause})` : ''} at "${step}" without recording its outcome`;
  // An onboarding stopped between lifting the quarantine and its completing write: fenced again first.
  const ended = await endDeadOperation(record, lease, { step, reason });
  logger.warn('ended the operation of a stopped execution', { tenantId, executionArn: detail.executionArn, status: ended.status });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: lease.kind, step, reason, executionArn: detail.executionArn, status: ended.status });
  return { ended: true, status: ended.status };
}, { trackStep: false });
