import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { offboardedTenantNote, statusList, statusRefusal } from '../shared/status-refusal.js';
import { operationBoundSeconds } from '../../lib/lifecycle-workflow-timeouts.js';
import { isLifecycleEntry, LIFECYCLE_OPERATIONS, STRANDED_STATUSES, type LifecycleExecution, type LifecycleKind, type TenantLease, type TenantRecord, type TenantStatus } from '../../lib/tenant-record.js';
import { platformClient } from '../shared/aws-clients.js';
import { releaseSlot } from '../shared/control-table.js';
import { logger } from '../shared/handler.js';
import { organizationsClient } from '../shared/sessions.js';
import { failedCustomizations } from './customization-failure.js';
import { clipReason, historyReason, MAX_REASON_BYTES } from './catch-reason.js';
import { boundLeftBehind } from './failure-bounds.js';
import { fenceAccount } from './pending-account.js';
import { OwedAnnouncementsFullError, owedRefusal } from './owed-bound.js';
import { markedUpdate } from './marked-stack-update.js';
import { errorAndCause, failedRecorderCause, unrecordedFailure } from './stopped-reason.js';
import type { StackStanding } from './stack-standing.js';
import { stoppedStep } from './stopped-step.js';
import { describeLease, getTenant, RegistryContentionError, TenantBusyError, TenantConflictError, TenantNotFoundError, updateTenant, withExecution } from '../shared/registry.js';

/**
 * The per-tenant lease (TenantRecord.lease): one lifecycle operation per tenant at a time. Rules
 * per operation are in LIFECYCLE_OPERATIONS (lib/tenant-record.ts).
 *
 * - acquireLease: a conditional write (status as read, no lease) that takes the lease, moves the
 *   status to the operation's `during` status and opens its history entry. The holder taking it
 *   again is a no-op, so the admin API can take it for the execution it is about to start and the
 *   execution's first step finds it already its own; a start from anywhere else (console,
 *   StartExecution, a bus replay) takes it in that first step or is refused.
 * - completeOperation / failOperation: the operation's last write (status, history, failure),
 *   which releases the lease in the same conditional write.
 * - A lease whose execution has ended without releasing it (stopped, timed out, or a Lambda that
 *   died before its Catch ran) is ended as that execution's failure (endDeadOperation) by the
 *   execution-status-change handler, or by the next acquirer, who asks Step Functions first.
 * - A record left without a lease in a status only a lease holder sets (UPDATING: STRANDED_STATUSES; the lease removed by
 *   hand, or lost) is ended the same way by the next acquirer (endStrandedOperation), once the execution of its running
 *   history entry, if any, has ended; before, every request was refused for its status and nothing ever moved it.
 */

export interface LeaseRequest {
  readonly kind: LifecycleKind;
  readonly executionArn: string;
  readonly requestId: string;
}

/** How long a lease may name an execution Step Functions does not know yet (the admin API writes the lease just before StartExecution). */
const STARTING_GRACE_MS = 2 * 60_000;

/**
 * The history entry of `request`'s execution with the given outcome: every field its running entry carries (the
 * change's request the lease opened it with, and whatever a step recorded on it meanwhile: `liftedProtections` of a dead
 * stack's removal, an onboarding's `externalQuarantinePolicies`), then `outcome` over them, so the ending step's own
 * fields win only where it sets them. Before, only `change` was kept and the rest was lost when the operation ended.
 * Identity (`kind`, `requestId`, `executionArn`) is the request's; `startedAt` the running entry's (else the lease's, else now).
 */
function entryFor(record: TenantRecord, request: LeaseRequest, outcome: Partial<LifecycleExecution>): LifecycleExecution {
  const started = record.executions.find((e) => e.executionArn === request.executionArn);
  const ended = Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)) as Partial<LifecycleExecution>;
  return {
    ...started,
    kind: request.kind, requestId: request.requestId, executionArn: request.executionArn,
    startedAt: started?.startedAt ?? record.lease?.acquiredAt ?? new Date().toISOString(), status: 'RUNNING', ...ended,
  };
}

/** What leaseHolderEnded read of a lease's execution (DescribeExecution's fields, where it answered). */
export interface LeaseHolder {
  ended: boolean;
  /** Its status; `DOES_NOT_EXIST` for an execution Step Functions does not know; absent when it could not be asked. */
  status?: string;
  error?: string;
  cause?: string;
  /** How many times it was redriven (0: never; DescribeExecution `redriveCount`). */
  redriveCount?: number;
  /** When it was last redriven. */
  redriveDate?: Date;
  /** When it last stopped (absent while it runs). */
  stopDate?: Date;
}

/**
 * Whether the execution holding `lease` has ended (Step Functions DescribeExecution). An
 * execution Step Functions does not know counts as ended once the start grace has passed; when
 * Step Functions cannot be asked, the lease is assumed alive (never taken from a live holder).
 */
