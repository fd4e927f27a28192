import { DeleteStackCommand, paginateListStacks, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { pages } from '../../lib/aws-pages.js';
import { LIFECYCLE_EVENTS, type LeftBehindResource, type LifecycleKind, type TenantRecord, type TenantStatus } from '../../lib/tenant-record.js';
import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { tierConfig } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, recordRefusal, sameExecution, updateTenant, withExecution } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { cloudFormationFor, describeStack, executionRoleArn, stackName, type BlueprintKind } from './blueprints.js';
import { DEAD_STACK_STATUSES, removeDeadTenantStack } from './dead-stack.js';
import { executionLedger, liftTerminationProtection } from './protection-lift.js';
import { continueRollbackAdvice, firstFailure, leftBehindFrom, stackEvents } from './stack-events.js';
import { boundLeftBehind, describeBoundedLeftBehind, recordedFailureReason } from './failure-bounds.js';
import { owe, owedAnnouncementNote, oweOnRecord, sendOwed } from './announcements.js';
import { checkDrStores, describeDrStores } from './dr-stores.js';
import { catchReason, fullCatchReason, historyReason } from './catch-reason.js';
import { endStrandedOperation, failOperation, strandedOperation, UNTOUCHED_OFFBOARDING_STEPS, type StrandedOperation } from './lease.js';
import { fenceAccount, resolvePendingAccount } from './pending-account.js';
import { ownershipProblem } from './stack-ownership.js';
import { usageKeyAfterEndedChange } from './manage-usage-key.js';
import { stackStanding } from './stack-standing.js';
import { markedStanding } from './marked-dr-standing.js';
import { misplacedAccountNote } from './account-placement-note.js';
import { drCreateStanding, tierHasDrIn } from './dr-create-standing.js';
import { onboardingDrUpdateStanding } from './dr-update-standing.js';
import type { LifecycleState } from './state.js';
import { deleteStackTarget, deleteStackToken } from './delete-token.js';
import { holdLeaseFor } from './stack-operation-lease.js';
import { stackTierAndVersion } from './stack-tags.js';

/** Stacks in these states never worked (a create that failed): remove them so a re-run can create them afresh. */
const NEVER_WORKED = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED']);

/**
 * Whether Record failure removes a tenant stack in `status` after a failed `kind`: one that never
 * worked, always; a DELETE_FAILED one only when the stack was meant to go or never served
 * (onboarding, offboarding). A live tenant's DELETE_FAILED stack (someone else's deletion) still
 * holds its database: it is named in the failure for an operator, never deleted by a change.
 */
const removable = (status: string, kind: LifecycleKind) => NEVER_WORKED.has(status) || (DEAD_STACK_STATUSES.has(status) && (kind === 'onboard' || kind === 'offboard'));

export interface FailureInput extends LifecycleState {
  kind: LifecycleKind;
  /** The Catch's ResultPath: `{ Error, Cause }`, Cause being the Lambda's JSON error. */
  error: { Error: string; Cause?: string };
  /** The state that failed, set by the Catch's own Pass state (the registry's currentStep is the fallback). */
  failedStep?: string;
}

/**
 * An execution that failed without holding the tenant's lease. Refused before it took it (another
 * request's tenant, another operation running, a status its operation does not start from, a tenant
 * rebuilt in its DR region): the refusal goes on the bus and, where the record exists, into its
 * `lastRefusal` alone (registry.ts recordRefusal: no lease, `updatedAt` untouched; the lease, status,
 * failure and history are left to the operation that may hold the tenant). Before, only the bus said it. Run again after its own failure was recorded
 * (the announcement of it failed): that failure is announced again, not as a refusal. Failed after its last registry write had
 * released the lease: an announcement it owes is sent again (announceOwed: the history stays
 * SUCCEEDED, the operation took effect); one that owes nothing (its announcement was sent and cleared
 * before the failure, or since) took effect and was announced: nothing is written, its history stays
 * SUCCEEDED (before, it was rewritten FAILED and a failure announced for a change that stands). A
 * history entry still RUNNING (its operation's lease was ended by someone else) is corrected to FAILED
 * — the registry never reports success for a failed execution — and nothing else changes.
 */
