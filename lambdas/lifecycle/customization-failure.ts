import type { LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
import { clipReason } from './catch-reason.js';

/**
 * The most UTF-8 bytes of the operation's failure reason that each customization recorded FAILED by failedCustomizations
 * repeats (clipReason: cut on a character boundary, its marker naming the whole length and where the whole is). The
 * failure's reason is up to MAX_REASON_BYTES (2,000) and was repeated whole on every customization still DEPLOYING: n
 * copies, about 2.2 KB each, in an item DynamoDB caps at 400 KB (counted in UTF-8 bytes, "Item sizes and formats"), where
 * nothing bounds how many customizations a tier lists. The whole reason is the failure's (`failure.reason`) and the
 * execution's history entry's; each customization keeps its head (the error's name and first words) beside its own line
 * (the step, the stack, the tier and version), at most about 900 bytes in all.
 */
export const MAX_CUSTOMIZATION_FAILURE_REASON_BYTES = 400;

/** Where the whole failure reason a customization's is cut from is kept (clipReason's marker). */
const WHOLE_REASON_IN = 'the failure\'s reason and the execution\'s history entry';

/**
 * The registry's `customizations` after the operation holding the lease failed or stopped at `step` for `reason`: each
 * one still DEPLOYING recorded FAILED with that reason (its head: MAX_CUSTOMIZATION_FAILURE_REASON_BYTES; its tier and
 * version the ones it was deploying), the others as they are. Only the lease holder deploys customizations
 * (*Deploy customizations*, customizations.ts), and it records DEPLOYING, then ACTIVE or FAILED itself, except when its step
 * fails otherwise (a Lambda timeout, AccessDenied, an SDK error thrown): then the entry stayed DEPLOYING after the
 * execution ended, and `tessera tenants show` said a deploy was in progress that nothing would finish or record. The stack
 * itself is not read: its operation may still run in CloudFormation, and the next operation's *Deploy customizations*
 * finds it as it is.
 * @param base - the customizations to start from (a change written with the failure, else the record's)
 * @returns undefined when none is DEPLOYING (nothing to write)
 */
export function failedCustomizations(record: TenantRecord, failure: { kind: LifecycleKind; step: string; reason: string; at: string }, base = record.customizations): TenantRecord['customizations'] {
  const deploying = Object.entries(base ?? {}).filter(([, c]) => c.status === 'DEPLOYING');
  if (!deploying.length) return undefined;
  const reason = clipReason(failure.reason, MAX_CUSTOMIZATION_FAILURE_REASON_BYTES, WHOLE_REASON_IN);
  return {
    ...base,
    ...Object.fromEntries(deploying.map(([name, c]) => [name, {
      ...c, status: 'FAILED' as const, updatedAt: failure.at,
      reason: `the ${failure.kind} failed at ${failure.step} while stack ${c.stackName} was being deployed (tier ${c.tier}${c.blueprintVersion ? `, version ${c.blueprintVersion}` : ''}), before its create or update was seen to complete: ${reason}`,
    }])),
  };
}