export async function leaseHolderEnded(lease: TenantLease, now = Date.now()): Promise<LeaseHolder> {
  try {
    const out = await platformClient(SFNClient).send(new DescribeExecutionCommand({ executionArn: lease.executionArn }));
    return {
      ended: out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE', status: out.status, ...(out.error ? { error: out.error } : {}), ...(out.cause ? { cause: out.cause } : {}),
      ...(out.redriveCount !== undefined ? { redriveCount: out.redriveCount } : {}), ...(out.redriveDate ? { redriveDate: out.redriveDate } : {}), ...(out.stopDate ? { stopDate: out.stopDate } : {}),
    };
  } catch (e) {
    if ((e as Error).name === 'ExecutionDoesNotExist') return { ended: now - Date.parse(lease.acquiredAt) > STARTING_GRACE_MS, status: 'DOES_NOT_EXIST' };
    logger.warn('could not ask Step Functions about a lease holder; treating it as running', { lease, error: e as Error });
    return { ended: false };
  }
}

/** The refusal a start meets while `lease` is held. */
export function busyError(record: TenantRecord, kind: LifecycleKind): TenantBusyError {
  return new TenantBusyError(`tenant "${record.tenantId}" is busy: ${describeLease(record.lease!)} is running; ${kind} ${LIFECYCLE_OPERATIONS[kind].whenBusy === 'wait' ? 'waits for it to end' : 'is refused until it ends'}`);
}

/** Each operation as a sentence names it (statusError). */
const OPERATION_NAMES: Record<LifecycleKind, string> = {
  onboard: 'an onboarding', change: 'a change', upgrade: 'an upgrade', suspend: 'a suspension', resume: 'a resumption', offboard: 'an offboarding',
};

/**
 * The refusal a start meets in a status its operation does not start from, in status-refusal.ts's one sentence (statusRefusal):
 * `tenant "acme" is SUSPENDED, so a change cannot start: it starts only while the tenant is ACTIVE`. An OFFBOARDED tenant
 * takes no operation at all, so its refusal says what is left to do: read its record, or onboard a new tenant under another
 * id (ids are never reused). Until 2026-12-07 it said `tenant "acme" is SUSPENDED; change needs ACTIVE`, and for an
 * OFFBOARDED tenant named the statuses the operation starts from, as if the tenant could get there; and until session 51's
 * hostile pass the OFFBOARDED sentence had a second "so" (`…, and its id is never reused, so onboard a new tenant…`) and a
 * list of statuses read `ACTIVE or SUSPENDED or FAILED or OFFBOARDING`.
 */
export function statusError(record: TenantRecord, kind: LifecycleKind): TenantConflictError {
  const refused = `${OPERATION_NAMES[kind]} cannot start`;
  const allowed = record.status === 'OFFBOARDED'
    ? `${offboardedTenantNote(record.tenantId)}; to start again, onboard a new tenant under another id (ids are never reused)`
    : `it starts only while the tenant is ${statusList(LIFECYCLE_OPERATIONS[kind].from)}`;
  return new TenantConflictError(statusRefusal(record.tenantId, record.status, refused, allowed));
}

/**
 * An operation that no longer applies to the tenant as it is now (a rolling upgrade's run of a
 * tenant moved to another tier, version or status since the upgrade listed it): nothing was
 * written; `record` is the record it was decided on.
 */
export class OperationSkippedError extends Error {
  override readonly name = 'OperationSkipped';
  constructor(message: string, readonly record: TenantRecord) {
    super(message);
  }
}

export interface LeaseOptions {
  /** Extra fields of the history entry the lease opens (a change's request; a rolling upgrade run's actor and upgradeId). */
  readonly entry?: Partial<Pick<LifecycleExecution, 'change' | 'actor' | 'upgradeId'>>;
  /**
   * Why the operation no longer applies to `record` (undefined: it does). Asked on every read of
   * the record before the lease is taken, and before a live holder makes it wait, so the decision
   * is made on the record the conditional write expects: throws OperationSkippedError.
   */
  readonly skipIf?: (record: TenantRecord) => string | undefined;
}

/**
 * Takes the tenant's lease for `request` (see the module comment). `changes` are written in the
 * same conditional write (e.g. a corrected admin email, `currentStep`). Throws TenantNotFound,
 * TenantBusy (another live operation holds it), TenantConflict (the status does not allow the
 * operation, the execution's own operation has ended already: a redrive, redriveRefusal, or the announcements owed fill
 * their bound: owed-bound.ts owedRefusal) or OperationSkipped
 * (`options.skipIf`); none of them changes anything. A dead lease
 * is ended first (endDeadOperation, without the fence: the lease-taking steps and the admin API
 * have no Organizations access), and so is a stranded operation (endStrandedOperation; TenantBusy while the execution of
 * its running history entry has not ended).
 */
