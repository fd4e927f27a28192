import type { Stack } from '@aws-sdk/client-cloudformation';
import type { DriftRecord, LifecycleKind, StackUpdating, TenantRecord } from '../../lib/tenant-record.js';
import { StackBusyError } from '../shared/errors.js';
import { tierConfig } from '../shared/environment.js';
import { logger } from '../shared/handler.js';
import { cloudFormationFor, describeStack, stackName } from './blueprints.js';
import { drRecordForTier } from './dr-tier-standing.js';
import { ownershipProblem } from './stack-ownership.js';
import { stackTierAndVersion, UPDATE_SUCCEEDED } from './stack-tags.js';

/** What a failed change's tenant stack stands on: the registry fields to write with the failure, and a note for its reason. */
export interface StackStanding {
  changes: Partial<Pick<TenantRecord, 'tier' | 'blueprintVersion' | 'stackOutputs' | 'stackName' | 'disasterRecovery'>>;
  note?: string;
  /** The stack still updating (the failure's `stackUpdating`): its outcome is not known yet. */
  updating?: StackUpdating;
}

/** Update statuses after which the stack runs the template of its last update. */
const UPDATED = UPDATE_SUCCEEDED;

/** An update of the stack still running forward (not a rollback): its outcome is not known yet. */
const updatingForward = (status: string) => status.startsWith('UPDATE_') && status.endsWith('_IN_PROGRESS') && !status.includes('ROLLBACK') && !UPDATED.has(status);

/** The tenant stack as the rule reads it: its status, its tier and version tags, and the fields *Check blueprint* records. */
interface StackRead {
  name: string;
  status: string;
  tier?: string;
  version?: string;
  outputs: Record<string, string>;
}

/**
 * Reads the tenant stack of `record` (through the tenant account's role, session `step`): undefined when there is none,
 * or when it is not this tenant's (stack-ownership.ts). Throws what CloudFormation or STS throw.
 */
async function readTenantStack(record: TenantRecord, step: string): Promise<StackRead | undefined> {
  const name = stackName(record.tenantId, 'tenant');
  const stack: Stack | undefined = await describeStack(await cloudFormationFor(record, 'tenant', step), name);
  if (!stack || ownershipProblem(stack, record, 'tenant')) return undefined;
  return {
    name, status: stack.StackStatus ?? '', ...stackTierAndVersion(stack),
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? ''])),
  };
}

/**
 * What a standing recorded on `tier` leaves undone when that tier runs on the shared cluster (`compute.mode: shared`): a
 * standing is recorded only when the change or upgrade ended before *Check blueprint* saw its tenant stack complete, so
 * it never reached *Deploy namespace* (lifecycle-workflows.ts: the namespace stack is updated after the tenant stack), and
 * the tenant's namespace stack still carries the previous tier's compute quota (or, from a dedicated tier, does not
 * exist). Not deployed from here (the namespace stack's update is a change of its own, with its change-set guard): a
 * repair (`tessera tenants update <id> --repair`, the tenant's own tier and version) or the next change or upgrade
 * deploys it. Read from the config only (no stack read: the order of the workflow's steps is what says it).
 * @returns the sentence for the failure's reason or `drift.standing.namespace`; undefined for a dedicated-compute tier or
 *   a tier the config does not define
 */
export function namespaceNotDeployed(tenantId: string, tier: string): string | undefined {
  try {
    if (tierConfig(tier).compute.mode !== 'shared') return undefined;
  } catch {
    return undefined;
  }
  return `tier ${tier} runs on the shared cluster and the operation ended before Deploy namespace: namespace stack ${stackName(tenantId, 'namespace')} (the tier's compute quota) is not deployed for it; tessera tenants update ${tenantId} --repair deploys it`;
}

const withNamespace = (tenantId: string, tier: string) => {
  const undone = namespaceNotDeployed(tenantId, tier);
  return undone ? `; ${undone}` : '';
};

/** The stack's tags name a tier and version other than the record's. */
const differs = (read: StackRead, record: TenantRecord): read is StackRead & { tier: string; version: string } =>
  !!read.tier && !!read.version && (read.tier !== record.tier || read.version !== record.blueprintVersion);

/**
 * The one rule (used by stackStanding and driftStanding): a stack of this tenant, stable after an update
 * (`UPDATE_COMPLETE`, `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`), whose tags name another tier or version than the record,
 * stands on its tags: the registry records them with its outputs, as *Check blueprint* would.
 */
