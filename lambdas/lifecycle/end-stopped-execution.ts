import { LIFECYCLE_EVENTS, type TenantRecord } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { oweOnRecord, sendOwed } from './announcements.js';
import { endDeadLease, endStranded, leaseHolderEnded, strandedOperation, type EndedStanding, type LeaseHolder, type StrandedOperation } from './lease.js';
import { usageKeyAfterEndedChange } from './manage-usage-key.js';
import { stackStanding, type StackStanding } from './stack-standing.js';
import { stoppedOnboardingDrStanding } from './dr-update-standing.js';
import { stoppedReason } from './stopped-reason.js';
import { sweepDeadLeases } from './dead-lease-sweep.js';

/**
 * `Tenant Lifecycle Failed` for the operation this ending recorded (`ended`): written owed on the record (announcements.ts
 * oweOnRecord), then sent with the outbox, so a bus that refuses it leaves it owed (sent by `tessera tenants retry`, or with
 * the tenant's next announcement) instead of lost; until 2026-12-07 it was only sent. A record that cannot be written
 * (contention past three attempts) has it sent directly, as before. A send that fails throws (EventBridge retries the
 * invocation; what is owed stays owed).
 */
async function announceFailure(ended: TenantRecord, detail: Record<string, unknown>, executionArn: string): Promise<void> {
  let owed: TenantRecord | undefined;
  try {
    owed = await oweOnRecord(ended.tenantId, LIFECYCLE_EVENTS.failed, detail, executionArn);
  } catch (e) {
    logger.warn('Tenant Lifecycle Failed could not be written owed; sent directly', { tenantId: ended.tenantId, executionArn, error: e as Error });
  }
  if (owed) await sendOwed(owed);
  else await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, detail);
}