export async function acquireLease(tenantId: string, request: LeaseRequest, changes: Partial<TenantRecord> = {}, options: LeaseOptions = {}): Promise<TenantRecord> {
  for (let attempt = 1; ; attempt++) {
    const record = await getTenant(tenantId);
    if (!record) throw new TenantNotFoundError(tenantId);
    if (record.lease?.executionArn === request.executionArn) return record;
    // This execution's operation has ended already (its history entry FAILED or SUCCEEDED): it runs again only as a Step
    // Functions redrive (same ARN) of an execution stopped or timed out in this step, after its lease was ended. (A SKIPPED
    // upgrade run is not: its step retried after a lost answer skips again, through skipIf.)
    const ended = endedEntry(record, request);
    if (ended) throw new TenantConflictError(redriveRefusal(record, request, ended));
    const skip = options.skipIf?.(record);
    if (skip) throw new OperationSkippedError(skip, record);
    if (record.lease) {
      const holder = await leaseHolderEnded(record.lease);
      if (!holder.ended) throw busyError(record, request.kind);
      // What DescribeExecution says of its end: the step's error and the failure recorder's, when that failed too (stopped-reason.ts).
      const unrecorded = failedRecorderCause(holder.cause);
      const why = unrecorded ? `: ${unrecordedFailure(unrecorded)}` : `${errorAndCause(holder)} without recording its outcome`;
      const reason = `execution ${record.lease.executionArn} ended ${holder.status}${why} (found by ${request.kind} ${request.executionArn})`;
      try {
        // As End stopped execution ends it (endDeadLease): the state it stopped in, its marked stack update; without the fence.
        await endDeadLease(record, record.lease, () => reason, { canFence: false, started: holder.status !== 'DOES_NOT_EXIST' });
      } catch (e) {
        // Another request ended the dead lease first (and may hold the tenant now): decide again on what is there.
        if (!(e instanceof TenantBusyError || e instanceof TenantConflictError || e instanceof RegistryContentionError) || attempt >= 5) throw e;
      }
      continue;
    }
    const stranded = strandedOperation(record);
    if (stranded) {
      // An in-progress status no operation holds (the lease removed by hand, or lost): nothing else would ever move it.
      const reason = await strandedReason(record, stranded, request);
      try {
        await endStranded(record, stranded, () => reason);
      } catch (e) {
        // Someone wrote the record between the read and the write (another request ended it first): decide again.
        if (!(e instanceof TenantConflictError || e instanceof RegistryContentionError) || attempt >= 5) throw e;
      }
      continue;
    }
    const op = LIFECYCLE_OPERATIONS[request.kind];
    if (!(op.from as readonly TenantStatus[]).includes(record.status)) throw statusError(record, request.kind);
    // Announcements owed past their bound: the operation would owe one more (owed-bound.ts)
    const owedFull = owedRefusal(record);
    if (owedFull) throw new OwedAnnouncementsFullError(owedFull);
    const at = new Date().toISOString();
    const lease: TenantLease = { ...request, acquiredAt: at, previousStatus: record.status };
    try {
      return await updateTenant(tenantId, {
        ...changes,
        lease,
        status: op.during,
        executions: withExecution({ ...record, executions: endOrphanEntries(record, request, at) }, { kind: request.kind, requestId: request.requestId, executionArn: request.executionArn, startedAt: at, status: 'RUNNING', ...options.entry }),
      }, { holder: null, expectUpdatedAt: record.updatedAt, expectStatus: [record.status] });
    } catch (e) {
      // Someone wrote the record between the read and the write: decide again on what is there now.
      if ((e instanceof RegistryContentionError || e instanceof TenantConflictError) && attempt < 5) continue;
      throw e;
    }
  }
}

/** The history entry of `request`'s execution when its operation has ended (FAILED or SUCCEEDED), by its ARN. */
function endedEntry(record: TenantRecord, request: LeaseRequest): LifecycleExecution | undefined {
  return record.executions.find((e) => e.executionArn === request.executionArn && (e.status === 'FAILED' || e.status === 'SUCCEEDED'));
}

/**
 * Why acquireLease refuses an execution whose operation has ended (`entry`, its history entry): a Step Functions redrive
 * (RedriveExecution keeps the execution's ARN and reruns the state it stopped in: API reference, RedriveExecution) of an
 * execution stopped or timed out in a lease-taking step (Register tenant, Begin change, Set status, Begin offboarding),
 * after the status-change rule, Record failure or the next request ended its lease. Taken again, the lease reopened the
 * ended entry as RUNNING (its failure gone from the history: withExecution replaces the entry of the same ARN) and ran
 * the old request over whatever the registry records since, e.g. a change back to a tier the tenant was moved off.
 */
function redriveRefusal(record: TenantRecord, request: LeaseRequest, entry: LifecycleExecution): string {
  const how = entry.status === 'FAILED' ? `FAILED${entry.failedStep ? ` at ${entry.failedStep}` : ''}${entry.reason ? ` (${entry.reason.slice(0, 300)})` : ''}` : entry.status;
  return `execution ${request.executionArn} already ran its ${entry.kind} of tenant "${record.tenantId}" and it ended ${how}${entry.endedAt ? ` at ${entry.endedAt}` : ''}; `
    + `run again (a Step Functions redrive), it does not take the lease again and changes nothing (the tenant is ${record.status}). `
    + `A new attempt is a new request: tessera tenants retry ${record.tenantId}, or the change, suspend, resume or DELETE sent again`;
}