function standingChanges(read: StackRead, record: TenantRecord): StackStanding['changes'] | undefined {
  if (!differs(read, record) || !UPDATED.has(read.status)) return undefined;
  // The DR record with it, as Check blueprint writes it with a new tier (dr-tier-standing.ts): RETAINED off a DR tier.
  const dr = read.tier !== record.tier ? drRecordForTier(record, read.tier, new Date().toISOString()) : undefined;
  return { tier: read.tier, blueprintVersion: read.version, stackOutputs: read.outputs, ...dr };
}

/**
 * The tier and blueprint version a change's (or upgrade's) tenant stack stands on when the operation ends without *Check
 * blueprint* having recorded it: the update went through in CloudFormation (ExecuteChangeSet answered) and the execution
 * then failed, was stopped or timed out before the step saw it complete. Read from the stack's own tags
 * (`tessera:tier`, `tessera:blueprint-version`, which every deployment sets) and outputs, as *Check blueprint* records
 * them; only for a stack of this tenant (stack-ownership.ts) in UPDATE_COMPLETE whose tags differ from the record.
 * Before, the failure left the registry on the tier and version before the change while the stack ran the new ones:
 * `PATCH` back to the recorded tier was refused `nothing_to_change`, a rolling upgrade listed the tenant under the old tier.
 * A stack still updating (in AWS the update goes on after the execution stopped) is named in the note and returned as
 * `updating` (recorded as the failure's `stackUpdating`), the record left as it is: its outcome is not known yet; the drift
 * workflow records it once the stack is stable (driftStanding). Best effort: a stack that cannot be read leaves the record
 * as it is (logged), never hides the failure.
 * @param step the step reading it (the session name of the tenant account's role)
 * An onboarding's tenant stack created before the operation ended, with no outputs on record: createdStanding.
 * @returns `{ changes: {} }` for another kind, a tenant without an account, or a stack that agrees with the record
 */
export async function stackStanding(record: TenantRecord, kind: LifecycleKind, step: string): Promise<StackStanding> {
  if (kind === 'onboard') return createdStanding(record, step);
  if ((kind !== 'change' && kind !== 'upgrade') || !record.accountId) return { changes: {} };
  const name = stackName(record.tenantId, 'tenant');
  try {
    const read = await readTenantStack(record, step);
    if (!read || !differs(read, record)) return { changes: {} };
    const changes = standingChanges(read, record);
    if (changes) {
      return {
        changes,
        note: `stack ${name} completed its update to tier ${read.tier}, version ${read.version} before the execution ended: recorded (it was tier ${record.tier}, version ${record.blueprintVersion ?? '(none)'}); the usage key is moved into that tier's usage plan next (manage-usage-key.ts settleUsageKey)${withNamespace(record.tenantId, read.tier)}`,
      };
    }
    if (updatingForward(read.status)) {
      return {
        changes: {},
        updating: { stack: name, status: read.status, tier: read.tier, blueprintVersion: read.version },
        note: `stack ${name} is still ${read.status} (to tier ${read.tier}, version ${read.version}): the registry keeps tier ${record.tier}, version ${record.blueprintVersion ?? '(none)'} until the drift workflow finds the update ended (daily, or now: tessera tenants drift --detect ${record.tenantId}), which records the stack's tier and version if it completed`,
      };
    }
    return { changes: {} };
  } catch (e) {
    logger.warn('could not read the tenant stack of the failed change; the registry keeps its tier and version', { stack: name, error: e as Error });
    return { changes: {} };
  }
}

/**
 * The tenant stack's outputs when the registry holds none of them (`stackOutputs` empty, as *Register tenant* wrote it) while a stack of this
 * tenant (stack-ownership.ts) stands with them: an onboarding that ended after its CreateStack went through and before
 * *Check blueprint* recorded the stack COMPLETE (the answer of CreateStack lost to a Lambda timeout, a failure or a stop
 * in between, or the deletion-protection update failing). The offboarding's steps read the tenant bucket, database and
 * key from `stackOutputs`: without them the bucket was not exported, the database not snapshotted to the archive, and
 * the tenant key (RETAIN) never scheduled nor queued for deletion — orphaned, with the stores under it recorded
 * "not under the tenant key". Read through the tenant account's role (session `step`).
 * A stack still in progress without outputs (`CREATE_IN_PROGRESS`: in AWS the create goes on after the onboarding's
 * execution ended; `ROLLBACK_IN_PROGRESS`, …) is waited for: StackBusy, which *Export tenant data* retries for about an
 * hour (lifecycle-workflows.ts `waitWhileBusy`), then fails naming the stack and its status (DELETE again once the
 * create ended). Before, the offboarding went on without the outputs the create was about to give, deleted the stack
 * and left the tenant key orphaned.
 * @returns the outputs to record (with `stackName`), undefined when the record has its outputs, the tenant has no
 *   account, or there is no stack of this tenant with a `KeyArn` output and none in progress
 * @throws StackBusyError while the stack is `*_IN_PROGRESS` without a `KeyArn` output; what CloudFormation or STS throw
 *   (the caller's step fails and is retried: never skipped silently)
 */
