import type { Stack } from '@aws-sdk/client-cloudformation';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { tierConfig } from '../shared/environment.js';
import { stackTierAndVersion } from './stack-tags.js';

type DrRecord = NonNullable<TenantRecord['disasterRecovery']>;

/**
 * What *Record failure* records of a DR stack recorded DEPLOYING whose create CloudFormation took (the stack read back by
 * name in its region, this tenant's: stack-ownership.ts), when the step that sent CreateStack failed after the call went
 * through (its answer lost: the Lambda timed out, the step's retries exhausted), so *Check DR blueprint* never ran:
 *
 * - `CREATE_COMPLETE`: the stack stands. Recorded ACTIVE, as *Check DR blueprint* would have, `deployedWith` the tier and
 *   version its tags say (CloudFormation's `tessera:tier` and `tessera:blueprint-version` tags, set at the create) and the
 *   execution that recorded it DEPLOYING when those are the recorded ones (else none: which execution created it is not
 *   known). RETAINED instead when the tenant's recorded tier has no DR in its region (`tierHasDrHere` false: a failed
 *   move to a DR tier leaves the tenant on its tier, whose primary replicates nothing into it), as record-failure.ts
 *   drStackLeftRetained records such a stack. Before, it stayed DEPLOYING while it stood, and the failure's reason did
 *   not name it.
 * - `CREATE_IN_PROGRESS`: the create runs. DEPLOYING is what is true: kept, and the failure's reason says so (a re-run of
 *   the onboarding waits for it, StackBusy, then takes it through the change-set guard and *Check DR blueprint*).
 *
 * Any other status: undefined (the caller's own rules: a dead stack is deleted, a rolled-back update put back).
 * @param dr the tenant's DR record, DEPLOYING
 * @param stack the DR stack as DescribeStacks answered it (StackStatus, Tags)
 * @param tierHasDrHere whether the tenant's recorded tier has its DR region where the stack is
 * @param cleanup, notes the failure's cleanup list and reason notes, appended to
 * @returns the registry change (`{}` to keep the record as it is), or undefined when `stack` is in neither status
 */
export function drCreateStanding(dr: DrRecord, stack: Stack, tierHasDrHere: boolean, cleanup: string[], notes: string[]): Pick<TenantRecord, 'disasterRecovery'> | Record<string, never> | undefined {
  const stackStatus = stack.StackStatus ?? '';
  if (stackStatus === 'CREATE_IN_PROGRESS') {
    notes.push(`DR stack ${dr.stackName} (${dr.region}) is still being created (CREATE_IN_PROGRESS): kept recorded DEPLOYING; a re-run of the onboarding waits for it`);
    return {};
  }
  if (stackStatus !== 'CREATE_COMPLETE') return undefined;
  const { tier, version } = stackTierAndVersion(stack);
  const recorded = dr.deployedWith;
  const deployedWith = tier && version
    ? { tier, blueprintVersion: version, ...(recorded?.executionArn && recorded.tier === tier && recorded.blueprintVersion === version ? { executionArn: recorded.executionArn } : {}) }
    : undefined;
  const runs = deployedWith ? `tier ${tier}, version ${version}` : 'a tier and version its stack tags do not name';
  const status = tierHasDrHere ? 'ACTIVE' as const : 'RETAINED' as const;
  const why = tierHasDrHere ? '' : ' (the tenant\'s tier has no DR there: its primary replicates nothing into it; kept until offboarding)';
  notes.push(`DR stack ${dr.stackName} (${dr.region}) was created (CREATE_COMPLETE) before the execution ended: recorded ${status} on ${runs}${why}`);
  cleanup.push(`DR stack ${dr.stackName} (${dr.region}) is CREATE_COMPLETE: recorded ${status}`);
  const { deployedWith: _recorded, ...rest } = dr;
  return { disasterRecovery: { ...rest, status, updatedAt: new Date().toISOString(), ...(deployedWith ? { deployedWith } : {}) } };
}

/** Whether the tenant's recorded tier has its DR region in `region` (false when the tier is gone from the config). */
export function tierHasDrIn(record: TenantRecord, region: string): boolean {
  try {
    return drRegionOf(tierConfig(record.tier)) === region;
  } catch {
    return false;
  }
}