/**
 * The history of `record` (which no lease holds: acquireLease checked) with each lifecycle entry still `RUNNING` past its
 * workflow's timeout (operationBoundSeconds: Step Functions has ended its execution) ended `FAILED`, its reason saying so
 * and who found it: an execution that ended without its last write while the tenant was not in a status only a lease
 * holder sets (a suspend, a resume; or a change whose tenant was moved on by hand), so neither the status-change rule (no
 * lease of it left to end) nor strandedOperation (not UPDATING) ever ended it, and `platform health` reported it RUNNING
 * for good. Entries within their timeout are left as they are (their execution may still run: no Step Functions call).
 */
function endOrphanEntries(record: TenantRecord, request: LeaseRequest, at: string): LifecycleExecution[] {
  const now = Date.parse(at);
  return record.executions.map((e) => {
    if (!isLifecycleEntry(e) || e.status !== 'RUNNING' || now - Date.parse(e.startedAt) <= operationBoundSeconds(e.kind) * 1000) return e;
    const bound = operationBoundSeconds(e.kind);
    const reason = `recorded RUNNING with no lease holding the tenant past its workflow's timeout (${bound >= 3600 ? `${bound / 3600} h` : `${bound / 60} min`}): its execution${e.executionArn ? ` ${e.executionArn}` : ''} ended without recording its outcome (found by ${request.kind} ${request.executionArn})`;
    return { ...e, status: 'FAILED' as const, endedAt: at, reason };
  });
}

/** The operation a stranded record (strandedOperation) was left in: its kind and, when its history has it still RUNNING, that entry. */
export interface StrandedOperation {
  readonly kind: LifecycleKind;
  readonly entry?: LifecycleExecution;
  /** The status the operation's failure leaves (its kind's `from`: ACTIVE for a change or upgrade). */
  readonly statusAfter: TenantStatus;
}

/**
 * What left `record` in a status only a lease holder sets (STRANDED_STATUSES) without a lease: a lease removed by hand, or
 * one lost some other way. The latest history entry still RUNNING of a kind that holds the tenant in that status names
 * the operation; without one, the first such kind. Undefined for a record with a lease or in any other status.
 */
export function strandedOperation(record: TenantRecord): StrandedOperation | undefined {
  if (record.lease || !STRANDED_STATUSES.has(record.status)) return undefined;
  const kinds = (Object.keys(LIFECYCLE_OPERATIONS) as LifecycleKind[]).filter((k) => LIFECYCLE_OPERATIONS[k].during === record.status);
  const entry = [...record.executions].reverse().find((e) => e.status === 'RUNNING' && (kinds as string[]).includes(e.kind));
  const kind = (entry?.kind as LifecycleKind | undefined) ?? kinds[0];
  const op = LIFECYCLE_OPERATIONS[kind];
  return { kind, entry, statusAfter: op.failure === 'previous' ? op.from[0] : op.failure === 'FAILED' ? 'FAILED' : op.during };
}

/**
 * Why `request` ends a stranded operation (strandedOperation), asking Step Functions about the execution of its running
 * history entry first. @throws TenantBusyError while that execution still runs (its writes fail without the lease, and
 * it ends FAILED soon; its stack update may be under way), naming it
 */
async function strandedReason(record: TenantRecord, stranded: StrandedOperation, request: LeaseRequest): Promise<string> {
  const found = `tenant "${record.tenantId}" was ${record.status} with no operation holding it (no lease: removed outside Tessera, or lost)`;
  const by = `(found by ${request.kind} ${request.executionArn})`;
  const entry = stranded.entry;
  if (!entry?.executionArn) return `${found}, and no execution of it running in its history ${by}`;
  const holder = await leaseHolderEnded({ kind: stranded.kind, executionArn: entry.executionArn, requestId: entry.requestId, acquiredAt: entry.startedAt, previousStatus: stranded.statusAfter });
  if (!holder.ended) {
    throw new TenantBusyError(`${found}, and the execution of its running ${entry.kind} (execution ${entry.executionArn}, request ${entry.requestId}, since ${entry.startedAt}) has not ended: `
      + `${request.kind} is refused until it ends (it can write nothing without the lease, so it ends FAILED at its next registry write; the next request then records it and goes on)`);
  }
  return `${found}; its ${entry.kind} execution ${entry.executionArn} ended ${holder.status}${errorAndCause(holder)} without recording its outcome ${by}`;
}