export async function unrecordedStackOutputs(record: TenantRecord, step: string): Promise<Pick<TenantRecord, 'stackName' | 'stackOutputs'> | undefined> {
  if (!record.accountId || Object.keys(record.stackOutputs).length) return undefined;
  const read = await readTenantStack(record, step);
  if (read && !read.outputs.KeyArn && read.status.endsWith('_IN_PROGRESS')) {
    throw new StackBusyError(`stack ${read.name} is ${read.status} and has no outputs yet (the onboarding ended before its create did): the tenant key, bucket and database it creates are recorded once it ends; waiting`);
  }
  if (!read?.outputs.KeyArn) return undefined;
  return { stackName: read.name, stackOutputs: read.outputs };
}

/** Statuses of a tenant stack whose create completed: its outputs are there (CloudFormation's stack status values). */
const CREATED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE']);

/**
 * The onboarding's side of stackStanding: an onboarding that ends (fails into *Record failure*, or is stopped) after its
 * tenant stack's CreateStack went through and before *Check blueprint* recorded the stack (the CreateStack answer lost,
 * a failure or a stop in between) leaves a stack of this tenant standing while the registry holds no outputs. Its name and
 * outputs are recorded with the failure (the note says so), so that the record says what stands in the tenant's account.
 * Best effort, as stackStanding: a stack that cannot be read leaves the record as it is (the offboarding reads it again,
 * unrecordedStackOutputs).
 */
async function createdStanding(record: TenantRecord, step: string): Promise<StackStanding> {
  if (!record.accountId || Object.keys(record.stackOutputs).length) return { changes: {} };
  const name = stackName(record.tenantId, 'tenant');
  try {
    const read = await readTenantStack(record, step);
    if (!read || !CREATED.has(read.status) || !read.outputs.KeyArn) return { changes: {} };
    return {
      changes: { stackName: read.name, stackOutputs: read.outputs },
      note: `stack ${name} was created (${read.status}) before the onboarding ended: its outputs are recorded; a retry adopts the stack, DELETE deletes it`,
    };
  } catch (e) {
    logger.warn('could not read the tenant stack of the failed onboarding; its outputs are not recorded', { stack: name, error: e as Error });
    return { changes: {} };
  }
}

/** What the drift check writes about the tenant stack's standing, with its drift record (check-drift.ts). */
export interface DriftStanding {
  /** Registry fields to write in the drift check's conditional write: tier, version, outputs; `failure` with its pending update resolved. */
  changes: Partial<Pick<TenantRecord, 'tier' | 'blueprintVersion' | 'stackOutputs' | 'failure' | 'disasterRecovery'>>;
  /** The drift record's `standing`, when the stack's tier and version were recorded (announced with `Tenant Drift Detected`). */
  standing?: NonNullable<DriftRecord['standing']>;
}

/**
 * The `stackStatus` a pending update (`failure.stackUpdating`) is resolved with when the drift check finds no stack of
 * this tenant under its name (gone, or tagged for another tenant: stack-ownership.ts): not a CloudFormation status.
 */
export const NO_TENANT_STACK = 'NO_TENANT_STACK';

/**
 * The `stackStatus` a pending update of the DR stack (`failure.stackUpdating`) is resolved with when the drift check finds
 * no DR stack under its name in the recorded DR region: not a CloudFormation status.
 */
export const NO_DR_STACK = 'NO_DR_STACK';

/**
 * The status of the DR stack a failure's pending update names (`stack`, the tenant's recorded `disasterRecovery` stack),
 * read in its region through the tenant account's role (session `drift`): NO_DR_STACK when there is none, undefined when
 * the pending update is not the DR stack's (the tenant stack's, resolved on the tenant stack). Throws what CloudFormation
 * or STS throw.
 */
async function pendingDrStackStatus(record: TenantRecord, stack: string): Promise<string | undefined> {
  const dr = record.disasterRecovery;
  if (!dr || dr.stackName !== stack || stack === stackName(record.tenantId, 'tenant')) return undefined;
  const read = await describeStack(await cloudFormationFor(record, 'dr', 'drift', dr.region), stack);
  return read && !ownershipProblem(read, record, 'dr') ? read.StackStatus ?? '' : NO_DR_STACK;
}