async function recordWithoutLease(input: FailureInput, record: TenantRecord | undefined, step: string, reason: string) {
  const tenantId = input.request.tenantId;
  const own = record?.executions.find((e) => e.executionArn === input.executionArn);
  if (record && own?.status === 'SUCCEEDED' && record.owedAnnouncements?.some((a) => a.executionArn === input.executionArn)) {
    return announceOwed(input, record, step, reason);
  }
  if (record && own?.status === 'SUCCEEDED') {
    // Its completing write was made (history SUCCEEDED, lease released) and it owes nothing: the announcement was sent and
    // cleared (by this step before it failed — a timeout after PutEvents —, by an earlier attempt of Record failure whose
    // answer was lost, or by `tessera tenants retry`). The operation took effect and was announced: the history stays
    // SUCCEEDED, nothing is written, no failure is announced, and the execution ends SUCCEEDED as the registry records it.
    logger.warn('an operation that took effect and was announced failed after its completing write; its history stays SUCCEEDED', { tenantId, executionArn: input.executionArn, step, reason });
    return { status: record.status, step, reason, announced: [] as string[], recorded: 'announced' as const };
  }
  // Its tenant left in a status only a lease holder sets (UPDATING) with no lease (removed by hand, or lost while it ran: its
  // guarded writes failed for it): ended here as its failure (lease.ts endStrandedOperation), the stack's standing read as
  // for a held lease. Before, only its history entry was corrected to FAILED and the tenant stayed UPDATING, refused to
  // every request, with no failure recorded.
  const stranded = record && strandedOperation(record);
  if (record && stranded && stranded.entry?.executionArn === input.executionArn) return endStrandedFailure(input, record, stranded, step, reason);
  if (record && own && own.status !== 'FAILED') {
    const at = new Date().toISOString();
    const failed = { tenantId, kind: input.kind, step, reason, executionArn: input.executionArn, status: record.status };
    const written = await updateTenant(tenantId, { executions: withExecution(record, { ...own, status: 'FAILED', endedAt: at, failedStep: step, reason }), ...owe(record, LIFECYCLE_EVENTS.failed, failed, input.executionArn) }, { holder: null, expectUpdatedAt: record.updatedAt });
    await sendOwed(written);
    return { status: record.status, step, reason, recorded: 'history' as const };
  }
  if (record && own?.status === 'FAILED') {
    // Its failure is recorded already (an earlier attempt of this task made its write, then PutEvents failed and Step
    // Functions ran it again): announced again as that failure, never as a refusal (it held the lease), nothing written.
    const recorded = record.failure?.executionArn === input.executionArn ? record.failure : undefined;
    const failedStep = recorded?.step ?? own.failedStep ?? step;
    const failedReason = recorded?.reason ?? own.reason ?? reason;
    // Still owed (the earlier attempt's send failed): that announcement, as kept, with the outbox (and cleared once sent).
    // None owed (sent and cleared, then the attempt timed out; a failure another ending recorded, a redrive): announced
    // again as the failure recorded, nothing written, as before.
    if (record.owedAnnouncements?.some((a) => a.executionArn === input.executionArn && a.detailType === LIFECYCLE_EVENTS.failed)) await sendOwed(record);
    else await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: input.kind, step: failedStep, reason: failedReason, executionArn: input.executionArn, status: record.status });
    return { status: record.status, step: failedStep, reason: failedReason };
  }
  // Where the record exists, it says what was refused and why (lastRefusal), beside what the bus says: only that attribute,
  // never the lease, status, failure or history, which are the running operation's (registry.ts recordRefusal).
  let recorded = false;
  if (record) {
    try {
      recorded = await recordRefusal(tenantId, { kind: input.kind, requestId: input.request.requestId, ...(input.executionArn ? { executionArn: input.executionArn } : {}), step, reason, at: new Date().toISOString() });
    } catch (e) {
      logger.warn('could not record the refusal in the registry; it is announced on the bus', { tenantId, executionArn: input.executionArn, error: e as Error });
    }
  }
  await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, {
    tenantId, kind: input.kind, step, reason, requestId: input.request.requestId, executionArn: input.executionArn, refused: true, ...(record ? { status: record.status } : {}),
  });
  return { status: 'REFUSED' as const, step, reason, ...(recorded ? { recorded: 'refusal' as const } : {}) };
}

/**
 * An execution whose operation completed (history SUCCEEDED, lease released) but whose
 * announcement failed after that write: the operation took effect, so the history stays SUCCEEDED.
 * The owed announcement is sent again; if it still fails it stays owed on the record (sent by
 * `tessera tenants retry`) and the history entry says which announcement failed and why.
 */
async function announceOwed(input: FailureInput, record: TenantRecord, step: string, reason: string) {
  try {
    const announced = await sendOwed(record);
    return { status: record.status, step, announced, recorded: 'announced' as const };
  } catch (e) {
    const owed = record.owedAnnouncements!.filter((a) => a.executionArn === input.executionArn).map((a) => a.detailType).join(', ');
    const note = owedAnnouncementNote(input.kind, owed, reason, `${(e as Error).name}: ${(e as Error).message}`, record.tenantId);
    const now = await getTenant(record.tenantId);
    const entry = now?.executions.find((x) => x.executionArn === input.executionArn);
    if (now && entry) await updateTenant(record.tenantId, { executions: withExecution(now, { ...entry, reason: note }) }, { holder: null, expectUpdatedAt: now.updatedAt }).catch(() => undefined);
    logger.error('announcement owed after a completed operation', { tenantId: record.tenantId, executionArn: input.executionArn, error: e as Error });
    return { status: record.status, step, reason: note, recorded: 'announcement-owed' as const };
  }
}