/**
 * Ends a stranded operation (strandedOperation) as a failure, as endDeadOperation ends a dead lease's: the status its kind
 * leaves on failure (ACTIVE for a change or upgrade, on the tier and version recorded: a stack it updated meanwhile is
 * caught up by the drift check, as for a dead lease ended by the next request), the failure, its running history entry
 * FAILED (none is made up when the history has none), a customization still DEPLOYING FAILED. One write conditional on
 * the record as read (`updatedAt` and status): a lease taken meanwhile, or another request ending it first, makes it fail
 * (TenantConflict or RegistryContention), and nothing is overwritten.
 */
export async function endStrandedOperation(record: TenantRecord, stranded: StrandedOperation, given: OperationFailure): Promise<TenantRecord> {
  const failure = boundedFailure(given);
  const at = new Date().toISOString();
  const customizations = failedCustomizations(record, { kind: stranded.kind, step: failure.step, reason: failure.reason, at }, failure.changes?.customizations ?? record.customizations);
  const entry = stranded.entry;
  return updateTenant(record.tenantId, {
    ...failure.changes,
    ...(customizations ? { customizations } : {}),
    status: stranded.statusAfter,
    currentStep: failure.step,
    failure: { step: failure.step, reason: failure.reason, at, kind: stranded.kind, ...(entry?.executionArn ? { executionArn: entry.executionArn } : {}), ...failure.details },
    ...(entry ? { executions: withExecution(record, { ...entry, endedAt: at, status: 'FAILED', failedStep: failure.step, reason: failure.reason, ...failure.entry }) } : {}),
  }, { holder: null, expectUpdatedAt: record.updatedAt, expectStatus: [record.status] });
}

/**
 * Where an ended execution of `record`'s operation was, for its failure (endDeadLease, endStranded): the step (the state
 * Step Functions' history says it ended in, stopped-step.ts stoppedStep, else the registry's `currentStep`), the note its
 * reason adds, and the status to leave when that step is not the recorded one (statusAfterFailure on the step that ran,
 * `currentStep`: an offboarding stopped after *Begin offboarding*, before the next Lambda recorded itself, changed nothing).
 */
async function endedStep(record: TenantRecord, lease: Pick<TenantLease, 'kind' | 'executionArn' | 'previousStatus'>, started = true): Promise<{ step: string; note?: string; status?: TenantStatus }> {
  const recorded = record.currentStep;
  // An execution Step Functions does not know (never started: leaseHolderEnded's DOES_NOT_EXIST) has no history to read.
  if (!started) return { step: recorded ?? 'unknown' };
  const { step, note } = await stoppedStep(lease.executionArn, recorded ?? 'unknown');
  return { step, note, ...(recorded && step !== recorded ? { status: statusAfterFailure(lease, recorded) } : {}) };
}

/**
 * What whoever ends a dead lease or a stranded operation read of its stacks (stack-standing.ts stackStanding; an onboarding's
 * DR stack, dr-update-standing.ts stoppedOnboardingDrStanding): End stopped execution reads them; a request cannot.
 */
export interface EndedStanding {
  /** Registry fields to write with the failure. */
  changes: Partial<TenantRecord>;
  /** For the failure's reason. */
  note?: string;
  /** The tenant stack still updating (the failure's `stackUpdating`). */
  updating?: StackStanding['updating'];
}

/** Room endDeadLease leaves in a reason for endDeadOperation's note of an account it cannot check (about 300 characters). */
const ACCOUNT_NOTE_ROOM = 400;

/**
 * Ends the dead lease `lease` of `record` (its execution ended without releasing it: Step Functions said so) as that
 * execution's failure. The one end for both who find one: End stopped execution (the status-change rule and the daily sweep,
 * `standing` read from the tenant stack) and the next request that meets it (acquireLease: the admin API and the lease-taking
 * steps, `canFence: false`), so both record the same truth. The failed step is the state Step Functions' history says the
 * execution ended in (endedStep); until 2026-12-06 a request that ended a dead lease named the registry's `currentStep`, the
 * last step whose Lambda had started, though the execution may have completed it and stopped in the state after. The stack
 * update the lease marked before ExecuteChangeSet (marked-stack-update.ts) is the failure's `stackUpdating` unless `standing`
 * saw the stack updating or completed. On the record as read (`asRead`): a write of the execution's still-running Lambda
 * since fails it (RegistryContention), to be decided again on a fresh read.
 * @param why the failure's reason before the notes, given the step it names (End stopped execution: stoppedReason)
 * @param options.started false for an execution Step Functions does not know (leaseHolderEnded's DOES_NOT_EXIST): no history is read @default true
 * @returns the record written, and the step and reason it recorded
 * @throws what endDeadOperation throws (RegistryContention, TenantBusy: another writer ended it first)
 */
