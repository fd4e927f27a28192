import type { Stack } from '@aws-sdk/client-cloudformation';
import { drRestoredInstanceIdentifier } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { TenantRebuiltInDrRegionError } from '../shared/errors.js';
import { cloudFormationFor, describeStack, stackName } from './blueprints.js';

/** A tenant rebuilt in its DR region by the failover runbook: the rebuilt stack and where it is. */
export interface RebuiltStack {
  /** `tessera-<id>`: the failover blueprint deployed under the tenant stack's own name (lib/cli/tenants-failover-command.ts). */
  readonly stackName: string;
  /** The DR region (the record's `disasterRecovery.region`). */
  readonly region: string;
  /** Its status as DescribeStacks answers it (any but DELETE_COMPLETE). */
  readonly status: string;
  /** Its `VpcCidr` parameter: the range its VPC uses (the runbook passes the tenant's). @default - absent when the stack has none */
  readonly vpcCidr?: string;
}

/**
 * The stack the failover runbook rebuilt the tenant in (docs/resilience.md, `tessera tenants failover-plan` steps 5-8):
 * the tier's failover blueprint deployed as `tessera-<id>`, the tenant stack's own name, in the tenant's DR region
 * (`disasterRecovery.region`, kept on the record after the DR stack is REMOVED) of the tenant's account (the shared
 * workload account for VPC isolation). Read with DescribeStacks as the account's provisioning role in that region
 * (cloudFormationFor 'dr', as *Delete tenant stacks* reads the DR stack: in an account of its own the role the
 * organization created; in the workload account its `TesseraFailoverStacksDrift` statement, DescribeStacks on
 * `stack/tessera-*` of each DR region). Any stack of that name counts, whoever made it: the runbook deploys it by hand,
 * untagged by the lifecycle, and a stack of the tenant's name there is the tenant's rebuilt network as far as its VPC
 * range goes.
 * @returns undefined when the record names no DR region, or no such stack exists (or it is DELETE_COMPLETE)
 * @throws what CloudFormation throws other than "does not exist" (AccessDenied, throttling: the step fails or is retried)
 */
export async function rebuiltStackOf(record: TenantRecord, step: string): Promise<RebuiltStack | undefined> {
  const region = record.disasterRecovery?.region;
  if (!record.accountId || !region) return undefined;
  const name = stackName(record.tenantId, 'tenant');
  const stack: Stack | undefined = await describeStack(await cloudFormationFor(record, 'dr', step, region), name);
  if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
  const vpcCidr = stack.Parameters?.find((p) => p.ParameterKey === 'VpcCidr')?.ParameterValue;
  return { stackName: name, region, status: String(stack.StackStatus), ...(vpcCidr ? { vpcCidr } : {}) };
}

/**
 * What deleting the runbook's stacks leaves of the tenant's data: stack `tessera-<id>-restored` (step 7,
 * lib/cli/failover-restored-database.ts) keeps its imported instance when deleted (DeletionPolicy Retain) and turned its
 * deletion protection on, and no step of the offboarding deletes it (a vpc tenant's stays in the shared account).
 */
function restoredInstanceLeft(id: string): string {
  return ` and then the database instance ${drRestoredInstanceIdentifier(id)}, which the stack of that name keeps when deleted (DeletionPolicy Retain; turn its deletion protection off first): the offboarding deletes no instance in the DR region`;
}

/**
 * The refusal of an offboarding through the lifecycle while the tenant's rebuilt stack exists (rebuiltStackOf): the
 * rebuilt tenant is offboarded by hand (docs/resilience.md, "After the failover, the lifecycle does not manage the
 * rebuilt stack"). The message names the stack, its region and status, the range kept claimed (not given back to the
 * pool: the rebuilt VPC uses it) and the way on.
 * @param ranges - the tenant's ranges kept claimed (its record's `vpcCidr` and stray claims)
 */