/**
 * The Catch of every lifecycle state machine. It writes to the registry only for the execution
 * that holds the tenant's lease (recordWithoutLease otherwise); then it removes stacks that never
 * came up, frees the account-creation slot, fences an account Organizations finished creating
 * meanwhile, and ends the operation (failOperation, one conditional write that releases the
 * lease): the status its kind leaves on failure (an onboarding FAILED; a change or status change
 * the status that was true before it, so a tenant whose change failed is still ACTIVE and served;
 * an offboarding OFFBOARDING, resumed by DELETE again — except one that failed at its first steps, *Check rebuilt stack*
 * or *Begin offboarding*, which did nothing but take the lease: the status it had, no stack touched), the failure with the step and the reason,
 * the history entry FAILED. It never overwrites a terminal record or another execution's, and deletes no stack once its
 * execution lost the lease while it ran (stopped or timed out meanwhile: each DeleteStack behind holdLeaseFor, as every
 * step's stack operation; the stack is left to whoever holds the tenant next).
 *
 * Only stacks Tessera's workflow created for the tenant are touched (stack-ownership.ts). Tenant
 * stacks are created with `RetainExceptOnCreate`, so a rolled-back create leaves nothing; should
 * a dead stack's events still show resources `DELETE_SKIPPED` or `DELETE_FAILED`, they are named
 * (logical id, type, physical id) in the registry's `failure.leftBehind` and in the event, because
 * a re-run would collide with them. A dead tenant stack that cannot be deleted as it is
 * (ROLLBACK_FAILED on a protected database, or DELETE_FAILED) first has its protections lifted
 * (removeDeadTenantStack), each through liftOnRecord: its intent on record before the call, then the lift in the
 * execution's history entry as it is made (before the next: a timeout later in the step, or between a lift and its
 * record, loses none), then in `failure.liftedProtections`, the audit bucket and on the bus
 * (the termination protection of a dead namespace or DR stack too, lifted before its deletion); what its deletion then removes is no longer named as
 * left behind. A change whose stack update rolled back leaves the tenant ACTIVE on its previous
 * version, with the failure recorded. A stack update the lease marked just before ExecuteChangeSet that no step recorded (its
 * answer lost) is recorded as End stopped execution records it (marked-dr-standing.ts markedStanding): a DR stack whose update
 * completed on the version it runs, else the failure's pending `stackUpdating`. An onboarding marks none: its DR stack
 * recorded ACTIVE is read back and recorded on the tier and version its completed update runs (dr-update-standing.ts).
 */