export async function endDeadLease(record: TenantRecord, lease: TenantLease, why: (step: string) => string, options: { standing?: EndedStanding; canFence?: boolean; started?: boolean } = {}): Promise<{ record: TenantRecord; step: string; reason: string }> {
  const { step, note, status } = await endedStep(record, lease, options.started);
  const read = options.standing;
  // Its change set recorded on the lease just before ExecuteChangeSet, the stack not seen updating: its Lambda may still send it.
  const marked = !read || (!read.updating && read.changes.tier === undefined) ? markedUpdate(record.tenantId, lease) : undefined;
  const updating = marked?.updating ?? read?.updating;
  // Bounded with its notes kept (historyReason: at least half the room theirs), and room left for endDeadOperation's note of
  // an account it cannot check: failOperation clips a reason from its end, and a long error of the execution cut them all.
  const reason = historyReason(why(step), [note, read?.note, marked?.note].filter((n): n is string => Boolean(n)), MAX_REASON_BYTES - ACCOUNT_NOTE_ROOM);
  const written = await endDeadOperation(record, lease, {
    step, reason, ...(status ? { status } : {}), ...(read ? { changes: read.changes } : {}), asRead: true, ...(updating ? { details: { stackUpdating: updating } } : {}),
  }, { canFence: options.canFence });
  return { record: written, step, reason };
}

/**
 * Ends the stranded operation `stranded` of `record` (strandedOperation) as endDeadLease ends a dead lease, for both who find
 * one (End stopped execution, the next request): the state its execution ended in (endedStep, when its history entry names
 * the execution; else the registry's `currentStep`), the notes, `standing` when read, then endStrandedOperation.
 * @param why the failure's reason before the notes, given the step it names
 */
export async function endStranded(record: TenantRecord, stranded: StrandedOperation, why: (step: string) => string, options: { standing?: EndedStanding } = {}): Promise<{ record: TenantRecord; step: string; reason: string }> {
  const executionArn = stranded.entry?.executionArn;
  const { step, note } = executionArn ? await endedStep(record, { kind: stranded.kind, executionArn, previousStatus: stranded.statusAfter }) : { step: record.currentStep ?? 'unknown', note: undefined };
  const read = options.standing;
  // Bounded with its notes kept, as endDeadLease's (endStrandedOperation clips a reason from its end).
  const reason = historyReason(why(step), [note, read?.note].filter((n): n is string => Boolean(n)));
  const written = await endStrandedOperation(record, stranded, { step, reason, ...(read ? { changes: read.changes } : {}), ...(read?.updating ? { details: { stackUpdating: read.updating } } : {}) });
  return { record: written, step, reason };
}

/**
 * Gives back a lease the admin API took for an execution that Step Functions refused to start:
 * the status it had, the history entry removed, and `restore` (the values of the fields the lease
 * write corrected). No-op when `executionArn` does not hold it.
 */
export async function abandonLease(tenantId: string, executionArn: string, restore: Partial<TenantRecord> = {}): Promise<void> {
  const record = await getTenant(tenantId);
  if (record?.lease?.executionArn !== executionArn) return;
  await updateTenant(tenantId, {
    ...restore, lease: undefined, status: record.lease.previousStatus, executions: record.executions.filter((e) => e.executionArn !== executionArn),
  }, { holder: executionArn });
}

/**
 * The successful end of the operation holding the lease: status `success` of its kind (or
 * `status`), its history entry SUCCEEDED (with the fields of `entry`), `changes`, no current step,
 * no failure, no lease — one conditional write. Idempotent: a retry after the write finds the entry
 * SUCCEEDED and the lease gone and returns the record as it is.
 */
export async function completeOperation(tenantId: string, request: LeaseRequest, changes: Partial<TenantRecord> = {}, status?: TenantStatus, entry: Partial<LifecycleExecution> = {}): Promise<TenantRecord> {
  const record = await getTenant(tenantId);
  if (!record) throw new TenantNotFoundError(tenantId);
  const done = record.executions.find((e) => e.executionArn === request.executionArn && e.status === 'SUCCEEDED');
  if (done && record.lease?.executionArn !== request.executionArn) return record;
  const op = LIFECYCLE_OPERATIONS[request.kind];
  const endedAt = new Date().toISOString();
  try {
    return await updateTenant(tenantId, {
      ...changes,
      status: status ?? op.success,
      lease: undefined,
      currentStep: undefined,
      failure: undefined,
      executions: withExecution(record, entryFor(record, request, { ...entry, endedAt, status: 'SUCCEEDED' })),
    }, { holder: request.executionArn });
  } catch (e) {
    const written = await ownLostWrite(e, tenantId, request.executionArn, (now) => now.executions.some((x) => x.executionArn === request.executionArn && x.status === 'SUCCEEDED' && x.endedAt === endedAt));
    if (written) return written;
    throw e;
  }
}

/**
 * The record as this execution's own last write left it, when that write took effect but its answer was lost: the SDK
 * sends an UpdateItem again after a timeout or a server fault, and the lease the first attempt released fails the
 * retry's condition (TenantBusy), which is no failure of the write. `mine` recognizes the write by what only it wrote
 * (its own timestamp); undefined for anything else (another writer's ending, a lease that is not released).
 */
async function ownLostWrite(e: unknown, tenantId: string, executionArn: string, mine: (record: TenantRecord) => boolean): Promise<TenantRecord | undefined> {
  if (!(e instanceof TenantBusyError)) return undefined;
  const now = await getTenant(tenantId);
  return now && now.lease?.executionArn !== executionArn && mine(now) ? now : undefined;
}