export function rebuiltTenantRefusal(record: TenantRecord, rebuilt: RebuiltStack, ranges: readonly string[], what: string): TenantRebuiltInDrRegionError {
  const id = record.tenantId;
  const kept = ranges.length ? `its VPC range ${ranges.join(', ')} stays claimed and is not given back to the pool (the rebuilt VPC uses ${rebuilt.vpcCidr ?? 'it'}; a second VPC with it would break a later peering or Transit Gateway attachment, and rules by range would admit the wrong tenant)` : 'it holds no VPC range';
  return new TenantRebuiltInDrRegionError(
    `tenant ${id} was rebuilt in its DR region by the failover runbook: stack ${rebuilt.stackName} in ${rebuilt.region} is ${rebuilt.status}. `
    + `A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in ${rebuilt.region}, not in this offboarding's export, and its roles are the home stack's): ${what}; ${kept}. `
    + `Export its data from ${rebuilt.region}, delete stacks ${drRestoredInstanceIdentifier(id)} and ${rebuilt.stackName} in ${rebuilt.region}${restoredInstanceLeft(id)}, then resume the offboarding: tessera tenants retry ${id}`,
  );
}

/**
 * The refusal of an offboarding at its first step, *Check rebuilt stack* (check-rebuilt-stack.ts), while the tenant's rebuilt stack exists
 * (rebuiltStackOf): before its keys and users are revoked, its home bucket exported, its database snapshotted or any
 * protection lifted (the home stack holds the roles the rebuilt stack imports). Nothing of the offboarding was done: the
 * tenant keeps the status it had (`previousStatus`: ACTIVE, SUSPENDED, FAILED; OFFBOARDING for an offboarding resumed after
 * an earlier one failed), and its range stays claimed. The message names the stack, its region and status, and the way on
 * (remove the rebuilt stacks, then offboard again: `tessera tenants delete`, or `retry` for a tenant already OFFBOARDING).
 */
export function rebuiltOffboardingRefusal(record: TenantRecord, rebuilt: RebuiltStack, previousStatus: string): TenantRebuiltInDrRegionError {
  const id = record.tenantId;
  const again = previousStatus === 'OFFBOARDING' ? `resume the offboarding: tessera tenants retry ${id}` : `offboard it again: tessera tenants delete ${id} --yes`;
  return new TenantRebuiltInDrRegionError(
    `tenant ${id} was rebuilt in its DR region by the failover runbook: stack ${rebuilt.stackName} in ${rebuilt.region} is ${rebuilt.status}. `
    + `A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in ${rebuilt.region}, not in this offboarding's export, and its roles are the home stack's): `
    + `the offboarding was refused at its start, before anything changed (no key or user revoked, nothing exported, no protection lifted, no stack deleted); the tenant stays ${previousStatus} and its VPC range stays claimed. `
    + `Export its data from ${rebuilt.region}, delete stacks ${drRestoredInstanceIdentifier(id)} and ${rebuilt.stackName} in ${rebuilt.region}${restoredInstanceLeft(id)}, then ${again}`,
  );
}

/**
 * The refusal of a tier change, a repair or a rolling upgrade's run while the tenant's rebuilt stack exists
 * (rebuiltStackOf): the tenant runs from that stack in its DR region, which the lifecycle does not manage, and the change
 * would update its home stacks (whose roles the rebuilt stack imports) and its DR stack instead. Updates of a rebuilt
 * tenant are by hand until the home region is back (docs/resilience.md). The message names the stack, its region and
 * status, that nothing was changed, and the way on.
 * @param what - the operation in words: `this change`, `the rolling upgrade to version 1.2.0`
 */
export function rebuiltChangeRefusal(record: TenantRecord, rebuilt: RebuiltStack, what: string): string {
  const id = record.tenantId;
  return `tenant ${id} was rebuilt in its DR region by the failover runbook: stack ${rebuilt.stackName} in ${rebuilt.region} is ${rebuilt.status}, and the tenant runs from it. `
    + `The lifecycle does not manage the rebuilt stack: ${what} would update the tenant's home stacks (whose roles the rebuilt stack imports), not the stack it runs from, so it was refused and nothing was changed (the tenant stays on tier ${record.tier}, version ${record.blueprintVersion ?? 'unrecorded'}). `
    + `Updates of a rebuilt tenant are by hand until the home region is back (docs/resilience.md); once the tenant runs from its home region again and stacks ${drRestoredInstanceIdentifier(id)} and ${rebuilt.stackName} in ${rebuilt.region} are deleted, run it again`;
}
