import type { LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';

/**
 * The registry's `customizations` after the operation holding the lease failed or stopped at `step` for `reason`: each
 * one still DEPLOYING recorded FAILED with that reason (its tier and version the ones it was deploying), the others as
 * they are. Only the lease holder deploys customizations (*Deploy customizations*, customizations.ts), and it records
 * DEPLOYING, then ACTIVE or FAILED itself, except when its step fails otherwise (a Lambda timeout, AccessDenied, an SDK
 * error thrown): then the entry stayed DEPLOYING after the execution ended, and `tessera tenants show` said a deploy was
 * in progress that nothing would finish or record. The stack itself is not read: its operation may still run in
 * CloudFormation, and the next operation's *Deploy customizations* finds it as it is.
 * @param base - the customizations to start from (a change written with the failure, else the record's)
 * @returns undefined when none is DEPLOYING (nothing to write)
 */
export function failedCustomizations(record: TenantRecord, failure: { kind: LifecycleKind; step: string; reason: string; at: string }, base = record.customizations): TenantRecord['customizations'] {
  const deploying = Object.entries(base ?? {}).filter(([, c]) => c.status === 'DEPLOYING');
  if (!deploying.length) return undefined;
  return {
    ...base,
    ...Object.fromEntries(deploying.map(([name, c]) => [name, {
      ...c, status: 'FAILED' as const, updatedAt: failure.at,
      reason: `the ${failure.kind} failed at ${failure.step} while stack ${c.stackName} was being deployed (tier ${c.tier}${c.blueprintVersion ? `, version ${c.blueprintVersion}` : ''}), before its create or update was seen to complete: ${failure.reason}`,
    }])),
  };
}
