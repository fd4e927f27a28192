import { DescribeStackDriftDetectionStatusCommand, paginateDescribeStackResourceDrifts, type CloudFormationClient, type StackResourceDrift } from '@aws-sdk/client-cloudformation';
import { pages } from '../../lib/aws-pages.js';
import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { RegistryContentionError, requireTenant, TenantConflictError, updateTenant } from '../shared/registry.js';
import { cloudFormationFor } from './blueprints.js';
import { catchReason, clipReason } from './catch-reason.js';
import type { DriftRecord, TenantRecord } from '../../lib/tenant-record.js';
import type { DriftDetection } from './detect-drift.js';
import { cloudFormationError, deletedStack, driftedResources, driftRecord, failedCheckRecord, notCheckable, uncheckedResources, type StackDrift } from './drift.js';
import { settleUsageKey, type UsageKeySettlement } from './manage-usage-key.js';
import { driftStanding, type DriftStanding } from './stack-standing.js';
import { sendOwed, type OwedAnnouncement } from './announcements.js';

export interface CheckDriftInput {
  tenantId: string;
  detections?: DriftDetection[];
  /** Set by the workflow's Catch: the tenant's detection failed; recorded as UNKNOWN with this error (catchReason: the Lambda's errorMessage, not its JSON and trace). */
  error?: { Error: string; Cause?: string };
}

/**
 * How long *Check drift* waits for a detection still in progress before it records the stack UNKNOWN:
 * 30 minutes. DetectStackDrift "can take up to several minutes"; AWS Config's
 * cloudformation-stack-drift-detection-check warns it may time out at 15.
 */
export const MAX_DRIFT_DETECTION_WAIT_MS = 30 * 60_000;

/**
 * Every MODIFIED, DELETED or UNKNOWN resource of a stack (DescribeStackResourceDrifts, 100 a page,
 * NextToken): UNKNOWN is a resource CloudFormation could not run drift detection for (its
 * DriftStatusReason says why). NOT_CHECKED is not asked for: the API does not return it.
 */
