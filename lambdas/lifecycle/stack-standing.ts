import { TIER_TAG } from '../../lib/tenant-naming.js';
import type { LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { cloudFormationFor, stackName, VERSION_TAG } from './blueprints.js';
import { describeStack } from './deploy-blueprint.js';
import { ownershipProblem } from './stack-ownership.js';

/** What a failed change's tenant stack stands on: the registry fields to write with the failure, and a note for its reason. */
export interface StackStanding {
  changes: Partial<Pick<TenantRecord, 'tier' | 'blueprintVersion' | 'stackOutputs'>>;
  note?: string;
}

/** Update statuses after which the stack runs the template of its last update (CloudFormation's stack status values). */
const UPDATED = new Set(['UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']);

/**
 * The tier and blueprint version a change's (or upgrade's) tenant stack stands on when the operation ends without *Check
 * blueprint* having recorded it: the update went through in CloudFormation (ExecuteChangeSet answered) and the execution
 * then failed, was stopped or timed out before the step saw it complete. Read from the stack's own tags
 * (`tessera:tier`, `tessera:blueprint-version`, which every deployment sets) and outputs, as *Check blueprint* records
 * them; only for a stack of this tenant (stack-ownership.ts) in UPDATE_COMPLETE whose tags differ from the record.
 * Before, the failure left the registry on the tier and version before the change while the stack ran the new ones:
 * `PATCH` back to the recorded tier was refused `nothing_to_change`, a rolling upgrade listed the tenant under the old tier.
 * A stack still updating (in AWS the update goes on after the execution stopped) is named in the note, the record left
 * as it is: its outcome is not known yet. Best effort: a stack that cannot be read leaves the record as it is (logged),
 * never hides the failure.
 * @param step the step reading it (the session name of the tenant account's role)
 * @returns `{ changes: {} }` for another kind, a tenant without an account, or a stack that agrees with the record
 */
export async function stackStanding(record: TenantRecord, kind: LifecycleKind, step: string): Promise<StackStanding> {
  if ((kind !== 'change' && kind !== 'upgrade') || !record.accountId) return { changes: {} };
  const name = stackName(record.tenantId, 'tenant');
  try {
    const stack = await describeStack(await cloudFormationFor(record, 'tenant', step), name);
    if (!stack || ownershipProblem(stack, record, 'tenant')) return { changes: {} };
    const tag = (key: string) => stack.Tags?.find((t) => t.Key === key)?.Value;
    const tier = tag(TIER_TAG);
    const version = tag(VERSION_TAG);
    if (!tier || !version || (tier === record.tier && version === record.blueprintVersion)) return { changes: {} };
    const status = stack.StackStatus ?? '';
    if (UPDATED.has(status)) {
      const stackOutputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? '']));
      return {
        changes: { tier, blueprintVersion: version, stackOutputs },
        note: `stack ${name} completed its update to tier ${tier}, version ${version} before the execution ended: recorded (it was tier ${record.tier}, version ${record.blueprintVersion ?? '(none)'}); the usage key stays in the plan it is in until the next change or upgrade`,
      };
    }
    if (status.startsWith('UPDATE_') && status.endsWith('_IN_PROGRESS') && !status.includes('ROLLBACK')) {
      return { changes: {}, note: `stack ${name} is still ${status} (to tier ${tier}, version ${version}): the registry keeps tier ${record.tier}, version ${record.blueprintVersion ?? '(none)'} until a change runs on the stack as it ends` };
    }
    return { changes: {} };
  } catch (e) {
    logger.warn('could not read the tenant stack of the failed change; the registry keeps its tier and version', { stack: name, error: e as Error });
    return { changes: {} };
  }
}
