/**
 * RDS's "at least 10 percent" storage rules, in whole GiB (AllocatedStorage and MaxAllocatedStorage
 * are integers), for the config check (lib/config/schema.ts minMaxAllocatedStorageGiB) and the
 * lifecycle's update guard (lambdas/lifecycle/version-change.ts) alike.
 */

/**
 * The least whole number of GiB that is at least 10% above `gib` (20: 22, 25: 28, 1,000: 1,100).
 * RDS asks for it twice: a storage increase "must be by at least 10 percent"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html) and the
 * storage autoscaling threshold must be "at least 10% greater than the allocated storage"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html).
 * @param gib allocated storage, GiB (a non-negative integer)
 */
export function tenPercentAboveGiB(gib: number): number {
  // Integer arithmetic: 1.1 * 20 is 22.000000000000004 in floating point, which would ceil to 23.
  return Math.ceil((gib * 11) / 10);
}