async function resourceDrifts(cfn: CloudFormationClient, stack: string): Promise<StackResourceDrift[]> {
  const drifts: StackResourceDrift[] = [];
  for await (const page of paginateDescribeStackResourceDrifts(pages(cfn, 100), { StackName: stack, StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED', 'UNKNOWN'] })) {
    drifts.push(...(page.StackResourceDrifts ?? []));
  }
  return drifts;
}

/** Runs a CloudFormation call; an answer that is not CloudFormation's fails it naming the call and the endpoint (drift.ts cloudFormationError). */
async function readable<T>(call: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw cloudFormationError(call, e);
  }
}

/**
 * A lifecycle operation of the tenant that ended after `since` (the detection's start): its stack
 * updates (a repair reverting the drift, a change, an upgrade) may postdate what was detected. A
 * skipped upgrade run changed nothing and does not count.
 */
export function supersedingOperation(record: TenantRecord, since: string): TenantRecord['executions'][number] | undefined {
  // A gateway policy write (history kind gateway-policy) changes no stack.
  return record.executions.findLast((e) => e.kind !== 'gateway-policy' && e.status !== 'SKIPPED' && (e.endedAt ?? e.startedAt) >= since);
}

/**
 * Polls a tenant's drift detections (DescribeStackDriftDetectionStatus); `IN_PROGRESS` while any
 * runs (the workflow waits and asks again), for at most MAX_DRIFT_DETECTION_WAIT_MS from the
 * detection's start: past that the stack is recorded UNKNOWN with the reason. Once all have ended, reads the drifted resources of
 * each stack, records the tenant's DriftRecord in the registry (`drift`: status, time, stacks,
 * resources with their property paths; no lease needed: it changes nothing a lifecycle operation
 * reads) and, when anything drifted, emits `Tenant Drift Detected`. A detection that failed
 * (DETECTION_FAILED) still reports what it checked: the drifted resources it found, and the stack
 * `UNKNOWN` unless one drifted (its IN_SYNC covers only the resources it could check). The resources a
 * detection could not check (DescribeStackResourceDrifts' UNKNOWN with its DriftStatusReason, and those a
 * failed detection's DetectionStatusReason names with their FailureReason) are recorded in `unchecked`
 * beside the drifted ones, and make an otherwise in-sync tenant UNKNOWN. With an `error` from the workflow's Catch the
 * tenant's last check that ran is kept with `failedCheck` beside it (failedCheckRecord), or it is
 * recorded UNKNOWN with the error when none ran. A stack *Detect drift* found missing (`deleted`) is recorded
 * DELETED (deletedStack) and makes the tenant DRIFTED. A DR stack's detection is read in its region.
 * A tenant that is no longer ACTIVE, or that a lifecycle operation holds (the run's tenant list was
 * made hours ago), is skipped: nothing recorded, nothing emitted (what its operation does to its
 * stacks is not drift); the write is conditional on the record being as it was read. A detection
 * taken before an operation that ended since (a repair, a change or an upgrade that finished
 * during the wait: supersedingOperation, against the detections' `startedAt` and CloudFormation's
 * own Timestamp) is discarded as superseded: nothing recorded, nothing emitted; the next run checks
 * the stacks as the operation left them.
 *
 * The tenant stack's standing (stack-standing.ts driftStanding, read after the record): a stack `UPDATE_COMPLETE` on
 * another tier or blueprint version (its tags) than the record — an update that completed after the change or upgrade
 * that started it had ended — is recorded (tier, version, outputs) in the same conditional write, `drift.standing` says
 * from what to what, and `Tenant Drift Detected` carries it (emitted for it even when no resource drifted); the failure's
 * pending stack update (`failure.stackUpdating`) is resolved once the stack no longer updates. The usage key is then
 * compared with the recorded tier (API Gateway asked: one call) and put in its usage plan when it is not (followTier),
 * and the correction recorded on the drift record and announced.
 */
export const handler = lifecycleHandler('Check drift', async (input: CheckDriftInput) => {
  const record = await requireTenant(input.tenantId);
  const checkedAt = new Date().toISOString();
  // The run's list of ACTIVE tenants is hours old by now: an operation that took the tenant since
  // (an offboarding deleting its stacks, a change updating them) makes what was detected no drift.
  const busy = notCheckable(record);
  if (busy) return { tenantId: record.tenantId, state: 'COMPLETE' as const, skipped: busy };
  // Written only if nothing wrote the record since it was read (no lease taken meanwhile): the drift, and what the tenant
  // stack stands on when the registry fell behind it (driftStanding, read after the record), in the same write.
  const save = async (drift: ReturnType<typeof driftRecord>, standing: DriftStanding): Promise<string | undefined> => {
    try {
      await updateTenant(record.tenantId, { drift, ...standing.changes }, { holder: null, expectStatus: ['ACTIVE'], expectUpdatedAt: record.updatedAt });
      return undefined;
    } catch (e) {
      if (!(e instanceof TenantConflictError || e instanceof RegistryContentionError)) throw e;
      return notCheckable((await requireTenant(record.tenantId))) ?? 'the record changed while its drift was read';
    }
  };
  if (input.error) {
    const error = catchReason(input.error, 1000);
    // The last check that ran stays (its verdict, time, resources) beside this failure (failedCheckRecord).
    const standing = await driftStanding(record, checkedAt);
    const drift = withStanding(failedCheckRecord(record.drift, checkedAt, error), record.drift, standing);
    const skipped = await save(drift, standing);
    if (skipped) return { tenantId: record.tenantId, state: 'COMPLETE' as const, skipped };
    const { usageKey, drift: written } = await followTier(record, drift, checkedAt);
    if (standing.standing || written.usageKey?.at === checkedAt) await announce(record.tenantId, checkedAt, written);
    else await sendOwedDrift(record);
    return { tenantId: record.tenantId, state: 'COMPLETE' as const, status: drift.status, checkFailed: true, standing: standing.standing, usageKey };
  }
  const stacks: StackDrift[] = [];
  // The earliest start of this tenant's detections: what they found may predate an operation that ended after it.
  const starts: string[] = (input.detections ?? []).flatMap((d) => (d.startedAt ? [d.startedAt] : []));
  for (const d of input.detections ?? []) {
    if (d.deleted) {
      stacks.push(deletedStack(d.stack, clipReason(`the stack does not exist${d.region ? ` in ${d.region}` : ''} (deleted outside Tessera): ${d.error ?? ''}`, 1000)));
      continue;
    }
    if (!d.detectionId) {
      stacks.push({ stack: d.stack, status: 'UNKNOWN', reason: d.error, resources: [] });
      continue;
    }
    const cfn = await cloudFormationFor(record, d.kind, 'drift', d.region);
    const status = await readable(`DescribeStackDriftDetectionStatus of ${d.stack}`, () => cfn.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: d.detectionId })));
    if (status.DetectionStatus === 'DETECTION_IN_PROGRESS') {
      // Waited for long enough: the workflow's Wait/Check loop has no end of its own, and a tenant in it holds one of the
      // run's few Map slots until the run's 12 h timeout (a few stuck detections would leave the other tenants unchecked).
      const since = d.startedAt ?? (status.Timestamp ? new Date(status.Timestamp).toISOString() : undefined);
      if (!since || Date.now() - Date.parse(since) < MAX_DRIFT_DETECTION_WAIT_MS) return { tenantId: record.tenantId, detections: input.detections, state: 'IN_PROGRESS' as const };
      stacks.push({ stack: d.stack, status: 'UNKNOWN', detectionId: d.detectionId, reason: `detection still in progress ${Math.round((Date.now() - Date.parse(since)) / 60_000)} min after it started (${since}): not waited for longer (${MAX_DRIFT_DETECTION_WAIT_MS / 60_000} min); the next run checks again`, resources: [] });
      continue;
    }
    if (status.Timestamp) starts.push(new Date(status.Timestamp).toISOString());
    const drifts = await readable(`DescribeStackResourceDrifts of ${d.stack}`, () => resourceDrifts(cfn, d.stack));
    const resources = driftedResources(d.stack, drifts);
    const failed = status.DetectionStatus === 'DETECTION_FAILED';
    // The resources it could not check: UNKNOWN ones, and those a failed detection's reason names.
    const unchecked = uncheckedResources(d.stack, drifts, failed || status.StackDriftStatus === 'UNKNOWN' ? status.DetectionStatusReason : undefined);
    // DETECTION_FAILED: "failed for at least one resource in the stack" (DescribeStackDriftDetectionStatus); its
    // StackDriftStatus speaks only for the resources it could check. IN_SYNC there is no verdict on the stack: UNKNOWN.
    const partial = failed && status.StackDriftStatus !== 'DRIFTED';
    stacks.push({
      stack: d.stack, status: partial ? 'UNKNOWN' : status.StackDriftStatus ?? 'UNKNOWN', detectionId: d.detectionId, resources,
      ...(failed ? { reason: `${partial ? `detection failed for some resources (CloudFormation's StackDriftStatus ${status.StackDriftStatus ?? 'none'} covers only those it could check): ` : ''}${status.DetectionStatusReason ?? 'detection failed'}` }
        : status.StackDriftStatus === 'UNKNOWN' && status.DetectionStatusReason ? { reason: status.DetectionStatusReason } : {}),
      ...(unchecked.length ? { unchecked } : {}),
    });
  }
  const since = starts.sort()[0];
  const later = since ? supersedingOperation(record, since) : undefined;
  if (later) {
    const skipped = `superseded: ${later.kind} ${later.requestId} ${later.endedAt ? `ended ${later.status} at ${later.endedAt}` : `started at ${later.startedAt}`}, after this detection started (${since}); drift not recorded`;
    logger.info('drift detection superseded', { since, operation: later });
    return { tenantId: record.tenantId, state: 'COMPLETE' as const, skipped, superseded: true };
  }
  // The tenant stack's tier and version tags against the record, read now (after the record): written with the drift.
  const standing = await driftStanding(record, checkedAt);
  const drift = withStanding(driftRecord(stacks, checkedAt), record.drift, standing);
  const skipped = await save(drift, standing);
  if (skipped) return { tenantId: record.tenantId, state: 'COMPLETE' as const, skipped };
  const { usageKey, drift: written } = await followTier(record, drift, checkedAt);
  if (drift.status === 'DRIFTED') logger.warn('tenant stacks drifted', { resources: drift.resources.length + (drift.truncated ?? 0) });
  if (drift.status === 'DRIFTED' || standing.standing || written.usageKey?.at === checkedAt) await announce(record.tenantId, checkedAt, written);
  else await sendOwedDrift(record);
  return { tenantId: record.tenantId, state: 'COMPLETE' as const, status: drift.status, standing: standing.standing, usageKey };
}, { trackStep: false });