export const handler = lifecycleHandler('Record failure', async (input: FailureInput) => {
  const tenantId = input.request.tenantId;
  const reason = catchReason(input.error);
  const record = await getTenant(tenantId);
  const step = input.failedStep ?? record?.currentStep ?? 'unknown';
  const lease = record?.lease;
  if (!record || !lease || lease.executionArn !== input.executionArn) return recordWithoutLease(input, record, step, reason);
  const requestId = input.request.requestId;
  const started = record.executions.find((e) => sameExecution(e, { kind: input.kind, requestId, executionArn: input.executionArn }));
  // Each lift goes through liftOnRecord: its intent on record before the call, then the execution's history entry as it is
  // made, before the next. Kept for failOperation's write at the end, a Lambda timeout after a lift (the DR stack's
  // cleanup, the write itself) lost it, and the re-run found the protection off and neither lifted nor recorded it again;
  // one made by an earlier step that ended before recording it (Deploy blueprint's removal of a dead stack, timed out) is
  // found by its intent and recorded here. The re-run reads the entry's lifts back.
  const entry = started ?? { kind: input.kind, requestId, executionArn: input.executionArn, startedAt: lease.acquiredAt, status: 'RUNNING' as const };
  const ledger = executionLedger(tenantId, entry);
  const actor = (why: string) => ({ requestId, executionArn: input.executionArn, step: 'Record failure', reason: why });
  // The DR stack's termination protection, lifted by removeDeadDrStack before its deletion, and the namespace stack's
  // (below): on record as the primary's are (removeDeadTenantStack), each with its own reason. They were lifted
  // unrecorded, so no one could tell that Tessera had turned them off.
  const liftDrProtection = (cfn: CloudFormationClient, stack: Stack) => liftTerminationProtection(cfn, record, stack, ledger, actor('dead DR stack: lifted so that the stack can be deleted'));
  const cleanup: string[] = [];
  const leftBehind: LeftBehindResource[] = [];
  // An offboarding that failed at its first steps (a tenant rebuilt in its DR region is refused at Check rebuilt stack:
  // check-rebuilt-stack.ts) did nothing but take the lease: no stack of it is touched, and the tenant gets back the status it had.
  const untouched = lease.kind === 'offboard' && UNTOUCHED_OFFBOARDING_STEPS.has(step);
  if (record.accountId && !untouched) {
    for (const kind of ['namespace', 'tenant'] as BlueprintKind[]) {
      try {
        const cfn = await cloudFormationFor(record, kind, 'cleanup');
        const name = stackName(tenantId, kind);
        const stack = await describeStack(cfn, name);
        const status = stack?.StackStatus ?? '';
        if (!stack || !(kind === 'tenant' ? removable(status, input.kind) : NEVER_WORKED.has(status))) continue;
        const notOurs = ownershipProblem(stack, record, kind);
        if (notOurs) {
          cleanup.push(`left ${status} stack ${name} alone: ${notOurs}`);
          continue;
        }
        let found: LeftBehindResource[] = [];
        try {
          found = leftBehindFrom(name, await stackEvents(cfn, stack.StackId ?? name));
        } catch (e) {
          logger.warn('could not read the events of a failed stack', { stack: name, error: e as Error });
        }
        if (kind === 'namespace') {
          leftBehind.push(...found);
          // Created with termination protection (Deploy blueprint): its lift on record before the deletion, as the DR stack's.
          await liftTerminationProtection(cfn, record, stack, ledger, actor(`dead namespace stack ${status}: lifted so that the stack can be deleted`));
          await holdLeaseFor(tenantId, `DeleteStack of stack ${name}`);
          await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(stack), ClientRequestToken: deleteStackToken(input.executionArn ?? requestId, stack, 'Record failure') }));
          cleanup.push(`deleted ${status} stack ${name}`);
          continue;
        }
        try {
          const removal = await removeDeadTenantStack(cfn, { ...record, accountId: record.accountId }, stack, {
            ledger, requestId, executionArn: input.executionArn, step: 'Record failure',
            beforeDelete: (operation) => holdLeaseFor(tenantId, operation),
          });
          // A stack that could not roll back or be deleted still holds what failed to delete: it goes
          // with the stack now. What was retained stays outside it.
          const stillHeld = (r: LeftBehindResource) => r.status === 'DELETE_FAILED' && (status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED');
          leftBehind.push(...(removal.deleted ? found.filter((r) => !stillHeld(r)) : found));
          cleanup.push(removal.deleted
            ? `deleted ${status} stack ${name}`
            : `kept ${status} stack ${name} until the protection of ${removal.waitingFor.join(', ')} shows lifted; a re-run deletes it`);
        } catch (e) {
          leftBehind.push(...found);
          throw e;
        }
      } catch (e) {
        logger.warn('cleanup of a stack failed; a re-run retries it', { error: e as Error });
      }
    }
  }
  const notes: string[] = [];
  // A change whose stack update went through before the step that records it failed: the registry says what the stack runs.
  const standing = await stackStanding(record, lease.kind, 'Record failure');
  if (standing.note) notes.push(standing.note);
  // An account tenant's account outside the OU of the tier recorded (a tier change that failed after Move account): said.
  const placement = await misplacedAccountNote(record, lease.kind, standing.changes.tier ?? record.tier);
  if (placement) notes.push(placement);
  // The DR stack is judged against the tier the tenant stack runs (the standing's, when it completed an update the
  // registry had not recorded): before, the tier before the change, so a move onto a DR tier that failed after its primary
  // completed recorded the DR stack RETAINED while the registry recorded the DR tier.
  const standingRecord: TenantRecord = { ...record, ...standing.changes };
  const changes: Partial<TenantRecord> = {
    ...standing.changes,
    ...(lease.kind === 'onboard' ? await settlePendingAccount(record, cleanup, notes) : {}),
    ...(record.accountId && !untouched ? await removeDeadDrStack(standingRecord, { executionArn: input.executionArn, since: lease.acquiredAt, kind: input.kind, liftTermination: liftDrProtection }, cleanup, leftBehind, notes) : {}),
  };
  if (!changes.disasterRecovery) Object.assign(changes, drStackLeftRetained(standingRecord, input, notes));
  // The update its lease marked just before ExecuteChangeSet, when the tenant stack's read above found none: the step's answer
  // after the call was lost (a DR stack's update went through unrecorded), as End stopped execution records it for a stop.
  const marked = !standing.updating && standing.changes.tier === undefined && standing.changes.blueprintVersion === undefined && !changes.disasterRecovery
    ? await markedStanding(record, lease, 'cleanup') : undefined;
  if (marked?.note) notes.push(marked.note);
  Object.assign(changes, marked?.changes);
  // An onboarding re-run's update of the standing DR stack whose ExecuteChangeSet answer was lost (an onboarding marks none
  // on its lease): the DR stack as it stands, on the tier and version its tags say (dr-update-standing.ts).
  if (lease.kind === 'onboard' && !changes.disasterRecovery) Object.assign(changes, await onboardingDrUpdateStanding(record, cleanup, notes));
  const updating = standing.updating ?? marked?.updating;

  const liftedProtections = [...ledger.lifts()];
  const lifted = liftedProtections.length ? { liftedProtections } : {};
  // What was left behind, bounded (failure-bounds.ts): the first MAX_LEFT_BEHIND resources and how many more, in the registry,
  // the reason, the event and the output alike. Hundreds of them, or a long CloudFormation reason chain, passed DynamoDB's
  // 400 KB item: the failure's write was refused and the registry kept the status before the failure.
  const bounded = boundLeftBehind(leftBehind);
  const leftOut = bounded.leftBehind.length ? { leftBehind: bounded.leftBehind, ...(bounded.omitted ? { leftBehindOmitted: bounded.omitted } : {}) } : {};
  const found = [describeBoundedLeftBehind(bounded), ...notes].filter(Boolean);
  const fullReason = [reason, ...found].join('; ');
  // The failure's reason and the history entry's are the same, bounded (historyReason: at most MAX_REASON_BYTES, what was
  // found keeping at least half): the failure is cleared by the next run, and until 2026-12-07 the entry kept the step's
  // error alone, so after a retry nothing said what the failure had left behind; the failure's own was unbounded. The event
  // and the output keep `fullReason` (the step's error as catchReason clips it, then all that was found).
  const recordedReason = recordedFailureReason(fullCatchReason(input.error), notes, bounded);
  // A change set refused by the guard (change-set-guard.ts): the resources it would have destroyed, named on the bus too.
  // (`refused` alone means an execution refused before it took the lease: recordWithoutLease.)
  const refusal = input.error.Error === 'ChangeRefused' && record.changeSetRefusal?.executionArn === input.executionArn ? record.changeSetRefusal : undefined;
  const refused = refusal ? { changeSetRefused: true, refusedChanges: refusal.resources, changeSetName: refusal.changeSetName } : {};
  const accountId = changes.accountId ?? record.accountId;
  const failed = (status: TenantStatus) => ({
    tenantId, kind: input.kind, step, reason: fullReason, executionArn: input.executionArn, status, accountId, cleanup, ...leftOut, ...lifted, ...refused,
  });
  // `Tenant Lifecycle Failed` owed in the failure's own write (announcements.ts owe, bounded as every owed announcement is),
  // then sent: until 2026-12-07 it was only sent after the write, and a bus that refused it for good (a bus policy that
  // refuses the platform, past Step Functions' retries) lost it while the registry held the failure.
  const ended = await failOperation(record, lease, {
    step, reason: recordedReason, details: { ...leftOut, ...lifted, ...(updating ? { stackUpdating: updating } : {}) }, entry: { reason: recordedReason, ...lifted }, changes,
    ...(untouched ? { status: lease.previousStatus } : {}),
    owed: (status) => owe(record, LIFECYCLE_EVENTS.failed, failed(status), input.executionArn),
  });
  // The usage key follows the tier the registry records now (a standing, or Check blueprint's before a later step failed) into its plan.
  const usageKey = await usageKeyAfterEndedChange(input.kind, record, standing.changes.tier);
  await announceFailure(ended, { ...failed(ended.status), ...(usageKey ? { usageKey } : {}) }, input.executionArn, usageKey !== undefined);
  return { status: ended.status, step, reason: fullReason, cleanup, ...leftOut, ...lifted, ...refused, ...(usageKey ? { usageKey } : {}) };
}, { trackStep: false });