export interface OperationFailure {
  step: string;
  reason: string;
  /** Extra fields of the registry's `failure` (leftBehind, liftedProtections). */
  details?: Partial<NonNullable<TenantRecord['failure']>>;
  /** Extra fields of the history entry (liftedProtections). */
  entry?: Partial<LifecycleExecution>;
  /** Other attributes to write with it (e.g. a resolved account id). */
  changes?: Partial<TenantRecord>;
  /**
   * The status to leave instead of the kind's (statusAfterFailure): an offboarding refused at its first step gives the
   * tenant back the status it had (`lease.previousStatus`). @default statusAfterFailure(lease, step)
   */
  status?: TenantStatus;
  /**
   * The write is also conditional on `updatedAt` as `record` was read: for whoever ends another execution's lease while
   * that execution's Lambda may still write (the status-change rule), so that a write of it since the read (its lease's
   * `stackUpdate`, made just before ExecuteChangeSet) fails this one (RegistryContention) to be decided again on a fresh
   * read, instead of a failure on the old tier landing over a stack update about to start. @default false
   */
  asRead?: boolean;
  /**
   * The announcement the failure owes (`Tenant Lifecycle Failed`: announcements.ts owe), given the status the write leaves,
   * written owed in the same write, so a bus that refuses it for good loses nothing (sent by the step, its retry, *End
   * stopped execution* or `tessera tenants retry`). @default - none owed
   */
  owed?: (status: TenantStatus) => Pick<TenantRecord, 'owedAnnouncements'>;
}

/**
 * `failure` as the tenant item keeps it, within DynamoDB's 400 KB item (an UpdateItem past it is refused, ValidationException
 * "Item size has exceeded the maximum allowed size", and the registry went on saying the status before the failure): its
 * `reason` and the history entry's at most MAX_REASON_BYTES UTF-8 bytes (catch-reason.ts clipReason, the marker naming the
 * whole length), its `leftBehind` the first MAX_LEFT_BEHIND resources (failure-bounds.ts boundLeftBehind) with
 * `leftBehindOmitted` the count of the rest. Record failure bounds its own before (the history's split between the error and
 * what it found, historyReason); this is the bound for every writer of a failure (End stopped execution, a request that
 * ends a dead lease or a stranded operation). Until 2026-12-07 neither was bounded.
 */
export function boundedFailure(failure: OperationFailure): OperationFailure {
  const details = failure.details;
  const bounded = details?.leftBehind ? boundLeftBehind(details.leftBehind) : undefined;
  const omitted = (details?.leftBehindOmitted ?? 0) + (bounded?.omitted ?? 0);
  return {
    ...failure,
    reason: clipReason(failure.reason, MAX_REASON_BYTES),
    ...(details ? { details: { ...details, ...(bounded ? { leftBehind: bounded.leftBehind } : {}), ...(omitted ? { leftBehindOmitted: omitted } : {}) } } : {}),
    ...(failure.entry?.reason !== undefined ? { entry: { ...failure.entry, reason: clipReason(failure.entry.reason, MAX_REASON_BYTES) } } : {}),
  };
}

/**
 * The offboarding's steps before its first change (*Check rebuilt stack*, which looks for a tenant rebuilt in its DR
 * region, and *Begin offboarding*, which takes the lease): an offboarding that ended at one of them did nothing (no key or
 * user revoked, nothing exported, no protection lifted, no stack deleted). Each later step records itself as the tenant's
 * `currentStep` before it does anything (handler.ts markStep), and the admin API's lease write records the first
 * (OFFBOARDING_FIRST_STEP), so a `currentStep` among these says that none of them ran.
 */
export const UNTOUCHED_OFFBOARDING_STEPS: ReadonlySet<string> = new Set(['Check rebuilt stack', 'Begin offboarding']);

/** The offboarding workflow's first Task state (constructs/lifecycle-workflows.ts offboardDefinition): what an offboarding whose lease was just taken is at. */
export const OFFBOARDING_FIRST_STEP = 'Check rebuilt stack';

/**
 * The first Task state of the workflow each operation the admin API starts under a lease it takes runs
 * (constructs/lifecycle-workflows.ts; test/infra/lifecycle-definitions.test.ts checks each): the admin API records it as
 * the tenant's `currentStep` with the lease, so the record never shows, and a stop before that step's Lambda ran never
 * records as the failed step, the step the tenant's last operation left there (a failed change's *Deploy blueprint* on
 * a suspension).
 */
export const FIRST_STEPS = { change: 'Check rebuilt stack', suspend: 'Set status', resume: 'Set status', offboard: OFFBOARDING_FIRST_STEP } as const satisfies Partial<Record<LifecycleKind, string>>;