/**
 * After the drift check's write, for every tenant checked: the usage key against the tier the registry records, asked of
 * API Gateway (manage-usage-key.ts settleUsageKey `verify`: one GetUsagePlans with `keyId` for a key already right) and
 * moved into that tier's plan when it is in no plan, in another tier's or in two (a standing this check recorded, a move
 * owed from before, a tenant left inconsistent before the key followed the tier, a plan key changed by hand). Best
 * effort: a failed move is recorded pending, never fails the check. A correction (`moved`, or `pending` when the move
 * failed) is written on the drift record as `usageKey` (at `checkedAt`, conditional on the tenant ACTIVE and not held),
 * so `tessera tenants show` and `drift` say it and `Tenant Drift Detected` carries it.
 * @returns the settlement (the step's output), undefined for a tenant without a key
 */
async function followTier(record: TenantRecord, drift: DriftRecord, checkedAt: string): Promise<{ usageKey?: UsageKeySettlement; drift: DriftRecord }> {
  if (!record.usageKey) return { drift };
  const usageKey = await settleUsageKey(record.tenantId, { verify: true });
  if (usageKey.outcome !== 'moved' && usageKey.outcome !== 'pending') return { usageKey, drift };
  const corrected: DriftRecord = { ...drift, usageKey: { at: checkedAt, outcome: usageKey.outcome, note: usageKey.note ?? '' } };
  try {
    await updateTenant(record.tenantId, { drift: corrected }, { holder: null, expectStatus: ['ACTIVE'] });
    return { usageKey, drift: corrected };
  } catch (e) {
    logger.warn('could not record the usage key\'s correction on the drift record', { error: e as Error });
    return { usageKey, drift };
  }
}