/**
 * Sends `Tenant Lifecycle Failed`, written owed with the failure (`ended`: the record that write left), with the outbox
 * oldest first (sendOwed). When the usage key's settlement, known only after that write, is to go in it (`amend`), the owed
 * detail is replaced first (oweOnRecord, while still owed); a write that cannot be made sends what is owed without it, the
 * settlement logged. A send that fails leaves it owed and throws: Step Functions retries this step (its re-run sends what is
 * owed), then *End stopped execution* or `tessera tenants retry` sends it.
 */
async function announceFailure(ended: TenantRecord, detail: Record<string, unknown>, executionArn: string | undefined, amend: boolean): Promise<void> {
  let now = ended;
  if (amend) {
    try {
      now = (await oweOnRecord(ended.tenantId, LIFECYCLE_EVENTS.failed, detail, executionArn, true)) ?? ended;
    } catch (e) {
      logger.warn('the usage key\'s settlement could not be added to the owed Tenant Lifecycle Failed; sent without it', { tenantId: ended.tenantId, executionArn, usageKey: detail.usageKey, error: e as Error });
    }
  }
  await sendOwed(now);
}

/**
 * The failure of an execution whose tenant it left stranded (lease.ts strandedOperation: UPDATING, no lease, this execution's
 * history entry RUNNING): the tier and version its stack completed an update to (stack-standing.ts), the failure (the step,
 * its error, and that the tenant had no lease), its entry FAILED, the tenant back to ACTIVE (endStrandedOperation, conditional
 * on the record as read), the usage key moved into the recorded tier's plan, `Tenant Lifecycle Failed` (never `refused`).
 */
async function endStrandedFailure(input: FailureInput, record: TenantRecord, stranded: StrandedOperation, step: string, reason: string) {
  const standing = await stackStanding(record, stranded.kind, 'Record failure');
  const lost = `tenant "${record.tenantId}" was left ${record.status} with no lease (removed outside Tessera, or lost), so its own registry writes were refused`;
  const found = [lost, ...(standing.note ? [standing.note] : [])];
  const fullReason = [reason, ...found].join('; ');
  const recordedReason = historyReason(fullCatchReason(input.error), found);
  const failed = { tenantId: record.tenantId, kind: input.kind, step, reason: fullReason, executionArn: input.executionArn, status: stranded.statusAfter };
  const ended = await endStrandedOperation(record, stranded, {
    step, reason: recordedReason, changes: { ...standing.changes, ...owe(record, LIFECYCLE_EVENTS.failed, failed, input.executionArn) }, entry: { reason: recordedReason }, ...(standing.updating ? { details: { stackUpdating: standing.updating } } : {}),
  });
  const usageKey = await usageKeyAfterEndedChange(stranded.kind, record, standing.changes.tier);
  await announceFailure(ended, { ...failed, status: ended.status, ...(usageKey ? { usageKey } : {}) }, input.executionArn, usageKey !== undefined);
  return { status: ended.status, step, reason: fullReason, ...(usageKey ? { usageKey } : {}) };
}

/**
 * A failed onboarding whose CreateAccount request is still pending: if Organizations has finished
 * it meanwhile, the account is recorded and fenced with the quarantine SCP (offboarding then
 * retires it); a request that failed is cleared; one still in progress stays recorded, so the
 * retry, the offboarding or the next failure resolves it; a claim Organizations lists nothing for
 * (a request too recent to list) stays too, and the failure's reason says an account request may be
 * pending. Best effort: never hides the failure.
 */
async function settlePendingAccount(record: TenantRecord, cleanup: string[], notes: string[]): Promise<Partial<TenantRecord>> {
  if (record.isolation !== 'account') return {};
  if (record.accountId) {
    // A failure after *Activate tenant* lifted the quarantine (the completing write failed): the account is fenced again.
    try {
      await fenceAccount(await organizationsClient(), record.accountId);
    } catch (e) {
      logger.warn('could not check the quarantine of the failed tenant\'s account', { accountId: record.accountId, error: e as Error });
      cleanup.push(`quarantine of account ${record.accountId} not checked: ${(e as Error).message}`);
    }
    return {};
  }
  if (!record.createAccountRequestId && !record.createAccountClaim) return {};
  try {
    const orgs = await organizationsClient();
    const pending = await resolvePendingAccount(orgs, record);
    if (pending.state === 'SUCCEEDED' && pending.accountId) {
      await fenceAccount(orgs, pending.accountId);
      cleanup.push(`account ${pending.accountId} (request ${pending.requestId}) was created meanwhile: recorded and quarantined`);
      return { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined };
    }
    if (pending.state === 'FAILED') return { createAccountRequestId: undefined, createAccountClaim: undefined };
    if (pending.state === 'CLAIMED') {
      // A claim whose request Organizations does not list (yet): CreateAccount may have reached it.
      // The claim stays, so the retry or the offboarding looks for the account again.
      notes.push(`an account request may be pending: CreateAccount was claimed at ${record.createAccountClaim?.at} and Organizations lists no request or account for tessera-${record.tenantId} yet; `
        + 'the claim is kept, so a retry adopts the account and DELETE retires it');
      return {};
    }
    if (pending.requestId) {
      cleanup.push(`account request ${pending.requestId} still in progress: kept in the record for the retry or the offboarding`);
      return { createAccountRequestId: pending.requestId };
    }
  } catch (e) {
    logger.warn('could not resolve the pending account request; it stays recorded', { error: e as Error });
  }
  return {};
}