/**
 * The drift workflow's catch-up of the registry with the tenant stack (*Check drift*, for an ACTIVE tenant no operation
 * holds): the stack is read (tags, status, outputs) and the rule of stackStanding applied — a stack of this tenant in
 * `UPDATE_COMPLETE` whose tags name another tier or version than the record stands on them. That is a change or upgrade
 * stopped (or failed) while its stack was still `UPDATE_IN_PROGRESS`, whose update completed after the execution ended
 * (or a dead lease ended by a request that cannot read the stack): nothing else ever notices, DetectStackDrift compares
 * the stack with its own template. The failure's pending update (`failure.stackUpdating`) is resolved once the stack no
 * longer updates: `recorded` when its tier and version were recorded, else with the stack's status (after
 * `UPDATE_ROLLBACK_COMPLETE` the stack is back on the recorded tier and nothing else changes), or with NO_TENANT_STACK
 * when there is no stack of this tenant (left pending, `PATCH` to the recorded tier answered 409 `stack_update_pending`
 * for good, pointing to a drift check that could not resolve it). A pending update of the DR stack (a DR tier's change
 * stopped while its DR stack's change set ran: marked on the lease, marked-stack-update.ts) is resolved on the DR stack,
 * read in its region: left pending while it updates, else resolved with its status (or NO_DR_STACK), `recorded` false (the
 * registry records no tier or version from a DR stack). The caller writes
 * `changes` conditionally on the record as read (`expectUpdatedAt`, status ACTIVE): a lease taken meanwhile fails the
 * write, so this never races an operation. Best effort: a stack that cannot be read (logged) changes nothing.
 * @param record the tenant as read before the stack (its `updatedAt` is the write's condition)
 * @param at the check's time (ISO 8601)
 * @returns `{ changes: {} }` for a tenant held by an operation, not ACTIVE, without an account, or whose stack is still
 *   updating; only the pending update resolved (when there is one) for a stack that agrees, is gone or is not this tenant's
 */
export async function driftStanding(record: TenantRecord, at: string): Promise<DriftStanding> {
  if (record.lease || record.status !== 'ACTIVE' || !record.accountId) return { changes: {} };
  let read: StackRead | undefined;
  try {
    read = await readTenantStack(record, 'drift');
  } catch (e) {
    logger.warn('could not read the tenant stack\'s tags for the drift check; the registry keeps its tier and version', { tenantId: record.tenantId, error: e as Error });
    return { changes: {} };
  }
  const pending = record.failure?.stackUpdating && !record.failure.stackUpdating.resolved ? record.failure : undefined;
  // A pending update of the DR stack (its change set marked on the lease, s39k) is resolved on the DR stack alone.
  let drStatus: string | undefined;
  try {
    drStatus = pending ? await pendingDrStackStatus(record, pending.stackUpdating!.stack) : undefined;
  } catch (e) {
    logger.warn('could not read the DR stack of the pending update for the drift check; it stays pending', { tenantId: record.tenantId, error: e as Error });
    return { changes: {} };
  }
  const resolve = (stackStatus: string, recorded: boolean) => {
    if (!pending) return undefined;
    const [status, inRecord] = drStatus === undefined ? [stackStatus, recorded] : [drStatus, false];
    // The DR stack still updating: left pending (PATCH to the recorded tier or version keeps answering stack_update_pending).
    if (drStatus !== undefined && drStatus.endsWith('_IN_PROGRESS') && !UPDATED.has(drStatus)) return undefined;
    return { failure: { ...pending, stackUpdating: { ...pending.stackUpdating!, resolved: { at, stackStatus: status, recorded: inRecord } } } };
  };
  // No stack of this tenant (deleted outside Tessera, or its tags name another tenant): no update is left to wait for.
  if (!read) return { changes: { ...resolve(NO_TENANT_STACK, false) } };
  if (read.status.endsWith('_IN_PROGRESS') && !UPDATED.has(read.status)) return { changes: {} };
  const changes = standingChanges(read, record);
  const failure = resolve(read.status, !!changes);
  if (!changes) return { changes: { ...failure } };
  const standing = {
    at, stack: read.name, stackStatus: read.status,
    from: { tier: record.tier, ...(record.blueprintVersion ? { blueprintVersion: record.blueprintVersion } : {}) },
    to: { tier: changes.tier!, blueprintVersion: changes.blueprintVersion! },
    ...(pending?.executionArn ? { executionArn: pending.executionArn } : {}),
  };
  const namespace = namespaceNotDeployed(record.tenantId, changes.tier!);
  if (namespace) Object.assign(standing, { namespace });
  logger.warn('tenant stack stands on another tier or version than the registry: recorded', { standing });
  return { changes: { ...changes, ...failure }, standing };
}
