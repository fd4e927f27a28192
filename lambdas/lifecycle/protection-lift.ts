import { DescribeStacksCommand, UpdateTerminationProtectionCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { LIFECYCLE_EVENTS, type LiftedProtection, type LiftIntent, type OffboardingRecord, type TenantRecord } from '../../lib/tenant-record.js';
import { StackBusyError } from '../shared/errors.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { recordExecution, requireTenant, updateTenant } from '../shared/registry.js';
import { writeAudit } from './offboarding-support.js';

/**
 * Every protection lift of the lifecycle goes through liftOnRecord: the intent on record, then the lift, then the lift
 * on record (the step's ledger), the audit bucket and the bus. Callers: *Lift protections* and *Delete tenant stacks*
 * (offboarding), the removal of a dead stack in *Deploy blueprint*, *Check blueprint* and *Record failure*.
 */

/** Why the offboarding lifts a protection (the `reason` of its record, audit record and event). */
export const OFFBOARDING_LIFT_REASON = 'offboarding: lifted so that the stack deletion can remove what it protects';

/** What is lifted: the resource (a stack, for its termination protection) and its protection. */
export type LiftTarget = Pick<LiftedProtection, 'logicalId' | 'type' | 'physicalId' | 'protection'>;

/** Same lift: the same protection of the same physical resource (a re-created stack has new ids). */
export const sameLift = (a: LiftTarget, b: LiftTarget) => a.physicalId === b.physicalId && a.protection === b.protection;

/** Who lifts and why: the step of a lifecycle execution, written on the intent, the record and the announcement. */
export interface LiftActor {
  requestId: string;
  executionArn?: string;
  /** The lifecycle step, e.g. `Lift protections`. */
  step: string;
  /** Why, e.g. `dead stack ROLLBACK_FAILED: lifted so that the stack can be deleted`. */
  reason: string;
}

/**
 * Where a step records the protections it lifts: the offboarding's `offboarding.liftedProtections`
 * (offboardingLedger), or the running execution's history entry (`executions[].liftedProtections`, read back into
 * `failure.liftedProtections` by *Record failure*).
 */
export interface LiftLedger {
  /** The lifts on record there, this step's included. */
  lifts(): readonly LiftedProtection[];
  /** Writes one more there; awaited before anything else is done. */
  record(lift: LiftedProtection): Promise<void>;
}

/** A protection as the step found it, and how to lift it. */
export interface ProtectionToLift {
  target: LiftTarget;
  /** The StackId (ARN) of the stack the resource belongs to (its account and Region, for the audit record). */
  stackId: string;
  /** Whether the protection is on now (read just before). */
  on: boolean;
  lift(): Promise<void>;
  /** Errors that mean the lift was not made (the resource busy): the intent is withdrawn before the error is thrown on. */
  notMade?(e: unknown): boolean;
}

/**
 * What liftOnRecord did: `lifted` (the intent, the lift, its record), `confirmed` (found off with an intent on record:
 * the intent's step had made the lift and ended before recording it; recorded now, by that step's name), `on-record`
 * (the ledger holds it already: nothing lifted; a protection still read on is a stale read or not showing yet), `off`
 * (off and never lifted by Tessera as far as the record says: nothing written).
 */
export type LiftOutcome = 'lifted' | 'confirmed' | 'on-record' | 'off';

/**
 * Lifts one protection so that no lift is ever made without being on record, even when the Lambda times out between
 * the lift and its record: (1) the intent (`liftIntents` of the tenant record: the target, its stack, the step, the
 * execution, the reason, when) is written before the lift call; (2) the lift; (3) the lift in the ledger
 * (LiftedProtection with who and why, `intendedAt` and `at`), the intent removed, then the announcement (announceLift:
 * the audit bucket and `Tenant Protection Lifted`). A later run (the step retried after a timeout, *Record failure*,
 * a resumed operation) that finds the protection off and the intent on record knows the lift was the intent's step's
 * and records it by that step's name and reason, with `confirmedBy` naming itself. Before, the lift was written to the
 * record after the call only, and a timeout in between left a protection that the retry found "already off", recorded
 * nowhere.
 *
 * An error of the lift call leaves the intent on record (the call may have been made: a lost answer), unless
 * `notMade` says it was not made. A protection off without an intent, or on record already, is not lifted.
 * @throws what the registry writes, the lift call or the announcement throw (the lift's own record comes first).
 */
export async function liftOnRecord(record: TenantRecord, protection: ProtectionToLift, ledger: LiftLedger, actor: LiftActor): Promise<LiftOutcome> {
  const { target } = protection;
  const recorded = ledger.lifts().some((l) => sameLift(l, target));
  const intents = (await requireTenant(record.tenantId)).liftIntents ?? [];
  const intent = intents.find((i) => sameLift(i, target));
  const others = intents.filter((i) => !sameLift(i, target));
  const keepIntents = (list: LiftIntent[]) => updateTenant(record.tenantId, { liftIntents: list.length ? list : undefined });
  if (recorded) {
    if (intent) await keepIntents(others); // on record, and its step ended before it removed the intent
    return 'on-record';
  }
  let made: LiftIntent;
  if (protection.on) {
    made = {
      logicalId: target.logicalId, type: target.type, physicalId: target.physicalId, protection: target.protection, stackId: protection.stackId,
      step: actor.step, requestId: actor.requestId, ...(actor.executionArn ? { executionArn: actor.executionArn } : {}), reason: actor.reason,
      intendedAt: new Date().toISOString(),
    };
    await keepIntents([...others, made]);
    try {
      await protection.lift();
    } catch (e) {
      if (protection.notMade?.(e)) await keepIntents(others);
      throw e;
    }
  } else if (intent) {
    made = intent;
  } else {
    return 'off';
  }
  const { stackId, ...by } = made;
  const lift: LiftedProtection = {
    ...by, at: new Date().toISOString(),
    ...(made === intent ? { confirmedBy: { step: actor.step, ...(actor.executionArn ? { executionArn: actor.executionArn } : {}) } } : {}),
  };
  await ledger.record(lift);
  await keepIntents(others);
  await announceLift(record, stackId, lift, { requestId: made.requestId, executionArn: made.executionArn, step: made.step, reason: made.reason });
  return made === intent ? 'confirmed' : 'lifted';
}

/**
 * A stack's termination protection through liftOnRecord: on when DescribeStacks' `stack` shows it
 * (EnableTerminationProtection), lifted by UpdateTerminationProtection (it takes effect at once). The target is the
 * stack's name and StackId (a re-created stack has another). A lift already on record while `stack` still shows the
 * protection (a stale read) is sent again, never recorded twice, so that the caller's DeleteStack is not refused.
 * Answers what liftOnRecord did.
 *
 * UpdateTerminationProtection is sent by the StackId read (its StackName is "the name or unique ID of the stack": API
 * reference, UpdateTerminationProtection), as the DeleteStack that follows (delete-token.ts deleteStackTarget). By name,
 * a late lift (a step that read the stack dead, then was slow to send) switched off the protection of whichever stack
 * had the name by then: two onboardings sharing the account baseline both read it ROLLBACK_COMPLETE, one deleted it and
 * created it again (protected), and the other's lift left that new baseline unprotected, its own DeleteStack by the old
 * id then deleting nothing. By ID the call reaches the stack read only; once that stack is deleted CloudFormation refuses
 * it (the API reference names no error of its own for it: a ValidationError, as for any stack it cannot update; its
 * message is not relied on): the stack is then read again by its ID, and one deleted (DELETE_COMPLETE, or not found)
 * throws StackBusy, its intent withdrawn (the lift was not made): nothing of it is left to lift or delete, and the step,
 * retried, reads the stack that has the name now.
 * @throws StackBusyError when the stack read was deleted since; what UpdateTerminationProtection throws otherwise
 */
export async function liftTerminationProtection(cfn: CloudFormationClient, record: TenantRecord, stack: Stack, ledger: LiftLedger, actor: LiftActor): Promise<LiftOutcome> {
  const name = stack.StackName!;
  const stackId = stack.StackId ?? name;
  const on = stack.EnableTerminationProtection === true;
  const lift = async () => {
    try {
      await cfn.send(new UpdateTerminationProtectionCommand({ StackName: stackId, EnableTerminationProtection: false }));
    } catch (e) {
      if ((e as Error).name === 'ValidationError' && stack.StackId && await deletedSince(cfn, stack.StackId)) {
        throw new StackBusyError(`stack ${name} (${stack.StackId}) was deleted since it was read ${stack.StackStatus ?? ''}`.trimEnd()
          + ': its termination protection is not lifted (the lift goes by the StackId read, never by the name, which another stack may hold now); nothing of it is left to delete, the step reads the stack again');
      }
      throw e;
    }
  };
  const outcome = await liftOnRecord(record, {
    target: { logicalId: name, type: 'AWS::CloudFormation::Stack', physicalId: stackId, protection: 'TerminationProtection' },
    stackId,
    on,
    lift,
    notMade: (e) => e instanceof StackBusyError,
  }, ledger, actor);
  if (outcome === 'on-record' && on) await lift();
  return outcome;
}

/** Whether the stack `stackId` names is deleted: DescribeStacks by the ID answers it DELETE_COMPLETE, or not at all. */
async function deletedSince(cfn: CloudFormationClient, stackId: string): Promise<boolean> {
  try {
    const found = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
    return !found || found.StackStatus === 'DELETE_COMPLETE';
  } catch (e) {
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return true;
    throw e;
  }
}

/**
 * The offboarding's ledger: `offboarding.liftedProtections` of `record` (as the step read it), each lift written with
 * the rest of `record.offboarding` and `extra` (e.g. the tenant stack's id). For the offboarding's own steps, which alone
 * write `offboarding` while they hold the lease.
 */
export function offboardingLedger(record: TenantRecord, extra: Partial<OffboardingRecord> = {}): LiftLedger & { save(): Promise<void>; made: LiftedProtection[] } {
  const earlier = record.offboarding?.liftedProtections ?? [];
  const made: LiftedProtection[] = [];
  const save = async () => {
    await updateTenant(record.tenantId, { offboarding: { ...record.offboarding, ...extra, liftedProtections: [...earlier, ...made] } });
  };
  return {
    made,
    save,
    lifts: () => [...earlier, ...made],
    record: async (lift) => {
      made.push(lift);
      await save();
    },
  };
}

/**
 * The running execution's history entry as a ledger: `entry` (found by the caller, or started RUNNING) with its
 * `liftedProtections`, each lift written with recordExecution. *Record failure* reads it back into
 * `failure.liftedProtections`.
 */
export function executionLedger(tenantId: string, entry: TenantRecord['executions'][number]): LiftLedger & { made: LiftedProtection[] } {
  const earlier = entry.liftedProtections ?? [];
  const made: LiftedProtection[] = [];
  return {
    made,
    lifts: () => [...earlier, ...made],
    record: async (lift) => {
      made.push(lift);
      await recordExecution(tenantId, { ...entry, liftedProtections: [...earlier, ...made] });
    },
  };
}

/**
 * The account and name of a CloudFormation stack from its StackId, an ARN
 * `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>` (DescribeStacks' `StackId`;
 * ARN format: AWS CloudFormation, "Actions, resources, and condition keys", resource type `stack`).
 * @throws Error naming the value when it is not a stack ARN.
 */
export function stackArnParts(stackId: string): { accountId: string; region: string; stackName: string } {
  const m = /^arn:[^:]+:cloudformation:([^:]+):(\d{12}):stack\/([^/]+)\/.+$/.exec(stackId);
  if (!m) throw new Error(`StackId ${JSON.stringify(stackId)} is not a CloudFormation stack ARN (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>)`);
  return { region: m[1], accountId: m[2], stackName: m[3] };
}

/**
 * Where a protection lift is recorded besides the registry: the audit bucket (`tessera-audit/lifecycle/<tenant>/…`,
 * `tessera-audit/dr-tier/lifecycle/…` for a DR tier) and the bus (`Tenant Protection Lifted`). `stackId` is the
 * StackId (ARN) of the stack the lift was made for: the record's `stack` (its name) and `accountId` are read from it,
 * the account the stack lives in — the tenant's account for its tenant, account-baseline and DR stacks, the platform
 * account for its namespace stack (a tenant of the namespace tier), which the tenant record's `accountId` is not.
 * @throws Error naming the value when `stackId` is not a stack ARN (stackArnParts), before anything is written.
 */
export async function announceLift(record: TenantRecord, stackId: string, lift: LiftedProtection, context: { requestId: string; executionArn?: string; step: string; reason?: string }): Promise<void> {
  const { accountId, stackName: stack } = stackArnParts(stackId);
  const audit = { ...lift, accountId, stack, ...context };
  await writeAudit(record, 'protection-lifted', lift.logicalId, audit);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.protectionLifted, { tenantId: record.tenantId, ...audit });
}
