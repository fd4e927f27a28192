import type { TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { listTenants } from '../shared/registry.js';
import { leaseHolderEnded, strandedOperation } from './lease.js';

/** What End stopped execution is given for one ended execution: the fields of Step Functions' status-change event it reads. */
export interface EndedExecution {
  executionArn: string;
  stateMachineArn: string;
  status: string;
  input: string;
  error?: string | null;
  cause?: string | null;
  /** When it stopped (epoch milliseconds), as DescribeExecution answered the sweep. */
  stopDate?: number | null;
  /** How many times it had been redriven, as DescribeExecution answered the sweep: End stopped execution asks again, and only a count above it is a redrive since. */
  redriveCount?: number | null;
}

/** What one sweep did (the Lambda's result, and its log). */
export interface SweepResult {
  /** Tenants held by a lease, or left UPDATING with a RUNNING change or upgrade and no lease (strandedOperation). */
  checked: number;
  /** Those whose execution Step Functions says has ended, each ended as the status-change rule would. */
  ended: Array<{ tenantId: string; executionArn: string; status: string }>;
  /** Those whose ending failed (logged; the next sweep, or the next request, tries again). */
  failed: Array<{ tenantId: string; executionArn: string; error: string }>;
}

/**
 * The daily sweep of dead leases (End stopped execution's `{ sweep: true }`, from its daily schedule). Step Functions'
 * status-change events are delivered to EventBridge on a best-effort basis, so the rule that ends the operation of a
 * stopped, timed-out or failed execution can miss one: its tenant then stayed PROVISIONING, UPDATING or OFFBOARDING (or
 * ACTIVE/SUSPENDED under a suspend's or resume's lease) with a dead lease until someone sent a request for it. Each
 * tenant the registry holds under a lease, or left UPDATING with no lease (strandedOperation: the execution of its
 * RUNNING entry), is asked about (DescribeExecution, lease.ts leaseHolderEnded: a live or unknown-yet execution, or one
 * Step Functions cannot be asked about, is left alone), and each ended one is handed to `end` as the status-change event
 * would have (its status, error and cause; its input naming the tenant). One failing tenant does not stop the others.
 * @param end End stopped execution's own ending (end-stopped-execution.ts), idempotent
 */
export async function sweepDeadLeases(end: (detail: EndedExecution) => Promise<unknown>): Promise<SweepResult> {
  const tenants: TenantRecord[] = await listTenants();
  const result: SweepResult = { checked: 0, ended: [], failed: [] };
  for (const t of tenants) {
    const stranded = strandedOperation(t);
    const held = t.lease ?? (stranded?.entry?.executionArn
      ? { kind: stranded.kind, executionArn: stranded.entry.executionArn, requestId: stranded.entry.requestId, acquiredAt: stranded.entry.startedAt, previousStatus: stranded.statusAfter }
      : undefined);
    if (!held) continue;
    result.checked++;
    const holder = await leaseHolderEnded(held);
    if (!holder.ended) continue;
    const status = holder.status ?? 'ENDED';
    try {
      await end({
        executionArn: held.executionArn, stateMachineArn: held.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''), status,
        input: JSON.stringify({ request: { tenantId: t.tenantId, requestId: held.requestId } }), error: holder.error ?? null, cause: holder.cause ?? null,
        stopDate: holder.stopDate?.getTime() ?? null, redriveCount: holder.redriveCount ?? null,
      });
      result.ended.push({ tenantId: t.tenantId, executionArn: held.executionArn, status });
    } catch (e) {
      logger.error('the sweep could not end a dead lease; the next sweep or request tries again', { tenantId: t.tenantId, executionArn: held.executionArn, error: e as Error });
      result.failed.push({ tenantId: t.tenantId, executionArn: held.executionArn, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  if (result.ended.length || result.failed.length) logger.warn('dead leases swept', { ...result });
  return result;
}