/**
 * The status a failed operation leaves (LIFECYCLE_OPERATIONS[kind].failure); for an offboarding that ended at `step`
 * before its first change (UNTOUCHED_OFFBOARDING_STEPS), the status the tenant had (`lease.previousStatus`): nothing of
 * it was done, so the tenant is served again (ACTIVE), or resumable (SUSPENDED), as before the request. Until 2026-12-06
 * an offboarding stopped there (StopExecution, a time-out: end-stopped-execution.ts, or a dead lease the next request
 * ended) left the tenant OFFBOARDING, not served, refused every request but DELETE, while a refusal there
 * (record-failure.ts) gave its status back.
 * @param step the step it ended at (the failure's) @default - the kind's status
 */
export function statusAfterFailure(lease: Pick<TenantLease, 'kind' | 'previousStatus'>, step?: string): TenantStatus {
  if (lease.kind === 'offboard' && step !== undefined && UNTOUCHED_OFFBOARDING_STEPS.has(step)) return lease.previousStatus;
  const op = LIFECYCLE_OPERATIONS[lease.kind];
  if (op.failure === 'FAILED') return 'FAILED';
  if (op.failure === 'during') return op.during;
  return lease.previousStatus;
}

/**
 * Ends the operation of an execution that ended without recording its outcome (stopped, timed
 * out, a Lambda that died before its Catch ran): found by Step Functions' status-change rule
 * (end-stopped-execution.ts) or by the next request that meets its lease (acquireLease). An
 * account-mode onboarding may have stopped between *Activate tenant* lifting the quarantine and its
 * completing write: the account is fenced again first, so a FAILED tenant never has an open
 * account (Step Functions' status-change rule, which has Organizations access). A caller without
 * that access (`canFence: false`: the lease-taking steps and the admin API, through acquireLease)
 * records the failure with the account named as not checked instead of claiming it is fenced.
 * Then failOperation. @default canFence true
 */
export async function endDeadOperation(record: TenantRecord, lease: TenantLease, failure: OperationFailure, options: { canFence?: boolean } = {}): Promise<TenantRecord> {
  if (lease.kind === 'onboard' && record.isolation === 'account' && record.accountId) {
    if (options.canFence !== false) await fenceAccount(await organizationsClient(), record.accountId);
    else {
      // Whoever ends it here cannot reach Organizations: the record says what it could not check.
      const open = `; account ${record.accountId} may be without its quarantine SCP (the onboarding may have stopped after lifting it, and this request cannot check it): a retry of the onboarding ends with it lifted as an ACTIVE tenant's, offboarding retires the account`;
      // Kept whole however long the reason before it (historyReason; failOperation would clip it from the end).
      return failOperation(record, lease, { ...failure, reason: historyReason(failure.reason, [open.slice(2)]) });
    }
  }
  return failOperation(record, lease, failure);
}

/**
 * The failed end of the operation holding `lease`: the status its kind leaves on failure, the
 * failure (step, reason, kind, execution), its history entry FAILED, each customization still DEPLOYING recorded FAILED
 * with the failure's reason (failedCustomizations: *Record failure* and a stopped execution's end both come here), no lease — one write,
 * conditional on `lease` still being held, so it never touches a record another execution holds
 * or a terminal one. An onboarding's account-creation slot is given back. Its own write whose answer was lost
 * (ownLostWrite) answers the record as written.
 */
export async function failOperation(record: TenantRecord, lease: TenantLease, given: OperationFailure): Promise<TenantRecord> {
  const failure = boundedFailure(given);
  const at = new Date().toISOString();
  if (lease.kind === 'onboard') await releaseSlot(record.tenantId);
  // A customization still recorded DEPLOYING: nothing deploys it once this operation ends (customization-failure.ts).
  const customizations = failedCustomizations(record, { kind: lease.kind, step: failure.step, reason: failure.reason, at }, failure.changes?.customizations ?? record.customizations);
  const status = failure.status ?? statusAfterFailure(lease, failure.step);
  try {
    return await updateTenant(record.tenantId, {
      ...failure.changes,
      ...(given.owed ? given.owed(status) : {}),
      ...(customizations ? { customizations } : {}),
      status,
      lease: undefined,
      currentStep: failure.step,
      failure: { step: failure.step, reason: failure.reason, at, kind: lease.kind, executionArn: lease.executionArn, ...failure.details },
      executions: withExecution(record, entryFor(record, lease, { endedAt: at, status: 'FAILED', failedStep: failure.step, reason: failure.reason, ...failure.entry })),
    }, { holder: lease.executionArn, ...(failure.asRead ? { expectUpdatedAt: record.updatedAt } : {}) });
  } catch (e) {
    // Its own write whose answer was lost (ownLostWrite): Record failure then threw TenantBusy, the execution ended FAILED at
    // Record failure with that error, and `Tenant Lifecycle Failed` was never sent, though the failure was recorded.
    const written = await ownLostWrite(e, record.tenantId, lease.executionArn, (now) => now.failure?.executionArn === lease.executionArn && now.failure.at === at);
    if (written) return written;
    throw e;
  }
}
