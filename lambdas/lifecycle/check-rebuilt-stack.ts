import { tenantOptInRegions } from '../../lib/config/region-opt-in.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformConfig } from '../shared/environment.js';
import { InvalidRequestError, TenantRebuiltInDrRegionError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { versionOf } from './change-version.js';
import { rebuiltChangeRefusal, rebuiltOffboardingRefusal, drRebuildOf } from './rebuilt-stack.js';
import type { LifecycleState } from './state.js';
import { type ChangeSkipped, recordSkip } from './upgrade-skip.js';

/** The workflow that runs the check: the offboarding, a change (tier change, repair) or a rolling upgrade's run of one tenant. */
export const REBUILT_CHECK_KINDS = ['offboard', 'change', 'upgrade'] as const;
export type RebuiltCheckKind = (typeof REBUILT_CHECK_KINDS)[number];

/** What the step answers when the operation may go on: nothing of a DR rebuild found (or none looked for). */
export interface RebuiltCheckPassed {
  rebuilt: false;
}

/**
 * The offboarding's check: TenantRebuiltInDrRegion (rebuiltOffboardingRefusal) while anything of the tenant's DR rebuild
 * exists (drRebuildOf: stack `tessera-<id>`, stack `tessera-<id>-restored` or DB instance `tessera-<id>-restored`). Not asked
 * of an OFFBOARDED tenant (*Begin offboarding* refuses it) nor once the account is queued for closure (`accountClosure`:
 * *Delete tenant stacks*, which checks too, ran before *Retire account*). A check that fails in a DR region that is an
 * opt-in region of the tenant's own account (tenantOptInRegions: someone may have disabled it, and *Enable regions*
 * enables it again only later) lets the offboarding go on, and *Delete tenant stacks* checks again before it deletes
 * anything; any other failure fails the step (nothing changed).
 */
async function checkOffboarding(record: TenantRecord, executionArn: string): Promise<RebuiltCheckPassed> {
  if (record.status === 'OFFBOARDED' || record.accountClosure) return { rebuilt: false };
  // Under the admin API's lease the record is OFFBOARDING already: the status the tenant had is the lease's.
  const previousStatus = record.lease?.executionArn === executionArn ? record.lease.previousStatus : record.status;
  let rebuilt;
  try {
    rebuilt = await drRebuildOf(record, 'offboard');
  } catch (e) {
    const region = record.disasterRecovery?.region;
    // A DR region outside allowedRegions (rebuilt-stack.ts drRegionNotAllowed) is refused here, opt-in or not: enabling
    // it again would not lift the guardrail SCP's deny, and Delete tenant stacks would refuse it after the export.
    if (!region || (e as Error).name === 'DrRegionNotAllowed' || !tenantOptInRegions(platformConfig().homeRegion, record).includes(region)) throw e;
    logger.warn('could not look for the DR rebuild in the DR region (an opt-in region, maybe disabled); Delete tenant stacks checks again', { region, error: e as Error });
    return { rebuilt: false };
  }
  if (rebuilt) throw rebuiltOffboardingRefusal(record, rebuilt, previousStatus);
  return { rebuilt: false };
}

/**
 * The check of a change or a rolling upgrade's run: the tenant runs from the rebuilt stack, which the lifecycle does not
 * manage, and the change would update its home stacks (whose roles the rebuilt stack imports) and its DR stack; or, partly
 * rebuilt (no stack `tessera-<id>`, but what else the runbook makes), its data is also in the DR region. A change or
 * repair fails with TenantRebuiltInDrRegion (rebuiltChangeRefusal: the tier and version it asked for); a rolling upgrade's
 * run skips the tenant (recordSkip: its history entry SKIPPED with the reason), so the others go on; one whose execution
 * holds the lease already fails as a change does.
 */
async function checkChange(state: LifecycleState & { kind: 'change' | 'upgrade' }, record: TenantRecord): Promise<RebuiltCheckPassed | ChangeSkipped> {
  const rebuilt = await drRebuildOf(record, 'change');
  if (!rebuilt) return { rebuilt: false };
  const upgrade = state.kind === 'upgrade' && state.change !== undefined;
  const tier = state.change?.tier ?? record.tier;
  const planned = versionOf(state, record);
  const what = upgrade ? `the rolling upgrade of tier ${tier} to version ${planned}` : state.change?.repair ? 'this repair' : `this change (to tier ${tier}, version ${planned})`;
  const why = rebuiltChangeRefusal(record, rebuilt, what);
  if (upgrade && record.lease?.executionArn !== state.executionArn) return recordSkip(state, record, why);
  throw new TenantRebuiltInDrRegionError(why);
}

/**
 * *Check rebuilt stack*, the first step of the offboarding, of a change and of a rolling upgrade's run of a tenant, before
 * *Begin offboarding* / *Begin change*: whether the tenant was rebuilt, whole or in part, in its DR region by the failover
 * runbook (rebuilt-stack.ts drRebuildOf: stack `tessera-<id>` or `tessera-<id>-restored` there, any status but
 * DELETE_COMPLETE, read with DescribeStacks, or DB instance `tessera-<id>-restored` there, read with DescribeDBInstances,
 * as the account's provisioning role). A rebuilt tenant's offboarding and updates are by hand (docs/resilience.md). A
 * look-up that fails (AccessDenied, say) fails the step with nothing changed, its message naming the call, the resource,
 * the region and the role (but see the offboarding's opt-in region, checkOffboarding).
 *
 * A step of its own because the check reads the tenant's account (the lifecycle's tenant-account `sts:AssumeRole`), and
 * the lease-taking steps, which end a dead lease without fencing it, must not reach the organization access role
 * (test/isolation/lifecycle-role-grants.test.ts). It takes no lease and writes nothing but a rolling upgrade's SKIPPED
 * history entry (`trackStep: false`: no `currentStep` either), so a refusal comes before anything is done: started
 * from elsewhere than the admin API, before the lease (the refusal on the bus and in the record's `lastRefusal` alone:
 * record-failure.ts recordWithoutLease); under the lease the
 * admin API took, *Record failure* records the refusal and gives the tenant back the status it had (record-failure.ts).
 *
 * Input: the execution's state with `kind` (the Task's payload). A tenant not in the registry passes: the next step
 * refuses it.
 * @returns `{ rebuilt: false }` to go on; for a rolling upgrade's run of a rebuilt tenant, ChangeSkipped (`skipped: true`, the
 * reason), which the workflow's *Rebuilt, skipped?* choice ends the child execution with, SUCCEEDED
 * @throws TenantRebuiltInDrRegion (the offboarding, a change, a repair); InvalidRequest for a `kind` not of the three;
 * what CloudFormation, RDS or STS throws for the check (drRebuildOf: the message says what was read, as whom, and the way on)
 */
export const handler = lifecycleHandler('Check rebuilt stack', async (state: LifecycleState & { kind: RebuiltCheckKind }): Promise<RebuiltCheckPassed | ChangeSkipped> => {
  // The Task's payload names the workflow: anything else is refused before the registry is read.
  if (!(REBUILT_CHECK_KINDS as readonly unknown[]).includes(state.kind)) throw new InvalidRequestError(`kind = ${JSON.stringify(state.kind)}: must be "offboard", "change" or "upgrade"`);
  const record = await getTenant(state.request.tenantId);
  if (!record) return { rebuilt: false };
  if (state.kind === 'offboard') return checkOffboarding(record, state.executionArn!);
  return checkChange(state as LifecycleState & { kind: 'change' | 'upgrade' }, record);
}, { trackStep: false });