/** The `detail` of Step Functions' "Step Functions Execution Status Change" event (default bus). */
export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name?: string;
  status: 'ABORTED' | 'TIMED_OUT' | 'FAILED' | 'SUCCEEDED' | 'RUNNING' | string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
  /** When it stopped (epoch milliseconds, as the event carries it). */
  stopDate?: number | null;
  /** How many times it had been redriven when it stopped (0: never), as the event carries it. */
  redriveCount?: number | null;
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
 * failure, the step it was at (the state Step Functions' history says it stopped in: stopped-step.ts), the lease released; for a change or upgrade, the tier and version its stack completed
 * an update to, stack-standing.ts, with the usage key moved into that tier's plan: manage-usage-key.ts settleUsageKey) and announced. Triggered by EventBridge's
 * execution status change events of the tessera-* state machines; a no-op for executions that
 * released their lease (every normal end), except that it sends the announcements such an execution
 * still owes (stopped after its completing write, before PutEvents). An execution that failed because its failure recorder
 * failed (stopped-reason.ts failedRecorderCause) is recorded with the failed step's own error, then the recorder's.
 * An execution whose tenant it left in a status only a lease holder sets, without the lease (UPDATING with its history
 * entry still RUNNING: the lease removed by hand, or lost, so its own writes and its failure recorder were refused) is
 * ended the same way (endStranded): before, the tenant stayed UPDATING, refused to every request, for good.
 * With `{ sweep: true }` (its daily schedule), it ends so every lease whose execution ended without a status-change event
 * reaching it (dead-lease-sweep.ts sweepDeadLeases). An event of an execution that Step Functions says runs again
 * (RUNNING or PENDING_REDRIVE: redriven since, same ARN) ends nothing (`ended: false`): the event is stale.
 */
export const handler = lifecycleHandler('End stopped execution', async (event: { detail: ExecutionStatusChange } | { sweep: true }) => {
  // The daily sweep: the leases whose execution ended with no status-change event (missed) ended the same way.
  if ('sweep' in event) return sweepDeadLeases((detail) => endRetried(detail));
  return endRetried(event.detail);
}, { trackStep: false });

/** endStopped, decided again on a fresh read when the execution's still-running Lambda wrote the record meanwhile. */
async function endRetried(detail: ExecutionStatusChange) {
  // Decided again on a fresh read when the execution's still-running Lambda wrote the record meanwhile (RegistryContention).
  for (let attempt = 1; ; attempt++) {
    try {
      return await endStopped(detail);
    } catch (e) {
      if ((e as Error).name !== 'RegistryContention' || attempt >= 3) throw e;
      logger.warn('the record changed while the stopped execution was being ended; reading it again', { executionArn: detail.executionArn, attempt });
    }
  }
}

/** One attempt of the handler, on one read of the record. */
async function endStopped(detail: ExecutionStatusChange) {
  const tenantId = tenantOfInput(detail.input);
  if (!tenantId) return { ended: false, reason: 'no tenant in the execution input' };
  const record = await getTenant(tenantId);
  const lease = record?.lease;
  // Its tenant left UPDATING without a lease (removed by hand, or lost) while this execution ran: ended here as its failure.
  const stranded = record && strandedOperation(record);
  if (record && stranded?.entry?.executionArn === detail.executionArn) return endStrandedExecution(record, stranded, detail);
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
  // The event may be stale: EventBridge retries it for 6 hours, and its dead-letter queue is sent again later (tessera dlq
  // redrive), while Step Functions' redrive runs the execution again under the same ARN from the state it stopped in, its
  // lease still naming it. Ended on the event alone, the redriven execution lost its lease mid-run: its next stack operation
  // refused, the tenant recorded failed on the old tier. Step Functions says whether it runs now (not asked: as before).
  // DescribeExecution is eventually consistent, so RUNNING alone may be a read from before the stop: a redrive is told by
  // its count (or date) having moved past the event's; a RUNNING read without that is taken as stale and the event holds.
  const now = await leaseHolderEnded(lease);
  if (now.status === 'PENDING_REDRIVE' || (now.status === 'RUNNING' && redrivenSince(detail, now))) {
    logger.warn('a status-change event of an execution that runs again (redriven): its lease is kept', { tenantId, executionArn: detail.executionArn, event: detail.status, now: now.status });
    return { ended: false, reason: `execution ${detail.executionArn} runs again (${now.status}: redriven after it ended ${detail.status}); it holds the tenant's lease` };
  }
  // A change stopped after its stack update went through, before Check blueprint recorded it: the registry says what the stack runs.
  // An onboarding's DR stack too (stopped while its change set executed, before Check DR blueprint recorded it).
  const standing = withDrStanding(await stackStanding(record, lease.kind, 'End stopped execution'), lease.kind === 'onboard' ? await drStanding(record) : undefined);
  // The state it stopped in (Step Functions' history), its marked stack update, the status after what ran: endDeadLease, as a
  // request that meets the dead lease ends it. An onboarding stopped between lifting the quarantine and its completing write
  // is fenced again first.
  const { record: result, step, reason } = await endDeadLease(record, lease, (at) => stoppedReason(detail, at), { standing });
  logger.warn('ended the operation of a stopped execution', { tenantId, executionArn: detail.executionArn, status: result.status });
  // The usage key follows the tier the registry records now (a standing, or Check blueprint's before the stop) into its plan.
  const usageKey = await usageKeyAfterEndedChange(lease.kind, record, standing.changes.tier);
  await announceFailure(result, { tenantId, kind: lease.kind, step, reason, executionArn: detail.executionArn, status: result.status, ...(usageKey ? { usageKey } : {}) }, detail.executionArn);
  return { ended: true, status: result.status, ...(usageKey ? { usageKey } : {}) };
}

/** The DR stack's standing of a stopped onboarding (dr-update-standing.ts stoppedOnboardingDrStanding): the change and its notes. */
async function drStanding(record: TenantRecord): Promise<{ changes: Partial<TenantRecord>; notes: string[] }> {
  const notes: string[] = [];
  return { changes: await stoppedOnboardingDrStanding(record, notes), notes };
}

/** `read` (the tenant stack's standing) with the DR stack's (`dr`), when read: their changes together, their notes joined. */
function withDrStanding(read: StackStanding, dr: { changes: Partial<TenantRecord>; notes: string[] } | undefined): EndedStanding {
  if (!dr) return read;
  const note = [read.note, ...dr.notes].filter(Boolean).join('; ');
  return { ...read, changes: { ...read.changes, ...dr.changes }, ...(note ? { note } : {}) };
}

/**
 * Whether Step Functions' read `now` of a RUNNING execution shows a redrive after the stop `detail` reports: its
 * `redriveCount` above the event's, else its `redriveDate` after the event's `stopDate`; when neither pair can be compared
 * (an event without them), true, as a RUNNING read was taken before (the lease kept; the daily sweep asks again). Step
 * Functions' RedriveExecution keeps the execution's ARN and counts each redrive (DescribeExecution `redriveCount`,
 * `redriveDate`); the status-change event carries the count and `stopDate` of the run that stopped.
 */
function redrivenSince(detail: ExecutionStatusChange, now: LeaseHolder): boolean {
  if (typeof detail.redriveCount === 'number' && now.redriveCount !== undefined) return now.redriveCount > detail.redriveCount;
  if (typeof detail.stopDate === 'number' && now.redriveCount !== undefined) return !!now.redriveDate && now.redriveDate.getTime() > detail.stopDate;
  return true;
}

/**
 * Ends the stranded operation (lease.ts strandedOperation) of the execution `detail` names, as a lease holder's is ended
 * above: the tier and version its stack completed an update to (stack-standing.ts), the failure with the step it was at and
 * why it ended, its history entry FAILED, the tenant back to ACTIVE (endStrandedOperation: conditional on the record as
 * read, never over a lease taken meanwhile), the usage key moved into the recorded tier's plan, `Tenant Lifecycle Failed`.
 */
async function endStrandedExecution(record: TenantRecord, stranded: StrandedOperation, detail: ExecutionStatusChange) {
  const standing = await stackStanding(record, stranded.kind, 'End stopped execution');
  const lost = `tenant "${record.tenantId}" was left ${record.status} with no lease (removed outside Tessera, or lost), so its own registry writes were refused`;
  const { record: result, step, reason } = await endStranded(record, stranded, (at) => `${stoppedReason(detail, at)}; ${lost}`, { standing });
  logger.warn('ended the stranded operation of an execution that ended', { tenantId: record.tenantId, executionArn: detail.executionArn, status: result.status });
  const usageKey = await usageKeyAfterEndedChange(stranded.kind, record, standing.changes.tier);
  await announceFailure(result, { tenantId: record.tenantId, kind: stranded.kind, step, reason, executionArn: detail.executionArn, status: result.status, ...(usageKey ? { usageKey } : {}) }, detail.executionArn);
  return { ended: true, status: result.status, ...(usageKey ? { usageKey } : {}) };
}
