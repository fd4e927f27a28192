import type { CfnTemplate } from './derive-moto-blueprint.js';

/**
 * A stack update's change to an AWS::RDS::DBInstance's storage, as CloudFormation makes it and RDS judges it, for the
 * CloudFormation emulation (cloudformation-emulation.ts): moto's CloudFormation has no update for a DB instance (its
 * entry is kept, the instance untouched), and moto's ModifyDBInstance takes any storage. CloudFormation passes
 * AllocatedStorage and MaxAllocatedStorage to ModifyDBInstance only when the template's value changes
 * (aws-cloudformation-resource-providers-rds, Translator modifyDbInstanceRequest: `diff(previous, desired)`), and RDS
 * refuses, per the RDS User Guide:
 * - less storage: "You can't reduce the amount of storage for a DB instance after storage has been allocated";
 * - more by less than 10%: "When you increase the allocated storage, it must be by at least 10 percent. If you try to
 *   increase the value by less than 10 percent, you get an error" (USER_PIOPS.ModifyingExisting.html);
 * - a storage autoscaling ceiling less than 10% above the allocated storage: "You must set the maximum storage threshold
 *   to at least 10% more than the current allocated storage" (USER_PIOPS.Autoscaling.html; RDS's error,
 *   InvalidParameterCombination "The maximum allocated storage must be increased by at least 10 percent.").
 * - any storage change while the instance is in `storage-optimization` (moto never reports that status: an instance
 *   it modified is `available` at once, so this rule is not reachable here; aws-sdk-client-mock covers it).
 * Judged against the instance as it is (DescribeDBInstances): storage autoscaling may have grown it past the template.
 */

/** The storage a template's change sends for one DB instance: only the values that changed. */
export interface StorageChange {
  logicalId: string;
  /** New AllocatedStorage, GiB, when the template changed it. */
  allocatedGiB?: number;
  /** New MaxAllocatedStorage, GiB, when the template changed it. */
  maxAllocatedGiB?: number;
  /** The new template's MaxAllocatedStorage, GiB, changed or not (moto's CloudFormation drops it at create). */
  templateMaxGiB?: number;
}

const plainGiB = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

/** The DB instances whose plain AllocatedStorage or MaxAllocatedStorage differ between `before` and `after` (intrinsics are not compared). */
export function storageChanges(before: CfnTemplate, after: CfnTemplate): StorageChange[] {
  const out: StorageChange[] = [];
  for (const [id, r] of Object.entries(after.Resources)) {
    const was = before.Resources[id];
    if (r.Type !== 'AWS::RDS::DBInstance' || was?.Type !== 'AWS::RDS::DBInstance') continue;
    const change: StorageChange = { logicalId: id };
    for (const [key, field] of [['AllocatedStorage', 'allocatedGiB'], ['MaxAllocatedStorage', 'maxAllocatedGiB']] as const) {
      const from = plainGiB(was.Properties?.[key]);
      const to = plainGiB(r.Properties?.[key]);
      if (from !== undefined && to !== undefined && from !== to) change[field] = to;
    }
    if (change.allocatedGiB !== undefined || change.maxAllocatedGiB !== undefined) out.push({ ...change, templateMaxGiB: plainGiB(r.Properties?.MaxAllocatedStorage) });
  }
  return out;
}

/** At least 10% above `gib`, whole GiB (integer arithmetic: 1.1 * 20 is 22.000000000000004). */
const tenPercentAbove = (gib: number) => Math.ceil((gib * 11) / 10);

/**
 * RDS's refusal of `change` for an instance with `allocatedGiB` now, as the message CloudFormation's UPDATE_FAILED
 * event carries; undefined when RDS takes it.
 */
export function storageRefusal(change: StorageChange, allocatedGiB: number): string | undefined {
  const rds = (message: string) => `Resource handler returned message: "${message} (Service: Rds, Status Code: 400)" (HandlerErrorCode: InvalidRequest)`;
  const to = change.allocatedGiB;
  if (to !== undefined && to < allocatedGiB) return rds(`Invalid storage size for engine name postgres: ${to} is less than the allocated storage ${allocatedGiB}`);
  if (to !== undefined && to > allocatedGiB && to < tenPercentAbove(allocatedGiB)) return rds('The allocated storage must be increased by at least 10 percent.');
  const allocated = Math.max(allocatedGiB, to ?? 0);
  if (change.maxAllocatedGiB !== undefined && change.maxAllocatedGiB < tenPercentAbove(allocated)) return rds('The maximum allocated storage must be increased by at least 10 percent.');
  return undefined;
}