/**
 * A DR stack recorded DEPLOYING that never came up (ROLLBACK_COMPLETE, ROLLBACK_FAILED or CREATE_FAILED in
 * CloudFormation; DELETE_FAILED too after an onboarding or offboarding, as `removable` says for the primary) is
 * deleted like a dead namespace stack (one whose update rolled back: drUpdateRolledBack): a create that rolled back holds nothing
 * (RetainExceptOnCreate), and the stack's name must be free for a create or an import. One that no longer
 * exists is not touched. Either is recorded REMOVED — it would otherwise pin the tenant's DR region (a later
 * move to another DR region is refused while a DR stack is recorded) and be checked for drift — only when
 * nothing of a DR stack remains in the DR region:
 *
 * - the DR key alias, replica bucket and backup vault (RETAIN, fixed names: an earlier stack of that name
 *   that came up and was deleted outside Tessera left them, and a create then fails on them) are checked
 *   (checkDrStores: KMS, S3, AWS Backup, as the provisioning session may); every one must be checked
 *   absent. One recorded DEPLOYING by an earlier execution (or by none recorded), or this one's update of a
 *   stack that stood before (stackBefore), may have come up; and this execution's own create may have rolled
 *   back on the stores an earlier stack left: a store that could not be checked (throttled, the DR region
 *   unreachable, no session) may hold the tenant's copies, whoever's DEPLOYING it is. (Before, an own
 *   create was recorded REMOVED with its stores unchecked.)
 *
 * One whose create CloudFormation took though the step's answer was lost (CREATE_COMPLETE, CREATE_IN_PROGRESS) is
 * recorded as it stands (dr-create-standing.ts: ACTIVE once created, DEPLOYING while it is being created).
 *
 * Otherwise the DR stack stays recorded as it is (pinning the DR region, checked for drift, planned by
 * failover-plan; only an offboarding records a DR stack REMOVED with its stores inventoried), and the
 * failure's reason names each store found, each one not checked and why, and each one gone. Before, a
 * ROLLBACK_COMPLETE stack recorded DEPLOYING by an earlier execution was recorded REMOVED unchecked, and
 * the reason for a missing one said the stores remain without asking. Best effort: never hides the failure.
 *
 * The stack's termination protection, when on, is lifted before its deletion by `run.liftTermination` (liftOnRecord:
 * its intent, the lift, then the execution's history entry, the audit bucket and the bus), before DeleteStack.
 */