/**
 * The drift record to write: `standing` is this check's catch-up of the registry (driftStanding) or, without one, the
 * previous record's (the latest catch-up stays visible in `tessera tenants drift <id>` until another replaces it).
 */
function withStanding(drift: DriftRecord, previous: DriftRecord | undefined, standing: DriftStanding): DriftRecord {
  const latest = standing.standing ?? previous?.standing;
  // The latest correction of the usage key stays too (followTier writes a new one).
  const kept = previous?.usageKey ? { ...drift, usageKey: previous.usageKey } : drift;
  return latest ? { ...kept, standing: latest } : kept;
}

/**
 * `Tenant Drift Detected`: stacks drifted from their templates, or the registry fell behind the tenant stack and this check
 * recorded the stack's tier and version (`standing`), or it moved the usage key into its tier's plan (`usageKey`;
 * `driftedCount` may then be 0). Written owed on the record first (announcements.ts, the outbox the operations use), then
 * sent with whatever else is owed (sendOwed: a failure rethrown, the announcement kept owed with its error). Until
 * 2026-12-07 it was put on the bus directly after the drift record's write: refused (PutEvents throttled past the step's
 * retries, or denied), it was lost, since the check run again found the registry already caught up and nothing to say, and
 * a tier the registry took from the stack was never announced. A record that cannot be written (it changed under each of
 * three reads) sends it directly, as before.
 */
async function announce(tenantId: string, checkedAt: string, drift: DriftRecord): Promise<void> {
  const detail = {
    tenantId, checkedAt, status: drift.status, stacks: drift.stacks, driftedCount: drift.resources.length + (drift.truncated ?? 0),
    // The first 20: an event entry is at most 256 KB; the registry and `tessera tenants drift <id>` have the rest.
    resources: drift.resources.slice(0, 20),
    ...(drift.standing?.at === checkedAt ? { standing: drift.standing } : {}),
    ...(drift.usageKey?.at === checkedAt ? { usageKey: drift.usageKey } : {}),
  };
  const owed = { detailType: LIFECYCLE_EVENTS.driftDetected, detail, at: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const now = await requireTenant(tenantId);
    try {
      // No lease condition: the tenant may be taken by an operation by now; the outbox is not its business (it sends it too).
      const written = await updateTenant(tenantId, { owedAnnouncements: [...keptOwed(now.owedAnnouncements ?? []), owed] }, { holder: null, expectUpdatedAt: now.updatedAt });
      await sendOwed(written);
      return;
    } catch (e) {
      if (!(e instanceof RegistryContentionError)) throw e;
    }
  }
  logger.warn('could not write Tenant Drift Detected owed on the record (it changed under each read); sent directly', { tenantId });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.driftDetected, detail);
}

/**
 * The owed announcements a new `Tenant Drift Detected` is added to: every other one, and of the drift announcements still
 * owed only the latest that says what the registry or the edge was corrected to (`standing`, `usageKey`: said once, never
 * again), so that a bus refusing them for days does not grow the tenant's item (DynamoDB's 400 KB) by one a daily run.
 */
function keptOwed(owed: readonly OwedAnnouncement[]): OwedAnnouncement[] {
  const drift = (a: OwedAnnouncement) => a.detailType === LIFECYCLE_EVENTS.driftDetected;
  const correction = owed.findLast((a) => drift(a) && (a.detail.standing !== undefined || a.detail.usageKey !== undefined));
  return owed.filter((a) => !drift(a) || a === correction);
}

/**
 * Sends a `Tenant Drift Detected` an earlier check of the tenant left owed (its send refused; `record` as this check read
 * it): a check run again by the step's retry after a throttled send finds nothing new to say, and the owed one is sent.
 */
async function sendOwedDrift(record: TenantRecord): Promise<void> {
  if (record.owedAnnouncements?.some((a) => a.detailType === LIFECYCLE_EVENTS.driftDetected)) await sendOwed((await requireTenant(record.tenantId)));
}