async function removeDeadDrStack(record: TenantRecord, run: { executionArn: string; since: string; kind: LifecycleKind; liftTermination(cfn: CloudFormationClient, stack: Stack): Promise<unknown> }, cleanup: string[], leftBehind: LeftBehindResource[], notes: string[]): Promise<Partial<TenantRecord>> {
  const { executionArn, since } = run;
  const dr = record.disasterRecovery;
  if (!dr || dr.status !== 'DEPLOYING') return {};
  const removed = { disasterRecovery: { ...dr, status: 'REMOVED' as const, updatedAt: new Date().toISOString() } };
  const own = dr.deployedWith?.executionArn === executionArn;
  const by = (before?: string) => (!own ? (dr.deployedWith?.executionArn ? `by an earlier execution (${dr.deployedWith.executionArn})` : 'by an execution not recorded')
    : before ? `by this execution's update of a stack that stood before it (${before})` : 'by this execution\'s create');
  /** Whether nothing of a DR stack remains (see above), and the stores in words. */
  const storesGone = async () => {
    const checks = await checkDrStores(record.tenantId, record.accountId!, dr.region, 'cleanup');
    // Every store checked absent, whoever's DEPLOYING it is: a store that could not be checked (throttled, the DR region
    // unreachable, no session) may be one an earlier DR stack retained, on which this execution's own create rolled back.
    const gone = checks.every((c) => c.state === 'absent');
    const why = checks.some((c) => c.state === 'present') ? 'a store of an earlier DR stack remains' : 'a store could not be checked (it may remain)';
    return { gone, why, stores: describeDrStores(checks, dr.region) };
  };
  const keep = (what: string, stores: string) => {
    notes.push(`DR stack ${dr.stackName} (${dr.region}) is recorded DEPLOYING ${what}: ${stores}, so it is kept recorded DEPLOYING, not REMOVED; `
      + `bring the stack back over them (CloudFormation resource import into ${dr.stackName}) or offboard the tenant`);
  };
  try {
    const cfn = await cloudFormationFor(record, 'dr', 'cleanup', dr.region);
    const stack = await describeStack(cfn, dr.stackName);
    if (!stack || stack.StackStatus === 'DELETE_COMPLETE') {
      const before = own ? await stackBefore(cfn, dr.stackName, since) : undefined;
      const { gone, why, stores } = await storesGone();
      if (!gone) {
        keep(`${by(before)} but does not exist (deleted outside Tessera)`, stores);
        cleanup.push(`left DR stack ${dr.stackName} (${dr.region}) recorded DEPLOYING: it does not exist, and ${own && !before ? why : 'was not this execution\'s create alone'}`);
        return {};
      }
      cleanup.push(`DR stack ${dr.stackName} (${dr.region}) does not exist: recorded REMOVED${own && !before ? '' : ` (recorded DEPLOYING ${by(before)}; ${stores})`}`);
      return removed;
    }
    const status = stack.StackStatus ?? '';
    const notOurs = ownershipProblem(stack, record, 'dr');
    if (status === 'UPDATE_ROLLBACK_COMPLETE' && !notOurs) return drUpdateRolledBack(record, dr, stack, cleanup, notes);
    if (status === 'UPDATE_ROLLBACK_FAILED' && !notOurs) return drUpdateRollbackFailed(record, dr, stack, await firstFailure(cfn, stack.StackId ?? dr.stackName).catch(() => undefined), cleanup, notes);
    // A create CloudFormation took whose answer was lost (the step failed after CreateStack went through): recorded as it stands.
    const created = notOurs ? undefined : drCreateStanding(dr, stack, tierHasDrIn(record, dr.region), cleanup, notes);
    if (created) return created;
    // DELETE_FAILED (the deletion of a ROLLBACK_FAILED one by an earlier Record failure failed) only for an onboarding or offboarding, as for the primary.
    if (!removable(status, run.kind)) return {};
    if (notOurs) {
      cleanup.push(`left ${status} stack ${dr.stackName} alone: ${notOurs}`);
      return {};
    }
    try {
      leftBehind.push(...leftBehindFrom(dr.stackName, await stackEvents(cfn, stack.StackId ?? dr.stackName)));
    } catch (e) {
      logger.warn('could not read the events of a failed DR stack', { stack: dr.stackName, error: e as Error });
    }
    await run.liftTermination(cfn, stack);
    await holdLeaseFor(record.tenantId, `DeleteStack of stack ${dr.stackName} in ${dr.region}`);
    await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(stack), RoleARN: executionRoleArn(record.accountId!), ClientRequestToken: deleteStackToken(executionArn, stack, 'Record failure') }));
    const { gone, why, stores } = await storesGone();
    if (!gone) {
      keep(`${by()} and its stack was ${status} (deleted now: ${status === 'DELETE_FAILED' ? 'a DR stack that never served, its Retain stores kept by the deletion' : 'a create that rolled back holds nothing'})`, stores);
      cleanup.push(`deleted ${status} DR stack ${dr.stackName} (${dr.region}); left it recorded DEPLOYING: ${own ? why : 'not this execution\'s create, and its stores not all checked absent'}`);
      return {};
    }
    cleanup.push(`deleted ${status} DR stack ${dr.stackName} (${dr.region})${own ? '' : ` (recorded DEPLOYING ${by()}; ${stores})`}`);
    return removed;
  } catch (e) {
    logger.warn('cleanup of the DR stack failed; a re-run retries it', { error: e as Error });
    return {};
  }
}

/**
 * Whether the tenant's tier (as recorded: a failed change leaves it as it was) has DR, so that its primary replicates into
 * its existing DR stack: the config says whether the tier has DR, the DR stack's own record where it is. A DR stack cannot
 * move regions (dr-region-change.ts), so a config that has since put the tier's DR region elsewhere does not make the
 * stack the primary was deployed with any less its DR; until 2026-12-07 the config's region had to be the stack's, and such
 * a stack was recorded RETAINED (its bucket no longer a replica) while its primary still replicated into it.
 * @returns false when the tier is gone from the config (not ACTIVE, which says its tier has DR)
 */
function tierHasDr(record: TenantRecord): boolean {
  try {
    return drRegionOf(tierConfig(record.tier)) !== undefined;
  } catch {
    return false;
  }
}

/**
 * A DR stack recorded DEPLOYING whose update rolled back (UPDATE_ROLLBACK_COMPLETE: a tier change or upgrade that
 * failed in the DR region): it stands as it was before, running the tier and version its stack tags say (CloudFormation
 * rolls the stack's tags back with it). The record is put back to what is true: ACTIVE when the tenant's tier (which a
 * failed change leaves as it was) has DR (tierHasDr: its primary replicates into this stack), RETAINED otherwise (a move to a DR tier from a tier
 * without DR), `deployedWith` the tier and version it still runs (no execution: the one that deployed it is not known),
 * and the failure's reason says the DR stack rolled back. Before, the record stayed DEPLOYING with `deployedWith` naming
 * the version the stack never reached.
 */
function drUpdateRolledBack(record: TenantRecord, dr: NonNullable<TenantRecord['disasterRecovery']>, stack: Stack, cleanup: string[], notes: string[]): Partial<TenantRecord> {
  const { tier, version } = stackTierAndVersion(stack);
  const status = tierHasDr(record) ? 'ACTIVE' as const : 'RETAINED' as const;
  const runs = tier && version ? `tier ${tier} at version ${version}` : 'what it ran before (its stack tags do not say which tier and version)';
  notes.push(`DR stack ${dr.stackName} (${dr.region}) rolled back its update (UPDATE_ROLLBACK_COMPLETE${stack.StackStatusReason ? `: ${stack.StackStatusReason}` : ''}): it still runs ${runs}; recorded ${status}`);
  cleanup.push(`DR stack ${dr.stackName} (${dr.region}) is UPDATE_ROLLBACK_COMPLETE: recorded ${status}${tier && version ? ` with tier ${tier}, version ${version}` : ''}`);
  const { deployedWith: _target, ...rest } = dr;
  return { disasterRecovery: { ...rest, status, updatedAt: new Date().toISOString(), ...(tier && version ? { deployedWith: { tier, blueprintVersion: version } } : {}) } };
}

/**
 * A DR stack recorded DEPLOYING whose update failed and whose rollback failed too (UPDATE_ROLLBACK_FAILED: a tier change or
 * upgrade that failed in the DR region, then a resource that could not be put back). It stands, its stores with it, but
 * runs neither the version before nor the one attempted, and CloudFormation refuses any update of it until an operator
 * continues its rollback. The record says so: ACTIVE or RETAINED as for a rolled-back update (drUpdateRolledBack: the
 * stack and its stores are there, and the tenant's tier decides whether its primary replicates into it),
 * `updateRollbackFailed` with what was attempted and CloudFormation's reason, no `deployedWith` (no whole version runs),
 * and the failure's reason names the stack, its region, the resource that failed and the way out
 * (continueRollbackAdvice). Before, the record stayed DEPLOYING (nothing deploys it) with `deployedWith` naming the
 * version the stack never reached, and the reason said only the status.
 */
function drUpdateRollbackFailed(record: TenantRecord, dr: NonNullable<TenantRecord['disasterRecovery']>, stack: Stack, failure: string | undefined, cleanup: string[], notes: string[]): Partial<TenantRecord> {
  const status = tierHasDr(record) ? 'ACTIVE' as const : 'RETAINED' as const;
  const reason = failure ?? stack.StackStatusReason ?? 'no reason reported';
  const attempted = dr.deployedWith ? ` (the update to tier ${dr.deployedWith.tier}, version ${dr.deployedWith.blueprintVersion})` : '';
  notes.push(`DR stack ${dr.stackName} (${dr.region}) is UPDATE_ROLLBACK_FAILED${attempted}: ${reason}; ${continueRollbackAdvice(dr.stackName, dr.region)}; recorded ${status} with updateRollbackFailed`);
  cleanup.push(`DR stack ${dr.stackName} (${dr.region}) is UPDATE_ROLLBACK_FAILED: recorded ${status}, updateRollbackFailed, left for an operator`);
  const { deployedWith, ...rest } = dr;
  const at = new Date().toISOString();
  return { disasterRecovery: { ...rest, status, updatedAt: at, updateRollbackFailed: { at, reason, ...(deployedWith ? { attempted: deployedWith } : {}) } } };
}

/**
 * A change or upgrade that deployed the tenant's DR stack (DR stacks go first: DEPLOYING, then ACTIVE
 * by *Check DR blueprint*, which saw it complete) and then failed leaves the tenant on its tier (the primary's tier is recorded
 * only when the primary is complete). When that tier has no DR region (a move to a DR tier that failed
 * at or after the primary), the primary replicates and copies nothing into the DR stack: it is
 * recorded RETAINED (standing, kept until offboarding), as a move to a tier without DR records it, not
 * ACTIVE (which says the tenant's tier has DR). One still DEPLOYING (its operation failed or still
 * running) is left to removeDeadDrStack and the next deploy. `replicationStoppedAt` is kept as it is.
 * Before, a failed move back from RETAINED left the record ACTIVE on a tier without DR.
 */
function drStackLeftRetained(record: TenantRecord, input: FailureInput, notes: string[]): Partial<TenantRecord> {
  const dr = record.disasterRecovery;
  // ACTIVE only: *Check DR blueprint* saw it complete, so it stands. A DEPLOYING one may be a create that failed (then deleted).
  if ((input.kind !== 'change' && input.kind !== 'upgrade') || dr?.status !== 'ACTIVE') return {};
  const deployed = dr.deployedWith;
  if (!deployed || deployed.executionArn !== input.executionArn) return {};
  let hasDr: boolean;
  try {
    hasDr = drRegionOf(tierConfig(record.tier)) !== undefined;
  } catch (e) {
    logger.warn('the tenant\'s tier is not in the config: its DR stack left as recorded', { tier: record.tier, error: e as Error });
    return {};
  }
  if (hasDr) return {};
  notes.push(`DR stack ${dr.stackName} (${dr.region}) recorded RETAINED: this execution deployed it with tier ${deployed.tier}, and the tenant stays on tier ${record.tier}, which has no DR (its primary replicates nothing into it); kept until offboarding, or used again by a move to a tier with DR in ${dr.region}`);
  return { disasterRecovery: { ...dr, status: 'RETAINED', updatedAt: new Date().toISOString() } };
}

/**
 * Whether a DR stack named `name` stood before `since` (the lease's start) and is deleted now: this
 * execution's DEPLOYING was then an update of it, not a create of its own, and its retained stores may
 * remain. A deleted stack is listed for 90 days. Unanswerable: assumed so (named as unknown).
 */
async function stackBefore(cfn: CloudFormationClient, name: string, since: string): Promise<string | undefined> {
  try {
    for await (const page of paginateListStacks(pages(cfn), { StackStatusFilter: ['DELETE_COMPLETE'] })) {
      const earlier = (page.StackSummaries ?? []).find((s) => s.StackName === name && s.CreationTime && s.CreationTime.getTime() < Date.parse(since));
      if (earlier) return `${earlier.StackId ?? name}, created ${earlier.CreationTime!.toISOString()}`;
    }
    return undefined;
  } catch (e) {
    logger.warn('could not list the deleted DR stacks', { stack: name, error: e as Error });
    return `deleted stacks not listable: ${(e as Error).name}`;
  }
}
